// The contacts service: the roster with aggregated presence, groups and
// avatars, inbound subscription requests, the block list and the own
// presence, for the views. Every change the user asks for is sent to the
// server and confirmed by the server's push (roster or block list) before
// the method returns and the snapshot shows it; refusals come back as
// errors the UI can show (*ContactError, ErrNotOnline, *InvalidJIDError).
// The state is kept by contacts_state.go, persisted by contacts_store.go and
// avatars and client names are fetched by contacts_fetch.go.
package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // image.DecodeConfig for JPEG avatars
	_ "image/png"  // and PNG ones
	"log/slog"
	"slices"
	"strings"
	"sync"

	"parley/app/clock"
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

	kick        chan struct{} // a change: build and deliver a snapshot
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
		kick:        make(chan struct{}, 1),
		persistKick: make(chan struct{}, 1),
		jobs:        make(chan fetchJob, fetchQueue),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.st.reset("", "")
	c.wg.Add(2 + fetchWorkers)
	go c.notifyLoop()
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

// changed wakes the notifier (never blocks).
func (c *ContactsService) changed() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

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

// Add puts jid on the roster (with name and group, both optional) and asks
// them to share their presence, with message and our nickname. They are
// also pre-approved: when they ask back, they may see us (kept by the
// server when it offers pre-approval, else answered by Parley while it is
// online). It returns when the server confirmed every step.
func (c *ContactsService) Add(ctx context.Context, jid, name, group, message string) error {
	client, j, bare, err := c.contactSession(ctx, jid)
	if err != nil {
		return err
	}
	if bare == client.JID().Bare().String() {
		return &InvalidJIDError{Input: jid, Reason: "that is your own address"}
	}
	var groups []string
	if e, ok := c.entry(bare); ok {
		groups = e.Groups
	}
	if g := strings.TrimSpace(group); g != "" && !slices.Contains(groups, g) {
		groups = append(slices.Clone(groups), g)
	}
	name = strings.TrimSpace(name)
	if err := c.request(ctx, client, "add", bare, rosterPushFor(bare, notRemoved), func() error {
		return client.SetRosterItem(ctx, j, name, groups)
	}); err != nil {
		return err
	}
	e, _ := c.entry(bare)
	if !seesThem(e.Subscription) {
		if err := c.request(ctx, client, "add", bare, rosterPushFor(bare, func(it xmppclient.RosterItem) bool {
			return it.Ask || seesThem(it.Subscription)
		}), func() error {
			return client.RequestSubscription(j, strings.TrimSpace(message), client.JID().Local)
		}); err != nil {
			return err
		}
	}
	return c.preApprove(ctx, client, j, bare)
}

// preApprove lets bare see our presence as soon as they ask: a server
// pre-approval (RFC 6121 §3.4) when offered, and Parley's own record.
func (c *ContactsService) preApprove(ctx context.Context, client *xmppclient.Client, j xmppclient.JID, bare string) error {
	e, _ := c.entry(bare)
	if seesUs(e.Subscription) {
		return nil
	}
	c.setPreApproved(bare, true)
	c.mu.Lock()
	supported := c.st.preApproval
	c.mu.Unlock()
	if !supported || e.Approved {
		return nil
	}
	return c.request(ctx, client, "accept", bare, rosterPushFor(bare, notRemoved), func() error {
		return client.ApproveSubscription(j)
	})
}

// Rename changes the name of a contact on the roster ("" removes it, so
// the nickname or address shows).
func (c *ContactsService) Rename(ctx context.Context, jid, name string) error {
	client, j, bare, err := c.contactSession(ctx, jid)
	if err != nil {
		return err
	}
	e, ok := c.entry(bare)
	if !ok {
		return fmt.Errorf("rename %s: %w", bare, ErrUnknownContact)
	}
	name = strings.TrimSpace(name)
	return c.request(ctx, client, "rename", bare, rosterPushFor(bare, func(it xmppclient.RosterItem) bool {
		return it.Subscription == xmppclient.SubRemove || it.Name == name
	}), func() error { return client.SetRosterItem(ctx, j, name, e.Groups) })
}

