// Command mkicon draws Parley's application icon (a blue speech bubble with three white dots) as a
// 512x512 PNG. It is deterministic, so assets/icon.png can be regenerated with `make icon` and diffed.
package main

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
)

const (
	size = 512 // icon edge in pixels
	ss   = 4   // supersampling factor per axis, for anti-aliased edges
)

// rgb is a colour with float channels in 0..1.
type rgb struct{ r, g, b float64 }

var (
	bubbleTop    = rgb{0.231, 0.557, 0.969} // #3B8EF7
	bubbleBottom = rgb{0.122, 0.420, 0.878} // #1F6BE0
	dotColour    = rgb{1, 1, 1}
)

// inRoundedRect reports whether (x, y) lies in the rectangle [x0,x1]x[y0,y1] with corner radius r.
func inRoundedRect(x, y, x0, y0, x1, y1, r float64) bool {
	if x < x0 || x > x1 || y < y0 || y > y1 {
		return false
	}
	cx := math.Max(x0+r, math.Min(x, x1-r))
	cy := math.Max(y0+r, math.Min(y, y1-r))
	return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r
}

// inTriangle reports whether (x, y) lies in the triangle a, b, c.
func inTriangle(x, y float64, a, b, c [2]float64) bool {
	side := func(p, q [2]float64) float64 { return (q[0]-p[0])*(y-p[1]) - (q[1]-p[1])*(x-p[0]) }
	d1, d2, d3 := side(a, b), side(b, c), side(c, a)
	hasNeg := d1 < 0 || d2 < 0 || d3 < 0
	hasPos := d1 > 0 || d2 > 0 || d3 > 0
	return !(hasNeg && hasPos)
}

func inCircle(x, y, cx, cy, r float64) bool { return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r }

// sample returns the colour and coverage (0 or 1) of one sub-pixel sample.
func sample(x, y float64) (rgb, float64) {
	for _, cx := range []float64{164, 256, 348} {
		if inCircle(x, y, cx, 228, 34) {
			return dotColour, 1
		}
	}
	body := inRoundedRect(x, y, 40, 64, 472, 392, 104)
	tail := inTriangle(x, y, [2]float64{118, 340}, [2]float64{236, 380}, [2]float64{84, 472})
	if !body && !tail {
		return rgb{}, 0
	}
	t := (y - 64) / (472 - 64)
	return rgb{
		bubbleTop.r + (bubbleBottom.r-bubbleTop.r)*t,
		bubbleTop.g + (bubbleBottom.g-bubbleTop.g)*t,
		bubbleTop.b + (bubbleBottom.b-bubbleTop.b)*t,
	}, 1
}

// draw renders the icon with ss*ss samples per pixel, averaging premultiplied colour.
func draw() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for py := 0; py < size; py++ {
		for px := 0; px < size; px++ {
			var r, g, b, a float64
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					c, cov := sample(float64(px)+(float64(sx)+0.5)/ss, float64(py)+(float64(sy)+0.5)/ss)
					r, g, b, a = r+c.r*cov, g+c.g*cov, b+c.b*cov, a+cov
				}
			}
			if a == 0 {
				continue
			}
			n := float64(ss * ss)
			img.SetNRGBA(px, py, color.NRGBA{
				R: uint8(math.Round(r / a * 255)),
				G: uint8(math.Round(g / a * 255)),
				B: uint8(math.Round(b / a * 255)),
				A: uint8(math.Round(a / n * 255)),
			})
		}
	}
	return img
}

func main() {
	out := flag.String("o", "assets/icon.png", "where to write the PNG")
	flag.Parse()
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkicon:", err)
		os.Exit(1)
	}
	if err := png.Encode(f, draw()); err != nil {
		f.Close()
		fmt.Fprintln(os.Stderr, "mkicon: encode:", err)
		os.Exit(1)
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "mkicon:", err)
		os.Exit(1)
	}
}
