// The waiting and following shared by the harness's peers (RawPeer,
// SlixPeer): each keeps what it received in an append-only slice guarded by
// a mutex, and closes and replaces a notify channel whenever something
// arrives. These helpers scan such a log from the start, so nothing that
// arrived before the call is missed.
package xmpptest

import (
	"context"
	"sync"
)

// waitIn returns the first item of *items (before or after the call) for
// which pred is true. closed gives the error to return once done is closed;
// it is called with mu held.
func waitIn[T any](ctx context.Context, mu *sync.Mutex, items *[]T, notify *chan struct{}, done <-chan struct{},
	closed func() error, pred func(T) bool) (T, error) {
	var zero T
	for i := 0; ; {
		mu.Lock()
		for ; i < len(*items); i++ {
			if pred((*items)[i]) {
				it := (*items)[i]
				mu.Unlock()
				return it, nil
			}
		}
		n := *notify
		select {
		case <-done:
			err := closed()
			mu.Unlock()
			return zero, err
		default:
		}
		mu.Unlock()
		select {
		case <-n:
		case <-ctx.Done():
			return zero, ctx.Err()
		}
	}
}

// follow sends every item of *items to out, from the first on, in order,
// and closes out once done is closed and everything was sent.
func follow[T any](mu *sync.Mutex, items *[]T, notify *chan struct{}, done <-chan struct{}, out chan<- T) {
	defer close(out)
	for i := 0; ; i++ {
		mu.Lock()
		for i >= len(*items) {
			select {
			case <-done:
				mu.Unlock()
				return
			default:
			}
			n := *notify
			mu.Unlock()
			<-n
			mu.Lock()
		}
		it := (*items)[i]
		mu.Unlock()
		out <- it
	}
}
