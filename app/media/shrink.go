// Shrinking a picture to a JPEG of at most a given size, turned upright by
// its EXIF orientation and without metadata: the work of thumbnails and
// of downscaling photos before they are sent. libvips' vipsthumbnail
// (Debian's libvips-tools) does it when installed: it shrinks while it
// decodes, 4 to 6 times faster than decoding the whole picture in Go, and
// it runs in a process of its own, so a hostile picture never reaches
// Parley's memory, and Parley does not carry libvips' 30 MB when no
// picture is shown (measured: importing a libvips binding adds that to
// the resident memory at start). Without it, Go's decoders and a Lanczos
// filter (disintegration/imaging) do the same, slower.
package media

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/disintegration/imaging"
)

// vipsthumbnailPath is libvips' thumbnailer ("" when not installed).
var vipsthumbnailPath, _ = exec.LookPath("vipsthumbnail")

// shrinkTimeout bounds one vipsthumbnail run (a 50-megapixel picture takes
// well under a second).
const shrinkTimeout = 30 * time.Second

// Shrinker names what shrinks pictures here: "vipsthumbnail" or "go".
func Shrinker() string {
	if vipsthumbnailPath != "" {
		return "vipsthumbnail"
	}
	return "go"
}

// UseGoShrinker makes pictures shrink in Go even where vipsthumbnail is
// installed (for benchmarks that measure both); it returns a function
// that restores the choice. Not safe while pictures are being shrunk.
func UseGoShrinker() (restore func()) {
	old := vipsthumbnailPath
	vipsthumbnailPath = ""
	return func() { vipsthumbnailPath = old }
}

// shrinkJPEG writes the picture at src to dst (a .jpg path, written whole
// or not at all) as a JPEG of the given quality, at most maxSide pixels on
// its longest side (never enlarged), upright, without metadata. The
// caller has checked the picture's header (MaxPixels).
func shrinkJPEG(src, dst string, maxSide, quality int) error {
	tmp := filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+".part.jpg")
	defer os.Remove(tmp)
	var err error
	if vipsthumbnailPath != "" {
		err = vipsShrink(src, tmp, maxSide, quality)
	} else {
		err = goShrink(src, tmp, maxSide, quality)
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

func vipsShrink(src, dst string, maxSide, quality int) error {
	// vipsthumbnail writes a relative output path beside the input, not
	// in the working directory.
	dst, err := filepath.Abs(dst)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), shrinkTimeout)
	defer cancel()
	// "WxH>": only ever shrink. vipsthumbnail turns the picture upright by
	// itself; strip drops every metadata block.
	cmd := exec.CommandContext(ctx, vipsthumbnailPath, src, "--size", fmt.Sprintf("%dx%d>", maxSide, maxSide),
		"-o", fmt.Sprintf("%s[Q=%d,strip,optimize_coding]", dst, quality))
	cmd.Env = append(os.Environ(), "VIPS_WARNING=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("vipsthumbnail: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

func goShrink(src, dst string, maxSide, quality int) error {
	img, err := imaging.Open(src, imaging.AutoOrientation(true))
	if err != nil {
		return fmt.Errorf("decode the picture: %w", err)
	}
	if b := img.Bounds(); max(b.Dx(), b.Dy()) > maxSide {
		img = imaging.Fit(img, maxSide, maxSide, imaging.Lanczos)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return fmt.Errorf("encode the picture: %w", err)
	}
	return os.WriteFile(dst, buf.Bytes(), 0o600)
}

// jpegSize is the size of the JPEG at path.
func jpegSize(path string) (w, h int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	cfg, err := jpeg.DecodeConfig(f)
	return cfg.Width, cfg.Height, err
}
