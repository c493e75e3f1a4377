// Snapshots of the contacts for the views: built from the state, only
// rebuilding the contacts that changed (the best resource chosen, names and
// avatars resolved), and delivered to the listeners in coalesced bursts.
package app

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// snapshot returns the current snapshot, rebuilding what changed.
func (s *contactsState) snapshot() ContactsSnapshot {
	if s.snap != nil && s.snap.Version == s.version {
		return *s.snap
	}
	if s.allDirty {
		s.built = make(map[string]*builtContact, len(s.roster))
		for bare, e := range s.roster {
			s.built[bare] = s.build(bare, e)
		}
		s.allDirty = false
	} else {
		for bare := range s.dirty {
			if e, ok := s.roster[bare]; ok {
				s.built[bare] = s.build(bare, e)
			} else {
				delete(s.built, bare)
			}
		}
	}
	clear(s.dirty)
	order := make([]*builtContact, 0, len(s.built))
	for _, b := range s.built {
		order = append(order, b)
	}
	slices.SortFunc(order, func(a, b *builtContact) int { return strings.Compare(a.key, b.key) })
	contacts := make([]Contact, len(order))
	for i, b := range order {
		contacts[i] = b.c
	}
	requests := make([]Request, 0, len(s.requests))
	for _, r := range s.requests {
		requests = append(requests, r)
	}
	slices.SortFunc(requests, func(a, b Request) int {
		return cmp.Or(a.Received.Compare(b.Received), strings.Compare(a.JID, b.JID))
	})
	blocked := make([]string, 0, len(s.blocked))
	for b := range s.blocked {
		blocked = append(blocked, b)
	}
	slices.Sort(blocked)
	ownAvatar := ""
	if s.cached[s.ownAvatar] {
		ownAvatar = s.ownAvatar
	}
	snap := ContactsSnapshot{
		Contacts: contacts, Requests: requests, Blocked: blocked, Own: s.own,
		Loaded: s.loaded, Version: s.version, PreApproval: s.preApproval, OwnAvatar: ownAvatar,
	}
	s.snap = &snap
	return snap
}

// showRank orders presence states from most to least available.
func showRank(sh Show) int {
	switch sh {
	case ShowChat:
		return 0
	case ShowOnline:
		return 1
	case ShowAway:
		return 2
	case ShowXA:
		return 3
	case ShowDND:
		return 4
	}
	return 5
}

// displayName: the roster name, else the nickname, else the local part.
func displayName(rosterName, nick, bare string) string {
	if n := strings.TrimSpace(rosterName); n != "" {
		return n
	}
	if n := strings.TrimSpace(nick); n != "" {
		return n
	}
	if at := strings.IndexByte(bare, '@'); at > 0 {
		return bare[:at]
	}
	return bare
}

// build makes the Contact of one roster entry: O(resources).
func (s *contactsState) build(bare string, e *rosterEntry) *builtContact {
	c := Contact{
		JID: bare, RosterName: e.Name, Groups: e.Groups, Subscription: e.Subscription, Pending: e.Ask,
		PreApproved: e.Approved || s.preApproved[bare], Show: ShowOffline,
	}
	c.Name = displayName(e.Name, s.nicks[bare], bare)
	if h := s.avatarOf[bare]; h != "" && s.cached[h] {
		c.AvatarHash = h
	}
	c.Color = ConsistentColor(bare)
	c.Initials = Initials(c.Name)
	_, c.Blocked = s.blocked[bare]
	if !c.Blocked {
		if at := strings.IndexByte(bare, '@'); at >= 0 {
			_, c.Blocked = s.blocked[bare[at+1:]]
		}
	}
	if res := s.presence[bare]; len(res) > 0 {
		c.Resources = make([]Resource, 0, len(res))
		for name, r := range res {
			c.Resources = append(c.Resources, Resource{Name: name, Show: r.show, Status: r.status,
				Priority: r.priority, Client: s.capsName[r.caps]})
		}
		// Best first: highest priority, then most available.
		slices.SortFunc(c.Resources, func(a, b Resource) int {
			return cmp.Or(cmp.Compare(b.Priority, a.Priority), cmp.Compare(showRank(a.Show), showRank(b.Show)),
				strings.Compare(a.Name, b.Name))
		})
		c.Show, c.Status = c.Resources[0].Show, c.Resources[0].Status
	}
	return &builtContact{c: c, key: strings.ToLower(c.Name) + "\x00" + bare}
}

// deliverSnapshot gives the listeners the current snapshot, on snapLoop,
// after a change: no sooner than minNotifyInterval after the last one (the
// changes made meanwhile go with it), and only to listeners that have not
// seen its version.
func (c *ContactsService) deliverSnapshot() {
	if wait := minNotifyInterval - time.Since(c.lastNotify); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-c.ctx.Done():
			t.Stop()
			return
		}
	}
	snap := c.Snapshot()
	c.lastNotify = time.Now()
	c.lmu.Lock()
	ls := slices.Clone(c.listeners)
	c.lmu.Unlock()
	for _, l := range ls {
		if l.seen < snap.Version {
			l.seen = snap.Version
			l.fn(snap)
		}
	}
}
