// Test signals: speech made by espeak-ng, clips encoded by ffmpeg the way
// other clients encode theirs, and the measure the voice tests judge by:
// the normalised cross-correlation of what was heard with what was sent,
// at the best lag (a recording starts at any time).
package voicetest

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Speech is text spoken by espeak-ng, as 48 kHz mono PCM.
func Speech(t testing.TB, text string) []int16 {
	t.Helper()
	Require(t, "espeak-ng", "ffmpeg")
	dir := t.TempDir()
	wav := filepath.Join(dir, "speech.wav")
	if out, err := exec.Command("espeak-ng", "-w", wav, text).CombinedOutput(); err != nil {
		t.Fatalf("espeak-ng: %v: %s", err, out)
	}
	return DecodeFile(t, wav)
}

// DecodeFile decodes any audio file to 48 kHz mono PCM with ffmpeg,
// through ffmpeg's filters if any (e.g. "-af", "atempo=2").
func DecodeFile(t testing.TB, path string, filters ...string) []int16 {
	t.Helper()
	Require(t, "ffmpeg")
	args := append(append([]string{"-v", "error", "-i", path}, filters...), "-ac", "1", "-ar", "48000", "-f", "s16le", "-")
	out, err := exec.Command("ffmpeg", args...).Output()
	if err != nil {
		t.Fatalf("ffmpeg decode %s: %v", path, err)
	}
	return BytesInt16(out)
}

// EncodeAs writes pcm (48 kHz mono) to path with ffmpeg's args (codec,
// bitrate, muxer), the shape another client sends.
func EncodeAs(t testing.TB, pcm []int16, path string, args ...string) {
	t.Helper()
	Require(t, "ffmpeg")
	raw := filepath.Join(t.TempDir(), "in.pcm")
	if err := os.WriteFile(raw, int16Bytes(pcm), 0o600); err != nil {
		t.Fatal(err)
	}
	all := append([]string{"-v", "error", "-y", "-f", "s16le", "-ar", "48000", "-ac", "1", "-i", raw}, args...)
	if out, err := exec.Command("ffmpeg", append(all, path)...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg encode %s: %v: %s", path, err, out)
	}
}

// down is pcm at 8 kHz (mean of each 6 samples): enough for speech, and
// 36 times less work for the lag search.
func down(pcm []int16) []float64 {
	out := make([]float64, len(pcm)/6)
	for i := range out {
		var s float64
		for _, v := range pcm[6*i : 6*i+6] {
			s += float64(v)
		}
		out[i] = s / 6
	}
	return out
}

// Correlation is the highest normalised cross-correlation of ref inside
// heard over every lag (ref shifted along heard), with the lag in
// seconds. 1 is the same sound; speech against silence or noise is near 0.
func Correlation(ref, heard []int16) (best, lagSeconds float64) {
	r, h := down(ref), down(heard)
	if len(r) == 0 || len(h) == 0 {
		return 0, 0
	}
	var rn float64
	for _, v := range r {
		rn += v * v
	}
	if rn == 0 {
		return 0, 0
	}
	// Lags from -len(r)/2 (heard starts inside ref) to len(h)-len(r)/2.
	for lag := -len(r) / 2; lag < len(h)-len(r)/2; lag++ {
		var dot, hn float64
		for i, rv := range r {
			j := lag + i
			if j < 0 || j >= len(h) {
				continue
			}
			dot += rv * h[j]
			hn += h[j] * h[j]
		}
		if hn == 0 {
			continue
		}
		// Normalised by the whole reference: a partial overlap scores less.
		c := dot / math.Sqrt(rn*hn)
		if c > best {
			best, lagSeconds = c, float64(lag)/8000
		}
	}
	return best, lagSeconds
}

// RMS is the root mean square of pcm, 0..1.
func RMS(pcm []int16) float64 {
	if len(pcm) == 0 {
		return 0
	}
	var s float64
	for _, v := range pcm {
		f := float64(v) / 32768
		s += f * f
	}
	return math.Sqrt(s / float64(len(pcm)))
}
