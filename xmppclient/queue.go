// An unbounded, ordered event queue between the reader goroutine and the
// app: the reader never blocks on a slow consumer (which could otherwise
// deadlock an app that waits for an IQ reply while handling an event).
package xmppclient

import "sync"

type eventQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	items  []Event
	closed bool
	out    chan Event
	done   chan struct{}
}

func newEventQueue() *eventQueue {
	q := &eventQueue{out: make(chan Event, 64), done: make(chan struct{})}
	q.cond = sync.NewCond(&q.mu)
	go q.pump()
	return q
}

func (q *eventQueue) push(e Event) {
	q.mu.Lock()
	if !q.closed {
		q.items = append(q.items, e)
		q.cond.Signal()
	}
	q.mu.Unlock()
}

// close lets the pump deliver what is queued, then close the channel.
// abandon makes the pump stop even if nobody reads.
func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.cond.Signal()
	q.mu.Unlock()
}

func (q *eventQueue) abandon() {
	select {
	case <-q.done:
	default:
		close(q.done)
	}
}

func (q *eventQueue) pump() {
	defer close(q.out)
	for {
		q.mu.Lock()
		for len(q.items) == 0 && !q.closed {
			q.cond.Wait()
		}
		if len(q.items) == 0 && q.closed {
			q.mu.Unlock()
			return
		}
		batch := q.items
		q.items = nil
		q.mu.Unlock()
		for _, e := range batch {
			select {
			case q.out <- e:
			case <-q.done:
				return
			}
		}
	}
}
