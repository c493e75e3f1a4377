// Chat bubbles: the geometry of a message row (its text laid out by
// textlayout.go, the time, "edited" and delivery ticks in the bubble's
// lower right corner, on the last text line when it fits) and the recycled
// row widget of the chat list, which draws a bubble, a day separator or a
// "loading" row with plain canvas objects placed from that geometry. A tap
// on a link opens it, a tap on "Retry" of a failed message sends it again
// and a tap on its reason explains it, a right-click opens the message's
// menu; text selected by pressing and dragging (selection.go) is drawn as a
// highlight behind it. A very long body shows only its beginning, with
// "Show all…" to read it whole, page by page, so no message can stall the
// window.
package views

import (
	"fmt"
	"image/color"
	"strings"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
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
	failure   string
	maxW      float32
}

func keyOf(m *store.Message, maxW float32) layoutKey {
	return layoutKey{body: m.Body, state: m.State, edited: m.Edited, retracted: m.Retracted, time: m.Time.UnixMilli(),
		failure: m.Error, maxW: maxW}
}

// bubbleLayout is the geometry of one message's bubble.
type bubbleLayout struct {
	key          layoutKey
	text         textLayout
	meta         string
	ticks        tickKind
	metaW, metaH float32
	metaX, metaY float32 // relative to the bubble
	retryX       float32 // where "Retry" starts in a failed message's meta line
	w, h         float32 // the bubble
}

// The meta line of a failed message ends in retryLabel, or in "Not sent:
// reason · Retry"; a tap on retryWord retries, before it shows the reason.
const (
	notSentLabel = "Not sent"
	retryWord    = "Retry"
	retryLabel   = notSentLabel + " · " + retryWord
)

// metaText is the time line of a message: "edited 14:05" and, for a failed
// message, the retry prompt with the short reason when one is known
// ("14:05 · Not sent: recipient unavailable · Retry").
func metaText(m *store.Message, loc *time.Location, withReason bool) string {
	s := m.Time.In(loc).Format("15:04")
	if m.Edited && !m.Retracted {
		s = "edited " + s
	}
	if m.Direction == store.Out && m.State == store.StateFailed {
		if r := shortFailure(m.Error); withReason && r != "" {
			s += " · " + notSentLabel + ": " + r + " · " + retryWord
		} else {
			s += " · " + retryLabel
		}
	}
	return s
}

// stanzaErrorPrefix starts the text of an XMPP error stored with a failed
// message ("server replied with an error: condition (text)").
const stanzaErrorPrefix = "server replied with an error: "

// failureWords say the usual RFC 6120 error conditions of a message in a
// few words.
var failureWords = map[string]string{
	"service-unavailable":     "recipient unavailable",
	"recipient-unavailable":   "recipient unavailable",
	"item-not-found":          "no such address",
	"gone":                    "address no longer used",
	"jid-malformed":           "invalid address",
	"remote-server-not-found": "their server not found",
	"remote-server-timeout":   "their server did not answer",
	"forbidden":               "not allowed",
	"not-allowed":             "not allowed",
	"not-authorized":          "not allowed",
	"policy-violation":        "refused by their server",
	"not-acceptable":          "refused by their server",
	"resource-constraint":     "server too busy",
	"internal-server-error":   "server error",
	"undefined-condition":     "server error",
	"feature-not-implemented": "not supported",
	"bad-request":             "rejected as invalid",
}

// maxFailureRunes bounds the reason shown in a meta line.
const maxFailureRunes = 32

// shortFailure is the reason a message failed, in a few words for its meta
// line ("" if none is known): the error condition in words, else the start
// of the stored text.
func shortFailure(errText string) string {
	errText = strings.TrimSpace(errText)
	if errText == "" {
		return ""
	}
	cond := strings.TrimPrefix(errText, stanzaErrorPrefix)
	if i := strings.IndexAny(cond, " ("); i >= 0 && cond != errText {
		cond = cond[:i]
	}
	if w, ok := failureWords[cond]; ok {
		return w
	}
	return clip(strings.Join(strings.Fields(strings.ReplaceAll(cond, "-", " ")), " "), maxFailureRunes)
}

