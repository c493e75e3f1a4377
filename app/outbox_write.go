// The outbox's writing side: the session's flush of what is queued, in
// order (holding back what a lost session may have written and what
// follows it), and the writing of one item, by kind, with its stored id so
// that a copy is recognised by the peer and the archive.
package app

import (
	"context"
	"errors"
	"time"

	"parley/app/store"
	"parley/xmppclient"
)

// retractFallback is the body of a retraction, for clients without XEP-0424.
const retractFallback = "This person attempted to retract a previous message, but it's unsupported by your client."

// settleLimit bounds each wait of writeQueued: a server that stops
// acknowledging is not waited for longer (the pinger ends a dead link).
var settleLimit = 30 * time.Second

// flush sends what is still queued, in the order it was made. Items
// submitted meanwhile were left to it (deferred): it reads the outbox
// again until none were, then lets submit write by itself.
func (o *outbox) flush(ctx context.Context, client *xmppclient.Client) {
	st, err := o.history()
	if err != nil {
		return
	}
	defer func() {
		o.mu.Lock()
		if ctx.Err() == nil { // still this session: submit writes by itself again
			o.flushing = false
		}
		o.mu.Unlock()
	}()
	for {
		items, err := o.queued(ctx, st)
		if err != nil {
			o.log.Warn("reading the outbox", "err", err)
			return
		}
		// held: messages (by conversation and origin-id or id) that wait;
		// the edits of them wait too.
		held := map[msgKey]bool{}
		for _, it := range items {
			if ctx.Err() != nil {
				return
			}
			if o.holds(it, held) {
				continue
			}
			if err := o.writeQueued(ctx, client, it.id(), func() error { return o.write(ctx, client, it, st, true) }); err != nil {
				o.log.Info("outbox: not sent yet", "id", it.id(), "err", err)
				return
			}
		}
		// Deciding to stop and leaving submit to write by itself is one
		// step: an item handed over in between would be left to a flush
		// that has ended.
		o.mu.Lock()
		again := o.deferred > 0
		o.deferred = 0
		if !again && ctx.Err() == nil {
			o.flushing = false
		}
		o.mu.Unlock()
		if !again {
			return
		}
	}
}

// holds reports whether the flush leaves it for a later session, and
// notes in held what then waits with it.
func (o *outbox) holds(it outItem, held map[msgKey]bool) bool {
	o.mu.Lock()
	wait, poisoned := o.unverified[it.id()], o.poisoned[it.id()]
	o.mu.Unlock()
	if !it.isEdit() {
		if wait {
			// A lost session wrote it, unacknowledged, and the archive
			// could not be checked: the server may have it. It waits for a
			// session whose catch-up succeeds, and so do its edits.
			held[msgKey{it.msg.Conversation, it.msg.OriginID}] = true
			held[msgKey{it.msg.Conversation, it.msg.MessageID}] = true
		}
		return wait
	}
	if poisoned {
		return true // the server refuses it (see doubted)
	}
	if target := (msgKey{it.edit.Conversation, it.edit.Target}); wait || held[target] {
		// Unverified as above, or what it changes waits: the peer must get
		// the message, and earlier edits of it, first.
		held[target] = true
		return true
	}
	return false
}

// writeQueued writes the outbox's item id with write: at once, or, when
// it is doubted (see outbox.doubted), with nothing else of the outbox
// unacknowledged: it waits until what was written before is acknowledged,
// writes, asks for the ack at once and waits for it. If the server closes
// the stream meanwhile, it is the only one lost.
func (o *outbox) writeQueued(ctx context.Context, client *xmppclient.Client, id string, write func() error) error {
	o.mu.Lock()
	doubted := o.doubted[id]
	o.mu.Unlock()
	if !doubted {
		return write()
	}
	o.waitSettled(ctx, client)
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := write(); err != nil {
		return err
	}
	o.waitSettled(ctx, client)
	return ctx.Err()
}

// waitSettled waits until nothing of the outbox is in flight (or ctx ends,
// or settleLimit passes).
func (o *outbox) waitSettled(ctx context.Context, client *xmppclient.Client) {
	t := time.NewTimer(settleLimit)
	defer t.Stop()
	client.RequestAck()
	for {
		o.mu.Lock()
		n, ch := len(o.inflight), o.settled
		o.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return
		case <-t.C:
			o.log.Info("outbox: no acknowledgement in time; going on", "in flight", n)
			return
		}
	}
}

