// Test of retractions in the older form of XEP-0424 (before 0.4: a
// XEP-0422 <apply-to> wrapping <retract xmlns='urn:xmpp:message-retract:0'/>),
// which deployed clients still send: sent by a real slixmpp peer, it
// retracts the sender's message, its fallback text is not shown as a
// message, and it cannot retract someone else's message.
package app_test

import (
	"strings"
	"testing"

	"parley/app/apptest"
	"parley/app/store"
)

func TestLegacyRetractionFromPeer(t *testing.T) {
	srv := apptest.Shared(t)
	a := srv.NewChatAccount(t, "legacyretract")
	a.Start(t)
	cs := a.Chats()
	bobJID, bobPass := srv.NewUser(t, "slix")
	bob := srv.Slixmpp(t, bobJID, bobPass)
	ctx := chatCtx(t)

	mine, err := cs.Send(ctx, bobJID, "mine to keep")
	if err != nil {
		t.Fatal(err)
	}
	waitSlix(t, bob, "Parley's message", slixMessage("mine to keep"))
	for _, s := range [][2]string{{"keep this", "old-1"}, {"take this back", "old-2"}} {
		if err := bob.Send(a.JID, s[0], s[1]); err != nil {
			t.Fatal(err)
		}
	}
	waitHistory(t, cs, bobJID, "slixmpp's messages", hasBody(store.In, "take this back"))
	if err := bob.RetractLegacy(a.JID, "old-2", ""); err != nil {
		t.Fatal(err)
	}
	// Only the sender may retract: this one names Parley's message.
	if err := bob.RetractLegacy(a.JID, mine.OriginID, ""); err != nil {
		t.Fatal(err)
	}
	if err := bob.Send(a.JID, "done", "old-3"); err != nil {
		t.Fatal(err)
	}
	msgs := waitHistory(t, cs, bobJID, "the retractions handled", hasBody(store.In, "done"))
	got := apptest.Bodies(msgs)
	want := []string{"mine to keep", "keep this", "", "done"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("conversation bodies %q, want %q (the legacy retraction applied, its fallback not a message)", got, want)
	}
	for _, m := range msgs {
		if m.MessageID == "old-2" && !m.Retracted {
			t.Errorf("the retracted message %+v is not marked retracted", m)
		}
	}
	if m, _ := cs.Message(ctx, mine.ID); m.Retracted || m.Body != "mine to keep" {
		t.Errorf("slixmpp retracted Parley's message with the legacy form: %+v", m)
	}
}