// failureDetails says in full why a message failed, for the dialog a tap
// on the reason opens.
func failureDetails(errText string) string {
	errText = strings.TrimSpace(errText)
	if errText == "" {
		return "The message was not sent. The server gave no reason."
	}
	text := "The message was not sent."
	if r := shortFailure(errText); r != "" {
		text += " Reason: " + r + "."
	}
	return text + "\n\nThe server said: " + clip(errText, 2000)
}

// clip shortens s to at most n runes, ending it with "…" when cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:n-1]), " ") + "…"
}

// A bubble lays out at most bubbleMaxRunes characters of a body; a longer
// one ends in "…" and a "Show all…" line. (Servers let bodies of 256 KB
// through; laying all of one out would take a noticeable time on every
// width change.)
const (
	bubbleMaxRunes = 4000
	showAllLink    = "parley:show-all" // the url of the "Show all…" run
)

// bubbleBody is the part of body a bubble lays out, and whether it is cut.
// The cut falls on a space or line break near the limit when there is one.
func bubbleBody(body string) (string, bool) {
	if len(body) <= bubbleMaxRunes {
		return body, false // bytes bound runes
	}
	n := 0
	for i := range body {
		if n == bubbleMaxRunes {
			if j := strings.LastIndexAny(body[:i], " \n"); j > 0 && j >= i-80 {
				i = j
			}
			return strings.TrimRight(body[:i], " \n") + "…", true
		}
		n++
	}
	return body, false
}

