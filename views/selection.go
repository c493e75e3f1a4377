// Selecting and copying the text of chat bubbles in place. Pressing and
// dragging in a bubble selects its text from the press to the pointer, to
// the character (within one message, across its lines); a double-click
// selects a word, a triple-click the whole message. Ctrl+C, and the
// message menu's Copy, copy the selection: the characters shown (styling
// directives included, quotation markers not, tabs as tabs), or the whole
// body when all of the message is selected. The selection belongs to the
// chat view and is keyed by message id, so the recycled rows of the list
// draw it only on the message it was made in, wherever that message shows.
//
// Focus: a press in the chat list gives the keyboard focus to the row
// pressed, so Ctrl+C reaches it (Fyne takes the focus away from the
// composer on a press anyway). The selection shows while the list has the
// focus: it hides when the window loses it and comes back with it, and is
// dropped once the focus has gone to another widget. Typing while the list
// has the focus goes to the composer, which takes the focus back: a click
// in a bubble loses no typed text. Escape drops the selection and returns
// to the composer too.
package views

import (
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"parley/app/store"
)

// clickSlop is how far (in each direction) the pointer may move between
// the presses of a double or triple click, and during a press that still
// counts as a click.
const clickSlop = 5

// textSelection is the selected text of one message.
type textSelection struct {
	id            int64         // the message; 0: nothing is selected
	msg           store.Message // the message as it was when selected
	text          string        // the bubble text the offsets index
	anchor, caret int           // where the selection began and where it ends now (bytes in text)
	blurred       bool          // the list lost the keyboard focus: neither shown nor copied
}

// selState is the chat view's selection and the pointer gesture making it.
type selState struct {
	textSelection

	// A drag: whether one runs, the message it selects in (0: none), the
	// list it began in, and its first and last points in the row.
	dragging         bool
	dragID           int64
	dragList         *widget.List
	dragFrom, dragTo fyne.Position

	// Presses of the primary button in quick succession at one place.
	clicks   int
	lastDown time.Time
	downAt   fyne.Position
	now      func() time.Time // the clock of multi-clicks (nil: time.Now)
}

func (s *selState) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

// dropSelection forgets the selection without redrawing (another chat).
func (v *chatView) dropSelection() { v.sel.textSelection = textSelection{} }

// setSelection selects text[anchor:caret] (either way round) of message m
// and redraws the rows concerned.
func (v *chatView) setSelection(m *store.Message, text string, anchor, caret int) {
	old := v.sel.id
	v.sel.textSelection = textSelection{id: m.ID, msg: *m, text: text, anchor: anchor, caret: caret}
	if old != 0 && old != m.ID {
		v.refreshMessage(old)
	}
	v.refreshMessage(m.ID)
}

// clearSelection drops the selection and redraws its row.
func (v *chatView) clearSelection() {
	if id := v.sel.id; id != 0 {
		v.dropSelection()
		v.refreshMessage(id)
	}
}

// refreshMessage redraws the row of message id if it is on screen.
func (v *chatView) refreshMessage(id int64) {
	if r, ok := v.rowByID[id]; ok && v.list != nil && r < len(v.rows) {
		v.list.RefreshItem(r)
	}
}

// selectionIn is the part of lay's text selected and shown (a < b), if
// any: the selection is in message m, made on the text lay shows, and the
// list has the focus.
func (v *chatView) selectionIn(m *store.Message, lay *bubbleLayout) (a, b int, ok bool) {
	s := &v.sel
	if s.id == 0 || s.id != m.ID || s.blurred || lay == nil || lay.text.text != s.text || s.anchor == s.caret {
		return 0, 0, false
	}
	return min(s.anchor, s.caret), max(s.anchor, s.caret), true
}

// selectedText is what copying the selection copies ("", false if nothing
// is selected): the characters selected, or the body of the message when
// all of it is selected. A selection whose message has changed since
// (corrected, retracted) is dropped.
func (v *chatView) selectedText() (string, bool) {
	s := &v.sel
	if s.id == 0 || s.blurred || s.anchor == s.caret {
		return "", false
	}
	if l, ok := v.layouts[s.id]; ok && l.text.text != s.text {
		v.clearSelection()
		return "", false
	}
	a, b := min(s.anchor, s.caret), max(s.anchor, s.caret)
	if a == 0 && b == len(s.text) {
		return plainText(s.msg), true
	}
	return copyText(s.text, tabsOf(v.layouts[s.id]), a, b), true
}

