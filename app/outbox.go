// The outbox: what the user sends (messages, corrections, retractions; a
// kind each, so a new kind of message adds a kind here and nothing in the
// chat service) is kept in the history's outbox first and leaves it only
// once the server has it, in the order it was made, exactly once as far as
// the protocol can tell. This file keeps the outbox's state for the
// session (in flight, unverified, doubted, poisoned), takes the server's
// acknowledgements and decides, for each item, whether it is written now
// or left to the session's flush; outbox_flush.go sends what is queued and
// outbox_write.go writes one item.
//
// The promise: an item is queued until the server has it, then sent (a
// message then delivered, read), or failed; nothing is lost and nothing
// goes out twice. What the server has is known from its acks (XEP-0198's,
// or without XEP-0198 a barrier ping's answer, see xmppclient/sm.go) and,
// for a session lost with items unacknowledged, the h of a refused
// resumption (an AckEvent before the SessionEvent) or else the archive
// (XEP-0313), which the catch-up reads before the flush writes anything
// the lost session left unacknowledged (unverified):
//   - archive read: those found are marked sent; the others are sent again.
//   - catch-up failed (timeout, connection lost): they are held until a
//     session's catch-up succeeds; nothing is written that may be a copy.
//   - no archive (the server has none or refuses it): they are sent again,
//     with the same id and origin-id (XEP-0359). The server may already
//     have had some, so a peer may receive one twice on the wire, but
//     clients that drop copies by origin-id (Parley, Conversations, Dino,
//     Gajim) show it once; not sending would lose the ones it never got.
package app

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"parley/app/store"
	"parley/xmppclient"
)

// outKind is the kind of an outbox item.
type outKind int

const (
	outText       outKind = iota // a message (store.Message, outgoing, queued)
	outCorrection                // XEP-0308 (store.Edit)
	outRetraction                // XEP-0424 (store.Edit with Retract)
	outFile                      // a message sharing a file: uploaded first (outbox_files.go)
)

// outItem is one item of the outbox as the history keeps it.
type outItem struct {
	kind outKind
	msg  store.Message // outText, outFile
	edit store.Edit    // outCorrection, outRetraction
}

func messageItem(m store.Message) outItem {
	if m.Attachment != nil {
		return outItem{kind: outFile, msg: m}
	}
	return outItem{kind: outText, msg: m}
}

func editItem(e store.Edit) outItem {
	if e.Retract {
		return outItem{kind: outRetraction, edit: e}
	}
	return outItem{kind: outCorrection, edit: e}
}

// isEdit: the kind changes a message sent before (it has no delivery
// state of its own, and waits for what it changes).
func (k outKind) isEdit() bool { return k == outCorrection || k == outRetraction }

// isEdit: the item is a correction or a retraction.
func (it outItem) isEdit() bool { return it.kind.isEdit() }

// id is the stanza id the item goes out with.
func (it outItem) id() string {
	if it.isEdit() {
		return it.edit.ID
	}
	return it.msg.MessageID
}

// peer is the conversation the item belongs to.
func (it outItem) peer() string {
	if it.isEdit() {
		return it.edit.Conversation
	}
	return it.msg.Conversation
}

// outgoing is what an id in flight is: its kind, to peer.
type outgoing struct {
	peer string
	kind outKind
}

// outbox is the session state of the history's outbox. It is safe for
// concurrent use.
type outbox struct {
	log     *slog.Logger
	history func() (*store.Store, error)
	now     func() time.Time // the history's clock, whole seconds
	// stateChanged sets a message's delivery state and tells the views.
	stateChanged func(st *store.Store, peer, id string, s store.State, why string)
	// files: uploading the files of outFile items (outbox_files.go).
	files *fileUploads
	// spawn runs a flush started by submit (the service waits for it).
	spawn func(func())

	mu sync.Mutex
	// inflight: ids written in this session and not yet acked.
	inflight map[string]outgoing
	// unverified: items a lost session wrote and the server did not
	// acknowledge; the flush leaves them until an archive check (which
	// marks sent those the server got), or until a catch-up finds there is
	// no archive to check (archiveChecked).
	unverified map[string]bool
	// doubted: items written and not acknowledged when the server closed
	// the stream with an error. One of them may be what made it close (a
	// stanza over the server's size limit, say), so the flush writes each
	// alone (writeQueued). One that is again the only one unacknowledged
	// when the server closes the stream with an error is refused by the
	// server: a message is marked failed with the server's error text, an
	// edit (which has no failed state) is poisoned, left out of this
	// process's flushes; the queue moves on.
	doubted  map[string]bool
	poisoned map[string]bool
	// settled is closed, and replaced, whenever inflight shrinks.
	settled chan struct{}
	// flushing: the session's catch-up and flush are not done yet; items
	// submitted meanwhile are left to the flush (counted in deferred) so
	// they go out after the older queued ones.
	flushing bool
	deferred int
	// lastOut is the time of the last item queued (stamp).
	lastOut time.Time

	// sendMu makes writing a stored item (check, mark in flight, write)
	// one step: a submit and the flush never both write it, and items go
	// out in the order they were handed over.
	sendMu sync.Mutex
}

