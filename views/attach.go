// Sending files from the chats tab: the attach button opens the file
// picker (behind ChatsOptions.PickFile, so tests pick without a dialog),
// files dropped on the window and files or a picture pasted into the
// composer come the same way; then a preview with
// the picture (or the files' names and sizes), "Send at full size" for
// photos, Send and Cancel. Preparing and queueing run off the UI
// goroutine, one file after the other; the bubbles show the uploads.
package views

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/app"
	"parley/app/media"
	"parley/app/store"
)

// pictureExtensions are what the picture picker shows.
var pictureExtensions = []string{".jpg", ".jpeg", ".png", ".gif", ".webp", ".JPG", ".JPEG", ".PNG", ".GIF", ".WEBP"}

// pickFile is the default ChatsOptions.PickFile: Fyne's file dialog,
// showing pictures only or all files.
func pickFile(win fyne.Window, pictures bool, picked func(path string)) {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		path := r.URI().Path()
		r.Close()
		picked(path)
	}, win)
	if pictures {
		d.SetFilter(storage.NewExtensionFileFilter(pictureExtensions))
	}
	d.Show()
}

// attach offers to send a picture or any file to the open chat.
func (c *ChatsView) attach() {
	peer := c.chat.peer
	if peer == "" {
		return
	}
	pick := func(pictures bool) func() {
		return func() { c.opts.PickFile(c.win, pictures, func(path string) { c.previewFiles(peer, []string{path}) }) }
	}
	c.attachMenu = fyne.NewMenu("", fyne.NewMenuItem("Picture…", pick(true)), fyne.NewMenuItem("File…", pick(false)))
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(c.attachBtn)
	pop := widget.NewPopUpMenu(c.attachMenu, c.win.Canvas())
	pop.ShowAtPosition(pos.AddXY(0, -pop.MinSize().Height)) // above the button
}

// dropped takes files dropped on the window (Fyne's SetOnDropped).
func (c *ChatsView) dropped(_ fyne.Position, uris []fyne.URI) {
	var paths []string
	for _, u := range uris {
		if u.Scheme() == "file" {
			paths = append(paths, u.Path())
		}
	}
	switch {
	case len(paths) == 0:
		return
	case c.chat.peer == "":
		c.setStatus("Open a chat to send files to it.", widget.MediumImportance)
		return
	}
	c.previewFiles(c.chat.peer, paths)
}

// attachPreview is the dialog shown before a file is sent.
type attachPreview struct {
	dlg      *dialog.CustomDialog
	caption  *widget.Entry
	original *widget.Check
	send     *widget.Button
}

// paste takes a paste into the composer: copied files (file: URIs or
// paths in the clipboard's text) are offered for sending; with no text on
// the clipboard, a picture on it is (read off the UI goroutine); anything
// else is pasted as text (false).
func (c *ChatsView) paste() bool {
	peer := c.chat.peer
	if peer == "" {
		return false
	}
	text := strings.TrimSpace(fyne.CurrentApp().Clipboard().Content())
	if text != "" {
		paths := copiedFiles(text)
		if len(paths) == 0 {
			return false
		}
		c.previewFiles(peer, paths)
		return true
	}
	read := c.opts.ClipboardImage
	inBackground(c.do, func() (string, error) {
		png, err := read(c.ctx)
		if err != nil {
			return "", err
		}
		f, err := os.CreateTemp("", "parley-pasted-*.png")
		if err != nil {
			return "", err
		}
		_, err = f.Write(png)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return f.Name(), err
	}, func(path string, err error) {
		if err == nil {
			c.previewFiles(peer, []string{path}, func() { os.Remove(path) })
		}
	})
	return true
}

// copiedFiles are the files a clipboard text names, one per line, as
// file: URIs or absolute paths of existing files (nil when it is other
// text).
func copiedFiles(text string) []string {
	var paths []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if u, err := url.Parse(line); err == nil && u.Scheme == "file" {
			line = u.Path
		}
		if line == "" || !filepath.IsAbs(line) {
			return nil
		}
		if st, err := os.Stat(line); err != nil || !st.Mode().IsRegular() {
			return nil
		}
		paths = append(paths, line)
	}
	return paths
}

// previewFiles shows paths before sending them to peer; done, if given,
// runs once they are sent or the preview is cancelled.
func (c *ChatsView) previewFiles(peer string, paths []string, done ...func()) {
	finish := func() {
		for _, fn := range done {
			fn()
		}
	}
	var names []string
	for _, path := range paths {
		st, err := os.Stat(path)
		if err != nil || !st.Mode().IsRegular() {
			c.setStatus("Cannot send "+filepath.Base(path)+": it is not a file that can be read.", widget.DangerImportance)
			return
		}
		names = append(names, filepath.Base(path)+" ("+app.FormatSize(st.Size())+")")
	}
	p := &attachPreview{}
	list := widget.NewLabel(strings.Join(names, "\n"))
	list.Truncation = fyne.TextTruncateEllipsis
	var shown fyne.CanvasObject = widget.NewIcon(theme.FileIcon())
	pictures := false
	for _, path := range paths {
		pictures = pictures || isPicture(&store.Attachment{Name: path})
	}
	if len(paths) == 1 && pictures {
		img := canvas.NewImageFromFile(paths[0])
		img.FillMode = canvas.ImageFillContain
		img.SetMinSize(fyne.NewSize(320, 220))
		shown = img
	}
	p.caption = widget.NewEntry()
	p.caption.SetPlaceHolder("Add a caption (sent after the file)")
	p.original = widget.NewCheck("Send at full size", nil)
	if !pictures {
		p.original.Hide()
	}
	cancel := widget.NewButton("Cancel", func() {
		p.dlg.Hide()
		finish()
	})
	p.send = widget.NewButtonWithIcon("Send", theme.MailSendIcon(), func() {
		p.dlg.Hide()
		opts := media.PrepareOptions{Original: p.original.Checked}
		caption := strings.TrimSpace(p.caption.Text)
		c.chat.followOwn()
		svc, ctx := c.svc, c.ctx
		inBackgroundErr(c.do, func() error { // in order, one after the other
			var errs []error
			for _, path := range paths {
				if _, err := svc.SendFile(ctx, peer, path, opts); err != nil {
					errs = append(errs, fmt.Errorf("%s: %s", filepath.Base(path), app.UserMessage(err)))
				}
			}
			return errors.Join(errs...)
		}, func(err error) {
			finish()           // the files are prepared (copied) by now
			if caption != "" { // after the files, as Conversations sends one
				c.svc.SendMessage(peer, caption, c.failedSend(peer, caption))
			}
			if err != nil { // each line already in words
				c.setStatus("Could not send "+strings.ReplaceAll(err.Error(), "\n", "; "), widget.DangerImportance)
			}
		})
	})
	p.send.Importance = widget.HighImportance
	title := "Send a file to " + c.displayName(peer)
	if len(paths) > 1 {
		title = fmt.Sprintf("Send %d files to %s", len(paths), c.displayName(peer))
	}
	p.dlg = dialog.NewCustomWithoutButtons(title,
		container.NewBorder(nil, container.NewVBox(list, p.caption, p.original), nil, nil, shown), c.win)
	p.dlg.SetButtons([]fyne.CanvasObject{cancel, p.send})
	c.attachDlg = p
	p.dlg.Show()
}
