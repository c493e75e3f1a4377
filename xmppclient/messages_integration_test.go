// Integration tests of messaging against Prosody: extensions round-trip
// between two clients, carbons between two resources of one account,
// forged carbons and archive results dropped, and archive paging.
package xmppclient_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"parley/xmppclient"
	"parley/xmppclient/xmpptest"
)

func parsedMessages(t *testing.T, evs []xmppclient.Event) []xmppclient.ChatMessage {
	t.Helper()
	var out []xmppclient.ChatMessage
	for _, e := range evs {
		if m, ok := e.(xmppclient.MessageEvent); ok {
			// The engine parsed it once; its raw bytes still say the same.
			again, err := xmppclient.ParseMessage(m.Raw)
			if err != nil || !reflect.DeepEqual(again, m.Message) {
				t.Fatalf("parse %s: %v\n%#v\nthe engine's: %#v", m.Raw, err, again, m.Message)
			}
			out = append(out, m.Message)
		}
	}
	return out
}

func TestMessageExtensionsRoundTrip(t *testing.T) {
	srv := xmpptest.Shared(t)
	ua, pa := srv.NewUser(t, "msga")
	ub, pb := srv.NewUser(t, "msgb")
	a, recA := connect(t, clientConfig(t, srv, ua, pa))
	b, recB := connect(t, clientConfig(t, srv, ub, pb))
	id, err := a.SendMessage(xmppclient.OutgoingMessage{To: b.JID(), Body: "hello *world*", RequestReceipt: true, Markable: true, ChatState: xmppclient.StateActive})
	if err != nil {
		t.Fatal(err)
	}
	var got xmppclient.ChatMessage
	recB.waitFor(t, 10*time.Second, "the message", func(evs []xmppclient.Event) bool {
		for _, m := range parsedMessages(t, evs) {
			if m.OriginID == id {
				got = m
				return true
			}
		}
		return false
	})
	if got.Body != "hello *world*" || !got.ReceiptRequest || !got.Markable || got.ChatState != "active" || got.ID != id || got.From != a.JID() {
		t.Fatalf("received %+v", got)
	}
	if got.StanzaIDs[b.JID().Bare().String()] == "" {
		t.Errorf("Prosody's MAM should stamp a stanza-id by the recipient's bare JID: %+v", got.StanzaIDs)
	}
	for _, o := range []xmppclient.OutgoingMessage{
		{To: a.JID(), ReceiptFor: id},
		{To: a.JID(), MarkerType: "displayed", MarkerFor: id},
		{To: a.JID(), Body: "hello world", Replaces: id},
		{To: a.JID(), Body: "retracted", Retracts: id},
		{To: a.JID(), ChatState: xmppclient.StateComposing, NoStore: true},
	} {
		if _, err := b.SendMessage(o); err != nil {
			t.Fatal(err)
		}
	}
	recA.waitFor(t, 10*time.Second, "receipt, marker, correction, retraction and chat state", func(evs []xmppclient.Event) bool {
		var receipt, marker, corr, retr, state bool
		for _, m := range parsedMessages(t, evs) {
			receipt = receipt || m.ReceiptFor == id
			marker = marker || (m.MarkerType == "displayed" && m.MarkerFor == id)
			corr = corr || (m.Replaces == id && m.Body == "hello world")
			retr = retr || m.Retracts == id
			state = state || m.ChatState == "composing"
		}
		return receipt && marker && corr && retr && state
	})
}

func TestCarbonsBetweenTwoResources(t *testing.T) {
	srv := xmpptest.Shared(t)
	ua, pa := srv.NewUser(t, "carb")
	ub, pb := srv.NewUser(t, "carbpeer")
	cfg := clientConfig(t, srv, ua, pa)
	a1, _ := connect(t, cfg)
	a2, rec2 := connect(t, cfg)
	b, recB := connect(t, clientConfig(t, srv, ub, pb))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, c := range []*xmppclient.Client{a1, a2} {
		if err := c.EnableCarbons(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Available resources: a message to a bare JID goes to available ones.
	for _, c := range []*xmppclient.Client{a1, a2, b} {
		if err := c.SetPresence(xmppclient.Availability{}); err != nil {
			t.Fatal(err)
		}
	}
	id, err := a1.SendMessage(xmppclient.OutgoingMessage{To: b.JID().Bare(), Body: "sent from one"})
	if err != nil {
		t.Fatal(err)
	}
	recB.waitFor(t, 10*time.Second, "b gets it", func(evs []xmppclient.Event) bool {
		for _, m := range parsedMessages(t, evs) {
			if m.OriginID == id {
				return true
			}
		}
		return false
	})
	if _, err := b.SendMessage(xmppclient.OutgoingMessage{To: a1.JID(), Body: "to resource one", ID: "to-one"}); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			for _, e := range rec2.snapshot() {
				t.Logf("A2 %T %+v", e, e)
			}
		}
	}()
	rec2.waitFor(t, 10*time.Second, "sent and received carbons on the other resource", func(evs []xmppclient.Event) bool {
		var sent, recv bool
		for _, e := range evs {
			if c, ok := e.(xmppclient.CarbonEvent); ok {
				sent = sent || (c.Sent && c.Message.OriginID == id && c.Message.Body == "sent from one" && c.Message.To.Bare() == b.JID().Bare())
				recv = recv || (!c.Sent && c.Message.ID == "to-one" && c.Message.From == b.JID())
			}
		}
		return sent && recv
	})
}

