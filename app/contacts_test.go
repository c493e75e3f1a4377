// Tests of the contacts service against a real Prosody and a real second
// client (slixmpp): the subscription handshake both ways with messages,
// nicknames and presence; deny; removal seen on the other side;
// pre-approval; a forged roster push; blocking and unblocking; avatars both
// ways; the local roster copy and requests across restarts with XEP-0237
// reconciliation; the own presence across sessions; typed errors; two
// Parley accounts (client names from caps); presence cleared when the
// server restarts and the session is fresh.
package app_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"parley/app"
	"parley/app/apptest"
	"parley/xmppclient"
	"parley/xmppclient/xmpptest"
)

// parley is an account logged in on its own app.Service.
type parley struct {
	jid, pass, dir string
	svc            *app.Service
	c              *app.ContactsService
}

func newParley(t *testing.T, srv *apptest.Server, prefix string) *parley {
	t.Helper()
	jid, pass := srv.NewUser(t, prefix)
	p := &parley{jid: jid, pass: pass, dir: srv.Profile(t, true)}
	p.start(t, srv)
	return p
}

// start makes a new service on the profile, logs in and waits for the roster.
func (p *parley) start(t *testing.T, srv *apptest.Server) {
	t.Helper()
	p.svc = srv.LoginService(t, p.dir, p.jid, p.pass)
	p.c = p.svc.Contacts()
	p.wait(t, "the roster fetched", func(s app.ContactsSnapshot) bool { return s.Loaded })
}

func (p *parley) wait(t *testing.T, what string, ok func(app.ContactsSnapshot) bool) app.ContactsSnapshot {
	t.Helper()
	return waitSnap(t, p.c, what, ok)
}

// waitSnap waits (on Subscribe notifications, with a deadline) until the
// snapshot satisfies ok, and describes the last one if it never does.
func waitSnap(t *testing.T, c *app.ContactsService, what string, ok func(app.ContactsSnapshot) bool) app.ContactsSnapshot {
	t.Helper()
	ch := make(chan struct{}, 1)
	defer c.Subscribe(func(app.ContactsSnapshot) {
		select {
		case ch <- struct{}{}:
		default:
		}
	})()
	deadline := time.NewTimer(waitFor)
	defer deadline.Stop()
	for {
		if s := c.Snapshot(); ok(s) {
			return s
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("contacts: %s: not within %v; last: %s", what, waitFor, apptest.DescribeContacts(c.Snapshot()))
		}
	}
}

// waitContact waits until the contact jid exists and satisfies ok.
func (p *parley) waitContact(t *testing.T, jid, what string, ok func(app.Contact) bool) app.Contact {
	t.Helper()
	s := p.wait(t, jid+": "+what, func(s app.ContactsSnapshot) bool {
		c, found := apptest.FindContact(s, jid)
		return found && ok(c)
	})
	c, _ := apptest.FindContact(s, jid)
	return c
}

// slix is a slixmpp user that answers subscription requests only when told.
type slix struct {
	jid, pass string
	p         *xmpptest.SlixPeer
}

func newSlix(t *testing.T, srv *apptest.Server, prefix string) *slix {
	t.Helper()
	jid, pass := srv.NewUser(t, prefix)
	p := srv.Slixmpp(t, jid, pass)
	if err := p.ManualSubscriptions(); err != nil {
		t.Fatal(err)
	}
	return &slix{jid: jid, pass: pass, p: p}
}

// waitPresence waits for a presence event at the peer from the bare JID from.
func (s *slix) waitPresence(t *testing.T, from, what string, ok func(xmpptest.PeerEvent) bool) xmpptest.PeerEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	ev, err := s.p.WaitEvent(ctx, func(e xmpptest.PeerEvent) bool {
		return e.Event == "presence" && strings.SplitN(e.From, "/", 2)[0] == from && ok(e)
	})
	if err != nil {
		t.Fatalf("slixmpp %s: no presence from %s (%s): %v", s.jid, from, what, err)
	}
	return ev
}

