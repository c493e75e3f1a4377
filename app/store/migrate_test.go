// Tests of opening the database: connection settings, file permissions,
// schema migrations from an older version, a failing migration rolled back,
// and a database from a newer Parley refused.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSchemaVersionIsLastMigration(t *testing.T) {
	if got := migrations[len(migrations)-1].Version; got != SchemaVersion {
		t.Fatalf("SchemaVersion = %d, last migration is %d", SchemaVersion, got)
	}
	for i, m := range migrations {
		if m.Version != i+1 {
			t.Errorf("migration %d has version %d", i, m.Version)
		}
	}
}

func TestOpenSettings(t *testing.T) {
	s := openTest(t, Options{})
	ctx := testCtx(t)
	for _, c := range []struct {
		db     *sql.DB
		pragma string
		want   string
	}{
		{s.wdb, "journal_mode", "wal"},
		{s.wdb, "synchronous", "1"}, // NORMAL
		{s.wdb, "foreign_keys", "1"},
		{s.wdb, "busy_timeout", "5000"},
		{s.rdb, "journal_mode", "wal"},
		{s.rdb, "foreign_keys", "1"},
		{s.rdb, "busy_timeout", "5000"},
		{s.rdb, "query_only", "1"},
		{s.rdb, "user_version", fmt.Sprint(SchemaVersion)},
	} {
		var got string
		if err := c.db.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", c.pragma, err)
		}
		if got != c.want {
			t.Errorf("PRAGMA %s = %s, want %s", c.pragma, got, c.want)
		}
	}
	fi, err := os.Stat(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("database file mode %v, want 0600", perm)
	}
	// The read pool really is read-only.
	if _, err := s.rdb.ExecContext(ctx, `DELETE FROM messages`); err == nil {
		t.Error("a write through the read pool succeeded")
	}
}

func TestOpenOddPath(t *testing.T) {
	// Characters that mean something in a URI must not break the DSN.
	path := filepath.Join(t.TempDir(), "a dir?#%", "history 1.db")
	s := openAt(t, path, Options{})
	mustSave(t, s, in(alice, "hello", 1))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at the path given: %v", err)
	}
}

// openRaw opens path with the writer's settings, bypassing Open.
func openRawTB(t testing.TB, path string) *sql.DB {
	t.Helper()
	d, err := dsn(path, writerParams)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", d)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func userVersion(t testing.TB, db *sql.DB) int {
	t.Helper()
	var v int
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMigrateFromVersion1(t *testing.T) {
	ctx := testCtx(t)
	path := filepath.Join(t.TempDir(), "old.db")
	db := openRawTB(t, path)
	if err := migrate(ctx, db, migrations[:1]); err != nil {
		t.Fatalf("creating a version 1 database: %v", err)
	}
	if v := userVersion(t, db); v != 1 {
		t.Fatalf("user_version = %d, want 1", v)
	}
	// History written by version 1: no FTS index, no sync tables.
	ts := base.UnixMilli()
	for _, q := range []string{
		`INSERT INTO conversations(id, peer, last_activity) VALUES (1, 'alice@example.org', 0)`,
		`INSERT INTO messages(id, conversation_id, direction, sender, body, ts, origin_id, state)
			VALUES (?1 << 20, 1, 0, 'alice@example.org/phone', 'an old message about tulips', ?1, 'o1', 0),
			       ((?1 + 1000) << 20, 1, 1, 'me@example.org/parley', 'still queued', ?1 + 1000, 'o2', 1)`,
		`UPDATE conversations SET last_message_id = (?1 + 1000) << 20, last_ts = ?1 + 1000, last_activity = ?1 + 1000`,
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
	// The old messages were indexed by the migration.
	res, err := s.Search(ctx, Query{Text: "tulips"})
	if err != nil || len(res) != 1 || res[0].Conversation != alice {
		t.Fatalf("Search(tulips) after migration = %+v, %v", res, err)
	}
	// And the rest of the store works on them.
	msgs, err := s.Latest(ctx, alice, 10)
	if err != nil || len(msgs) != 2 {
		t.Fatalf("Latest = %v, %v", msgs, err)
	}
	ob, err := s.Outbox(ctx)
	if err != nil || len(ob) != 1 || ob[0].Body != "still queued" {
		t.Fatalf("Outbox = %v, %v", ob, err)
	}
	if err := s.SetSyncPosition(ctx, SyncPosition{Archive: me, LastID: "x", Time: base}); err != nil {
		t.Fatalf("SetSyncPosition on the migrated database: %v", err)
	}
	r := mustSave(t, s, Message{Conversation: alice, Direction: In, RetractID: "o1", Time: base})
	if r.Outcome != Retracted {
		t.Fatalf("retracting an old message: %v", r.Outcome)
	}
	if res, _ := s.Search(ctx, Query{Text: "tulips"}); len(res) != 0 {
		t.Fatalf("retracted old message still found: %+v", res)
	}
}

func TestMigrationFailureRollsBack(t *testing.T) {
	ctx := testCtx(t)
	path := filepath.Join(t.TempDir(), "h.db")
	db := openRawTB(t, path)
	broken := append(migrations[:1:1], migration{Version: 2, Name: "broken", SQL: `
		CREATE TABLE half_done(x);
		INSERT INTO no_such_table VALUES (1);`})
	err := migrate(ctx, db, broken)
	if err == nil || !strings.Contains(err.Error(), "version 2 (broken)") {
		t.Fatalf("migrate with a broken migration: %v", err)
	}
	if v := userVersion(t, db); v != 1 {
		t.Fatalf("user_version = %d after a failed migration, want 1", v)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'half_done'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the failed migration left its table behind (%d, %v)", n, err)
	}
	// The real migrations still apply afterwards.
	if err := migrate(ctx, db, migrations); err != nil {
		t.Fatal(err)
	}
	if v := userVersion(t, db); v != SchemaVersion {
		t.Fatalf("user_version = %d, want %d", v, SchemaVersion)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	db := openRawTB(t, path)
	if _, err := db.Exec(`PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), path, Options{})
	if err == nil {
		_ = s.Close()
		t.Fatal("Open of a version 99 database succeeded")
	}
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("Open: %v, want ErrNewerSchema", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	s := openAt(t, path, Options{})
	mustSave(t, s, in(alice, "persisted", 1))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v, want ErrClosed", err)
	}
	s = openAt(t, path, Options{})
	msgs, err := s.Latest(testCtx(t), alice, 10)
	if err != nil || len(msgs) != 1 || msgs[0].Body != "persisted" {
		t.Fatalf("after reopen: %v, %v", msgs, err)
	}
}

// oldDatabase makes a database of schema version v (the migrations up to
// it) holding what stmts insert (each run with ?1 = base in Unix ms), for
// migration tests, and returns its path.
func oldDatabase(t *testing.T, v int, stmts ...string) string {
	t.Helper()
	ctx := testCtx(t)
	path := filepath.Join(t.TempDir(), fmt.Sprintf("v%d.db", v))
	db := openRawTB(t, path)
	if err := migrate(ctx, db, migrations[:v]); err != nil {
		t.Fatalf("creating a version %d database: %v", v, err)
	}
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q, base.UnixMilli()); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}
