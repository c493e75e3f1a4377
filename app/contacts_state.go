// The contacts service's state and how the engine's events change it:
// sessions (a fresh one clears presence and refetches the roster with the
// cached XEP-0237 version and the block list), roster and block-list pushes
// (also replayed over a fetch result that raced them), presence (one entry
// per resource; the best resource is chosen when a contact is built),
// subscription requests, and avatar metadata. Snapshots are built from it,
// only rebuilding contacts that changed, and notified in coalesced bursts;
// the roster and the requests are written to the profile in batches.
package app

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"parley/xmppclient"
)

const (
	// minNotifyInterval spaces snapshot notifications, so a burst of
	// changes (a roster of thousands, the presence flood after login) is
	// delivered in a few calls.
	minNotifyInterval = 50 * time.Millisecond
	// persistDelay batches writes of the profile files.
	persistDelay = 500 * time.Millisecond
	// fetchTimeout bounds the roster and block list fetch of a session.
	fetchTimeout = 60 * time.Second
)

type rosterEntry struct {
	Name         string
	Groups       []string // sorted, never modified in place
	Subscription string
	Ask          bool
	Approved     bool
}

func entryFrom(it xmppclient.RosterItem) *rosterEntry {
	return &rosterEntry{Name: it.Name, Groups: normalizeGroups(it.Groups), Subscription: it.Subscription,
		Ask: it.Ask, Approved: it.Approved}
}

type resourceState struct {
	show     Show
	status   string
	priority int
	caps     string // XEP-0115 node#ver, "" if none
}

// builtContact is a Contact as last built, with its sort key.
type builtContact struct {
	c   Contact
	key string
}

// contactsState is everything the service knows; ContactsService.mu guards it.
type contactsState struct {
	store   *contactsStore // nil until a profile is known
	account string         // bare JID of the account

	client   *xmppclient.Client // the session's client, nil without one
	gen      uint64             // counts fresh sessions
	ready    chan struct{}      // closed when the session's fetch is done
	fetching bool
	replayR  []xmppclient.RosterPushEvent // pushes seen while fetching
	replayB  []xmppclient.BlockPushEvent
	waiters  map[*waiter]struct{}

	roster      map[string]*rosterEntry
	rosterVer   string
	presence    map[string]map[string]*resourceState // bare JID -> resource -> state
	nicks       map[string]string
	avatarOf    map[string]string              // bare JID -> avatar hash
	avatarUsers map[string]map[string]struct{} // hash -> bare JIDs
	cached      map[string]bool                // hash -> image is in the cache folder
	tried       map[string]bool                // hash -> fetch queued this session
	capsName    map[string]string              // node#ver -> client name
	capsTried   map[string]bool
	requests    map[string]Request
	blocked     map[string]struct{}
	own         OwnPresence
	ownAvatar   string
	preApproved map[string]bool
	preApproval bool
	loaded      bool
	unchanged   bool // the last fetch said the cached roster is current (tests)

	version  uint64
	built    map[string]*builtContact
	dirty    map[string]struct{}
	allDirty bool
	snap     *ContactsSnapshot

	rosterDirty, stateDirty bool
}

// reset empties the state for a profile folder (dir "" for none) and account.
func (s *contactsState) reset(dir, account string) {
	waiters := s.waiters
	version := s.version
	*s = contactsState{
		account:     account,
		waiters:     map[*waiter]struct{}{},
		roster:      map[string]*rosterEntry{},
		presence:    map[string]map[string]*resourceState{},
		nicks:       map[string]string{},
		avatarOf:    map[string]string{},
		avatarUsers: map[string]map[string]struct{}{},
		cached:      map[string]bool{},
		tried:       map[string]bool{},
		capsName:    map[string]string{},
		capsTried:   map[string]bool{},
		requests:    map[string]Request{},
		blocked:     map[string]struct{}{},
		own:         OwnPresence{Show: ShowOnline},
		preApproved: map[string]bool{},
		built:       map[string]*builtContact{},
		dirty:       map[string]struct{}{},
		allDirty:    true,
		version:     version + 1,
	}
	if dir != "" {
		s.store = &contactsStore{dir: dir}
	}
	for w := range waiters {
		w.err = ErrNotOnline
		close(w.done)
	}
}

// bump records a change that is not about one contact.
func (s *contactsState) bump() { s.version++ }

// touch records a change of one contact.
func (s *contactsState) touch(bare string) {
	s.version++
	if !s.allDirty {
		s.dirty[bare] = struct{}{}
	}
}

func (s *contactsState) touchAll() {
	s.version++
	s.allDirty = true
}

// clearPresence marks every contact offline.
func (s *contactsState) clearPresence() {
	for bare := range s.presence {
		s.touch(bare)
	}
	clear(s.presence)
}

