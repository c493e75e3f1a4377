// Headless tests of the chats tab. Rendering tests put messages into a
// real history (the store of a real profile, read by the real
// app.ChatService, not logged in) with fixed times, a fixed clock, time
// zone and theme, and compare the chat view against golden images under
// testdata/; they also check the rows (day separators, grouping, wrapped,
// styled and multi-line text, ticks, edited and retracted messages),
// paging older history in while keeping the scroll position, and a search
// result jumping to its message. The text layout is tested on its own.
package views

import (
	"context"
	"fmt"
	"image/color"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/app"
	"parley/app/apptest"
	"parley/app/store"
)

// desktopShift is the left Shift key.
const desktopShift = desktop.KeyShiftLeft

const (
	meJID  = "alice@localhost"
	bobJID = "bob@localhost"
	cidJID = "cid@localhost"
)

// testNow is the clock of the rendering tests: 14 March 2025, 16:00 UTC.
var testNow = time.Date(2025, 3, 14, 16, 0, 0, 0, time.UTC)

// lightTheme is Fyne's default theme, always in its light variant, so
// golden images look like the app and do not depend on the desktop.
type lightTheme struct{ fyne.Theme }

func (l lightTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return l.Theme.Color(n, theme.VariantLight)
}

// seedService makes a profile of account whose history holds msgs (stored
// through the real store) and a service on it that is not logged in.
func seedService(t *testing.T, account string, msgs []store.Message) *app.Service {
	t.Helper()
	dir := t.TempDir()
	p, err := app.OpenProfile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Update(func(st *app.AccountSettings) { st.JID = account }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, filepath.Join(dir, app.HistoryFile), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) > 0 {
		if _, err := st.SaveBatch(ctx, msgs); err != nil {
			t.Fatal(err)
		}
	}
	// The seed is the user's own history: their conversations, not
	// message requests from strangers.
	for _, m := range msgs {
		if _, err := st.AcceptConversation(ctx, m.Conversation); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return apptest.NewService(t, dir, nil)
}

// at is a time on the test days: day 13 or 14 of March 2025, UTC.
func at(day, hour, minute int) time.Time {
	return time.Date(2025, 3, day, hour, minute, 0, 0, time.UTC)
}

func inMsg(peer, body string, t time.Time, id string) store.Message {
	return store.Message{Conversation: peer, Direction: store.In, Sender: peer + "/phone", Body: body, Time: t, OriginID: id}
}

func outMsg(peer, body string, t time.Time, id string, st store.State) store.Message {
	return store.Message{Conversation: peer, Direction: store.Out, Sender: meJID + "/parley", Body: body, Time: t, OriginID: id, State: st}
}

// goldenChat is the conversation shown in the golden images: short, long,
// styled and multi-line messages over two days, every delivery state, a
// corrected and a retracted message.
func goldenChat() []store.Message {
	return []store.Message{
		inMsg(bobJID, "Hi Alice! Are you coming to the *meetup* tomorrow?", at(13, 9, 0), "b1"),
		inMsg(bobJID, "It starts at _7 pm_ at the usual place.", at(13, 9, 1), "b2"),
		outMsg(bobJID, "Yes! I'll bring the ~slides~ laptop.", at(13, 9, 5), "a1", store.StateRead),
		inMsg(bobJID, "> I'll bring the laptop.\nGreat! The plan is at https://example.org/plan", at(14, 10, 0), "b3"),
		outMsg(bobJID, "Here is the config:\n```\nport = 5222\ntls  = true\n```", at(14, 10, 2), "a2", store.StateDelivered),
		outMsg(bobJID, "A long message that wraps over several lines, because it keeps going and going with many words until it no longer fits on one line of its bubble.", at(14, 10, 3), "a3", store.StateSent),
		outMsg(bobJID, "Short", at(14, 10, 4), "a4", store.StateQueued),
		outMsg(bobJID, "This one could not be sent", at(14, 10, 5), "a5", store.StateFailed),
		outMsg(bobJID, "See you at 7 pm", at(14, 10, 6), "a6", store.StateRead),
		{Conversation: bobJID, Direction: store.Out, Sender: meJID + "/parley", Body: "See you at 8 pm", Time: at(14, 10, 7), OriginID: "a6c", ReplaceID: "a6"},
		inMsg(bobJID, "Never mind", at(14, 10, 8), "b4"),
		{Conversation: bobJID, Direction: store.In, Sender: bobJID + "/phone", Time: at(14, 10, 9), OriginID: "b4r", RetractID: "b4"},
		inMsg(bobJID, "`code span`, *bold _and italic_* and\na second line", at(14, 10, 10), "b5"),
		inMsg(cidJID, "Lunch?", at(13, 12, 30), "c1"),
	}
}

// notifications records what the view notified.
type notifications struct {
	mu   sync.Mutex
	list []*fyne.Notification
}

func (n *notifications) add(x *fyne.Notification) {
	n.mu.Lock()
	n.list = append(n.list, x)
	n.mu.Unlock()
}

func (n *notifications) all() []*fyne.Notification {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]*fyne.Notification(nil), n.list...)
}

// chatsHarness is a chats tab in a test window.
type chatsHarness struct {
	t      *testing.T
	ui     *uiRunner
	svc    *app.Service
	w      fyne.Window
	v      *ChatsView
	notes  notifications
	unread int
}

// openChats shows the chats tab of svc in a window of the given size. With
// fixedClock the clock, time zone and theme are fixed (for goldens).
func openChats(t *testing.T, svc *app.Service, size fyne.Size, fixedClock bool, adjust ...func(*ChatsOptions)) *chatsHarness {
	t.Helper()
	test.NewTempApp(t)
	if fixedClock {
		test.ApplyTheme(t, lightTheme{theme.DefaultTheme()})
	}
	h := &chatsHarness{t: t, ui: &uiRunner{}, svc: svc}
	opts := ChatsOptions{Do: h.ui.do, Notify: h.notes.add, OnUnread: func(n int) { h.unread = n },
		NotifyDelay: 200 * time.Millisecond}
	if fixedClock {
		opts.Now = func() time.Time { return testNow }
		opts.Location = time.UTC
	}
	for _, fn := range adjust {
		fn(&opts)
	}
	h.ui.do(func() {
		h.w = test.NewTempWindow(t, nil)
		h.v = NewChatsView(h.w, svc.Chats(), svc.Contacts(), opts)
		h.w.SetContent(h.v.Content())
		h.w.Resize(size)
	})
	t.Cleanup(func() { stopChats(t, h.ui, h.v) })
	return h
}

