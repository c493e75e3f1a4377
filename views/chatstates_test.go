// Tests of what the chats tab reports to the chat service as the person
// types, sends, leaves and closes (the service decides what goes on the
// wire: app/chatstates_test.go), and of an xmpp: link's body joining the
// chat's draft instead of replacing it.
package views

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"parley/app"
	"parley/app/store"
)

// reportingChats is the chat service with what the view reports of the
// person's actions recorded (and passed on).
type reportingChats struct {
	ChatService
	mu    sync.Mutex
	calls []string
}

func (r *reportingChats) add(s string) {
	r.mu.Lock()
	r.calls = append(r.calls, s)
	r.mu.Unlock()
}

func (r *reportingChats) log() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...)
}

func (r *reportingChats) ChatOpened(peer string) {
	r.add("opened " + peer)
	r.ChatService.ChatOpened(peer)
}
func (r *reportingChats) ChatLeft(peer string) { r.add("left " + peer); r.ChatService.ChatLeft(peer) }
func (r *reportingChats) ChatsClosed()         { r.add("closed"); r.ChatService.ChatsClosed() }
func (r *reportingChats) ComposerChanged(peer, text string) {
	r.add("typed " + text)
	r.ChatService.ComposerChanged(peer, text)
}
func (r *reportingChats) SendMessage(peer, text string, failed func(error)) {
	r.add("send " + text)
	r.ChatService.SendMessage(peer, text, failed)
}
func (r *reportingChats) KeepDraft(peer, text string) {
	r.add("draft " + text)
	r.ChatService.KeepDraft(peer, text)
}

// TestViewReportsWhatThePersonDid: typing, Enter, a correction (not
// typing), leaving for another chat and closing reach the service as what
// the person did, in order; the view sends nothing itself.
func TestViewReportsWhatThePersonDid(t *testing.T) {
	svc := seedService(t, meJID, []store.Message{
		inMsg(bobJID, "Hi", testNow.Add(-time.Hour), "r1"),
		inMsg(cidJID, "Yo", testNow.Add(-2*time.Hour), "r2"),
	})
	rec := &reportingChats{ChatService: svc.Chats()}
	ui, v := openBobOn(t, svc, rec, ChatsOptions{})
	ui.do(func() { test.Type(v.composer, "He") })
	ui.do(func() { v.composer.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) })
	ui.waitUI(t, "the message shown", waitFor, func() bool { _, ok := v.chat.lastOwn(); return ok })
	ui.do(func() {
		v.composer.TypedKey(&fyne.KeyEvent{Name: fyne.KeyUp}) // edit the last message: not typing
		v.composer.SetText("Hey")
		v.composer.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
		test.Type(v.composer, "x")
		v.list.activate(v.list.index(cidJID))
	})
	ui.waitUI(t, "Cid's chat", waitFor, func() bool { return v.chat.peer == cidJID })
	ui.do(func() { v.Stop() })
	want := []string{"opened " + bobJID, "typed H", "typed He", "send He", "typed x", "draft x", "left " + bobJID,
		"opened " + cidJID, "closed"}
	if got := rec.log(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("reported %q,\nwant %q", got, want)
	}
}

func TestWithLinkBody(t *testing.T) {
	for _, tc := range []struct{ draft, body, want string }{
		{"", "hi", "hi"},
		{"  \n", "hi", "hi"},
		{"my draft", "hi", "my draft\nhi"},
		{"my draft\n\n", "hi", "my draft\nhi"},
		{"my draft\nhi", "hi", "my draft\nhi"}, // the same link again
		{"my draft", "", "my draft"},
	} {
		if got := withLinkBody(tc.draft, tc.body); got != tc.want {
			t.Errorf("withLinkBody(%q, %q) = %q, want %q", tc.draft, tc.body, got, tc.want)
		}
	}
}

// TestLinkBodyKeepsTheDraft: opening an xmpp: link with a body for a chat
// with a draft keeps the draft and puts the body after it.
func TestLinkBodyKeepsTheDraft(t *testing.T) {
	svc := seedService(t, meJID, []store.Message{
		inMsg(bobJID, "Hi", testNow.Add(-time.Hour), "d1"),
		inMsg(cidJID, "Yo", testNow.Add(-2*time.Hour), "d2"),
	})
	h := openChats(t, svc, fyne.NewSize(800, 600), false)
	h.openPeer(bobJID)
	h.ui.do(func() { test.Type(h.v.composer, "half-written answer") })
	h.openPeer(cidJID) // leaving keeps Bob's draft
	h.ui.do(func() { h.v.Open(bobJID, "text from the link") })
	h.wait("Bob's chat with the draft and the link's text", func() bool {
		return h.v.chat.peer == bobJID && h.v.composer.Text == "half-written answer\ntext from the link"
	})
	// A chat without a draft gets the body alone.
	h.ui.do(func() { h.v.Open(cidJID, "only this") })
	h.wait("Cid's chat with the link's text", func() bool {
		return h.v.chat.peer == cidJID && h.v.composer.Text == "only this"
	})
}

// openBobOn shows a chats tab on chats (a double of svc's chat service)
// with Bob's chat open; the tab is stopped when the test ends.
func openBobOn(t *testing.T, svc *app.Service, chats ChatService, opts ChatsOptions) (*uiRunner, *ChatsView) {
	t.Helper()
	test.NewTempApp(t)
	ui := &uiRunner{}
	opts.Do, opts.Notify = ui.do, func(*fyne.Notification) {}
	var v *ChatsView
	ui.do(func() {
		w := test.NewTempWindow(t, nil)
		v = NewChatsView(w, chats, svc.Contacts(), opts)
		w.SetContent(v.Content())
		w.Resize(fyne.NewSize(800, 600))
	})
	t.Cleanup(func() { stopChats(t, ui, v) })
	ui.waitUI(t, "Bob listed", waitFor, func() bool { return v.list.index(bobJID) >= 0 })
	ui.do(func() { v.list.activate(v.list.index(bobJID)) })
	ui.waitUI(t, "Bob's chat", waitFor, func() bool { return v.chat.peer == bobJID && v.chat.loaded })
	return ui, v
}

// stopChats stops v on the UI goroutine (the service sends what it
// handed over by itself; Logout and Close wait for it).
func stopChats(t *testing.T, ui *uiRunner, v *ChatsView) {
	t.Helper()
	ui.do(func() { v.Stop() })
}
