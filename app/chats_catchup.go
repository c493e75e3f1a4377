// The archive catch-up on login (XEP-0313): the newest messages first,
// back to the last message seen, each page stored as it arrives, so the
// conversations that moved last are up to date first. What is not read
// yet is recorded as a gap (store.Gap) together with the position, so an
// interrupted catch-up resumes there on the next login; a new profile
// reads only the newest pages and leaves the rest to be fetched when the
// user scrolls into it (chats_gaps.go).
package app

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"time"

	"parley/app/store"
	"parley/xmppclient"
)

// cutPassesAfter, when above 0, makes every archive pass fail after that
// many pages, as a lost connection would; tests set it (export_test.go)
// to leave gaps behind.
var cutPassesAfter atomic.Int32

// errPassCut is the failure cutPassesAfter causes.
var errPassCut = errors.New("archive pass cut short (test)")

// failPasses, when set, makes every archive pass fail before its first
// page, as an archive that cannot be reached would; tests set it
// (export_outbox_test.go) to keep a catch-up from checking the outbox.
var failPasses atomic.Bool

// catchUp reads what the archive got since the last message seen. It
// leaves the progress active: resumeGaps, given the pass, ends it.
func (c *ChatService) catchUp(ctx context.Context, client *xmppclient.Client) (*archivePass, error) {
	st, err := c.history()
	if err != nil {
		return nil, err
	}
	own := client.JID().Bare().String()
	c.setSync(SyncProgress{Active: true})
	pass := &archivePass{c: c, client: client, st: st, own: own, byID: c.archiveTakesIDs(ctx, client)}
	pos, found, err := st.SyncPosition(ctx, own)
	if err != nil {
		return nil, c.syncFailed(ctx, pass, err)
	}
	if found && pos.LastID != "" {
		gap := store.Gap{Archive: own, AfterID: pos.LastID, Start: pos.Time}
		err = pass.fill(ctx, gap, fillOptions{advance: true})
		var se *xmppclient.StanzaError
		if errors.As(err, &se) && se.Condition == "item-not-found" && pass.byID {
			// The last message seen has expired from the archive: what
			// lay between is lost; read what it has since then.
			c.log.Info("the archive no longer has the last message seen; some history is missing", "after", pos.LastID)
			pass.byID = false
			err = pass.fill(ctx, store.Gap{Archive: own, Start: pos.Time}, fillOptions{advance: true})
		}
	} else {
		err = pass.fill(ctx, store.Gap{Archive: own}, fillOptions{advance: true, maxPages: firstSyncPages})
	}
	if err != nil {
		return nil, c.syncFailed(ctx, pass, err)
	}
	return pass, nil
}

// resumeGaps reads, newest first, the gaps earlier catch-ups left (those
// with a lower bound; a new profile's older history waits for the user to
// scroll), then reports the catch-up done.
func (c *ChatService) resumeGaps(ctx context.Context, pass *archivePass) {
	gaps, err := pass.st.Gaps(ctx, pass.own, "")
	if err != nil {
		_ = c.syncFailed(ctx, pass, err)
		return
	}
	for _, g := range gaps {
		if g.Conversation != "" || !g.Bounded() {
			continue
		}
		if err := pass.fill(ctx, g, fillOptions{}); err != nil {
			_ = c.syncFailed(ctx, pass, err)
			return
		}
	}
	c.setSync(SyncProgress{Fetched: pass.fetched})
}

// archiveUnavailable reports whether a catch-up failed because the server
// keeps no archive for the account (or refuses to share it), rather than
// for a passing reason (timeout, lost connection).
func archiveUnavailable(err error) bool {
	var se *xmppclient.StanzaError
	if !errors.As(err, &se) {
		return false
	}
	switch se.Condition {
	case "service-unavailable", "feature-not-implemented", "forbidden", "not-allowed":
		return true
	}
	return false
}

func (c *ChatService) syncFailed(ctx context.Context, pass *archivePass, err error) error {
	if ctx.Err() == nil {
		c.log.Warn("archive catch-up stopped", "err", err)
		c.setSync(SyncProgress{Fetched: pass.fetched, Err: err})
	}
	return err
}

// archiveTakesIDs reports whether the account's archive takes after-id
// and before-id (urn:xmpp:mam:2#extended); without them a catch-up is
// bounded by time, and the overlap is deduplicated.
func (c *ChatService) archiveTakesIDs(ctx context.Context, client *xmppclient.Client) bool {
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	info, err := client.DiscoInfo(dctx, client.JID().Bare(), "")
	c.learnStanzaIDs(client, info) // the same answer says whether stanza-ids are the server's
	if err != nil {
		c.log.Info("archive features unknown", "err", err)
		return false
	}
	ok := info.HasFeature(xmppclient.NSMAMExtended)
	if ok {
		c.mu.Lock()
		c.idsClient = client
		c.mu.Unlock()
	}
	return ok
}