func (h *chatsHarness) wait(what string, cond func() bool) {
	h.t.Helper()
	h.ui.waitUI(h.t, what, waitFor, cond)
}

// openPeer opens peer's chat from the conversation list and waits for it.
func (h *chatsHarness) openPeer(peer string) {
	h.t.Helper()
	h.wait("the conversation with "+peer+" listed", func() bool { return h.v.list.index(peer) >= 0 })
	h.ui.do(func() { h.v.list.activate(h.v.list.index(peer)) })
	h.wait("the chat with "+peer+" loaded", func() bool { return h.v.chat.peer == peer && h.v.chat.loaded && !h.v.chat.busy })
}

// shownRow is a chat list row on screen.
type shownChatRow struct {
	id   int
	kind rowKind
	text string // the message text as drawn (lines joined by "\n"), or the label
	meta string
	y, h float32 // on screen, relative to the list's top
	view *chatRowView
}

// chatRows are the chat rows on screen, top to bottom.
func (h *chatsHarness) chatRows() []shownChatRow {
	v := h.v.chat
	var out []shownChatRow
	if v.list == nil {
		return nil
	}
	off := v.list.GetScrollOffset()
	eachVisible(v.list, func(o fyne.CanvasObject) {
		rv, ok := o.(*chatRowView)
		if !ok || rv.id < 0 || rv.id >= len(v.rows) {
			return
		}
		s := shownChatRow{id: rv.id, kind: rv.row.kind, view: rv, y: v.rowTop(rv.id) - off, h: rv.row.h}
		if rv.row.kind == rowMsg {
			s.text = rowText(rv)
			s.meta = rv.meta.Text
		} else {
			s.text = rv.label.Text
		}
		out = append(out, s)
	})
	for i := 1; i < len(out); i++ { // insertion sort by id
		for j := i; j > 0 && out[j].id < out[j-1].id; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// rowText is the text a message row draws, line by line.
func rowText(rv *chatRowView) string {
	var b strings.Builder
	var y float32 = -1
	for i, run := range rv.row.lay.text.runs {
		if !rv.texts[i].Visible() || rv.texts[i].Text != run.text {
			return "(texts do not match the layout)"
		}
		if y >= 0 && run.y != y {
			b.WriteString("\n")
		}
		y = run.y
		b.WriteString(run.text)
	}
	return b.String()
}

// rowFor is the message row on screen whose text contains s.
func (h *chatsHarness) rowFor(s string) (shownChatRow, bool) {
	for _, r := range h.chatRows() {
		if r.kind == rowMsg && strings.Contains(strings.ReplaceAll(r.text, "\n", " "), s) {
			return r, true
		}
	}
	return shownChatRow{}, false
}

func TestChatViewRendersGolden(t *testing.T) {
	svc := seedService(t, meJID, goldenChat())
	h := openChats(t, svc, fyne.NewSize(820, 900), true)
	h.openPeer(bobJID)
	// Shown at its end in the focused window: read (Cid's message remains).
	h.wait("Bob's chat marked read", func() bool {
		i := h.v.list.index(bobJID)
		return h.unread == 1 && i >= 0 && h.v.list.convs[i].Unread == 0
	})
	h.ui.do(func() {
		v := h.v.chat
		// All on screen: day separators, then the messages in order.
		var kinds []string
		for _, r := range h.chatRows() {
			switch r.kind {
			case rowDay:
				kinds = append(kinds, r.text)
			case rowMsg:
				kinds = append(kinds, "m")
			}
		}
		if got := strings.Join(kinds, " "); got != "Yesterday m m m Today m m m m m m m m" {
			t.Errorf("rows on screen: %s", got)
		}
		check := func(contains, wantText, wantMeta string) shownChatRow {
			t.Helper()
			r, ok := h.rowFor(contains)
			if !ok {
				t.Fatalf("no row shows %q; rows: %+v", contains, h.chatRows())
			}
			if wantText != "" && r.text != wantText {
				t.Errorf("row %q shows\n%q\nwant\n%q", contains, r.text, wantText)
			}
			if wantMeta != "" && r.meta != wantMeta {
				t.Errorf("row %q has meta %q, want %q", contains, r.meta, wantMeta)
			}
			return r
		}
		// Styling directives stay, subdued; styles become fonts.
		first := check("meetup", "Hi Alice! Are you coming to the *meetup* tomorrow?", "09:00")
		second := check("7 pm_", "", "09:01")
		if !v.rows[first.id].first || v.rows[second.id].first {
			t.Error("Bob's two messages of 09:00 and 09:01 are not one group")
		}
		runs := first.view.row.lay.text.runs
		var bold, subdued bool
		for _, r := range runs {
			bold = bold || (r.text == "meetup" && r.style&runBold != 0)
			subdued = subdued || (r.text == "*" && r.style&runSubdued != 0)
		}
		if !bold || !subdued {
			t.Errorf("*meetup*: bold %v, directives subdued %v (%+v)", bold, subdued, runs)
		}
		check("Yes!", "", "09:05")
		// The quote keeps its text without "> " and gets a bar; the link is found.
		q := check("Great!", "I'll bring the laptop.\nGreat! The plan is at https://example.org/plan", "10:00")
		if d := q.view.row.lay.text.decos; len(d) != 1 || d[0].kind != decoQuoteBar {
			t.Errorf("quote decorations %+v", d)
		}
		if link := q.view.linkAt(linkPos(q.view)); link != "https://example.org/plan" {
			t.Errorf("link under the pointer %q", link)
		}
		// A code block in monospace on a background.
		code := check("config", "Here is the config:\n```\nport = 5222\ntls  = true\n```", "10:02")
		if d := code.view.row.lay.text.decos; len(d) != 1 || d[0].kind != decoCode {
			t.Errorf("code decorations %+v", d)
		}
		// The long message wraps within the bubble.
		long := check("A long message", "", "10:03")
		if n := strings.Count(long.text, "\n") + 1; n < 3 {
			t.Errorf("the long message takes %d lines:\n%s", n, long.text)
		}
		if w := long.view.row.lay.w; w > bubbleMaxW(h.v.chat.width)+0.5 {
			t.Errorf("bubble %v wider than %v", w, bubbleMaxW(h.v.chat.width))
		}
		short := check("Short", "Short", "10:04")
		if short.h >= long.h {
			t.Errorf("short row %v not lower than the long one %v", short.h, long.h)
		}
		if o := short.view.bubbleOrigin(short.view.Size().Width); o.X < short.view.Size().Width/2 {
			t.Errorf("own bubble at x=%v: not on the right", o.X)
		}
		if o := first.view.bubbleOrigin(first.view.Size().Width); o.X > first.view.Size().Width/4 {
			t.Errorf("their bubble at x=%v: not on the left", o.X)
		}
		// Ticks: queued, sent, delivered, read, failed with retry.
		ticks := map[string]tickKind{"Short": tickQueued, "A long message": tickSent, "config": tickDelivered, "Yes!": tickRead, "could not": tickFailed}
		for s, want := range ticks {
			if r, _ := h.rowFor(s); r.view.row.lay.ticks != want || !r.view.tickA.Visible() {
				t.Errorf("%q: ticks %v (shown %v), want %v", s, r.view.row.lay.ticks, r.view.tickA.Visible(), want)
			}
		}
		check("could not", "", "10:05 · "+retryLabel)
		check("8 pm", "See you at 8 pm", "edited 10:06")
		check(retractedText, retractedText, "10:08")
		check("code span", "`code span`, *bold _and italic_* and\na second line", "10:10")
		// Everything fits: no loader rows, no jump button.
		if v.hasOlder || v.hasNewer || v.jumpBtn.Visible() {
			t.Errorf("older %v newer %v jump %v", v.hasOlder, v.hasNewer, v.jumpBtn.Visible())
		}
		h.w.Canvas().Unfocus() // no blinking cursor in the image
	})
	h.ui.do(func() {
		test.AssertImageMatches(t, "chat_view.png", h.w.Canvas().Capture())
	})

	// Narrower: every bubble is laid out again for the new width.
	h.ui.do(func() { h.w.Resize(fyne.NewSize(560, 700)) })
	h.ui.do(func() {
		long, _ := h.rowFor("A long message")
		if long.view.row.lay.w > bubbleMaxW(h.v.chat.width)+0.5 || h.v.chat.width > 400 {
			t.Errorf("after narrowing: list %v, bubble %v", h.v.chat.width, long.view.row.lay.w)
		}
		if !h.v.chat.atBottom() {
			t.Error("narrowing the window lost the bottom")
		}
		h.w.Canvas().Unfocus()
		test.AssertImageMatches(t, "chat_view_narrow.png", h.w.Canvas().Capture())
	})
}

// linkPos is a point on the first link of a row.
func linkPos(rv *chatRowView) fyne.Position {
	o := rv.bubbleOrigin(rv.Size().Width)
	for _, r := range rv.row.lay.text.runs {
		if r.url != "" {
			return fyne.NewPos(o.X+bubblePadX+r.x+r.w/2, o.Y+bubblePadY+r.y+2)
		}
	}
	return fyne.NewPos(-1, -1)
}

func TestConversationListRendersGolden(t *testing.T) {
	msgs := goldenChat()
	msgs = append(msgs, outMsg("dee@localhost", "Draft-free chat", at(10, 8, 0), "d1", store.StateRead))
	svc := seedService(t, meJID, msgs)
	ctx := ctxFor(t)
	if err := svc.Chats().SetDraft(ctx, "dee@localhost", "unfinished thought"); err != nil {
		t.Fatal(err)
	}
	h := openChats(t, svc, fyne.NewSize(820, 500), true)
	h.wait("three conversations", func() bool { return len(h.v.list.convs) == 3 })
	h.ui.do(func() {
		rows := convRows(h.v.list)
		want := []string{
			bobJID + " | 10:10 | code span, bold and italic and a second line | 4",
			cidJID + " | Yesterday | Lunch? | 1",
			"dee@localhost | Mon | Draft: unfinished thought | 0",
		}
		if strings.Join(rows, "\n") != strings.Join(want, "\n") {
			t.Errorf("conversation rows:\n%s\nwant\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
		}
		if h.unread != 5 {
			t.Errorf("unread total %d, want 5", h.unread)
		}
		test.AssertImageMatches(t, "conversation_list.png", h.w.Canvas().Capture())
	})
	// Opening Bob's chat marks it read.
	h.openPeer(bobJID)
	h.wait("Bob's chat read", func() bool {
		i := h.v.list.index(bobJID)
		return i >= 0 && h.v.list.convs[i].Unread == 0 && h.unread == 1
	})
}

// convRows describes the conversation rows on screen: "name | time | preview | unread".
func convRows(l *convList) []string {
	var out []string
	eachVisible(l.list, func(o fyne.CanvasObject) {
		r, ok := o.(*convRowView)
		if !ok || r.id < 0 {
			return
		}
		n := 0
		if r.badge.Visible() {
			n = r.badge.count
		}
		out = append(out, fmt.Sprintf("%d|%s | %s | %s | %d", r.id, r.name.Text, r.when.Text, r.preview.Text, n))
	})
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	for i := range out {
		_, out[i], _ = strings.Cut(out[i], "|")
	}
	return out
}

// longChat is n messages with Bob, alternating, one every 7 minutes
// (several days), body "message i"; the messages in withWord get word too.
func longChat(n int, word string, withWord ...int) []store.Message {
	start := testNow.Add(-time.Duration(n) * 7 * time.Minute)
	msgs := make([]store.Message, 0, n)
	for i := range n {
		body := fmt.Sprintf("message %d", i)
		for _, w := range withWord {
			if w == i {
				body += " about the " + word
			}
		}
		if i%10 == 3 {
			body += "\nwith a second line"
		}
		ts := start.Add(time.Duration(i) * 7 * time.Minute)
		id := fmt.Sprintf("m%d", i)
		if i%3 == 0 {
			msgs = append(msgs, outMsg(bobJID, body, ts, id, store.StateRead))
		} else {
			msgs = append(msgs, inMsg(bobJID, body, ts, id))
		}
	}
	return msgs
}

// screenY is where message id's row is on screen (ok false if it is not).
func (h *chatsHarness) screenY(id int64) (float32, bool) {
	for _, r := range h.chatRows() {
		if r.kind == rowMsg && r.view.msg.ID == id {
			return r.y, true
		}
	}
	return 0, false
}

func TestChatPagingKeepsPosition(t *testing.T) {
	const n = 420
	svc := seedService(t, meJID, longChat(n, ""))
	h := openChats(t, svc, fyne.NewSize(820, 600), true)
	h.openPeer(bobJID)
	var anchorID int64
	var anchorY float32
	h.ui.do(func() {
		v := h.v.chat
		if len(v.msgs) != firstPageSize || !v.hasOlder || v.hasNewer {
			t.Fatalf("first page: %d messages, older %v, newer %v", len(v.msgs), v.hasOlder, v.hasNewer)
		}
		if !v.atBottom() || v.jumpBtn.Visible() {
			t.Errorf("a chat opens at its end: at bottom %v, jump shown %v", v.atBottom(), v.jumpBtn.Visible())
		}
		if _, ok := h.rowFor(fmt.Sprintf("message %d", n-1)); !ok {
			t.Error("the newest message is not on screen")
		}
	})

	// Scroll up page by page with the wheel: each time the loader row shows,
	// the page before is prepended and the messages on screen stay put.
	for loads := 0; ; loads++ {
		before := 0
		h.ui.do(func() {
			v := h.v.chat
			before = len(v.msgs)
			if !v.hasOlder {
				return
			}
			// Wheel up to the very top.
			pos := fyne.NewPos(500, 300)
			for v.list.GetScrollOffset() > 0 {
				test.Scroll(h.w.Canvas(), pos, 0, 400)
			}
			rows := h.chatRows()
			for _, r := range rows {
				if r.kind == rowMsg {
					anchorID, anchorY = r.view.msg.ID, r.y
					break
				}
			}
			if rows[0].kind != rowOlder || rows[0].text != "Loading older messages…" {
				t.Fatalf("top row at the top: %+v", rows[0])
			}
		})
		if before == n {
			break
		}
		if loads > 10 {
			t.Fatal("paging never reached the first message")
		}
		h.wait("an older page", func() bool { return len(h.v.chat.msgs) > before && !h.v.chat.busy })
		h.ui.do(func() {
			y, ok := h.screenY(anchorID)
			if !ok || y != anchorY {
				t.Errorf("after loading %d older messages the first message shown moved from y=%v to y=%v (shown %v)",
					len(h.v.chat.msgs)-before, anchorY, y, ok)
			}
			if !h.v.chat.jumpBtn.Visible() {
				t.Error("no jump button while scrolled up")
			}
		})
	}
	h.ui.do(func() {
		v := h.v.chat
		v.list.ScrollToTop()
		v.scrolled()
		rows := h.chatRows()
		if v.hasOlder || rows[0].kind != rowDay || len(v.msgs) != n {
			t.Errorf("at the beginning: older %v, %d messages, first row %+v", v.hasOlder, len(v.msgs), rows[0])
		}
		if r, ok := h.rowFor("message 0"); !ok || r.text != "message 0" {
			t.Errorf("the first message %+v", r)
		}
		// Multi-line messages are two lines high.
		if r, ok := h.rowFor("message 3"); !ok || r.text != "message 3\nwith a second line" {
			t.Errorf("message 3 shows %q", r.text)
		}
		// Scroll into the middle.
		v.list.ScrollToOffset(v.total / 2)
		v.scrolled()
		rows = h.chatRows()
		anchorID, anchorY = rows[1].view.msg.ID, rows[1].y
		if rows[1].kind != rowMsg {
			anchorID, anchorY = rows[2].view.msg.ID, rows[2].y
		}
	})

	// A new message while scrolled up: the view stays where it is.
	ctx := ctxFor(t)
	if _, err := svc.Chats().Send(ctx, bobJID, "a new message while you read"); err != nil {
		t.Fatal(err)
	}
	h.wait("the new message loaded", func() bool { return len(h.v.chat.msgs) == n+1 })
	h.ui.do(func() {
		if y, ok := h.screenY(anchorID); !ok || y != anchorY {
			t.Errorf("a new message moved the view: y %v -> %v (shown %v)", anchorY, y, ok)
		}
		if !h.v.chat.jumpBtn.Visible() {
			t.Error("no jump button")
		}
		test.Tap(h.v.chat.jumpBtn)
		if !h.v.chat.atBottom() || h.v.chat.jumpBtn.Visible() {
			t.Error("jump to newest did not reach the end")
		}
		if _, ok := h.rowFor("a new message while you read"); !ok {
			t.Error("the new message is not on screen after the jump")
		}
	})

	// At the bottom, new messages scroll into view.
	if _, err := svc.Chats().Send(ctx, bobJID, "and one more"); err != nil {
		t.Fatal(err)
	}
	h.wait("the next message on screen", func() bool {
		_, ok := h.rowFor("and one more")
		return ok && h.v.chat.atBottom()
	})
}

func TestSearchJumpsToMessage(t *testing.T) {
	const n = 300
	svc := seedService(t, meJID, longChat(n, "zebracorn", 37, 250))
	h := openChats(t, svc, fyne.NewSize(820, 600), true)
	h.wait("the conversations", func() bool { return len(h.v.list.convs) == 1 })
	h.ui.do(func() { test.Type(h.v.search.entry, "zebra") })
	h.wait("two results", func() bool { return len(h.v.search.results) == 2 && h.v.search.query == "zebra" })
	h.ui.do(func() {
		s := h.v.search
		if !s.active() || h.v.list.box.Visible() {
			t.Error("the results do not replace the conversation list")
		}
		// Newest first, the matched word highlighted.
		if s.results[0].Cursor().Less(s.results[1].Cursor()) {
			t.Error("results not newest first")
		}
		segs := snippetSegments(s.results[1].Snippet)
		var marked []string
		for _, sg := range segs {
			if ts, ok := sg.(*widget.TextSegment); ok && ts.Style.TextStyle.Bold {
				marked = append(marked, ts.Text)
			}
		}
		if strings.Join(marked, ",") != "zebracorn" {
			t.Errorf("highlighted %q in %q", marked, s.results[1].Snippet)
		}
		if got := s.status.Text; got != "2 matches:" {
			t.Errorf("search status %q", got)
		}
		s.open(0) // message 250
	})
	h.wait("the chat around message 250", func() bool { return h.v.chat.loaded && !h.v.chat.busy && h.v.chat.peer == bobJID })
	h.ui.do(func() {
		v := h.v.chat
		r, ok := h.rowFor("message 250 about the zebracorn")
		if !ok {
			t.Fatalf("message 250 is not on screen; rows %+v", h.chatRows())
		}
		if !r.view.flash.Visible() {
			t.Error("the found message is not highlighted")
		}
		if y := r.y + r.h/2; y < 0 || y > v.list.Size().Height {
			t.Errorf("found message at y=%v, outside the view", y)
		}
		if !v.hasNewer || !v.hasOlder || !v.jumpBtn.Visible() {
			t.Errorf("around message 250: older %v newer %v jump %v", v.hasOlder, v.hasNewer, v.jumpBtn.Visible())
		}
		if h.w.Canvas().Focused() != h.v.composer {
			t.Error("the composer has no focus after the jump")
		}
		// Scrolling down loads the newer pages.
		v.list.ScrollToBottom()
		v.scrolled()
	})
	h.wait("a newer page", func() bool { return len(h.v.chat.msgs) > 2*jumpHalf && !h.v.chat.busy })
	h.ui.do(func() {
		if _, ok := h.v.chat.rowByID[h.v.search.results[0].ID]; !ok {
			t.Error("message 250 dropped by loading newer messages")
		}
		if h.v.chat.hasNewer {
			t.Error("the newest messages are loaded, yet the view says there are newer ones")
		}
		test.Tap(h.v.chat.jumpBtn)
	})
	h.wait("the newest messages", func() bool {
		_, ok := h.rowFor(fmt.Sprintf("message %d", n-1))
		return ok && !h.v.chat.hasNewer && h.v.chat.atBottom()
	})
	// Clearing the search brings the conversations back.
	h.ui.do(func() {
		h.v.search.entry.SetText("")
		if h.v.search.active() || !h.v.list.box.Visible() {
			t.Error("the conversation list is not back after clearing the search")
		}
	})
}

// waitCond polls cond (off the UI) until it holds, or fails after waitFor.
func waitCond(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", waitFor, what)
		}
		<-tick.C
	}
}

// lastMessage is the newest message of peer's conversation in svc's history.
func lastMessage(t *testing.T, svc *app.Service, peer string) (store.Message, bool) {
	msgs, err := svc.Chats().Latest(ctxFor(t), peer, 1)
	if err != nil || len(msgs) == 0 {
		return store.Message{}, false
	}
	return msgs[0], true
}

func TestChatWithPeerOverServer(t *testing.T) {
	srv := apptest.Shared(t)
	me := srv.LogIn(t, "uichatme", func(o *app.Options) { o.PausedAfter = 300 * time.Millisecond })
	bob := srv.LogIn(t, "uichatbob")
	// Receipts and markers go only to contacts who may see our presence;
	// named by the address, as the checks below expect.
	apptest.Befriend(t, me, bob, "")
	if err := me.Contacts().Rename(ctxFor(t), bob.JID, bob.JID); err != nil {
		t.Fatal(err)
	}
	cid := srv.JID("uichatcid")
	h := openChats(t, me.Svc, fyne.NewSize(900, 700), false)
	ctx := ctxFor(t)

	// A message while the window is not focused: listed unread, notified.
	h.ui.do(func() { h.v.SetFocused(false) })
	if _, err := bob.Svc.Chats().Send(ctx, me.JID, "hello *there*"); err != nil {
		t.Fatal(err)
	}
	h.wait("Bob's conversation, unread", func() bool {
		i := h.v.list.index(bob.JID)
		return i >= 0 && h.v.list.convs[i].Unread == 1 && h.unread == 1
	})
	waitCond(t, "a notification", func() bool { return len(h.notes.all()) == 1 })
	if n := h.notes.all()[0]; n.Title != bob.JID || n.Content != "hello there" {
		t.Errorf("notification %q: %q", n.Title, n.Content)
	}

	// Bob types: the list says so.
	if err := bob.Svc.Chats().SendChatState(me.JID, app.ChatStateComposing); err != nil {
		t.Fatal(err)
	}
	h.wait("Bob typing in the list", func() bool {
		rows := convRows(h.v.list)
		return len(rows) == 1 && strings.Contains(rows[0], "| typing… |")
	})

	// Focus, open the chat: the message, the typing indicator, the composer
	// focused, the chat marked read (and Bob told so).
	h.ui.do(func() { h.v.SetFocused(true) })
	h.openPeer(bob.JID)
	h.ui.do(func() {
		if _, ok := h.rowFor("hello *there*"); !ok {
			t.Error("Bob's message is not shown")
		}
		if got := h.v.TypingText(); got != bob.JID+" is typing…" {
			t.Errorf("typing indicator %q", got)
		}
		if h.w.Canvas().Focused() != h.v.composer {
			t.Error("the composer has no focus in a chat just opened")
		}
	})
	h.wait("the chat marked read", func() bool { return h.unread == 0 })
	waitCond(t, "Bob seeing his message read", func() bool {
		m, ok := lastMessage(t, bob.Svc, me.JID)
		return ok && m.State == store.StateRead
	})

	// Typing sends "composing", a pause "paused"; Enter sends.
	h.ui.do(func() { test.Type(h.v.composer, "Hi Bob") })
	waitCond(t, "Bob seeing us compose", func() bool { return bob.Svc.Chats().Typing(me.JID) == app.ChatStateComposing })
	waitCond(t, "Bob seeing us pause", func() bool { return bob.Svc.Chats().Typing(me.JID) == app.ChatStatePaused })
	h.ui.do(func() {
		h.v.composer.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
		if h.v.composer.Text != "" {
			t.Errorf("composer after Enter: %q", h.v.composer.Text)
		}
	})
	waitCond(t, "Bob receiving Hi Bob", func() bool {
		m, ok := lastMessage(t, bob.Svc, me.JID)
		return ok && m.Body == "Hi Bob" && m.Direction == store.In
	})
	if st := bob.Svc.Chats().Typing(me.JID); st != app.ChatStateActive {
		t.Errorf("Bob sees chat state %q after our message, want active", st)
	}
	// Leaving the window makes us inactive for Bob; coming back, active.
	h.ui.do(func() { h.v.SetFocused(false) })
	waitCond(t, "Bob seeing us inactive", func() bool { return bob.Svc.Chats().Typing(me.JID) == app.ChatStateInactive })
	h.ui.do(func() { h.v.SetFocused(true) })
	waitCond(t, "Bob seeing us active again", func() bool { return bob.Svc.Chats().Typing(me.JID) == app.ChatStateActive })
	h.wait("Hi Bob delivered", func() bool {
		r, ok := h.rowFor("Hi Bob")
		return ok && r.view.row.lay.ticks == tickDelivered && h.v.chat.atBottom()
	})
	sent, _ := lastMessage(t, bob.Svc, me.JID)
	if err := bob.Svc.Chats().MarkRead(ctx, me.JID, sent); err != nil {
		t.Fatal(err)
	}
	h.wait("Hi Bob read", func() bool {
		r, ok := h.rowFor("Hi Bob")
		return ok && r.view.row.lay.ticks == tickRead
	})

	// Shift+Enter starts a new line; Enter sends both lines.
	h.ui.do(func() {
		c := h.v.composer
		test.Type(c, "line one")
		c.KeyDown(&fyne.KeyEvent{Name: desktopShift})
		c.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
		c.KeyUp(&fyne.KeyEvent{Name: desktopShift})
		test.Type(c, "line two")
		if c.Text != "line one\nline two" {
			t.Errorf("composer after Shift+Enter: %q", c.Text)
		}
		c.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	})
	waitCond(t, "Bob receiving two lines", func() bool {
		m, ok := lastMessage(t, bob.Svc, me.JID)
		return ok && m.Body == "line one\nline two"
	})
	h.wait("two lines shown", func() bool {
		r, ok := h.rowFor("line one")
		return ok && r.text == "line one\nline two"
	})

	// Up in the empty composer edits the last message; Enter corrects it.
	h.ui.do(func() {
		c := h.v.composer
		c.TypedKey(&fyne.KeyEvent{Name: fyne.KeyUp})
		if !h.v.Editing() || c.Text != "line one\nline two" || !h.v.editBar.Visible() {
			t.Fatalf("Up: editing %v, composer %q", h.v.Editing(), c.Text)
		}
		c.SetText("line one\nline 2")
		c.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
		if h.v.Editing() || c.Text != "" {
			t.Errorf("after the correction: editing %v, composer %q", h.v.Editing(), c.Text)
		}
	})
	waitCond(t, "Bob seeing the correction", func() bool {
		m, ok := lastMessage(t, bob.Svc, me.JID)
		return ok && m.Body == "line one\nline 2" && m.Edited
	})
	h.wait("the correction shown", func() bool {
		r, ok := h.rowFor("line 2")
		return ok && strings.HasPrefix(r.meta, "edited ")
	})
	// Escape gives the draft back.
	h.ui.do(func() {
		c := h.v.composer
		c.TypedKey(&fyne.KeyEvent{Name: fyne.KeyUp})
		c.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
		if h.v.Editing() || c.Text != "" {
			t.Errorf("after Escape: editing %v, composer %q", h.v.Editing(), c.Text)
		}
	})

	// Bob answers: the view is at the bottom, so the answer scrolls in.
	if _, err := bob.Svc.Chats().Send(ctx, me.JID, "got it"); err != nil {
		t.Fatal(err)
	}
	h.wait("Bob's answer on screen", func() bool {
		_, ok := h.rowFor("got it")
		return ok && h.v.chat.atBottom()
	})

	// A draft stays with its chat: start a chat with Cid, come back.
	h.ui.do(func() {
		test.Type(h.v.composer, "draft for bob")
		test.Tap(h.v.newChatBtn)
		if h.v.newChat == nil {
			t.Fatal("no New chat dialog")
		}
		test.Type(h.v.newChat.entry, "not an address@@")
		h.v.newChat.entry.OnSubmitted(h.v.newChat.entry.Text)
	})
	h.wait("the address refused", func() bool { return h.v.newChat != nil && h.v.newChat.err.Visible() })
	h.ui.do(func() {
		h.v.newChat.entry.SetText(cid)
		h.v.newChat.entry.OnSubmitted(cid)
	})
	h.wait("Cid's chat open", func() bool { return h.v.Peer() == cid && h.v.newChat == nil && h.v.list.index(cid) >= 0 })
	h.ui.do(func() {
		if h.v.composer.Text != "" {
			t.Errorf("Cid's composer holds %q", h.v.composer.Text)
		}
		if h.w.Canvas().Focused() != h.v.composer {
			t.Error("the composer has no focus in a new chat")
		}
	})
	h.wait("Bob's draft in the list", func() bool {
		for _, r := range convRows(h.v.list) {
			if strings.HasPrefix(r, bob.JID) && strings.Contains(r, "Draft: draft for bob") {
				return true
			}
		}
		return false
	})
	waitCond(t, "the draft kept in the history", func() bool {
		conv, ok, err := me.Svc.Chats().Conversation(ctx, bob.JID)
		return err == nil && ok && conv.Draft == "draft for bob"
	})
	h.openPeer(bob.JID)
	h.ui.do(func() {
		if h.v.composer.Text != "draft for bob" {
			t.Errorf("Bob's composer holds %q, want the draft", h.v.composer.Text)
		}
	})
	// Closing the chats (window closed, or logout) tells Bob we are gone.
	h.ui.do(func() { test.Type(h.v.composer, "x") })
	waitCond(t, "Bob seeing us compose again", func() bool { return bob.Svc.Chats().Typing(me.JID) == app.ChatStateComposing })
	stopChats(t, h.ui, h.v)
	waitCond(t, "Bob seeing us gone", func() bool { return bob.Svc.Chats().Typing(me.JID) == app.ChatStateGone })
}

func TestWindowChatsFromLinkContactsAndTitle(t *testing.T) {
	srv := apptest.Shared(t)
	jid, pass := srv.NewUser(t, "uiwinchat")
	bob := srv.LogIn(t, "uiwinbob")
	cid := srv.LogIn(t, "uiwincid")
	h := open(t, srv.Profile(t, true), nil)
	// An xmpp: link given before login opens its chat once logged in.
	h.ui.do(func() { h.w.OpenChat(bob.JID, "hi from a link") })
	h.fill(srv, jid, pass, 0)
	h.ui.do(func() { test.Tap(h.f.loginBtn) })
	h.waitOnline(jid)
	h.ui.waitUI(t, "the linked chat", waitFor, func() bool {
		c := h.w.Chats()
		return c != nil && c.Peer() == bob.JID && c.composer.Text == "hi from a link"
	})
	h.ui.do(func() {
		if h.w.Window().Canvas().Focused() != h.w.Chats().composer {
			t.Error("the composer has no focus")
		}
		if got := h.w.Window().Title(); got != "Parley — "+jid {
			t.Errorf("title %q", got)
		}
	})

	// A message from Cid, a contact whose chat is not open: counted in
	// the title (a stranger's would be a message request).
	ctx := ctxFor(t)
	apptest.WaitContacts(t, h.svc.Contacts(), "the roster loaded", waitFor, func(s app.ContactsSnapshot) bool { return s.Loaded })
	if err := h.svc.Contacts().Add(ctx, cid.JID, "Cid", "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := cid.Svc.Chats().Send(ctx, jid, "psst"); err != nil {
		t.Fatal(err)
	}
	h.ui.waitUI(t, "the unread count in the title", waitFor, func() bool {
		return h.w.Window().Title() == "Parley (1) — "+jid
	})

	// "Chat" on a contact opens the chat with it, in the Chats tab.
	h.ui.do(func() { h.w.ShowContacts() })
	var row *rowView
	h.ui.waitUI(t, "Cid in the contacts", waitFor, func() bool {
		for _, rv := range rowViews(h.w.Contacts().list) {
			r := h.w.Contacts().list.rows[rv.id]
			if !r.header && h.w.Contacts().list.contacts[r.contact].JID == cid.JID {
				row = rv
				return true
			}
		}
		return false
	})
	h.ui.do(func() {
		cv := h.w.Contacts()
		test.TapSecondary(row.cell)
		item := cv.menuItem("Chat")
		if item == nil {
			t.Fatal("no Chat in the contact's menu")
		}
		item.Action()
	})
	h.ui.waitUI(t, "Cid's chat from the contacts", waitFor, func() bool {
		c := h.w.Chats()
		return c.Peer() == cid.JID && h.w.tabs.SelectedIndex() == 0 && c.chat.loaded
	})
	// Shown in the focused window: read, and the title says so.
	h.ui.waitUI(t, "the title without unread", waitFor, func() bool {
		return h.w.Window().Title() == "Parley — "+jid && h.w.Chats().chat.lastIncomingBody() == "psst"
	})
	// The contact's name is used in the list and the header.
	h.ui.waitUI(t, "Cid's name", waitFor, func() bool { return h.w.Chats().hdrName.Text == "Cid" })

	// Double-clicking a contact opens its chat too.
	h.ui.do(func() {
		h.w.Chats().show(bob.JID, nil, nil)
		h.w.ShowContacts()
		test.DoubleTap(row.cell)
	})
	h.ui.waitUI(t, "Cid's chat from a double-click", waitFor, func() bool {
		return h.w.Chats().Peer() == cid.JID && h.w.tabs.SelectedIndex() == 0
	})
}

// lastIncomingBody is the body of the newest incoming message loaded.
func (v *chatView) lastIncomingBody() string {
	m, _ := v.lastIncoming()
	return m.Body
}

func TestTextLayout(t *testing.T) {
	test.NewTempApp(t)
	tm := newTextMeasurer(14)
	lines := layoutLines
	// Words wrap within the width; no line is wider; trailing spaces are not drawn.
	text := "the quick brown fox jumps over the lazy dog and keeps running far away"
	l := tm.layoutBlocks(app.ParseStyling(text), 150)
	got := lines(l)
	if len(got) < 3 || strings.Join(got, " ") != text {
		t.Errorf("wrapped into %q", got)
	}
	for _, r := range l.runs {
		if r.x+r.w > 150.5 || strings.HasSuffix(r.text, " ") {
			t.Errorf("run %+v overflows or ends in a space", r)
		}
	}
	if l.h != float32(len(got))*tm.lineH || l.w > 150.5 {
		t.Errorf("size %vx%v for %d lines of %v", l.w, l.h, len(got), tm.lineH)
	}
	// A word longer than a line is broken between characters.
	long := strings.Repeat("x", 80)
	l = tm.layoutBlocks(app.ParseStyling("a "+long), 100)
	got = lines(l)
	if len(got) < 3 || got[0] != "a" || strings.Join(got[1:], "") != long {
		t.Errorf("long word broken into %q", got)
	}
	// Empty lines keep their height; blank bodies take one line.
	if l := tm.layoutBlocks(app.ParseStyling("a\n\nb"), 300); l.h != 3*tm.lineH {
		t.Errorf("a, blank line, b: height %v, want %v", l.h, 3*tm.lineH)
	}
	if l := tm.layoutBlocks(app.ParseStyling(""), 300); l.h != tm.lineH {
		t.Errorf("empty body height %v", l.h)
	}
	// Links: http and https only, without the sentence's punctuation.
	for _, tc := range []struct{ body, link string }{
		{"see https://example.org/a?b=c.", "https://example.org/a?b=c"},
		{"(http://example.org/wiki/Go_(language))", "http://example.org/wiki/Go_(language)"},
		{"ftp://example.org/file and javascript:alert(1)", ""},
		{"https:// nothing", ""},
	} {
		var found []string
		for _, r := range tm.layoutBlocks(app.ParseStyling(tc.body), 1000).runs {
			if r.url != "" {
				found = append(found, r.url)
			}
		}
		if strings.Join(found, " ") != tc.link {
			t.Errorf("links in %q: %q, want %q", tc.body, found, tc.link)
		}
	}
	// Nested quotes get a bar per level; styles map to fonts.
	l = tm.layoutBlocks(app.ParseStyling(">> deep *bold* ~gone~ `code`"), 1000)
	if len(l.decos) != 2 || l.decos[1].x != quoteIndent {
		t.Errorf("quote bars %+v", l.decos)
	}
	styles := map[string]runStyle{}
	for _, r := range l.runs {
		styles[strings.TrimSpace(r.text)] = r.style
	}
	if styles["bold"]&runBold == 0 || styles["gone"]&runStrike == 0 || styles["code"]&runMono == 0 || styles["`"]&runSubdued == 0 {
		t.Errorf("styles %v", styles)
	}
}

func TestNotificationsSyncLineAndCopy(t *testing.T) {
	svc := seedService(t, meJID, goldenChat())
	h := openChats(t, svc, fyne.NewSize(820, 600), true)
	h.openPeer(bobJID)
	var stored []store.Message
	h.ui.do(func() { stored = append(stored, h.v.chat.msgs...) })

	// Catch-up from the archive is no news: stored messages older than a
	// minute notify nothing, even with the window unfocused.
	h.ui.do(func() { h.v.SetFocused(false) })
	ids := make([]int64, 0, len(stored))
	for _, m := range stored {
		ids = append(ids, m.ID)
	}
	h.v.notes.lookUp(ids)

	// A burst becomes one notification; messages from two people say so.
	now := time.Now()
	recent := func(peer, body string) store.Message {
		return store.Message{Conversation: peer, Direction: store.In, Body: body, Time: now}
	}
	h.ui.do(func() {
		h.v.notes.add([]store.Message{recent(bobJID, "one")}, 0)
		h.v.notes.add([]store.Message{recent(bobJID, "two"), recent(bobJID, "*three*")}, 0)
	})
	waitCond(t, "the burst notified", func() bool { return len(h.notes.all()) > 0 })
	h.ui.do(func() {
		h.v.notes.add([]store.Message{recent(bobJID, "four")}, 0)
		h.v.notes.add([]store.Message{recent(cidJID, "five")}, 10)
	})
	waitCond(t, "the second burst notified", func() bool { return len(h.notes.all()) > 1 })
	got := h.notes.all()
	if len(got) != 2 ||
		got[0].Title != bobJID+" (3 new messages)" || got[0].Content != "three" ||
		got[1].Title != "12 new messages" || got[1].Content != "From "+bobJID+", "+cidJID {
		for _, n := range got {
			t.Errorf("notification %q: %q", n.Title, n.Content)
		}
	}
	// Focused: nothing.
	h.ui.do(func() {
		h.v.SetFocused(true)
		h.v.notes.add([]store.Message{recent(bobJID, "seen")}, 0)
		if h.v.notes.timer != nil || len(h.v.notes.pending) != 0 {
			t.Error("a notification is coming while the window has the focus")
		}
	})

	// The catch-up progress line.
	h.ui.do(func() {
		h.v.applySync(app.SyncProgress{Active: true, Fetched: 250})
		if got := h.v.SyncText(); got != "Fetching messages from the server… 250 so far" {
			t.Errorf("sync line %q", got)
		}
		h.v.applySync(app.SyncProgress{Active: true, Fetched: 500, Total: 1200})
		if got := h.v.SyncText(); got != "Fetching messages from the server… 500 of 1200" {
			t.Errorf("sync line with the archive's count %q", got)
		}
		h.v.applySync(app.SyncProgress{Fetched: 250})
		if got := h.v.SyncText(); got != "" {
			t.Errorf("sync line after the catch-up %q", got)
		}
		// A message that could not be saved: said there, and it stays.
		h.v.apply(app.ChatChange{Problem: "A message from bob could not be saved: disk full"})
		h.v.apply(app.ChatChange{Peers: []string{bobJID}})
		if got := h.v.SyncText(); got != "A message from bob could not be saved: disk full" {
			t.Errorf("problem line %q", got)
		}
	})

	// Copy from a message's menu.
	h.ui.do(func() {
		h.v.chat.list.ScrollToTop()
		r, ok := h.rowFor("meetup")
		if !ok {
			t.Fatal("no meetup row")
		}
		test.TapSecondary(r.view)
		var copyItem *fyne.MenuItem
		for _, it := range h.v.chat.menu.Items {
			if it.Label == "Copy" {
				copyItem = it
			}
			if it.Label == "Edit" || it.Label == "Retract…" {
				t.Errorf("%q offered on Bob's message", it.Label)
			}
		}
		copyItem.Action()
		if got := fyne.CurrentApp().Clipboard().Content(); got != "Hi Alice! Are you coming to the *meetup* tomorrow?" {
			t.Errorf("copied %q", got)
		}
		// Our last message can be edited and retracted.
		h.v.chat.list.ScrollToBottom()
		r, _ = h.rowFor("8 pm")
		test.TapSecondary(r.view)
		var labels []string
		for _, it := range h.v.chat.menu.Items {
			labels = append(labels, it.Label)
		}
		if strings.Join(labels, ",") != "Copy,Select text…,Edit,Retract…" {
			t.Errorf("menu of our last message: %q", labels)
		}
	})
}
