// The file of a message bubble, beside its text (bubble_text.go): a
// picture shows as its thumbnail in a box of the picture's proportions
// (known from the history before anything is fetched, so the list never
// jumps), with a placeholder while it loads, a bar while it goes up or
// down, and a line saying why when it cannot be shown; any other file
// shows as a card with its name, size and type, and Download, Open and
// Save as…. A tap on a picture fetches it when it waits for the user (a
// stranger's, a large one) or opens it.
package views

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/app"
	"parley/app/store"
)

// Picture boxes in bubbles.
const (
	mediaMaxSide  = 240 // the longest side a picture shows at
	mediaDefaultW = 240 // the box of a picture whose size is not known
	mediaDefaultH = 160
	mediaGap      = 4 // between the picture and the text under it
	progressH     = 4 // the transfer bar
)

// Links of a file card (runs' url).
const (
	fileDownloadLink = "parley:file-download"
	fileOpenLink     = "parley:file-open"
	fileSaveLink     = "parley:file-save"
)

// mediaLayout is the picture box of a bubble (relative to the bubble).
type mediaLayout struct {
	x, y, w, h float32
	voice      bool // a voice message's strip (voice_bubble.go), not a picture
}

// isPicture says whether a's file shows as a picture: by its sniffed type
// once fetched, else by the URL's or name's extension.
func isPicture(a *store.Attachment) bool {
	if a.MediaType != "" {
		return strings.HasPrefix(a.MediaType, "image/") && a.MediaType != "image/heic" && a.MediaType != "image/svg+xml"
	}
	switch nameExt(a) {
	case ".jpg", ".jpeg", ".png", ".gif", ".webp":
		return true
	}
	return false
}

// nameExt is the lower-case extension of a's name (else of its URL, its
// query left out): what a file is taken for before its bytes are here.
func nameExt(a *store.Attachment) string {
	name := a.Name
	if name == "" {
		name = a.URL
	}
	return strings.ToLower(filepath.Ext(strings.SplitN(name, "?", 2)[0]))
}

// pictureBox is the size a picture shows at in a bubble whose content is
// at most maxW wide.
func pictureBox(a *store.Attachment, maxW float32) (float32, float32) {
	w, h := float32(a.Width), float32(a.Height)
	if w <= 0 || h <= 0 {
		w, h = mediaDefaultW, mediaDefaultH
	}
	side := min(float32(mediaMaxSide), maxW)
	scale := min(side/max(w, h), 1)
	return max(w*scale, 24), max(h*scale, 24)
}

// fileName is what a file is called in its card.
func fileName(a *store.Attachment) string {
	if a.Name != "" {
		return a.Name
	}
	if u, err := url.Parse(a.URL); err == nil && u.Path != "" {
		if n, err := url.PathUnescape(filepath.Base(u.Path)); err == nil {
			return n
		}
	}
	return "file"
}

// layoutFileText is the text of a bubble sharing a file: for a picture,
// only why it cannot be shown (if so); for another file, its card.
func (v *chatView) layoutFileText(m *store.Message, w float32) textLayout {
	a := m.Attachment
	tm := v.measurer()
	if isPicture(a) {
		if a.State == store.AttachmentFailed && a.Error != "" {
			return tm.layoutPlain([]piece{{text: a.Error, style: runItalic | runSubdued}}, w)
		}
		return textLayout{}
	}
	l := tm.layoutPlain([]piece{{text: fileName(a), style: runBold}}, w)
	var info []string
	if a.Size > 0 {
		info = append(info, app.FormatSize(a.Size))
	}
	if a.MediaType != "" {
		info = append(info, a.MediaType)
	}
	if len(info) > 0 {
		tm.appendLine(&l, piece{text: strings.Join(info, " · "), style: runSubdued}, w)
	}
	switch {
	case a.State == store.AttachmentFailed && a.Error != "":
		tm.appendLine(&l, piece{text: a.Error, style: runItalic | runSubdued}, w)
	case a.LocalPath == "":
		tm.appendLine(&l, piece{text: "Download", style: runLink, url: fileDownloadLink}, w)
	default:
		tm.appendLine(&l, piece{text: "Open", style: runLink, url: fileOpenLink}, w)
		tm.appendLine(&l, piece{text: "Save as…", style: runLink, url: fileSaveLink}, w)
	}
	return l
}

// placePicture puts a picture box above the text of l (content at most
// maxW wide), moving the text and the meta line under it.
func (v *chatView) placePicture(l *bubbleLayout, a *store.Attachment, maxW float32, contentW *float32) {
	w, h := pictureBox(a, maxW)
	l.placeBox(&mediaLayout{x: bubblePadX, y: bubblePadY, w: w, h: h}, contentW)
}

// placeBox puts a box (a picture, a voice strip) above the text of l,
// moving the text and the meta line under it.
func (l *bubbleLayout) placeBox(box *mediaLayout, contentW *float32) {
	w, h := box.w, box.h
	l.media = box
	*contentW = max(*contentW, w)
	if l.text.h == 0 { // no text: the meta line goes under the box
		l.h = 2*bubblePadY + h + mediaGap + l.metaH
		l.metaY = bubblePadY + h + mediaGap
		return
	}
	l.textY = h + mediaGap
	l.h += h + mediaGap
	l.metaY += h + mediaGap
}

