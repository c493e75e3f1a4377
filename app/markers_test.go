// Tests of the XEP-0333 displayed markers Parley sends, against a real
// Prosody with the harness's raw client as the peer: a marker only ever
// names a message that carried <markable/>, marking an unmarkable message
// read names the newest markable one before it that is not yet read, and
// nothing at all when there is none.
package app_test

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"parley/app"
	"parley/app/apptest"
	"parley/app/store"
	"parley/xmppclient/xmpptest"
)

// displayedRE finds the id a displayed marker names.
var displayedRE = regexp.MustCompile(`<displayed\b[^>]*\sid=(?:'([^']*)'|"([^"]*)")`)

// displayedFor returns the id the displayed marker in m names, if m has one.
func displayedFor(m xmpptest.RawMessage) (string, bool) {
	sub := displayedRE.FindStringSubmatch(m.Raw)
	if sub == nil {
		return "", false
	}
	return sub[1] + sub[2], true
}

// nthMarker waits for the n-th (from 1) displayed marker p received and
// returns the id it names.
func nthMarker(t *testing.T, p *xmpptest.RawPeer, n int, what string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), chatWait)
	defer cancel()
	seen := 0
	m, err := p.WaitFor(ctx, func(m xmpptest.RawMessage) bool {
		if _, ok := displayedFor(m); ok {
			seen++
		}
		return seen == n
	})
	if err != nil {
		t.Fatalf("waiting for %s (displayed marker %d; %d seen): %v", what, n, seen, err)
	}
	id, _ := displayedFor(m)
	return id
}

func TestDisplayedMarkersOnlyForMarkable(t *testing.T) {
	srv := apptest.Shared(t)
	a := srv.NewChatAccount(t, "markers")
	bobJID, bobPass := srv.NewUser(t, "markbob")
	bob := srv.Raw(t, bobJID, bobPass, "raw")
	ctx := chatCtx(t)
	a.Start(t)
	cs := a.Chats()
	waitSync(t, cs, "the first catch-up", func(p app.SyncProgress) bool { return !p.Active })
	// Markers go only to those who may see our presence.
	letSeePresence(t, a, bobJID, rawSubscribe(bob, a.JID))

	sendMarkable := func(body, id string) {
		t.Helper()
		if err := bob.SendRaw(fmt.Sprintf(`<message to='%s' id='%s' type='chat'><body>%s</body>`+
			`<markable xmlns='urn:xmpp:chat-markers:0'/></message>`, a.JID, id, body)); err != nil {
			t.Fatal(err)
		}
	}
	sendPlain := func(body, id string) {
		t.Helper()
		if err := bob.SendMessage(a.JID, body, id); err != nil {
			t.Fatal(err)
		}
	}
	markRead := func(body string) store.Message {
		t.Helper()
		msgs := waitHistory(t, cs, bobJID, body+" stored", hasBody(store.In, body))
		m, _ := findBody(msgs, store.In, body)
		if err := cs.MarkRead(ctx, bobJID, m); err != nil {
			t.Fatal(err)
		}
		return m
	}

	// The markable flag is stored as it came.
	sendPlain("no markers please", "plain-1")
	sendMarkable("markers welcome", "mark-1")
	msgs := waitHistory(t, cs, bobJID, "both messages stored", func(msgs []store.Message) bool {
		return hasBody(store.In, "no markers please")(msgs) && hasBody(store.In, "markers welcome")(msgs)
	})
	if m, _ := findBody(msgs, store.In, "no markers please"); m.Markable {
		t.Errorf("the message without <markable/> is stored markable: %+v", m)
	}
	if m, _ := findBody(msgs, store.In, "markers welcome"); !m.Markable {
		t.Errorf("the message with <markable/> is stored not markable: %+v", m)
	}

	// Reading the unmarkable one (nothing markable before it) sends
	// nothing: the first marker bob gets is for the markable one.
	markRead("no markers please")
	markRead("markers welcome")
	if id := nthMarker(t, bob, 1, "the marker for mark-1"); id != "mark-1" {
		t.Fatalf("the first displayed marker names %q; want mark-1 (none for the unmarkable plain-1)", id)
	}

	// An unmarkable message after the read marker, with nothing markable
	// between: nothing (mark-1 was marked already). Then an unmarkable one
	// after a markable one: the marker names the markable one.
	sendPlain("still no markers", "plain-2")
	markRead("still no markers")
	sendMarkable("markable again", "mark-2")
	waitHistory(t, cs, bobJID, "mark-2 stored", hasBody(store.In, "markable again"))
	sendPlain("and plain again", "plain-3")
	markRead("and plain again")
	if id := nthMarker(t, bob, 2, "the marker for mark-2"); id != "mark-2" {
		t.Fatalf("the second displayed marker names %q; want mark-2 (the newest markable message read)", id)
	}
	if n, err := cs.UnreadTotal(ctx); err != nil || n != 0 {
		t.Errorf("unread after MarkRead: %d, %v; want 0", n, err)
	}
}