// TestForgedCarbonAndArchiveResultAreDropped: another user of the server
// sends a carbon wrapper (a well-formed one: its forwarded <message/> is in
// jabber:client and claims to come from the victim's own account) and,
// while an archive query of the victim is running, an archive result with
// that query's real id. Both must be dropped for their sender, not for
// their shape: the log says which check caught them.
func TestForgedCarbonAndArchiveResultAreDropped(t *testing.T) {
	srv := xmpptest.Shared(t)
	user, pass := srv.NewUser(t, "victim")
	evilUser, evilPass := srv.NewUser(t, "forger")
	cfg := clientConfig(t, srv, user, pass)
	logged := captureLogs(&cfg)
	c, rec := connect(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.EnableCarbons(ctx); err != nil {
		t.Fatal(err)
	}
	evil := dialRaw(t, srv, evilUser, evilPass)
	own := c.JID().Bare().String()
	carbon := "<message to='" + c.JID().String() + "' id='fc'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>" +
		"<message xmlns='jabber:client' from='" + own + "/x' to='boss@" + srv.Domain + "' type='chat' id='forged-carbon'>" +
		"<body>forged carbon</body></message></forwarded></sent></message>"
	if err := evil.SendRaw(carbon); err != nil {
		t.Fatal(err)
	}
	if err := evil.SendMessage(c.JID().String(), "plain", "after"); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, 10*time.Second, "the plain message after the forged carbon", func(evs []xmppclient.Event) bool {
		for _, m := range parsedMessages(t, evs) {
			if m.ID == "after" {
				return true
			}
		}
		return false
	})
	// The carbon was handled before the message after it (one stream, one
	// reader): it reached the client and the sender check dropped it.
	msgs := logged()
	if n := countLogged(msgs, "dropping a forged carbon"); n != 1 {
		t.Errorf("the sender check dropped %d carbons, want 1 (the forgery); logged: %q", n, msgs)
	}
	for _, other := range []string{"dropping a carbon without", "dropping a carbon whose message does not parse"} {
		if n := countLogged(msgs, other); n != 0 {
			t.Errorf("a carbon was dropped as malformed (%q), so the sender check was not what stopped it; logged: %q", other, msgs)
		}
	}

	// The archive result: the forger learns the real query id (through the
	// test hook; a real attacker would have to guess it) and sends a result
	// claiming to be a message from boss@, from its own JID.
	forged := forgeDuringQuery(t, c, rec, evil, "boss@"+srv.Domain)
	page, err := c.QueryArchive(ctx, xmppclient.MAMQuery{Max: 50})
	if err != nil {
		t.Fatal(err)
	}
	checkForgeryDropped(t, page, logged(), *forged)
	if got := bodies(page.Messages); !slices.Contains(got, "plain") {
		t.Errorf("the archive page %q lacks the forger's real messages", got)
	}

	for _, e := range rec.snapshot() {
		switch x := e.(type) {
		case xmppclient.CarbonEvent:
			t.Errorf("a forged carbon was accepted (sent %v): %s", x.Sent, x.Raw)
		case xmppclient.MessageEvent:
			if strings.Contains(string(x.Raw), "forged") {
				t.Errorf("a forged wrapper reached the app as a message: %s", x.Raw)
			}
		}
	}
}

func TestArchivePagingInOrder(t *testing.T) {
	srv := xmpptest.Shared(t)
	user, pass := srv.NewUser(t, "arch")
	peer := rawPeer(t, srv, "archpeer")
	const n = 45
	if err := peer.SendMessages(srv.JID(user), n, "arch"); err != nil {
		t.Fatal(err)
	}
	// Make sure the server stored them all before querying.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := peer.SendRaw("<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>"); err != nil {
		t.Fatal(err)
	}
	if _, err := peer.WaitElement(ctx, func(e xmpptest.RawElement) bool { return e.Name == "iq" && strings.Contains(e.Raw, "sync") }); err != nil {
		t.Fatal(err)
	}
	c, _ := connect(t, clientConfig(t, srv, user, pass))
	var all []xmppclient.ArchivedMessage
	after := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("too many pages")
		}
		page, err := c.QueryArchive(ctx, xmppclient.MAMQuery{With: xmppclient.MustParseJID(peer.JID()).Bare(), After: after, Max: 20})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Messages...)
		if page.Complete || len(page.Messages) == 0 {
			break
		}
		after = page.Last
	}
	if len(all) != n {
		t.Fatalf("got %d archived messages, want %d", len(all), n)
	}
	for i, m := range all {
		if want := fmt.Sprintf("arch-%06d", i+1); m.Message.Body != want || m.ArchiveID == "" || m.Stamp.IsZero() {
			t.Fatalf("result %d = %q (id %q, stamp %v), want %q", i, m.Message.Body, m.ArchiveID, m.Stamp, want)
		}
	}
	last, err := c.QueryArchive(ctx, xmppclient.MAMQuery{Last: true, Max: 5})
	if err != nil || len(last.Messages) != 5 || last.Messages[4].Message.Body != fmt.Sprintf("arch-%06d", n) {
		t.Fatalf("newest page: %v %+v", err, last)
	}
}
