// XEP-0392 Consistent Color Generation for contacts (the hue angle from the
// SHA-1 of the bare JID, turned into RGB through HSLuv at saturation 100 and
// lightness 50, as XEP-0392 §5 specifies) and the initials shown in an
// avatar placeholder.
package app

import (
	"crypto/sha1"
	"encoding/binary"
	"image/color"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ConsistentAngle is the XEP-0392 hue angle (degrees, [0, 360)) of s: the
// first two bytes of SHA-1(s), read little-endian, scaled to the circle.
func ConsistentAngle(s string) float64 {
	sum := sha1.Sum([]byte(s))
	return float64(binary.LittleEndian.Uint16(sum[:2])) / 65536 * 360
}

// ConsistentColor is the XEP-0392 colour of s (a bare JID for contacts).
func ConsistentColor(s string) color.RGBA {
	r, g, b := hsluvToRGB(ConsistentAngle(s), 100, 50)
	return color.RGBA{R: to8(r), G: to8(g), B: to8(b), A: 0xff}
}

func to8(v float64) uint8 {
	return uint8(math.Round(math.Max(0, math.Min(1, v)) * 255))
}

// HSLuv (https://www.hsluv.org): a perceptually uniform HSL. The constants
// are those of the reference implementation (sRGB, D65 white).
var hsluvM = [3][3]float64{
	{3.240969941904521, -1.537383177570093, -0.498610760293},
	{-0.96924363628087, 1.87596750150772, 0.041555057407175},
	{0.055630079696993, -0.20397695888897, 1.056971514242878},
}

const (
	hsluvRefU    = 0.19783000664283
	hsluvRefV    = 0.46831999493879
	hsluvKappa   = 903.2962962
	hsluvEpsilon = 0.0088564516
)

// hsluvToRGB converts HSLuv (h in degrees, s and l in [0, 100]) to sRGB in [0, 1].
func hsluvToRGB(h, s, l float64) (r, g, b float64) {
	// HSLuv -> LCh(uv)
	var c float64
	switch {
	case l > 99.9999999:
		l, c = 100, 0
	case l < 0.00000001:
		l, c = 0, 0
	default:
		c = maxChroma(l, h) / 100 * s
	}
	// LCh -> Luv
	hr := h / 360 * 2 * math.Pi
	u, v := math.Cos(hr)*c, math.Sin(hr)*c
	// Luv -> XYZ
	if l == 0 {
		return 0, 0, 0
	}
	varU := u/(13*l) + hsluvRefU
	varV := v/(13*l) + hsluvRefV
	y := lToY(l)
	x := -(9 * y * varU) / ((varU-4)*varV - varU*varV)
	z := (9*y - 15*varV*y - varV*x) / (3 * varV)
	// XYZ -> sRGB
	ch := func(m [3]float64) float64 { return fromLinear(m[0]*x + m[1]*y + m[2]*z) }
	return ch(hsluvM[0]), ch(hsluvM[1]), ch(hsluvM[2])
}

func lToY(l float64) float64 {
	if l <= 8 {
		return l / hsluvKappa
	}
	return math.Pow((l+16)/116, 3)
}

func fromLinear(c float64) float64 {
	if c <= 0.0031308 {
		return 12.92 * c
	}
	return 1.055*math.Pow(c, 1/2.4) - 0.055
}

// maxChroma is the largest chroma inside the sRGB gamut for lightness l and hue h.
func maxChroma(l, h float64) float64 {
	hr := h / 360 * 2 * math.Pi
	sub1 := math.Pow(l+16, 3) / 1560896
	sub2 := sub1
	if sub1 <= hsluvEpsilon {
		sub2 = l / hsluvKappa
	}
	minLen := math.MaxFloat64
	for _, m := range hsluvM {
		m1, m2, m3 := m[0], m[1], m[2]
		for t := 0.0; t < 2; t++ {
			top1 := (284517*m1 - 94839*m3) * sub2
			top2 := (838422*m3+769860*m2+731718*m1)*l*sub2 - 769860*t*l
			bottom := (632260*m3-126452*m2)*sub2 + 126452*t
			slope, intercept := top1/bottom, top2/bottom
			length := intercept / (math.Sin(hr) - slope*math.Cos(hr))
			if length >= 0 && length < minLen {
				minLen = length
			}
		}
	}
	return minLen
}

// Initials are one or two upper-case letters for an avatar placeholder:
// the first letters of the first and last words of name ("Romeo
// Montague" -> "RM"), or the first letter of a single word. For an address
// only the local part counts ("juliet@capulet.lit" -> "J"). Without any
// letter or digit it is "?".
func Initials(name string) string {
	if at := strings.IndexByte(name, '@'); at > 0 && !strings.ContainsRune(name, ' ') {
		name = name[:at]
	}
	var words []string
	for _, w := range strings.FieldsFunc(name, func(r rune) bool {
		return unicode.IsSpace(r) || r == '.' || r == '_' || r == '-' || r == '@'
	}) {
		if i := strings.IndexFunc(w, isInitial); i >= 0 {
			words = append(words, w[i:])
		}
	}
	first := func(w string) string {
		r, _ := utf8.DecodeRuneInString(w)
		return strings.ToUpper(string(r))
	}
	switch len(words) {
	case 0:
		return "?"
	case 1:
		return first(words[0])
	}
	return first(words[0]) + first(words[len(words)-1])
}

func isInitial(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
