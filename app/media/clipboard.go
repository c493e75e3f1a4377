// Pictures on the system clipboard (a screenshot, an image copied from a
// browser): Fyne's clipboard carries text only, so the picture is read
// with the desktop's own tool, wl-paste on Wayland (Debian wl-clipboard)
// or xclip on X11 (Debian xclip), as PNG. Nothing is read unless the
// clipboard offers a picture.
package media

import (
	"bytes"
	"context"
	"errors"
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
