// Filling history from the archive when the user scrolls past what is
// stored locally: a new profile syncs only the newest pages, and an archive
// that lost the last message seen leaves a gap. When a conversation's
// local history runs out, older pages of that conversation are fetched
// from the archive (XEP-0313, with=peer, before the oldest archive id
// known), stored, and read back.
package app

import (
	"context"
	"fmt"
	"time"

	"parley/app/store"
	"parley/xmppclient"
)

// olderFromArchive fetches one archive page of peer's messages older than
// oldest and stores it. It returns how many were fetched and whether the
// archive has nothing older.
func (c *ChatService) olderFromArchive(ctx context.Context, peer string, oldest *store.Message, n int) (int, bool, error) {
	client := c.currentClient()
	if client == nil {
		return 0, false, ErrNotOnline
	}
	st, err := c.history()
	if err != nil {
		return 0, false, err
	}
	with, err := xmppclient.ParseJID(peer)
	if err != nil {
		return 0, false, err
	}
	q := xmppclient.MAMQuery{With: with, Max: max(n, 50)}
	switch {
	case oldest == nil:
		q.Last = true
	case oldest.StanzaID != "":
		q.Before = oldest.StanzaID
	default:
		q.End = oldest.Time.Add(-1)
		q.Last = true
	}
	page, err := client.QueryArchive(ctx, q)
	if err != nil {
		return 0, false, fmt.Errorf("older history of %s: %w", peer, err)
	}
	own := c.ownBare()
	msgs := make([]store.Message, 0, len(page.Messages))
	for _, am := range page.Messages {
		sm, ok := c.toStore(am.Message, own, false)
		if !ok {
			continue
		}
		sm.StanzaID = am.ArchiveID
		if !am.Stamp.IsZero() {
			sm.Time = am.Stamp
		}
		msgs = append(msgs, sm)
	}
	// Archive stamps often have whole-second precision, and the history
	// orders messages of the same millisecond by when they were stored.
	// These are older than the oldest one shown, so keep each strictly
	// before the next, or they would sort after it.
	if oldest != nil {
		ceiling := oldest.Time
		for i := len(msgs) - 1; i >= 0; i-- {
			if !msgs[i].Time.Before(ceiling) {
				msgs[i].Time = ceiling.Add(-time.Millisecond)
			}
			ceiling = msgs[i].Time
		}
	}
	if len(msgs) > 0 {
		if _, err := st.SaveBatch(ctx, msgs); err != nil {
			return 0, false, fmt.Errorf("store older history of %s: %w", peer, err)
		}
	}
	return len(page.Messages), page.Complete || len(page.Messages) == 0, nil
}

// archiveExhausted remembers conversations whose archive has no more
// older messages (for this run of Parley).
func (c *ChatService) archiveExhausted(peer string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.exhausted[peer]
}

func (c *ChatService) setArchiveExhausted(peer string) {
	c.mu.Lock()
	c.exhausted[peer] = true
	c.mu.Unlock()
}
