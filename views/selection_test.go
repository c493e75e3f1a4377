// Tests of selecting and copying bubble text in place (selection.go): the
// layout's text and its map to runs and lines, word bounds, and, in the
// chats tab over a real history, pointer gestures sent the way Fyne's
// desktop driver sends them (press, drags, release; double and triple
// clicks), Ctrl+C and the menu's Copy, the highlight, where the keyboard
// focus goes, link taps, and rows recycled by the list.
package views

import (
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"

	"parley/app"
)

func TestLayoutTextMapsRuns(t *testing.T) {
	test.NewTempApp(t)
	tm := newTextMeasurer(14)
	for _, tc := range []struct {
		body, text string
		tabs       int
	}{
		{"the quick brown fox jumps over the lazy dog and keeps running far away", "", 0},
		{"> I'll bring the laptop.\nGreat! The plan is at https://example.org/plan", "I'll bring the laptop.\nGreat! The plan is at https://example.org/plan", 0},
		{"`code span`, *bold _and italic_* and\n\na second line  ", "", 0},
		{"```\nfunc main() {\n\tprintln(1)\t// x\n}\n```", "```\nfunc main() {\n    println(1)    // x\n}\n```", 2},
		{"a " + strings.Repeat("x", 80) + " b", "", 0},
		{"", "", 0},
	} {
		want := tc.text
		if want == "" {
			want = tc.body
		}
		l := tm.layoutBlocks(app.ParseStyling(tc.body), 100)
		if l.text != want {
			t.Errorf("%q: text %q, want %q", tc.body, l.text, want)
		}
		if len(l.tabs) != tc.tabs {
			t.Errorf("%q: tabs at %v, want %d", tc.body, l.tabs, tc.tabs)
		}
		for _, r := range l.runs {
			if r.at < 0 || r.at+len(r.text) > len(l.text) || l.text[r.at:r.at+len(r.text)] != r.text {
				t.Errorf("%q: run %+v is not its text's", tc.body, r)
			}
		}
		// Lines cover the runs in order; between them only what a wrap
		// dropped (spaces) or a line break.
		prev := 0
		for i, ln := range l.lines {
			if ln.y != float32(i)*tm.lineH || ln.start < prev || ln.end < ln.start {
				t.Errorf("%q: line %d %+v after %d", tc.body, i, ln, prev)
			}
			if gap := l.text[prev:ln.start]; strings.Trim(gap, " \n") != "" {
				t.Errorf("%q: %q between lines", tc.body, gap)
			}
			var drawn strings.Builder
			for _, r := range l.runs[ln.r0:ln.r1] {
				drawn.WriteString(r.text)
			}
			if drawn.String() != l.text[ln.start:ln.end] {
				t.Errorf("%q: line %d draws %q, its text is %q", tc.body, i, drawn.String(), l.text[ln.start:ln.end])
			}
			prev = ln.end
		}
		if len(l.lines) != int(l.h/tm.lineH+0.5) || strings.Trim(l.text[prev:], " \n") != "" {
			t.Errorf("%q: %d lines for height %v, text after the last %q", tc.body, len(l.lines), l.h, l.text[prev:])
		}
		// Each boundary maps to a point and back.
		for _, ln := range l.lines {
			for off := ln.start; off <= ln.end; off++ {
				x := tm.xAt(&l, &ln, off)
				if b, _ := tm.hit(&l, x+0.5, ln.y+tm.lineH/2); b != off {
					t.Errorf("%q: boundary %d drawn at %v is hit as %d", tc.body, off, x, b)
				}
			}
		}
	}
	// Copying gives the tabs back, where whole.
	l := tm.layoutBlocks(app.ParseStyling("```\n\tx\t// y\n```"), 300)
	if got := copyText(l.text, l.tabs, 0, len(l.text)); got != "```\n\tx\t// y\n```" {
		t.Errorf("copied %q", got)
	}
	if got := copyText(l.text, l.tabs, 6, len(l.text)-4); got != "  x\t// y" {
		t.Errorf("copied from the middle of a tab: %q", got)
	}
	// "Show all…" is drawn but not part of the text.
	l = tm.layoutBlocks(app.ParseStyling("start"), 300)
	tm.appendLine(&l, piece{text: "Show all (5 KB)…", style: runLink, url: showAllLink}, 300)
	if l.text != "start" || len(l.lines) != 1 || l.runs[len(l.runs)-1].at != -1 {
		t.Errorf("with Show all: text %q, %d lines, last run %+v", l.text, len(l.lines), l.runs[len(l.runs)-1])
	}
	if b, _ := tm.hit(&l, 5, l.h-2); b != len("start") {
		t.Errorf("a point on Show all is at %d", b)
	}
}

