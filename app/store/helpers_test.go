// Test helpers shared by the store's tests: a fresh store per test and
// short constructors for incoming and outgoing messages.
package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

const (
	me    = "me@example.org"
	alice = "alice@example.org"
	bob   = "bob@example.net"
)

// base is the time the test messages start at.
var base = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// testNow is the clock of the stores the tests open (unless a test gives
// its own): fixed, an hour after base, so that nothing depends on the day
// the suite runs (sent and pending edits expire a week after they are
// stored, and the test messages are dated from base).
func testNow() time.Time { return base.Add(time.Hour) }

// openTest opens a store in a fresh temporary directory, closed at cleanup.
func openTest(t testing.TB, opts Options) *Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "history.db"), opts)
}

func openAt(t testing.TB, path string, opts Options) *Store {
	t.Helper()
	if opts.Now == nil {
		opts.Now = testNow
	}
	s, err := Open(testCtx(t), path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// in is an incoming message from peer's resource "phone", sec seconds after base.
func in(peer, body string, sec int) Message {
	return Message{Conversation: peer, Direction: In, Sender: peer + "/phone", Body: body,
		Time: base.Add(time.Duration(sec) * time.Second)}
}

// out is an outgoing message to peer, queued, sec seconds after base.
func out(peer, body string, sec int) Message {
	return Message{Conversation: peer, Direction: Out, Sender: me + "/parley", Body: body,
		Time: base.Add(time.Duration(sec) * time.Second), State: StateQueued}
}

// contextCancelled returns a context that is already cancelled.
func contextCancelled() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx, cancel
}

func mustPut(t testing.TB, s *Store, m Message) {
	t.Helper()
	if err := s.Put(m); err != nil {
		t.Fatalf("Put: %v", err)
	}
}

func mustSave(t testing.TB, s *Store, m Message) Saved {
	t.Helper()
	r, err := s.Save(testCtx(t), m)
	if err != nil {
		t.Fatalf("Save(%+v): %v", m, err)
	}
	return r
}

func mustGet(t testing.TB, s *Store, id int64) Message {
	t.Helper()
	m, err := s.Get(testCtx(t), id)
	if err != nil {
		t.Fatalf("Get(%d): %v", id, err)
	}
	return m
}

// count runs a COUNT query on the store's read pool.
func count(t testing.TB, s *Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := s.rdb.QueryRowContext(testCtx(t), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// bodies lists the bodies of msgs, for readable comparisons.
func bodies(msgs []Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Body
	}
	return out
}
