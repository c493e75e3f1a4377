// Tests of whose XEP-0359 stanza-ids Parley keeps, against real Prosody
// servers: one without an archive (it neither announces urn:xmpp:sid:0 nor
// removes a stanza-id a sender forged) and the shared one with its archive
// (it announces it and sets its own); and of a message without a type
// attribute, which is of type normal (RFC 6121) and still shown.
package app_test

import (
	"fmt"
	"testing"

	"parley/app"
	"parley/app/apptest"
	"parley/app/store"
)

// forged is a message from the sender to to with a stanza-id by to.
func forged(to, id, body, stanzaID string) string {
	return fmt.Sprintf(`<message to='%s' id='%s' type='chat'><body>%s</body>`+
		`<stanza-id xmlns='urn:xmpp:sid:0' by='%s' id='%s'/></message>`, to, id, body, to, stanzaID)
}

// TestForgedStanzaIDNotTrusted: the server does not announce stanza-ids,
// so one "by" the account is the sender's invention: it is not kept, and
// two senders using one id both get their message stored.
func TestForgedStanzaIDNotTrusted(t *testing.T) {
	srv := apptest.StartPrivate(t) // no archive: no urn:xmpp:sid:0
	a := srv.NewChatAccount(t, "sid")
	bobJID, bobPass := srv.NewUser(t, "sidbob")
	malJID, malPass := srv.NewUser(t, "sidmal")
	bob, mal := srv.Raw(t, bobJID, bobPass, "raw"), srv.Raw(t, malJID, malPass, "raw")
	a.Start(t)
	cs := a.Chats()
	// The catch-up asks the account's features first; without an
	// archive it then fails: what the server said is known by then.
	waitSync(t, cs, "the catch-up failing for want of an archive", func(p app.SyncProgress) bool { return p.Err != nil })

	if err := bob.SendRaw(forged(a.JID, "b1", "bob's message", "forged-1")); err != nil {
		t.Fatal(err)
	}
	if err := mal.SendRaw(forged(a.JID, "m1", "mallory's message", "forged-1")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct{ peer, body string }{{bobJID, "bob's message"}, {malJID, "mallory's message"}} {
		msgs := waitHistory(t, cs, p.peer, p.body+" stored", hasBody(store.In, p.body))
		m, _ := findBody(msgs, store.In, p.body)
		if m.StanzaID != "" {
			t.Errorf("%s stored with the forged stanza-id %q", p.body, m.StanzaID)
		}
	}
}

// TestOwnServerStanzaIDAndTypelessMessage: the shared Prosody announces
// stanza-ids and sets them (over a forged one): a live message keeps the
// server's. A message without a type is stored as normal and shown.
func TestOwnServerStanzaIDAndTypelessMessage(t *testing.T) {
	srv := apptest.Shared(t)
	a := srv.NewChatAccount(t, "sidok")
	bobJID, bobPass := srv.NewUser(t, "sidokbob")
	bob := srv.Raw(t, bobJID, bobPass, "raw")
	ctx := chatCtx(t)
	// Archived while away: once the catch-up has stored it, it has asked
	// the account's features.
	a.WhileAway(t, ctx, bob, func() error { return bob.SendMessage(a.JID, "while away", "away-1") })
	a.Start(t)
	cs := a.Chats()
	waitHistory(t, cs, bobJID, "the catch-up", hasBody(store.In, "while away"))

	if err := bob.SendRaw(forged(a.JID, "live-1", "live one", "forged-2")); err != nil {
		t.Fatal(err)
	}
	if err := bob.SendRaw(fmt.Sprintf(`<message to='%s' id='typeless-1'><body>typeless</body></message>`, a.JID)); err != nil {
		t.Fatal(err)
	}
	msgs := waitHistory(t, cs, bobJID, "both live messages stored", func(msgs []store.Message) bool {
		return hasBody(store.In, "live one")(msgs) && hasBody(store.In, "typeless")(msgs)
	})
	if m, _ := findBody(msgs, store.In, "live one"); m.StanzaID == "" || m.StanzaID == "forged-2" {
		t.Errorf("the live message's stanza-id is %q; want the server's", m.StanzaID)
	}
	if m, _ := findBody(msgs, store.In, "typeless"); m.Type != store.TypeNormal || m.MessageID != "typeless-1" {
		t.Errorf("the message without a type: %+v; want type normal", m)
	}
}