func TestWordAround(t *testing.T) {
	text := "Hi *meetup* don't  go\nnext"
	for _, tc := range []struct {
		at   string // the text from the character hit
		want string
	}{
		{"eetup", "meetup"}, {"*meetup", "*"}, {"on't", "don't"}, {"'t", "don't"}, {" go", "  "},
		{"Hi", "Hi"}, {"\nnext", ""}, {"ext", "next"},
	} {
		i := strings.Index(text, tc.at)
		a, b := wordAround(text, i)
		if text[a:b] != tc.want {
			t.Errorf("at %q: %q, want %q", tc.at, text[a:b], tc.want)
		}
	}
}

// urlApp is the test app, current, recording the links it is asked to open.
type urlApp struct {
	fyne.App
	mu     sync.Mutex
	opened []string
}

func (a *urlApp) OpenURL(u *url.URL) error {
	a.mu.Lock()
	a.opened = append(a.opened, u.String())
	a.mu.Unlock()
	return nil
}

func (a *urlApp) links() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.opened...)
}

// pointer sends a row's pointer events the way Fyne's desktop driver does,
// at points of the row; the clock of multi-clicks is its own.
type pointer struct {
	t   *testing.T
	h   *chatsHarness
	now time.Time
}

func newPointer(h *chatsHarness) *pointer {
	p := &pointer{t: h.t, h: h, now: time.Unix(1000, 0)}
	h.ui.do(func() { h.v.chat.sel.now = func() time.Time { return p.now } })
	return p
}

// abs is a point of rv on the canvas.
func abs(rv *chatRowView, at fyne.Position) fyne.Position {
	return fyne.CurrentApp().Driver().AbsolutePositionForObject(rv).Add(at)
}

func (p *pointer) down(rv *chatRowView, at fyne.Position, button desktop.MouseButton) {
	ev := &desktop.MouseEvent{Button: button}
	ev.Position, ev.AbsolutePosition = at, abs(rv, at)
	rv.MouseDown(ev)
}

// click is a press and release without moving, and the tap Fyne sends for
// it (after the double-tap delay, unless a second click made it a double).
func (p *pointer) click(rv *chatRowView, at fyne.Position) {
	p.now = p.now.Add(time.Second)
	p.down(rv, at, desktop.MouseButtonPrimary)
	rv.MouseUp(&desktop.MouseEvent{Button: desktop.MouseButtonPrimary})
	rv.Tapped(&fyne.PointEvent{Position: at, AbsolutePosition: abs(rv, at)})
}

// multiClick is n quick clicks at one point: the driver reports a double
// tap after the second and a single tap after the third.
func (p *pointer) multiClick(rv *chatRowView, at fyne.Position, n int) {
	p.now = p.now.Add(time.Second)
	for i := 1; i <= n; i++ {
		p.now = p.now.Add(50 * time.Millisecond)
		p.down(rv, at, desktop.MouseButtonPrimary)
		rv.MouseUp(&desktop.MouseEvent{Button: desktop.MouseButtonPrimary})
		switch i {
		case 2, 4:
			rv.DoubleTapped(&fyne.PointEvent{Position: at, AbsolutePosition: abs(rv, at)})
		}
	}
	if n%2 == 1 {
		rv.Tapped(&fyne.PointEvent{Position: at, AbsolutePosition: abs(rv, at)})
	}
}