func (s *slix) roster(t *testing.T) map[string]xmpptest.PeerRosterItem {
	t.Helper()
	r, err := s.p.Roster(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// befriendSlix makes a Parley account and a slixmpp user see each other:
// Parley adds, slixmpp approves and asks back, Parley's pre-approval answers.
func befriendSlix(t *testing.T, a *parley, b *slix) {
	t.Helper()
	if err := a.c.Add(ctxT(t), b.jid, "", "", ""); err != nil {
		t.Fatalf("Add: %v", err)
	}
	b.waitPresence(t, a.jid, "the request", func(e xmpptest.PeerEvent) bool { return e.Type == "subscribe" })
	if err := b.p.Approve(a.jid); err != nil {
		t.Fatal(err)
	}
	if err := b.p.Subscribe(a.jid, "", ""); err != nil {
		t.Fatal(err)
	}
	a.waitContact(t, b.jid, "subscription both", func(c app.Contact) bool { return c.Subscription == "both" })
	b.waitPresence(t, a.jid, "A available", func(e xmpptest.PeerEvent) bool { return e.Type == "available" })
}

func TestContactsAddAndAcceptedWithAddBack(t *testing.T) {
	srv := apptest.Shared(t)
	a := newParley(t, srv, "hsa")
	b := newSlix(t, srv, "hsb")
	aLocal := strings.SplitN(a.jid, "@", 2)[0]

	// A asks B, with a message and A's nickname; the item is on A's
	// roster as pending once the server confirmed it.
	if err := a.c.Add(ctxT(t), b.jid, "Bee", "Friends", "hello from A"); err != nil {
		t.Fatalf("Add: %v", err)
	}
	snap := a.c.Snapshot()
	c, ok := apptest.FindContact(snap, b.jid)
	if !ok || c.Name != "Bee" || c.RosterName != "Bee" || !slices.Equal(c.Groups, []string{"Friends"}) ||
		!c.Pending || c.Subscription != "none" || c.Show != app.ShowOffline || !c.PreApproved {
		t.Fatalf("after Add: %+v", c)
	}
	if c.Initials != "B" || c.Color != app.ConsistentColor(b.jid) {
		t.Errorf("initials %q colour %v", c.Initials, c.Color)
	}
	req := b.waitPresence(t, a.jid, "the request", func(e xmpptest.PeerEvent) bool { return e.Type == "subscribe" })
	if req.Status != "hello from A" || req.Nick != aLocal {
		t.Errorf("request at B: status %q nick %q, want %q and %q", req.Status, req.Nick, "hello from A", aLocal)
	}

	// B accepts and adds A back; A's pre-approval answers B's request.
	if err := b.p.RosterAdd(a.jid, "Ay"); err != nil {
		t.Fatal(err)
	}
	if err := b.p.Approve(a.jid); err != nil {
		t.Fatal(err)
	}
	if err := b.p.Subscribe(a.jid, "", "bee"); err != nil {
		t.Fatal(err)
	}
	a.waitContact(t, b.jid, "subscription both", func(c app.Contact) bool { return c.Subscription == "both" && !c.Pending })
	if apptest.HasRequest(a.c.Snapshot(), b.jid) {
		t.Error("B's request was shown although A had pre-approved B")
	}

	// Both see each other online with the right show and status.
	if err := b.p.SetPresence("away", "at lunch"); err != nil {
		t.Fatal(err)
	}
	c = a.waitContact(t, b.jid, "away at lunch", func(c app.Contact) bool { return c.Show == app.ShowAway && c.Status == "at lunch" })
	if len(c.Resources) != 1 || c.Resources[0].Name != "slix" {
		t.Errorf("resources of B: %+v", c.Resources)
	}
	if err := a.c.SetOwnPresence(ctxT(t), app.OwnPresence{Show: app.ShowDND, Status: "in a meeting"}); err != nil {
		t.Fatal(err)
	}
	b.waitPresence(t, a.jid, "dnd", func(e xmpptest.PeerEvent) bool { return e.Show == "dnd" && e.Status == "in a meeting" })
	if r := b.roster(t)[a.jid]; r.Subscription != "both" || r.Name != "Ay" {
		t.Errorf("B's roster item of A: %+v", r)
	}
}

func TestContactsRequestAcceptWithAddBack(t *testing.T) {
	srv := apptest.Shared(t)
	a := newParley(t, srv, "rqa")
	c := newSlix(t, srv, "rqc")

	if err := c.p.Subscribe(a.jid, "may I see you?", "Cee"); err != nil {
		t.Fatal(err)
	}
	snap := a.wait(t, "the request", func(s app.ContactsSnapshot) bool { return apptest.HasRequest(s, c.jid) })
	r, _ := apptest.FindRequest(snap, c.jid)
	if r.Message != "may I see you?" || r.Nick != "Cee" || r.Received.IsZero() {
		t.Errorf("request: %+v", r)
	}
	if err := a.c.Accept(ctxT(t), c.jid, true); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	snap = a.c.Snapshot()
	if apptest.HasRequest(snap, c.jid) {
		t.Error("the request is still shown after Accept")
	}
	ct, ok := apptest.FindContact(snap, c.jid)
	if !ok || ct.Subscription != "from" || !ct.Pending || ct.Name != "Cee" || ct.RosterName != "Cee" {
		t.Fatalf("after Accept with add-back: %+v", ct)
	}
	// C got the approval and A's request; C accepts.
	c.waitPresence(t, a.jid, "approval", func(e xmpptest.PeerEvent) bool { return e.Type == "subscribed" })
	c.waitPresence(t, a.jid, "A's request", func(e xmpptest.PeerEvent) bool { return e.Type == "subscribe" })
	if err := c.p.Approve(a.jid); err != nil {
		t.Fatal(err)
	}
	a.waitContact(t, c.jid, "both and online", func(ct app.Contact) bool {
		return ct.Subscription == "both" && ct.Show == app.ShowOnline
	})
	c.waitPresence(t, a.jid, "A online", func(e xmpptest.PeerEvent) bool { return e.Type == "available" })
}

func TestContactsDeny(t *testing.T) {
	srv := apptest.Shared(t)
	a := newParley(t, srv, "dna")
	d := newSlix(t, srv, "dnd")
	if err := d.p.Subscribe(a.jid, "let me in", ""); err != nil {
		t.Fatal(err)
	}
	a.wait(t, "the request", func(s app.ContactsSnapshot) bool { return apptest.HasRequest(s, d.jid) })
	if err := a.c.Deny(ctxT(t), d.jid); err != nil {
		t.Fatalf("Deny: %v", err)
	}
	if s := a.c.Snapshot(); apptest.HasRequest(s, d.jid) {
		t.Error("the request is still shown after Deny")
	}
	d.waitPresence(t, a.jid, "the refusal", func(e xmpptest.PeerEvent) bool { return e.Type == "unsubscribed" })
	if r, ok := d.roster(t)[a.jid]; ok && (r.Subscription == "to" || r.Subscription == "both") {
		t.Errorf("D may see A after the refusal: %+v", r)
	}
}

func TestContactsRemovalSeenOnTheOtherSide(t *testing.T) {
	srv := apptest.Shared(t)
	a := newParley(t, srv, "rma")
	b := newSlix(t, srv, "rmb")
	befriendSlix(t, a, b)
	a.waitContact(t, b.jid, "online", func(c app.Contact) bool { return c.Show == app.ShowOnline })

	// B removes A: A's item loses both subscriptions and B goes offline.
	if err := b.p.RosterRemove(a.jid); err != nil {
		t.Fatal(err)
	}
	a.waitContact(t, b.jid, "no subscription, offline", func(c app.Contact) bool {
		return c.Subscription == "none" && c.Show == app.ShowOffline && len(c.Resources) == 0
	})

	// A removes B: gone from A's list, and B's roster no longer has A either way.
	if err := a.c.Remove(ctxT(t), b.jid); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, ok := apptest.FindContact(a.c.Snapshot(), b.jid); ok {
		t.Error("B still listed after Remove")
	}
	if err := a.c.Remove(ctxT(t), b.jid); err != nil {
		t.Errorf("removing again: %v", err)
	}
	// And the other way round: A adds a new friend, who then sees the removal.
	e := newSlix(t, srv, "rme")
	befriendSlix(t, a, e)
	if err := a.c.Remove(ctxT(t), e.jid); err != nil {
		t.Fatal(err)
	}
	e.waitPresence(t, a.jid, "A gone", func(ev xmpptest.PeerEvent) bool { return ev.Type == "unavailable" })
	if r, ok := e.roster(t)[a.jid]; ok && r.Subscription != "none" {
		t.Errorf("E's roster item of A after A removed E: %+v", r)
	}
}

func TestContactsPreApproval(t *testing.T) {
	srv := apptest.Shared(t)
	a := newParley(t, srv, "paa")
	b := newSlix(t, srv, "pab")
	if !a.c.Snapshot().PreApproval {
		t.Skip("the server does not offer subscription pre-approval (RFC 6121 §3.4)")
	}
	log := tapEvents(a.c)
	// Nobody asked: Accept is a pre-approval the server keeps.
	if err := a.c.Accept(ctxT(t), b.jid, false); err != nil {
		t.Fatalf("Accept as pre-approval: %v", err)
	}
	if c, ok := apptest.FindContact(a.c.Snapshot(), b.jid); !ok || !c.PreApproved {
		t.Fatalf("pre-approved contact: %+v (found %v)", c, ok)
	}
	if err := b.p.Subscribe(a.jid, "", ""); err != nil {
		t.Fatal(err)
	}
	// The server approves at once, without asking A.
	b.waitPresence(t, a.jid, "automatic approval", func(e xmpptest.PeerEvent) bool { return e.Type == "subscribed" })
	if r := b.roster(t)[a.jid]; r.Subscription != "to" && r.Subscription != "both" {
		t.Errorf("B's roster item of A after the automatic approval: %+v", r)
	}
	// The server, not Parley, answered: A never saw B's request, and B
	// sees A's presence.
	b.waitPresence(t, a.jid, "A available", func(e xmpptest.PeerEvent) bool { return e.Type == "available" })
	a.waitContact(t, b.jid, "subscription from", func(c app.Contact) bool { return c.Subscription == "from" })
	for _, ev := range log.all() {
		if p, ok := ev.(xmppclient.PresenceEvent); ok && p.Presence.Type == "subscribe" {
			t.Error("A was asked although it had pre-approved B")
		}
	}
	if apptest.HasRequest(a.c.Snapshot(), b.jid) {
		t.Error("A shows a request although it had pre-approved B")
	}
}

func TestContactsForgedRosterPushIgnored(t *testing.T) {
	srv := apptest.Shared(t)
	a := newParley(t, srv, "fga")
	evilUser, evilPass := srv.NewUser(t, "fgevil")
	evil, err := xmpptest.DialRaw(srv.Harness(), strings.SplitN(evilUser, "@", 2)[0], evilPass, "x")
	if err != nil {
		t.Fatal(err)
	}
	defer evil.Close()
	forged := "forged@" + srv.Domain
	if err := evil.SendRaw("<iq type='set' id='forge1' to='" + a.svc.Status().JID + "'><query xmlns='jabber:iq:roster'>" +
		"<item jid='" + forged + "' name='Forged' subscription='both'/></query></iq>"); err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	reply, err := evil.WaitElement(ctx, func(e xmpptest.RawElement) bool {
		return e.Name == "iq" && strings.Contains(e.Raw, "forge1")
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(reply.Raw, "type='error'") && !strings.Contains(reply.Raw, `type="error"`) {
		t.Errorf("the forged push was not refused: %s", reply.Raw)
	}
	// A genuine change after it passes through the same event loop.
	real := "real@" + srv.Domain
	if err := a.c.Add(ctx, real, "", "", ""); err != nil {
		t.Fatal(err)
	}
	snap := a.c.Snapshot()
	if _, ok := apptest.FindContact(snap, forged); ok {
		t.Fatalf("the forged push changed the roster: %s", apptest.DescribeContacts(snap))
	}
	if _, ok := apptest.FindContact(snap, real); !ok {
		t.Fatalf("the genuine change is missing: %s", apptest.DescribeContacts(snap))
	}
}

// eventLog records the events a service's sessions see, in order.
type eventLog struct {
	mu     sync.Mutex
	events []xmppclient.Event
	notify chan struct{}
}

func tapEvents(c *app.ContactsService) *eventLog {
	l := &eventLog{notify: make(chan struct{}, 1)}
	c.SetTap(func(ev xmppclient.Event) {
		l.mu.Lock()
		l.events = append(l.events, ev)
		l.mu.Unlock()
		select {
		case l.notify <- struct{}{}:
		default:
		}
	})
	return l
}

func (l *eventLog) all() []xmppclient.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

func (l *eventLog) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.events)
}

// waitFor waits for an event after index from matching ok and returns the
// events from `from` up to and including it.
func (l *eventLog) waitFor(t *testing.T, from int, what string, ok func(xmppclient.Event) bool) []xmppclient.Event {
	t.Helper()
	deadline := time.NewTimer(waitFor)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		for i := from; i < len(l.events); i++ {
			if ok(l.events[i]) {
				out := slices.Clone(l.events[from : i+1])
				l.mu.Unlock()
				return out
			}
		}
		l.mu.Unlock()
		select {
		case <-l.notify:
		case <-deadline.C:
			t.Fatalf("no event: %s", what)
		}
	}
}

func messageWithBody(body string) func(xmppclient.Event) bool {
	return func(ev xmppclient.Event) bool {
		m, ok := ev.(xmppclient.MessageEvent)
		return ok && m.Message.Body == body
	}
}

func fromBare(ev xmppclient.Event, bare string) bool {
	var from string
	switch ev := ev.(type) {
	case xmppclient.MessageEvent:
		from = ev.Message.From.String()
	case xmppclient.PresenceEvent:
		from = ev.Presence.From
	default:
		return false
	}
	return strings.SplitN(from, "/", 2)[0] == bare
}

func TestContactsBlockAndUnblock(t *testing.T) {
	srv := apptest.Shared(t)
	a := newParley(t, srv, "bla")
	b := newSlix(t, srv, "blb")
	befriendSlix(t, a, b)
	a.waitContact(t, b.jid, "online", func(c app.Contact) bool { return c.Show == app.ShowOnline })
	log := tapEvents(a.c)
	// A second resource of A's own account sends markers: what B sent
	// before a marker (and the server did not drop) arrives before it.
	marker, err := xmpptest.DialRaw(srv.Harness(), strings.SplitN(a.jid, "@", 2)[0], a.pass, "marker")
	if err != nil {
		t.Fatal(err)
	}
	defer marker.Close()
	aFull := a.svc.Status().JID

	if err := a.c.Block(ctxT(t), b.jid); err != nil {
		t.Fatalf("Block: %v", err)
	}
	snap := a.c.Snapshot()
	c, _ := apptest.FindContact(snap, b.jid)
	if !slices.Contains(snap.Blocked, b.jid) || !c.Blocked || c.Show != app.ShowOffline {
		t.Fatalf("after Block: blocked %v, contact %+v", snap.Blocked, c)
	}
	from := log.mark()
	if err := b.p.SetPresence("chat", "while blocked"); err != nil {
		t.Fatal(err)
	}
	// To the bare JID: Prosody bounces those (a chat message to an online
	// full JID it drops silently).
	if err := b.p.Send(a.jid, "while blocked", "blk1"); err != nil {
		t.Fatal(err)
	}
	// The server bounces the message (XEP-0191 §3.5): B's stanzas were processed.
	ctx := ctxT(t)
	if _, err := b.p.WaitEvent(ctx, func(e xmpptest.PeerEvent) bool { return e.Event == "message" && e.ID == "blk1" && e.Type == "error" }); err != nil {
		t.Fatalf("no bounce for the message to the blocker: %v", err)
	}
	if err := marker.SendMessage(aFull, "marker-1", "m1"); err != nil {
		t.Fatal(err)
	}
	for _, ev := range log.waitFor(t, from, "marker-1", messageWithBody("marker-1")) {
		if fromBare(ev, b.jid) {
			t.Errorf("a stanza of the blocked contact arrived: %#v", ev)
		}
	}
	if c, _ := apptest.FindContact(a.c.Snapshot(), b.jid); c.Show != app.ShowOffline {
		t.Errorf("blocked contact shows %s", c.Show)
	}

	if err := a.c.Unblock(ctxT(t), b.jid); err != nil {
		t.Fatalf("Unblock: %v", err)
	}
	if snap := a.c.Snapshot(); len(snap.Blocked) != 0 {
		t.Errorf("blocked after Unblock: %v", snap.Blocked)
	}
	from = log.mark()
	if err := b.p.SetPresence("", "back again"); err != nil {
		t.Fatal(err)
	}
	a.waitContact(t, b.jid, "online again", func(c app.Contact) bool {
		return !c.Blocked && c.Show == app.ShowOnline && c.Status == "back again"
	})
	if err := b.p.Send(aFull, "after unblock", "blk2"); err != nil {
		t.Fatal(err)
	}
	log.waitFor(t, from, "B's message after unblocking", messageWithBody("after unblock"))
}

// testPNG makes a small PNG of one colour.
func testPNG(t *testing.T, c color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 24, 16))
	for y := range 16 {
		for x := range 24 {
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sha1Hex(b []byte) string {
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}

func TestContactsAvatars(t *testing.T) {
	srv := apptest.Shared(t)
	a := newParley(t, srv, "ava")
	b := newSlix(t, srv, "avb")
	befriendSlix(t, a, b)

	// B publishes an avatar with slixmpp (XEP-0084): A fetches and caches it.
	bImg := testPNG(t, color.RGBA{R: 200, G: 30, B: 30, A: 255})
	if err := b.p.PublishAvatar(bImg, "image/png", 24, 16); err != nil {
		t.Fatal(err)
	}
	c := a.waitContact(t, b.jid, "avatar", func(c app.Contact) bool { return c.AvatarHash == sha1Hex(bImg) })
	got, ok := a.c.Avatar(c.AvatarHash)
	if !ok || !bytes.Equal(got, bImg) {
		t.Fatalf("cached avatar of B: %d bytes (ok %v), want %d", len(got), ok, len(bImg))
	}
	if _, err := os.Stat(filepath.Join(a.dir, app.AvatarsDir, c.AvatarHash)); err != nil {
		t.Errorf("avatar not cached in the profile: %v", err)
	}

	// A publishes through the service: B fetches it from A's PEP.
	if err := a.c.PublishAvatar(ctxT(t), []byte("not an image")); !errors.Is(err, app.ErrUnsupportedImage) {
		t.Errorf("PublishAvatar of garbage: %v", err)
	}
	aImg := testPNG(t, color.RGBA{R: 20, G: 150, B: 60, A: 255})
	if err := a.c.PublishAvatar(ctxT(t), aImg); err != nil {
		t.Fatalf("PublishAvatar: %v", err)
	}
	if h := a.c.Snapshot().OwnAvatar; h != sha1Hex(aImg) {
		t.Errorf("own avatar hash %q, want %q", h, sha1Hex(aImg))
	}
	fetched, err := b.p.FetchAvatar(ctxT(t), a.jid, sha1Hex(aImg))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fetched, aImg) {
		t.Errorf("B fetched %d bytes of A's avatar, want %d", len(fetched), len(aImg))
	}
	if _, ok := a.c.Avatar("../../etc/passwd"); ok {
		t.Error("Avatar accepted a path")
	}
}

func TestContactsLocalCopyAndRequestsAcrossRestarts(t *testing.T) {
	srv := apptest.Shared(t)
	a := newParley(t, srv, "rsa")
	x, _ := srv.NewUser(t, "rsx")
	y, _ := srv.NewUser(t, "rsy")
	r := newSlix(t, srv, "rsr")
	ctx := ctxT(t)
	if err := a.c.Add(ctx, x, "Xavier", "Work", ""); err != nil {
		t.Fatal(err)
	}
	if err := a.c.Add(ctx, y, "", "", ""); err != nil {
		t.Fatal(err)
	}
	if err := r.p.Subscribe(a.jid, "remember me", "Arr"); err != nil {
		t.Fatal(err)
	}
	a.wait(t, "R's request", func(s app.ContactsSnapshot) bool { return apptest.HasRequest(s, r.jid) })
	if err := a.svc.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(a.dir, app.RosterCacheFile)); err != nil {
		t.Fatalf("no local roster copy: %v", err)
	}

	// A new service on the same profile shows the list at once, before
	// any login, marked as not loaded.
	check := func(snap app.ContactsSnapshot, when string) {
		t.Helper()
		cx, okx := apptest.FindContact(snap, x)
		_, oky := apptest.FindContact(snap, y)
		req, okr := apptest.FindRequest(snap, r.jid)
		if !okx || !oky || cx.Name != "Xavier" || !slices.Equal(cx.Groups, []string{"Work"}) || !cx.Pending {
			t.Errorf("%s: contacts %s", when, apptest.DescribeContacts(snap))
		}
		if !okr || req.Message != "remember me" || req.Nick != "Arr" || len(snap.Requests) != 1 {
			t.Errorf("%s: requests %+v", when, snap.Requests)
		}
	}
	svc2 := apptest.NewService(t, a.dir, nil)
	start := time.Now()
	snap := svc2.Contacts().Snapshot()
	t.Logf("local copy shown %v after the service was created", time.Since(start))
	if snap.Loaded {
		t.Error("Loaded before any login")
	}
	check(snap, "before login")

	// Logging in reconciles with the server (R's pending request changed
	// the server's roster version, so the whole roster comes).
	if err := svc2.Login(ctx, srv.Request(a.jid, a.pass)); err != nil {
		t.Fatal(err)
	}
	a.svc, a.c = svc2, svc2.Contacts()
	snap = a.wait(t, "loaded", func(s app.ContactsSnapshot) bool { return s.Loaded })
	check(snap, "after login")
	// Nothing changed since: the server answers "unchanged" (XEP-0237) and
	// the local copy stays.
	if err := svc2.Close(); err != nil {
		t.Fatal(err)
	}
	svc2 = apptest.NewService(t, a.dir, nil)
	if err := svc2.Login(ctx, srv.Request(a.jid, a.pass)); err != nil {
		t.Fatal(err)
	}
	a.svc, a.c = svc2, svc2.Contacts()
	snap = a.wait(t, "loaded", func(s app.ContactsSnapshot) bool { return s.Loaded })
	if !a.c.LastFetchUnchanged() {
		t.Error("the roster was fetched whole although the cached version was current")
	}
	check(snap, "after an unchanged fetch")

	// A change made elsewhere while Parley is closed shows after the next login.
	if err := svc2.Close(); err != nil {
		t.Fatal(err)
	}
	other := srv.Slixmpp(t, a.jid, a.pass)
	if err := other.RosterAdd(x, "Xavier Renamed", "Work"); err != nil {
		t.Fatal(err)
	}
	other.Close()
	svc3 := apptest.NewService(t, a.dir, nil)
	if c, _ := apptest.FindContact(svc3.Contacts().Snapshot(), x); c.Name != "Xavier" {
		t.Errorf("local copy before login: %+v", c)
	}
	if err := svc3.Login(ctx, srv.Request(a.jid, a.pass)); err != nil {
		t.Fatal(err)
	}
	a.svc, a.c = svc3, svc3.Contacts()
	a.waitContact(t, x, "renamed", func(c app.Contact) bool { return c.Name == "Xavier Renamed" })
	if a.c.LastFetchUnchanged() {
		t.Error("the fetch said unchanged although the roster changed")
	}

	// Answering the request removes it for good.
	if err := a.c.Accept(ctx, r.jid, false); err != nil {
		t.Fatal(err)
	}
	if err := svc3.Close(); err != nil {
		t.Fatal(err)
	}
	svc4 := apptest.NewService(t, a.dir, nil)
	if s := svc4.Contacts().Snapshot(); len(s.Requests) != 0 {
		t.Errorf("requests after accepting and restarting: %+v", s.Requests)
	}
}

