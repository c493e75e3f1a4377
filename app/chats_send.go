// Sending: a message, a correction (XEP-0308), a retraction (XEP-0424) or
// a retry is kept in the history's outbox first, then handed to the outbox
// (outbox.go) to go out now or after the next login.
package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"parley/app/store"
	"parley/xmppclient"
)

// Send stores a message in the outbox and sends it when connected. It
// returns the stored message (state queued); its state moves on as the
// server and the peer confirm it.
func (c *ChatService) Send(ctx context.Context, peer, body string) (store.Message, error) {
	if strings.TrimSpace(body) == "" {
		return store.Message{}, errors.New("the message is empty")
	}
	if err := CheckMessageSize(body); err != nil {
		return store.Message{}, err // never queued: the server would close the stream on it
	}
	p, st, err := c.peerHistory(peer)
	if err != nil {
		return store.Message{}, err
	}
	return c.queue(ctx, st, c.outgoingMessage(p, body), "message")
}

// peerHistory validates a conversation's address and returns it with the
// history.
func (c *ChatService) peerHistory(peer string) (string, *store.Store, error) {
	p, err := peerJID(peer)
	if err != nil {
		return "", nil, err
	}
	st, err := c.history()
	return p, st, err
}

// outgoingMessage is a new message of ours to p, to be queued: a new id
// (also its origin-id, XEP-0359) and a time after everything queued.
func (c *ChatService) outgoingMessage(p, body string) store.Message {
	id := xmppclient.NewMessageID()
	return store.Message{Conversation: p, Direction: store.Out, Sender: c.ownBare(), Body: body, Time: c.out.stamp(),
		OriginID: id, MessageID: id, State: store.StateQueued, Type: store.TypeChat}
}

// queue keeps m in the history's outbox (what names it in an error) and
// hands it to the outbox, which sends it now or later.
func (c *ChatService) queue(ctx context.Context, st *store.Store, m store.Message, what string) (store.Message, error) {
	saved, err := st.Save(ctx, m)
	if err != nil {
		return store.Message{}, fmt.Errorf("keep the %s: %w", what, err)
	}
	m.ID = saved.ID
	c.out.submit(ctx, c.currentSession, st, messageItem(m), store.Message{})
	return m, nil
}

// Correct replaces the body of one of our messages (XEP-0308). The change
// shows at once and goes out through the outbox: now when connected, else
// after the next login.
func (c *ChatService) Correct(ctx context.Context, peer string, target store.Message, body string) error {
	return c.edit(ctx, peer, target, body, false)
}

// Retract withdraws one of our messages (XEP-0424), through the outbox as
// Correct.
func (c *ChatService) Retract(ctx context.Context, peer string, target store.Message) error {
	return c.edit(ctx, peer, target, "", true)
}

// edit applies a correction or retraction to the history and queues it in
// the outbox in one transaction (a crash cannot leave one without the
// other), then hands it to the outbox: written if connected and nothing it
// follows still waits, otherwise by the flush of a session, in order with
// the queued messages. It is sent again only as messages are: after a lost
// session, when the archive shows the server did not get it.
func (c *ChatService) edit(ctx context.Context, peer string, target store.Message, body string, retract bool) error {
	p, err := peerJID(peer)
	if err != nil {
		return err
	}
	if target.Direction != store.Out {
		return errors.New("only your own messages can be changed")
	}
	if !retract && strings.TrimSpace(body) == "" {
		return errors.New("the corrected message is empty")
	}
	if !retract {
		if err := CheckMessageSize(body); err != nil {
			return err
		}
	}
	ref := target.OriginID
	if ref == "" {
		ref = target.MessageID
	}
	if ref == "" {
		return errors.New("this message has no id, so it cannot be changed")
	}
	st, err := c.history()
	if err != nil {
		return err
	}
	e := store.Edit{ID: xmppclient.NewMessageID(), Conversation: p, Target: ref, Retract: retract, Time: c.out.stamp()}
	if !retract {
		e.Body = body
	}
	e, _, err = st.QueueEdit(ctx, e)
	if err != nil {
		return fmt.Errorf("keep the change: %w", err)
	}
	c.out.submit(ctx, c.currentSession, st, editItem(e), target)
	return nil
}

// Retry puts a failed message back into the outbox and sends it.
func (c *ChatService) Retry(ctx context.Context, m store.Message) error {
	st, err := c.history()
	if err != nil {
		return err
	}
	changed, err := st.Requeue(ctx, m.ID)
	if err != nil || !changed {
		return err // not failed (any more): retried already, or sent meanwhile
	}
	c.notify(ChatChange{Peers: []string{m.Conversation}})
	m, err = st.Get(ctx, m.ID)
	if err != nil {
		return err
	}
	c.out.submit(ctx, c.currentSession, st, messageItem(m), store.Message{})
	return nil
}