func tabsOf(l *bubbleLayout) []int {
	if l == nil {
		return nil
	}
	return l.text.tabs
}

// copyText is text[a:b] as copied: the spaces that stand for a tab whole
// within it become the tab again.
func copyText(text string, tabs []int, a, b int) string {
	var out strings.Builder
	at := a
	for _, t := range tabs {
		if t < a || t+len(tabSpaces) > b {
			continue
		}
		out.WriteString(text[at:t])
		out.WriteByte('\t')
		at = t + len(tabSpaces)
	}
	out.WriteString(text[at:b])
	return out.String()
}

// copySelection puts the selection on the clipboard; false if there is none.
func (v *chatView) copySelection() bool {
	text, ok := v.selectedText()
	if ok {
		fyne.CurrentApp().Clipboard().SetContent(text)
	}
	return ok
}

// copyMessage is the Copy of m's menu: the selection when it is in m, the
// whole text otherwise.
func (v *chatView) copyMessage(m store.Message) {
	if v.sel.id == m.ID && v.copySelection() {
		return
	}
	fyne.CurrentApp().Clipboard().SetContent(plainText(m))
}

// listFocused reports whether a row of this chat list has the keyboard focus.
func (v *chatView) listFocused() bool {
	rv, ok := v.c.win.Canvas().Focused().(*chatRowView)
	return ok && rv.v == v
}

// toComposer gives the composer the keyboard focus and then, if fn is not
// nil, the key typed in the list.
func (v *chatView) toComposer(fn func(c *composer)) {
	c := v.c.composer
	if c == nil {
		return
	}
	v.c.win.Canvas().Focus(c)
	if fn != nil {
		fn(c)
	}
}

// selRect is a rectangle of the selection's highlight, relative to the
// text's top left corner.
type selRect struct{ x, y, w, h float32 }

// selectionRects is the highlight of the selection in message m's bubble
// (nil if none): a rectangle per line, behind the characters selected, and
// a space wide after them where the selection goes on past the line's end.
func (v *chatView) selectionRects(m *store.Message, lay *bubbleLayout) []selRect {
	a, b, ok := v.selectionIn(m, lay)
	if !ok {
		return nil
	}
	tm := v.measurer()
	l := &lay.text
	var out []selRect
	for i := range l.lines {
		ln := &l.lines[i]
		if a > ln.end || b < ln.start {
			continue
		}
		x1 := tm.xAt(l, ln, max(a, ln.start))
		x2 := tm.xAt(l, ln, min(b, ln.end))
		if b > ln.end {
			x2 += tm.spaceWidth(0)
		}
		if x2 > x1 {
			out = append(out, selRect{x: x1, y: ln.y, w: x2 - x1, h: l.lineH})
		}
	}
	return out
}

// Keyboard focus and input of a row (fyne.Focusable, fyne.Shortcutable,
// fyne.Disableable): the row stands for the whole chat list.
var (
	_ fyne.Focusable      = (*chatRowView)(nil)
	_ fyne.Shortcutable   = (*chatRowView)(nil)
	_ fyne.Disableable    = (*chatRowView)(nil)
	_ fyne.Draggable      = (*chatRowView)(nil)
	_ fyne.DoubleTappable = (*chatRowView)(nil)
	_ desktop.Mouseable   = (*chatRowView)(nil)
)

// focus gives the row the keyboard focus.
func (rv *chatRowView) focus() {
	if c := rv.v.c.win.Canvas(); c.Focused() != rv {
		c.Focus(rv)
	}
}

// FocusGained shows the selection again (the window got the focus back).
func (rv *chatRowView) FocusGained() {
	rv.focused = true
	if s := &rv.v.sel; s.id != 0 && s.blurred {
		s.blurred = false
		rv.v.refreshMessage(s.id)
	}
}

// FocusLost hides the selection: the focus went to another widget (and the
// next press in the list drops it), or the window lost it.
func (rv *chatRowView) FocusLost() {
	rv.focused = false
	if s := &rv.v.sel; s.id != 0 && !s.blurred {
		s.blurred = true
		rv.v.refreshMessage(s.id)
	}
}

