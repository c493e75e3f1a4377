// Tests of corrections (XEP-0308) and retractions (XEP-0424) going through
// the persistent outbox, against the real Prosody with slixmpp as the
// peer: changes made while offline are shown at once and go out after the
// next login, in order with the queued messages (a correction after the
// message it corrects); and a correction stored by a Parley that is then
// killed with SIGKILL (a child process) before the server acknowledged it
// reaches the peer exactly once after a restart, whether it had reached
// the server before the kill or not.
package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"parley/app"
	"parley/app/apptest"
	"parley/app/store"
	"parley/xmppclient"
	"parley/xmppclient/xmpptest"
)

// slixChat collects, in arrival order, the slixmpp peer's messages with a
// body from bare JID from (messages, corrections, retractions), up to and
// including the first one last matches.
func slixChat(t *testing.T, p *xmpptest.SlixPeer, from string, last func(xmpptest.PeerEvent) bool) []xmpptest.PeerEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), chatWait)
	defer cancel()
	var got []xmpptest.PeerEvent
	// WaitEvent offers each event to the predicate once, in order.
	_, err := p.WaitEvent(ctx, func(e xmpptest.PeerEvent) bool {
		if e.Event != "message" || e.Body == "" || bareOf(e.From) != from {
			return false
		}
		got = append(got, e)
		return last(e)
	})
	if err != nil {
		t.Fatalf("slixmpp %s: the last message never came: %v; got %s", p.JID, err, describeChat(got))
	}
	return got
}

// describeChat shows the messages slixChat collected.
func describeChat(evs []xmpptest.PeerEvent) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, " [%q", e.Body)
		if e.Replace != "" {
			fmt.Fprintf(&b, " replaces %s", e.Replace)
		}
		if e.Retract != "" {
			fmt.Fprintf(&b, " retracts %s", e.Retract)
		}
		fmt.Fprintf(&b, " id=%s]", e.ID)
	}
	return fmt.Sprintf("%d messages:%s", len(evs), b.String())
}

// chatEvent is what a test expects of one message at the peer.
type chatEvent struct {
	body, replace, retract string
}

func checkChat(t *testing.T, what string, got []xmpptest.PeerEvent, want []chatEvent) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		w := want[i]
		ok = got[i].Replace == w.replace && got[i].Retract == w.retract && (w.body == "" || got[i].Body == w.body)
	}
	if !ok {
		t.Fatalf("%s: the peer got %s; want %+v", what, describeChat(got), want)
	}
}

