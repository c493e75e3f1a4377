// Sending a file from the chats tab: the attach button opens the file
// picker (behind ChatsOptions.PickFile, so tests pick without a dialog),
// then a preview with the picture (or the file's name and size), "Send at
// full size" for a photo, Send and Cancel. Preparing and queueing run off
// the UI goroutine; the bubble shows the upload.
package views

import (
	"os"
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/app"
	"parley/app/media"
	"parley/app/store"
)

// pickFile is the default ChatsOptions.PickFile: Fyne's file dialog.
func pickFile(win fyne.Window, picked func(path string)) {
	dialog.ShowFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		path := r.URI().Path()
		r.Close()
		picked(path)
	}, win)
}

// attach asks for a file to send to the open chat.
func (c *ChatsView) attach() {
	peer := c.chat.peer
	if peer == "" {
		return
	}
	c.opts.PickFile(c.win, func(path string) { c.previewFile(peer, path) })
}

// attachPreview is the dialog shown before a file is sent.
type attachPreview struct {
	dlg      *dialog.CustomDialog
	original *widget.Check
	send     *widget.Button
}

// previewFile shows path before sending it to peer.
func (c *ChatsView) previewFile(peer, path string) {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		c.setStatus("Cannot send "+filepath.Base(path)+": it is not a file that can be read.", widget.DangerImportance)
		return
	}
	p := &attachPreview{}
	name := widget.NewLabel(filepath.Base(path) + " (" + app.FormatSize(st.Size()) + ")")
	name.Truncation = fyne.TextTruncateEllipsis
	var shown fyne.CanvasObject = widget.NewIcon(theme.FileIcon())
	picture := isPicture(&store.Attachment{Name: path})
	if picture {
		img := canvas.NewImageFromFile(path)
		img.FillMode = canvas.ImageFillContain
		img.SetMinSize(fyne.NewSize(320, 220))
		shown = img
	}
	p.original = widget.NewCheck("Send at full size", nil)
	if !picture {
		p.original.Hide()
	}
	cancel := widget.NewButton("Cancel", func() { p.dlg.Hide() })
	p.send = widget.NewButtonWithIcon("Send", theme.MailSendIcon(), func() {
		p.dlg.Hide()
		opts := media.PrepareOptions{Original: p.original.Checked}
		c.chat.followOwn()
		inBackground(c.do, func() (store.Message, error) { return c.svc.SendFile(c.ctx, peer, path, opts) },
			func(_ store.Message, err error) {
				c.sayFailure("Could not send " + filepath.Base(path))(err)
			})
	})
	p.send.Importance = widget.HighImportance
	p.dlg = dialog.NewCustomWithoutButtons("Send a file to "+c.displayName(peer),
		container.NewBorder(nil, container.NewVBox(name, p.original), nil, nil, shown), c.win)
	p.dlg.SetButtons([]fyne.CanvasObject{cancel, p.send})
	c.attachDlg = p
	p.dlg.Show()
}
