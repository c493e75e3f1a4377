// The contacts service's side of a session: the engine's events routed to
// it (after the chats, see Service.route), a fresh session's refetch of the
// roster (with the cached XEP-0237 version) and of the block list, and what
// an ended session leaves (no presence).
package app

import (
	"context"
	"time"

	"parley/xmppclient"
)

// useProfile switches the service to a profile folder and account, loading
// the local copy of the roster and the kept requests (nothing happens when
// they are the current ones).
func (c *ContactsService) useProfile(p *Profile, account string) {
	if p == nil {
		return
	}
	c.mu.Lock()
	same := c.st.store != nil && c.st.store.dir == p.Dir() && c.st.account == account
	c.mu.Unlock()
	if same {
		return
	}
	c.flush()
	c.mu.Lock()
	// What the user set before the account was known (a new profile's
	// first login) carries over to it.
	carry := c.st.store != nil && c.st.store.dir == p.Dir() && c.st.account == "" && c.st.stateDirty
	own := c.st.own
	c.st.reset(p.Dir(), account)
	rerr, serr := c.st.load()
	if carry {
		c.st.own = own
		c.st.stateDirty = true
	}
	c.mu.Unlock()
	if rerr != nil {
		c.log.Warn("the local copy of the roster cannot be read; it will be fetched again", "err", rerr)
	}
	if serr != nil {
		c.log.Warn("the kept contact requests cannot be read", "err", serr)
	}
	c.changed()
}

// handleEvent is called by the session's event loop for every event, in
// order. It never waits on the network.
func (c *ContactsService) handleEvent(client *xmppclient.Client, ev xmppclient.Event) {
	c.mu.Lock()
	tap := c.tapFn
	c.mu.Unlock()
	if tap != nil {
		tap(ev)
	}
	switch ev := ev.(type) {
	case xmppclient.SessionEvent:
		c.sessionStarted(client, ev)
	case xmppclient.StateEvent:
		if ev.State == xmppclient.StateOffline {
			c.sessionEnded(client)
		}
	case xmppclient.PresenceEvent:
		c.onPresence(client, ev)
	case xmppclient.RosterPushEvent:
		c.onRosterPush(client, ev)
	case xmppclient.BlockPushEvent:
		c.onBlockPush(client, ev)
	case xmppclient.AvatarMetadataEvent:
		c.onAvatarMetadata(client, ev)
	}
}

// sessionStarted: on a fresh session the server forgot our presence and
// sends everyone's again; send ours and fetch the roster and block list.
func (c *ContactsService) sessionStarted(client *xmppclient.Client, ev xmppclient.SessionEvent) {
	c.mu.Lock()
	if ev.Resumed && c.st.client == client && c.st.ready != nil {
		c.mu.Unlock()
		return
	}
	c.st.failWaiters(ErrNotOnline)
	c.st.client = client
	c.st.gen++
	gen := c.st.gen
	c.st.ready = make(chan struct{})
	c.st.fetching = true
	c.st.replayR, c.st.replayB = nil, nil
	c.st.loaded = false
	c.st.clearPresence()
	c.st.tried = map[string]bool{}
	c.st.capsTried = map[string]bool{}
	c.st.preApproval = client.PreApprovalSupported()
	c.st.bump()
	own, ver, ready := c.st.own, c.st.rosterVer, c.st.ready
	closing := c.closing
	if !closing {
		c.wg.Add(1)
	}
	c.mu.Unlock()
	c.changed()
	if own.Show != ShowOffline {
		if err := c.sendOwnPresence(client, own); err != nil {
			c.log.Warn("sending the initial presence", "err", err)
		}
	}
	if !closing {
		go c.fetchSession(client, gen, ver, ready)
	}
}

// sessionEnded: the client stopped (logout, a permanent error).
func (c *ContactsService) sessionEnded(client *xmppclient.Client) {
	c.mu.Lock()
	if c.st.client != client {
		c.mu.Unlock()
		return
	}
	c.st.client = nil
	c.st.ready = nil
	c.st.loaded = false
	c.st.fetching = false
	c.st.failWaiters(ErrNotOnline)
	c.st.clearPresence()
	c.st.bump()
	c.mu.Unlock()
	c.changed()
	c.flush()
}

// fetchSession gets the roster (with the cached version) and the block
// list, then applies them with the pushes that came meanwhile.
func (c *ContactsService) fetchSession(client *xmppclient.Client, gen uint64, ver string, ready chan struct{}) {
	defer c.wg.Done()
	var (
		res      xmppclient.RosterResult
		blocked  []xmppclient.JID
		err      error
		blockErr error
	)
	for attempt := range 3 {
		ctx, cancel := context.WithTimeout(c.ctx, fetchTimeout)
		res, err = client.FetchRoster(ctx, ver)
		if err == nil {
			blocked, blockErr = client.BlockList(ctx)
		}
		cancel()
		if err == nil || c.ctx.Err() != nil || !c.current(client, gen) {
			break
		}
		c.log.Warn("fetching the roster", "err", err, "attempt", attempt+1)
		select {
		case <-time.After(time.Duration(1<<attempt) * time.Second):
		case <-c.ctx.Done():
		}
	}
	if blockErr != nil {
		c.log.Info("no block list", "err", blockErr)
	}
	c.mu.Lock()
	if c.st.client != client || c.st.gen != gen {
		c.mu.Unlock()
		return
	}
	if err != nil {
		c.log.Warn("the roster could not be fetched; showing the local copy", "err", err)
	} else {
		s := &c.st
		if !res.Unchanged {
			s.roster = make(map[string]*rosterEntry, len(res.Items))
			for _, it := range res.Items {
				s.roster[it.JID.String()] = entryFrom(it)
			}
		}
		s.rosterVer = res.Ver
		s.unchanged = res.Unchanged
		for _, p := range s.replayR {
			s.applyRosterPush(p)
		}
		if blockErr == nil {
			s.blocked = make(map[string]struct{}, len(blocked))
			for _, b := range blocked {
				s.blocked[b.String()] = struct{}{}
			}
		}
		for _, p := range s.replayB {
			s.applyBlockPush(p)
		}
		// Requests answered elsewhere meanwhile are done.
		for bare := range s.requests {
			if e := s.roster[bare]; e != nil && seesUs(e.Subscription) {
				s.dropRequest(bare)
			}
		}
		s.loaded = true
		s.rosterDirty = true
		s.touchAll()
	}
	c.st.fetching = false
	c.st.replayR, c.st.replayB = nil, nil
	close(ready)
	c.mu.Unlock()
	c.changed()
	c.persist()
}

func (c *ContactsService) current(client *xmppclient.Client, gen uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.client == client && c.st.gen == gen
}