// showAllLabel is the action under a cut body.
func showAllLabel(body string) string {
	return fmt.Sprintf("Show all (%d KB)…", (len(body)+1023)/1024)
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
	l := &bubbleLayout{key: key, ticks: ticksOf(m), meta: metaText(m, v.c.loc, true)}
	if m.Retracted {
		l.text = tm.layoutPlain([]piece{{text: retractedText, style: runItalic | runSubdued}}, textW)
	} else {
		body, cut := bubbleBody(m.Body)
		l.text = tm.layoutBlocks(app.ParseStyling(body), textW)
		if cut {
			tm.appendLine(&l.text, piece{text: showAllLabel(m.Body), style: runLink, url: showAllLink}, textW)
		}
	}
	caption := v.captionSize()
	ms := fyne.MeasureText(l.meta, caption, fyne.TextStyle{})
	if ms.Width+tickWidth(l.ticks, ms.Height) > textW && l.ticks == tickFailed {
		// No room for the reason: a tap on "Not sent" still shows it.
		l.meta = metaText(m, v.c.loc, false)
		ms = fyne.MeasureText(l.meta, caption, fyne.TextStyle{})
	}
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
	l.retryX = l.metaX
	if l.ticks == tickFailed {
		before := strings.TrimSuffix(l.meta, retryWord)
		l.retryX += fyne.MeasureText(before, caption, fyne.TextStyle{}).Width
	}
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
	sels  []*canvas.Rectangle // the selection's highlight
	texts []*canvas.Text
	meta  *canvas.Text
	tickA *canvas.Image
	tickB *canvas.Image
	lineL *canvas.Line
	lineR *canvas.Line
	label *canvas.Text

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
	rv.selGeom = v.selectionRects(&rv.msg, lay)
	for len(rv.sels) < len(rv.selGeom) {
		rv.sels = append(rv.sels, canvas.NewRectangle(color.Transparent))
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
	for i := range rv.selGeom {
		rv.sels[i].FillColor = col(theme.ColorNameSelection)
		rv.sels[i].Show()
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
		for i, r := range rv.selGeom {
			rv.sels[i].Move(fyne.NewPos(tx+r.x, ty+r.y))
			rv.sels[i].Resize(fyne.NewSize(r.w, r.h))
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
	if link := rv.linkAt(ev.Position); link == showAllLink {
		showWholeText(rv.v, rv.msg)
		return
	} else if link != "" {
		rv.v.openLink(link)
		return
	}
	switch retry, reason := rv.failedMetaAt(ev.Position); {
	case retry:
		rv.v.retry(rv.msg)
	case reason:
		showFailure(rv.v, rv.msg)
	}
}

// showFailure says why a message was not sent, with a button to retry.
func showFailure(v *chatView, m store.Message) {
	text := widget.NewLabel(failureDetails(m.Error))
	text.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustomConfirm("Message not sent", "Retry", "Close", text, func(again bool) {
		if again {
			v.retry(m)
		}
	}, v.c.win)
	d.Resize(fyne.NewSize(420, 0))
	d.Show()
}

// wholeTextPage is how much of a long message the "Show all…" dialog holds
// at once: a Fyne entry lays out its whole text on every change, which
// takes seconds for a 256 KB body.
const wholeTextPage = 8000

// textPages cuts text into pages of at most size bytes, each ending at a
// line break or space in its last quarter when there is one, else at a
// character boundary.
func textPages(text string, size int) []string {
	var pages []string
	for len(text) > size {
		cut := size
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		if j := strings.LastIndexAny(text[:cut], "\n "); j >= size*3/4 {
			cut = j + 1
		}
		pages = append(pages, text[:cut])
		text = text[cut:]
	}
	return append(pages, text)
}

// showWholeText shows a long message's text page by page, selectable, with
// a button that copies all of it.
func showWholeText(v *chatView, m store.Message) {
	text := plainText(m)
	pages := textPages(text, wholeTextPage)
	page := 0
	e := widget.NewMultiLineEntry()
	e.Wrapping = fyne.TextWrapWord
	e.OnChanged = func(s string) { // a copy to select from, not to edit
		if s != pages[page] {
			e.SetText(pages[page])
		}
	}
	where := widget.NewLabel("")
	prev := widget.NewButtonWithIcon("", theme.NavigateBackIcon(), nil)
	next := widget.NewButtonWithIcon("", theme.NavigateNextIcon(), nil)
	show := func(p int) {
		page = p
		e.SetText(pages[p])
		where.SetText(fmt.Sprintf("Part %d of %d", p+1, len(pages)))
		prev.Enable()
		next.Enable()
		if p == 0 {
			prev.Disable()
		}
		if p == len(pages)-1 {
			next.Disable()
		}
	}
	prev.OnTapped = func() { show(max(page-1, 0)) }
	next.OnTapped = func() { show(min(page+1, len(pages)-1)) }
	copyAll := widget.NewButtonWithIcon("Copy all", theme.ContentCopyIcon(), func() {
		fyne.CurrentApp().Clipboard().SetContent(text)
	})
	show(0)
	bar := container.NewHBox(prev, where, next, layout.NewSpacer(), copyAll)
	d := dialog.NewCustom("Message from "+m.Time.In(v.c.loc).Format("2 Jan 2006 15:04"), "Close",
		container.NewBorder(nil, bar, nil, nil, e), v.c.win)
	d.Resize(fyne.NewSize(560, 420))
	d.Show()
	v.c.win.Canvas().Focus(e)
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

// Cursor is a pointing hand over a link or a failed message's meta line,
// a text cursor over other text.
func (rv *chatRowView) Cursor() desktop.Cursor {
	retry, reason := rv.failedMetaAt(rv.hover)
	if rv.linkAt(rv.hover) != "" || retry || reason {
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

func (r *chatRowRenderer) Layout(size fyne.Size)        { r.rv.place(size) }
func (r *chatRowRenderer) MinSize() fyne.Size           { return fyne.NewSize(10, 10) }
func (r *chatRowRenderer) Objects() []fyne.CanvasObject { return r.rv.objs }
func (r *chatRowRenderer) Destroy()                     {}
func (r *chatRowRenderer) Refresh() {
	if r.rv.id >= 0 && r.rv.id < len(r.rv.v.rows) {
		r.rv.set(r.rv.id)
	}
}

// plainText is what "Copy" copies when nothing in the message is selected
// (and when all of it is): the body, or the retraction notice.
func plainText(m store.Message) string {
	if m.Retracted {
		return retractedText
	}
	return strings.TrimRight(m.Body, "\n")
}
