// Tests of the outbox's promise where the server lacks something or
// refuses something: without XEP-0198 a message is sent once the server
// answered a barrier ping after it, not when written; without an archive
// what a lost session left unacknowledged is sent again with the same ids
// and the receiving Parley stores it once; when the archive cannot be
// checked nothing is sent again until a catch-up succeeds; a message the
// server closes the stream on twice ends failed and the queue moves on.
package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"parley/app"
	"parley/app/apptest"
	"parley/app/store"
	"parley/xmppclient"
	"parley/xmppclient/xmpptest"
)

// noAcks keeps the engine from asking for XEP-0198 acks: what the server
// gets stays unacknowledged, as if the session broke before the ack.
func noAcks(cfg *xmppclient.Config) { cfg.AckEvery, cfg.AckInterval = 1<<30, 24*time.Hour }

// restartServer crashes the server and starts it again: every session is
// forgotten, so the clients' next sessions are fresh (no resumption, no h).
func restartServer(t *testing.T, srv *apptest.Server) {
	t.Helper()
	if err := srv.Harness().Kill(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Harness().Restart(); err != nil {
		t.Fatal(err)
	}
}

// rawBodies returns the bodies a raw peer received from bare JID from.
func rawBodies(p *xmpptest.RawPeer, from string) []string {
	var out []string
	for _, m := range p.Received() {
		if bareOf(m.From) == from && m.Body != "" {
			out = append(out, m.Body)
		}
	}
	return out
}

// waitRaw waits until the raw peer got a message with body.
func waitRaw(t *testing.T, p *xmpptest.RawPeer, body string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), chatWait)
	defer cancel()
	if _, err := p.WaitFor(ctx, func(m xmpptest.RawMessage) bool { return m.Body == body }); err != nil {
		t.Fatalf("%q did not reach the peer: %v; it got %v", body, err, summarize(rawBodies(p, "")))
	}
}

// outBodies returns the bodies of the outgoing (dir) messages in msgs.
func dirBodies(msgs []store.Message, dir store.Direction) []string {
	var out []string
	for _, m := range msgs {
		if m.Direction == dir {
			out = append(out, m.Body)
		}
	}
	return out
}

// TestWithoutXEP0198SentMeansReceived: on a server without stream
// management a message written into a connection that silently broke is
// not shown sent (the barrier ping after it never got an answer); it goes
// out again on the next session and reaches the peer.
func TestWithoutXEP0198SentMeansReceived(t *testing.T) {
	srv := apptest.Start(t, xmpptest.ProsodyOptions{DisableSMacks: true})
	a := srv.NewChatAccount(t, "nosm")
	bobJID, bobPass := srv.NewUser(t, "nosmbob")
	bob := srv.Raw(t, bobJID, bobPass, "r")
	px, host, port := startProxy(t, srv)
	a.StartVia(t, host, port, nil)
	cs := a.Chats()
	ctx := chatCtx(t)
	waitSync(t, cs, "the first catch-up", func(p app.SyncProgress) bool { return !p.Active })

	first, err := cs.Send(ctx, bobJID, "first")
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, cs, first.ID, store.StateSent, "confirmed by a barrier ping")
	waitRaw(t, bob, "first")

	px.Pause() // a silent break
	void, err := cs.Send(ctx, bobJID, "into the void")
	if err != nil {
		t.Fatal(err)
	}
	if m, err := cs.Message(ctx, void.ID); err != nil || m.State != store.StateQueued {
		t.Fatalf("written into a dead connection: %+v, %v; want it still queued", m, err)
	}
	px.KillAll()
	px.Resume()
	if _, err := cs.Send(ctx, bobJID, "sentinel"); err != nil {
		t.Fatal(err)
	}
	waitRaw(t, bob, "sentinel")
	checkSequence(t, "messages at the peer", rawBodies(bob, a.JID), []string{"first", "into the void", "sentinel"})
	waitState(t, cs, void.ID, store.StateSent, "sent again on the next session and confirmed")
}

