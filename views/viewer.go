// The picture viewer: a click on a picture in the chat opens it over the
// window, fitted to it; zoom in and out (or back to fit), the previous and
// next picture of the chat (fetched when moved to: moving there is asking
// for it), Save as…, Copy (to the clipboard), Close. Keyboard: Escape closes, Left and Right move,
// + and - zoom, 0 fits.
package views

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/app"
	"parley/app/store"
)

// pictureViewer is the viewer while it is open.
type pictureViewer struct {
	v      *chatView
	pop    *widget.PopUp
	pics   []store.Message // the chat's pictures, in order
	at     int
	zoom   float32   // 0: fitted to the window
	space  fyne.Size // what the picture may fill
	img    *canvas.Image
	title  *widget.Label
	body   *fyne.Container
	prevKB func(*fyne.KeyEvent)
}

// openViewer shows m's picture (fetched) in the viewer.
func (v *chatView) openViewer(m store.Message) {
	pv := &pictureViewer{v: v}
	for _, x := range v.msgs {
		if a := x.Attachment; a != nil && isPicture(a) && !x.Retracted && a.State != store.AttachmentFailed {
			if x.ID == m.ID {
				pv.at = len(pv.pics)
			}
			pv.pics = append(pv.pics, x)
		}
	}
	if len(pv.pics) == 0 {
		return
	}
	pv.img = canvas.NewImageFromFile("")
	pv.img.FillMode = canvas.ImageFillContain
	pv.img.ScaleMode = canvas.ImageScaleSmooth
	pv.title = widget.NewLabel("")
	pv.title.Truncation = fyne.TextTruncateEllipsis
	btn := func(icon fyne.Resource, fn func()) *widget.Button {
		b := widget.NewButtonWithIcon("", icon, fn)
		b.Importance = widget.LowImportance
		return b
	}
	bar := container.NewBorder(nil, nil,
		container.NewHBox(btn(theme.NavigateBackIcon(), func() { pv.move(-1) }), btn(theme.NavigateNextIcon(), func() { pv.move(1) })),
		container.NewHBox(btn(theme.ZoomOutIcon(), func() { pv.zoomBy(1 / 1.5) }), btn(theme.ZoomFitIcon(), pv.fit),
			btn(theme.ZoomInIcon(), func() { pv.zoomBy(1.5) }), btn(theme.DocumentSaveIcon(), pv.save), btn(theme.ContentCopyIcon(), pv.copy),
			btn(theme.CancelIcon(), pv.close)),
		pv.title)
	pv.body = container.NewStack()
	canvasSize := v.c.win.Canvas().Size()
	content := container.NewBorder(bar, nil, nil, nil, pv.body)
	pv.pop = widget.NewModalPopUp(content, v.c.win.Canvas())
	pv.pop.Resize(fyne.NewSize(canvasSize.Width-40, canvasSize.Height-40))
	pv.space = pv.pop.Size().SubtractWidthHeight(0, bar.MinSize().Height)
	pv.prevKB = v.c.win.Canvas().OnTypedKey()
	v.c.win.Canvas().SetOnTypedKey(pv.key)
	v.viewer = pv
	pv.show()
	pv.pop.Show()
}

// show puts the current picture in, at the current zoom.
func (pv *pictureViewer) show() {
	m := pv.pics[pv.at]
	a := m.Attachment
	pv.title.SetText(pv.caption())
	if a.LocalPath == "" {
		pv.fetch(pv.at)
		return
	}
	pv.img.File = a.LocalPath
	pv.img.Image = nil
	var shown fyne.CanvasObject = pv.img
	pv.img.SetMinSize(fyne.NewSize(1, 1))
	switch natural := fyne.NewSize(float32(a.Width), float32(a.Height)); {
	case a.Width <= 0 || a.Height <= 0:
	case pv.zoom > 0:
		pv.img.SetMinSize(fyne.NewSize(natural.Width*pv.zoom, natural.Height*pv.zoom))
		shown = container.NewScroll(container.NewCenter(pv.img))
	case natural.Width <= pv.space.Width && natural.Height <= pv.space.Height:
		// Fitted, a picture smaller than the window keeps its own size.
		pv.img.SetMinSize(natural)
		shown = container.NewCenter(pv.img)
	}
	pv.body.Objects = []fyne.CanvasObject{shown}
	pv.body.Refresh()
	pv.img.Refresh()
}

