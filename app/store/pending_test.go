// Tests of pending edits expiring: an edit waits for its message a week
// from when it was stored here (not from its own, possibly old, time),
// expired ones go when another is stored and at Open, and rows stored
// before schema version 5 dated them get their week from the upgrade.
package store

import (
	"path/filepath"
	"testing"
	"time"
)

// clockAt gives stores opened with it *now as the time (tests move it).
func clockAt(now *time.Time) Options {
	return Options{Now: func() time.Time { return *now }}
}

// pendingCount is the number of pending edits, in the table and as the
// writer counts them (they must agree: at 0 the writer stops looking).
func pendingCount(t *testing.T, s *Store) int {
	t.Helper()
	var counted int
	if err := s.do(testCtx(t), func(t *wtx) error { counted = t.w.pendingEdits; return nil }); err != nil {
		t.Fatal(err)
	}
	n := count(t, s, `SELECT count(*) FROM pending_edits`)
	if n != counted {
		t.Fatalf("%d pending edits stored, the writer counts %d", n, counted)
	}
	return n
}

// arrives stores alice's message with origin-id id and reports whether it
// came retracted (a pending retraction applied).
func arrives(t *testing.T, s *Store, id string, sec int) bool {
	t.Helper()
	m := in(alice, "text of "+id, sec)
	m.OriginID = id
	return mustGet(t, s, mustSave(t, s, m).ID).Retracted
}

func TestPendingEditsExpire(t *testing.T) {
	// The edits are from base, far over a week before the clock: what
	// counts is when they reach the store.
	now := base.Add(400 * 24 * time.Hour)
	opts := clockAt(&now)
	s := openTest(t, opts)
	path := s.Path()
	day := 24 * time.Hour

	for _, id := range []string{"first-1", "first-2"} {
		if r := mustSave(t, s, retraction(alice, In, id, 100)); r.Outcome != Pending {
			t.Fatalf("retraction of unknown %s: %v", id, r.Outcome)
		}
	}
	if n := count(t, s, `SELECT count(*) FROM pending_edits WHERE stored_at = ?`, now.UnixMilli()); n != 2 {
		t.Fatalf("%d pending edits dated when they were stored, want 2", n)
	}
	now = now.Add(6 * day)
	mustSave(t, s, retraction(alice, In, "second", 100))
	if n := pendingCount(t, s); n != 3 {
		t.Fatalf("%d pending edits after 6 days, want all 3", n)
	}
	// A week after the first two, storing another deletes them.
	now = now.Add(day + time.Millisecond)
	mustSave(t, s, retraction(alice, In, "third", 100))
	if n := pendingCount(t, s); n != 2 {
		t.Fatalf("%d pending edits a week after the first ones, want 2", n)
	}
	if arrives(t, s, "first-1", 1) {
		t.Error("an expired retraction was applied")
	}
	if !arrives(t, s, "second", 2) {
		t.Error("a retraction stored 1 day ago was not applied")
	}
	if n := pendingCount(t, s); n != 1 {
		t.Fatalf("%d pending edits, want 1", n)
	}
	// Opening the store deletes the expired ones too.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	now = now.Add(6 * day)
	s = openAt(t, path, opts)
	if n := pendingCount(t, s); n != 1 {
		t.Fatalf("%d pending edits at an Open 6 days after the last, want 1", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	now = now.Add(day + time.Millisecond)
	s = openAt(t, path, opts)
	if n := pendingCount(t, s); n != 0 {
		t.Fatalf("%d pending edits at an Open over a week after the last, want 0", n)
	}
	if arrives(t, s, "third", 3) {
		t.Error("a retraction expired at Open was applied")
	}
}

// TestPendingEditsFromVersion4: rows stored by schema version 4, which
// did not date pending edits, survive the migration to version 5, are
// dated by the Open that migrates, wait a whole week from it, and still
// apply meanwhile.
func TestPendingEditsFromVersion4(t *testing.T) {
	ctx := testCtx(t)
	path := filepath.Join(t.TempDir(), "v4.db")
	db := openRawTB(t, path)
	if err := migrate(ctx, db, migrations[:4]); err != nil {
		t.Fatalf("creating a version 4 database: %v", err)
	}
	for _, q := range []string{
		`INSERT INTO conversations(id, peer) VALUES (1, 'alice@example.org')`,
		`INSERT INTO pending_edits(id, conversation_id, direction, target, retract, body, ts)
			VALUES (1, 1, 0, 'old-1', 1, '', 0), (2, 1, 0, 'old-2', 1, '', 0), (3, 1, 0, 'old-3', 1, '', 0)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// Far from 1970, so a row left at 0 would expire at once.
	now := base.Add(400 * 24 * time.Hour)
	opts := clockAt(&now)
	upgraded := now
	s := openAt(t, path, opts)
	if v := userVersion(t, s.rdb); v != SchemaVersion {
		t.Fatalf("user_version = %d after Open, want %d", v, SchemaVersion)
	}
	if n := count(t, s, `SELECT count(*) FROM pending_edits WHERE stored_at = ?`, upgraded.UnixMilli()); n != 3 {
		t.Fatalf("%d of 3 pending edits of version 4 dated by the Open that migrated", n)
	}
	if n := pendingCount(t, s); n != 3 {
		t.Fatalf("%d pending edits of version 4 kept, want 3", n)
	}
	if !arrives(t, s, "old-1", 1) {
		t.Fatal("a pending retraction of version 4 was not applied")
	}
	// Storing another a day later expires none of them, and later Opens do
	// not date them again.
	now = now.Add(24 * time.Hour)
	mustSave(t, s, retraction(alice, In, "new", 2))
	if n := pendingCount(t, s); n != 3 {
		t.Fatalf("%d pending edits a day after the upgrade, want 3", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	now = upgraded.Add(pendingEditTTL)
	s = openAt(t, path, opts)
	if n := pendingCount(t, s); n != 3 {
		t.Fatalf("%d pending edits at an Open a week after the upgrade, want 3", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Millisecond)
	s = openAt(t, path, opts)
	if n := pendingCount(t, s); n != 1 {
		t.Fatalf("%d pending edits just over a week after the upgrade, want only the new one", n)
	}
	if arrives(t, s, "old-2", 3) {
		t.Error("an expired retraction of version 4 was applied")
	}
	if !arrives(t, s, "new", 4) {
		t.Error("a retraction stored a day after the upgrade was not applied")
	}
}
