// The recycled row widget of the chat list: it draws a message's bubble,
// a day separator or a "loading" row with plain canvas objects placed from
// the row's geometry (bubble.go). A tap on a link opens it, a tap on
// "Retry" of a failed message sends it again and a tap on its reason
// explains it, a right-click opens the message's menu; text selected by
// pressing and dragging (selection.go) is drawn as a highlight behind it.
package views

import (
	"image/color"

	"parley/app/store"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// chatRowView is the recycled row widget of the chat list.
type chatRowView struct {
	widget.BaseWidget
	v   *chatView
	id  int
	row chatRow       // a copy of the row shown
	msg store.Message // the message shown, for a message row

	flash *canvas.Rectangle
	bg    *canvas.Rectangle
	decos []*canvas.Rectangle
	sels  []*canvas.Rectangle // the selection's highlight
	texts []*canvas.Text
	meta  *canvas.Text
	tickA *canvas.Image
	tickB *canvas.Image
	lineL *canvas.Line
	lineR *canvas.Line
	label *canvas.Text
	// A shared picture (bubble_media.go): its box, thumbnail, the note in
	// the box while there is none, and the transfer bar.
	picBg   *canvas.Rectangle
	pic     *canvas.Image
	picNote *canvas.Text
	bar     *canvas.Rectangle
	barFill *canvas.Rectangle
	// A voice message's strip (voice_bubble.go): play button, waveform,
	// time and speed.
	voiceBtn   *canvas.Image
	voiceWave  *canvas.Image
	voiceTime  *canvas.Text
	voiceSpeed *canvas.Text

	ticks   tickKind      // what the tick images show
	hover   fyne.Position // the pointer, for the link cursor
	selGeom []selRect     // where the highlight goes
	focused bool          // the row has the keyboard focus (selection.go)
	objs    []fyne.CanvasObject
}

var (
	_ fyne.Tappable          = (*chatRowView)(nil)
	_ fyne.SecondaryTappable = (*chatRowView)(nil)
	_ desktop.Hoverable      = (*chatRowView)(nil)
	_ desktop.Cursorable     = (*chatRowView)(nil)
)

func newChatRowView(v *chatView) *chatRowView {
	rv := &chatRowView{v: v, id: -1}
	rv.flash = canvas.NewRectangle(color.Transparent)
	rv.flash.CornerRadius = 4
	rv.bg = canvas.NewRectangle(color.Transparent)
	rv.bg.CornerRadius = bubbleRadius
	rv.meta = canvas.NewText("", color.Black)
	rv.tickA = canvas.NewImageFromResource(nil)
	rv.tickA.FillMode = canvas.ImageFillContain
	rv.tickB = canvas.NewImageFromResource(nil)
	rv.tickB.FillMode = canvas.ImageFillContain
	rv.lineL = canvas.NewLine(color.Transparent)
	rv.lineR = canvas.NewLine(color.Transparent)
	rv.label = canvas.NewText("", color.Black)
	rv.label.Alignment = fyne.TextAlignCenter
	rv.picBg = canvas.NewRectangle(color.Transparent)
	rv.picBg.CornerRadius = 6
	rv.pic = canvas.NewImageFromImage(nil)
	rv.pic.FillMode = canvas.ImageFillContain
	rv.pic.ScaleMode = canvas.ImageScaleSmooth
	rv.picNote = canvas.NewText("", color.Black)
	rv.picNote.Alignment = fyne.TextAlignCenter
	rv.bar = canvas.NewRectangle(color.Transparent)
	rv.barFill = canvas.NewRectangle(color.Transparent)
	rv.voiceBtn = canvas.NewImageFromResource(nil)
	rv.voiceBtn.FillMode = canvas.ImageFillContain
	rv.voiceWave = canvas.NewImageFromImage(nil)
	rv.voiceWave.FillMode = canvas.ImageFillStretch
	rv.voiceWave.ScaleMode = canvas.ImageScalePixels
	rv.voiceTime = canvas.NewText("", color.Black)
	rv.voiceSpeed = canvas.NewText("", color.Black)
	rv.rebuildObjects()
	rv.hideAll()
	rv.ExtendBaseWidget(rv)
	return rv
}

func (rv *chatRowView) rebuildObjects() {
	objs := []fyne.CanvasObject{rv.flash, rv.bg}
	for _, d := range rv.decos {
		objs = append(objs, d)
	}
	for _, r := range rv.sels {
		objs = append(objs, r)
	}
	for _, t := range rv.texts {
		objs = append(objs, t)
	}
	rv.objs = append(objs, rv.meta, rv.tickA, rv.tickB, rv.lineL, rv.lineR, rv.label,
		rv.picBg, rv.pic, rv.picNote, rv.bar, rv.barFill, rv.voiceBtn, rv.voiceWave, rv.voiceTime, rv.voiceSpeed)
}

func (rv *chatRowView) hideAll() {
	for _, o := range rv.objs {
		o.Hide()
	}
}

// set shows row id of the chat list.
func (rv *chatRowView) set(id int) {
	v := rv.v
	rv.id = id
	rv.hideAll()
	rv.selGeom = rv.selGeom[:0]
	if id < 0 || id >= len(v.rows) {
		return
	}
	rv.row = v.rows[id]
	th := rv.Theme()
	variant := fyne.CurrentApp().Settings().ThemeVariant()
	col := func(n fyne.ThemeColorName) color.Color { return th.Color(n, variant) }
	caption := v.captionSize()
	switch rv.row.kind {
	case rowDay, rowOlder, rowNewer:
		rv.label.TextSize = caption
		rv.label.Color = col(theme.ColorNamePlaceHolder)
		rv.label.TextStyle = fyne.TextStyle{Bold: rv.row.kind == rowDay}
		switch rv.row.kind {
		case rowDay:
			rv.label.Text = v.dayLabel(rv.row.day)
			rv.lineL.StrokeColor = col(theme.ColorNameSeparator)
			rv.lineR.StrokeColor = rv.lineL.StrokeColor
			rv.lineL.StrokeWidth, rv.lineR.StrokeWidth = 1, 1
			rv.lineL.Show()
			rv.lineR.Show()
		case rowOlder:
			rv.label.Text = "Loading older messages…"
		default:
			rv.label.Text = "Loading newer messages…"
		}
		rv.label.Show()
		rv.label.Refresh()
	case rowMsg:
		rv.msg = v.msgs[rv.row.msg]
		rv.setBubble(col, caption)
	}
	rv.place(rv.Size())
	for _, o := range rv.objs {
		if o.Visible() {
			o.Refresh()
		}
	}
}

func (rv *chatRowView) setBubble(col func(fyne.ThemeColorName) color.Color, caption float32) {
	lay := rv.row.lay
	if lay == nil {
		return
	}
	rv.selGeom = rv.v.selectionRects(&rv.msg, lay)
	rv.ensureObjects(len(lay.text.decos), len(lay.text.runs), len(rv.selGeom))
	rv.setFrame(lay, col, caption)
	rv.setText(lay, col)
	rv.setMedia(lay, col, caption)
}

// ensureObjects grows the row's canvas objects to hold decos decorations,
// runs text runs and sels selection rectangles (all hidden).
func (rv *chatRowView) ensureObjects(decos, runs, sels int) {
	grew := false
	for len(rv.decos) < decos {
		rv.decos = append(rv.decos, canvas.NewRectangle(color.Transparent))
		grew = true
	}
	for len(rv.texts) < runs {
		rv.texts = append(rv.texts, canvas.NewText("", color.Black))
		grew = true
	}
	for len(rv.sels) < sels {
		rv.sels = append(rv.sels, canvas.NewRectangle(color.Transparent))
		grew = true
	}
	if grew {
		rv.rebuildObjects()
		rv.hideAll()
	}
}

// setFrame shows what every bubble has, whatever it holds: the background
// (and the flash of a search result), the meta line and the ticks.
func (rv *chatRowView) setFrame(lay *bubbleLayout, col func(fyne.ThemeColorName) color.Color, caption float32) {
	v := rv.v
	if rv.msg.Direction == store.Out {
		rv.bg.FillColor = withAlpha(col(theme.ColorNamePrimary), 0x40)
	} else {
		rv.bg.FillColor = withAlpha(col(theme.ColorNameForeground), 0x16)
	}
	rv.bg.Show()
	if v.flashID != 0 && v.flashID == rv.msg.ID {
		rv.flash.FillColor = col(theme.ColorNameSelection)
		rv.flash.Show()
	}
	rv.meta.Text = lay.meta
	rv.meta.TextSize = caption
	rv.meta.Color = col(theme.ColorNamePlaceHolder)
	if lay.ticks == tickFailed {
		rv.meta.Color = col(theme.ColorNameError)
	}
	rv.meta.Show()
	if lay.ticks != tickNone {
		if rv.ticks != lay.ticks {
			rv.ticks = lay.ticks
			rv.tickA.Resource = tickIcon(lay.ticks)
			rv.tickB.Resource = rv.tickA.Resource
		}
		rv.tickA.Show()
	}
	if lay.ticks == tickDelivered || lay.ticks == tickRead {
		rv.tickB.Show()
	}
}

// bubbleOrigin is the top left corner of the bubble in a row of width w.
func (rv *chatRowView) bubbleOrigin(w float32) fyne.Position {
	lay := rv.row.lay
	x := float32(sideMargin)
	if rv.msg.Direction == store.Out {
		x = w - sideMargin - lay.w
	}
	return fyne.NewPos(x, rv.row.top)
}

// place positions the objects for a row of the given size.
func (rv *chatRowView) place(size fyne.Size) {
	switch rv.row.kind {
	case rowDay, rowOlder, rowNewer:
		ls := rv.label.MinSize()
		rv.label.Move(fyne.NewPos(0, (size.Height-ls.Height)/2))
		rv.label.Resize(fyne.NewSize(size.Width, ls.Height))
		mid := size.Height / 2
		half := ls.Width/2 + 10
		rv.lineL.Position1 = fyne.NewPos(sideMargin, mid)
		rv.lineL.Position2 = fyne.NewPos(max(size.Width/2-half, sideMargin), mid)
		rv.lineR.Position1 = fyne.NewPos(min(size.Width/2+half, size.Width-sideMargin), mid)
		rv.lineR.Position2 = fyne.NewPos(size.Width-sideMargin, mid)
	case rowMsg:
		lay := rv.row.lay
		if lay == nil {
			return
		}
		o := rv.bubbleOrigin(size.Width)
		rv.placeFrame(lay, o, size)
		rv.placeText(lay, fyne.NewPos(o.X+bubblePadX, o.Y+bubblePadY+lay.textY))
		rv.placeMedia(lay, o)
	}
}

// placeFrame places the background, the meta line and the ticks of the
// bubble at o in a row of the given size.
func (rv *chatRowView) placeFrame(lay *bubbleLayout, o fyne.Position, size fyne.Size) {
	rv.flash.Move(fyne.NewPos(2, 0))
	rv.flash.Resize(fyne.NewSize(size.Width-4, size.Height))
	rv.bg.Move(o)
	rv.bg.Resize(fyne.NewSize(lay.w, lay.h))
	mx, my := o.X+lay.metaX, o.Y+lay.metaY
	tw := tickWidth(lay.ticks, lay.metaH)
	rv.meta.Move(fyne.NewPos(mx, my))
	rv.meta.Resize(fyne.NewSize(lay.metaW-tw+1, lay.metaH))
	if lay.ticks != tickNone {
		ts := fyne.NewSquareSize(lay.metaH)
		x := mx + lay.metaW - tw + 3
		rv.tickA.Move(fyne.NewPos(x, my))
		rv.tickA.Resize(ts)
		rv.tickB.Move(fyne.NewPos(x+lay.metaH*0.45, my))
		rv.tickB.Resize(ts)
	}
}

// failedMetaAt says where p is on the meta line of a failed message:
// on "Retry" (retry), before it, on the time and reason (reason), or
// neither.
func (rv *chatRowView) failedMetaAt(p fyne.Position) (retry, reason bool) {
	if rv.row.kind != rowMsg || rv.row.lay == nil || rv.row.lay.ticks != tickFailed {
		return false, false
	}
	lay := rv.row.lay
	o := rv.bubbleOrigin(rv.Size().Width)
	x, y := p.X-o.X, p.Y-o.Y
	if x < lay.metaX || x > lay.metaX+lay.metaW || y < lay.metaY-2 || y > lay.metaY+lay.metaH+2 {
		return false, false
	}
	return x >= lay.retryX, x < lay.retryX
}

// Tapped opens a link (or a long message whole), retries a failed message,
// or says why it failed. The tap Fyne sends after the third press of a
// triple click (or the first of a quick press and drag) is not one.
func (rv *chatRowView) Tapped(ev *fyne.PointEvent) {
	if rv.v.sel.clicks >= 2 {
		return
	}
	switch link := rv.linkAt(ev.Position); link {
	case showAllLink:
		showWholeText(rv.v, rv.msg)
		return
	case fileDownloadLink, fileOpenLink, fileSaveLink:
		rv.v.tapFile(rv.msg, link)
		return
	case "":
	default:
		rv.v.openLink(link)
		return
	}
	if rv.mediaAt(ev.Position) {
		rv.v.tapFile(rv.msg, "")
		return
	}
	if part, frac := rv.voiceAt(ev.Position); part != voiceNone {
		rv.v.tapVoice(rv.msg, part, frac)
		return
	}
	switch retry, reason := rv.failedMetaAt(ev.Position); {
	case retry:
		rv.v.retry(rv.msg)
	case reason:
		showFailure(rv.v, rv.msg)
	}
}

// TappedSecondary opens the message's menu.
func (rv *chatRowView) TappedSecondary(ev *fyne.PointEvent) {
	if rv.row.kind == rowMsg {
		rv.v.showMenu(rv.msg, ev.AbsolutePosition)
	}
}

// MouseIn, MouseMoved and MouseOut follow the pointer for the cursor (and
// keep the list from highlighting rows under it).
func (rv *chatRowView) MouseIn(ev *desktop.MouseEvent) { rv.hover = ev.Position }

func (rv *chatRowView) MouseMoved(ev *desktop.MouseEvent) { rv.hover = ev.Position }

func (rv *chatRowView) MouseOut() { rv.hover = fyne.NewPos(-1, -1) }

// Cursor is a pointing hand over a link or a failed message's meta line,
// a text cursor over other text.
func (rv *chatRowView) Cursor() desktop.Cursor {
	retry, reason := rv.failedMetaAt(rv.hover)
	if part, _ := rv.voiceAt(rv.hover); rv.linkAt(rv.hover) != "" || retry || reason || rv.mediaAt(rv.hover) || part != voiceNone {
		return desktop.PointerCursor
	}
	if rv.overText(rv.hover) {
		return desktop.TextCursor
	}
	return desktop.DefaultCursor
}

// CreateRenderer implements fyne.Widget.
func (rv *chatRowView) CreateRenderer() fyne.WidgetRenderer { return &chatRowRenderer{rv: rv} }

type chatRowRenderer struct{ rv *chatRowView }

func (r *chatRowRenderer) Layout(size fyne.Size) { r.rv.place(size) }

func (r *chatRowRenderer) MinSize() fyne.Size { return fyne.NewSize(10, 10) }

func (r *chatRowRenderer) Objects() []fyne.CanvasObject { return r.rv.objs }

func (r *chatRowRenderer) Destroy() {}

func (r *chatRowRenderer) Refresh() {
	if r.rv.id >= 0 && r.rv.id < len(r.rv.v.rows) {
		r.rv.set(r.rv.id)
	}
}
