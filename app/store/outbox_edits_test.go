// Tests of the outbox of edits (outbox_edits.go): a queued correction or
// retraction changes its message in the transaction that queues it (and
// not at all when queueing fails), its place among the queued messages,
// the ack and an archive copy marking it sent, the expiry of sent rows,
// and the migration to schema version 7 keeping what version 6 stored.
package store

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func anEdit(id, peer, target, body string, sec int) Edit {
	return Edit{ID: id, Conversation: peer, Target: target, Body: body, Time: base.Add(time.Duration(sec) * time.Second)}
}

func TestQueueEditAppliesAndQueues(t *testing.T) {
	s := openTest(t, Options{})
	ctx := testCtx(t)
	first := out(alice, "teh first", 1)
	first.OriginID, first.MessageID = "m1", "m1"
	r1 := mustSave(t, s, first)
	second := out(alice, "oops", 2)
	second.OriginID, second.MessageID = "m2", "m2"
	r2 := mustSave(t, s, second)

	e, res, err := s.QueueEdit(ctx, anEdit("e1", alice, "m1", "the first", 3))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != Corrected || res.ID != r1.ID || res.Conversation != alice {
		t.Fatalf("QueueEdit applied: %+v, want the correction of message %d", res, r1.ID)
	}
	if e.State != StateQueued || e.After != r2.ID {
		t.Fatalf("queued edit %+v; want queued, after the newest own message %d", e, r2.ID)
	}
	if m := mustGet(t, s, r1.ID); m.Body != "the first" || m.OriginalBody != "teh first" || !m.Edited {
		t.Fatalf("the corrected message: %+v", m)
	}
	r := Edit{ID: "e2", Conversation: alice, Target: "m2", Retract: true, Body: "ignored", Time: base.Add(4 * time.Second)}
	if _, res, err = s.QueueEdit(ctx, r); err != nil || res.Outcome != Retracted {
		t.Fatalf("QueueEdit of a retraction: %+v, %v", res, err)
	}
	if m := mustGet(t, s, r2.ID); !m.Retracted || m.Body != "" {
		t.Fatalf("the retracted message: %+v", m)
	}
	edits, err := s.OutboxEdits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(edits) != 2 || edits[0].ID != "e1" || edits[1].ID != "e2" {
		t.Fatalf("OutboxEdits = %+v; want e1 then e2", edits)
	}
	want := Edit{ID: "e2", Conversation: alice, Target: "m2", Retract: true, Time: base.Add(4 * time.Second),
		State: StateQueued, After: r2.ID}
	if got := edits[1]; !got.Time.Equal(want.Time) || got.ID != want.ID || got.Conversation != want.Conversation ||
		got.Target != want.Target || !got.Retract || got.Body != "" || got.State != want.State || got.After != want.After {
		t.Fatalf("the queued retraction reads back as %+v, want %+v", got, want)
	}
	// An edit of a message not stored (yet) is queued too, and waits.
	if _, res, err := s.QueueEdit(ctx, anEdit("e3", bob, "nowhere", "x", 5)); err != nil || res.Outcome != Pending {
		t.Fatalf("QueueEdit of an unknown message: %+v, %v", res, err)
	}
	if e, err := s.GetEdit(ctx, "e3"); err != nil || e.After != 0 || e.Conversation != bob {
		t.Fatalf("GetEdit(e3) = %+v, %v; want after 0 (no own message with %s)", e, err, bob)
	}
}

