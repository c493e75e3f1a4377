// Test that a correction written to a session that was then lost, before
// the server acknowledged it, is not lost: the server restarts (no session
// to resume), and after the next login's archive check Parley sends the
// correction again, with the same id, and the peer gets it.
package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"parley/app/apptest"
	"parley/app/store"
	"parley/xmppclient/xmpptest"
)

func TestCorrectionLostWithTheSessionIsSentAgain(t *testing.T) {
	srv := apptest.Start(t, xmpptest.ProsodyOptions{})
	a := srv.NewChatAccount(t, "editlost")
	bobJID, bobPass := srv.NewUser(t, "editbob")
	px, host, port := startProxy(t, srv)
	a.StartVia(t, host, port, nil)
	cs := a.Chats()
	ctx := chatCtx(t)

	sent, err := cs.Send(ctx, bobJID, "teh original")
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, cs, sent.ID, store.StateSent, "the server acked the original")

	// The correction is written into a connection that no longer carries
	// anything, and the server then loses every session.
	px.Pause()
	if err := cs.Correct(ctx, bobJID, sent, "the original"); err != nil {
		t.Fatal(err)
	}
	if err := srv.Harness().Kill(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Harness().Restart(); err != nil {
		t.Fatal(err)
	}
	px.KillAll()
	px.Resume()

	bob := srv.Raw(t, bobJID, bobPass, "raw")
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	got, err := bob.WaitFor(wctx, func(m xmpptest.RawMessage) bool {
		return strings.Contains(m.Raw, "urn:xmpp:message-correct:0") && strings.Contains(m.Raw, sent.OriginID)
	})
	if err != nil {
		t.Fatalf("bob never got the correction: %v", err)
	}
	if got.Body != "the original" {
		t.Fatalf("the correction bob got: %q", got.Raw)
	}
}