func TestContactsOwnPresenceAcrossSessions(t *testing.T) {
	srv := apptest.Shared(t)
	jid, pass := srv.NewUser(t, "own")
	dir := srv.Profile(t, true)
	svc := apptest.NewService(t, dir, nil)
	c := svc.Contacts()
	if got := c.Snapshot().Own; got.Show != app.ShowOnline {
		t.Errorf("default own presence %+v", got)
	}
	// Without a session it is only saved.
	if err := c.SetOwnPresence(ctxT(t), app.OwnPresence{Show: app.ShowAway, Status: "back soon"}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetOwnPresence(ctxT(t), app.OwnPresence{Show: "sleepy"}); err == nil {
		t.Error("an unknown show was accepted")
	}
	watcher := watch(t, srv, jid, pass)
	if err := svc.Login(ctxT(t), srv.Request(jid, pass)); err != nil {
		t.Fatal(err)
	}
	waitOwnPresence(t, watcher, svc.Status().JID, "away", "back soon")
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}
	// A new service (a fresh session) sends it again.
	svc2 := apptest.NewService(t, dir, nil)
	if got := svc2.Contacts().Snapshot().Own; got.Show != app.ShowAway || got.Status != "back soon" {
		t.Errorf("own presence after restart %+v", got)
	}
	if err := svc2.Login(ctxT(t), srv.Request(jid, pass)); err != nil {
		t.Fatal(err)
	}
	waitOwnPresence(t, watcher, svc2.Status().JID, "away", "back soon")
}

