// Receipts (XEP-0184) and displayed markers (XEP-0333) we send: a receipt
// owed for a received message goes out once the history has committed it
// (onCommit), in order, off the store's writer goroutine; a marker goes out
// when the user has read a conversation (MarkRead). Both only to contacts
// who may see our presence.
package app

import (
	"context"
	"fmt"

	"parley/app/store"
	"parley/xmppclient"
)

// msgKey names a message by its conversation and its origin-id or id
// attribute (as store.Saved reports a received one, say).
type msgKey struct{ peer, id string }

// owedReceipt is a receipt to send for message id from to.
type owedReceipt struct {
	client *xmppclient.Client
	to     xmppclient.JID
	id     string
}

// onStoreError runs on the store's writer goroutine when a received
// message could not be saved even alone: the user is told, as the message
// exists nowhere else here (the archive may still have it), and the
// sender gets no receipt for it.
func (c *ChatService) onStoreError(m store.Message, err error) {
	c.log.Error("a message could not be saved", "peer", m.Conversation, "err", err)
	if m.Direction == store.In && m.MessageID != "" {
		c.takeReceipt(msgKey{m.Conversation, m.MessageID}, true)
	}
	c.notify(ChatChange{Peers: []string{m.Conversation},
		Problem: fmt.Sprintf("A message from %s could not be saved: %v", m.Conversation, err)})
}

// onCommit runs on the store's writer goroutine: hand the change over,
// and send the receipts owed for the messages now in the history (a copy
// of one stored already counts: it is in the history). It also takes the
// store's OnResolved: edits that waited for their message and are applied
// now, so the user sees them and the receipts owed for them go out.
func (c *ChatService) onCommit(saved []store.Saved) {
	peers := map[string]bool{}
	var ch ChatChange
	var receipts []owedReceipt
	waiting := false
	for _, s := range saved {
		if s.Outcome == store.Pending {
			// An edit of a message not here yet: nothing the user can
			// see, so its receipt waits (the store's OnResolved, or shown alone).
			waiting = true
		} else if s.Direction == store.In && s.MessageID != "" {
			if r, ok := c.takeReceipt(msgKey{s.Conversation, s.MessageID}, true); ok {
				receipts = append(receipts, r)
			}
		}
		if s.Conversation != "" && !peers[s.Conversation] {
			peers[s.Conversation] = true
			ch.Peers = append(ch.Peers, s.Conversation)
		}
		if s.Outcome == store.Inserted {
			ch.Inserted = append(ch.Inserted, s.ID)
		}
	}
	if len(ch.Peers) > 0 {
		c.notify(ch)
	}
	c.queueReceipts(receipts)
	if waiting {
		c.waitForOrphans()
	}
}

// queueReceipts hands receipts to the receipt loop, in order.
func (c *ChatService) queueReceipts(receipts []owedReceipt) {
	if len(receipts) > 0 {
		c.receipts.Post(receipts)
	}
}

// oweReceipt notes a receipt to send once the message key is committed.
func (c *ChatService) oweReceipt(key msgKey, r owedReceipt) {
	c.receiptMu.Lock()
	c.owed[key] = append(c.owed[key], r)
	c.receiptMu.Unlock()
}

// takeReceipt removes a receipt owed for key: the oldest (the store
// reports messages in the order they were put) or the newest (a Put that
// failed at once).
func (c *ChatService) takeReceipt(key msgKey, oldest bool) (owedReceipt, bool) {
	c.receiptMu.Lock()
	defer c.receiptMu.Unlock()
	rs := c.owed[key]
	if len(rs) == 0 {
		return owedReceipt{}, false
	}
	var r owedReceipt
	if oldest {
		r, rs = rs[0], rs[1:]
	} else {
		r, rs = rs[len(rs)-1], rs[:len(rs)-1]
	}
	if len(rs) == 0 {
		delete(c.owed, key)
	} else {
		c.owed[key] = rs
	}
	return r, true
}

// sendReceipts sends the receipts onCommit queued, in order, on the
// receipt loop: off the store's writer goroutine, as a write to the
// network may block.
func (c *ChatService) sendReceipts(q []owedReceipt) {
	for _, r := range q {
		// Archived (no no-store hint): the sender's devices that are
		// offline now learn "delivered" from their archive later.
		if _, err := r.client.SendMessage(xmppclient.OutgoingMessage{To: r.to, ReceiptFor: r.id}); err != nil {
			c.log.Debug("receipt not sent", "err", err)
		}
	}
}

// MarkRead marks a conversation read up to the newest message shown and
// sends a displayed marker (XEP-0333) for the newest incoming message at or
// before it that asked for markers (carried <markable/>): upTo itself, or
// one of the page of messages before it, down to the previous read marker
// (markers up to there went out when it was set). When none did, no marker
// is sent: XEP-0333 allows markers only for markable messages.
func (c *ChatService) MarkRead(ctx context.Context, peer string, upTo store.Message) error {
	st, err := c.history()
	if err != nil {
		return err
	}
	markable := func(m store.Message) bool {
		return m.Direction == store.In && m.Markable && m.MessageID != ""
	}
	var (
		target store.Message
		found  = markable(upTo)
		prev   store.Cursor // the read marker before this call
	)
	if found {
		target = upTo
	} else {
		// Read before MarkRead moves it.
		conv, _, err := st.Conversation(ctx, peer)
		if err != nil {
			return err
		}
		prev = conv.LastRead
	}
	if _, err := st.MarkRead(ctx, peer, upTo.ID); err != nil {
		return err
	}
	if !found {
		// upTo as stored (the copy passed in may not say whether it is
		// markable) and the page before it; ID 0 means the newest.
		const lookBack = 50
		var msgs []store.Message
		if upTo.ID == 0 {
			msgs, err = st.Latest(ctx, peer, lookBack)
		} else {
			msgs, err = st.Before(ctx, peer, store.Cursor{Time: upTo.Time.UnixMilli(), ID: upTo.ID + 1}, lookBack)
		}
		if err != nil {
			return err
		}
		for i := len(msgs) - 1; i >= 0 && prev.Less(msgs[i].Cursor()); i-- {
			if markable(msgs[i]) {
				target, found = msgs[i], true
				break
			}
		}
	}
	// Not to a peer who may not see our presence (XEP-0333: a marker,
	// like a receipt, tells that we are online).
	if found && c.presenceShared(peer) {
		if client := c.currentClient(); client != nil {
			to, err := xmppclient.ParseJID(peer)
			if err == nil {
				// Archived: the sender's devices and our own other ones
				// that are offline now learn "read" from the archive.
				_, _ = client.SendMessage(xmppclient.OutgoingMessage{To: to, MarkerType: "displayed", MarkerFor: target.MessageID})
			}
		}
	}
	c.notify(ChatChange{Peers: []string{peer}})
	return nil
}