// TestRefusedResumptionCountMarksSent: a session is lost with three
// messages on the server but unacknowledged and a fourth that never got
// there; the server expires the session and refuses its resumption with
// the count it still knew (<failed h='N'/>). The three are sent without an
// archive check (the server keeps none here) and without a copy; only the
// fourth goes out again: the peer gets each once on the wire.
func TestRefusedResumptionCountMarksSent(t *testing.T) {
	srv := apptest.Start(t, xmpptest.ProsodyOptions{DisableMAM: true, SmacksHibernation: time.Second})
	a := srv.NewChatAccount(t, "failedh")
	bobJID, bobPass := srv.NewUser(t, "failedhbob")
	bob := srv.Raw(t, bobJID, bobPass, "r")
	px, host, port := startProxy(t, srv)
	a.StartVia(t, host, port, noAcks)
	cs := a.Chats()
	ctx := chatCtx(t)
	full := a.Svc.Status().JID
	// Another resource of the account sees the session expire.
	watcher := srv.Raw(t, a.JID, a.Password, "watcher")
	var early []store.Message
	for _, body := range []string{"one", "two", "three"} {
		m, err := cs.Send(ctx, bobJID, body)
		if err != nil {
			t.Fatal(err)
		}
		early = append(early, m)
	}
	waitRaw(t, bob, "three")
	px.Pause()
	if _, err := cs.Send(ctx, bobJID, "four"); err != nil {
		t.Fatal(err)
	}
	px.KillAll()
	wctx, cancel := context.WithTimeout(ctx, chatWait)
	defer cancel()
	if _, err := watcher.WaitElement(wctx, func(e xmpptest.RawElement) bool {
		return e.Name == "presence" && strings.Contains(e.Raw, "from='"+full+"'") && strings.Contains(e.Raw, "type='unavailable'")
	}); err != nil {
		t.Fatalf("the server did not expire the session: %v", err)
	}
	px.Resume()
	for _, m := range early {
		waitState(t, cs, m.ID, store.StateSent, "counted in <failed h/>")
	}
	if _, err := cs.Send(ctx, bobJID, "sentinel"); err != nil {
		t.Fatal(err)
	}
	waitRaw(t, bob, "sentinel")
	checkSequence(t, "messages at the peer", rawBodies(bob, a.JID), []string{"one", "two", "three", "four", "sentinel"})
}

// TestNoArchiveResendsWithTheSameIDs: a session is lost with two messages
// on the server but unacknowledged and a third that never got there; the
// server keeps no archive to check, so all three are sent again with
// their ids and origin-ids. The receiving Parley has the first two
// already and stores each of the three once. (On the wire the peer gets
// the first two twice: without an archive or an XEP-0198 count nothing
// tells what the server had; not sending would lose the third.)
func TestNoArchiveResendsWithTheSameIDs(t *testing.T) {
	srv := apptest.StartPrivate(t) // no archive
	a := srv.NewChatAccount(t, "noarch")
	b := srv.NewChatAccount(t, "noarchpeer")
	b.Start(t)
	px, host, port := startProxy(t, srv)
	a.StartVia(t, host, port, noAcks)
	cs := a.Chats()
	ctx := chatCtx(t)
	for _, body := range []string{"one", "two"} {
		if _, err := cs.Send(ctx, b.JID, body); err != nil {
			t.Fatal(err)
		}
	}
	waitHistory(t, b.Chats(), a.JID, "the first two at the peer", hasBody(store.In, "two"))
	px.Pause()
	if _, err := cs.Send(ctx, b.JID, "three"); err != nil {
		t.Fatal(err)
	}
	restartServer(t, srv)
	px.KillAll()
	px.Resume()

	if _, err := cs.Send(ctx, b.JID, "sentinel"); err != nil {
		t.Fatal(err)
	}
	msgs := waitHistory(t, b.Chats(), a.JID, "the sentinel at the peer", hasBody(store.In, "sentinel"))
	checkSequence(t, "messages stored by the peer", dirBodies(msgs, store.In), []string{"one", "two", "three", "sentinel"})
	own, err := apptest.History(ctx, cs, b.JID)
	if err != nil {
		t.Fatal(err)
	}
	checkSequence(t, "the sender's history", dirBodies(own, store.Out), []string{"one", "two", "three", "sentinel"})
}

