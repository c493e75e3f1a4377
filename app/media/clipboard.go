// Pictures on the system clipboard (a screenshot, an image copied from a
// browser): Fyne's clipboard carries text only, so the picture is read
// with the desktop's own tool, wl-paste on Wayland (Debian wl-clipboard)
// or xclip on X11 (Debian xclip), as PNG. Nothing is read unless the
// clipboard offers a picture. CopyImage goes the other way (the viewer's
// Copy): the picture is put on the clipboard as PNG, which every desktop
// application takes.
package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"strings"
	"time"
)

// ErrNoClipboardImage: the clipboard holds no picture (or no tool to read
// one is installed).
var ErrNoClipboardImage = errors.New("the clipboard holds no picture")

// maxClipboardImage bounds a picture read from the clipboard.
const maxClipboardImage = 100 << 20

// ClipboardImage returns the picture on the clipboard as PNG bytes.
func ClipboardImage(ctx context.Context) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var list, get []string
	switch {
	case os.Getenv("WAYLAND_DISPLAY") != "":
		list, get = []string{"wl-paste", "--list-types"}, []string{"wl-paste", "--no-newline", "--type", "image/png"}
	case os.Getenv("DISPLAY") != "":
		list = []string{"xclip", "-selection", "clipboard", "-t", "TARGETS", "-o"}
		get = []string{"xclip", "-selection", "clipboard", "-t", "image/png", "-o"}
	default:
		return nil, ErrNoClipboardImage
	}
	if _, err := exec.LookPath(list[0]); err != nil {
		return nil, ErrNoClipboardImage
	}
	types, err := exec.CommandContext(ctx, list[0], list[1:]...).Output()
	if err != nil || !hasLine(string(types), "image/png") {
		return nil, ErrNoClipboardImage
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, get[0], get[1:]...)
	cmd.Stdout = &limitedWriter{w: &out, left: maxClipboardImage}
	if err := cmd.Run(); err != nil || out.Len() == 0 {
		return nil, ErrNoClipboardImage
	}
	if Sniff(out.Bytes()) != "image/png" {
		return nil, ErrNoClipboardImage
	}
	return out.Bytes(), nil
}

// ErrNoClipboardTool: neither xclip (X11) nor wl-copy (Wayland) can be
// used to put a picture on the clipboard.
var ErrNoClipboardTool = errors.New("no clipboard tool (xclip or wl-clipboard) is installed")

// CopyImage puts the picture in the file at path on the clipboard, as PNG
// (a JPEG, GIF or WebP is decoded and encoded again; a PNG goes as it is).
// The tool stays in the background serving it until something else is
// copied, as a desktop clipboard owner does.
func CopyImage(ctx context.Context, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("copy the picture: %w", err)
	}
	if Sniff(data) != "image/png" {
		if data, err = asPNG(data); err != nil {
			return fmt.Errorf("copy the picture: %w", err)
		}
	}
	var put []string
	switch {
	case os.Getenv("WAYLAND_DISPLAY") != "":
		put = []string{"wl-copy", "--type", "image/png"}
	case os.Getenv("DISPLAY") != "":
		put = []string{"xclip", "-selection", "clipboard", "-t", "image/png", "-i"}
	default:
		return ErrNoClipboardTool
	}
	if _, err := exec.LookPath(put[0]); err != nil {
		return ErrNoClipboardTool
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// Only stdin is a pipe: the copy that stays to serve the clipboard
	// would hold stdout open, and waiting for it would wait for that.
	cmd := exec.CommandContext(ctx, put[0], put[1:]...)
	cmd.Stdin = bytes.NewReader(data)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("copy the picture with %s: %w", put[0], err)
	}
	return nil
}

// asPNG decodes a picture (no more than MaxPixels) and encodes it as PNG.
func asPNG(data []byte) ([]byte, error) {
	if _, _, err := imageSize(data); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode the picture: %w", err)
	}
	var out bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&out, img); err != nil {
		return nil, fmt.Errorf("encode the picture as PNG: %w", err)
	}
	return out.Bytes(), nil
}

func hasLine(s, want string) bool {
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) == want {
			return true
		}
	}
	return false
}

// limitedWriter stops accepting bytes past its limit (the copy then fails).
type limitedWriter struct {
	w    *bytes.Buffer
	left int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if len(p) > l.left {
		return 0, errors.New("the clipboard's picture is too large")
	}
	l.left -= len(p)
	return l.w.Write(p)
}
