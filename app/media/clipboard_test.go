// Test of reading a picture from the X clipboard with xclip, on an Xvfb
// display of the test's own (the window tests' recipe): a PNG put there
// by xclip comes back whole; text on the clipboard is no picture.
package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// xvfb starts an Xvfb display for t and points DISPLAY at it.
func xvfb(t *testing.T) {
	for _, tool := range []string{"Xvfb", "xclip"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed; make deps installs it", tool)
			}
			t.Skipf("%s is not installed (make deps installs it)", tool)
		}
	}
	// -displayfd: Xvfb picks a free display and writes its number to
	// the pipe once it accepts clients (no polling, no clash).
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "640x480x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ready := make(chan string, 1)
	go func() {
		var n int
		_, _ = fmt.Fscan(r, &n)
		ready <- fmt.Sprintf(":%d", n)
	}()
	select {
	case display := <-ready:
		t.Setenv("DISPLAY", display)
	case <-time.After(30 * time.Second):
		t.Fatal("Xvfb did not come up")
	}
	t.Setenv("WAYLAND_DISPLAY", "")
}

// setClipboard puts data of type typ on the clipboard (xclip keeps
// serving it in the background until another owner takes over).
func setClipboard(t *testing.T, typ string, data []byte) {
	path := filepath.Join(t.TempDir(), "clip")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	// No pipes: the xclip that stays to serve the clipboard would hold
	// them open, and waiting for them would wait for it.
	cmd := exec.Command("xclip", "-selection", "clipboard", "-t", typ, "-i", path)
	if err := cmd.Run(); err != nil {
		t.Fatalf("xclip: %v", err)
	}
	t.Cleanup(func() { _ = exec.Command("pkill", "-f", "xclip -selection clipboard -t "+typ+" -i "+path).Run() })
}

func TestClipboardImage(t *testing.T) {
	xvfb(t)
	pic := pngWith(t, 20, 10, false)
	setClipboard(t, "image/png", pic)
	got, err := ClipboardImage(context.Background())
	if err != nil || !bytes.Equal(got, pic) {
		t.Fatalf("read %d bytes, %v; want the %d put there", len(got), err, len(pic))
	}
	setClipboard(t, "UTF8_STRING", []byte("just words"))
	if _, err := ClipboardImage(context.Background()); !errors.Is(err, ErrNoClipboardImage) {
		t.Errorf("text on the clipboard: %v, want ErrNoClipboardImage", err)
	}
}

// TestCopyImage: a JPEG copied from the viewer is on the clipboard as a
// PNG of the same picture, which is what ClipboardImage (and any other
// application) reads back; a PNG goes as it is.
func TestCopyImage(t *testing.T) {
	xvfb(t)
	dir := t.TempDir()
	photo := filepath.Join(dir, "photo.jpg")
	if err := os.WriteFile(photo, testJPEG(t, 30, 20, 1), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = exec.Command("pkill", "-f", "xclip -selection clipboard -t image/png -i$").Run() })
	if err := CopyImage(context.Background(), photo); err != nil {
		t.Fatal(err)
	}
	got, err := ClipboardImage(context.Background())
	if err != nil {
		t.Fatalf("reading the copied picture back: %v", err)
	}
	if w, h, err := imageSize(got); err != nil || w != 30 || h != 20 || Sniff(got) != "image/png" {
		t.Fatalf("clipboard holds %s %d × %d (%v), want a 30 × 20 PNG", Sniff(got), w, h, err)
	}

	shot := filepath.Join(dir, "shot.png")
	pic := pngWith(t, 12, 7, false)
	if err := os.WriteFile(shot, pic, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := CopyImage(context.Background(), shot); err != nil {
		t.Fatal(err)
	}
	if got, err := ClipboardImage(context.Background()); err != nil || !bytes.Equal(got, pic) {
		t.Fatalf("a copied PNG came back as %d bytes (%v), want the %d of the file", len(got), err, len(pic))
	}

	if err := CopyImage(context.Background(), filepath.Join(dir, "missing.png")); err == nil {
		t.Error("copying a missing file did not fail")
	}
}
