// Chat bubbles: the geometry of a message row (its text laid out by
// textlayout.go, the time, "edited" and delivery ticks in the bubble's
// lower right corner, on the last text line when it fits) and the recycled
// row widget of the chat list, which draws a bubble, a day separator or a
// "loading" row with plain canvas objects placed from that geometry. A tap
// on a link opens it, a tap on "Retry" of a failed message sends it again,
// a right-click opens the message's menu.
package views

import (
	"image/color"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/app"
	"parley/app/store"
)

// Bubble geometry.
const (
	bubblePadX    = 10
	bubblePadY    = 6
	bubbleRadius  = 10
	sideMargin    = 12  // between a bubble and the list's edge
	otherSideGap  = 56  // kept free on the other side of a bubble
	maxBubbleW    = 620 // bubbles never get wider
	groupGap      = 2   // above a message that continues a group
	newGroupGap   = 10  // above the first message of a group
	metaGap       = 10  // between the text and the time on the same line
	dayRowH       = 34
	loaderRowH    = 32
	groupInterval = 5 * time.Minute // longer pauses start a new group
)

// bubbleMaxW is the widest a bubble may be in a list of width w.
func bubbleMaxW(w float32) float32 {
	return max(min(w-2*sideMargin-otherSideGap, maxBubbleW), 4*bubblePadX)
}

// tickKind is the delivery mark of an outgoing message.
type tickKind int

const (
	tickNone      tickKind = iota // incoming
	tickQueued                    // ◷ waiting to be sent
	tickSent                      // ✓ the server has it
	tickDelivered                 // ✓✓ the peer's client has it
	tickRead                      // ✓✓ coloured: the peer has seen it
	tickFailed                    // ⚠ not sent
)

func ticksOf(m *store.Message) tickKind {
	if m.Direction != store.Out {
		return tickNone
	}
	switch m.State {
	case store.StateQueued:
		return tickQueued
	case store.StateDelivered:
		return tickDelivered
	case store.StateRead:
		return tickRead
	case store.StateFailed:
		return tickFailed
	}
	return tickSent
}

// layoutKey is what a bubble's layout depends on.
type layoutKey struct {
	body      string
	state     store.State
	edited    bool
	retracted bool
	time      int64
	maxW      float32
}

func keyOf(m *store.Message, maxW float32) layoutKey {
	return layoutKey{body: m.Body, state: m.State, edited: m.Edited, retracted: m.Retracted, time: m.Time.UnixMilli(), maxW: maxW}
}

// bubbleLayout is the geometry of one message's bubble.
type bubbleLayout struct {
	key          layoutKey
	text         textLayout
	meta         string
	ticks        tickKind
	metaW, metaH float32
	metaX, metaY float32 // relative to the bubble
	w, h         float32 // the bubble
}

// retryLabel ends the meta line of a failed message; tapping it retries.
const retryLabel = "Not sent · Retry"

// metaText is the time line of a message: "edited 14:05" and, for a failed
// message, the retry prompt.
func metaText(m *store.Message, loc *time.Location) string {
	s := m.Time.In(loc).Format("15:04")
	if m.Edited && !m.Retracted {
		s = "edited " + s
	}
	if m.Direction == store.Out && m.State == store.StateFailed {
		s += " · " + retryLabel
	}
	return s
}

// retractedText stands in for a retracted message's body.
const retractedText = "message retracted"