// drag presses at from, moves to to in steps and releases there.
func (p *pointer) drag(rv *chatRowView, from, to fyne.Position) { p.dragOut(rv, from, to, false) }

// dragOut is drag, released over another widget when elsewhere is true:
// Fyne then takes the focus away before it ends the drag.
func (p *pointer) dragOut(rv *chatRowView, from, to fyne.Position, elsewhere bool) {
	p.now = p.now.Add(time.Second)
	p.down(rv, from, desktop.MouseButtonPrimary)
	last := from
	const steps = 4
	for i := 1; i <= steps; i++ {
		f := float32(i) / steps
		at := fyne.NewPos(from.X+(to.X-from.X)*f, from.Y+(to.Y-from.Y)*f)
		ev := &fyne.DragEvent{Dragged: fyne.NewDelta(at.X-last.X, at.Y-last.Y)}
		ev.Position, ev.AbsolutePosition = at, abs(rv, at)
		rv.Dragged(ev)
		last = at
	}
	if elsewhere {
		rv.MouseUp(&desktop.MouseEvent{Button: desktop.MouseButtonPrimary})
		p.h.w.Canvas().Unfocus()
	}
	rv.DragEnd()
	rv.MouseUp(&desktop.MouseEvent{Button: desktop.MouseButtonPrimary})
}

func (p *pointer) rightClick(rv *chatRowView, at fyne.Position) {
	p.down(rv, at, desktop.MouseButtonSecondary)
	rv.MouseUp(&desktop.MouseEvent{Button: desktop.MouseButtonSecondary})
	rv.TappedSecondary(&fyne.PointEvent{Position: at, AbsolutePosition: abs(rv, at)})
}

// charPos is a point of rv a pixel right of the left edge of the k-th byte
// of the drawn run that contains marker, measured here, from the drawn
// runs alone.
func charPos(t *testing.T, rv *chatRowView, marker string, k int) fyne.Position {
	t.Helper()
	lay := rv.row.lay
	o := rv.bubbleOrigin(rv.Size().Width)
	for i, r := range lay.text.runs {
		if j := strings.Index(r.text, marker); j >= 0 {
			txt := rv.texts[i]
			w := fyne.MeasureText(r.text[:j+k], txt.TextSize, txt.TextStyle).Width
			return fyne.NewPos(o.X+bubblePadX+r.x+w+1, o.Y+bubblePadY+r.y+lay.text.lineH/2)
		}
	}
	t.Fatalf("no run with %q in %+v", marker, lay.text.runs)
	return fyne.Position{}
}

// highlighted is the number of highlight rectangles rv shows.
func highlighted(rv *chatRowView) int {
	n := 0
	for _, r := range rv.sels {
		if r.Visible() {
			n++
		}
	}
	return n
}

// shownHighlights counts highlight rectangles on screen, over all rows.
func (h *chatsHarness) shownHighlights() int {
	n := 0
	for _, r := range h.chatRows() {
		n += highlighted(r.view)
	}
	return n
}

func (h *chatsHarness) copyShortcut() {
	h.t.Helper()
	f, ok := h.w.Canvas().Focused().(fyne.Shortcutable)
	if !ok {
		h.t.Fatalf("Ctrl+C: the focus is on %T, which takes no shortcuts", h.w.Canvas().Focused())
	}
	f.TypedShortcut(&fyne.ShortcutCopy{Clipboard: fyne.CurrentApp().Clipboard()})
}

// menuCopy chooses Copy in the message menu shown, which closes it.
func (h *chatsHarness) menuCopy() {
	h.t.Helper()
	if it := h.v.chat.menu.Items[0]; it.Label != "Copy" {
		h.t.Fatalf("the menu starts with %q", it.Label)
	}
	h.v.chat.menu.Items[0].Action()
	if o := h.w.Canvas().Overlays(); o.Top() != nil {
		o.Remove(o.Top())
	}
}