// archiveIDsKnown reports whether the catch-up of client's session found
// that its archive takes after-id.
func (c *ChatService) archiveIDsKnown(client *xmppclient.Client) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.idsClient == client
}

// archivePass reads stretches of one archive, newest first.
type archivePass struct {
	c       *ChatService
	client  *xmppclient.Client
	st      *store.Store
	own     string
	byID    bool // the archive takes after-id
	fetched int
	total   int
	// states: receipts and markers read in this pass, applied when its
	// pages are stored (newest first, a receipt comes before its message).
	states []deliveryUpdate
}

// archiveQueryTimeout bounds one archive query: a server that never
// answers must not hold the outbox flush for the whole session.
const archiveQueryTimeout = time.Minute

type fillOptions struct {
	// advance: the pass starts at the archive's newest message; the sync
	// position moves there with the first page.
	advance bool
	// maxPages stops after that many pages (0: when the gap is read); what
	// is left stays a gap.
	maxPages int
}

// fill reads gap g (ID 0: not recorded yet) page by page from its newest
// end. Each page is stored while the next one is fetched; after it, the
// gap's remaining part is recorded (created, narrowed or deleted) in the
// same order, so a crash loses at most a page to fetch again.
func (p *archivePass) fill(ctx context.Context, g store.Gap, o fillOptions) error {
	q := xmppclient.MAMQuery{Max: catchUpPage, Before: g.BeforeID, Last: g.BeforeID == ""}
	if p.byID && g.AfterID != "" {
		q.AfterID = g.AfterID
	} else if !g.Start.IsZero() {
		q.Start = g.Start
	}
	var storing chan error
	waitStored := func() error {
		if storing == nil {
			return nil
		}
		err := <-storing
		storing = nil
		return err
	}
	gapID := g.ID // touched only by the storing goroutines, one after the other
	var ceiling time.Time
	for pages := 0; ; pages++ {
		if cut := int(cutPassesAfter.Load()); cut > 0 && pages >= cut || failPasses.Load() {
			_ = waitStored()
			return errPassCut
		}
		qctx, cancel := context.WithTimeout(ctx, archiveQueryTimeout)
		page, err := p.client.QueryArchive(qctx, q)
		cancel()
		if err != nil {
			_ = waitStored()
			return err
		}
		n := len(page.Messages)
		msgs, states := p.c.archivedToStore(page.Messages, p.own)
		p.states = append(p.states, states...)
		if len(msgs) > 0 {
			ceiling = keepBefore(msgs, ceiling, g.Start)
		}
		if pages == 0 && page.Count > 0 {
			total := page.Count
			if o.maxPages > 0 {
				total = min(total, o.maxPages*max(n, 1))
			}
			p.total += total
		}
		p.fetched += n
		done := page.Complete || n == 0
		last := done || (o.maxPages > 0 && pages+1 >= o.maxPages)

		// What is left of the gap after this page.
		rest := g
		if n > 0 {
			rest.BeforeID, rest.End = page.First, page.Messages[0].Stamp
			if len(msgs) > 0 {
				rest.End = ceiling // the stored (perhaps moved) time of the oldest read
			}
		}
		var record func() error
		switch {
		case pages == 0 && o.advance && n > 0:
			newest := page.Messages[n-1]
			pos := store.SyncPosition{Archive: p.own, LastID: newest.ArchiveID, Time: newest.Stamp}
			var left *store.Gap
			if !done {
				left = &rest
			}
			record = func() error {
				id, err := p.st.AdvanceSync(ctx, pos, left)
				gapID = id
				return err
			}
		case done:
			record = func() error {
				if gapID == 0 {
					return nil
				}
				return p.st.DeleteGap(ctx, gapID)
			}
		default:
			record = func() error {
				if gapID == 0 {
					return nil
				}
				rest.ID = gapID
				return p.st.UpdateGap(ctx, rest)
			}
		}
		if err := waitStored(); err != nil {
			return err
		}
		storing = make(chan error, 1)
		go func() {
			err := p.c.saveArchived(ctx, p.st, msgs)
			if err == nil {
				err = record()
			}
			storing <- err
		}()
		p.c.setSync(SyncProgress{Active: true, Fetched: p.fetched, Total: p.total})
		if last {
			if err := waitStored(); err != nil {
				return err
			}
			p.c.applyArchivedStates(p.states)
			p.states = nil
			return nil
		}
		q.Before, q.Last = page.First, false
	}
}