// Disabled is true while the row does not have the keyboard focus: Fyne
// then leaves it out of the Tab order (a row is no place to Tab to), yet
// still lets a press focus it, as it does for a selectable label; with the
// focus it takes every shortcut.
func (rv *chatRowView) Disabled() bool { return !rv.focused }

// Enable and Disable do nothing: see Disabled.
func (rv *chatRowView) Enable()  {}
func (rv *chatRowView) Disable() {}

// SelectedText is the text copying would copy ("" if nothing is selected).
func (rv *chatRowView) SelectedText() string {
	text, _ := rv.v.selectedText()
	return text
}

// TypedRune types r into the composer, which takes the focus back.
func (rv *chatRowView) TypedRune(r rune) {
	rv.v.toComposer(func(c *composer) { c.TypedRune(r) })
}

// TypedKey: Escape drops the selection and returns to the composer;
// Backspace and Delete go to the composer (keys that edit text); other keys
// do nothing here.
func (rv *chatRowView) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyEscape:
		rv.v.clearSelection()
		rv.v.toComposer(nil)
	case fyne.KeyBackspace, fyne.KeyDelete:
		rv.v.toComposer(func(c *composer) { c.TypedKey(ev) })
	}
}

// TypedShortcut: Copy (and Cut) copy the selection, Select All selects the
// whole message (the selected one, else the row's), Paste goes to the
// composer.
func (rv *chatRowView) TypedShortcut(sc fyne.Shortcut) {
	v := rv.v
	switch sc := sc.(type) {
	case *fyne.ShortcutCopy, *fyne.ShortcutCut:
		v.copySelection()
	case *fyne.ShortcutSelectAll:
		if l, ok := v.layouts[v.sel.id]; ok && v.sel.id != 0 && l.text.text == v.sel.text {
			v.setSelection(&v.sel.msg, l.text.text, 0, len(l.text.text))
		} else if rv.row.kind == rowMsg && rv.row.lay != nil {
			rv.selectAll()
		}
	case *fyne.ShortcutPaste:
		p := *sc
		if p.Clipboard == nil {
			p.Clipboard = fyne.CurrentApp().Clipboard()
		}
		v.toComposer(func(c *composer) { c.TypedShortcut(&p) })
	}
}

// selectAll selects the whole text of the row's message.
func (rv *chatRowView) selectAll() {
	if rv.row.kind != rowMsg || rv.row.lay == nil {
		return
	}
	text := rv.row.lay.text.text
	rv.v.setSelection(&rv.msg, text, 0, len(text))
}

// textOrigin is the top left corner of the row's text.
func (rv *chatRowView) textOrigin() fyne.Position {
	textY := float32(0)
	if rv.row.lay != nil {
		textY = rv.row.lay.textY // under a picture
	}
	return rv.bubbleOrigin(rv.Size().Width).AddXY(bubblePadX, bubblePadY+textY)
}

// inBubble reports whether p is on the row's bubble.
func (rv *chatRowView) inBubble(p fyne.Position) bool {
	if rv.row.kind != rowMsg || rv.row.lay == nil {
		return false
	}
	o := rv.bubbleOrigin(rv.Size().Width)
	return p.X >= o.X && p.Y >= o.Y && p.X < o.X+rv.row.lay.w && p.Y < o.Y+rv.row.lay.h
}

// overText reports whether p is on the row's text.
func (rv *chatRowView) overText(p fyne.Position) bool {
	if rv.row.kind != rowMsg || rv.row.lay == nil {
		return false
	}
	o, t := rv.textOrigin(), &rv.row.lay.text
	return p.X >= o.X && p.Y >= o.Y && p.X < o.X+t.w && p.Y < o.Y+t.h
}

// hitAt is hit for a point of the row.
func (rv *chatRowView) hitAt(p fyne.Position) (boundary, char int) {
	o := rv.textOrigin()
	return rv.v.measurer().hit(&rv.row.lay.text, p.X-o.X, p.Y-o.Y)
}

// eventPos is where a pointer event is in the row as it is now placed (the
// list may have scrolled during a drag); events without an absolute
// position (the test driver's) are taken as they come.
func (rv *chatRowView) eventPos(ev fyne.PointEvent) fyne.Position {
	if ev.AbsolutePosition.IsZero() {
		return ev.Position
	}
	return ev.AbsolutePosition.Subtract(fyne.CurrentApp().Driver().AbsolutePositionForObject(rv))
}

