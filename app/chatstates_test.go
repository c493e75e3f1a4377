// Tests of the chat interaction at the app level, no window needed: what
// the person does (a chat opened, typing, a pause, a message, the window
// left, the chat left, the chats closed) becomes the XEP-0085 chat states
// a real peer sees, in order with the messages; and Logout and Close send
// what was handed over (states, messages, drafts) before the session ends,
// also when the connection is stuck for a while, without the caller
// waiting on it.
package app_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"parley/app"
	"parley/app/apptest"
	"parley/app/store"
)

// TestChatStatesReachThePeer: Bob, a second Parley, sees what we do.
func TestChatStatesReachThePeer(t *testing.T) {
	srv := apptest.Shared(t)
	me := srv.LogIn(t, "csme", func(o *app.Options) { o.PausedAfter = 300 * time.Millisecond })
	bob := srv.LogIn(t, "csbob")
	apptest.Befriend(t, me, bob, "")
	cs := me.Svc.Chats()
	seen := func(what, want string) {
		t.Helper()
		apptest.WaitChats(t, bob.Svc.Chats(), "Bob seeing us "+what, chatWait, func() (bool, string) {
			s := bob.Svc.Chats().Typing(me.JID)
			return s == want, s
		})
	}

	cs.ChatOpened(bob.JID)
	cs.ComposerChanged(bob.JID, "H")
	cs.ComposerChanged(bob.JID, "Hi")
	seen("compose", app.ChatStateComposing)
	seen("pause", app.ChatStatePaused) // nothing typed for PausedAfter
	cs.ComposerChanged(bob.JID, "")
	seen("active with the composer emptied", app.ChatStateActive)
	cs.ComposerChanged(bob.JID, "Hi Bob")
	seen("compose again", app.ChatStateComposing)
	cs.SendMessage(bob.JID, "Hi Bob", func(err error) { t.Errorf("sending: %v", err) })
	apptest.WaitChats(t, bob.Svc.Chats(), "Bob receiving the message", chatWait, func() (bool, string) {
		msgs, err := apptest.History(ctxFor(t), bob.Svc.Chats(), me.JID)
		return err == nil && len(msgs) == 1 && msgs[0].Body == "Hi Bob", fmt.Sprint(apptest.Bodies(msgs), err)
	})
	if s := bob.Svc.Chats().Typing(me.JID); s != app.ChatStateActive {
		t.Errorf("Bob sees %q after our message, want active (the message carries it)", s)
	}
	if d, ok := cs.DraftOf(bob.JID); !ok || d != "" {
		t.Errorf("the draft after sending is %q (%v), want kept empty", d, ok)
	}

	cs.WindowFocused(false)
	seen("inactive when the window is left", app.ChatStateInactive)
	cs.WindowFocused(true)
	seen("active when back in the window", app.ChatStateActive)
	cs.ChatLeft(bob.JID)
	seen("inactive when the chat is left", app.ChatStateInactive)

	// Back in the chat, typing, then the chats close: gone.
	cs.ChatOpened(bob.JID)
	cs.ComposerChanged(bob.JID, "x")
	seen("compose in the chat opened again", app.ChatStateComposing)
	cs.ChatsClosed()
	seen("gone when the chats close", app.ChatStateGone)
}

// TestLogoutFlushesWhatWasHandedOver: a message typed just before logging
// out, and "gone", reach the peer: Logout sends them before the session
// ends (the window does not wait).
func TestLogoutFlushesWhatWasHandedOver(t *testing.T) {
	srv := apptest.Shared(t)
	me := srv.LogIn(t, "flushme")
	bob := srv.LogIn(t, "flushbob")
	apptest.Befriend(t, me, bob, "")
	cs := me.Svc.Chats()
	cs.ChatOpened(bob.JID)
	cs.ComposerChanged(bob.JID, "bye")
	cs.SendMessage(bob.JID, "bye", func(err error) { t.Errorf("sending: %v", err) })
	cs.ComposerChanged(bob.JID, "half a thought")
	cs.KeepDraft(bob.JID, "half a thought")
	cs.ChatsClosed()
	if err := me.Svc.Logout(); err != nil {
		t.Fatal(err)
	}
	apptest.WaitChats(t, bob.Svc.Chats(), "Bob receiving the last message and gone", chatWait, func() (bool, string) {
		msgs, err := apptest.History(ctxFor(t), bob.Svc.Chats(), me.JID)
		s := bob.Svc.Chats().Typing(me.JID)
		return err == nil && len(msgs) == 1 && msgs[0].Body == "bye" && s == app.ChatStateGone,
			fmt.Sprint(apptest.Bodies(msgs), s, err)
	})
	conv, ok, err := cs.Conversation(ctxFor(t), bob.JID)
	if err != nil || !ok || conv.Draft != "half a thought" {
		t.Errorf("the kept draft is %q (%v, %v), want the one handed over before Logout", conv.Draft, ok, err)
	}
}