// TestUnverifiedWaitForASuccessfulCatchUp: a session is lost with two
// messages on the server (and archived) but unacknowledged and a third
// that never got there; the next session's catch-up fails, so none of the
// three is sent (a later message goes out alone). The session after that
// reads the archive: the first two are marked sent without being sent
// again, the third goes out once.
func TestUnverifiedWaitForASuccessfulCatchUp(t *testing.T) {
	srv := apptest.Start(t, xmpptest.ProsodyOptions{})
	a := srv.NewChatAccount(t, "hold")
	bobJID, bobPass := srv.NewUser(t, "holdbob")
	bob := srv.Raw(t, bobJID, bobPass, "r")
	px, host, port := startProxy(t, srv)
	a.StartVia(t, host, port, noAcks)
	cs := a.Chats()
	ctx := chatCtx(t)
	waitSync(t, cs, "the first catch-up", func(p app.SyncProgress) bool { return !p.Active })
	var sent []store.Message
	for _, body := range []string{"one", "two"} {
		m, err := cs.Send(ctx, bobJID, body)
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, m)
	}
	waitRaw(t, bob, "two")
	px.Pause()
	three, err := cs.Send(ctx, bobJID, "three")
	if err != nil {
		t.Fatal(err)
	}
	sent = append(sent, three)

	restore := app.FailArchivePasses()
	defer restore()
	restartServer(t, srv)
	px.KillAll()
	px.Resume()
	bob = srv.Raw(t, bobJID, bobPass, "r2") // the restart closed bob's stream
	waitSync(t, cs, "the failed catch-up", func(p app.SyncProgress) bool { return !p.Active && p.Err != nil })
	if _, err := cs.Send(ctx, bobJID, "four"); err != nil {
		t.Fatal(err)
	}
	waitRaw(t, bob, "four")
	checkSequence(t, "messages at the peer while the archive cannot be checked", rawBodies(bob, a.JID), []string{"four"})
	for _, m := range sent {
		if cur, err := cs.Message(ctx, m.ID); err != nil || cur.State != store.StateQueued {
			t.Fatalf("%q: %+v, %v; want it still queued (unverified)", m.Body, cur, err)
		}
	}

	restore()
	restartServer(t, srv)
	bob = srv.Raw(t, bobJID, bobPass, "r3")
	waitSync(t, cs, "a catch-up that reads the archive", func(p app.SyncProgress) bool { return !p.Active && p.Err == nil })
	if _, err := cs.Send(ctx, bobJID, "sentinel"); err != nil {
		t.Fatal(err)
	}
	waitRaw(t, bob, "sentinel")
	checkSequence(t, "messages at the peer after the archive check", rawBodies(bob, a.JID), []string{"three", "sentinel"})
	for _, m := range sent[:2] {
		waitState(t, cs, m.ID, store.StateSent, "found in the archive")
	}
}

// TestServerRefusedMessageFailsAndTheQueueMovesOn: a message over the
// server's stanza size limit (smaller than Parley's own) makes it close
// the stream. The message is then written alone; when the server closes
// the stream on it again it is marked failed with the server's words, and
// the message queued after it is delivered, once.
func TestServerRefusedMessageFailsAndTheQueueMovesOn(t *testing.T) {
	const limit = 10 << 10
	srv := apptest.Start(t, xmpptest.ProsodyOptions{StanzaSizeLimit: limit})
	a := srv.NewChatAccount(t, "poison")
	bobJID, bobPass := srv.NewUser(t, "poisonbob")
	bob := srv.Raw(t, bobJID, bobPass, "r")
	a.Start(t)
	cs := a.Chats()
	ctx := chatCtx(t)
	waitSync(t, cs, "the first catch-up", func(p app.SyncProgress) bool { return !p.Active })
	if _, err := cs.Send(ctx, bobJID, "before"); err != nil {
		t.Fatal(err)
	}
	big, err := cs.Send(ctx, bobJID, strings.Repeat("y", 2*limit))
	if err != nil {
		t.Fatal(err)
	}
	after, err := cs.Send(ctx, bobJID, "after")
	if err != nil {
		t.Fatal(err)
	}
	m := waitMessage(t, cs, big.ID, "the big message failed", func(m store.Message) bool { return m.State == store.StateFailed })
	if !strings.Contains(m.Error, "too big") {
		t.Errorf("failed with %q; want the server's words (XML stanza is too big)", m.Error)
	}
	waitState(t, cs, after.ID, store.StateSent, "the message after it")
	if _, err := cs.Send(ctx, bobJID, "sentinel"); err != nil {
		t.Fatal(err)
	}
	waitRaw(t, bob, "sentinel")
	checkSequence(t, "messages at the peer", rawBodies(bob, a.JID), []string{"before", "after", "sentinel"})
	t.Logf("the big message: %s; %s", m.State, fmt.Sprint(m.Error))
}