func newOutbox(log *slog.Logger, history func() (*store.Store, error), now func() time.Time,
	stateChanged func(st *store.Store, peer, id string, s store.State, why string)) *outbox {
	return &outbox{log: log, history: history, now: now, stateChanged: stateChanged, files: newFileUploads(),
		spawn:    func(fn func()) { go fn() },
		inflight: map[string]outgoing{}, unverified: map[string]bool{}, doubted: map[string]bool{},
		poisoned: map[string]bool{}, settled: make(chan struct{})}
}

// stamp is the time of an item handed to the outbox: the local time, but
// never before the last one handed over. The outbox sends in the order of
// these times, which must stay the order things were written in when the
// clock steps back (the server's clock became known at login, or the
// machine's was corrected while items were queued).
func (o *outbox) stamp() time.Time {
	t := o.now()
	o.mu.Lock()
	defer o.mu.Unlock()
	if t.Before(o.lastOut) {
		t = o.lastOut
	}
	o.lastOut = t
	return t
}

// learnLastOut sets what stamp must not go below from the outbox of the
// history just opened.
func (o *outbox) learnLastOut(st *store.Store) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	items, err := o.queued(ctx, st)
	if err != nil {
		o.log.Warn("reading the outbox", "err", err)
	}
	var last time.Time
	for _, it := range items {
		t := it.msg.Time
		if it.isEdit() {
			t = it.edit.Time
		}
		if t.After(last) {
			last = t
		}
	}
	o.mu.Lock()
	o.lastOut = last
	o.mu.Unlock()
}

// sessionStarted takes what the lost session left unacknowledged (the
// engine does not resend it: it is still queued in the history, and the
// flush after the archive check sends what the server never got) and
// starts the session's flush: items submitted from now on wait for it.
// Call it before the session's client is handed to anyone who submits.
func (o *outbox) sessionStarted(ev xmppclient.SessionEvent) {
	o.mu.Lock()
	o.flushing, o.deferred = true, 0
	var lost []string // ids of the outbox
	lostWhat := map[string]outgoing{}
	for _, id := range ev.Unacked {
		if what, ok := o.inflight[id]; ok {
			lost = append(lost, id)
			lostWhat[id] = what
		}
		delete(o.inflight, id)
		o.unverified[id] = true
	}
	refused := ""
	if ev.EndedBy != nil && stanzaFault(ev.EndedBy) {
		if len(lost) == 1 && o.doubted[lost[0]] {
			refused = lost[0]
			delete(o.doubted, refused)
			delete(o.unverified, refused)
		} else {
			for _, id := range lost {
				o.doubted[id] = true
			}
		}
	}
	what := lostWhat[refused]
	if refused != "" && what.kind.isEdit() {
		o.poisoned[refused] = true
	}
	o.signalSettledLocked()
	o.mu.Unlock()
	if refused != "" {
		o.refuse(refused, what, ev.EndedBy)
	}
}

// archiveChecked: the archive was read (what the server got is marked
// sent), or there is none to read: the flush may write what a lost
// session left unacknowledged. Without an archive that resends, with the
// same ids, what the server may have had (see the file's comment).
func (o *outbox) archiveChecked() {
	o.mu.Lock()
	o.unverified = map[string]bool{}
	o.mu.Unlock()
}

// sessionEnded forgets what is in flight: a new session learns from its
// SessionEvent what the server did not acknowledge.
func (o *outbox) sessionEnded() {
	o.mu.Lock()
	o.inflight = map[string]outgoing{}
	o.signalSettledLocked()
	o.mu.Unlock()
}

// acked marks the items the server acknowledged as sent.
func (o *outbox) acked(ids []string) {
	st, err := o.history()
	if err != nil {
		return
	}
	for _, id := range ids {
		o.mu.Lock()
		what, ok := o.inflight[id]
		o.mu.Unlock()
		if !ok {
			continue
		}
		// The history first, then forget it in flight: a flush that finds
		// it no longer in flight then reads "sent".
		if !what.kind.isEdit() {
			o.stateChanged(st, what.peer, id, store.StateSent, "")
		} else if _, err := st.EditSent(context.Background(), id); err != nil {
			o.log.Warn("marking a correction or retraction sent", "id", id, "err", err)
		}
		o.mu.Lock()
		delete(o.inflight, id)
		delete(o.doubted, id)
		o.signalSettledLocked()
		o.mu.Unlock()
	}
}

