// Tests of chained corrections against the real Prosody, with the raw
// client as the peer sending what older Gajim and Psi send: a correction
// of the previous correction (XEP-0308 naming the correction's id), live
// and from the archive, and a retraction naming a correction.
package app_test

import (
	"fmt"
	"testing"

	"parley/app/apptest"
	"parley/app/store"
)

// chain is v1, then c1 replacing m1 with v2, then c2 replacing c1 with v3
// (ids prefixed by p), from the raw peer to to.
func chain(to, p string) []string {
	return []string{
		fmt.Sprintf(`<message to='%s' id='%sm1' type='chat'><body>v1</body></message>`, to, p),
		fmt.Sprintf(`<message to='%s' id='%sc1' type='chat'><body>v2</body>`+
			`<replace xmlns='urn:xmpp:message-correct:0' id='%sm1'/></message>`, to, p, p),
		fmt.Sprintf(`<message to='%s' id='%sc2' type='chat'><body>v3</body>`+
			`<replace xmlns='urn:xmpp:message-correct:0' id='%sc1'/></message>`, to, p, p),
	}
}

// onlyBody reports whether msgs is one incoming message with body.
func onlyBody(body string) func([]store.Message) bool {
	return func(msgs []store.Message) bool {
		return len(msgs) == 1 && msgs[0].Direction == store.In && msgs[0].Body == body
	}
}

func TestChainedCorrections(t *testing.T) {
	srv := apptest.Shared(t)
	a := srv.NewChatAccount(t, "chain")
	bobJID, bobPass := srv.NewUser(t, "chainbob")
	carolJID, carolPass := srv.NewUser(t, "chaincarol")
	bob, carol := srv.Raw(t, bobJID, bobPass, "raw"), srv.Raw(t, carolJID, carolPass, "raw")
	ctx := chatCtx(t)

	// From the archive: carol's chain arrives while Parley is away.
	a.WhileAway(t, ctx, carol, func() error {
		for _, s := range chain(a.JID, "away-") {
			if err := carol.SendRaw(s); err != nil {
				return err
			}
		}
		return nil
	})
	a.Start(t)
	cs := a.Chats()
	waitHistory(t, cs, carolJID, "carol's chain from the archive showing v3", onlyBody("v3"))

	// Live: bob's chain, then a retraction naming the last correction.
	for _, s := range chain(a.JID, "live-") {
		if err := bob.SendRaw(s); err != nil {
			t.Fatal(err)
		}
	}
	msgs := waitHistory(t, cs, bobJID, "bob's chain showing v3", onlyBody("v3"))
	if m := msgs[0]; !m.Edited || m.OriginalBody != "v1" || m.MessageID != "live-m1" {
		t.Errorf("bob's message: %+v; want live-m1, edited, original v1", m)
	}
	if err := bob.SendRaw(fmt.Sprintf(`<message to='%s' id='live-r1' type='chat'><body>retracted</body>`+
		`<retract xmlns='urn:xmpp:message-retract:1' id='live-c2'/><fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:message-retract:1'/>`+
		`<store xmlns='urn:xmpp:hints'/></message>`, a.JID)); err != nil {
		t.Fatal(err)
	}
	waitHistory(t, cs, bobJID, "bob's message retracted by the id of its correction", func(msgs []store.Message) bool {
		return len(msgs) == 1 && msgs[0].Retracted
	})
}
