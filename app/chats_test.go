// Tests of the chat service against a real Prosody, with slixmpp (and the
// harness's raw client) as the other side: sending and receiving both ways
// with XEP-0184 receipts and XEP-0333 markers moving the stored state;
// XEP-0308 corrections and XEP-0424 retractions both ways; two Parley
// resources of one account kept in step by carbons, with forged carbons and
// archive results ignored; 1,000 messages archived while offline caught up
// in order, once, and only the new ones the next time; the outbox across a
// SIGKILL of the whole process (a child process is killed); and a connection
// killed while 200 messages are being sent.
package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"parley/app"
	"parley/app/apptest"
	"parley/app/media"
	"parley/app/store"
	"parley/xmppclient"
	"parley/xmppclient/xmpptest"
)

// chatWait bounds every wait of these tests.
const chatWait = 60 * time.Second

func chatCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// waitHistory waits until the whole conversation with peer satisfies ok
// and returns it.
func waitHistory(t *testing.T, cs *app.ChatService, peer, what string, ok func([]store.Message) bool) []store.Message {
	t.Helper()
	var last []store.Message
	apptest.WaitChats(t, cs, what, chatWait, func() (bool, string) {
		msgs, err := apptest.History(context.Background(), cs, peer)
		if err != nil {
			return false, err.Error()
		}
		last = msgs
		return ok(msgs), apptest.DescribeMessages(msgs)
	})
	return last
}

// hasBody reports whether msgs holds a message with body in direction dir.
func hasBody(dir store.Direction, body string) func([]store.Message) bool {
	return func(msgs []store.Message) bool {
		_, ok := findBody(msgs, dir, body)
		return ok
	}
}

func findBody(msgs []store.Message, dir store.Direction, body string) (store.Message, bool) {
	for _, m := range msgs {
		if m.Direction == dir && m.Body == body {
			return m, true
		}
	}
	return store.Message{}, false
}

// waitMessage waits until stored message id satisfies ok.
func waitMessage(t *testing.T, cs *app.ChatService, id int64, what string, ok func(store.Message) bool) store.Message {
	t.Helper()
	var m store.Message
	apptest.WaitChats(t, cs, what, chatWait, func() (bool, string) {
		var err error
		if m, err = cs.Message(context.Background(), id); err != nil {
			return false, err.Error()
		}
		return ok(m), fmt.Sprintf("%+v", m)
	})
	return m
}

func waitState(t *testing.T, cs *app.ChatService, id int64, want store.State, why string) {
	t.Helper()
	waitMessage(t, cs, id, fmt.Sprintf("message %d %s (%s)", id, want, why), func(m store.Message) bool { return m.State == want })
}

// waitSync waits until the archive catch-up satisfies ok.
func waitSync(t *testing.T, cs *app.ChatService, what string, ok func(app.SyncProgress) bool) app.SyncProgress {
	t.Helper()
	apptest.WaitChats(t, cs, what, chatWait, func() (bool, string) {
		p := cs.Sync()
		return ok(p), fmt.Sprintf("%+v", p)
	})
	return cs.Sync()
}

// waitSlix waits for an event of the slixmpp peer.
func waitSlix(t *testing.T, p *xmpptest.SlixPeer, what string, ok func(xmpptest.PeerEvent) bool) xmpptest.PeerEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), chatWait)
	defer cancel()
	ev, err := p.WaitEvent(ctx, ok)
	if err != nil {
		t.Fatalf("slixmpp %s: %s: %v", p.JID, what, err)
	}
	return ev
}

// slixHas reports whether the slixmpp peer has had an event matching ok
// so far (it does not wait).
func slixHas(p *xmpptest.SlixPeer, ok func(xmpptest.PeerEvent) bool) (xmpptest.PeerEvent, bool) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ev, err := p.WaitEvent(ctx, ok)
	return ev, err == nil
}

func slixMessage(body string) func(xmpptest.PeerEvent) bool {
	return func(e xmpptest.PeerEvent) bool { return e.Event == "message" && e.Body == body }
}

// collectBodies reads the peer's messages from bare JID from until one has
// the body last, and returns the bodies before it, in arrival order.
func collectBodies(t *testing.T, msgs <-chan xmpptest.PeerMessage, from, last string) []string {
	t.Helper()
	var out []string
	deadline := time.NewTimer(chatWait)
	defer deadline.Stop()
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				t.Fatalf("the peer exited before %q arrived; got %d messages", last, len(out))
			}
			if bare, _, _ := strings.Cut(m.From, "/"); bare != from || m.Body == "" {
				continue
			}
			if m.Body == last {
				return out
			}
			out = append(out, m.Body)
		case <-deadline.C:
			t.Fatalf("%q never arrived at the peer within %v; got %d messages: %s", last, chatWait, len(out), summarize(out))
		}
	}
}

