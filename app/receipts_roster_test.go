// Tests that XEP-0184 receipts and XEP-0333 displayed markers go only to
// peers the roster lets see our presence (subscription from or both), as
// both tell that we are online: two Parley accounts on the real Prosody,
// strangers first, then friends (apptest.Befriend). Also the helper other
// tests use to let their peer see the account's presence.
package app_test

import (
	"context"
	"testing"

	"parley/app"
	"parley/app/apptest"
	"parley/app/store"
)

// letSeePresence has peer ask for a's presence (subscribe) and a accept,
// so the roster of a says "from" (or "both") for peer: a then answers
// peer's receipt requests and sends it displayed markers.
func letSeePresence(t *testing.T, a *apptest.ChatAccount, peer string, subscribe func() error) {
	t.Helper()
	if err := subscribe(); err != nil {
		t.Fatalf("%s asks for the presence of %s: %v", peer, a.JID, err)
	}
	cs := a.Svc.Contacts()
	apptest.WaitContacts(t, cs, "the request of "+peer, chatWait, func(s app.ContactsSnapshot) bool { return apptest.HasRequest(s, peer) })
	ctx, cancel := context.WithTimeout(context.Background(), chatWait)
	defer cancel()
	if err := cs.Accept(ctx, peer, false); err != nil {
		t.Fatalf("%s accepts %s: %v", a.JID, peer, err)
	}
	apptest.WaitContacts(t, cs, peer+" allowed to see the presence of "+a.JID, chatWait, func(s app.ContactsSnapshot) bool {
		c, ok := apptest.FindContact(s, peer)
		return ok && (c.Subscription == "from" || c.Subscription == "both")
	})
}

// rawSubscribe is letSeePresence's subscribe for a raw peer.
func rawSubscribe(p interface{ SendRaw(string) error }, to string) func() error {
	return func() error { return p.SendRaw("<presence to='" + to + "' type='subscribe'/>") }
}

// TestReceiptsAndMarkersOnlyForContacts: b gets a's message while they are
// strangers and reads it: no receipt, no marker. Once friends, a's next
// message gets both. Each account has one stream and b writes in order, so
// a receipt or marker for the first message would have reached a before
// the receipt for the second: the first one's state tells.
func TestReceiptsAndMarkersOnlyForContacts(t *testing.T) {
	srv := apptest.Shared(t)
	a, b := srv.LogIn(t, "rcpta"), srv.LogIn(t, "rcptb")
	ac, bc := a.Svc.Chats(), b.Svc.Chats()
	ctx := chatCtx(t)

	first, err := ac.Send(ctx, b.JID, "from a stranger")
	if err != nil {
		t.Fatal(err)
	}
	msgs := waitHistory(t, bc, a.JID, "the stranger's message at b", hasBody(store.In, "from a stranger"))
	in1, _ := findBody(msgs, store.In, "from a stranger")
	if !in1.Markable {
		t.Fatalf("a's message is not markable: %+v", in1)
	}
	if err := bc.MarkRead(ctx, a.JID, in1); err != nil {
		t.Fatal(err)
	}
	waitMessage(t, ac, first.ID, "the server acked the stranger's message", func(m store.Message) bool { return m.State != store.StateQueued })

	apptest.Befriend(t, a, b, "")
	second, err := ac.Send(ctx, b.JID, "from a friend")
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, ac, second.ID, store.StateDelivered, "b's receipt for the friend's message")
	if m, err := ac.Message(ctx, first.ID); err != nil || m.State != store.StateSent {
		t.Fatalf("the stranger's message is %v (%v), want still sent: b sent a receipt (delivered) or marker (read) to a stranger", m.State, err)
	}
	msgs = waitHistory(t, bc, a.JID, "the friend's message at b", hasBody(store.In, "from a friend"))
	in2, _ := findBody(msgs, store.In, "from a friend")
	if err := bc.MarkRead(ctx, a.JID, in2); err != nil {
		t.Fatal(err)
	}
	waitState(t, ac, second.ID, store.StateRead, "b's displayed marker for the friend's message")
}