// callLog records what reached the chat service through the wire.
type callLog struct {
	mu    sync.Mutex
	calls []string
	added chan struct{} // gets a value after each add (buffered: 1)
}

func (l *callLog) add(s string) {
	l.mu.Lock()
	l.calls = append(l.calls, s)
	l.mu.Unlock()
	select {
	case l.added <- struct{}{}:
	default:
	}
}

// wait waits until ok holds of the log, checking at once and after each
// call recorded, or fails t after chatWait.
func (l *callLog) wait(t *testing.T, what string, ok func([]string) bool) {
	t.Helper()
	deadline := time.NewTimer(chatWait)
	defer deadline.Stop()
	for !ok(l.log()) {
		select {
		case <-l.added:
		case <-deadline.C:
			t.Fatalf("%s: not within %v; log %q", what, chatWait, l.log())
		}
	}
}

func (l *callLog) log() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.calls...)
}

// stuckWire is the chat service on a stuck connection and disk: chat
// states, messages and drafts wait until release is closed (or their
// context ends), then reach the service; it records what did.
type stuckWire struct {
	*app.ChatService
	callLog
	release chan struct{}
	started chan struct{} // closed when the first call waits
	first   sync.Once
}

func newStuckWire(cs *app.ChatService) *stuckWire {
	return &stuckWire{ChatService: cs, release: make(chan struct{}), started: make(chan struct{}),
		callLog: callLog{added: make(chan struct{}, 1)}}
}

