// Thumbnails: a picture's small copy for the chat's bubbles, made once
// and kept on disk (JPEG), turned upright by its EXIF orientation. The
// header is read before anything is decoded (more than MaxPixels is
// refused), and the thumbnail is written whole before it takes its name.
package media

import (
	"fmt"
	"image/jpeg"
	"os"
	"path/filepath"

	"github.com/disintegration/imaging"
)

// Thumbnail makes the thumbnail of the picture at src, at most maxSide
// pixels on its longest side, at dst (kept: a second call only reads its
// size) and returns its size.
func Thumbnail(src, dst string, maxSide int) (w, h int, err error) {
	if f, err := os.Open(dst); err == nil {
		defer f.Close()
		cfg, err := jpeg.DecodeConfig(f)
		if err == nil {
			return cfg.Width, cfg.Height, nil
		}
	}
	in, err := os.Open(src)
	if err != nil {
		return 0, 0, err
	}
	_, _, err = imageSizeFrom(in)
	in.Close()
	if err != nil {
		return 0, 0, err
	}
	img, err := imaging.Open(src, imaging.AutoOrientation(true))
	if err != nil {
		return 0, 0, fmt.Errorf("decode the picture: %w", err)
	}
	b := img.Bounds()
	if max(b.Dx(), b.Dy()) > maxSide {
		img = imaging.Fit(img, maxSide, maxSide, imaging.Lanczos)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return 0, 0, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "thumb-*")
	if err != nil {
		return 0, 0, err
	}
	defer os.Remove(tmp.Name())
	err = jpeg.Encode(tmp, img, &jpeg.Options{Quality: 82})
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, 0, fmt.Errorf("write the thumbnail: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return 0, 0, err
	}
	b = img.Bounds()
	return b.Dx(), b.Dy(), nil
}
