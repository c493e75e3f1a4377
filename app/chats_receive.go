// Receiving: a live message or carbon turned into a history row
// (toStore), delivery states from receipts and markers of the peer,
// the peer's chat states (typing), errors answering what we sent, and
// conversations read on another device of the account.
package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"parley/app/store"
	"parley/xmppclient"
)

// toStore turns a parsed message into a history row. ok is false for
// messages that are not one-to-one chat content.
func (c *ChatService) toStore(m xmppclient.ChatMessage, own string, outgoing bool) (store.Message, bool) {
	if m.Type == "groupchat" || m.Type == "headline" {
		return store.Message{}, false
	}
	sm := store.Message{Body: m.Body, Type: m.Type, OriginID: m.OriginID, MessageID: m.ID,
		StanzaID: m.StanzaIDs[own], ReplaceID: m.Replaces, RetractID: m.Retracts, Time: m.Delay,
		Markable: m.Markable}
	// No stamp, or one in the future (a sender's wrong clock would pin the
	// conversation on top): the time it arrived.
	if now := c.localTime(); sm.Time.IsZero() || sm.Time.After(now.Add(time.Minute)) {
		sm.Time = now
	}
	if outgoing || m.From.Bare().String() == own {
		sm.Direction = store.Out
		sm.Conversation = m.To.Bare().String()
		sm.Sender = m.From.String()
		if sm.Sender == "" {
			sm.Sender = own
		}
		sm.State = store.StateSent
	} else {
		sm.Direction = store.In
		sm.Conversation = m.From.Bare().String()
		sm.Sender = m.From.String()
	}
	if sm.Conversation == "" || sm.Conversation == own {
		return store.Message{}, false
	}
	if a, preview := sharedFile(m); a != nil && m.Replaces == "" && m.Retracts == "" {
		sm.Attachment, sm.FilePreview = a, preview
		if strings.TrimSpace(sm.Body) == "" {
			sm.Body = a.URL // what clients without XEP-0066 show, and search finds
		}
	}
	if sm.Body == "" && m.Replaces == "" && m.Retracts == "" {
		return store.Message{}, false
	}
	return sm, true
}

// maxSharedURL bounds the URL of a shared file kept (a longer one is no
// file any client shares; it stays in the body only).
const maxSharedURL = 4096

// sharedFile is the file a message shares by XEP-0066, or by XEP-0447
// with what it says of the file before it is fetched (name, announced
// type, size, dimensions, description, a small preview); nil when none.
// The URL is kept as the sender gave it; what may be fetched, and how, is
// decided where files are fetched (and the type is sniffed then).
func sharedFile(m xmppclient.ChatMessage) (*store.Attachment, []byte) {
	u, f := strings.TrimSpace(m.OOBURL), m.File
	if u == "" && f != nil && len(f.URLs) > 0 {
		u = f.URLs[0]
	}
	if u == "" || len(u) > maxSharedURL {
		return nil, nil
	}
	a := &store.Attachment{URL: u, State: store.AttachmentRemote}
	if f == nil {
		return a, nil
	}
	a.Name, a.MediaType, a.Size, a.Width, a.Height, a.Desc = f.Name, f.MediaType, f.Size, f.Width, f.Height, f.Desc
	return a, f.Thumbnail
}