// normalizeGroups trims, drops empty and duplicate names, and sorts.
func normalizeGroups(groups []string) []string {
	var out []string
	for _, g := range groups {
		if g = strings.TrimSpace(g); g != "" && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	slices.Sort(out)
	return out
}

// SetGroups replaces the groups of a contact (none: the default group).
func (c *ContactsService) SetGroups(ctx context.Context, jid string, groups []string) error {
	client, j, bare, err := c.contactSession(ctx, jid)
	if err != nil {
		return err
	}
	e, ok := c.entry(bare)
	if !ok {
		return fmt.Errorf("change the groups of %s: %w", bare, ErrUnknownContact)
	}
	groups = normalizeGroups(groups)
	return c.request(ctx, client, "groups", bare, rosterPushFor(bare, func(it xmppclient.RosterItem) bool {
		return it.Subscription == xmppclient.SubRemove || slices.Equal(normalizeGroups(it.Groups), groups)
	}), func() error { return client.SetRosterItem(ctx, j, e.Name, groups) })
}

// Remove takes a contact off the roster; the server also ends the
// presence subscriptions both ways. Removing someone who is not on the
// roster is not an error.
func (c *ContactsService) Remove(ctx context.Context, jid string) error {
	client, j, bare, err := c.contactSession(ctx, jid)
	if err != nil {
		return err
	}
	err = c.request(ctx, client, "remove", bare, rosterPushFor(bare, func(it xmppclient.RosterItem) bool {
		return it.Subscription == xmppclient.SubRemove
	}), func() error { return client.RemoveRosterItem(ctx, j) })
	var ce *ContactError
	if errors.As(err, &ce) && ce.Condition == "item-not-found" {
		err = nil
	}
	if err == nil {
		c.forget(bare)
	}
	return err
}

// Accept answers a subscription request with yes: they may see our
// presence. With addBack we also ask to see theirs (adding them to the
// roster under the nickname they gave). Accepting someone who has not
// asked is a pre-approval (see ContactsSnapshot.PreApproval).
func (c *ContactsService) Accept(ctx context.Context, jid string, addBack bool) error {
	client, j, bare, err := c.contactSession(ctx, jid)
	if err != nil {
		return err
	}
	c.mu.Lock()
	req, asked := c.st.requests[bare]
	c.mu.Unlock()
	e, onRoster := c.entry(bare)
	switch {
	case onRoster && seesUs(e.Subscription):
		// Already approved.
	case asked:
		if err := c.request(ctx, client, "accept", bare, rosterPushFor(bare, notRemoved), func() error {
			return client.ApproveSubscription(j)
		}); err != nil {
			return err
		}
	default:
		if err := c.preApprove(ctx, client, j, bare); err != nil {
			return err
		}
	}
	c.answered(bare)
	if !addBack {
		return nil
	}
	e, onRoster = c.entry(bare)
	if !onRoster || (e.Name == "" && req.Nick != "") {
		name := e.Name
		if name == "" {
			name = req.Nick
		}
		if err := c.request(ctx, client, "add", bare, rosterPushFor(bare, notRemoved), func() error {
			return client.SetRosterItem(ctx, j, name, e.Groups)
		}); err != nil {
			return err
		}
		e, _ = c.entry(bare)
	}
	if seesThem(e.Subscription) || e.Ask {
		return nil
	}
	return c.request(ctx, client, "add", bare, rosterPushFor(bare, func(it xmppclient.RosterItem) bool {
		return it.Ask || seesThem(it.Subscription)
	}), func() error { return client.RequestSubscription(j, "", client.JID().Local) })
}

// Deny answers a subscription request with no (and, for a contact who
// already sees our presence, takes that away).
func (c *ContactsService) Deny(ctx context.Context, jid string) error {
	client, j, bare, err := c.contactSession(ctx, jid)
	if err != nil {
		return err
	}
	c.setPreApproved(bare, false)
	if e, ok := c.entry(bare); ok && seesUs(e.Subscription) {
		err = c.request(ctx, client, "deny", bare, rosterPushFor(bare, nil), func() error {
			return client.DenySubscription(j)
		})
	} else {
		// No roster push need follow a plain refusal (or the withdrawal of a
		// pre-approval); a ping the server answers after it proves the
		// refusal was processed.
		if err = client.DenySubscription(j); err == nil {
			err = client.Ping(ctx, xmppclient.JID{})
		}
		err = contactErr(client, "deny", bare, err)
	}
	if err == nil {
		c.answered(bare)
	}
	return err
}

// blockJID parses an address to block: a bare or full JID, or a domain.
func blockJID(s string) (xmppclient.JID, error) {
	s = strings.TrimSpace(s)
	j, err := xmppclient.ParseJID(s)
	if err != nil {
		return j, translateJIDError(s, err)
	}
	return j, nil
}

// Block stops all communication with jid (XEP-0191): no messages or
// presence from them reach the account, and they see it offline. A pending
// request from them is dropped.
func (c *ContactsService) Block(ctx context.Context, jid string) error {
	return c.setBlocked(ctx, jid, true)
}

// Unblock lets jid communicate with the account again.
func (c *ContactsService) Unblock(ctx context.Context, jid string) error {
	return c.setBlocked(ctx, jid, false)
}

// setBlocked puts jid on the block list or takes it off, and waits for the
// server's push that says so.
func (c *ContactsService) setBlocked(ctx context.Context, jid string, block bool) error {
	j, err := blockJID(jid)
	if err != nil {
		return err
	}
	client, err := c.session(ctx)
	if err != nil {
		return err
	}
	key := j.String()
	listed := func(jids []xmppclient.JID) bool {
		return slices.ContainsFunc(jids, func(b xmppclient.JID) bool { return b.String() == key })
	}
	op, send := "unblock", client.Unblock
	if block {
		op, send = "block", client.Block
	}
	return c.request(ctx, client, op, key, func(ev xmppclient.Event) bool {
		p, ok := ev.(xmppclient.BlockPushEvent)
		if block {
			return ok && listed(p.Blocked)
		}
		return ok && (p.UnblockedAll || listed(p.Unblocked))
	}, func() error { return send(ctx, j) })
}

// SetOwnPresence changes the own presence. It is saved in the profile and
// sent again on every fresh session; without a session it only is saved.
// ShowOffline makes the account appear offline (unavailable presence).
func (c *ContactsService) SetOwnPresence(ctx context.Context, p OwnPresence) error {
	switch p.Show {
	case "":
		p.Show = ShowOnline
	case ShowChat, ShowOnline, ShowAway, ShowXA, ShowDND, ShowOffline:
	default:
		return fmt.Errorf("unknown presence %q", p.Show)
	}
	p.Status = strings.TrimSpace(p.Status)
	c.mu.Lock()
	c.st.own = p
	c.st.stateDirty = true
	c.st.bump()
	client := c.st.client
	c.mu.Unlock()
	c.changed()
	c.flush()
	if client == nil || client.State() != xmppclient.StateOnline {
		return nil
	}
	return contactErr(client, "presence", "", c.sendOwnPresence(client, p))
}

// sendOwnPresence broadcasts p on client.
func (c *ContactsService) sendOwnPresence(client *xmppclient.Client, p OwnPresence) error {
	if p.Show == ShowOffline {
		err := client.SetUnavailable(p.Status)
		// The server sends no more presence to an unavailable resource.
		c.mu.Lock()
		if c.st.client == client {
			c.st.clearPresence()
		}
		c.mu.Unlock()
		c.changed()
		return err
	}
	show := string(p.Show)
	if p.Show == ShowOnline {
		show = xmppclient.ShowOnline
	}
	return client.SetPresence(xmppclient.Availability{Show: show, Status: p.Status})
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

// PublishAvatar makes image (PNG or JPEG bytes) the account's avatar
// (XEP-0084 over PEP; the server also offers it through vCard).
func (c *ContactsService) PublishAvatar(ctx context.Context, img []byte) error {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(img))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnsupportedImage, err)
	}
	var mime string
	switch format {
	case "png":
		mime = "image/png"
	case "jpeg":
		mime = "image/jpeg"
	default:
		return ErrUnsupportedImage
	}
	client, err := c.session(ctx)
	if err != nil {
		return err
	}
	hash, err := client.PublishAvatar(ctx, img, mime, cfg.Width, cfg.Height)
	if err != nil {
		return contactErr(client, "avatar", "", err)
	}
	c.mu.Lock()
	store := c.st.store
	c.mu.Unlock()
	if store != nil {
		if err := store.writeAvatar(hash, img); err != nil {
			c.log.Warn("caching the own avatar", "err", err)
		}
	}
	c.mu.Lock()
	c.st.cached[hash] = true
	c.st.ownAvatar = hash
	c.st.stateDirty = true
	c.st.bump()
	c.mu.Unlock()
	c.changed()
	c.persist()
	return nil
}

// setPreApproved remembers (or forgets) that bare may see our presence
// when they ask.
func (c *ContactsService) setPreApproved(bare string, on bool) {
	c.mu.Lock()
	if c.st.preApproved[bare] != on {
		if on {
			c.st.preApproved[bare] = true
		} else {
			delete(c.st.preApproved, bare)
		}
		c.st.stateDirty = true
		c.st.touch(bare)
	}
	c.mu.Unlock()
	c.changed()
	c.persist()
}

// answered drops the request of bare.
func (c *ContactsService) answered(bare string) {
	c.mu.Lock()
	c.st.dropRequest(bare)
	c.mu.Unlock()
	c.changed()
	c.persist()
}

// forget drops what is kept about a removed contact.
func (c *ContactsService) forget(bare string) {
	c.mu.Lock()
	c.st.dropRequest(bare)
	if c.st.preApproved[bare] {
		delete(c.st.preApproved, bare)
		c.st.stateDirty = true
	}
	c.mu.Unlock()
	c.changed()
	c.persist()
}
