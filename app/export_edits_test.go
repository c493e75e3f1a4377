// Test-only access to the outbox of corrections and retractions, for the
// tests in package app_test (edits_outbox_test.go).
package app

import (
	"context"

	"parley/app/store"
)

// QueuedEdits returns the corrections and retractions still queued in the
// history's outbox, in the order they go out.
func (c *ChatService) QueuedEdits(ctx context.Context) ([]store.Edit, error) {
	st, err := c.history()
	if err != nil {
		return nil, err
	}
	return st.OutboxEdits(ctx)
}