// signalSettledLocked wakes waitSettled; o.mu is held.
func (o *outbox) signalSettledLocked() {
	close(o.settled)
	o.settled = make(chan struct{})
}

// submit is told that it was just queued in the history: it is written
// now when the session is up, no flush runs and nothing it follows still
// waits; otherwise the session's flush sends it. A file starts a flush of
// its own (its upload takes time, and what is sent after it waits for
// it). target is the message an edit changes (as the user saw it).
func (o *outbox) submit(ctx context.Context, session func() (*xmppclient.Client, context.Context), st *store.Store, it outItem, target store.Message) {
	o.mu.Lock()
	later := o.flushing
	if later {
		o.deferred++ // the session's flush sends it, after the older ones
	}
	o.mu.Unlock()
	// Read after flushing: a session sets flushing before its client is
	// handed out (sessionStarted), so a new client is never seen with a
	// flush that has not started.
	cl, sessCtx := session()
	if cl == nil || later {
		return
	}
	if it.kind == outFile {
		o.mu.Lock()
		start := !o.flushing
		if start {
			o.flushing, o.deferred = true, 0
		} else {
			o.deferred++
		}
		o.mu.Unlock()
		if start {
			o.spawn(func() { o.flush(sessCtx, cl) })
		}
		return
	}
	if it.isEdit() && o.editWaits(ctx, st, it.edit, target) {
		return
	}
	if err := o.write(ctx, cl, it, st, it.isEdit()); err != nil {
		o.log.Info("queued until the connection is back", "id", it.id(), "err", err)
	}
}

// editWaits reports whether e must be left to a later flush rather than
// written now: what it changes is still queued and not written (the
// message, or an earlier edit of it), and the peer must get that first.
//
// What is in flight is read before the history: an ack in between writes
// "sent" to the history before it forgets the id in flight, so nothing
// acked meanwhile is seen as neither (queued in the history read after,
// and not in flight), which would hold the edit until the next session.
func (o *outbox) editWaits(ctx context.Context, st *store.Store, e store.Edit, target store.Message) bool {
	o.mu.Lock()
	written := make(map[string]bool, len(o.inflight))
	for id := range o.inflight {
		written[id] = true
	}
	o.mu.Unlock()
	if target.ID != 0 {
		cur, err := st.Get(ctx, target.ID)
		if err == nil && cur.State == store.StateQueued && !written[cur.MessageID] {
			return true
		}
	}
	edits, err := st.OutboxEdits(ctx)
	if err != nil {
		return true // the flush finds out
	}
	for _, x := range edits {
		if x.ID != e.ID && x.Conversation == e.Conversation && x.Target == e.Target && !written[x.ID] {
			return true
		}
	}
	return false
}

// stanzaFault reports whether a stream error may have been caused by a
// stanza we wrote (policy-violation for one over the size limit, bad XML,
// ...), rather than by the server's state (shutting down, moving, a
// conflicting login, being overloaded).
func stanzaFault(e *xmppclient.StreamError) bool {
	switch e.Condition {
	case "system-shutdown", "see-other-host", "reset", "connection-timeout", "conflict", "host-gone",
		"host-unknown", "remote-connection-failed", "not-authorized", "resource-constraint":
		return false
	}
	return true
}

// refuse gives up on an item the server closed the stream on twice in a
// row: a message is marked failed with the server's words (the user may
// retry it, or shorten it); an edit was poisoned by the caller.
func (o *outbox) refuse(id string, what outgoing, why *xmppclient.StreamError) {
	text := why.Condition
	if why.Text != "" {
		text = why.Text + " (" + why.Condition + ")"
	}
	o.log.Warn("the server closed the connection twice on the same outgoing stanza; giving up on it", "id", id, "err", why)
	if what.kind.isEdit() {
		return
	}
	st, err := o.history()
	if err != nil {
		return
	}
	o.stateChanged(st, what.peer, id, store.StateFailed, "the server refused it: "+text)
}

// queued reads the history's outbox: messages and edits in the order they
// were made (an edit goes after the messages made before it,
// store.Edit.After).
func (o *outbox) queued(ctx context.Context, st *store.Store) ([]outItem, error) {
	msgs, err := st.Outbox(ctx)
	edits, eerr := st.OutboxEdits(ctx)
	if err = errors.Join(err, eerr); err != nil {
		return nil, err
	}
	items := make([]outItem, 0, len(msgs)+len(edits))
	for len(msgs) > 0 || len(edits) > 0 {
		if len(edits) == 0 || len(msgs) > 0 && msgs[0].ID <= edits[0].After {
			items = append(items, messageItem(msgs[0]))
			msgs = msgs[1:]
		} else {
			items = append(items, editItem(edits[0]))
			edits = edits[1:]
		}
	}
	return items, nil
}
