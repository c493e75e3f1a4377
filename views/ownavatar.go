// Setting the own avatar from the contacts pane: a file picker limited to
// PNG and JPEG images, the bytes read off the UI goroutine and published
// through the contacts service (XEP-0084, with progress and errors in the
// pane's status line). The picker sits behind a function so tests can hand
// in a file.
package views

import (
	"context"
	"fmt"
	"io"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"
)

// maxAvatarBytes bounds an avatar image; servers and other clients expect
// small images (XEP-0084 recommends well under 100 KB).
const maxAvatarBytes = 1 << 20

// pickImageFunc opens a picker and calls done with the chosen file's
// reader (nil when cancelled).
type pickImageFunc func(win fyne.Window, done func(fyne.URIReadCloser, error))

// pickImage is the real picker: Fyne's file dialog filtered to images.
func pickImage(win fyne.Window, done func(fyne.URIReadCloser, error)) {
	d := dialog.NewFileOpen(done, win)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".png", ".jpg", ".jpeg"}))
	d.Show()
}

// chooseAvatar lets the user pick an image and publishes it.
func (v *ContactsView) chooseAvatar() {
	pick := v.pickImage
	if pick == nil {
		pick = pickImage
	}
	pick(v.win, func(r fyne.URIReadCloser, err error) {
		if err != nil {
			v.setStatus("Cannot open the image: "+err.Error(), widget.DangerImportance)
			return
		}
		if r == nil {
			return // cancelled
		}
		name := r.URI().Name()
		v.run("Publishing your avatar…", func(ctx context.Context) error {
			defer r.Close()
			data, err := io.ReadAll(io.LimitReader(r, maxAvatarBytes+1))
			if err != nil {
				return fmt.Errorf("read %s: %w", name, err)
			}
			if len(data) > maxAvatarBytes {
				return fmt.Errorf("%s is larger than %d KB; pick a smaller image", name, maxAvatarBytes>>10)
			}
			return v.svc.PublishAvatar(ctx, data)
		}, "Your avatar is published.", "Your avatar was not published", nil)
	})
}