func near(a, b fyne.Position) bool {
	d := a.Subtract(b)
	return max(d.X, -d.X) <= clickSlop && max(d.Y, -d.Y) <= clickSlop
}

// MouseDown: a press gives the list the keyboard focus. A primary click
// drops the selection (a click elsewhere), unless it is the second press
// of a double-click; the third press of a triple-click selects the whole
// message. A selection hidden since the focus went to another widget is
// dropped by any press.
func (rv *chatRowView) MouseDown(ev *desktop.MouseEvent) {
	v := rv.v
	s := &v.sel
	if s.id != 0 && s.blurred && !v.listFocused() {
		v.clearSelection()
	}
	if ev.Button == desktop.MouseButtonPrimary {
		now := s.clock()
		if s.clicks > 0 && now.Sub(s.lastDown) <= fyne.CurrentApp().Driver().DoubleTapDelay() && near(ev.AbsolutePosition, s.downAt) {
			s.clicks++
		} else {
			s.clicks = 1
		}
		s.lastDown, s.downAt = now, ev.AbsolutePosition
		switch {
		case s.clicks == 1:
			v.clearSelection()
		case s.clicks >= 3 && rv.inBubble(ev.Position):
			rv.selectAll()
		}
	}
	rv.focus()
}

// MouseUp implements desktop.Mouseable.
func (rv *chatRowView) MouseUp(*desktop.MouseEvent) {}

// DoubleTapped selects the word under the pointer; the second double-click
// of a quick quadruple click keeps the whole message selected.
func (rv *chatRowView) DoubleTapped(ev *fyne.PointEvent) {
	if !rv.inBubble(ev.Position) {
		return
	}
	if s := &rv.v.sel; s.clicks >= 3 && s.clock().Sub(s.lastDown) <= fyne.CurrentApp().Driver().DoubleTapDelay() {
		rv.selectAll()
	} else {
		_, char := rv.hitAt(ev.Position)
		text := rv.row.lay.text.text
		a, b := wordAround(text, char)
		rv.v.setSelection(&rv.msg, text, a, b)
	}
	rv.focus()
}

// Dragged selects from where the drag began (on the bubble) to the
// pointer. A drag that began off the bubbles selects nothing, and one
// whose row has been given another message meanwhile stops selecting.
func (rv *chatRowView) Dragged(ev *fyne.DragEvent) {
	v := rv.v
	s := &v.sel
	p := rv.eventPos(ev.PointEvent)
	if !s.dragging && rv.dragVoice(p.Subtract(ev.Dragged), p, true) {
		return
	}
	if v.voice.drag != 0 {
		rv.dragVoice(p, p, false)
		return
	}
	if !s.dragging {
		from := p.Subtract(ev.Dragged)
		s.dragging, s.dragID, s.dragList, s.dragFrom = true, 0, v.list, from
		if rv.inBubble(from) {
			s.dragID = rv.msg.ID
			at, _ := rv.hitAt(from)
			v.setSelection(&rv.msg, rv.row.lay.text.text, at, at)
			rv.focus()
		}
	}
	s.dragTo = p
	if s.dragID == 0 || s.id != s.dragID || rv.row.kind != rowMsg || rv.msg.ID != s.dragID || v.list != s.dragList ||
		rv.row.lay == nil || rv.row.lay.text.text != s.text {
		return
	}
	if caret, _ := rv.hitAt(p); caret != s.caret {
		s.caret = caret
		rv.set(rv.id)
	}
}

// DragEnd ends a drag. The list takes the keyboard focus back: released
// over another row or widget, Fyne has just taken it away. A drag that
// selected nothing and hardly moved was a click (Fyne sends no tap once the
// pointer has moved two pixels): it taps.
func (rv *chatRowView) DragEnd() {
	v := rv.v
	s := &v.sel
	v.voice.drag = 0
	if !s.dragging {
		return
	}
	s.dragging = false
	rv.focus()
	if s.dragID == 0 || s.id != s.dragID || s.anchor != s.caret {
		return
	}
	v.clearSelection()
	if near(s.dragTo, s.dragFrom) && s.clicks <= 1 && rv.row.kind == rowMsg && rv.msg.ID == s.dragID {
		rv.Tapped(&fyne.PointEvent{Position: s.dragFrom})
	}
}