// checkSequence checks that got is exactly want: each once, in order.
func checkSequence(t *testing.T, what string, got, want []string) {
	t.Helper()
	count := map[string]int{}
	for _, b := range got {
		count[b]++
	}
	var dups, missing []string
	for _, w := range want {
		if count[w] == 0 {
			missing = append(missing, w)
		}
	}
	for b, n := range count {
		if n > 1 {
			dups = append(dups, fmt.Sprintf("%s x%d", b, n))
		}
	}
	if len(dups) > 0 || len(missing) > 0 || len(got) != len(want) {
		t.Fatalf("%s: got %d, want %d; duplicates %v; missing %s", what, len(got), len(want), dups, summarize(missing))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: out of order at %d: got %q, want %q (around: %s)", what, i, got[i], want[i],
				summarize(got[max(0, i-3):min(len(got), i+4)]))
		}
	}
}

func summarize(ss []string) string {
	if len(ss) <= 12 {
		return fmt.Sprint(ss)
	}
	return fmt.Sprintf("%v … %v (%d)", ss[:6], ss[len(ss)-6:], len(ss))
}

// numbered returns prefix-001 … prefix-n (digits wide).
func numbered(prefix string, from, n, digits int) []string {
	out := make([]string, 0, n)
	for i := from; i < from+n; i++ {
		out = append(out, fmt.Sprintf("%s-%0*d", prefix, digits, i))
	}
	return out
}

func bareOf(full string) string {
	bare, _, _ := strings.Cut(full, "/")
	return bare
}

// TestChatSendReceiveWithSlixmpp: a message each way; the receipt and the
// displayed marker from slixmpp move Parley's message from sent to
// delivered to read; Parley answers slixmpp's receipt request, counts the
// message unread, and sends a displayed marker when it is marked read.
func TestChatSendReceiveWithSlixmpp(t *testing.T) {
	srv := apptest.Shared(t)
	a := srv.NewChatAccount(t, "chat")
	a.Start(t)
	cs := a.Chats()
	bobJID, bobPass := srv.NewUser(t, "slix")
	bob := srv.Slixmpp(t, bobJID, bobPass)
	ctx := chatCtx(t)
	// Receipts and markers go only to those who may see our presence.
	letSeePresence(t, a, bobJID, func() error { return bob.Subscribe(a.JID, "", "") })

	sent, err := cs.Send(ctx, bobJID, "hello from Parley")
	if err != nil {
		t.Fatal(err)
	}
	if sent.State != store.StateQueued || sent.ID == 0 || sent.OriginID == "" {
		t.Fatalf("Send returned %+v, want a stored message in state queued with an origin-id", sent)
	}
	ev := waitSlix(t, bob, "Parley's message", slixMessage("hello from Parley"))
	if ev.OriginID != sent.OriginID || ev.ID != sent.MessageID || !ev.ReceiptRequest || !ev.Markable || ev.Type != "chat" {
		t.Errorf("slixmpp got %+v; want type chat, id and origin-id %s, a receipt request and markable", ev, sent.OriginID)
	}
	if bareOf(ev.From) != a.JID {
		t.Errorf("the message came from %s, want %s", ev.From, a.JID)
	}
	waitState(t, cs, sent.ID, store.StateSent, "the server acked it")
	if err := bob.Receipt(ev.From, ev.ID); err != nil {
		t.Fatal(err)
	}
	waitState(t, cs, sent.ID, store.StateDelivered, "slixmpp's receipt")
	if err := bob.Marker(ev.From, ev.ID, "displayed"); err != nil {
		t.Fatal(err)
	}
	waitState(t, cs, sent.ID, store.StateRead, "slixmpp's displayed marker")

	// The other way, asking for a receipt and markers.
	if err := bob.SendOpts(a.JID, "hello from slixmpp", "slix-hello-1", true, true); err != nil {
		t.Fatal(err)
	}
	msgs := waitHistory(t, cs, bobJID, "slixmpp's message stored", hasBody(store.In, "hello from slixmpp"))
	in, _ := findBody(msgs, store.In, "hello from slixmpp")
	if in.MessageID != "slix-hello-1" || in.Sender != bob.JID || in.State != store.StateNone {
		t.Errorf("stored %+v; want id slix-hello-1 from %s, no delivery state", in, bob.JID)
	}
	if len(msgs) != 2 || msgs[0].ID != sent.ID {
		t.Errorf("the conversation is %s; want Parley's message then slixmpp's", apptest.DescribeMessages(msgs))
	}
	waitSlix(t, bob, "Parley's receipt for slix-hello-1", func(e xmpptest.PeerEvent) bool {
		return e.Event == "message" && e.ReceiptFor == "slix-hello-1"
	})
	convs, err := cs.Conversations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(convs) != 1 || convs[0].Peer != bobJID || convs[0].Unread != 1 || convs[0].Last == nil || convs[0].Last.Body != "hello from slixmpp" {
		t.Fatalf("conversations: %+v; want one with %s, 1 unread, last message slixmpp's", convs, bobJID)
	}
	if err := cs.MarkRead(ctx, bobJID, in); err != nil {
		t.Fatal(err)
	}
	waitSlix(t, bob, "Parley's displayed marker for slix-hello-1", func(e xmpptest.PeerEvent) bool {
		return e.Event == "message" && e.Marker == "displayed" && e.MarkerFor == "slix-hello-1"
	})
	if n, err := cs.UnreadTotal(ctx); err != nil || n != 0 {
		t.Errorf("unread after MarkRead: %d, %v; want 0", n, err)
	}
}

