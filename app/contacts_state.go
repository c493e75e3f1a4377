// The contacts service's state: the roster, presence (one entry per
// resource), requests, blocks and avatars as the server last told them,
// with what changed since the last snapshot. Sessions change it
// (contacts_session.go), and so do the server's pushes
// (contacts_events.go); snapshots are built from it (contacts_snapshot.go)
// and it is written to the profile in batches (contacts_store.go).
package app

import (
	"cmp"
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
