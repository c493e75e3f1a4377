// Tests of what the engine tells the app about what the server received:
// the h of a refused XEP-0198 resumption acknowledges what the server
// counted, a stream without XEP-0198 is confirmed by one barrier ping per
// burst, and a stream the server closed with an error says so in the next
// SessionEvent with the stanzas it left unacknowledged.
package xmppclient_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"gosrc.io/xmpp/stanza"

	"parley/xmppclient"
	"parley/xmppclient/xmpptest"
)

// acked returns the ids of every AckEvent so far, in order.
func acked(evs []xmppclient.Event) []string {
	var ids []string
	for _, e := range evs {
		if a, ok := e.(xmppclient.AckEvent); ok {
			ids = append(ids, a.IDs...)
		}
	}
	return ids
}

// nthSession returns the n-th SessionEvent (1-based) and whether there is one.
func nthSession(evs []xmppclient.Event, n int) (xmppclient.SessionEvent, bool) {
	for _, e := range evs {
		if s, ok := e.(xmppclient.SessionEvent); ok {
			if n--; n == 0 {
				return s, true
			}
		}
	}
	return xmppclient.SessionEvent{}, false
}

func sendTo(t *testing.T, c *xmppclient.Client, to string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if _, err := c.SendMessage(xmppclient.OutgoingMessage{To: xmppclient.MustParseJID(to), ID: id, Body: "body of " + id}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRefusedResumptionAcksWhatTheServerCounted: the session is lost with
// m1..m3 on the server but never acknowledged (no ack requests) and m4 in
// a dead connection; the server expires the session, so the resumption
// is refused, with <failed h='N'/> (Prosody keeps the count of expired
// sessions). m1..m3 are acknowledged before the fresh session, which
// reports only m4 as unacknowledged.
func TestRefusedResumptionAcksWhatTheServerCounted(t *testing.T) {
	srv := xmpptest.NewProsody(t, xmpptest.ProsodyOptions{SmacksHibernation: time.Second})
	user, pass := srv.NewUser(t, "failedh")
	peer := rawPeer(t, srv, "failedhpeer")
	cfg, proxy := proxiedConfig(t, srv, user, pass)
	cfg.AckInterval, cfg.AckEvery = time.Hour, 1000 // nothing is acknowledged on the way
	c, rec := connect(t, cfg)
	// Another resource of the account sees the session expire (its
	// unavailable presence), so the test knows when to let the client in.
	watcher, err := xmpptest.DialRaw(srv, user, pass, "watcher")
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close()
	if err := c.SendPresence(stanza.Presence{}); err != nil {
		t.Fatal(err)
	}
	sendTo(t, c, peer.JID(), "m1", "m2", "m3")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := peer.WaitFor(ctx, func(m xmpptest.RawMessage) bool { return m.ID == "m3" }); err != nil {
		t.Fatalf("m3 did not reach the peer: %v", err)
	}
	proxy.Pause() // m4 and the client's next attempts stay in the proxy
	sendTo(t, c, peer.JID(), "m4")
	proxy.KillAll()
	full := c.JID().String()
	if _, err := watcher.WaitElement(ctx, func(e xmpptest.RawElement) bool {
		return e.Name == "presence" && strings.Contains(e.Raw, "from='"+full+"'") && strings.Contains(e.Raw, "type='unavailable'")
	}); err != nil {
		t.Fatalf("the server did not expire the session: %v", err)
	}
	if ids := acked(rec.snapshot()); len(ids) != 0 {
		t.Fatalf("acknowledged before the resumption: %v", ids)
	}
	proxy.Resume()
	var fresh xmppclient.SessionEvent
	rec.waitFor(t, 30*time.Second, "a fresh session", func(evs []xmppclient.Event) bool {
		var ok bool
		fresh, ok = nthSession(evs, 2)
		return ok
	})
	if fresh.Resumed || strings.Join(fresh.Unacked, ",") != "m4" {
		t.Fatalf("second session = %+v; want a fresh one with only m4 unacknowledged", fresh)
	}
	// The count may cover other stanzas of the client too (its answer to
	// the server's XEP-0115 disco#info query, id "disco"): only the
	// messages are checked.
	var msgs []string
	for _, id := range acked(rec.snapshot()) {
		if strings.HasPrefix(id, "m") {
			msgs = append(msgs, id)
		}
	}
	if strings.Join(msgs, ",") != "m1,m2,m3" {
		t.Fatalf("acknowledged messages %v; want m1,m2,m3 (counted in <failed h/>)", msgs)
	}
}

// TestWithoutStreamManagementABarrierPingConfirms: on a server without
// XEP-0198 a burst of messages is confirmed by one ping written after it
// (its answer means the server read everything before it); messages
// written into a connection that dies before a barrier confirms them are
// reported as unacknowledged by the next session, not as acknowledged.
func TestWithoutStreamManagementABarrierPingConfirms(t *testing.T) {
	srv := xmpptest.NewProsody(t, xmpptest.ProsodyOptions{DisableSMacks: true})
	user, pass := srv.NewUser(t, "barrier")
	peer := rawPeer(t, srv, "barrierpeer")
	cfg, proxy := proxiedConfig(t, srv, user, pass)
	cfg.AckInterval, cfg.AckEvery = time.Hour, 5 // a barrier after every 5 stanzas, none by time
	c, rec := connect(t, cfg)
	if info, _ := c.ConnInfo(); info.StreamManagement {
		t.Fatal("the server offers XEP-0198; the test needs one without")
	}
	before := xmppclient.Barriers(c)
	burst := []string{"b1", "b2", "b3", "b4", "b5"}
	sendTo(t, c, peer.JID(), burst...)
	rec.waitFor(t, 30*time.Second, "the burst confirmed", func(evs []xmppclient.Event) bool {
		return len(acked(evs)) >= len(burst)
	})
	if ids := acked(rec.snapshot()); !slices.Equal(ids, burst) {
		t.Fatalf("acknowledged %v; want %v", ids, burst)
	}
	if n := xmppclient.Barriers(c) - before; n != 1 {
		t.Errorf("%d pings for a burst of %d messages; want one barrier", n, len(burst))
	}
	if c.Unacked() != 0 {
		t.Errorf("%d stanzas still unconfirmed", c.Unacked())
	}

	proxy.Pause() // a silent break: what the client writes now is lost
	lost := []string{"l1", "l2", "l3", "l4", "l5", "l6"}
	sendTo(t, c, peer.JID(), lost...)
	proxy.KillAll()
	proxy.Resume()
	var fresh xmppclient.SessionEvent
	rec.waitFor(t, 30*time.Second, "a new session", func(evs []xmppclient.Event) bool {
		var ok bool
		fresh, ok = nthSession(evs, 2)
		return ok
	})
	if !slices.Equal(fresh.Unacked, lost) {
		t.Fatalf("new session = %+v; want Unacked %v", fresh, lost)
	}
	if ids := acked(rec.snapshot()); !slices.Equal(ids, burst) {
		t.Fatalf("acknowledged %v; want only %v", ids, burst)
	}
}

// TestStreamErrorIsReportedWithTheNextSession: a message over the server's
// stanza size limit makes it close the stream (policy-violation); the
// next session says so and lists the message as unacknowledged, with the
// one written after it; the one before it, which the server read, is not.
func TestStreamErrorIsReportedWithTheNextSession(t *testing.T) {
	const limit = 16 << 10
	srv := xmpptest.NewProsody(t, xmpptest.ProsodyOptions{StanzaSizeLimit: limit})
	user, pass := srv.NewUser(t, "streamerr")
	peer := rawPeer(t, srv, "streamerrpeer")
	c, rec := connect(t, clientConfig(t, srv, user, pass))
	sendTo(t, c, peer.JID(), "before")
	rec.waitFor(t, 30*time.Second, "'before' acknowledged", func(evs []xmppclient.Event) bool {
		return slices.Contains(acked(evs), "before")
	})
	to := xmppclient.MustParseJID(peer.JID())
	if _, err := c.SendMessage(xmppclient.OutgoingMessage{To: to, ID: "big", Body: strings.Repeat("y", 2*limit)}); err != nil {
		t.Fatal(err)
	}
	sendTo(t, c, peer.JID(), "after")
	var next xmppclient.SessionEvent
	rec.waitFor(t, 30*time.Second, "a new session", func(evs []xmppclient.Event) bool {
		var ok bool
		next, ok = nthSession(evs, 2)
		return ok
	})
	if next.EndedBy == nil || next.EndedBy.Condition != "policy-violation" {
		t.Fatalf("new session = %+v; want EndedBy policy-violation", next)
	}
	if next.Resumed || fmt.Sprint(next.Unacked) != "[big after]" {
		t.Fatalf("new session = %+v; want a fresh one with big and after unacknowledged", next)
	}
}