// TestChatCorrectionAndRetraction: Parley's corrections and retractions
// reach slixmpp naming the original's id; slixmpp's are applied to
// Parley's history; slixmpp cannot retract or correct Parley's messages.
func TestChatCorrectionAndRetraction(t *testing.T) {
	srv := apptest.Shared(t)
	a := srv.NewChatAccount(t, "edit")
	a.Start(t)
	cs := a.Chats()
	bobJID, bobPass := srv.NewUser(t, "slix")
	bob := srv.Slixmpp(t, bobJID, bobPass)
	ctx := chatCtx(t)

	// From Parley.
	typo, err := cs.Send(ctx, bobJID, "teh cat")
	if err != nil {
		t.Fatal(err)
	}
	waitSlix(t, bob, "the typo", slixMessage("teh cat"))
	if err := cs.Correct(ctx, bobJID, typo, "the cat"); err != nil {
		t.Fatal(err)
	}
	ev := waitSlix(t, bob, "the correction", slixMessage("the cat"))
	if ev.Replace != typo.OriginID {
		t.Errorf("slixmpp got the correction %+v; want it to replace %s", ev, typo.OriginID)
	}
	m := waitMessage(t, cs, typo.ID, "the correction stored", func(m store.Message) bool { return m.Body == "the cat" })
	if !m.Edited || m.OriginalBody != "teh cat" {
		t.Errorf("corrected message %+v; want edited, original body kept", m)
	}
	oops, err := cs.Send(ctx, bobJID, "oops, wrong chat")
	if err != nil {
		t.Fatal(err)
	}
	waitSlix(t, bob, "the message to retract", slixMessage("oops, wrong chat"))
	if err := cs.Retract(ctx, bobJID, oops); err != nil {
		t.Fatal(err)
	}
	ev = waitSlix(t, bob, "the retraction", func(e xmpptest.PeerEvent) bool { return e.Event == "message" && e.Retract != "" })
	if ev.Retract != oops.OriginID || ev.Body == "" {
		t.Errorf("slixmpp got the retraction %+v; want it to retract %s with a fallback body", ev, oops.OriginID)
	}
	waitMessage(t, cs, oops.ID, "the retraction stored", func(m store.Message) bool { return m.Retracted && m.Body == "" })

	// From slixmpp.
	for _, s := range [][2]string{{"helo", "slix-e1"}, {"a secret", "slix-e2"}} {
		if err := bob.Send(a.JID, s[0], s[1]); err != nil {
			t.Fatal(err)
		}
	}
	waitHistory(t, cs, bobJID, "slixmpp's messages", hasBody(store.In, "a secret"))
	if err := bob.Correct(a.JID, "slix-e1", "hello", ""); err != nil {
		t.Fatal(err)
	}
	if err := bob.Retract(a.JID, "slix-e2", ""); err != nil {
		t.Fatal(err)
	}
	// slixmpp tries to retract and correct Parley's messages: only their sender may.
	if err := bob.Retract(a.JID, typo.OriginID, ""); err != nil {
		t.Fatal(err)
	}
	if err := bob.Correct(a.JID, typo.OriginID, "hijacked", ""); err != nil {
		t.Fatal(err)
	}
	if err := bob.Send(a.JID, "done", "slix-e3"); err != nil {
		t.Fatal(err)
	}
	msgs := waitHistory(t, cs, bobJID, "slixmpp's changes applied", hasBody(store.In, "done"))
	var hello, secret store.Message
	for _, m := range msgs {
		switch m.MessageID {
		case "slix-e1":
			hello = m
		case "slix-e2":
			secret = m
		}
	}
	if hello.Body != "hello" || !hello.Edited || hello.OriginalBody != "helo" {
		t.Errorf("slixmpp's correction: %+v; want body hello, edited, original helo", hello)
	}
	if !secret.Retracted || secret.Body != "" {
		t.Errorf("slixmpp's retraction: %+v; want retracted, body cleared", secret)
	}
	got := apptest.Bodies(msgs)
	want := []string{"the cat", "", "hello", "", "done"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("conversation bodies %q, want %q (changes are not messages of their own; Parley's untouched by slixmpp)", got, want)
	}
	if m, _ := cs.Message(ctx, typo.ID); m.Retracted || m.Body != "the cat" {
		t.Errorf("slixmpp changed Parley's message: %+v", m)
	}
}

