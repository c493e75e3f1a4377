// XEP-0352 against Prosody's mod_csi_simple: while Parley says it is
// inactive the server holds back a peer's presence (and stamps it with a
// delay of its own when it finally goes out); active again, presence comes
// straight through, unstamped.
package xmppclient_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"gosrc.io/xmpp/stanza"

	"parley/xmppclient"
	"parley/xmppclient/xmpptest"
)

// presenceWith finds a presence from `from` carrying status.
func presenceWith(evs []xmppclient.Event, from, status string) (xmppclient.PresenceEvent, bool) {
	for _, e := range evs {
		if p, ok := e.(xmppclient.PresenceEvent); ok && p.Presence.From != "" &&
			xmppclient.MustParseJID(p.Presence.From).Bare().String() == from && p.Presence.Status == status {
			return p, true
		}
	}
	return xmppclient.PresenceEvent{}, false
}

func TestClientStateIndicationHoldsPresence(t *testing.T) {
	srv := xmpptest.Shared(t)
	aUser, aPass := srv.NewUser(t, "csia")
	bUser, bPass := srv.NewUser(t, "csib")
	a, recA := connect(t, clientConfig(t, srv, aUser, aPass))
	b, _ := connect(t, clientConfig(t, srv, bUser, bPass))
	if !a.CSISupported() {
		t.Fatal("Prosody offers CSI (mod_csi_simple); the feature was not seen")
	}
	aFull := a.JID().String()
	bBare := srv.JID(bUser)
	directed := func(status string) {
		t.Helper()
		if err := b.SendPresence(stanza.Presence{Attrs: stanza.Attrs{To: aFull}, Status: status}); err != nil {
			t.Fatal(err)
		}
	}

	// Active (every stream starts so): a presence comes as it is.
	directed("while active")
	recA.waitFor(t, 10*time.Second, "the presence sent while active", func(evs []xmppclient.Event) bool {
		_, ok := presenceWith(evs, bBare, "while active")
		return ok
	})
	p, _ := presenceWith(recA.snapshot(), bBare, "while active")
	if bytes.Contains(p.Raw, []byte("urn:xmpp:delay")) {
		t.Errorf("a presence to an active client was delayed: %s", p.Raw)
	}

	// Inactive: held back, and stamped by the server when it goes out (on
	// A's next activity: here going active). Prosody takes any bytes from
	// the client as activity and stays awake 5 s after them
	// (csi_resume_inactive_delay), and nothing orders A's <inactive/> before
	// B's presence but time: B probes every 250 ms; a probe delivered at once
	// went to an awake server; one that has not come by the next tick may be
	// held, which going active shows (the stamp is what is asserted).
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	server := xmppclient.MustParseJID(srv.Domain)
	stamped := func(p xmppclient.PresenceEvent) bool {
		return bytes.Contains(p.Raw, []byte("urn:xmpp:delay")) && bytes.Contains(p.Raw, []byte(srv.JID(aUser)))
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	a.SetActive(false)
	held := false
	deadline := time.Now().Add(30 * time.Second)
	for probe := 1; !held && time.Now().Before(deadline); probe++ {
		status := fmt.Sprintf("probe %d", probe)
		directed(status)
		if err := b.Ping(ctx, server); err != nil { // the server has B's presence
			t.Fatal(err)
		}
		<-tick.C
		if p, ok := presenceWith(recA.snapshot(), bBare, status); ok {
			held = stamped(p) // delivered already: the server was awake (or flushed it)
			continue
		}
		a.SetActive(true) // flushes what is held
		recA.waitFor(t, 10*time.Second, "the probe, once active", func(evs []xmppclient.Event) bool {
			_, ok := presenceWith(evs, bBare, status)
			return ok
		})
		p, _ := presenceWith(recA.snapshot(), bBare, status)
		held = stamped(p)
		a.SetActive(false)
	}
	if !held {
		t.Fatal("for 30 s, no presence to an inactive client was held back by the server (no delay stamp of its own)")
	}
	a.SetActive(true)

	// Active again (told before the ping after it: one stream, in order),
	// a presence B sends after that round trip is not held.
	if err := a.Ping(ctx, server); err != nil {
		t.Fatal(err)
	}
	directed("active again")
	recA.waitFor(t, 10*time.Second, "the presence sent once active again", func(evs []xmppclient.Event) bool {
		_, ok := presenceWith(evs, bBare, "active again")
		return ok
	})
	p, _ = presenceWith(recA.snapshot(), bBare, "active again")
	if bytes.Contains(p.Raw, []byte("urn:xmpp:delay")) {
		t.Errorf("after going active, presence is still held: %s", p.Raw)
	}
	if !a.Active() {
		t.Error("Active() says inactive after SetActive(true)")
	}
}