// deliveryUpdate is a receipt or marker from a peer (their copy of our
// message msgID reached state), or a displayed marker another device of
// the account sent (read: the peer's message msgID was shown there).
type deliveryUpdate struct {
	peer, msgID string
	state       store.State
	readHere    bool
}

// deliveryOf reads the receipt or marker a message carries.
func deliveryOf(m xmppclient.ChatMessage, own string) (deliveryUpdate, bool) {
	peer := m.From.Bare().String()
	if peer == own {
		to := m.To.Bare().String()
		read := m.MarkerType == "displayed" || m.MarkerType == "acknowledged"
		return deliveryUpdate{peer: to, msgID: m.MarkerFor, readHere: true}, read && m.MarkerFor != "" && to != "" && to != own
	}
	if peer == "" {
		return deliveryUpdate{}, false
	}
	switch {
	case m.MarkerType == "displayed" || m.MarkerType == "acknowledged":
		return deliveryUpdate{peer: peer, msgID: m.MarkerFor, state: store.StateRead}, m.MarkerFor != ""
	case m.MarkerType == "received":
		return deliveryUpdate{peer: peer, msgID: m.MarkerFor, state: store.StateDelivered}, m.MarkerFor != ""
	case m.ReceiptFor != "":
		return deliveryUpdate{peer: peer, msgID: m.ReceiptFor, state: store.StateDelivered}, true
	}
	return deliveryUpdate{}, false
}

// applyArchivedStates moves our messages' ticks for receipts and markers
// that arrived while Parley was away, oldest first (states only move
// forward, so a late "delivered" does not undo "read").
func (c *ChatService) applyArchivedStates(states []deliveryUpdate) {
	if len(states) == 0 {
		return
	}
	st, err := c.history()
	if err != nil {
		return
	}
	slices.Reverse(states)
	for _, u := range states {
		if u.readHere {
			c.readElsewhere(st, u.peer, u.msgID)
		} else {
			c.setState(st, u.peer, u.msgID, u.state, "")
		}
	}
}

// archivedToStore turns archive results into history rows, stamped with
// the archive's time, and collects the receipts and markers among them
// (newest first, as the pages come).
func (c *ChatService) archivedToStore(page []xmppclient.ArchivedMessage, own string) ([]store.Message, []deliveryUpdate) {
	msgs := make([]store.Message, 0, len(page))
	var states []deliveryUpdate
	for i := len(page) - 1; i >= 0; i-- {
		if u, ok := deliveryOf(page[i].Message, own); ok {
			states = append(states, u)
		}
	}
	for _, am := range page {
		// Our own corrections and retractions among them: storing them
		// marks sent those still in the outbox (the server has them).
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
	return msgs, states
}

// keepBefore makes a page of archived messages (oldest first) sort before
// ceiling, the time of the oldest message stored after them (zero: none),
// and returns the time of the page's oldest. The archive's stamps have
// whole seconds and the history orders messages of one millisecond by when
// they were stored, so a page stored after a newer one (newest-first
// reading) would sort after the newer page's messages of the same second:
// those messages move 1 ms before ceiling (keeping their order among
// themselves by storage), but not before floor, the time of the last
// message before the gap (zero: none). A gap within one millisecond
// cannot be ordered by time: there the order is the order of storage.
func keepBefore(msgs []store.Message, ceiling, floor time.Time) time.Time {
	if len(msgs) == 0 {
		return ceiling
	}
	if !ceiling.IsZero() {
		limit := ceiling.Add(-time.Millisecond)
		if !floor.IsZero() && limit.Before(floor) {
			limit = floor
		}
		for i := range msgs {
			if msgs[i].Time.After(limit) {
				msgs[i].Time = limit
			}
		}
	}
	return msgs[0].Time
}

// saveArchived stores one page of archived messages in one transaction.
func (c *ChatService) saveArchived(ctx context.Context, st *store.Store, msgs []store.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	saved, err := st.SaveBatch(ctx, msgs)
	if err != nil {
		return err
	}
	// Our own messages found in the archive were sent, whatever
	// the outbox thought (a crash between writing and the ack).
	for i, s := range saved {
		if s.Outcome == store.Duplicate && msgs[i].Direction == store.Out {
			if _, err := st.SetState(ctx, s.ID, store.StateSent, ""); err != nil {
				c.log.Warn("marking an archived message sent", "err", err)
			}
		}
	}
	return nil
}
