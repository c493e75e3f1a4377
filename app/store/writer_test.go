// Tests of the batching writer: a burst of Puts is committed in few
// transactions and reported through OnCommit, Flush and Close wait for what
// is queued, a bad message does not take its batch down, and calls after
// Close fail cleanly.
package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestPutBurstIsBatched(t *testing.T) {
	ctx := testCtx(t)
	var (
		mu      sync.Mutex
		commits int
		saved   []Saved
	)
	s := openTest(t, Options{OnCommit: func(b []Saved) {
		mu.Lock()
		defer mu.Unlock()
		commits++
		saved = append(saved, b...)
	}})
	const n = 10000 / raceScale
	start := time.Now()
	for i := range n {
		m := in(alice, fmt.Sprint("burst ", i), i)
		m.StanzaID = fmt.Sprint("a", i)
		if err := s.Put(m); err != nil {
			t.Fatal(err)
		}
	}
	putTime := time.Since(start)
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d Puts returned in %v, stored after %v in %d transactions", n, putTime, time.Since(start), commits)
	mu.Lock()
	defer mu.Unlock()
	if len(saved) != n {
		t.Fatalf("OnCommit reported %d messages, want %d", len(saved), n)
	}
	if commits > n/10 {
		t.Errorf("%d transactions for %d messages: not batched", commits, n)
	}
	// Reported in the order put.
	for i := 1; i < n; i++ {
		if saved[i].ID <= saved[i-1].ID || saved[i].Outcome != Inserted {
			t.Fatalf("saved[%d] = %+v after %+v", i, saved[i], saved[i-1])
		}
	}
	if got := count(t, s, `SELECT count(*) FROM messages`); got != n {
		t.Fatalf("%d stored", got)
	}
}

func TestBadMessageDoesNotSpoilItsBatch(t *testing.T) {
	ctx := testCtx(t)
	var (
		mu     sync.Mutex
		failed []Message
	)
	s := openTest(t, Options{MaxDelay: 50 * time.Millisecond, OnError: func(m Message, err error) {
		mu.Lock()
		defer mu.Unlock()
		failed = append(failed, m)
	}})
	// Put does not validate; the writer finds the bad one inside a batch.
	mustPut(t, s, in(alice, "good 1", 1))
	mustPut(t, s, Message{Body: "no conversation"})
	mustPut(t, s, Message{Conversation: alice, Direction: 7, Body: "bad direction"})
	mustPut(t, s, in(alice, "good 2", 2))
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	msgs, _ := s.Latest(ctx, alice, 10)
	if got := bodies(msgs); len(got) != 2 || got[0] != "good 1" || got[1] != "good 2" {
		t.Fatalf("stored %v", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(failed) != 2 {
		t.Fatalf("OnError got %d messages, want 2", len(failed))
	}
	// Save reports the error to its caller.
	if _, err := s.Save(ctx, Message{Body: "x"}); err == nil {
		t.Fatal("Save without a conversation succeeded")
	}
	// SaveBatch is all or nothing.
	if _, err := s.SaveBatch(ctx, []Message{in(bob, "would be stored", 1), {Body: "bad"}}); err == nil {
		t.Fatal("SaveBatch with a bad message succeeded")
	}
	if got := count(t, s, `SELECT count(*) FROM messages WHERE body = 'would be stored'`); got != 0 {
		t.Fatal("half of a failed SaveBatch was stored")
	}
	if _, found, _ := s.Conversation(ctx, bob); found {
		t.Fatal("the failed batch's conversation was created")
	}
	// And the writer's caches were not left pointing at rolled back rows.
	if r := mustSave(t, s, in(bob, "after the failure", 2)); r.Outcome != Inserted {
		t.Fatal(r)
	}
}

func TestCloseWaitsForQueuedWrites(t *testing.T) {
	// A linger far longer than the test's deadline: Close must commit the
	// queued writes at once, not wait for it.
	s := openTest(t, Options{MaxDelay: time.Hour})
	path := s.Path()
	for i := range 500 {
		mustPut(t, s, in(alice, fmt.Sprint("m", i), i))
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Close is waiting for the writer's linger")
	}
	if err := s.Put(in(alice, "too late", 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Put after Close: %v", err)
	}
	if _, err := s.Save(testCtx(t), in(alice, "too late", 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Save after Close: %v", err)
	}
	if err := s.Flush(testCtx(t)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Flush after Close: %v", err)
	}
	s = openAt(t, path, Options{})
	if got := count(t, s, `SELECT count(*) FROM messages`); got != 500 {
		t.Fatalf("%d of 500 queued messages stored by Close", got)
	}
}

func TestConcurrentReadersAndWriter(t *testing.T) {
	ctx := testCtx(t)
	s := openTest(t, Options{})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.Latest(ctx, alice, 50); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.Search(ctx, Query{Text: "message"}); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.Conversations(ctx, 0); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for i := range 2000 / raceScale {
		mustPut(t, s, in(alice, fmt.Sprint("message ", i), i))
		if i%100 == 0 {
			if _, err := s.MarkRead(ctx, alice, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
}

func TestCancelledContext(t *testing.T) {
	s := openTest(t, Options{})
	ctx, cancel := contextCancelled()
	defer cancel()
	if _, err := s.Save(ctx, in(alice, "never", 1)); err == nil {
		t.Fatal("Save with a cancelled context succeeded")
	}
	if err := s.Flush(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if got := count(t, s, `SELECT count(*) FROM messages`); got != 0 {
		t.Fatalf("a cancelled Save was stored (%d)", got)
	}
}