// TestChatCarbonsBetweenTwoResources: two Parley installs of one account
// (two services, two profiles): what one sends, and what the peer sends
// to the other's full JID, shows in both histories; carbons and an archive
// result forged by another user change nothing.
func TestChatCarbonsBetweenTwoResources(t *testing.T) {
	srv := apptest.Shared(t)
	one := srv.NewChatAccount(t, "carbons")
	two := one.OtherResource(t)
	one.Start(t)
	two.Start(t)
	bobJID, bobPass := srv.NewUser(t, "slix")
	bob := srv.Slixmpp(t, bobJID, bobPass)
	ctx := chatCtx(t)
	letSeePresence(t, one, bobJID, func() error { return bob.Subscribe(one.JID, "", "") }) // for one's receipt
	oneFull, twoFull := one.Svc.Status().JID, two.Svc.Status().JID
	if oneFull == twoFull || bareOf(oneFull) != one.JID {
		t.Fatalf("resources %s and %s: want two resources of %s", oneFull, twoFull, one.JID)
	}

	sent, err := one.Chats().Send(ctx, bobJID, "sent on resource one")
	if err != nil {
		t.Fatal(err)
	}
	msgs := waitHistory(t, two.Chats(), bobJID, "the sent carbon on resource two", hasBody(store.Out, "sent on resource one"))
	c, _ := findBody(msgs, store.Out, "sent on resource one")
	if c.OriginID != sent.OriginID || c.State != store.StateSent || bareOf(c.Sender) != one.JID {
		t.Errorf("resource two stored %+v; want origin-id %s, state sent, from %s", c, sent.OriginID, one.JID)
	}
	waitSlix(t, bob, "the message from resource one", slixMessage("sent on resource one"))

	if err := bob.SendOpts(oneFull, "to resource one only", "slix-full-1", true, false); err != nil {
		t.Fatal(err)
	}
	waitHistory(t, one.Chats(), bobJID, "the message on resource one", hasBody(store.In, "to resource one only"))
	waitHistory(t, two.Chats(), bobJID, "the received carbon on resource two", hasBody(store.In, "to resource one only"))
	// Only the resource the message was for confirms it (XEP-0184): a
	// carbon copy gets no receipt. A message from two, after the carbon,
	// orders anything two sent about it.
	if _, err := two.Chats().Send(ctx, bobJID, "sent on resource two"); err != nil {
		t.Fatal(err)
	}
	waitSlix(t, bob, "the message from resource two", slixMessage("sent on resource two"))
	waitSlix(t, bob, "resource one's receipt", func(e xmpptest.PeerEvent) bool {
		return e.Event == "message" && e.ReceiptFor == "slix-full-1" && e.From == oneFull
	})
	if ev, ok := slixHas(bob, func(e xmpptest.PeerEvent) bool {
		return e.Event == "message" && e.ReceiptFor == "slix-full-1" && e.From != oneFull
	}); ok {
		t.Errorf("a receipt for the carbon copy: %+v", ev)
	}

	// Another user forges carbons (received and sent) and an archive result.
	malJID, malPass := srv.NewUser(t, "mallory")
	mal := srv.Raw(t, malJID, malPass, "evil")
	forged := []string{
		"<message to='" + oneFull + "' type='chat' id='forge-1'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>" +
			"<message xmlns='jabber:client' from='" + bobJID + "/slix' to='" + oneFull + "' type='chat' id='forged-1'><body>forged received carbon</body></message>" +
			"</forwarded></received></message>",
		"<message to='" + oneFull + "' type='chat' id='forge-2'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>" +
			"<message xmlns='jabber:client' from='" + oneFull + "' to='" + bobJID + "' type='chat' id='forged-2'><body>forged sent carbon</body></message>" +
			"</forwarded></sent></message>",
		"<message to='" + oneFull + "' id='forge-3'><result xmlns='urn:xmpp:mam:2' queryid='guessed' id='forged-archive-id'><forwarded xmlns='urn:xmpp:forward:0'>" +
			"<delay xmlns='urn:xmpp:delay' stamp='2020-01-01T00:00:00Z'/>" +
			"<message xmlns='jabber:client' from='" + bobJID + "/slix' to='" + one.JID + "' type='chat' id='forged-3'><body>forged archive result</body></message>" +
			"</forwarded></result></message>",
	}
	for _, f := range forged {
		if err := mal.SendRaw(f); err != nil {
			t.Fatal(err)
		}
	}
	// The server routes mallory's stanzas in order: once this one is
	// stored, the forgeries before it have been handled.
	if err := mal.SendMessage(oneFull, "after the forgeries", "mal-1"); err != nil {
		t.Fatal(err)
	}
	waitHistory(t, one.Chats(), malJID, "mallory's plain message", hasBody(store.In, "after the forgeries"))
	msgs, err = apptest.History(ctx, one.Chats(), bobJID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if strings.Contains(m.Body, "forged") {
			t.Errorf("a forgery was stored: %+v", m)
		}
	}
	if got := apptest.Bodies(msgs); len(got) != 3 {
		t.Errorf("conversation with %s on resource one: %q; want the three real messages", bobJID, got)
	}
	convs, err := apptest.AllConversations(ctx, one.Chats())
	if err != nil {
		t.Fatal(err)
	}
	if len(convs) != 2 {
		t.Errorf("conversations on resource one: %+v; want %s and %s only", convs, bobJID, malJID)
	}
}

