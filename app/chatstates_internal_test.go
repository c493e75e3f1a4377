// Tests of the chat interaction's parts (chatstates.go): the send queue
// keeps chat states and messages in order (the latest waiting state of a
// peer winning), and a draft write asked for earlier never lands after a
// later one for the same chat.
package app

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestDraftWriterSkipsAnOlderDraftWrittenLate(t *testing.T) {
	var mu sync.Mutex
	kept := map[string]string{}
	var writes []string
	w := newDraftWriter(func(_ context.Context, peer, text string) error {
		mu.Lock()
		defer mu.Unlock()
		kept[peer] = text
		writes = append(writes, peer+":"+text)
		return nil
	})
	ctx := context.Background()
	idle := w.ticket("bob@example.org")  // the idle timer's save of "hel"
	other := w.ticket("ann@example.org") // another chat's draft in between
	final := w.ticket("bob@example.org") // Stop's save of "hello"

	// The later write runs first, then the idle timer's goroutine gets to run.
	if wrote, err := w.write(ctx, final, "bob@example.org", "hello"); !wrote || err != nil {
		t.Fatalf("the newest draft: wrote=%v err=%v; want written", wrote, err)
	}
	if wrote, err := w.write(ctx, idle, "bob@example.org", "hel"); wrote || err != nil {
		t.Fatalf("the older draft: wrote=%v err=%v; want skipped", wrote, err)
	}
	if wrote, err := w.write(ctx, other, "ann@example.org", "hi"); !wrote || err != nil {
		t.Fatalf("another chat's draft: wrote=%v err=%v; want written (tickets are per chat)", wrote, err)
	}
	if kept["bob@example.org"] != "hello" || kept["ann@example.org"] != "hi" || len(writes) != 2 {
		t.Errorf("drafts kept %v after writes %v; want bob's newest and ann's, two writes", kept, writes)
	}
}

// Concurrent writes, each with its own ticket, end with the newest one's text.
func TestDraftWriterConcurrentWritesEndWithTheNewest(t *testing.T) {
	var mu sync.Mutex
	var last string
	w := newDraftWriter(func(_ context.Context, _, text string) error {
		mu.Lock()
		last = text
		mu.Unlock()
		return nil
	})
	const n = 50
	tickets := make([]uint64, n)
	for i := range tickets {
		tickets[i] = w.ticket("bob@example.org")
	}
	var wg sync.WaitGroup
	for i := n - 1; i >= 0; i-- {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, _ = w.write(context.Background(), tickets[i], "bob@example.org", "draft "+strconv.Itoa(i))
		}(i)
	}
	wg.Wait()
	if want := "draft " + strconv.Itoa(n-1); last != want {
		t.Errorf("the draft kept is %q; want the newest, %q", last, want)
	}
}

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
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	q.wait(ctx)

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
