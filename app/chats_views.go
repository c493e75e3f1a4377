// Small read helpers for the chat views, kept apart from the chat service
// (chats.go): the XEP-0085 chat state names the views send and show, and
// one conversation's list entry.
package app

import (
	"context"

	"parley/app/store"
	"parley/xmppclient"
)

// Chat states (XEP-0085) for SendChatState and ChatChange.Typing.
const (
	ChatStateActive    = xmppclient.StateActive
	ChatStateComposing = xmppclient.StateComposing
	ChatStatePaused    = xmppclient.StatePaused
	ChatStateInactive  = xmppclient.StateInactive
	ChatStateGone      = xmppclient.StateGone
)

// Conversation returns the list entry of the conversation with peer;
// found is false when there is none yet.
func (c *ChatService) Conversation(ctx context.Context, peer string) (conv store.Conversation, found bool, err error) {
	st, err := c.history()
	if err != nil {
		return store.Conversation{}, false, err
	}
	return st.Conversation(ctx, peer)
}
