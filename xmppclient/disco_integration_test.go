// Integration test of the disco responder and caps: another client asks
// Parley's full JID for disco#info at the caps node and gets the identity
// and features whose hash is the ver Parley announced in its presence.
package xmppclient_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"gosrc.io/xmpp/stanza"
	"parley/xmppclient"
	"parley/xmppclient/xmpptest"
)

func TestDiscoResponderMatchesCaps(t *testing.T) {
	srv := xmpptest.Shared(t)
	user, pass := srv.NewUser(t, "disco")
	peerUser, peerPass := srv.NewUser(t, "discopeer")
	cfg := clientConfig(t, srv, user, pass)
	cfg.Features = []string{"urn:xmpp:receipts"}
	c, _ := connect(t, cfg)
	peer, err := xmpptest.DialRaw(srv, peerUser, peerPass, "peer")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()

	// Directed presence carries the caps element.
	if err := c.SendPresence(stanza.Presence{Attrs: stanza.Attrs{To: peer.JID()}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pres, err := peer.WaitElement(ctx, func(e xmpptest.RawElement) bool {
		return e.Name == "presence" && strings.Contains(e.Raw, "http://jabber.org/protocol/caps")
	})
	if err != nil {
		t.Fatalf("no presence with caps: %v", err)
	}
	if !strings.Contains(pres.Raw, c.CapsVer()) {
		t.Errorf("presence caps do not carry ver %s: %s", c.CapsVer(), pres.Raw)
	}

	node := c.Config().CapsNode + "#" + c.CapsVer()
	q := "<iq type='get' id='disco1' to='" + c.JID().String() + "'><query xmlns='http://jabber.org/protocol/disco#info' node='" + node + "'/></iq>"
	if err := peer.SendRaw(q); err != nil {
		t.Fatal(err)
	}
	reply, err := peer.WaitElement(ctx, func(e xmpptest.RawElement) bool {
		return e.Name == "iq" && strings.Contains(e.Raw, "disco1")
	})
	if err != nil {
		t.Fatalf("no disco#info reply: %v", err)
	}
	for _, want := range []string{"type='result'", "category='client'", "type='pc'", "urn:xmpp:ping", "urn:xmpp:receipts", "http://jabber.org/protocol/caps"} {
		if !strings.Contains(strings.ReplaceAll(reply.Raw, `"`, "'"), want) {
			t.Errorf("disco#info reply lacks %s: %s", want, reply.Raw)
		}
	}
	// The server's own disco works too.
	info, err := c.DiscoInfo(ctx, xmppclient.JID{}, "")
	if err != nil || !info.HasFeature("urn:xmpp:ping") {
		t.Errorf("server disco#info: %v %v", err, info)
	}
	items, err := c.DiscoItems(ctx, xmppclient.JID{}, "")
	if err != nil || len(items) == 0 {
		t.Errorf("server disco#items: %v %v", err, items)
	}
}