func (s *contactsState) dropRequest(bare string) {
	if _, ok := s.requests[bare]; ok {
		delete(s.requests, bare)
		s.stateDirty = true
		s.touch(bare)
	}
}

func (s *contactsState) failWaiters(err error) {
	for w := range s.waiters {
		w.err = err
		close(w.done)
		delete(s.waiters, w)
	}
}

// resolve completes the waiters ev confirms.
func (s *contactsState) resolve(ev xmppclient.Event) {
	for w := range s.waiters {
		if w.match(ev) {
			close(w.done)
			delete(s.waiters, w)
		}
	}
}

// load reads the profile's files into a freshly reset state.
func (s *contactsState) load() (rosterErr, stateErr error) {
	if s.store == nil || s.account == "" {
		return nil, nil
	}
	rf, rosterErr := s.store.loadRoster()
	if rosterErr == nil && rf.Account == s.account {
		s.rosterVer = rf.Ver
		for _, it := range rf.Items {
			s.roster[it.JID] = &rosterEntry{Name: it.Name, Groups: normalizeGroups(it.Groups),
				Subscription: cmp.Or(it.Subscription, xmppclient.SubNone), Ask: it.Ask, Approved: it.Approved}
		}
		for jid, nick := range rf.Nicks {
			s.nicks[jid] = nick
		}
		for jid, hash := range rf.Avatars {
			s.setAvatar(jid, hash)
		}
	}
	sf, stateErr := s.store.loadState()
	if stateErr == nil && sf.Account == s.account {
		for _, r := range sf.Requests {
			s.requests[r.JID] = Request(r)
		}
		if sf.Own.Show != "" {
			s.own = OwnPresence{Show: sf.Own.Show, Status: sf.Own.Status}
		}
		s.ownAvatar = sf.Avatar
		if s.ownAvatar != "" && s.store.hasAvatar(s.ownAvatar) {
			s.cached[s.ownAvatar] = true
		}
		for _, jid := range sf.Approve {
			s.preApproved[jid] = true
		}
	}
	s.rosterDirty, s.stateDirty = false, false
	s.touchAll()
	return rosterErr, stateErr
}

// setAvatar records bare's avatar hash ("" for none).
func (s *contactsState) setAvatar(bare, hash string) {
	old := s.avatarOf[bare]
	if old == hash {
		return
	}
	if users := s.avatarUsers[old]; users != nil {
		delete(users, bare)
		if len(users) == 0 {
			delete(s.avatarUsers, old)
		}
	}
	if hash == "" {
		delete(s.avatarOf, bare)
	} else {
		s.avatarOf[bare] = hash
		if s.avatarUsers[hash] == nil {
			s.avatarUsers[hash] = map[string]struct{}{}
		}
		s.avatarUsers[hash][bare] = struct{}{}
		if !s.cached[hash] && s.store != nil && s.store.hasAvatar(hash) {
			s.cached[hash] = true
		}
	}
	s.rosterDirty = true
	s.touch(bare)
}

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

func (s *contactsState) applyRosterPush(p xmppclient.RosterPushEvent) {
	bare := p.Item.JID.String()
	old := s.roster[bare]
	if old != nil && seesThem(old.Subscription) && !seesThem(p.Item.Subscription) {
		// We no longer receive their presence: what we have is stale (not
		// every server sends the unavailable presence RFC 6121 §3.3.3 asks for).
		delete(s.presence, bare)
	}
	if p.Item.Subscription == xmppclient.SubRemove {
		delete(s.roster, bare)
	} else {
		s.roster[bare] = entryFrom(p.Item)
		if seesUs(p.Item.Subscription) {
			s.dropRequest(bare)
		}
	}
	if p.Ver != "" {
		s.rosterVer = p.Ver
	}
	s.rosterDirty = true
	s.touch(bare)
}

func (c *ContactsService) onRosterPush(client *xmppclient.Client, p xmppclient.RosterPushEvent) {
	c.mu.Lock()
	if c.st.client != client {
		c.mu.Unlock()
		return
	}
	c.st.applyRosterPush(p)
	if c.st.fetching {
		c.st.replayR = append(c.st.replayR, p)
	}
	c.st.resolve(p)
	c.mu.Unlock()
	c.changed()
	c.persist()
}

func (s *contactsState) applyBlockPush(p xmppclient.BlockPushEvent) {
	if p.UnblockedAll {
		for b := range s.blocked {
			s.touch(bareOf(b))
		}
		clear(s.blocked)
	}
	for _, j := range p.Unblocked {
		delete(s.blocked, j.String())
		s.touch(j.Bare().String())
	}
	for _, j := range p.Blocked {
		s.blocked[j.String()] = struct{}{}
		bare := j.Bare().String()
		// Their presence no longer reaches us: what we have is stale. The
		// server also dropped their pending request.
		delete(s.presence, bare)
		s.dropRequest(bare)
		s.touch(bare)
	}
	s.bump()
}