// write writes one stored item, unless it is in flight already (written
// by submit or by the flush). With recheck, the item comes from an
// earlier read of the history: it is written only if the history still
// has it queued (acked meanwhile: it went out already), as it is now. A
// file is uploaded first if it was not yet (ctx bounds the upload).
func (o *outbox) write(ctx context.Context, client *xmppclient.Client, it outItem, st *store.Store, recheck bool) error {
	to, err := xmppclient.ParseJID(it.peer())
	if err != nil {
		return err
	}
	if it.kind == outFile {
		var ready bool
		if it, ready, err = o.readyFile(ctx, client, st, it); err != nil || !ready {
			return err
		}
		recheck = false // read again just now
	}
	o.sendMu.Lock()
	defer o.sendMu.Unlock()
	o.mu.Lock()
	_, written := o.inflight[it.id()]
	o.mu.Unlock()
	if written {
		return nil
	}
	if recheck {
		cur, queued, err := o.current(st, it)
		if err != nil || !queued {
			return err
		}
		it = cur
	}
	var m xmppclient.OutgoingMessage
	switch it.kind {
	case outText, outFile:
		if it.msg.Retracted {
			// Retracted while queued: never written (its retraction still
			// follows: a lost session may have written it); counts as sent.
			o.stateChanged(st, it.msg.Conversation, it.msg.MessageID, store.StateSent, "")
			return nil
		}
		m = textStanza(it.msg)
		if it.kind == outFile {
			m = fileStanza(it.msg)
		}
	case outCorrection:
		m = xmppclient.OutgoingMessage{Replaces: it.edit.Target, Body: it.edit.Body}
	case outRetraction:
		m = xmppclient.OutgoingMessage{Retracts: it.edit.Target, Body: retractFallback}
	}
	m.To, m.ID = to, it.id()
	err = o.send(client, m, outgoing{peer: it.peer(), kind: it.kind})
	if err == nil && it.kind == outFile {
		// A file goes alone, after its upload: its tick need not wait for
		// the next batched ack request (AckInterval, 250 ms).
		client.RequestAck()
	}
	return err
}

// current is the item as the history has it now; queued is false when it
// is gone or no longer queued (acked, or found in the archive: it went
// out already).
func (o *outbox) current(st *store.Store, it outItem) (cur outItem, queued bool, err error) {
	ctx := context.Background()
	if it.isEdit() {
		e, err := st.GetEdit(ctx, it.edit.ID)
		if errors.Is(err, store.ErrNotFound) || err == nil && e.State != store.StateQueued {
			return it, false, nil
		}
		return editItem(e), err == nil, err
	}
	m, err := st.Get(ctx, it.msg.ID)
	if errors.Is(err, store.ErrNotFound) || err == nil && m.State != store.StateQueued {
		return it, false, nil
	}
	return messageItem(m), err == nil, err
}

// textStanza is a text message as it goes out: with the text first
// written when it was corrected while queued (its correction follows it),
// asking for a receipt and markers, and active (XEP-0085).
func textStanza(m store.Message) xmppclient.OutgoingMessage {
	body := m.Body
	if m.Edited && m.OriginalBody != "" {
		body = m.OriginalBody
	}
	return xmppclient.OutgoingMessage{Body: body, RequestReceipt: true, Markable: true, ChatState: xmppclient.StateActive}
}

// send marks m in flight and writes it; o.sendMu is held. It counts as
// sent when the server acknowledges it: an AckEvent, from XEP-0198 or, on
// a stream without it, from the engine's barrier ping.
func (o *outbox) send(client *xmppclient.Client, m xmppclient.OutgoingMessage, what outgoing) error {
	o.mu.Lock()
	o.inflight[m.ID] = what
	o.mu.Unlock()
	if _, err := client.SendMessage(m); err != nil {
		o.mu.Lock()
		delete(o.inflight, m.ID)
		o.signalSettledLocked()
		o.mu.Unlock()
		return err
	}
	return nil
}
