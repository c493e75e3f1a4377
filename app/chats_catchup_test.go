// Tests of the times and states of messages that arrive late: receipts and
// displayed markers that peers sent while Parley was closed move the ticks
// of the messages they name, as they would have live; a message claiming a
// time in the future is dated when it arrived; read on another device is
// read here; without stream management a message is sent once a barrier
// ping written after it is answered.
package app_test

import (
	"fmt"
	"testing"
	"time"

	"parley/app"
	"parley/app/apptest"
	"parley/app/store"
	"parley/xmppclient"
)

func TestCatchUpAppliesReceiptsAndMarkersSentWhileAway(t *testing.T) {
	srv := apptest.Shared(t)
	a := srv.NewChatAccount(t, "ticks")
	bobJID, bobPass := srv.NewUser(t, "tickbob")
	bob := srv.Raw(t, bobJID, bobPass, "raw")
	ctx := chatCtx(t)

	a.Start(t)
	waitSync(t, a.Chats(), "the first catch-up", func(p app.SyncProgress) bool { return !p.Active })
	cs := a.Chats()
	// A displayed marker covers the messages before it: the one read is
	// the older.
	second, err := cs.Send(ctx, bobJID, "will be read")
	if err != nil {
		t.Fatal(err)
	}
	first, err := cs.Send(ctx, bobJID, "will be delivered")
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, cs, first.ID, store.StateSent, "the server acked the first")
	waitState(t, cs, second.ID, store.StateSent, "the server acked the second")
	a.Stop(t)

	// While Parley is closed (another resource online, so the server
	// archives rather than keeps them offline), bob's client confirms the
	// first and shows the second.
	a.WhileAway(t, ctx, bob, func() error {
		if err := bob.SendRaw(fmt.Sprintf(`<message to='%s' id='r1'><received xmlns='urn:xmpp:receipts' id='%s'/></message>`, a.JID, first.MessageID)); err != nil {
			return err
		}
		return bob.SendRaw(fmt.Sprintf(`<message to='%s' id='m1' type='chat'><displayed xmlns='urn:xmpp:chat-markers:0' id='%s'/></message>`, a.JID, second.MessageID))
	})

	a.Start(t)
	cs = a.Chats()
	if p := waitSync(t, cs, "the catch-up", func(p app.SyncProgress) bool { return !p.Active && (p.Fetched >= 2 || p.Err != nil) }); p.Err != nil {
		t.Fatalf("catch-up: %+v; want the receipt and the marker fetched", p)
	}
	waitState(t, cs, first.ID, store.StateDelivered, "the archived receipt")
	waitState(t, cs, second.ID, store.StateRead, "the archived displayed marker")
}

func TestMessageDatedInTheFutureIsDatedOnArrival(t *testing.T) {
	srv := apptest.Shared(t)
	a := srv.NewChatAccount(t, "future")
	bobJID, bobPass := srv.NewUser(t, "futurebob")
	bob := srv.Raw(t, bobJID, bobPass, "raw")
	a.Start(t)
	cs := a.Chats()
	before := time.Now().Add(-time.Second)
	if err := bob.SendRaw(fmt.Sprintf(`<message to='%s' id='f1' type='chat'><body>from the future</body>`+
		`<delay xmlns='urn:xmpp:delay' stamp='2099-01-01T00:00:00Z'/></message>`, a.JID)); err != nil {
		t.Fatal(err)
	}
	msgs := waitHistory(t, cs, bobJID, "the message stored", hasBody(store.In, "from the future"))
	m, _ := findBody(msgs, store.In, "from the future")
	if m.Time.Before(before) || m.Time.After(time.Now().Add(time.Minute)) {
		t.Fatalf("stored at %v; want the time it arrived (about %v)", m.Time, time.Now())
	}
}

func TestReadOnAnotherDeviceIsReadHere(t *testing.T) {
	srv := apptest.Shared(t)
	a := srv.NewChatAccount(t, "twodev")
	b := a.OtherResource(t)
	bobJID, bobPass := srv.NewUser(t, "twobob")
	bob := srv.Raw(t, bobJID, bobPass, "raw")
	ctx := chatCtx(t)
	a.Start(t)
	b.Start(t)
	waitSync(t, a.Chats(), "a's first catch-up", func(p app.SyncProgress) bool { return !p.Active })
	// The marker carries the read state across devices; it goes only to a
	// peer who may see our presence.
	letSeePresence(t, a, bobJID, rawSubscribe(bob, a.JID))
	unread := func(who *apptest.ChatAccount, want int, why string) {
		t.Helper()
		apptest.WaitChats(t, who.Chats(), why, chatWait, func() (bool, string) {
			c, found, err := conversation(ctx, who.Chats(), bobJID)
			return err == nil && found && c.Unread == want, fmt.Sprintf("%+v found=%v err=%v", c, found, err)
		})
	}
	readOn := func(who *apptest.ChatAccount, body string) {
		t.Helper()
		msgs := waitHistory(t, who.Chats(), bobJID, body+" on the reading device", hasBody(store.In, body))
		m, _ := findBody(msgs, store.In, body)
		if err := who.Chats().MarkRead(ctx, bobJID, m); err != nil {
			t.Fatal(err)
		}
	}

	// Live: b shows bob's message; its marker's carbon reads it on a.
	markable := func(id, body string) error {
		return bob.SendRaw(fmt.Sprintf(`<message to='%s' id='%s' type='chat'><body>%s</body>`+
			`<markable xmlns='urn:xmpp:chat-markers:0'/></message>`, a.JID, id, body))
	}
	if err := markable("live-1", "seen on b"); err != nil {
		t.Fatal(err)
	}
	unread(a, 1, "bob's message unread on a")
	readOn(b, "seen on b")
	unread(a, 0, "read on a after b showed it")

	// Away: a is closed while bob writes and b shows it; a's catch-up
	// finds the marker b sent in the archive.
	a.Stop(t)
	if err := markable("away-1", "seen on b while a was away"); err != nil {
		t.Fatal(err)
	}
	readOn(b, "seen on b while a was away")
	if err := b.Chats().Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := apptest.PingSync(ctx, bob, srv.Domain); err != nil {
		t.Fatal(err)
	}
	a.Start(t)
	waitHistory(t, a.Chats(), bobJID, "the message fetched by a's catch-up", hasBody(store.In, "seen on b while a was away"))
	unread(a, 0, "read on a after its catch-up found b's marker")
}

func TestWithoutStreamManagementSentMeansConfirmed(t *testing.T) {
	srv := apptest.Shared(t)
	a := srv.NewChatAccount(t, "nosm")
	bobJID, _ := srv.NewUser(t, "nosmbob")
	a.StartVia(t, srv.Host, srv.Port, func(cfg *xmppclient.Config) { cfg.DisableStreamManagement = true })
	waitSync(t, a.Chats(), "the first catch-up", func(p app.SyncProgress) bool { return !p.Active })
	m, err := a.Chats().Send(chatCtx(t), bobJID, "no acks on this stream")
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, a.Chats(), m.ID, store.StateSent, "confirmed by a barrier ping on a stream without XEP-0198")
}