// fetch gets picture i's file (the view's copy of the message may be
// older than the history's), then shows it if it is still the one shown.
func (pv *pictureViewer) fetch(i int) {
	note := widget.NewLabel("Loading…")
	note.Alignment = fyne.TextAlignCenter
	pv.body.Objects = []fyne.CanvasObject{container.NewCenter(note)}
	pv.body.Refresh()
	svc, ctx, id := pv.v.c.svc, pv.v.c.ctx, pv.pics[i].ID
	inBackground(pv.v.c.do, func() (store.Attachment, error) { return svc.Fetch(ctx, id, true) },
		func(a store.Attachment, err error) {
			if err != nil {
				note.SetText("Cannot be shown: " + app.UserMessage(err))
				return
			}
			pv.pics[i].Attachment = &a
			if pv.at == i && pv.v.viewer == pv {
				pv.show()
			}
		})
}

// move goes to the previous (-1) or next (1) picture.
func (pv *pictureViewer) move(by int) {
	at := pv.at + by
	if at < 0 || at >= len(pv.pics) {
		return
	}
	pv.at, pv.zoom = at, 0
	pv.show()
}

// zoomBy zooms from the fitted size or the current zoom.
func (pv *pictureViewer) zoomBy(f float32) {
	a := pv.pics[pv.at].Attachment
	if a.Width <= 0 || a.Height <= 0 {
		return
	}
	if pv.zoom == 0 {
		size := pv.body.Size()
		pv.zoom = min(size.Width/float32(a.Width), size.Height/float32(a.Height), 1)
	}
	pv.zoom = min(max(pv.zoom*f, 0.05), 8)
	pv.show()
}

// fit shows the whole picture in the window.
func (pv *pictureViewer) fit() {
	pv.zoom = 0
	pv.show()
}

// save asks where to save a copy.
func (pv *pictureViewer) save() { pv.v.saveFile(pv.pics[pv.at]) }

// caption is the title: the picture's name and place in the chat.
func (pv *pictureViewer) caption() string {
	return fmt.Sprintf("%s — %d of %d", fileName(pv.pics[pv.at].Attachment), pv.at+1, len(pv.pics))
}

// copy puts the shown picture on the system clipboard (as PNG: decoding
// a photo takes a moment, so it is done away from the UI) and says so in
// the title.
func (pv *pictureViewer) copy() {
	a := pv.pics[pv.at].Attachment
	if a.LocalPath == "" {
		return // still loading
	}
	at, copyImage, ctx := pv.at, pv.v.c.opts.CopyImage, pv.v.c.ctx
	inBackgroundErr(pv.v.c.do, func() error { return copyImage(ctx, a.LocalPath) }, func(err error) {
		if pv.at != at || pv.v.viewer != pv {
			return
		}
		if err != nil {
			pv.title.SetText(pv.caption() + " — could not copy: " + app.UserMessage(err))
			return
		}
		pv.title.SetText(pv.caption() + " — copied")
	})
}

// close closes the viewer and gives the keyboard back.
func (pv *pictureViewer) close() {
	pv.pop.Hide()
	pv.v.c.win.Canvas().SetOnTypedKey(pv.prevKB)
	if pv.v.viewer == pv {
		pv.v.viewer = nil
	}
}

// key handles the viewer's keys.
func (pv *pictureViewer) key(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyEscape:
		pv.close()
	case fyne.KeyLeft:
		pv.move(-1)
	case fyne.KeyRight:
		pv.move(1)
	case fyne.KeyPlus, fyne.KeyEqual:
		pv.zoomBy(1.5)
	case fyne.KeyMinus:
		pv.zoomBy(1 / 1.5)
	case fyne.Key0:
		pv.fit()
	}
}
