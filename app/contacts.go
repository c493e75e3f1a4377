// The contacts service: the roster with aggregated presence, groups and
// avatars, inbound subscription requests, the block list and the own
// presence, for the views. Every change the user asks for is sent to the
// server and confirmed by the server's push (roster or block list) before
// the method returns and the snapshot shows it; refusals come back as
// errors the UI can show (*ContactError, ErrNotOnline, *InvalidJIDError).
// The changes are in contacts_actions.go; the state is kept by
// contacts_state.go (changed by contacts_session.go and
// contacts_events.go), persisted by contacts_store.go, shown through
// contacts_snapshot.go; avatars and client names are fetched by
// contacts_fetch.go.
package app

import (
	"context"
	"errors"
	"fmt"
	_ "image/jpeg" // image.DecodeConfig for JPEG avatars
	_ "image/png"  // and PNG ones
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"parley/app/clock"
	"parley/app/notify"
	"parley/xmppclient"
)

var (
	// ErrNotOnline: the change needs the server, and there is no session.
	ErrNotOnline = errors.New("not connected to the server")
	// ErrUnknownContact: the address is not in the contact list.
	ErrUnknownContact = errors.New("not in the contact list")
	// ErrUnsupportedImage: an avatar must be a PNG or JPEG image.
	ErrUnsupportedImage = errors.New("the avatar must be a PNG or JPEG image")
)

// ContactError is the server's refusal of a change to the contacts.
type ContactError struct {
	Op        string // what was asked: "add", "rename", "block" ... (see Error)
	JID       string
	Condition string // the XMPP error condition, e.g. "not-allowed", "item-not-found"
	Text      string // the server's own explanation, if any
}

func (e *ContactError) Error() string {
	verb := map[string]string{
		"add": "add", "rename": "rename", "groups": "change the groups of", "remove": "remove",
		"accept": "accept", "deny": "deny", "block": "block", "unblock": "unblock",
		"avatar": "publish the avatar", "presence": "change the presence",
	}[e.Op]
	if verb == "" {
		verb = e.Op
	}
	msg := "the server refused to " + verb
	if e.JID != "" {
		msg += " " + e.JID
	}
	reason := map[string]string{
		"not-allowed": "not allowed", "forbidden": "not allowed", "item-not-found": "no such address",
		"jid-malformed": "the address is not valid", "not-acceptable": "the name or group is not acceptable",
		"resource-constraint": "a server limit was reached", "policy-violation": "a server policy forbids it",
		"feature-not-implemented": "the server does not support this", "service-unavailable": "the server does not support this",
		"remote-server-not-found": "their server cannot be reached", "bad-request": "the request was not understood",
	}[e.Condition]
	switch {
	case reason != "":
		msg += ": " + reason
	case e.Condition != "":
		msg += ": " + e.Condition
	}
	if e.Text != "" {
		msg += " (" + e.Text + ")"
	}
	return msg
}

// contactErr turns an engine error of op into the app's error types.
func contactErr(client *xmppclient.Client, op, jid string, err error) error {
	var se *xmppclient.StanzaError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		return &ContactError{Op: op, JID: jid, Condition: se.Condition, Text: se.Text}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return fmt.Errorf("%s %s: %w", op, jid, err)
	case errors.Is(err, xmppclient.ErrNotConnected), errors.Is(err, xmppclient.ErrClosed),
		client == nil || client.State() != xmppclient.StateOnline:
		return fmt.Errorf("%s %s: %w (%v)", op, jid, ErrNotOnline, err)
	}
	return fmt.Errorf("%s %s: %w", op, jid, err)
}

// ContactsService keeps the contacts of the account of a Service (see
// Service.Contacts). It is safe for concurrent use.
type ContactsService struct {
	log    *slog.Logger
	now    clock.Func // dates subscription requests
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	st      contactsState
	tapFn   func(xmppclient.Event) // tests: sees every event first
	closing bool                   // close was called: start no goroutine

	fmu sync.Mutex // serializes flushes, so files are written in order

	lmu       sync.Mutex
	listeners []*contactsListener
	nextID    int

	// A change posts on changes; a snapshot is built and delivered on
	// snapLoop (deliverSnapshot), at most every minNotifyInterval.
	changes     *notify.Coalescer[struct{}]
	snapLoop    *notify.Loop
	lastNotify  time.Time     // snapLoop only
	persistKick chan struct{} // a change to persist
	jobs        chan fetchJob
}

type contactsListener struct {
	id   int
	fn   func(ContactsSnapshot)
	seen uint64 // last version delivered (notifier goroutine only)
}

func newContactsService(log *slog.Logger, now clock.Func) *ContactsService {
	c := &ContactsService{
		log:         log,
		now:         clock.Or(now),
		persistKick: make(chan struct{}, 1),
		jobs:        make(chan fetchJob, fetchQueue),
		snapLoop:    notify.NewLoop(),
	}
	c.changes = notify.NewCoalescer(c.snapLoop.Run, nil, func(struct{}) { c.deliverSnapshot() })
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.st.reset("", "")
	c.wg.Add(1 + fetchWorkers)
	go c.persistLoop()
	for range fetchWorkers {
		go c.fetchWorker()
	}
	return c
}

