// Reading the history for the views: the conversation list, pages of a
// conversation (with gaps filled from the archive), search, drafts, one
// message, the unread total.
package app

import (
	"context"

	"parley/app/store"
)

// Conversations lists conversations, newest activity first; message
// requests are not among them (MessageRequests).
func (c *ChatService) Conversations(ctx context.Context) ([]store.Conversation, error) {
	convs, _, err := c.ConversationList(ctx)
	return convs, err
}

// StartConversation makes a conversation appear in the list before any
// message: a new one on top; an existing one (opened again) keeps its place.
func (c *ChatService) StartConversation(ctx context.Context, peer string) (string, error) {
	p, err := peerJID(peer)
	if err != nil {
		return "", err
	}
	st, err := c.history()
	if err != nil {
		return "", err
	}
	// Opening a chat with someone also accepts their message request.
	started, accepted, err := st.StartConversation(ctx, p, c.Now())
	if err != nil {
		return "", err
	}
	if started || accepted {
		c.notify(ChatChange{Peers: []string{p}})
	}
	return p, nil
}

// Latest returns the newest page of a conversation, oldest first.
func (c *ChatService) Latest(ctx context.Context, peer string, n int) ([]store.Message, error) {
	st, err := c.history()
	if err != nil {
		return nil, err
	}
	return c.withGapsFilled(ctx, st, peer, nil, n, func() ([]store.Message, error) { return st.Latest(ctx, peer, n) })
}

// Before returns the page before a message (scrolling up), oldest first.
// Where the page would reach into a gap of the local history, that
// conversation's part of it is fetched from the archive first (see
// chats_gaps.go).
func (c *ChatService) Before(ctx context.Context, peer string, cur store.Cursor, n int) ([]store.Message, error) {
	st, err := c.history()
	if err != nil {
		return nil, err
	}
	return c.withGapsFilled(ctx, st, peer, &cur, n, func() ([]store.Message, error) { return st.Before(ctx, peer, cur, n) })
}

// After returns the page after a message (after jumping to a search result).
func (c *ChatService) After(ctx context.Context, peer string, cur store.Cursor, n int) ([]store.Message, error) {
	st, err := c.history()
	if err != nil {
		return nil, err
	}
	return st.After(ctx, peer, cur, n)
}

// Search returns a page of the messages matching q.Text, newest first, in
// all history or in one conversation (q.Conversation). The next page is
// q with Before set to the last result's Cursor (see store.Query).
func (c *ChatService) Search(ctx context.Context, q store.Query) ([]store.SearchResult, error) {
	st, err := c.history()
	if err != nil {
		return nil, err
	}
	return st.Search(ctx, q)
}

// Draft returns the composer text kept for a conversation.
func (c *ChatService) Draft(ctx context.Context, peer string) (string, error) {
	st, err := c.history()
	if err != nil {
		return "", err
	}
	return st.Draft(ctx, peer)
}

// SetDraft keeps the composer text for a conversation.
func (c *ChatService) SetDraft(ctx context.Context, peer, text string) error {
	st, err := c.history()
	if err != nil {
		return err
	}
	return st.SetDraft(ctx, peer, text)
}

// Message returns one stored message by row id.
func (c *ChatService) Message(ctx context.Context, id int64) (store.Message, error) {
	st, err := c.history()
	if err != nil {
		return store.Message{}, err
	}
	return st.Get(ctx, id)
}

// Flush waits until every message handed to the history is committed.
func (c *ChatService) Flush(ctx context.Context) error {
	st, err := c.history()
	if err != nil {
		return err
	}
	return st.Flush(ctx)
}

// UnreadTotal counts unread messages in all conversations (message
// requests not counted).
func (c *ChatService) UnreadTotal(ctx context.Context) (int, error) {
	convs, err := c.Conversations(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, conv := range convs {
		n += conv.Unread
	}
	return n, nil
}

// Conversation returns the list entry of the conversation with peer;
// found is false when there is none yet.
func (c *ChatService) Conversation(ctx context.Context, peer string) (conv store.Conversation, found bool, err error) {
	st, err := c.history()
	if err != nil {
		return store.Conversation{}, false, err
	}
	return st.Conversation(ctx, peer)
}