func (s *stuckWire) block(ctx context.Context) error {
	s.first.Do(func() { close(s.started) })
	select {
	case <-s.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *stuckWire) SendChatState(peer, state string) error {
	_ = s.block(context.Background())
	s.add(state)
	return nil
}

func (s *stuckWire) Send(ctx context.Context, peer, body string) (store.Message, error) {
	if err := s.block(ctx); err != nil {
		return store.Message{}, err
	}
	s.add("message " + body)
	return s.ChatService.Send(ctx, peer, body)
}

func (s *stuckWire) SetDraft(ctx context.Context, peer, text string) error {
	if err := s.block(ctx); err != nil {
		return err
	}
	s.add("draft " + text)
	return s.ChatService.SetDraft(ctx, peer, text)
}

const (
	stuckMe  = "me@example.org"
	stuckBob = "bob@example.org"
)

// offlineService is a service on a profile of stuckMe (not logged in)
// whose conversation with stuckBob exists, with a long FlushWait.
func offlineService(t *testing.T) *app.Service {
	t.Helper()
	dir := t.TempDir()
	p, err := app.OpenProfile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Update(func(st *app.AccountSettings) { st.JID = stuckMe }); err != nil {
		t.Fatal(err)
	}
	svc := apptest.NewService(t, dir, nil, func(o *app.Options) { o.FlushWait = time.Hour })
	if _, err := svc.Chats().StartConversation(ctxFor(t), stuckBob); err != nil {
		t.Fatal(err)
	}
	return svc
}

// returnsAtOnce fails t if fn blocks (it runs on the UI goroutine).
func returnsAtOnce(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { fn(); close(done) }()
	select {
	case <-done:
	case <-time.After(chatWait):
		t.Fatalf("%s waits for a stuck send", what)
	}
}

// TestComposingNeverFollowsTheMessage: "composing" stuck on a slow
// connection still reaches the peer before the message typed after it,
// and "composing" typed after the message after it.
func TestComposingNeverFollowsTheMessage(t *testing.T) {
	svc := offlineService(t)
	cs := svc.Chats()
	stuck := newStuckWire(cs)
	cs.SetChatWire(stuck)
	t.Cleanup(func() { cs.SetChatWire(nil) })
	cs.ChatOpened(stuckBob)
	cs.ComposerChanged(stuckBob, "Hello")
	<-stuck.started // "composing" is on its way, slowly
	returnsAtOnce(t, "SendMessage", func() { cs.SendMessage(stuckBob, "Hello", nil) })
	cs.ComposerChanged(stuckBob, "x") // composing again, after the message
	close(stuck.release)
	stuck.wait(t, "the message and the states sent", func(log []string) bool { return len(sends(log)) == 3 })
	got := sends(stuck.log())
	if got[0] != app.ChatStateComposing || got[1] != "message Hello" || got[2] != app.ChatStateComposing {
		t.Errorf("sent in the order %q", got)
	}
}

// sends is the log without the drafts (written on their own goroutine).
func sends(log []string) []string {
	var out []string
	for _, s := range log {
		if !strings.HasPrefix(s, "draft ") {
			out = append(out, s)
		}
	}
	return out
}

// TestLogoutWaitsForAStuckSend: the calls the views make while a send is
// stuck return at once; the draft, the queued message and "gone" still
// reach the service before Logout ends the session, after which it may
// close.
func TestLogoutWaitsForAStuckSend(t *testing.T) {
	svc := offlineService(t)
	cs := svc.Chats()
	stuck := newStuckWire(cs)
	cs.SetChatWire(stuck)
	t.Cleanup(func() {
		select {
		case <-stuck.release:
		default:
			close(stuck.release)
		}
	})

	cs.ChatOpened(stuckBob)
	cs.ComposerChanged(stuckBob, "Hello")
	<-stuck.started // "composing" is stuck on the connection
	returnsAtOnce(t, "the views' calls", func() {
		cs.SendMessage(stuckBob, "Hello", nil)
		cs.ComposerChanged(stuckBob, "unsent words")
		cs.KeepDraft(stuckBob, "unsent words")
		cs.ChatsClosed()
	})
	loggedOut := make(chan struct{})
	go func() {
		_ = svc.Logout()
		stuck.add("logged out")
		close(loggedOut)
	}()
	// Give a Logout that does not wait the time to return (a slow machine
	// only makes this check weaker, never wrong).
	select {
	case <-loggedOut:
		t.Fatal("Logout returned while the sends were stuck")
	case <-time.After(200 * time.Millisecond):
	}
	if got := stuck.log(); len(got) != 0 {
		t.Fatalf("%q reached the service while it was stuck", got)
	}
	close(stuck.release)
	select {
	case <-loggedOut:
	case <-time.After(chatWait):
		t.Fatal("Logout did not return after the connection came back")
	}
	// All of it reached the service before Logout ended the session.
	got := stuck.log()
	if got[len(got)-1] != "logged out" {
		t.Errorf("Logout returned before everything reached the service: %q", got)
	}
	draft := false
	for _, s := range got {
		draft = draft || s == "draft unsent words"
	}
	if !draft {
		t.Errorf("the draft did not reach the service before Logout (got %q)", got)
	}
	want := []string{app.ChatStateComposing, "message Hello", app.ChatStateGone, "logged out"}
	if s := sends(got); fmt.Sprint(s) != fmt.Sprint(want) {
		t.Errorf("sent %q, want %q", s, want)
	}
	msgs, err := apptest.History(ctxFor(t), cs, stuckBob)
	if err != nil || len(msgs) == 0 || msgs[len(msgs)-1].Body != "Hello" {
		t.Errorf("Bob's history holds %q (%v), want the message sent before Logout", apptest.Bodies(msgs), err)
	}
	conv, ok, err := cs.Conversation(ctxFor(t), stuckBob)
	if err != nil || !ok || conv.Draft != "unsent words" {
		t.Errorf("Bob's kept draft is %q (%v, %v), want the composer's text", conv.Draft, ok, err)
	}
}

// ctxFor is a context that ends with t (or after chatWait).
func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), chatWait)
	t.Cleanup(cancel)
	return ctx
}