func bareOf(s string) string {
	if j, err := xmppclient.ParseJID(s); err == nil {
		return j.Bare().String()
	}
	return s
}

func (c *ContactsService) onBlockPush(client *xmppclient.Client, p xmppclient.BlockPushEvent) {
	c.mu.Lock()
	if c.st.client != client {
		c.mu.Unlock()
		return
	}
	c.st.applyBlockPush(p)
	if c.st.fetching {
		c.st.replayB = append(c.st.replayB, p)
	}
	c.st.resolve(p)
	c.mu.Unlock()
	c.changed()
	c.persist()
}

func showOf(s string) Show {
	switch s {
	case xmppclient.ShowChat:
		return ShowChat
	case xmppclient.ShowAway:
		return ShowAway
	case xmppclient.ShowXA:
		return ShowXA
	case xmppclient.ShowDND:
		return ShowDND
	}
	return ShowOnline
}

func (c *ContactsService) onPresence(client *xmppclient.Client, ev xmppclient.PresenceEvent) {
	info, err := xmppclient.ParsePresence(ev.Presence)
	if err != nil {
		c.log.Debug("ignoring a presence with a bad sender", "err", err)
		return
	}
	bare := info.From.Bare().String()
	var after func()
	c.mu.Lock()
	s := &c.st
	if s.client != client || bare == s.account {
		c.mu.Unlock()
		return
	}
	switch info.Type {
	case "", "available":
		res := s.presence[bare]
		if res == nil {
			res = map[string]*resourceState{}
			s.presence[bare] = res
		}
		rs := &resourceState{show: showOf(info.Show), status: info.Status, priority: int(info.Priority)}
		if info.Caps != nil && info.Caps.Ver != "" {
			rs.caps = info.Caps.Node + "#" + info.Caps.Ver
			if _, known := s.capsName[rs.caps]; !known && !s.capsTried[rs.caps] {
				s.capsTried[rs.caps] = true
				c.enqueue(fetchJob{kind: jobCaps, jid: info.From, node: rs.caps, gen: s.gen})
			}
		}
		res[info.From.Resource] = rs
		if info.Nick != "" && s.nicks[bare] != info.Nick {
			s.nicks[bare] = info.Nick
			s.rosterDirty = true
		}
		if info.HasPhotoInfo {
			c.contactAvatar(info.From.Bare(), info.PhotoHash)
		}
		s.touch(bare)
	case "unavailable", "error":
		if res := s.presence[bare]; res != nil {
			if info.From.Resource == "" {
				delete(s.presence, bare)
			} else {
				delete(res, info.From.Resource)
				if len(res) == 0 {
					delete(s.presence, bare)
				}
			}
			s.touch(bare)
		}
	case "subscribe":
		after = c.onSubscribe(client, info)
	case "unsubscribe":
		// They withdrew their request (or stopped following us).
		s.dropRequest(bare)
	}
	c.mu.Unlock()
	if after != nil {
		after()
	}
	c.changed()
	c.persist()
}

// onSubscribe keeps a request, or answers it at once when we pre-approved
// them. c.mu is held; the returned function runs after it is released.
func (c *ContactsService) onSubscribe(client *xmppclient.Client, info xmppclient.PresenceInfo) func() {
	s := &c.st
	bare := info.From.Bare().String()
	if _, blocked := s.blocked[bare]; blocked {
		return nil
	}
	e := s.roster[bare]
	if s.preApproved[bare] || (e != nil && seesUs(e.Subscription)) {
		delete(s.preApproved, bare)
		s.stateDirty = true
		s.touch(bare)
		jid := info.From.Bare()
		return func() {
			if err := client.ApproveSubscription(jid); err != nil {
				c.log.Warn("approving a pre-approved contact", "jid", jid, "err", err)
			}
		}
	}
	r, ok := s.requests[bare]
	if !ok {
		r = Request{JID: bare, Received: c.now()}
	}
	if info.Nick != "" {
		r.Nick = info.Nick
		if s.nicks[bare] != info.Nick {
			s.nicks[bare] = info.Nick
			s.rosterDirty = true
		}
	}
	if info.Status != "" {
		r.Message = info.Status
	}
	if !ok || s.requests[bare] != r {
		s.requests[bare] = r
		s.stateDirty = true
		s.touch(bare)
	}
	return nil
}

// pickAvatar chooses the image to show from XEP-0084 metadata: PNG (which
// every client must publish) first, and only images stored in PEP.
func pickAvatar(infos []xmppclient.AvatarInfo) string {
	best := ""
	for _, in := range infos {
		if in.URL != "" || !validHash(in.ID) {
			continue
		}
		if in.Type == "image/png" {
			return in.ID
		}
		if best == "" {
			best = in.ID
		}
	}
	return best
}

