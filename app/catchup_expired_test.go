// Test of a catch-up after the archive dropped the last message Parley saw
// (archive expiry: the account was away longer than the server keeps its
// archive): the query from that id fails with item-not-found, and the
// catch-up reads what the archive holds since that message's time instead,
// without failing and without duplicates. The expiry is made by deleting the
// account's archive rows from Prosody's own SQLite database, which
// mod_storage_sql reads on every query.
package app_test

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"parley/app"
	"parley/app/apptest"
)

func TestCatchUpAfterTheArchiveDroppedTheLastMessageSeen(t *testing.T) {
	srv := apptest.Shared(t)
	a := srv.NewChatAccount(t, "expired")
	bobJID, bobPass := srv.NewUser(t, "expbob")
	bob := srv.Raw(t, bobJID, bobPass, "raw")
	ctx := chatCtx(t)
	archived := func(n int, prefix string) {
		t.Helper()
		a.WhileAway(t, ctx, bob, func() error { return bob.SendMessages(a.JID, n, prefix) })
	}

	archived(5, "early")
	a.Start(t)
	if p := waitSync(t, a.Chats(), "the first sync", func(p app.SyncProgress) bool { return !p.Active && (p.Fetched > 0 || p.Err != nil) }); p.Err != nil || p.Fetched != 5 {
		t.Fatalf("first sync: %+v", p)
	}
	a.Stop(t)

	// The server forgets everything Parley saw.
	db, err := sql.Open("sqlite", filepath.Join(srv.Harness().Dir, "data", "prosody.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	user, _, _ := strings.Cut(a.JID, "@")
	res, err := db.ExecContext(ctx, `DELETE FROM prosodyarchive WHERE user = ? AND store = 'archive'`, user)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 5 {
		t.Fatalf("deleted %d archive rows, want the 5 Parley saw", n)
	}

	archived(20, "later")
	a.Start(t)
	p := waitSync(t, a.Chats(), "the catch-up", func(p app.SyncProgress) bool { return !p.Active && (p.Fetched > 0 || p.Err != nil) })
	if p.Err != nil || p.Fetched != 20 {
		t.Fatalf("catch-up after the archive lost the last message seen: %+v; want the 20 new ones, no error", p)
	}
	msgs, err := apptest.History(ctx, a.Chats(), bobJID)
	if err != nil {
		t.Fatal(err)
	}
	checkSequence(t, "history", apptest.Bodies(msgs), append(numbered("early", 1, 5, 6), numbered("later", 1, 20, 6)...))
}
