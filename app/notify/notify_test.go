// Tests of the notification helpers: a burst posted while a delivery waits
// is delivered once, merged; a loop runs in order and drops what waits when
// closed; a hub calls its subscribers in order until they unsubscribe.
package notify

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

const waitFor = 10 * time.Second

func TestCoalescerMergesWhileADeliveryWaits(t *testing.T) {
	var scheduled []func()
	var got [][]int
	c := NewCoalescer(func(fn func()) { scheduled = append(scheduled, fn) },
		func(acc, v []int) []int { return append(acc, v...) },
		func(v []int) { got = append(got, v) })
	c.Post([]int{1})
	c.Post([]int{2})
	c.Post([]int{3})
	if len(scheduled) != 1 {
		t.Fatalf("%d deliveries scheduled for a burst, want 1", len(scheduled))
	}
	scheduled[0]()
	c.Post([]int{4}) // after the delivery started: a new one
	if len(scheduled) != 2 {
		t.Fatalf("%d deliveries scheduled, want 2", len(scheduled))
	}
	scheduled[1]()
	if fmt.Sprint(got) != "[[1 2 3] [4]]" {
		t.Errorf("delivered %v, want [[1 2 3] [4]]", got)
	}
}

func TestCoalescerNewestWinsWithoutMerge(t *testing.T) {
	var run func()
	var got []string
	c := NewCoalescer(func(fn func()) { run = fn }, nil, func(v string) { got = append(got, v) })
	c.Post("a")
	c.Post("b")
	run()
	run() // a second call finds nothing waiting
	if !slices.Equal(got, []string{"b"}) {
		t.Errorf("delivered %q, want [b]", got)
	}
}

func TestLoopRunsInOrderAndStops(t *testing.T) {
	l := NewLoop()
	var mu sync.Mutex
	var got []int
	done := make(chan struct{})
	for i := range 100 {
		l.Run(func() {
			mu.Lock()
			got = append(got, i)
			mu.Unlock()
			if i == 99 {
				close(done)
			}
		})
	}
	select {
	case <-done:
	case <-time.After(waitFor):
		t.Fatal("the loop did not run what it was given")
	}
	mu.Lock()
	for i, v := range got {
		if v != i {
			t.Fatalf("ran out of order: %v", got)
		}
	}
	mu.Unlock()

	// Close waits for the running function and drops what waits.
	release := make(chan struct{})
	started := make(chan struct{})
	l.Run(func() { close(started); <-release })
	ranAfter := make(chan struct{}, 1)
	<-started
	l.Run(func() { ranAfter <- struct{}{} })
	closed := make(chan struct{})
	go func() { l.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned while a function was running")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	select {
	case <-closed:
	case <-time.After(waitFor):
		t.Fatal("Close did not return")
	}
	select {
	case <-ranAfter:
		t.Error("a function queued before Close ran after it")
	default:
	}
	l.Run(func() { t.Error("ran after Close") })
	l.Close() // twice is fine
}

func TestHubOrderAndUnsubscribe(t *testing.T) {
	var h Hub[int]
	var got []string
	unA := h.Subscribe(func(v int) { got = append(got, fmt.Sprint("a", v)) })
	h.Subscribe(func(v int) { got = append(got, fmt.Sprint("b", v)) })
	h.Publish(1)
	unA()
	unA() // twice is fine
	h.Publish(2)
	if want := []string{"a1", "b1", "b2"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