// waitOwnPresence waits for an available presence from full with show and status.
func waitOwnPresence(t *testing.T, events <-chan xmppclient.Event, full, show, status string) {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case ev := <-events:
			p, ok := ev.(xmppclient.PresenceEvent)
			if ok && p.Presence.From == full && p.Presence.Type == "" && string(p.Presence.Show) == show && p.Presence.Status == status {
				return
			}
		case <-deadline:
			t.Fatalf("no presence %s/%q from %s", show, status, full)
		}
	}
}

func TestContactsTypedErrors(t *testing.T) {
	srv := apptest.Shared(t)
	svc := apptest.NewService(t, srv.Profile(t, true), nil)
	c := svc.Contacts()
	ctx := ctxT(t)
	if err := c.Add(ctx, "someone@"+srv.Domain, "", "", ""); !errors.Is(err, app.ErrNotOnline) {
		t.Errorf("Add without a session: %v, want ErrNotOnline", err)
	}
	if err := c.Block(ctx, "someone@"+srv.Domain); !errors.Is(err, app.ErrNotOnline) {
		t.Errorf("Block without a session: %v, want ErrNotOnline", err)
	}
	var jidErr *app.InvalidJIDError
	if err := c.Add(ctx, "not a jid@@", "", "", ""); !errors.As(err, &jidErr) {
		t.Errorf("Add of a bad address: %v, want *InvalidJIDError", err)
	}

	a := newParley(t, srv, "tea")
	if err := a.c.Add(ctx, a.jid, "", "", ""); !errors.As(err, &jidErr) {
		t.Errorf("adding oneself: %v, want *InvalidJIDError", err)
	}
	if err := a.c.Rename(ctx, "stranger@"+srv.Domain, "S"); !errors.Is(err, app.ErrUnknownContact) {
		t.Errorf("Rename of a stranger: %v, want ErrUnknownContact", err)
	}
	// A refusal of the server comes back as a *ContactError.
	var ce *app.ContactError
	if err := a.c.Block(ctx, a.jid); err == nil || !errors.As(err, &ce) {
		t.Logf("blocking oneself: %v", err)
	}
	// Rename and groups, confirmed by the server's push.
	b, _ := srv.NewUser(t, "teb")
	if err := a.c.Add(ctx, b, "", "", ""); err != nil {
		t.Fatal(err)
	}
	if err := a.c.Rename(ctx, b, "Bob"); err != nil {
		t.Fatal(err)
	}
	if err := a.c.SetGroups(ctx, b, []string{" Work ", "Family", "Work", ""}); err != nil {
		t.Fatal(err)
	}
	ct, _ := apptest.FindContact(a.c.Snapshot(), b)
	if ct.Name != "Bob" || !slices.Equal(ct.Groups, []string{"Family", "Work"}) {
		t.Errorf("after Rename and SetGroups: %+v", ct)
	}
	if err := a.c.SetGroups(ctx, b, nil); err != nil {
		t.Fatal(err)
	}
	if ct, _ := apptest.FindContact(a.c.Snapshot(), b); len(ct.Groups) != 0 {
		t.Errorf("groups after clearing: %v", ct.Groups)
	}
}