// typeKeys types text the way the desktop driver does: each character to
// the widget with the focus then.
func typeKeys(c fyne.Canvas, text string) {
	for _, r := range text {
		c.Focused().TypedRune(r)
	}
}

func clipboard() string { return fyne.CurrentApp().Clipboard().Content() }

func setClipboard(s string) { fyne.CurrentApp().Clipboard().SetContent(s) }

func TestSelectAndCopyInBubbles(t *testing.T) {
	svc := seedService(t, meJID, goldenChat())
	h := openChats(t, svc, fyne.NewSize(820, 900), true)
	h.openPeer(bobJID)
	p := newPointer(h)
	row := func(s string) *chatRowView {
		t.Helper()
		r, ok := h.rowFor(s)
		if !ok {
			t.Fatalf("no row shows %q", s)
		}
		return r.view
	}
	c := h.w.Canvas()
	h.ui.do(func() {
		if c.Focused() != h.v.composer {
			t.Fatalf("the composer does not have the focus when the chat opens: %T", c.Focused())
		}
		// Across a line break, in a quotation: from "lap|top." to "Gre|at!".
		q := row("Great!")
		p.drag(q, charPos(t, q, "laptop", 3), charPos(t, q, "Great", 3))
		if n := highlighted(q); n != 2 {
			t.Errorf("%d highlight rectangles over two lines", n)
		} else if ln := q.row.lay.text.lines[0]; q.selGeom[0].x+q.selGeom[0].w < q.row.lay.text.runs[ln.r1-1].x+q.row.lay.text.runs[ln.r1-1].w+2 {
			t.Errorf("the line break selected is not shown: highlight %+v on line %+v", q.selGeom[0], ln)
		}
		if c.Focused() != q {
			t.Errorf("after the drag the focus is on %T", c.Focused())
		}
		setClipboard("")
		h.copyShortcut()
		if got := clipboard(); got != "top.\nGre" {
			t.Errorf("Ctrl+C copied %q, want %q", got, "top.\nGre")
		}
		// The menu's Copy copies the selection of its message...
		p.rightClick(q, charPos(t, q, "Great", 1))
		h.menuCopy()
		if got := clipboard(); got != "top.\nGre" {
			t.Errorf("the menu's Copy copied %q with a selection", got)
		}
		// ... and the whole text of another.
		first := row("meetup")
		p.rightClick(first, charPos(t, first, "Hi", 0))
		h.menuCopy()
		if got := clipboard(); got != "Hi Alice! Are you coming to the *meetup* tomorrow?" {
			t.Errorf("the menu's Copy of another message copied %q", got)
		}

		// Dragged down past the bubble, released over another row: to the end.
		p.dragOut(q, charPos(t, q, "plan", 0), charPos(t, q, "plan", 0).AddXY(0, q.row.h), true)
		setClipboard("")
		h.copyShortcut()
		if got := clipboard(); got != "plan is at https://example.org/plan" || highlighted(q) != 1 {
			t.Errorf("dragged out of the row: copied %q, %d highlights", got, highlighted(q))
		}

		// Inside styled text, dragged backwards, with the directives shown.
		s := row("code span")
		p.drag(s, charPos(t, s, "italic", 3), charPos(t, s, "bold", 2))
		if h.shownHighlights() != 1 || highlighted(q) != 0 {
			t.Errorf("highlights: %d on screen, %d on the quotation", h.shownHighlights(), highlighted(q))
		}
		h.copyShortcut()
		if got := clipboard(); got != "ld _and ita" {
			t.Errorf("copied %q from styled text, want %q", got, "ld _and ita")
		}

		// A double-click selects a word, without the directives around it.
		p.multiClick(first, charPos(t, first, "meetup", 2), 2)
		h.copyShortcut()
		if got := clipboard(); got != "meetup" {
			t.Errorf("double-click selected %q", got)
		}
		// A triple-click, on a link, selects the whole message (copied as
		// the body, with the quotation marker) and opens nothing.
		urls := &urlApp{App: fyne.CurrentApp()}
		fyne.SetCurrentApp(urls)
		defer fyne.SetCurrentApp(urls.App)
		p.multiClick(q, linkPos(q), 3)
		h.copyShortcut()
		if got, want := clipboard(), "> I'll bring the laptop.\nGreat! The plan is at https://example.org/plan"; got != want {
			t.Errorf("triple-click copied %q, want %q", got, want)
		}
		if n := highlighted(q); n != 2 {
			t.Errorf("whole message: %d highlight rectangles", n)
		}
		if l := urls.links(); len(l) != 0 {
			t.Errorf("the triple-click opened %q", l)
		}

		// The window loses the focus: the highlight hides, and comes back.
		q.FocusLost()
		if h.shownHighlights() != 0 {
			t.Error("the highlight shows while the window has no focus")
		}
		q.FocusGained()
		if highlighted(q) != 2 {
			t.Error("the highlight did not come back with the focus")
		}
		// Escape drops it and gives the focus back to the composer.
		q.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
		if h.shownHighlights() != 0 || c.Focused() != h.v.composer || h.v.chat.sel.id != 0 {
			t.Errorf("after Escape: %d highlights, focus on %T, selection in %d", h.shownHighlights(), c.Focused(), h.v.chat.sel.id)
		}

		// A click elsewhere in the list drops the selection.
		p.drag(s, charPos(t, s, "bold", 0), charPos(t, s, "bold", 4))
		p.click(row("Short"), fyne.NewPos(5, 5))
		if h.shownHighlights() != 0 {
			t.Error("a click elsewhere kept the selection")
		}
		setClipboard("kept")
		h.copyShortcut()
		if clipboard() != "kept" {
			t.Errorf("Ctrl+C without a selection copied %q", clipboard())
		}
		// So does the focus going to another widget: the selection is
		// neither shown nor copied by the menu, and the next press drops it.
		p.drag(s, charPos(t, s, "bold", 0), charPos(t, s, "bold", 4))
		c.Focus(h.v.composer)
		if h.shownHighlights() != 0 {
			t.Error("the selection shows with the focus in the composer")
		}
		p.rightClick(s, charPos(t, s, "bold", 1))
		h.menuCopy()
		if got := clipboard(); got != "`code span`, *bold _and italic_* and\na second line" {
			t.Errorf("the menu copied %q after the focus left", got)
		}
		if h.shownHighlights() != 0 || h.v.chat.sel.id != 0 {
			t.Error("a selection left behind came back on a right-click")
		}
	})
	// Typing after a click in a bubble goes to the composer.
	h.ui.do(func() {
		p.click(row("Short"), charPos(t, row("Short"), "Short", 2))
		if _, ok := c.Focused().(*chatRowView); !ok {
			t.Fatalf("a click in a bubble focused %T", c.Focused())
		}
		typeKeys(c, "hi")
		if h.v.composer.Text != "hi" || c.Focused() != h.v.composer {
			t.Errorf("typed after a click: composer %q, focus on %T", h.v.composer.Text, c.Focused())
		}
	})
}

