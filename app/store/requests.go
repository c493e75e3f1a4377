// Message requests: a conversation someone not in the roster started is
// not accepted until the user says so (conversations.accepted), so that a
// wave of spam from strangers does not fill the conversation list. The
// app decides what counts as a stranger (the roster is its business); the
// store keeps whether the user accepted a conversation: by accepting its
// request, by starting it (opening the chat), or by writing in it (a
// message we sent, from here or another device). Conversations that
// existed before schema version 10 count as accepted, so an upgrade hides
// nothing.
package store

import (
	"context"
	"fmt"
)

// migrationRequestsSQL is schema version 10.
const migrationRequestsSQL = `
ALTER TABLE conversations ADD COLUMN accepted INTEGER NOT NULL DEFAULT 0;
UPDATE conversations SET accepted = 1;
`

func init() {
	writeSQL["convAccept"] = `UPDATE conversations SET accepted = 1 WHERE id = ? AND accepted = 0`
}

// AcceptConversation marks the conversation with peer accepted (creating
// it if needed, without moving it in the list). changed reports whether it
// was not accepted before.
func (s *Store) AcceptConversation(ctx context.Context, peer string) (changed bool, err error) {
	err = s.do(ctx, func(t *wtx) error {
		conv, err := t.conversation(peer, 0)
		if err != nil {
			return err
		}
		changed, err = t.execChanged("convAccept", conv)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("accept conversation with %s: %w", peer, err)
	}
	return changed, nil
}
