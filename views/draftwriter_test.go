// Tests of draftWriter: a draft write asked for earlier never lands after
// a later one for the same chat.
package views

import (
	"context"
	"strconv"
	"sync"
	"testing"
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
