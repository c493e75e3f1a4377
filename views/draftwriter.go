// Draft writes in the order they were asked for: the chats view keeps
// drafts off the UI goroutine, and a write asked for earlier (an idle
// timer's) must never land after a later one (leaving the chat, Stop).
package views

import (
	"context"
	"sync"
)

// draftWriter writes drafts through save, one at a time, skipping a write
// when a newer one for the same peer was asked for meanwhile. The zero
// value is not usable: see newDraftWriter.
type draftWriter struct {
	save func(ctx context.Context, peer, text string) error

	mu     sync.Mutex // guards next and latest
	next   uint64
	latest map[string]uint64 // peer -> the newest write asked for

	writing sync.Mutex // held during a write, so a check and its write are one step
}

func newDraftWriter(save func(ctx context.Context, peer, text string) error) *draftWriter {
	return &draftWriter{save: save, latest: map[string]uint64{}}
}

// ticket records that text is now the newest draft for peer; call it in
// the order the drafts were made (on the UI goroutine), then write with
// the ticket, on any goroutine.
func (w *draftWriter) ticket(peer string) uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.next++
	w.latest[peer] = w.next
	return w.next
}

// write keeps text as peer's draft unless a newer ticket for peer was
// taken; it reports whether it wrote (false, nil when skipped).
func (w *draftWriter) write(ctx context.Context, t uint64, peer, text string) (bool, error) {
	w.writing.Lock()
	defer w.writing.Unlock()
	w.mu.Lock()
	stale := w.latest[peer] != t
	w.mu.Unlock()
	if stale {
		return false, nil
	}
	return true, w.save(ctx, peer, text)
}