func TestContactsBetweenTwoParleys(t *testing.T) {
	srv := apptest.Shared(t)
	a, b := srv.LogIn(t, "ppa"), srv.LogIn(t, "ppb")
	apptest.Befriend(t, a, b, "Team")
	// B's resource shows B's client software, found through its caps.
	c := apptest.WaitContacts(t, a.Contacts(), "B online in Parley", waitFor, func(s app.ContactsSnapshot) bool {
		c, ok := apptest.FindContact(s, b.JID)
		return ok && c.Show == app.ShowOnline && len(c.Resources) == 1 && c.Resources[0].Client == "Parley"
	})
	ct, _ := apptest.FindContact(c, b.JID)
	if !slices.Equal(ct.Groups, []string{"Team"}) || ct.Pending {
		t.Errorf("B on A's list: %+v", ct)
	}
	if err := b.Contacts().SetOwnPresence(ctxT(t), app.OwnPresence{Show: app.ShowXA, Status: "gone fishing"}); err != nil {
		t.Fatal(err)
	}
	apptest.WaitContacts(t, a.Contacts(), "B extended away", waitFor, func(s app.ContactsSnapshot) bool {
		c, ok := apptest.FindContact(s, b.JID)
		return ok && c.Show == app.ShowXA && c.Status == "gone fishing"
	})
}

func TestContactsFreshSessionClearsPresence(t *testing.T) {
	srv := apptest.StartPrivate(t)
	a := newParley(t, srv, "fsa")
	b := newSlix(t, srv, "fsb")
	befriendSlix(t, a, b)
	a.waitContact(t, b.jid, "online", func(c app.Contact) bool { return c.Show == app.ShowOnline })
	// The server restarts: the session cannot be resumed, and B (whose
	// slixmpp does not reconnect) is gone without any presence telling us.
	if err := srv.Harness().Restart(); err != nil {
		t.Fatal(err)
	}
	a.waitContact(t, b.jid, "offline after the fresh session", func(c app.Contact) bool {
		return c.Show == app.ShowOffline && len(c.Resources) == 0 && c.Subscription == "both"
	})
	a.wait(t, "reloaded", func(s app.ContactsSnapshot) bool { return s.Loaded })
	if st := a.svc.Status(); st.Phase != app.Online || st.Resumed {
		t.Errorf("status after the restart: %+v", st)
	}
}