func (c *ContactsService) onAvatarMetadata(client *xmppclient.Client, ev xmppclient.AvatarMetadataEvent) {
	hash := ""
	if !ev.Cleared {
		hash = pickAvatar(ev.Infos)
	}
	c.mu.Lock()
	s := &c.st
	if s.client != client {
		c.mu.Unlock()
		return
	}
	if ev.From.Bare().String() == s.account {
		if s.ownAvatar != hash {
			s.ownAvatar = hash
			s.stateDirty = true
			s.bump()
		}
		c.wantAvatar(ev.From.Bare(), hash)
	} else {
		c.contactAvatar(ev.From.Bare(), hash)
	}
	c.mu.Unlock()
	c.changed()
	c.persist()
}

// contactAvatar records a contact's avatar and fetches it if needed; c.mu is held.
func (c *ContactsService) contactAvatar(jid xmppclient.JID, hash string) {
	if hash != "" && !validHash(hash) {
		return
	}
	c.st.setAvatar(jid.String(), hash)
	c.wantAvatar(jid, hash)
}

// wantAvatar queues the fetch of an image not cached yet, once per hash
// and session; c.mu is held.
func (c *ContactsService) wantAvatar(jid xmppclient.JID, hash string) {
	s := &c.st
	if hash == "" || s.cached[hash] || s.tried[hash] || s.store == nil {
		return
	}
	if s.store.hasAvatar(hash) {
		s.cached[hash] = true
		s.bump()
		return
	}
	s.tried[hash] = true
	if !c.enqueue(fetchJob{kind: jobAvatar, jid: jid, hash: hash, gen: s.gen}) {
		s.tried[hash] = false
	}
}

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

// notifyLoop delivers snapshots to the listeners after changes.
func (c *ContactsService) notifyLoop() {
	defer c.wg.Done()
	var last time.Time
	for {
		select {
		case <-c.kick:
		case <-c.ctx.Done():
			return
		}
		if wait := minNotifyInterval - time.Since(last); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-c.ctx.Done():
				t.Stop()
				return
			}
		}
		snap := c.Snapshot()
		last = time.Now()
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
}

// persist asks for the files to be written soon (never blocks).
func (c *ContactsService) persist() {
	select {
	case c.persistKick <- struct{}{}:
	default:
	}
}

// persistLoop writes the files at most every persistDelay.
func (c *ContactsService) persistLoop() {
	defer c.wg.Done()
	for {
		select {
		case <-c.persistKick:
		case <-c.ctx.Done():
			return
		}
		t := time.NewTimer(persistDelay)
		select {
		case <-t.C:
		case <-c.ctx.Done():
			t.Stop()
			return
		}
		c.flush()
	}
}

// flush writes the files that changed.
func (c *ContactsService) flush() {
	c.fmu.Lock()
	defer c.fmu.Unlock()
	c.mu.Lock()
	s := &c.st
	store := s.store
	if store == nil || s.account == "" {
		c.mu.Unlock()
		return
	}
	var rf *rosterFile
	var sf *stateFile
	if s.rosterDirty {
		f := rosterFile{Account: s.account, Ver: s.rosterVer, Items: make([]rosterFileItem, 0, len(s.roster)),
			Nicks: cloneNonEmpty(s.nicks), Avatars: cloneNonEmpty(s.avatarOf)}
		for bare, e := range s.roster {
			f.Items = append(f.Items, rosterFileItem{JID: bare, Name: e.Name, Groups: e.Groups,
				Subscription: e.Subscription, Ask: e.Ask, Approved: e.Approved})
		}
		rf = &f
		s.rosterDirty = false
	}
	if s.stateDirty {
		f := stateFile{Account: s.account, Own: stateOwn{Show: s.own.Show, Status: s.own.Status}, Avatar: s.ownAvatar}
		for _, r := range s.requests {
			f.Requests = append(f.Requests, stateRequest(r))
		}
		for jid := range s.preApproved {
			f.Approve = append(f.Approve, jid)
		}
		sf = &f
		s.stateDirty = false
	}
	c.mu.Unlock()
	if rf != nil {
		slices.SortFunc(rf.Items, func(a, b rosterFileItem) int { return strings.Compare(a.JID, b.JID) })
		if err := store.saveRoster(*rf); err != nil {
			c.log.Warn("saving the local copy of the roster", "err", err)
		}
	}
	if sf != nil {
		slices.SortFunc(sf.Requests, func(a, b stateRequest) int { return strings.Compare(a.JID, b.JID) })
		slices.Sort(sf.Approve)
		if err := store.saveState(*sf); err != nil {
			c.log.Warn("saving the contact requests", "err", err)
		}
	}
}

// cloneNonEmpty copies a string map (nil when empty).
func cloneNonEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}
