// Package uiqueue stands in for Fyne's main goroutine in the benchmarks:
// Fyne's test driver runs fyne.Do inline on the calling goroutine, so the
// views get Queue.Do (which only queues, as the real driver does) and the
// benchmark's goroutine runs the queue in Pump, touching widgets only there.
package uiqueue

import (
	"fmt"
	"sync"
	"time"
)

// Queue holds UI work until Pump runs it.
type Queue struct {
	mu   sync.Mutex
	fns  []func()
	wake chan struct{}
}

// New returns an empty queue.
func New() *Queue { return &Queue{wake: make(chan struct{}, 1)} }

// Do queues fn; it is the views' `do` runner.
func (q *Queue) Do(fn func()) {
	q.mu.Lock()
	q.fns = append(q.fns, fn)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// ErrTimeout is returned by Pump when done did not hold in time.
var ErrTimeout = fmt.Errorf("timed out")

// Pump runs queued functions one at a time until done holds (checked
// before each, and whenever the queue is idle), or fails after timeout.
func (q *Queue) Pump(timeout time.Duration, done func() bool) error {
	limit := time.NewTimer(timeout)
	defer limit.Stop()
	for {
		if done() {
			return nil
		}
		q.mu.Lock()
		var fn func()
		if len(q.fns) > 0 {
			fn, q.fns = q.fns[0], q.fns[1:]
		}
		q.mu.Unlock()
		if fn != nil {
			fn()
			continue
		}
		select {
		case <-q.wake:
		case <-limit.C:
			return fmt.Errorf("%w after %v", ErrTimeout, timeout)
		}
	}
}

// Drain runs what is queued now, then keeps running for d (so late updates
// land before a view is dropped or memory is measured).
func (q *Queue) Drain(d time.Duration) {
	end := time.Now().Add(d)
	_ = q.Pump(d, func() bool { return time.Now().After(end) })
}
