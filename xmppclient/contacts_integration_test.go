// Integration tests of the contacts protocol against Prosody: roster
// get/set/remove with versioning, the subscription handshake between two
// clients, a forged roster push, blocking, and PEP avatars.
package xmppclient_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"gosrc.io/xmpp/stanza"
	"parley/xmppclient"
	"parley/xmppclient/xmpptest"
)

func pushFor(jid string, sub string) func([]xmppclient.Event) bool {
	return func(evs []xmppclient.Event) bool {
		for _, e := range evs {
			if p, ok := e.(xmppclient.RosterPushEvent); ok && p.Item.JID.String() == jid && (sub == "" || p.Item.Subscription == sub) {
				return true
			}
		}
		return false
	}
}

// interested makes c an "interested resource" (RFC 6121 §2.1.6, XEP-0191
// §3.2): servers push roster and block-list changes only to resources that
// fetched them in this session.
func interested(t *testing.T, c *xmppclient.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.FetchRoster(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.BlockList(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestRosterSetFetchRemoveWithVersioning(t *testing.T) {
	srv := xmpptest.Shared(t)
	user, pass := srv.NewUser(t, "roster")
	c, rec := connect(t, clientConfig(t, srv, user, pass))
	interested(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if !c.RosterVersioning() {
		t.Fatal("Prosody offers roster versioning; the feature was not seen")
	}
	if err := c.SetRosterItem(ctx, xmppclient.MustParseJID("Friend@Localhost"), "Friend", []string{"Work", "Pals"}); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, 10*time.Second, "the roster push", pushFor("friend@localhost", "none"))
	res, err := c.FetchRoster(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 1 || res.Items[0].Name != "Friend" || !sameSet(res.Items[0].Groups, []string{"Work", "Pals"}) || res.Ver == "" {
		t.Fatalf("roster = %+v", res)
	}
	again, err := c.FetchRoster(ctx, res.Ver)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Unchanged {
		t.Errorf("fetching with the current version did not say unchanged: %+v", again)
	}
	if err := c.RemoveRosterItem(ctx, xmppclient.MustParseJID("friend@localhost")); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, 10*time.Second, "the remove push", pushFor("friend@localhost", "remove"))
	res, err = c.FetchRoster(ctx, "")
	if err != nil || len(res.Items) != 0 {
		t.Fatalf("roster after remove = %+v, %v", res, err)
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

func presenceOf(from, typ string) func([]xmppclient.Event) bool {
	return func(evs []xmppclient.Event) bool {
		for _, e := range evs {
			if p, ok := e.(xmppclient.PresenceEvent); ok {
				info, err := xmppclient.ParsePresence(p.Presence)
				if err == nil && info.From.Bare().String() == from && info.Type == typ {
					return true
				}
			}
		}
		return false
	}
}

func TestSubscriptionHandshakeBetweenTwoClients(t *testing.T) {
	srv := xmpptest.Shared(t)
	ua, pa := srv.NewUser(t, "suba")
	ub, pb := srv.NewUser(t, "subb")
	a, recA := connect(t, clientConfig(t, srv, ua, pa))
	b, recB := connect(t, clientConfig(t, srv, ub, pb))
	interested(t, a)
	interested(t, b)
	for _, c := range []*xmppclient.Client{a, b} {
		if err := c.SetPresence(xmppclient.Availability{Show: xmppclient.ShowAway, Status: "busy coding"}); err != nil {
			t.Fatal(err)
		}
	}
	ja, jb := xmppclient.MustParseJID(srv.JID(ua)), xmppclient.MustParseJID(srv.JID(ub))
	if err := a.RequestSubscription(jb, "let's chat", "Ann"); err != nil {
		t.Fatal(err)
	}
	recB.waitFor(t, 10*time.Second, "the subscription request", func(evs []xmppclient.Event) bool {
		for _, e := range evs {
			if p, ok := e.(xmppclient.PresenceEvent); ok {
				info, _ := xmppclient.ParsePresence(p.Presence)
				if info.Type == "subscribe" && info.From == ja && info.Nick == "Ann" && info.Status == "let's chat" {
					return true
				}
			}
		}
		return false
	})
	recA.waitFor(t, 10*time.Second, "a pending-ask push", func(evs []xmppclient.Event) bool {
		for _, e := range evs {
			if p, ok := e.(xmppclient.RosterPushEvent); ok && p.Item.JID == jb && p.Item.Ask {
				return true
			}
		}
		return false
	})
	if err := b.ApproveSubscription(ja); err != nil {
		t.Fatal(err)
	}
	recA.waitFor(t, 10*time.Second, "subscription 'to'", pushFor(jb.String(), "to"))
	recA.waitFor(t, 10*time.Second, "b's presence", func(evs []xmppclient.Event) bool {
		for _, e := range evs {
			if p, ok := e.(xmppclient.PresenceEvent); ok {
				info, _ := xmppclient.ParsePresence(p.Presence)
				if info.From.Bare() == jb && info.Type == "" && info.Show == "away" && info.Status == "busy coding" && info.Caps != nil {
					return true
				}
			}
		}
		return false
	})
	// Deny the other direction: b asks, a refuses.
	if err := b.RequestSubscription(ja, "", ""); err != nil {
		t.Fatal(err)
	}
	recA.waitFor(t, 10*time.Second, "b's request", presenceOf(jb.String(), "subscribe"))
	if err := a.DenySubscription(jb); err != nil {
		t.Fatal(err)
	}
	recB.waitFor(t, 10*time.Second, "the refusal", presenceOf(ja.String(), "unsubscribed"))
	// a unsubscribes: b sees a's subscription end.
	if err := a.Unsubscribe(jb); err != nil {
		t.Fatal(err)
	}
	recA.waitFor(t, 10*time.Second, "subscription none", pushFor(jb.String(), "none"))
}

func TestForgedRosterPushIsIgnored(t *testing.T) {
	srv := xmpptest.Shared(t)
	user, pass := srv.NewUser(t, "forge")
	evilUser, evilPass := srv.NewUser(t, "evil")
	c, rec := connect(t, clientConfig(t, srv, user, pass))
	evil, err := xmpptest.DialRaw(srv, evilUser, evilPass, "")
	if err != nil {
		t.Fatal(err)
	}
	defer evil.Close()
	forged := "<iq type='set' id='forged1' to='" + c.JID().String() + "'><query xmlns='jabber:iq:roster'><item jid='" + evil.JID() + "' name='Trusted Bank' subscription='both'/></query></iq>"
	if err := evil.SendRaw(forged); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := evil.WaitElement(ctx, func(e xmpptest.RawElement) bool {
		return e.Name == "iq" && strings.Contains(e.Raw, "forged1") && strings.Contains(e.Raw, "error")
	}); err != nil {
		t.Fatalf("the forged push was not refused: %v", err)
	}
	for _, e := range rec.snapshot() {
		if _, ok := e.(xmppclient.RosterPushEvent); ok {
			t.Fatalf("a forged roster push reached the app: %+v", e)
		}
	}
	res, err := c.FetchRoster(ctx, "")
	if err != nil || len(res.Items) != 0 {
		t.Fatalf("roster changed: %+v %v", res, err)
	}
}

func TestBlockingStopsMessagesAndUnblockRestores(t *testing.T) {
	srv := xmpptest.Shared(t)
	user, pass := srv.NewUser(t, "blocker")
	peerUser, peerPass := srv.NewUser(t, "blocked")
	c, rec := connect(t, clientConfig(t, srv, user, pass))
	interested(t, c)
	peer, err := xmpptest.DialRaw(srv, peerUser, peerPass, "")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pj := xmppclient.MustParseJID(peer.JID()).Bare()
	if err := c.Block(ctx, pj); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, 10*time.Second, "the block push", func(evs []xmppclient.Event) bool {
		for _, e := range evs {
			if b, ok := e.(xmppclient.BlockPushEvent); ok && len(b.Blocked) == 1 && b.Blocked[0] == pj {
				return true
			}
		}
		return false
	})
	list, err := c.BlockList(ctx)
	if err != nil || len(list) != 1 || list[0] != pj {
		t.Fatalf("block list = %v, %v", list, err)
	}
	if err := peer.SendMessage(c.JID().String(), "while blocked", "b1"); err != nil {
		t.Fatal(err)
	}
	// A ping round trip from the peer: the server handles a client's
	// stanzas in order, so after the reply it has dealt with the message,
	// and only then is the contact unblocked.
	if err := peer.SendRaw("<iq type='get' id='sync1'><ping xmlns='urn:xmpp:ping'/></iq>"); err != nil {
		t.Fatal(err)
	}
	if _, err := peer.WaitElement(ctx, func(e xmpptest.RawElement) bool { return e.Name == "iq" && strings.Contains(e.Raw, "sync1") }); err != nil {
		t.Fatalf("no ping reply: %v", err)
	}
	if err := c.Unblock(ctx, pj); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, 10*time.Second, "the unblock push", func(evs []xmppclient.Event) bool {
		for _, e := range evs {
			if b, ok := e.(xmppclient.BlockPushEvent); ok && len(b.Unblocked) == 1 {
				return true
			}
		}
		return false
	})
	if err := peer.SendMessage(c.JID().String(), "after unblock", "b2"); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, 10*time.Second, "the message after unblock", func(evs []xmppclient.Event) bool {
		for _, m := range messages(evs) {
			if m.Message.ID == "b2" {
				return true
			}
		}
		return false
	})
	for _, m := range messages(rec.snapshot()) {
		if m.Message.ID == "b1" {
			t.Fatal("a message from a blocked contact arrived")
		}
	}
}

func TestAvatarPublishAndFetch(t *testing.T) {
	srv := xmpptest.Shared(t)
	ua, pa := srv.NewUser(t, "ava")
	ub, pb := srv.NewUser(t, "avb")
	a, _ := connect(t, clientConfig(t, srv, ua, pa))
	b, recB := connect(t, clientConfig(t, srv, ub, pb))
	interested(t, a)
	interested(t, b)
	ja, jb := xmppclient.MustParseJID(srv.JID(ua)), xmppclient.MustParseJID(srv.JID(ub))
	// Mutual subscription, so the presence-access PEP nodes are visible.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(a.ApproveSubscription(jb))
	must(b.ApproveSubscription(ja))
	must(a.RequestSubscription(jb, "", ""))
	must(b.RequestSubscription(ja, "", ""))
	recB.waitFor(t, 10*time.Second, "subscription both", pushFor(ja.String(), "both"))
	must(b.SendPresence(stanza.Presence{}))
	must(a.SendPresence(stanza.Presence{}))

	img := bytes.Repeat([]byte{0x89, 'P', 'N', 'G'}, 100)
	id, err := a.PublishAvatar(ctx, img, "image/png", 64, 64)
	if err != nil {
		t.Fatal(err)
	}
	if id != xmppclient.AvatarHash(img) {
		t.Fatalf("id = %s", id)
	}
	recB.waitFor(t, 10*time.Second, "the avatar notification", func(evs []xmppclient.Event) bool {
		for _, e := range evs {
			if m, ok := e.(xmppclient.AvatarMetadataEvent); ok && m.From == ja && len(m.Infos) == 1 && m.Infos[0].ID == id {
				return true
			}
		}
		return false
	})
	infos, err := b.FetchAvatarMetadata(ctx, ja)
	if err != nil || len(infos) != 1 || infos[0].Bytes != len(img) {
		t.Fatalf("metadata = %+v, %v", infos, err)
	}
	data, err := b.FetchAvatarData(ctx, ja, id)
	if err != nil || !bytes.Equal(data, img) {
		t.Fatalf("data: %v (len %d)", err, len(data))
	}
	if _, _, err := b.FetchVCardPhoto(ctx, ja); err != nil {
		t.Fatalf("vCard fetch of an account without a vCard: %v", err)
	}
}

func TestSubscriptionPreApproval(t *testing.T) {
	srv := xmpptest.Shared(t)
	ua, pa := srv.NewUser(t, "prea")
	ub, pb := srv.NewUser(t, "preb")
	a, recA := connect(t, clientConfig(t, srv, ua, pa))
	b, recB := connect(t, clientConfig(t, srv, ub, pb))
	interested(t, a)
	interested(t, b)
	if !a.PreApprovalSupported() {
		t.Fatal("Prosody 0.12 offers subscription pre-approval; the feature was not seen")
	}
	ja, jb := xmppclient.MustParseJID(srv.JID(ua)), xmppclient.MustParseJID(srv.JID(ub))
	if err := a.ApproveSubscription(jb); err != nil { // nobody asked yet: a pre-approval
		t.Fatal(err)
	}
	// Prosody 0.12 pushes the new item but without approved='true'; it
	// keeps the pre-approval to itself.
	recA.waitFor(t, 10*time.Second, "the roster item for the pre-approved contact", pushFor(jb.String(), ""))
	if err := b.RequestSubscription(ja, "", ""); err != nil {
		t.Fatal(err)
	}
	// The server answers b's request at once, without asking a.
	recB.waitFor(t, 10*time.Second, "automatic approval", pushFor(ja.String(), "to"))
	for _, e := range recA.snapshot() {
		if p, ok := e.(xmppclient.PresenceEvent); ok && p.Presence.Type == "subscribe" {
			t.Errorf("a was asked although it had pre-approved b")
		}
	}
}
