// Tests of Parley's XEP-0184 receipts for received messages against the
// real Prosody, with slixmpp as the sender: a receipt goes out only once
// the message is committed to the history, so a message the history could
// not save gets none, while every stored one (a copy that came twice
// included) gets its receipt once.
package app_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the history's SQLite driver, to break it from the side

	"parley/app"
	"parley/app/apptest"
	"parley/app/store"
	"parley/xmppclient/xmpptest"
)

// receiptFor matches a receipt for message id.
func receiptFor(id string) func(xmpptest.PeerEvent) bool {
	return func(e xmpptest.PeerEvent) bool { return e.Event == "message" && e.ReceiptFor == id }
}

// slixReceipts counts the receipts the slixmpp peer got so far, by id.
func slixReceipts(p *xmpptest.SlixPeer) map[string]int {
	n := map[string]int{}
	slixHas(p, func(e xmpptest.PeerEvent) bool {
		if e.Event == "message" && e.ReceiptFor != "" {
			n[e.ReceiptFor]++
		}
		return false
	})
	return n
}

// refuseBodies makes the history's own SQLite refuse, from now on, to store
// a message whose body starts with prefix: a trigger, created through a
// second connection to the database file, aborts the INSERT with the error
// a full disk gives. The store's write transaction then really fails (it
// is rolled back, retried alone, and fails again), as it would on a full
// disk, without any hook in the code under test.
func refuseBodies(t *testing.T, ctx context.Context, profileDir, prefix string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(profileDir, app.HistoryFile)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := fmt.Sprintf(`CREATE TRIGGER test_refuse BEFORE INSERT ON messages WHEN new.body LIKE '%s%%'
		BEGIN SELECT RAISE(ABORT, 'database or disk is full (test trigger)'); END`, prefix)
	if _, err := db.ExecContext(ctx, q); err != nil {
		t.Fatalf("creating the trigger: %v", err)
	}
}

// TestReceiptOnlyForStoredMessages: slixmpp asks for receipts. A message
// the history fails to store gets no receipt (the user is told instead);
// the one after it gets its receipt; a message sent twice with one
// origin-id is stored once and both copies are answered; a burst gets
// every receipt exactly once.
func TestReceiptOnlyForStoredMessages(t *testing.T) {
	srv := apptest.Shared(t)
	a := srv.NewChatAccount(t, "rcpt")
	a.Start(t)
	cs := a.Chats()
	bobJID, bobPass := srv.NewUser(t, "slix")
	bob := srv.Slixmpp(t, bobJID, bobPass)
	ctx := chatCtx(t)
	// Receipts go only to those who may see our presence.
	letSeePresence(t, a, bobJID, func() error { return bob.Subscribe(a.JID, "", "") })

	refuseBodies(t, ctx, a.Dir, "refused:")
	problems := make(chan string, 16)
	unsub := cs.Subscribe(func(ch app.ChatChange) {
		if ch.Problem != "" {
			select {
			case problems <- ch.Problem:
			default:
			}
		}
	})
	defer unsub()

	if err := bob.SendOpts(a.JID, "refused: lost to a full disk", "rcpt-lost", true, false); err != nil {
		t.Fatal(err)
	}
	if err := bob.SendOpts(a.JID, "kept", "rcpt-kept", true, false); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-problems:
		if !strings.Contains(p, bobJID) || !strings.Contains(p, "test trigger") {
			t.Errorf("the problem shown: %q; want the failed write of %s's message", p, bobJID)
		}
	case <-time.After(chatWait):
		t.Fatal("the failed write was never reported")
	}
	waitSlix(t, bob, "the receipt for the stored message", receiptFor("rcpt-kept"))
	// Receipts leave in the order the messages were handled, on one
	// stream: had the lost message been answered, slixmpp would have that
	// receipt before this one.
	if ev, ok := slixHas(bob, receiptFor("rcpt-lost")); ok {
		t.Fatalf("slixmpp got a receipt for the message the history lost: %+v", ev)
	}
	msgs := waitHistory(t, cs, bobJID, "the stored message", hasBody(store.In, "kept"))
	for _, m := range msgs {
		if strings.HasPrefix(m.Body, "refused:") {
			t.Fatalf("the refused message was stored after all: %+v", m)
		}
	}

	// The same message twice (one origin-id): stored once, both answered.
	twice := "<message to='" + a.JID + "' type='chat' id='rcpt-twice'><body>twice</body>" +
		"<origin-id xmlns='urn:xmpp:sid:0' id='rcpt-twice'/><request xmlns='urn:xmpp:receipts'/></message>"
	for range 2 {
		if err := bob.SendRaw(twice); err != nil {
			t.Fatal(err)
		}
	}
	var burst []string
	for i := range 30 {
		id := fmt.Sprintf("rcpt-burst-%02d", i)
		burst = append(burst, id)
		if err := bob.SendOpts(a.JID, "burst "+id, id, true, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := bob.SendOpts(a.JID, "the end", "rcpt-end", true, false); err != nil {
		t.Fatal(err)
	}
	waitSlix(t, bob, "the receipt for the last message", receiptFor("rcpt-end"))
	got := slixReceipts(bob)
	if got["rcpt-twice"] != 2 {
		t.Errorf("receipts for the message sent twice: %d, want 2", got["rcpt-twice"])
	}
	for _, id := range append(burst, "rcpt-kept", "rcpt-end") {
		if got[id] != 1 {
			t.Errorf("receipts for %s: %d, want 1", id, got[id])
		}
	}
	msgs = waitHistory(t, cs, bobJID, "the last message stored", hasBody(store.In, "the end"))
	if n := len(apptest.Bodies(msgs)); n != 1+1+30+1 {
		t.Errorf("history: %s; want kept, twice (once), the burst and the end", apptest.DescribeMessages(msgs))
	}
}
