// Filling gaps of the local history from the archive when the user
// scrolls into one: a new profile syncs only the newest pages, and a
// catch-up that was cut short leaves the rest as a gap (store.Gap). When a
// page of a conversation asked for (the newest, or the one before a
// message) would reach past a gap, that conversation's messages in it are
// fetched (XEP-0313, with=peer, newest first) and stored, and the page is
// read again; what is left of the gap for that conversation is recorded,
// so each part is fetched once.
package app

import (
	"context"
	"fmt"

	"parley/app/store"
	"parley/xmppclient"
)

// maxGapFetches bounds the archive queries behind one page asked for.
const maxGapFetches = 4

// withGapsFilled returns read()'s page of peer's history (before cur, or
// the newest when cur is nil), after fetching peer's part of a gap the
// page reaches into. Without a session, or when the archive fails, the
// local page is returned as it is (the gap stays for later).
func (c *ChatService) withGapsFilled(ctx context.Context, st *store.Store, peer string, cur *store.Cursor, n int, read func() ([]store.Message, error)) ([]store.Message, error) {
	msgs, err := read()
	if err != nil {
		return msgs, err
	}
	for range maxGapFetches {
		client := c.currentClient()
		if client == nil {
			return msgs, nil
		}
		g, found, err := c.gapReached(ctx, st, client, peer, cur, msgs, n)
		if err != nil || !found {
			return msgs, err
		}
		if err := c.fillGapPart(ctx, st, client, peer, g, n); err != nil {
			c.log.Info("older history not fetched", "peer", peer, "err", err)
			return msgs, nil
		}
		if msgs, err = read(); err != nil {
			return msgs, err
		}
	}
	return msgs, nil
}

// gapReached finds the newest of peer's gaps that lies before cur (nil:
// now) and that the page msgs reaches into: it holds messages older than
// the gap's end, or it is short because the local history ran out.
func (c *ChatService) gapReached(ctx context.Context, st *store.Store, client *xmppclient.Client, peer string, cur *store.Cursor, msgs []store.Message, n int) (store.Gap, bool, error) {
	gaps, err := st.Gaps(ctx, client.JID().Bare().String(), peer)
	if err != nil {
		return store.Gap{}, false, err
	}
	for _, g := range gaps {
		if cur != nil && !g.End.IsZero() && g.End.UnixMilli() > cur.Time {
			continue // above the page: scrolled past already
		}
		if len(msgs) < n || g.End.IsZero() || msgs[0].Time.Before(g.End) {
			return g, true, nil
		}
		return store.Gap{}, false, nil // the newest gap below is not reached yet
	}
	return store.Gap{}, false, nil
}

// fillGapPart fetches the newest page of peer's messages in gap g, stores
// them just before the gap's end, and records what is left.
func (c *ChatService) fillGapPart(ctx context.Context, st *store.Store, client *xmppclient.Client, peer string, g store.Gap, n int) error {
	with, err := xmppclient.ParseJID(peer)
	if err != nil {
		return err
	}
	q := xmppclient.MAMQuery{With: with, Max: max(n, 50), Before: g.BeforeID, Last: g.BeforeID == ""}
	if g.AfterID != "" && c.archiveIDsKnown(client) {
		q.AfterID = g.AfterID
	} else if !g.Start.IsZero() {
		q.Start = g.Start
	}
	qctx, cancel := context.WithTimeout(ctx, archiveQueryTimeout)
	page, err := client.QueryArchive(qctx, q)
	cancel()
	if err != nil {
		return fmt.Errorf("history of %s from the archive: %w", peer, err)
	}
	msgs, states := c.archivedToStore(page.Messages, client.JID().Bare().String())
	end := g.End
	if len(msgs) > 0 {
		end = keepBefore(msgs, g.End, g.Start)
		if _, err := st.SaveBatch(ctx, msgs); err != nil {
			return fmt.Errorf("store history of %s from the archive: %w", peer, err)
		}
	} else if len(page.Messages) > 0 {
		end = page.Messages[0].Stamp
	}
	c.applyArchivedStates(states)
	done := page.Complete || len(page.Messages) == 0
	if _, err := st.NarrowGap(ctx, g, peer, page.First, end, done); err != nil {
		return err
	}
	c.notify(ChatChange{Peers: []string{peer}})
	return nil
}
