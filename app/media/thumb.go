// Thumbnails: a picture's small copy for the chat's bubbles, made once
// and kept on disk (JPEG), turned upright by its EXIF orientation
// (shrink.go). The header is read before anything is decoded (more than
// MaxPixels is refused), and the thumbnail is written whole before it
// takes its name.
package media

import (
	"fmt"
	"os"
	"path/filepath"
)

// Thumbnail makes the thumbnail of the picture at src, at most maxSide
// pixels on its longest side (shrinkJPEG), at dst (kept: a second call
// only reads its size) and returns its size.
func Thumbnail(src, dst string, maxSide int) (w, h int, err error) {
	if w, h, err := jpegSize(dst); err == nil {
		return w, h, nil
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
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return 0, 0, err
	}
	if err := shrinkJPEG(src, dst, maxSide, 82); err != nil {
		return 0, 0, fmt.Errorf("thumbnail: %w", err)
	}
	return jpegSize(dst)
}