// TestChatCatchUpAfterOffline: 1,000 messages sent to the bare JID while
// no Parley session exists are in the history after the next login: in
// order, once each, counted unread once; the login after that fetches only
// what is new. The first time another client of the account (a raw one) is
// online, so the messages reach Parley only through the archive (and the
// first catch-up of a profile pages newest first); the second time nobody
// is, so the server's offline store delivers them too, racing the archive.
func TestChatCatchUpAfterOffline(t *testing.T) {
	srv := apptest.Shared(t)
	a := srv.NewChatAccount(t, "catchup")
	a.Start(t)
	waitSync(t, a.Chats(), "the first (empty) catch-up", func(p app.SyncProgress) bool { return !p.Active && p.Err == nil })
	bobJID, bobPass := srv.NewUser(t, "raw")
	a.Befriend(t, bobJID) // counted unread: a contact's messages, not a request
	a.Stop(t)
	bob := srv.Raw(t, bobJID, bobPass, "raw")
	ctx := chatCtx(t)

	offline := func(n int, prefix, sentinel string, otherClient bool) {
		t.Helper()
		if otherClient {
			other := srv.Raw(t, a.JID, a.Password, "other")
			defer other.Close()
		}
		if err := bob.SendMessages(a.JID, n, prefix); err != nil {
			t.Fatal(err)
		}
		if err := apptest.PingSync(ctx, bob, srv.Domain); err != nil {
			t.Fatal(err)
		}
		a.Start(t)
		p := waitSync(t, a.Chats(), fmt.Sprintf("catch-up of %d", n), func(p app.SyncProgress) bool { return !p.Active && p.Fetched >= n })
		if p.Err != nil {
			t.Fatalf("catch-up failed: %v", p.Err)
		}
		// The server sends the offline copies right after the initial
		// presence; a live message after them orders them all.
		if err := bob.SendMessage(a.JID, sentinel, sentinel); err != nil {
			t.Fatal(err)
		}
		waitHistory(t, a.Chats(), bobJID, sentinel+" stored", hasBody(store.In, sentinel))
		if err := a.Chats().Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}

	offline(1000, "away", "sentinel-1", true)
	want := append(numbered("away", 1, 1000, 6), "sentinel-1")
	msgs, err := apptest.History(ctx, a.Chats(), bobJID)
	if err != nil {
		t.Fatal(err)
	}
	checkSequence(t, "history after the first catch-up", apptest.Bodies(msgs), want)
	if n, _ := a.Chats().UnreadTotal(ctx); n != len(want) {
		t.Errorf("unread total %d, want %d", n, len(want))
	}
	a.Stop(t)

	offline(300, "later", "sentinel-2", false)
	if p := a.Chats().Sync(); p.Fetched != 301 {
		t.Errorf("the second catch-up fetched %d messages; want only the 301 new ones (sentinel-1 and 300)", p.Fetched)
	}
	want = append(append(want, numbered("later", 1, 300, 6)...), "sentinel-2")
	if msgs, err = apptest.History(ctx, a.Chats(), bobJID); err != nil {
		t.Fatal(err)
	}
	checkSequence(t, "history after the second catch-up", apptest.Bodies(msgs), want)
	if n, _ := a.Chats().UnreadTotal(ctx); n != len(want) {
		t.Errorf("unread total %d, want %d", n, len(want))
	}
}

// ---- the outbox across a SIGKILL: a child process runs Parley -------------

// chatChildEnv, when set, makes TestChatOutboxSurvivesSIGKILL run as the
// child: an app.Service driven by lines on stdin (see runChatChild).
const chatChildEnv = "PARLEY_TEST_CHAT_CHILD"