// received handles a live message or carbon; live is false for carbons
// (only the resource a message was for answers its receipt request).
func (c *ChatService) received(client *xmppclient.Client, m xmppclient.ChatMessage, sentCarbon, live bool) {
	st, err := c.history()
	if err != nil {
		return
	}
	own := c.ownBare()
	peer := m.From.Bare().String()
	if sentCarbon {
		peer = m.To.Bare().String()
	}
	if m.Type == "error" {
		// An error answers one of our messages: it failed.
		if m.ID != "" && m.Error != nil {
			changed, err := st.SetStateByMessageID(context.Background(), peer, m.ID, store.StateFailed, m.Error.Error())
			if err != nil {
				c.log.Warn("marking a message failed", "err", err)
			} else if changed {
				c.notify(ChatChange{Peers: []string{peer}})
			} else {
				c.editRefused(st, peer, m.ID, m.Error)
			}
		}
		return
	}
	if sentCarbon && (m.MarkerType == "displayed" || m.MarkerType == "acknowledged") && m.MarkerFor != "" {
		// Read on another device of the account: read here too.
		c.readElsewhere(st, peer, m.MarkerFor)
	}
	if !sentCarbon {
		if m.ReceiptFor != "" {
			c.setState(st, peer, m.ReceiptFor, store.StateDelivered, "")
		}
		if m.MarkerType == "displayed" || m.MarkerType == "acknowledged" {
			c.setState(st, peer, m.MarkerFor, store.StateRead, "")
		} else if m.MarkerType == "received" {
			c.setState(st, peer, m.MarkerFor, store.StateDelivered, "")
		}
		if m.ChatState != "" && peer != own {
			state := m.ChatState
			if m.Body != "" && state == xmppclient.StateComposing {
				state = xmppclient.StateActive
			}
			c.setTyping(peer, state)
		}
	}
	sm, ok := c.toStore(m, own, sentCarbon)
	if !ok {
		return
	}
	if !c.stanzaIDsTrusted(client) {
		sm.StanzaID = "" // anyone could have put it there (XEP-0359)
	}
	// XEP-0184: confirm receipt of a live message that asks for it, once
	// it is committed to the history (onCommit), not before: if the write
	// fails (the disk is full) the sender must not read "delivered".
	// Only to a sender who may see our presence (XEP-0184 §8: a receipt
	// tells that we are online).
	receipt := live && sm.Direction == store.In && m.ReceiptRequest && m.ID != "" && client != nil &&
		c.presenceShared(sm.Conversation)
	key := msgKey{sm.Conversation, sm.MessageID}
	if receipt {
		c.oweReceipt(key, owedReceipt{client: client, to: m.From, id: m.ID})
	}
	// Put batches the write: a burst of incoming messages costs a few
	// commits, and the store drops copies that arrive again.
	if err := st.Put(sm); err != nil {
		if receipt {
			c.takeReceipt(key, false)
		}
		c.log.Warn("storing a message", "from", m.From, "err", err)
	}
}

// editRefused tells the user when an error answers one of our
// corrections or retractions (id, to peer): the history shows the change,
// but the peer did not get it. An edit has no state to show that in, so it
// goes out as a ChatChange.Problem.
func (c *ChatService) editRefused(st *store.Store, peer, id string, why *xmppclient.StanzaError) {
	e, err := st.GetEdit(context.Background(), id)
	if err != nil || e.Conversation != peer {
		return // not ours, or not from where it went
	}
	what := "correction"
	if e.Retract {
		what = "retraction"
	}
	reason := why.Condition
	if why.Text != "" {
		reason += ": " + why.Text
	}
	c.notify(ChatChange{Peers: []string{peer}, Problem: fmt.Sprintf("Your %s of a message to %s was not delivered (%s).", what, peer, reason)})
}

func (c *ChatService) setState(st *store.Store, peer, msgID string, s store.State, why string) {
	if msgID == "" {
		return
	}
	changed, err := st.SetStateByMessageID(context.Background(), peer, msgID, s, why)
	if err != nil {
		c.log.Warn("updating a delivery state", "peer", peer, "id", msgID, "err", err)
		return
	}
	// State changes are not messages: the store's commit report does not
	// carry them, so tell the listeners here (the ticks must move).
	if changed {
		c.notify(ChatChange{Peers: []string{peer}})
	}
}

// readElsewhere moves the read marker of peer's conversation to their
// message msgID, which another device of the account has shown.
func (c *ChatService) readElsewhere(st *store.Store, peer, msgID string) {
	_, found, err := st.MarkReadByMessageID(context.Background(), peer, msgID)
	if err != nil {
		c.log.Warn("marking a conversation read on another device's marker", "peer", peer, "err", err)
		return
	}
	if found {
		c.notify(ChatChange{Peers: []string{peer}})
	}
}

// typingTimeout: a peer shown composing for this long without another
// chat state is shown paused (XEP-0085 leaves it to the receiver).
var typingTimeout = 30 * time.Second

// setTyping records a peer's chat state and tells the listeners when it
// changed.
func (c *ChatService) setTyping(peer, state string) {
	c.mu.Lock()
	changed := c.typing[peer] != state
	c.typing[peer] = state
	if t := c.typingTimers[peer]; t != nil {
		t.Stop()
		delete(c.typingTimers, peer)
	}
	if state == xmppclient.StateComposing {
		var t *time.Timer
		t = time.AfterFunc(typingTimeout, func() {
			c.mu.Lock()
			stale := c.typingTimers[peer] == t
			if stale {
				delete(c.typingTimers, peer)
			}
			c.mu.Unlock()
			if stale {
				c.setTyping(peer, xmppclient.StatePaused)
			}
		})
		c.typingTimers[peer] = t
	}
	c.mu.Unlock()
	if changed {
		c.notify(ChatChange{Typing: map[string]string{peer: state}})
	}
}

// Typing returns the peer's last chat state ("" when unknown).
func (c *ChatService) Typing(peer string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.typing[peer]
}
