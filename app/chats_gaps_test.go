// Tests of filling history from the archive while scrolling: a new profile
// syncs only the newest archive pages, and a catch-up cut short leaves a
// gap in the middle of the history; paging back into them fetches that
// conversation's messages from the server, in order, without duplicates,
// and the next catch-up reads what no one scrolled to.
package app_test

import (
	"context"
	"testing"
	"time"

	"parley/app"
	"parley/app/apptest"
	"parley/app/store"
	"parley/xmppclient/xmpptest"
)

func TestScrollingPastLocalHistoryFetchesFromArchive(t *testing.T) {
	srv := apptest.Shared(t)
	a := srv.NewChatAccount(t, "gapfill")
	bobJID, bobPass := srv.NewUser(t, "gapbob")
	bob := srv.Raw(t, bobJID, bobPass, "raw")
	ctx := chatCtx(t)
	const n = 1100 // more than the first sync of a new profile fetches
	a.WhileAway(t, ctx, bob, func() error { return bob.SendMessages(a.JID, n, "old") })

	a.Start(t)
	p := waitSync(t, a.Chats(), "the first sync", func(p app.SyncProgress) bool { return !p.Active && (p.Fetched > 0 || p.Err != nil) })
	if p.Err != nil {
		t.Fatalf("first sync: %v", p.Err)
	}
	if p.Fetched >= n {
		t.Fatalf("the first sync fetched %d of %d messages: the test needs it to stop short", p.Fetched, n)
	}
	// Paging back as the chat view does reaches the start of the archive.
	msgs, err := apptest.History(ctx, a.Chats(), bobJID)
	if err != nil {
		t.Fatal(err)
	}
	checkSequence(t, "history after scrolling to the start", apptest.Bodies(msgs), numbered("old", 1, n, 6))
}

func TestCatchUpCutShortLeavesAGapFilledOnScrollAndOnNextLogin(t *testing.T) {
	srv := apptest.Shared(t)
	a := srv.NewChatAccount(t, "midgap")
	bobJID, bobPass := srv.NewUser(t, "midbob")
	carolJID, carolPass := srv.NewUser(t, "midcarol")
	bob := srv.Raw(t, bobJID, bobPass, "raw")
	carol := srv.Raw(t, carolJID, carolPass, "raw")
	ctx := chatCtx(t)
	archived := func(from *xmpptest.RawPeer, n int, prefix string) {
		t.Helper()
		a.WhileAway(t, ctx, from, func() error { return from.SendMessages(a.JID, n, prefix) })
	}

	// A first sync reads 5 messages: the position is after them.
	archived(bob, 5, "early")
	a.Start(t)
	// (Fetched or Err: right after Start the catch-up may not have begun.)
	if p := waitSync(t, a.Chats(), "the first sync", func(p app.SyncProgress) bool { return !p.Active && (p.Fetched > 0 || p.Err != nil) }); p.Err != nil || p.Fetched != 5 {
		t.Fatalf("first sync: %+v", p)
	}
	a.Stop(t)

	// The server's stamps have whole seconds, and messages of one second
	// on both sides of a gap cannot be ordered by time (see keepBefore):
	// the messages after the gap start in the next second (with a margin:
	// the server's clock was seen a few ms behind ours).
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 100*time.Millisecond)))

	// Away: carol writes 100, then bob 600. The catch-up is cut after its
	// first page (the newest 250, all bob's): the rest is a gap.
	archived(carol, 100, "carol")
	archived(bob, 600, "away")
	restore := app.CutArchivePassesAfter(1)
	a.Start(t)
	p := waitSync(t, a.Chats(), "the cut catch-up", func(p app.SyncProgress) bool { return !p.Active && p.Err != nil })
	restore()
	if p.Err == nil || p.Fetched != 250 {
		t.Fatalf("the cut catch-up: %+v; want a failure after 250 fetched", p)
	}
	// Newest first: bob's newest message is there already.
	if c, found, err := conversation(ctx, a.Chats(), bobJID); err != nil || !found || c.Last == nil || c.Last.Body != "away-000600" {
		t.Fatalf("bob's conversation after the cut catch-up: %+v, %v, %v; want away-000600 last", c, found, err)
	}
	if c, found, err := conversation(ctx, a.Chats(), carolJID); err != nil || found {
		t.Fatalf("carol's conversation exists before anything fetched it: %+v, %v", c, err)
	}

	// Scrolling back through bob's chat crosses the gap: it is filled.
	msgs, err := apptest.History(ctx, a.Chats(), bobJID)
	if err != nil {
		t.Fatal(err)
	}
	checkSequence(t, "bob's history scrolled through the gap", apptest.Bodies(msgs),
		append(numbered("early", 1, 5, 6), numbered("away", 1, 600, 6)...))
	if c, found, _ := conversation(ctx, a.Chats(), carolJID); found {
		t.Fatalf("scrolling bob's chat fetched carol's messages: %+v", c)
	}

	// The next login's catch-up reads the rest of the gap (carol's), and
	// only then reports done.
	a.Stop(t)
	a.Start(t)
	p = waitSync(t, a.Chats(), "the next catch-up", func(p app.SyncProgress) bool { return !p.Active && (p.Fetched > 0 || p.Err != nil) })
	if p.Err != nil {
		t.Fatalf("the next catch-up: %v", p.Err)
	}
	c, found, err := conversation(ctx, a.Chats(), carolJID)
	if err != nil || !found || c.Unread != 100 {
		t.Fatalf("carol's conversation after the next catch-up: %+v, found %v, %v; want 100 unread", c, found, err)
	}
	msgs, err = apptest.History(ctx, a.Chats(), carolJID)
	if err != nil {
		t.Fatal(err)
	}
	checkSequence(t, "carol's history", apptest.Bodies(msgs), numbered("carol", 1, 100, 6))
}

// conversation finds peer in the conversation list (which reads the local
// history only).
func conversation(ctx context.Context, cs *app.ChatService, peer string) (store.Conversation, bool, error) {
	convs, err := apptest.AllConversations(ctx, cs)
	if err != nil {
		return store.Conversation{}, false, err
	}
	for _, c := range convs {
		if c.Peer == peer {
			return c, true, nil
		}
	}
	return store.Conversation{}, false, nil
}