// close stops the service's goroutines and writes what is not saved yet.
func (c *ContactsService) close() {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	c.cancel()
	c.snapLoop.Close()
	c.wg.Wait()
	c.flush()
}

// Contacts returns the contacts service of the account.
func (s *Service) Contacts() *ContactsService { return s.contacts }

// Snapshot returns the current state. Building it is O(n log n) in the
// number of contacts, and it is cached until the next change.
func (c *ContactsService) Snapshot() ContactsSnapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.snapshot()
}

// Subscribe registers fn to be called with snapshots after changes, in
// order, on a goroutine of the service (bursts are coalesced: a change
// that comes while fn runs, or within a short interval, is folded into the
// next call). fn is also called once soon after Subscribe with the current
// snapshot. The returned function unsubscribes.
func (c *ContactsService) Subscribe(fn func(ContactsSnapshot)) (unsubscribe func()) {
	c.lmu.Lock()
	id := c.nextID
	c.nextID++
	c.listeners = append(c.listeners, &contactsListener{id: id, fn: fn})
	c.lmu.Unlock()
	c.changed()
	return func() {
		c.lmu.Lock()
		c.listeners = slices.DeleteFunc(c.listeners, func(l *contactsListener) bool { return l.id == id })
		c.lmu.Unlock()
	}
}

// changed asks for a snapshot to be delivered (never blocks).
func (c *ContactsService) changed() { c.changes.Post(struct{}{}) }

// contactJID parses a contact address as typed and returns it bare.
func contactJID(s string) (xmppclient.JID, string, error) {
	s = strings.TrimSpace(s)
	j, err := xmppclient.ParseJID(s)
	if err != nil {
		return xmppclient.JID{}, "", translateJIDError(s, err)
	}
	j = j.Bare()
	return j, j.String(), nil
}

// contactSession parses a contact address as typed (to its bare JID) and
// returns the client to change it on (see session).
func (c *ContactsService) contactSession(ctx context.Context, jid string) (*xmppclient.Client, xmppclient.JID, string, error) {
	j, bare, err := contactJID(jid)
	if err != nil {
		return nil, j, "", err
	}
	client, err := c.session(ctx)
	return client, j, bare, err
}

// session returns the client once the roster and block list of the
// current session are fetched (so the server pushes changes to us).
func (c *ContactsService) session(ctx context.Context) (*xmppclient.Client, error) {
	c.mu.Lock()
	client, ready := c.st.client, c.st.ready
	c.mu.Unlock()
	if client == nil || ready == nil || client.State() != xmppclient.StateOnline {
		return nil, ErrNotOnline
	}
	select {
	case <-ready:
		return client, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// waiter waits for the server's push that confirms a change.
type waiter struct {
	match func(xmppclient.Event) bool
	done  chan struct{}
	err   error
}

// expect registers a waiter before the request is sent.
func (c *ContactsService) expect(match func(xmppclient.Event) bool) *waiter {
	w := &waiter{match: match, done: make(chan struct{})}
	c.mu.Lock()
	c.st.waiters[w] = struct{}{}
	c.mu.Unlock()
	return w
}

func (c *ContactsService) drop(w *waiter) {
	c.mu.Lock()
	delete(c.st.waiters, w)
	c.mu.Unlock()
}

// await waits for w's push, ctx, or the end of the session.
func (c *ContactsService) await(ctx context.Context, w *waiter, op, jid string) error {
	defer c.drop(w)
	select {
	case <-w.done:
		if w.err != nil {
			return fmt.Errorf("%s %s: %w", op, jid, w.err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s %s: the server did not confirm: %w", op, jid, ctx.Err())
	}
}

// request sends with send and waits for the push matching match.
func (c *ContactsService) request(ctx context.Context, client *xmppclient.Client, op, jid string,
	match func(xmppclient.Event) bool, send func() error) error {
	w := c.expect(match)
	if err := send(); err != nil {
		c.drop(w)
		return contactErr(client, op, jid, err)
	}
	return c.await(ctx, w, op, jid)
}

func rosterPushFor(bare string, ok func(xmppclient.RosterItem) bool) func(xmppclient.Event) bool {
	return func(ev xmppclient.Event) bool {
		p, isPush := ev.(xmppclient.RosterPushEvent)
		return isPush && p.Item.JID.String() == bare && (ok == nil || ok(p.Item))
	}
}

func notRemoved(it xmppclient.RosterItem) bool { return it.Subscription != xmppclient.SubRemove }

func seesThem(sub string) bool { return sub == xmppclient.SubTo || sub == xmppclient.SubBoth }
func seesUs(sub string) bool   { return sub == xmppclient.SubFrom || sub == xmppclient.SubBoth }

// entry returns a copy of the roster entry of bare.
func (c *ContactsService) entry(bare string) (rosterEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.st.roster[bare]
	if !ok {
		return rosterEntry{}, false
	}
	return *e, true
}

// Avatar returns a cached avatar image by its hash.
func (c *ContactsService) Avatar(hash string) ([]byte, bool) {
	c.mu.Lock()
	store := c.st.store
	c.mu.Unlock()
	if store == nil {
		return nil, false
	}
	return store.readAvatar(hash)
}
