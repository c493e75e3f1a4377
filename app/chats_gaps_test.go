// Test of filling history from the archive while scrolling: a new profile
// syncs only the newest archive pages; paging back past them fetches the
// older ones of that conversation from the server, in order, without
// duplicates.
package app_test

import (
	"testing"

	"parley/app"
	"parley/app/apptest"
)

func TestScrollingPastLocalHistoryFetchesFromArchive(t *testing.T) {
	srv := apptest.Shared(t)
	a := srv.NewChatAccount(t, "gapfill")
	bobJID, bobPass := srv.NewUser(t, "gapbob")
	bob := srv.Raw(t, bobJID, bobPass, "raw")
	ctx := chatCtx(t)
	// Another resource of the account is online, so the messages are
	// delivered to it (and archived), not kept as offline messages that
	// would be handed to Parley live at login.
	other := srv.Raw(t, a.JID, a.Password, "other")
	const n = 1100 // more than the first sync of a new profile fetches
	if err := bob.SendMessages(a.JID, n, "old"); err != nil {
		t.Fatal(err)
	}
	if err := apptest.PingSync(ctx, bob, srv.Domain); err != nil {
		t.Fatal(err)
	}
	other.Close()

	a.Start(t)
	p := waitSync(t, a.Chats(), "the first sync", func(p app.SyncProgress) bool { return !p.Active && (p.Fetched > 0 || p.Err != nil) })
	if p.Err != nil {
		t.Fatalf("first sync: %v", p.Err)
	}
	if p.Fetched >= n {
		t.Fatalf("the first sync fetched %d of %d messages: the test needs it to stop short", p.Fetched, n)
	}
	local, err := a.Chats().Latest(ctx, bobJID, n)
	if err != nil {
		t.Fatal(err)
	}
	if len(local) >= n {
		t.Fatalf("all %d messages are local already", len(local))
	}
	// Paging back as the chat view does reaches the start of the archive.
	msgs, err := apptest.History(ctx, a.Chats(), bobJID)
	if err != nil {
		t.Fatal(err)
	}
	checkSequence(t, "history after scrolling to the start", apptest.Bodies(msgs), numbered("old", 1, n, 6))
}
