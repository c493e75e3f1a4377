// Tests of what the chats tab sends around typing: chat states and
// messages leave in the order they were made (through one queue, the
// latest waiting state winning), and an xmpp: link's body joins the
// chat's draft instead of replacing it.
package views

import (
	"context"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"parley/app"
	"parley/app/store"
)

func TestSendQueueOrderAndLatestState(t *testing.T) {
	var (
		q       sendQueue
		mu      sync.Mutex
		got     []string
		started = make(chan struct{})
		release = make(chan struct{})
	)
	record := func(what string) func() {
		return func() {
			mu.Lock()
			got = append(got, what)
			mu.Unlock()
		}
	}
	q.push(queuedSend{peer: "bob", state: "composing", send: func() {
		close(started)
		<-release
		record("bob composing")()
	}})
	<-started // the queue is busy sending; everything below waits
	q.push(queuedSend{peer: "bob", state: "paused", send: record("bob paused")})
	q.push(queuedSend{peer: "cid", state: "inactive", send: record("cid inactive")})
	q.push(queuedSend{peer: "bob", state: "active", send: record("bob active")}) // replaces paused
	q.push(queuedSend{peer: "cid", state: "gone", send: record("cid gone")})     // replaces inactive
	q.push(queuedSend{peer: "bob", send: record("bob message")})                 // carries active
	q.push(queuedSend{peer: "bob", state: "composing", send: record("bob composing again")})
	q.push(queuedSend{peer: "bob", send: record("bob second message")})
	q.push(queuedSend{peer: "bob", state: "composing", send: record("bob composing 3")})
	q.push(queuedSend{peer: "bob", state: "paused", send: record("bob paused 3")}) // replaces composing 3
	close(release)
	q.wait(waitFor)

	want := []string{"bob composing", "cid gone", "bob message", "bob second message", "bob paused 3"}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != len(want) {
		t.Fatalf("sent %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("sent %q, want %q", got, want)
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.done != nil || len(q.waiting) != 0 {
		t.Error("the sending goroutine still runs with nothing to send")
	}
}

// recordingChats is the chat service with its sends recorded; the first
// chat state sent waits until release is closed (a slow connection).
type recordingChats struct {
	ChatService
	mu      sync.Mutex
	sent    []string
	first   sync.Once
	started chan struct{}
	release chan struct{}
}

func (r *recordingChats) add(s string) {
	r.mu.Lock()
	r.sent = append(r.sent, s)
	r.mu.Unlock()
}

func (r *recordingChats) log() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.sent...)
}

func (r *recordingChats) SendChatState(peer, state string) error {
	r.first.Do(func() {
		close(r.started)
		<-r.release
	})
	r.add(state)
	return nil
}

func (r *recordingChats) Send(ctx context.Context, peer, body string) (store.Message, error) {
	r.add("message " + body)
	return r.ChatService.Send(ctx, peer, body)
}

// TestComposingNeverFollowsTheMessage: "composing" stuck on a slow
// connection still reaches the peer before the message typed after it.
func TestComposingNeverFollowsTheMessage(t *testing.T) {
	svc := seedService(t, meJID, []store.Message{inMsg(bobJID, "Hi", testNow.Add(-time.Hour), "s1")})
	test.NewTempApp(t)
	rec := &recordingChats{ChatService: svc.Chats(), started: make(chan struct{}), release: make(chan struct{})}
	ui := &uiRunner{}
	var v *ChatsView
	ui.do(func() {
		w := test.NewTempWindow(t, nil)
		v = NewChatsView(w, rec, svc.Contacts(), ChatsOptions{Do: ui.do, Notify: func(*fyne.Notification) {},
			PausedAfter: time.Hour})
		w.SetContent(v.Content())
		w.Resize(fyne.NewSize(800, 600))
	})
	t.Cleanup(func() { ui.do(v.Stop) })
	ui.waitUI(t, "Bob listed", waitFor, func() bool { return v.list.index(bobJID) >= 0 })
	ui.do(func() { v.list.activate(v.list.index(bobJID)) })
	ui.waitUI(t, "Bob's chat", waitFor, func() bool { return v.chat.peer == bobJID && v.chat.loaded })

	ui.do(func() { test.Type(v.composer, "Hello") })
	<-rec.started // "composing" is on its way, slowly
	ui.do(func() { v.composer.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) })
	ui.do(func() { test.Type(v.composer, "x") }) // composing again, after the message
	close(rec.release)
	waitCond(t, "the message and the states sent", func() bool { return len(rec.log()) == 3 })
	got := rec.log()
	if got[0] != app.ChatStateComposing || got[1] != "message Hello" || got[2] != app.ChatStateComposing {
		t.Errorf("sent in the order %q", got)
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
