// Message requests: a conversation that someone not in the roster started
// stays out of the conversation list (and out of the unread count) until
// the user accepts it, starts a chat with them, writes to them or adds
// them as a contact, so that a wave of spam from strangers, common on the
// public XMPP network, does not flood the list. Until then nothing tells
// the stranger we read or type: no chat states here, and receipts and
// displayed markers go only to contacts who may see our presence
// (chats_trust.go). The history keeps their messages (searchable, and
// shown once accepted); Dismiss deletes them.
package app

import (
	"context"
	"fmt"

	"parley/app/store"
)

// isRequest reports whether conv is a message request: not accepted, from
// someone not in the roster.
func (c *ChatService) isRequest(conv store.Conversation) bool {
	return !conv.Accepted && c.inRoster != nil && !c.inRoster(conv.Peer)
}

// splitRequests separates the message requests from the conversations.
func (c *ChatService) splitRequests(all []store.Conversation) (convs, requests []store.Conversation) {
	convs = all[:0:0]
	for _, conv := range all {
		if c.isRequest(conv) {
			if conv.Last != nil { // a stranger's edit alone is no request
				requests = append(requests, conv)
			}
			continue
		}
		convs = append(convs, conv)
	}
	return convs, requests
}

// ConversationList reads every conversation once and separates them:
// the conversation list (Conversations) and the message requests
// (MessageRequests), both newest first.
func (c *ChatService) ConversationList(ctx context.Context) (convs, requests []store.Conversation, err error) {
	st, err := c.history()
	if err != nil {
		return nil, nil, err
	}
	all, err := st.Conversations(ctx, 0)
	if err != nil {
		return nil, nil, err
	}
	convs, requests = c.splitRequests(all)
	return convs, requests, nil
}

// MessageRequests lists the conversations strangers started that the
// user has not accepted, newest first.
func (c *ChatService) MessageRequests(ctx context.Context) ([]store.Conversation, error) {
	_, requests, err := c.ConversationList(ctx)
	return requests, err
}

// IsRequest reports whether the conversation with peer is a message
// request (false when there is none).
func (c *ChatService) IsRequest(ctx context.Context, peer string) (bool, error) {
	st, err := c.history()
	if err != nil {
		return false, err
	}
	conv, found, err := st.Conversation(ctx, peer)
	if err != nil || !found {
		return false, err
	}
	return c.isRequest(conv), nil
}

// AcceptRequest moves a message request into the conversation list.
func (c *ChatService) AcceptRequest(ctx context.Context, peer string) error {
	p, err := peerJID(peer)
	if err != nil {
		return err
	}
	if err := c.accept(ctx, p); err != nil {
		return fmt.Errorf("accept the message request of %s: %w", p, err)
	}
	return nil
}

// accept marks the conversation with p accepted, telling listeners when
// that changed it.
func (c *ChatService) accept(ctx context.Context, p string) error {
	st, err := c.history()
	if err != nil {
		return err
	}
	changed, err := st.AcceptConversation(ctx, p)
	if err != nil {
		return err
	}
	if changed {
		c.notify(ChatChange{Peers: []string{p}})
	}
	return nil
}

// DismissRequest deletes a message request and its messages from the
// history; if the stranger writes again, it comes back as a request.
func (c *ChatService) DismissRequest(ctx context.Context, peer string) error {
	p, err := peerJID(peer)
	if err != nil {
		return err
	}
	st, err := c.history()
	if err != nil {
		return err
	}
	conv, found, err := st.Conversation(ctx, p)
	if err != nil {
		return fmt.Errorf("dismiss the message request of %s: %w", p, err)
	}
	if !found {
		return nil
	}
	if !c.isRequest(conv) {
		return fmt.Errorf("dismiss the message request of %s: it is a conversation, not a request", p)
	}
	if err := st.DeleteConversation(ctx, p); err != nil {
		return fmt.Errorf("dismiss the message request of %s: %w", p, err)
	}
	c.notify(ChatChange{Peers: []string{p}})
	return nil
}