func TestLinkTapStillOpens(t *testing.T) {
	svc := seedService(t, meJID, goldenChat())
	h := openChats(t, svc, fyne.NewSize(820, 900), true)
	h.openPeer(bobJID)
	p := newPointer(h)
	urls := &urlApp{App: fyne.CurrentApp()}
	fyne.SetCurrentApp(urls)
	defer fyne.SetCurrentApp(urls.App)
	h.ui.do(func() {
		r, _ := h.rowFor("Great!")
		q := r.view
		at := linkPos(q)
		p.click(q, at)
		if l := urls.links(); len(l) != 1 || l[0] != "https://example.org/plan" || h.v.chat.sel.id != 0 {
			t.Errorf("a click on the link opened %q, selection %+v", l, h.v.chat.sel.textSelection)
		}
		// A click that moves a pixel or two is a drag to Fyne: still a tap.
		p.drag(q, at, at.AddXY(3, 1))
		if l := urls.links(); len(l) != 2 || h.shownHighlights() != 0 {
			t.Errorf("a click that moved opened %q, %d highlights", l, h.shownHighlights())
		}
		// A real drag over the link selects and opens nothing.
		p.drag(q, charPos(t, q, "example", 0), charPos(t, q, "example", 7))
		h.copyShortcut()
		if l := urls.links(); len(l) != 2 || clipboard() != "example" {
			t.Errorf("a drag over the link opened %q, copied %q", l, clipboard())
		}
		// Fyne's own test drag (no press, no absolute positions) selects too.
		from, to := charPos(t, q, "plan is", 0), charPos(t, q, "plan is", 7)
		test.Drag(h.w.Canvas(), abs(q, to), to.X-from.X, to.Y-from.Y)
		h.copyShortcut()
		if got := clipboard(); got != "plan is" {
			t.Errorf("test.Drag selected %q", got)
		}
	})
}

