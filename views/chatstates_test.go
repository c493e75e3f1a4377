// Tests of what the chats tab sends around typing: chat states and
// messages leave in the order they were made (through one queue, the
// latest waiting state winning), stopping the tab does not wait on the UI
// goroutine for a stuck send yet still sends it and keeps the draft, and
// an xmpp: link's body joins the chat's draft instead of replacing it.
package views

import (
	"context"
	"fmt"
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
	q.wait(ctxFor(t))

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

// callLog records what reached a chat service double.
type callLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *callLog) add(s string) {
	l.mu.Lock()
	l.calls = append(l.calls, s)
	l.mu.Unlock()
}

func (l *callLog) log() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.calls...)
}

// recordingChats is the chat service with its sends recorded; the first
// chat state sent waits until release is closed (a slow connection).
type recordingChats struct {
	ChatService
	callLog
	first   sync.Once
	started chan struct{}
	release chan struct{}
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
	rec := &recordingChats{ChatService: svc.Chats(), started: make(chan struct{}), release: make(chan struct{})}
	ui, v := openBobOn(t, svc, rec, ChatsOptions{PausedAfter: time.Hour})

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

// stopChats stops v on the UI goroutine and waits, off it, until the work
// Stop handed off is done (as the window does before the session closes).
func stopChats(t *testing.T, ui *uiRunner, v *ChatsView) {
	t.Helper()
	var done <-chan struct{}
	ui.do(func() { done = v.Stop() })
	select {
	case <-done:
	case <-time.After(waitFor):
		t.Errorf("the chats view's last sends not done after %v", waitFor)
	}
}

// stuckChats is the chat service on a stuck connection and disk: chat
// states, messages and drafts wait until release is closed (or their
// context ends), then reach the service; it records what did.
type stuckChats struct {
	ChatService
	callLog
	release chan struct{}
	started chan struct{} // closed when the first call waits
	first   sync.Once
}

func (s *stuckChats) block(ctx context.Context) error {
	s.first.Do(func() { close(s.started) })
	select {
	case <-s.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *stuckChats) SendChatState(peer, state string) error {
	_ = s.block(context.Background())
	s.add(state)
	return nil
}

func (s *stuckChats) Send(ctx context.Context, peer, body string) (store.Message, error) {
	if err := s.block(ctx); err != nil {
		return store.Message{}, err
	}
	s.add("message " + body)
	return s.ChatService.Send(ctx, peer, body)
}

func (s *stuckChats) SetDraft(ctx context.Context, peer, text string) error {
	if err := s.block(ctx); err != nil {
		return err
	}
	s.add("draft " + text)
	return s.ChatService.SetDraft(ctx, peer, text)
}

// TestStopDoesNotWaitForAStuckSend: stopping the chats (logout, closing
// the window) returns on the UI goroutine while a send is stuck; the draft,
// the queued message and "gone" still reach the service before the channel
// Stop returned is closed, after which the session may close.
func TestStopDoesNotWaitForAStuckSend(t *testing.T) {
	svc := seedService(t, meJID, []store.Message{inMsg(bobJID, "Hi", testNow.Add(-time.Hour), "t1")})
	stuck := &stuckChats{ChatService: svc.Chats(), started: make(chan struct{}), release: make(chan struct{})}
	ui, v := openBobOn(t, svc, stuck, ChatsOptions{PausedAfter: time.Hour, StopWait: time.Hour})
	t.Cleanup(func() { // before the view's own Stop in the cleanup of openBobOn
		select {
		case <-stuck.release:
		default:
			close(stuck.release)
		}
	})

	ui.do(func() { test.Type(v.composer, "Hello") })
	<-stuck.started // "composing" is stuck on the connection
	ui.do(func() { v.composer.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) })
	ui.do(func() { test.Type(v.composer, "unsent words") })

	stopped := make(chan (<-chan struct{}), 1)
	go ui.do(func() { stopped <- v.Stop() })
	var done <-chan struct{}
	select {
	case done = <-stopped:
	case <-time.After(waitFor):
		t.Fatal("Stop waits on the UI goroutine for a stuck send")
	}
	if got := stuck.log(); len(got) != 0 {
		t.Fatalf("%q reached the service while it was stuck", got)
	}
	select {
	case <-done:
		t.Fatal("Stop's work counts as done while the draft and the sends are stuck")
	default:
	}
	close(stuck.release)
	select {
	case <-done:
	case <-time.After(waitFor):
		t.Fatal("Stop's work not done after the connection came back")
	}
	// All of it reached the service before done was closed.
	got := stuck.log()
	var sends []string
	draft := false
	for _, s := range got {
		if s == "draft unsent words" {
			draft = true
		} else {
			sends = append(sends, s)
		}
	}
	if !draft {
		t.Errorf("the draft did not reach the service before Stop's work ended (got %q)", got)
	}
	want := []string{app.ChatStateComposing, "message Hello", app.ChatStateGone}
	if fmt.Sprint(sends) != fmt.Sprint(want) {
		t.Errorf("sent %q before Stop's work ended, want %q", sends, want)
	}
	if m, ok := lastMessage(t, svc, bobJID); !ok || m.Body != "Hello" {
		t.Errorf("the last message in Bob's history is %q, want the one sent before Stop", m.Body)
	}
	conv, ok, err := svc.Chats().Conversation(ctxFor(t), bobJID)
	if err != nil || !ok || conv.Draft != "unsent words" {
		t.Errorf("Bob's kept draft is %q (%v, %v), want the composer's text", conv.Draft, ok, err)
	}
}
