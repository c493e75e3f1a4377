// Tests of counting a GIF's frames without decoding them: real animations
// made by image/gif count right, one over the limit is refused by the
// checks fetching and preparing use, and a fuzz target over the walker.
package media

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"testing"
)

func animation(t testing.TB, frames, w, h int) []byte {
	pal := color.Palette{color.Black, color.White}
	a := &gif.GIF{}
	for i := range frames {
		img := image.NewPaletted(image.Rect(0, 0, w, h), pal)
		img.SetColorIndex(i%w, 0, 1)
		a.Image = append(a.Image, img)
		a.Delay = append(a.Delay, 1)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, a); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGIFFrames(t *testing.T) {
	for _, n := range []int{1, 3, 40} {
		got, err := gifFrames(bytes.NewReader(animation(t, n, 8, 8)), MaxFrames)
		if err != nil || got != n {
			t.Errorf("%d frames counted as %d, %v", n, got, err)
		}
	}
	if err := checkAnimation(bytes.NewReader(animation(t, MaxFrames+1, 2, 2)), 2, 2); !errors.Is(err, ErrTooManyFrames) {
		t.Errorf("%d frames: %v, want ErrTooManyFrames", MaxFrames+1, err)
	}
	// Big frames: the pixel budget bounds the count first.
	if err := checkAnimation(bytes.NewReader(animation(t, 3, 8, 8)), 40000, 20000); !errors.Is(err, ErrTooManyFrames) {
		t.Errorf("3 frames of 800 MP: %v, want ErrTooManyFrames", err)
	}
	if err := checkAnimation(bytes.NewReader(animation(t, 5, 8, 8)), 8, 8); err != nil {
		t.Errorf("a small animation: %v", err)
	}
}

// FuzzGIFFrames: the walker never panics nor counts past its limit + 1.
func FuzzGIFFrames(f *testing.F) {
	f.Add(animation(f, 2, 4, 4))
	f.Add([]byte("GIF89a\x01\x00\x01\x00\x80\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if n, _ := gifFrames(bytes.NewReader(data), 10); n > 11 {
			t.Fatalf("counted %d frames with a limit of 10", n)
		}
	})
}