// setMedia shows the picture box: the thumbnail when loaded, else a
// placeholder saying what happens; and the transfer bar.
func (rv *chatRowView) setMedia(lay *bubbleLayout, col func(fyne.ThemeColorName) color.Color, caption float32) {
	v := rv.v
	rv.pic.Hide()
	rv.picBg.Hide()
	rv.picNote.Hide()
	rv.bar.Hide()
	rv.barFill.Hide()
	if lay.media == nil {
		return
	}
	if lay.media.voice {
		rv.setVoice(lay, col, caption)
		return
	}
	rv.picBg.FillColor = withAlpha(col(theme.ColorNameForeground), 0x10)
	rv.picBg.Show()
	scale := v.c.win.Canvas().Scale()
	img, why := v.thumbs.get(rv.msg.ID, int(lay.media.w*scale+0.5), int(lay.media.h*scale+0.5))
	if t, ok := v.c.transfers[rv.msg.ID]; ok && t.Total > 0 && rv.msg.Direction == store.Out {
		why = fmt.Sprintf("Sending… %d%%", t.Done*100/t.Total)
	}
	if img != nil {
		rv.pic.Image = img
		rv.pic.Show()
	}
	if why != "" { // over a preview, or alone in the box
		rv.picNote.Text = why
		rv.picNote.TextSize = caption
		rv.picNote.Color = col(theme.ColorNamePlaceHolder)
		if img != nil {
			rv.picNote.Color = col(theme.ColorNameForeground)
		}
		rv.picNote.Show()
	}
	rv.setTransferBar(col)
}

// setTransferBar shows the bar of a file going up or down, if it is.
func (rv *chatRowView) setTransferBar(col func(fyne.ThemeColorName) color.Color) {
	if t, ok := rv.v.c.transfers[rv.msg.ID]; ok && t.Total > 0 {
		rv.bar.FillColor = withAlpha(col(theme.ColorNameForeground), 0x30)
		rv.barFill.FillColor = col(theme.ColorNamePrimary)
		rv.bar.Show()
		rv.barFill.Show()
	}
}

// placeTransferBar places that bar at (x, y), w wide, filled as far as
// the transfer is.
func (rv *chatRowView) placeTransferBar(x, y, w float32) {
	rv.bar.Move(fyne.NewPos(x, y))
	rv.bar.Resize(fyne.NewSize(w, progressH))
	frac := float32(0)
	if t, ok := rv.v.c.transfers[rv.msg.ID]; ok && t.Total > 0 {
		frac = min(float32(t.Done)/float32(t.Total), 1)
	}
	rv.barFill.Move(rv.bar.Position())
	rv.barFill.Resize(fyne.NewSize(w*frac, progressH))
}

// placeMedia places the picture box of the bubble at o.
func (rv *chatRowView) placeMedia(lay *bubbleLayout, o fyne.Position) {
	m := lay.media
	if m == nil {
		return
	}
	if m.voice {
		rv.placeVoice(lay, o)
		return
	}
	at := fyne.NewPos(o.X+m.x, o.Y+m.y)
	size := fyne.NewSize(m.w, m.h)
	rv.picBg.Move(at)
	rv.picBg.Resize(size)
	rv.pic.Move(at)
	rv.pic.Resize(size)
	ns := rv.picNote.MinSize()
	rv.picNote.Move(fyne.NewPos(at.X, at.Y+(m.h-ns.Height)/2))
	rv.picNote.Resize(fyne.NewSize(m.w, ns.Height))
	rv.placeTransferBar(at.X, at.Y+m.h-progressH, m.w)
}

// mediaAt reports whether p is on the picture box.
func (rv *chatRowView) mediaAt(p fyne.Position) bool {
	lay := rv.row.lay
	if rv.row.kind != rowMsg || lay == nil || lay.media == nil || lay.media.voice {
		return false
	}
	o := rv.bubbleOrigin(rv.Size().Width)
	m := lay.media
	x, y := p.X-o.X-m.x, p.Y-o.Y-m.y
	return x >= 0 && y >= 0 && x < m.w && y < m.h
}

// tapFile does what a tap on a file means: fetch it when it waits for the
// user, else show a picture in the viewer or open another file with the
// system's program (or save a copy, from a card's Save as…).
func (v *chatView) tapFile(m store.Message, link string) {
	a := m.Attachment
	if a == nil {
		return
	}
	if link == fileSaveLink {
		v.saveFile(m)
		return
	}
	if a.LocalPath == "" || a.State == store.AttachmentRemote {
		v.thumbs.forget(m.ID)
		svc, ctx := v.c.svc, v.c.ctx
		inBackground(v.c.do, func() (store.Attachment, error) { return svc.Fetch(ctx, m.ID, true) },
			func(got store.Attachment, err error) {
				if err != nil && !errors.Is(err, app.ErrDownloadCancelled) {
					v.c.sayFailure("Could not download " + fileName(a))(err)
				}
				v.thumbs.forget(m.ID) // a row shown meanwhile may have asked before the file was here
				v.updateMessage(m.ID)
			})
		return
	}
	if isPicture(a) && link == "" {
		v.openViewer(m)
		return
	}
	if err := fyne.CurrentApp().OpenURL(&url.URL{Scheme: "file", Path: a.LocalPath}); err != nil {
		v.c.setStatus("Could not open "+fileName(a)+": "+err.Error(), widget.DangerImportance)
	}
}

// saveFile asks where to save a copy of m's local file.
func (v *chatView) saveFile(m store.Message) {
	a := *m.Attachment
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		inBackgroundErr(v.c.do, func() error { return copyFileTo(a.LocalPath, w) }, v.c.sayFailure("Could not save "+fileName(&a)))
	}, v.c.win)
	d.SetFileName(fileName(&a))
	d.Show()
}

// copyFileTo copies the file at path to w and closes w.
func copyFileTo(path string, w fyne.URIWriteCloser) error {
	f, err := os.Open(path)
	if err != nil {
		w.Close()
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return err
}

// updateMessage lays message id's row out again (its file moved on).
func (v *chatView) updateMessage(id int64) {
	delete(v.layouts, id)
	v.changed()
}