// layoutBubble computes the bubble of m for a list of width listW.
func (v *chatView) layoutBubble(m *store.Message, listW float32) *bubbleLayout {
	maxW := bubbleMaxW(listW)
	key := keyOf(m, maxW)
	if l, ok := v.layouts[m.ID]; ok && l.key == key {
		return l
	}
	tm := v.measurer()
	textW := maxW - 2*bubblePadX
	l := &bubbleLayout{key: key, ticks: ticksOf(m), meta: metaText(m, v.c.loc)}
	if m.Retracted {
		l.text = tm.layoutPlain([]piece{{text: retractedText, style: runItalic | runSubdued}}, textW)
	} else {
		l.text = tm.layoutBlocks(app.ParseStyling(m.Body), textW)
	}
	caption := v.captionSize()
	ms := fyne.MeasureText(l.meta, caption, fyne.TextStyle{})
	l.metaH = ms.Height
	l.metaW = ms.Width + tickWidth(l.ticks, l.metaH)
	contentW := l.text.w
	if l.text.lastW+metaGap+l.metaW <= textW {
		// On the last line, bottom-aligned with it.
		contentW = max(contentW, l.text.lastW+metaGap+l.metaW)
		l.h = 2*bubblePadY + l.text.h
		l.metaY = bubblePadY + l.text.lastY + l.text.lineH - l.metaH
	} else {
		contentW = max(contentW, l.metaW)
		l.h = 2*bubblePadY + l.text.h + l.metaH
		l.metaY = bubblePadY + l.text.h
	}
	l.w = contentW + 2*bubblePadX
	l.metaX = l.w - bubblePadX - l.metaW
	v.layouts[m.ID] = l
	return l
}

// tickWidth is the room the ticks take after the time.
func tickWidth(k tickKind, size float32) float32 {
	switch k {
	case tickNone:
		return 0
	case tickDelivered, tickRead:
		return 3 + size*1.45
	}
	return 3 + size
}

// tickIcon is the icon of a delivery mark, coloured by the theme (made
// when needed: theme icons need the app to be running).
func tickIcon(k tickKind) fyne.Resource {
	switch k {
	case tickQueued:
		return theme.NewColoredResource(theme.HistoryIcon(), theme.ColorNamePlaceHolder)
	case tickRead:
		return theme.NewColoredResource(theme.ConfirmIcon(), theme.ColorNamePrimary)
	case tickFailed:
		return theme.NewColoredResource(theme.WarningIcon(), theme.ColorNameError)
	}
	return theme.NewColoredResource(theme.ConfirmIcon(), theme.ColorNamePlaceHolder)
}

// withAlpha is c with alpha a (0-255).
func withAlpha(c color.Color, a uint8) color.Color {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	n.A = a
	return n
}

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
	texts []*canvas.Text
	meta  *canvas.Text
	tickA *canvas.Image
	tickB *canvas.Image
	lineL *canvas.Line
	lineR *canvas.Line
	label *canvas.Text

	ticks tickKind      // what the tick images show
	hover fyne.Position // the pointer, for the link cursor
	objs  []fyne.CanvasObject
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
	for _, t := range rv.texts {
		objs = append(objs, t)
	}
	rv.objs = append(objs, rv.meta, rv.tickA, rv.tickB, rv.lineL, rv.lineR, rv.label)
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
	grew := false
	for len(rv.decos) < len(lay.text.decos) {
		rv.decos = append(rv.decos, canvas.NewRectangle(color.Transparent))
		grew = true
	}
	for len(rv.texts) < len(lay.text.runs) {
		rv.texts = append(rv.texts, canvas.NewText("", color.Black))
		grew = true
	}
	if grew {
		rv.rebuildObjects()
		rv.hideAll()
		rv.bg.Show()
		if v.flashID != 0 && v.flashID == rv.msg.ID {
			rv.flash.Show()
		}
	}
	for i, d := range lay.text.decos {
		r := rv.decos[i]
		if d.kind == decoQuoteBar {
			r.FillColor = col(theme.ColorNamePrimary)
			r.CornerRadius = 1
		} else {
			r.FillColor = withAlpha(col(theme.ColorNameForeground), 0x14)
			r.CornerRadius = 4
		}
		r.Show()
	}
	size := v.measurer().size
	for i, run := range lay.text.runs {
		t := rv.texts[i]
		t.Text = run.text
		t.TextSize = size
		t.TextStyle = run.style.textStyle()
		switch {
		case run.style&runLink != 0:
			t.Color = col(theme.ColorNameHyperlink)
		case run.style&runSubdued != 0:
			t.Color = col(theme.ColorNamePlaceHolder)
		default:
			t.Color = col(theme.ColorNameForeground)
		}
		t.Show()
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
		rv.flash.Move(fyne.NewPos(2, 0))
		rv.flash.Resize(fyne.NewSize(size.Width-4, size.Height))
		o := rv.bubbleOrigin(size.Width)
		rv.bg.Move(o)
		rv.bg.Resize(fyne.NewSize(lay.w, lay.h))
		tx, ty := o.X+bubblePadX, o.Y+bubblePadY
		for i, d := range lay.text.decos {
			rv.decos[i].Move(fyne.NewPos(tx+d.x, ty+d.y))
			rv.decos[i].Resize(fyne.NewSize(d.w, d.h))
		}
		for i, run := range lay.text.runs {
			rv.texts[i].Move(fyne.NewPos(tx+run.x, ty+run.y))
			rv.texts[i].Resize(fyne.NewSize(run.w+1, lay.text.lineH))
		}
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
}