func TestSelectionFollowsItsMessage(t *testing.T) {
	const n = 40 // one page: scrolling recycles rows without loading more
	msgs := longChat(n, "")
	msgs[36].Body = msgs[38].Body // the same text twice: only the one selected shows it
	svc := seedService(t, meJID, msgs)
	h := openChats(t, svc, fyne.NewSize(820, 500), true)
	h.openPeer(bobJID)
	p := newPointer(h)
	var rv *chatRowView
	var id int64
	h.ui.do(func() {
		r, ok := h.rowFor("message 38")
		if !ok {
			t.Fatal("message 38 not on screen")
		}
		rv, id = r.view, r.view.msg.ID
		p.drag(rv, charPos(t, rv, "message", 1), charPos(t, rv, "38", 1))
		h.copyShortcut()
		if got := clipboard(); got != "essage 3" {
			t.Fatalf("copied %q", got)
		}
		if highlighted(rv) != 1 {
			t.Fatal("no highlight")
		}
		h.v.chat.list.ScrollToTop()
	})
	// The rows have been recycled for other messages: none is highlighted,
	// and the selection stays with its message.
	h.wait("the top on screen", func() bool { _, on := h.screenY(id); return !on })
	h.ui.do(func() {
		if h.v.chat.hasOlder {
			t.Fatal("more messages loaded")
		}
		if n := h.shownHighlights(); n != 0 {
			t.Errorf("%d highlights on rows showing other messages", n)
		}
		setClipboard("")
		h.copyShortcut()
		if got := clipboard(); got != "essage 3" {
			t.Errorf("copied %q after scrolling away", got)
		}
		// The list hands the row that showed it another message (as it
		// does when a row scrolls in), then the message again.
		v := h.v.chat
		other := v.rowByID[id] - 1
		for v.rows[other].kind != rowMsg {
			other--
		}
		v.updateRow(other, rv)
		if rv.msg.ID == id || highlighted(rv) != 0 {
			t.Errorf("the row given message %q shows %d highlights", rv.msg.Body, highlighted(rv))
		}
		v.updateRow(v.rowByID[id], rv)
		if highlighted(rv) != 1 {
			t.Error("the row given the message back shows no highlight")
		}
		v.list.ScrollToBottom()
	})
	h.wait("message 38 back on screen", func() bool { _, on := h.screenY(id); return on })
	h.ui.do(func() {
		for _, r := range h.chatRows() {
			want := 0
			if r.kind == rowMsg && r.view.msg.ID == id {
				want = 1
			}
			if got := highlighted(r.view); got != want {
				t.Errorf("row %q: %d highlights, want %d", r.text, got, want)
			}
		}
		// The message is corrected: what was selected is gone.
		v := h.v.chat
		i := v.rows[v.rowByID[id]].msg
		v.msgs[i].Body, v.msgs[i].Edited = "message 38 corrected", true
		v.updateMessageRow(i)
		setClipboard("kept")
		h.copyShortcut()
		if h.shownHighlights() != 0 || clipboard() != "kept" {
			t.Errorf("after a correction: %d highlights, copied %q", h.shownHighlights(), clipboard())
		}
	})
}