type chatChildConfig struct {
	Dir, JID, Password, Host, Peer string
	Port                           int
	// NoAcks: never ask the server for XEP-0198 acks, so messages the
	// server has stay queued in the outbox (a crash before the ack).
	NoAcks bool
}

// runChatChild logs in and answers commands on stdin, one per line, with
// lines "CHILD <answer>" on stdout:
//
//	send N PREFIX   ChatService.Send of PREFIX-001 … PREFIX-N -> "sent N"
//	file PATH       ChatService.SendFile of PATH, once its upload has started -> "uploading ID"
//	states          the delivery states of the conversation -> "states queued=Q sent=S other=O"
//
// It first says "online <full JID>". It runs until killed, or until stdin
// closes (the parent went away).
func runChatChild(t *testing.T, raw string) {
	var cfg chatChildConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatal(err)
	}
	say := func(format string, args ...any) { fmt.Printf("CHILD "+format+"\n", args...) }
	svc, err := app.NewService(app.Options{ProfileDir: cfg.Dir, Keyring: apptest.NewMemorySecrets(), Version: "test",
		Tune: func(c *xmppclient.Config) {
			apptest.Tune(c)
			if cfg.NoAcks {
				c.AckEvery, c.AckInterval = 1<<30, 24*time.Hour
			}
		}})
	if err != nil {
		say("error %v", err)
		t.Fatal(err)
	}
	defer svc.Close()
	ctx := context.Background()
	if err := svc.Login(ctx, app.LoginRequest{JID: cfg.JID, Password: cfg.Password, Host: cfg.Host, Port: cfg.Port}); err != nil {
		say("error %v", err)
		t.Fatal(err)
	}
	cs := svc.Chats()
	say("online %s", svc.Status().JID)
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 3 && f[0] == "send":
			n, _ := strconv.Atoi(f[1])
			for _, body := range numbered(f[2], 1, n, 3) {
				if _, err := cs.Send(ctx, cfg.Peer, body); err != nil {
					say("error %v", err)
					t.Fatal(err)
				}
			}
			say("sent %d", n)
		case len(f) == 2 && f[0] == "file":
			// Answered once its upload has started (the parent kills the
			// child then): the first transfer that moved.
			started := make(chan struct{})
			var once sync.Once
			unsub := cs.Subscribe(func(ch app.ChatChange) {
				for _, tr := range ch.Transfers {
					if tr.Done > 0 {
						once.Do(func() { close(started) })
					}
				}
			})
			m, err := cs.SendFile(ctx, cfg.Peer, f[1], media.PrepareOptions{})
			if err != nil {
				say("error %v", err)
				t.Fatal(err)
			}
			<-started
			unsub()
			say("uploading %d", m.ID)
		case len(f) == 1 && f[0] == "states":
			msgs, err := apptest.History(ctx, cs, cfg.Peer)
			if err != nil {
				say("error %v", err)
				t.Fatal(err)
			}
			var queued, sent, other int
			for _, m := range msgs {
				switch m.State {
				case store.StateQueued:
					queued++
				case store.StateSent:
					sent++
				default:
					other++
				}
			}
			say("states queued=%d sent=%d other=%d", queued, sent, other)
		default:
			say("error unknown command %q", sc.Text())
		}
	}
}

// chatChild is the parent's handle on the child process.
type chatChild struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	stderr *lockedBuffer
	exited chan struct{}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startChatChild(t *testing.T, cfg chatChildConfig) *chatChild {
	t.Helper()
	return startChild(t, "TestChatOutboxSurvivesSIGKILL", chatChildEnv, cfg)
}

// startChild runs this test binary's test (which plays the child when env
// holds its configuration) with cfg, reading its "CHILD " answers.
func startChild(t *testing.T, test, env string, cfg chatChildConfig) *chatChild {
	t.Helper()
	raw, _ := json.Marshal(cfg)
	c := &chatChild{lines: make(chan string, 64), stderr: &lockedBuffer{}, exited: make(chan struct{})}
	c.cmd = exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1", "-test.timeout=5m")
	c.cmd.Env = append(os.Environ(), env+"="+string(raw))
	c.cmd.Stderr = c.stderr
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out lockedBuffer
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if rest, ok := strings.CutPrefix(line, "CHILD "); ok {
				c.lines <- rest
			} else {
				out.Write([]byte(line + "\n"))
			}
		}
		close(c.lines)
		_ = c.cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		_ = c.cmd.Process.Kill()
		<-c.exited
		if t.Failed() {
			t.Logf("child stdout:\n%s\nchild stderr:\n%s", out.String(), c.stderr.String())
		}
	})
	return c
}

