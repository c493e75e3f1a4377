// Loading the open chat's messages a page at a time, off the UI goroutine:
// the first page (or the page around a search result), older pages when
// scrolling up, newer ones when scrolling down after a jump, and the
// loaded window read again when the conversation changes, merged into the
// rows without moving what is on screen. One load runs at a time; what is
// asked meanwhile runs after it.
package views

import (
	"context"

	"parley/app"
	"parley/app/store"
)

// pendingOps are loads asked for while another one runs.
type pendingOps struct{ refresh, older, newer bool }

// open shows the newest messages of peer.
func (v *chatView) open(peer string) { v.load(peer, nil) }

// openAt shows the messages around a search result, which is highlighted.
func (v *chatView) openAt(peer string, r store.SearchResult) { v.load(peer, &r) }

func (v *chatView) load(peer string, target *store.SearchResult) {
	if v.peer != peer {
		clear(v.layouts)
		v.thumbs.clear()
		clear(v.voice.waves)
		v.dropSelection()
	}
	v.gen++
	gen := v.gen
	v.peer = peer
	v.msgs, v.rows, v.rowOf = nil, nil, nil
	clear(v.rowByID)
	v.hasOlder, v.hasNewer, v.loaded, v.follow = false, false, false, false
	v.busy, v.want = true, pendingOps{}
	v.flashID = 0
	v.scroller.setList(nil)
	v.list = nil
	v.jumpBtn.Hide()
	v.showStatus("Loading…")
	svc, ctx := v.c.svc, v.c.ctx
	type page struct {
		msgs         []store.Message
		older, newer bool
	}
	inBackground(v.c.do, func() (p page, err error) {
		if target == nil {
			p.msgs, err = svc.Latest(ctx, peer, firstPageSize)
			p.older = len(p.msgs) == firstPageSize
			return p, err
		}
		// Before the position just after the result: the result and what
		// precedes it; then what follows.
		var before, after []store.Message
		before, err = svc.Before(ctx, peer, store.Cursor{Time: target.Time.UnixMilli(), ID: target.ID + 1}, jumpHalf)
		if err == nil {
			after, err = svc.After(ctx, peer, target.Cursor(), jumpHalf)
		}
		return page{append(before, after...), len(before) == jumpHalf, len(after) == jumpHalf}, err
	}, func(p page, err error) {
		if gen != v.gen {
			return
		}
		v.busy, v.loaded = false, true
		if err != nil {
			v.showStatus("Could not read the history: " + app.UserMessage(err))
			return
		}
		v.msgs, v.hasOlder, v.hasNewer = p.msgs, p.older, p.newer
		a := anchor{bottom: true}
		if target != nil {
			a = anchor{msgID: target.ID, center: true}
			v.flash(target.ID)
		}
		v.rebuild(a)
		v.kick()
	})
}

// changed: the conversation changed in the history (new messages, states,
// corrections); the loaded window is read again.
func (v *chatView) changed() {
	if v.peer == "" {
		return
	}
	v.want.refresh = true
	v.kick()
}

// kick starts the next load asked for, unless one runs.
func (v *chatView) kick() {
	for !v.busy && v.peer != "" && v.loaded {
		switch {
		case v.want.refresh:
			v.want.refresh = false
			v.startRefresh()
		case v.want.older:
			v.want.older = false
			if v.hasOlder && len(v.msgs) > 0 {
				v.startOlder()
			}
		case v.want.newer:
			v.want.newer = false
			if v.hasNewer && len(v.msgs) > 0 {
				v.startNewer()
			}
		default:
			return
		}
	}
}

// run loads on a goroutine and applies the result on the UI goroutine,
// unless another chat was opened meanwhile.
func (v *chatView) run(load func(ctx context.Context) ([]store.Message, error), apply func([]store.Message)) {
	v.busy = true
	gen := v.gen
	ctx := v.c.ctx
	inBackground(v.c.do, func() ([]store.Message, error) { return load(ctx) }, func(msgs []store.Message, err error) {
		if gen != v.gen {
			return
		}
		v.busy = false
		if err == nil {
			apply(msgs)
		}
		v.kick()
	})
}