// linkAt is the link under a position in the row ("" if none).
func (rv *chatRowView) linkAt(p fyne.Position) string {
	if rv.row.kind != rowMsg || rv.row.lay == nil {
		return ""
	}
	lay := rv.row.lay
	o := rv.bubbleOrigin(rv.Size().Width)
	x, y := p.X-o.X-bubblePadX, p.Y-o.Y-bubblePadY
	for _, run := range lay.text.runs {
		if run.url != "" && x >= run.x && x < run.x+run.w && y >= run.y && y < run.y+lay.text.lineH {
			return run.url
		}
	}
	return ""
}

// onRetry reports whether p is on the retry prompt of a failed message.
func (rv *chatRowView) onRetry(p fyne.Position) bool {
	if rv.row.kind != rowMsg || rv.row.lay == nil || rv.row.lay.ticks != tickFailed {
		return false
	}
	lay := rv.row.lay
	o := rv.bubbleOrigin(rv.Size().Width)
	x, y := p.X-o.X, p.Y-o.Y
	return x >= lay.metaX && x <= lay.metaX+lay.metaW && y >= lay.metaY-2 && y <= lay.metaY+lay.metaH+2
}

// Tapped opens a link, or retries a failed message.
func (rv *chatRowView) Tapped(ev *fyne.PointEvent) {
	if link := rv.linkAt(ev.Position); link != "" {
		rv.v.openLink(link)
		return
	}
	if rv.onRetry(ev.Position) {
		rv.v.retry(rv.msg)
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
func (rv *chatRowView) MouseIn(ev *desktop.MouseEvent)    { rv.hover = ev.Position }
func (rv *chatRowView) MouseMoved(ev *desktop.MouseEvent) { rv.hover = ev.Position }
func (rv *chatRowView) MouseOut()                         { rv.hover = fyne.NewPos(-1, -1) }

// Cursor is a pointing hand over a link.
func (rv *chatRowView) Cursor() desktop.Cursor {
	if rv.linkAt(rv.hover) != "" || rv.onRetry(rv.hover) {
		return desktop.PointerCursor
	}
	return desktop.DefaultCursor
}

// CreateRenderer implements fyne.Widget.
func (rv *chatRowView) CreateRenderer() fyne.WidgetRenderer { return &chatRowRenderer{rv: rv} }

type chatRowRenderer struct{ rv *chatRowView }

func (r *chatRowRenderer) Layout(size fyne.Size)        { r.rv.place(size) }
func (r *chatRowRenderer) MinSize() fyne.Size           { return fyne.NewSize(10, 10) }
func (r *chatRowRenderer) Objects() []fyne.CanvasObject { return r.rv.objs }
func (r *chatRowRenderer) Destroy()                     {}
func (r *chatRowRenderer) Refresh() {
	if r.rv.id >= 0 && r.rv.id < len(r.rv.v.rows) {
		r.rv.set(r.rv.id)
	}
}

// plainText is what "Copy" copies: the body, or the retraction notice.
func plainText(m store.Message) string {
	if m.Retracted {
		return retractedText
	}
	return strings.TrimRight(m.Body, "\n")
}