// await returns the next answer, which must start with want.
func (c *chatChild) await(t *testing.T, want string) string {
	t.Helper()
	select {
	case line, ok := <-c.lines:
		if !ok {
			t.Fatalf("the child exited before answering %q; stderr:\n%s", want, c.stderr.String())
		}
		if !strings.HasPrefix(line, want) {
			t.Fatalf("the child answered %q, want %q", line, want)
		}
		return line
	case <-time.After(chatWait):
		t.Fatalf("the child did not answer %q within %v", want, chatWait)
	}
	return ""
}

// do sends a command and waits for its answer.
func (c *chatChild) do(t *testing.T, cmd, want string) string {
	t.Helper()
	if _, err := io.WriteString(c.stdin, cmd+"\n"); err != nil {
		t.Fatal(err)
	}
	return c.await(t, want)
}

// kill SIGKILLs the child and waits until it is gone.
func (c *chatChild) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.exited:
	case <-time.After(chatWait):
		t.Fatal("the child did not die")
	}
	if ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the child ended with %v, not by SIGKILL", c.cmd.ProcessState)
	}
}

func startProxy(t *testing.T, srv *apptest.Server) (*xmpptest.Proxy, string, int) {
	t.Helper()
	px, err := xmpptest.StartProxy(srv.Harness().C2SAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { px.Close() })
	host, portStr, _ := net.SplitHostPort(px.Addr())
	port, _ := strconv.Atoi(portStr)
	return px, host, port
}

// TestChatOutboxSurvivesSIGKILL: Parley (a child process) stores messages
// and is killed with SIGKILL before the server acknowledged any of them;
// a new service on the same profile delivers each exactly once and marks
// them sent. In "held", none reached the server (a silent break held them
// in the proxy); in "some on the server", the first ones did reach the
// server (and the peer) before the break, so the restart must find them in
// the archive instead of sending them again. In "no archive", the server
// keeps none, so nothing tells which ones it got: all are sent again with
// their ids and origin-ids, and the test asserts what the receiving client
// shows (a Parley, which drops copies by origin-id): each stored once. It
// cannot assert one stanza each on the wire, which no protocol promises
// without an archive or an XEP-0198 count.
func TestChatOutboxSurvivesSIGKILL(t *testing.T) {
	if raw := os.Getenv(chatChildEnv); raw != "" {
		runChatChild(t, raw)
		return
	}
	t.Run("held", func(t *testing.T) { testOutboxAfterSIGKILL(t, 0, 10) })
	t.Run("some on the server", func(t *testing.T) { testOutboxAfterSIGKILL(t, 10, 10) })
	t.Run("no archive", func(t *testing.T) { testOutboxAfterSIGKILLNoArchive(t, 10, 10) })
}

func testOutboxAfterSIGKILLNoArchive(t *testing.T, onServer, held int) {
	srv := apptest.StartPrivate(t) // MAM off
	a := srv.NewChatAccount(t, "crash")
	b := srv.NewChatAccount(t, "crashpeer")
	b.Start(t)
	px, host, port := startProxy(t, srv)
	child := startChatChild(t, chatChildConfig{Dir: a.Dir, JID: a.JID, Password: a.Password, Host: host, Port: port,
		Peer: b.JID, NoAcks: true})
	child.await(t, "online")
	child.do(t, fmt.Sprintf("send %d early", onServer), "sent")
	want := numbered("early", 1, onServer, 3)
	last := want[len(want)-1]
	waitHistory(t, b.Chats(), a.JID, "the early messages at the peer", hasBody(store.In, last))
	px.Pause()
	child.do(t, fmt.Sprintf("send %d held", held), "sent")
	// None acked; the early ones stay queued unless the peer's receipts
	// moved them to delivered (Parley sends none to a stranger: XEP-0184
	// §8), and queued ones are all sent again after the restart.
	st := child.do(t, "states", "states")
	var queued, sent, other int
	if _, err := fmt.Sscanf(st, "states queued=%d sent=%d other=%d", &queued, &sent, &other); err != nil ||
		sent != 0 || queued+other != onServer+held || queued < held {
		t.Fatalf("before the kill the child's outbox is %q; want none sent (no acks), the %d held queued", st, held)
	}
	t.Logf("before the kill: %s", st)
	child.kill(t)
	px.Close()

	a.Start(t)
	cs := a.Chats()
	total := onServer + held
	own := waitHistory(t, cs, b.JID, "every message sent (or delivered)", func(msgs []store.Message) bool {
		n := 0
		for _, m := range msgs {
			if m.Direction == store.Out && m.State != store.StateQueued && m.State != store.StateFailed {
				n++
			}
		}
		return n == total
	})
	if len(own) != total {
		t.Errorf("history after the restart: %s; want the %d messages once", apptest.DescribeMessages(own), total)
	}
	if _, err := cs.Send(chatCtx(t), b.JID, "sentinel"); err != nil {
		t.Fatal(err)
	}
	want = append(append(want, numbered("held", 1, held, 3)...), "sentinel")
	msgs := waitHistory(t, b.Chats(), a.JID, "the sentinel at the peer", hasBody(store.In, "sentinel"))
	var got []string
	for _, m := range msgs {
		if m.Direction == store.In {
			got = append(got, m.Body)
		}
	}
	checkSequence(t, "messages stored by the receiving Parley", got, want)
}