func (v *chatView) startRefresh() {
	svc, peer := v.c.svc, v.peer
	if len(v.msgs) == 0 {
		v.run(func(ctx context.Context) ([]store.Message, error) { return svc.Latest(ctx, peer, firstPageSize) },
			func(msgs []store.Message) {
				if len(msgs) > 0 {
					v.msgs, v.hasOlder = msgs, len(msgs) == firstPageSize
					v.rebuild(anchor{bottom: true})
				}
			})
		return
	}
	// From the first loaded message on (the cursor just before it).
	from := store.Cursor{Time: v.msgs[0].Time.UnixMilli(), ID: v.msgs[0].ID - 1}
	limit := len(v.msgs)
	if !v.hasNewer {
		limit += refreshExtra
	}
	v.run(func(ctx context.Context) ([]store.Message, error) { return svc.After(ctx, peer, from, limit) },
		func(msgs []store.Message) { v.merge(msgs, limit) })
}

func (v *chatView) startOlder() {
	svc, peer, cur := v.c.svc, v.peer, v.msgs[0].Cursor()
	v.run(func(ctx context.Context) ([]store.Message, error) { return svc.Before(ctx, peer, cur, olderPageSize) },
		func(page []store.Message) {
			a := v.captureAnchor()
			v.hasOlder = len(page) == olderPageSize
			v.msgs = append(page, v.msgs...)
			if len(v.msgs) > maxWindow {
				v.msgs = v.msgs[:maxWindow:maxWindow]
				v.hasNewer = true
			}
			v.rebuild(a)
		})
}

func (v *chatView) startNewer() {
	svc, peer, cur := v.c.svc, v.peer, v.msgs[len(v.msgs)-1].Cursor()
	v.run(func(ctx context.Context) ([]store.Message, error) { return svc.After(ctx, peer, cur, newerPageSize) },
		func(page []store.Message) {
			a := v.captureAnchor()
			v.hasNewer = len(page) == newerPageSize
			v.msgs = append(v.msgs, page...)
			if n := len(v.msgs); n > maxWindow {
				v.msgs = append([]store.Message(nil), v.msgs[n-maxWindow:]...)
				v.hasOlder = true
			}
			v.rebuild(a)
		})
}

// messageChanged reports whether b shows differently from a.
func messageChanged(a, b *store.Message) bool {
	return a.Body != b.Body || a.State != b.State || a.Edited != b.Edited || a.Retracted != b.Retracted ||
		a.Error != b.Error || !a.Time.Equal(b.Time) || attachmentChanged(a.Attachment, b.Attachment)
}

// attachmentChanged: the shared file moved on (fetched, uploaded, failed).
func attachmentChanged(a, b *store.Attachment) bool {
	if a == nil || b == nil {
		return a != b
	}
	return *a != *b
}

// merge takes the window read again (from the first loaded message, at
// most limit messages): changed messages are updated in place, new ones
// appended; anything else (messages stored in between, deleted) rebuilds.
func (v *chatView) merge(fresh []store.Message, limit int) {
	old := v.msgs
	overflow := !v.hasNewer && len(fresh) >= limit
	stick := v.atBottom()
	if v.follow {
		for i := len(old); i < len(fresh); i++ {
			if fresh[i].Direction == store.Out {
				stick, v.follow = true, false
			}
		}
	}
	same := len(fresh) >= len(old)
	for i := 0; same && i < len(old); i++ {
		same = old[i].ID == fresh[i].ID
	}
	if !same || overflow {
		if overflow && stick {
			v.load(v.peer, nil) // too much is new: show the newest
			return
		}
		a := v.captureAnchor()
		v.msgs = fresh
		if overflow {
			v.hasNewer = true
		}
		v.rebuild(a)
		return
	}
	for i := range old {
		if messageChanged(&old[i], &fresh[i]) {
			v.msgs[i] = fresh[i]
			v.updateMessageRow(i)
		}
	}
	if len(fresh) > len(old) {
		v.appendMessages(fresh[len(old):], stick)
	}
}