// TestEditWhileOfflineGoesOutAfterLogin: with no session, Correct and
// Retract succeed and show in the history at once; after the login the
// peer gets, in order: the message queued offline as first written, its
// correction, the correction of a message sent before, the retraction of a
// message retracted before it went out (which itself never goes out), and
// the message sent after all that.
func TestEditWhileOfflineGoesOutAfterLogin(t *testing.T) {
	srv := apptest.Shared(t)
	a := srv.NewChatAccount(t, "offedit")
	bobJID, bobPass := srv.NewUser(t, "slix")
	bob := srv.Slixmpp(t, bobJID, bobPass)
	ctx := chatCtx(t)

	a.Start(t)
	online, err := a.Chats().Send(ctx, bobJID, "helo, sent online")
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, a.Chats(), online.ID, store.StateSent, "the server acked it")
	a.Stop(t)

	// Offline: a service on the profile that has not logged in.
	svc := apptest.NewService(t, a.Dir, nil)
	cs := svc.Chats()
	queued, err := cs.Send(ctx, bobJID, "teh queued one")
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.Correct(ctx, bobJID, queued, "the queued one"); err != nil {
		t.Fatalf("correcting a queued message while offline: %v", err)
	}
	if err := cs.Correct(ctx, bobJID, online, "hello, sent online"); err != nil {
		t.Fatalf("correcting a sent message while offline: %v", err)
	}
	gone, err := cs.Send(ctx, bobJID, "never mind")
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.Retract(ctx, bobJID, gone); err != nil {
		t.Fatalf("retracting while offline: %v", err)
	}
	last, err := cs.Send(ctx, bobJID, "after the changes")
	if err != nil {
		t.Fatal(err)
	}
	waitMessage(t, cs, queued.ID, "the offline correction shown", func(m store.Message) bool {
		return m.Body == "the queued one" && m.Edited && m.State == store.StateQueued
	})
	waitMessage(t, cs, online.ID, "the offline correction of the sent message shown", func(m store.Message) bool {
		return m.Body == "hello, sent online" && m.Edited
	})
	waitMessage(t, cs, gone.ID, "the offline retraction shown", func(m store.Message) bool { return m.Retracted })
	if edits, err := cs.QueuedEdits(ctx); err != nil || len(edits) != 3 {
		t.Fatalf("queued edits while offline: %+v, %v; want the 3 changes", edits, err)
	}

	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := svc.Login(lctx, srv.Request(a.JID, a.Password)); err != nil {
		t.Fatal(err)
	}
	got := slixChat(t, bob, a.JID, func(e xmpptest.PeerEvent) bool { return e.Body == "after the changes" })
	checkChat(t, "after the login", got, []chatEvent{
		{body: "helo, sent online"},
		{body: "teh queued one"},
		{body: "the queued one", replace: queued.OriginID},
		{body: "hello, sent online", replace: online.OriginID},
		{retract: gone.OriginID},
		{body: "after the changes"},
	})
	waitState(t, cs, last.ID, store.StateSent, "the server acked the last message")
	// Acks come in the order things were written: the edits' came first.
	if edits, err := cs.QueuedEdits(ctx); err != nil || len(edits) != 0 {
		t.Fatalf("queued edits after the server acked them: %+v, %v", edits, err)
	}
	if m, err := cs.Message(ctx, gone.ID); err != nil || m.State != store.StateSent {
		t.Errorf("the message retracted before it went out: %+v, %v; want it out of the outbox (sent)", m, err)
	}
}

// ---- a correction across a SIGKILL: a child process runs Parley ----------

// editChildEnv, when set, makes TestEditOutboxSurvivesSIGKILL run as the
// child (see runEditChild).
const editChildEnv = "PARLEY_TEST_EDIT_CHILD"

// runEditChild logs in and answers commands on stdin, one per line, with
// lines "CHILD <answer>" on stdout:
//
//	send BODY      ChatService.Send -> "sent ORIGIN-ID"
//	correct BODY   ChatService.Correct of the last message sent -> "corrected"
//	edits          the corrections and retractions queued -> "edits N"
//
// It first says "online <full JID>" and runs until killed or stdin closes.
func runEditChild(t *testing.T, raw string) {
	var cfg chatChildConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatal(err)
	}
	say := func(format string, args ...any) { fmt.Printf("CHILD "+format+"\n", args...) }
	fail := func(err error) {
		say("error %v", err)
		t.Fatal(err)
	}
	svc, err := app.NewService(app.Options{ProfileDir: cfg.Dir, Keyring: apptest.NewMemorySecrets(), Version: "test",
		Tune: func(c *xmppclient.Config) {
			apptest.Tune(c)
			if cfg.NoAcks {
				c.AckEvery, c.AckInterval = 1<<30, 24*time.Hour
			}
		}})
	if err != nil {
		fail(err)
	}
	defer svc.Close()
	ctx := context.Background()
	if err := svc.Login(ctx, app.LoginRequest{JID: cfg.JID, Password: cfg.Password, Host: cfg.Host, Port: cfg.Port}); err != nil {
		fail(err)
	}
	cs := svc.Chats()
	say("online %s", svc.Status().JID)
	var lastSent store.Message
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		cmd, arg, _ := strings.Cut(sc.Text(), " ")
		switch cmd {
		case "send":
			if lastSent, err = cs.Send(ctx, cfg.Peer, arg); err != nil {
				fail(err)
			}
			say("sent %s", lastSent.OriginID)
		case "correct":
			if err := cs.Correct(ctx, cfg.Peer, lastSent, arg); err != nil {
				fail(err)
			}
			say("corrected")
		case "edits":
			edits, err := cs.QueuedEdits(ctx)
			if err != nil {
				fail(err)
			}
			say("edits %d", len(edits))
		default:
			say("error unknown command %q", sc.Text())
		}
	}
}