// TestQueueEditIsOneTransaction: when the outbox row cannot be written
// (here: its id is taken), the message is not changed either.
func TestQueueEditIsOneTransaction(t *testing.T) {
	s := openTest(t, Options{})
	ctx := testCtx(t)
	m := out(alice, "v1", 1)
	m.OriginID = "m1"
	id := mustSave(t, s, m).ID
	if _, _, err := s.QueueEdit(ctx, anEdit("e1", alice, "m1", "v2", 2)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.QueueEdit(ctx, anEdit("e1", alice, "m1", "v3", 3)); err == nil {
		t.Fatal("a second edit with the same id was queued")
	}
	if got := mustGet(t, s, id); got.Body != "v2" {
		t.Fatalf("after a failed QueueEdit the message reads %q, want v2 (the failed edit rolled back)", got.Body)
	}
	if n := count(t, s, `SELECT count(*) FROM outbox_edits`); n != 1 {
		t.Fatalf("%d outbox rows, want 1", n)
	}
	if _, _, err := s.QueueEdit(ctx, Edit{ID: "e9", Conversation: alice}); err == nil {
		t.Fatal("an edit without a target was queued")
	}
}

func TestEditSentByAckOrArchiveCopy(t *testing.T) {
	s := openTest(t, Options{})
	ctx := testCtx(t)
	m := out(alice, "teh", 1)
	m.OriginID, m.MessageID = "m1", "m1"
	mustSave(t, s, m)
	for i, id := range []string{"e1", "e2", "e3"} {
		if _, _, err := s.QueueEdit(ctx, anEdit(id, alice, "m1", "the", 2+i)); err != nil {
			t.Fatal(err)
		}
	}
	if changed, err := s.EditSent(ctx, "e1"); err != nil || !changed {
		t.Fatalf("EditSent(e1) = %v, %v", changed, err)
	}
	if changed, err := s.EditSent(ctx, "e1"); err != nil || changed {
		t.Fatalf("EditSent(e1) again = %v, %v; want unchanged", changed, err)
	}
	if e, err := s.GetEdit(ctx, "e1"); err != nil || e.State != StateSent {
		t.Fatalf("GetEdit(e1) = %+v, %v; want sent", e, err)
	}
	// e2 comes back from the archive: our own correction, stored as a copy.
	cp := Message{Conversation: alice, Direction: Out, Sender: me + "/parley", ReplaceID: "m1", Body: "the",
		OriginID: "e2", MessageID: "e2", StanzaID: "arch-e2", Time: base.Add(3 * time.Second)}
	if _, err := s.SaveBatch(ctx, []Message{cp}); err != nil {
		t.Fatal(err)
	}
	// A correction from the peer with e3's id changes nothing here.
	in := Message{Conversation: alice, Direction: In, ReplaceID: "x", Body: "y", OriginID: "e3", MessageID: "e3", Time: base}
	mustSave(t, s, in)
	edits, err := s.OutboxEdits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(edits) != 1 || edits[0].ID != "e3" {
		t.Fatalf("OutboxEdits = %+v; want only e3 (e1 acked, e2 in the archive)", edits)
	}
	if e, err := s.GetEdit(ctx, "e2"); err != nil || e.State != StateSent {
		t.Fatalf("GetEdit(e2) = %+v, %v; want sent", e, err)
	}
	if _, err := s.GetEdit(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetEdit(nope): %v, want ErrNotFound", err)
	}
}

func TestSentEditsExpire(t *testing.T) {
	s := openTest(t, Options{})
	ctx := testCtx(t)
	m := out(alice, "a", 1)
	m.OriginID = "m1"
	mustSave(t, s, m)
	old := Edit{ID: "old", Conversation: alice, Target: "m1", Body: "b", Time: testNow().Add(-8 * 24 * time.Hour)}
	recent := Edit{ID: "recent", Conversation: alice, Target: "m1", Body: "c", Time: testNow().Add(-time.Hour)}
	queuedOld := Edit{ID: "queued-old", Conversation: alice, Target: "m1", Body: "d", Time: testNow().Add(-9 * 24 * time.Hour)}
	for _, e := range []Edit{old, recent, queuedOld} {
		if _, _, err := s.QueueEdit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"recent", "old"} {
		if _, err := s.EditSent(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.GetEdit(ctx, "old"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a sent edit 8 days old is still there (%v)", err)
	}
	for _, id := range []string{"recent", "queued-old"} {
		if _, err := s.GetEdit(ctx, id); err != nil {
			t.Fatalf("GetEdit(%s): %v; a recent sent edit and a queued one stay", id, err)
		}
	}
}

func TestMigrateFromVersion6(t *testing.T) {
	ctx := testCtx(t)
	path := filepath.Join(t.TempDir(), "v6.db")
	db := openRawTB(t, path)
	if err := migrate(ctx, db, migrations[:6]); err != nil {
		t.Fatalf("creating a version 6 database: %v", err)
	}
	if v := userVersion(t, db); v != 6 {
		t.Fatalf("user_version = %d, want 6", v)
	}
	ts := base.UnixMilli()
	for _, q := range []string{
		`INSERT INTO conversations(id, peer, last_activity) VALUES (1, 'alice@example.org', 0)`,
		`INSERT INTO messages(id, conversation_id, direction, sender, body, ts, origin_id, message_id, state)
			VALUES (?1 << 20, 1, 1, 'me@example.org/parley', 'teh queued one', ?1, 'o1', 'o1', 1)`,
		`UPDATE conversations SET last_message_id = ?1 << 20, last_ts = ?1, last_activity = ?1`,
	} {
		if _, err := db.ExecContext(ctx, q, ts); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := openAt(t, path, Options{})
	var v int
	if err := s.rdb.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil || v != SchemaVersion {
		t.Fatalf("after Open: user_version = %d (%v), want %d", v, err, SchemaVersion)
	}
	if edits, err := s.OutboxEdits(ctx); err != nil || len(edits) != 0 {
		t.Fatalf("OutboxEdits of the migrated database = %+v, %v; want none", edits, err)
	}
	ob, err := s.Outbox(ctx)
	if err != nil || len(ob) != 1 || ob[0].Body != "teh queued one" {
		t.Fatalf("Outbox = %+v, %v; want the queued message of version 6", ob, err)
	}
	e, res, err := s.QueueEdit(ctx, anEdit("e1", alice, "o1", "the queued one", 5))
	if err != nil || res.Outcome != Corrected || e.After != ob[0].ID {
		t.Fatalf("QueueEdit on the migrated database: %+v, %+v, %v", e, res, err)
	}
	if m := mustGet(t, s, ob[0].ID); m.Body != "the queued one" || m.OriginalBody != "teh queued one" {
		t.Fatalf("the old message after the edit: %+v", m)
	}
}
