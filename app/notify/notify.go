// Package notify holds the small mechanisms the services and the views use
// to pass changes on: Hub, a list of subscribers; Coalescer, which merges
// what is posted while a delivery waits, so a burst costs one delivery; and
// Loop, one goroutine that runs deliveries in order. The services post
// changes on a Coalescer running on their Loop; the views post what the
// services hand them on a Coalescer running on the UI goroutine (fyne.Do).
package notify

import (
	"slices"
	"sync"
)

// Hub is a list of subscribers of values of type T. Its zero value is
// ready; it is safe for concurrent use.
type Hub[T any] struct {
	mu   sync.Mutex
	subs []subscriber[T]
	next int
}

type subscriber[T any] struct {
	id int
	fn func(T)
}

// Subscribe adds fn; the function returned removes it.
func (h *Hub[T]) Subscribe(fn func(T)) (unsubscribe func()) {
	h.mu.Lock()
	id := h.next
	h.next++
	h.subs = append(h.subs, subscriber[T]{id, fn})
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		h.subs = slices.DeleteFunc(h.subs, func(s subscriber[T]) bool { return s.id == id })
		h.mu.Unlock()
	}
}

// Publish calls every subscriber with v, in the order they subscribed, on
// the caller's goroutine (a subscriber may unsubscribe meanwhile).
func (h *Hub[T]) Publish(v T) {
	h.mu.Lock()
	subs := slices.Clone(h.subs)
	h.mu.Unlock()
	for _, s := range subs {
		s.fn(v)
	}
}

// Coalescer hands values posted from any goroutine to a deliver function
// that run schedules; values posted while a delivery is scheduled and not
// yet started are merged into the one it delivers.
type Coalescer[T any] struct {
	run     func(func())
	merge   func(acc, v T) T
	deliver func(T)

	mu        sync.Mutex
	pending   T
	has       bool
	scheduled bool
}

// NewCoalescer makes a coalescer: run schedules a function (fyne.Do, or a
// Loop's Run), merge folds a newly posted value into those waiting (nil:
// the newest wins), deliver takes the result.
func NewCoalescer[T any](run func(func()), merge func(acc, v T) T, deliver func(T)) *Coalescer[T] {
	if merge == nil {
		merge = func(_, v T) T { return v }
	}
	return &Coalescer[T]{run: run, merge: merge, deliver: deliver}
}

// Post adds v to what the next delivery hands over; it never blocks on the
// delivery.
func (c *Coalescer[T]) Post(v T) {
	c.mu.Lock()
	if c.has {
		c.pending = c.merge(c.pending, v)
	} else {
		var zero T
		c.pending, c.has = c.merge(zero, v), true
	}
	if c.scheduled {
		c.mu.Unlock()
		return
	}
	c.scheduled = true
	c.mu.Unlock()
	c.run(c.flush)
}

// flush delivers what waits (run calls it).
func (c *Coalescer[T]) flush() {
	c.mu.Lock()
	v, has := c.pending, c.has
	var zero T
	c.pending, c.has, c.scheduled = zero, false, false
	c.mu.Unlock()
	if has {
		c.deliver(v)
	}
}

// Loop runs functions one at a time, in the order given, on a goroutine of
// its own.
type Loop struct {
	mu     sync.Mutex
	queue  []func()
	closed bool
	wake   chan struct{}
	done   chan struct{}
}

// NewLoop starts a loop; Close stops it.
func NewLoop() *Loop {
	l := &Loop{wake: make(chan struct{}, 1), done: make(chan struct{})}
	go l.serve()
	return l
}

// Run queues fn (dropped once the loop is closed).
func (l *Loop) Run(fn func()) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.queue = append(l.queue, fn)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *Loop) serve() {
	defer close(l.done)
	for range l.wake {
		for {
			l.mu.Lock()
			if l.closed || len(l.queue) == 0 {
				closed := l.closed
				l.queue = nil
				l.mu.Unlock()
				if closed {
					return
				}
				break
			}
			fn := l.queue[0]
			l.queue = l.queue[1:]
			l.mu.Unlock()
			fn()
		}
	}
}

// Close drops what waits, waits for the function running (if any) to
// return and stops the loop. It must not be called from the loop itself.
func (l *Loop) Close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		<-l.done
		return
	}
	l.closed = true
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	<-l.done
}