// startEditChild starts the child of TestEditOutboxSurvivesSIGKILL.
func startEditChild(t *testing.T, cfg chatChildConfig) *chatChild {
	t.Helper()
	return startChild(t, "TestEditOutboxSurvivesSIGKILL", editChildEnv, cfg)
}

// TestEditOutboxSurvivesSIGKILL: Parley (a child process, never asking
// the server for acks) sends a message, corrects it, and is killed with
// SIGKILL while the correction is still queued. A new service on the same
// profile makes the peer get the correction exactly once: in "held" it
// never reached the server (a silent break held it in the proxy), so it is
// sent after the restart's archive check; in "on the server" the peer got
// it before the kill, and the archive check finds it there and does not
// send it again.
func TestEditOutboxSurvivesSIGKILL(t *testing.T) {
	if raw := os.Getenv(editChildEnv); raw != "" {
		runEditChild(t, raw)
		return
	}
	t.Run("held", func(t *testing.T) { testEditAfterSIGKILL(t, false) })
	t.Run("on the server", func(t *testing.T) { testEditAfterSIGKILL(t, true) })
}

func testEditAfterSIGKILL(t *testing.T, reached bool) {
	srv := apptest.Shared(t)
	a := srv.NewChatAccount(t, "editcrash")
	bobJID, bobPass := srv.NewUser(t, "slix")
	bob := srv.Slixmpp(t, bobJID, bobPass)
	px, host, port := startProxy(t, srv)
	child := startEditChild(t, chatChildConfig{Dir: a.Dir, JID: a.JID, Password: a.Password, Host: host, Port: port,
		Peer: bobJID, NoAcks: true})
	child.await(t, "online")

	origin := strings.TrimPrefix(child.do(t, "send teh crash", "sent "), "sent ")
	waitSlix(t, bob, "the message", slixMessage("teh crash"))
	if !reached {
		px.Pause() // a silent break: the correction stays in the proxy
	}
	child.do(t, "correct the crash", "corrected")
	if reached {
		ev := waitSlix(t, bob, "the correction before the kill", slixMessage("the crash"))
		if ev.Replace != origin {
			t.Fatalf("the correction before the kill: %+v; want it to replace %s", ev, origin)
		}
	}
	if got := child.do(t, "edits", "edits"); got != "edits 1" {
		t.Fatalf("before the kill the child answers %q; want the correction queued (no acks)", got)
	}
	child.kill(t)
	px.Close() // resets both sides: held bytes never reach the server

	a.Start(t) // the same profile, directly to the server
	cs := a.Chats()
	sentinel, err := cs.Send(chatCtx(t), bobJID, "sentinel")
	if err != nil {
		t.Fatal(err)
	}
	got := slixChat(t, bob, a.JID, func(e xmpptest.PeerEvent) bool { return e.Body == "sentinel" })
	checkChat(t, "after the restart", got, []chatEvent{
		{body: "teh crash"},
		{body: "the crash", replace: origin},
		{body: "sentinel"},
	})
	waitState(t, cs, sentinel.ID, store.StateSent, "the server acked the sentinel")
	if edits, err := cs.QueuedEdits(chatCtx(t)); err != nil || len(edits) != 0 {
		t.Fatalf("queued edits after the restart: %+v, %v; want none", edits, err)
	}
	msgs, err := apptest.History(chatCtx(t), cs, bobJID)
	if err != nil {
		t.Fatal(err)
	}
	if got := apptest.Bodies(msgs); strings.Join(got, "|") != "the crash|sentinel" {
		t.Errorf("history after the restart: %s; want the corrected message and the sentinel", apptest.DescribeMessages(msgs))
	}
}