func testOutboxAfterSIGKILL(t *testing.T, onServer, held int) {
	srv := apptest.Shared(t)
	a := srv.NewChatAccount(t, "crash")
	bobJID, bobPass := srv.NewUser(t, "slix")
	bob := srv.Slixmpp(t, bobJID, bobPass)
	incoming := bob.Messages()
	px, host, port := startProxy(t, srv)
	child := startChatChild(t, chatChildConfig{Dir: a.Dir, JID: a.JID, Password: a.Password, Host: host, Port: port,
		Peer: bobJID, NoAcks: true})
	child.await(t, "online")

	var want []string
	if onServer > 0 {
		child.do(t, fmt.Sprintf("send %d early", onServer), "sent")
		want = numbered("early", 1, onServer, 3)
		// The peer has them all: they are on the server (and archived).
		got := make([]string, 0, onServer)
		for len(got) < onServer {
			select {
			case m := <-incoming:
				if bareOf(m.From) == a.JID && m.Body != "" {
					got = append(got, m.Body)
				}
			case <-time.After(chatWait):
				t.Fatalf("the peer got %d of the %d early messages", len(got), onServer)
			}
		}
		checkSequence(t, "early messages at the peer", got, want)
	}
	px.Pause() // a silent break: what the child writes now stays in the proxy
	child.do(t, fmt.Sprintf("send %d held", held), "sent")
	if st := child.do(t, "states", "states"); st != fmt.Sprintf("states queued=%d sent=0 other=0", onServer+held) {
		t.Fatalf("before the kill the child's outbox is %q; want all %d queued (no acks)", st, onServer+held)
	}
	child.kill(t)
	px.Close() // resets both sides: the held bytes never reach the server

	a.Start(t) // the same profile, directly to the server
	cs := a.Chats()
	total := onServer + held
	msgs := waitHistory(t, cs, bobJID, "every message sent", func(msgs []store.Message) bool {
		n := 0
		for _, m := range msgs {
			if m.Direction == store.Out && m.State == store.StateSent {
				n++
			}
		}
		return n == total
	})
	if len(msgs) != total {
		t.Errorf("history after the restart: %s; want the %d messages once", apptest.DescribeMessages(msgs), total)
	}
	if _, err := cs.Send(chatCtx(t), bobJID, "sentinel"); err != nil {
		t.Fatal(err)
	}
	want = append(want, numbered("held", 1, held, 3)...)
	got := collectBodies(t, incoming, a.JID, "sentinel")
	if onServer > 0 {
		got = append(append([]string(nil), want[:onServer]...), got...)
	}
	checkSequence(t, "messages at the peer", got, want)
}

// TestChatConnectionKilledWhileSending: the connection is reset (both
// ways, by the proxy) in the middle of 200 ChatService.Send calls; the
// session is resumed and the peer gets all 200 once, in order.
func TestChatConnectionKilledWhileSending(t *testing.T) {
	srv := apptest.Shared(t)
	a := srv.NewChatAccount(t, "kill")
	px, host, port := startProxy(t, srv)
	a.StartVia(t, host, port, nil)
	cs := a.Chats()
	bobJID, bobPass := srv.NewUser(t, "slix")
	bob := srv.Slixmpp(t, bobJID, bobPass)
	incoming := bob.Messages()
	ctx := chatCtx(t)

	want := numbered("burst", 1, 200, 3)
	for i, body := range want {
		if _, err := cs.Send(ctx, bobJID, body); err != nil {
			t.Fatal(err)
		}
		if i == 99 {
			px.KillAll()
		}
	}
	if _, err := cs.Send(ctx, bobJID, "sentinel"); err != nil {
		t.Fatal(err)
	}
	got := collectBodies(t, incoming, a.JID, "sentinel")
	checkSequence(t, "messages at the peer", got, want)
	if px.Accepted() < 2 {
		t.Errorf("the proxy accepted %d connections; the kill should have made the client reconnect", px.Accepted())
	}
	waitHistory(t, cs, bobJID, "all 201 sent", func(msgs []store.Message) bool {
		n := 0
		for _, m := range msgs {
			if m.State == store.StateSent {
				n++
			}
		}
		return n == len(want)+1
	})
	t.Logf("after the kill: %s", a.Svc.Status().Describe(time.Now()))
}
