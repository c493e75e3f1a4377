// The history database's schema and its migrations. The schema version is
// PRAGMA user_version; each migration runs in its own transaction together
// with the user_version bump, so a database is always at exactly one version
// (a crash or an error mid-migration leaves the previous one intact).
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// migration takes the schema from version Version-1 to Version.
type migration struct {
	Version int
	Name    string
	SQL     string
}

// migrations, oldest first. Released migrations are never edited: a change
// to the schema is a new migration appended here.
var migrations = []migration{
	{Version: 1, Name: "messages and conversations", SQL: `
CREATE TABLE conversations (
	id              INTEGER PRIMARY KEY,
	peer            TEXT NOT NULL UNIQUE,   -- the peer's bare JID
	last_message_id INTEGER REFERENCES messages(id) ON DELETE SET NULL,
	last_ts         INTEGER NOT NULL DEFAULT 0, -- ms; time of last_message_id
	last_activity   INTEGER NOT NULL DEFAULT 0, -- ms; orders the conversation list
	unread          INTEGER NOT NULL DEFAULT 0,
	draft           TEXT NOT NULL DEFAULT '',
	read_ts         INTEGER NOT NULL DEFAULT 0, -- the read marker, a (ts, id) cursor
	read_id         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX conversations_activity ON conversations(last_activity DESC, id DESC);
CREATE INDEX conversations_last_message ON conversations(last_message_id);

CREATE TABLE messages (
	id              INTEGER PRIMARY KEY,
	conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
	direction       INTEGER NOT NULL,           -- 0 in, 1 out
	sender          TEXT NOT NULL DEFAULT '',   -- full JID
	body            TEXT NOT NULL DEFAULT '',
	ts              INTEGER NOT NULL,           -- Unix ms (XEP-0203 delay stamp when present)
	type            TEXT NOT NULL DEFAULT 'chat',
	origin_id       TEXT,                       -- XEP-0359 origin-id
	stanza_id       TEXT,                       -- XEP-0359 stanza-id by the own archive
	message_id      TEXT,                       -- the id attribute
	state           INTEGER NOT NULL DEFAULT 0, -- State
	error           TEXT NOT NULL DEFAULT '',
	edited_at       INTEGER NOT NULL DEFAULT 0, -- ms of the last correction; 0 = not edited
	original_body   TEXT,                       -- body before the first correction
	retracted       INTEGER NOT NULL DEFAULT 0
);
-- Paging (keyset on (ts, id)) and everything else per conversation.
CREATE INDEX messages_conversation_ts ON messages(conversation_id, ts, id);
-- Dedup: the archive id is unique in the own archive; an origin-id is unique
-- per sender. In a one-to-one conversation the sender's bare JID is either
-- the peer or the own account, i.e. the direction.
CREATE UNIQUE INDEX messages_stanza_id ON messages(stanza_id) WHERE stanza_id IS NOT NULL;
CREATE UNIQUE INDEX messages_origin_id ON messages(conversation_id, direction, origin_id)
	WHERE origin_id IS NOT NULL;
-- Receipts, markers, corrections and retractions name a message by its id attribute.
CREATE INDEX messages_message_id ON messages(conversation_id, direction, message_id)
	WHERE message_id IS NOT NULL;
-- The outbox, and outgoing messages a displayed marker may still move to read.
CREATE INDEX messages_outbox ON messages(id) WHERE state = 1;
CREATE INDEX messages_unconfirmed ON messages(conversation_id, ts, id) WHERE state BETWEEN 1 AND 3;
`},
	{Version: 2, Name: "full-text search", SQL: `
-- The conversation as a token ("c42"), computed rather than stored, so a
-- search within one chat is an AND in the FTS index instead of a filter on
-- every match.
ALTER TABLE messages ADD COLUMN ctag TEXT GENERATED ALWAYS AS ('c' || conversation_id) VIRTUAL;
-- External-content FTS5 index over messages.body, kept in step by triggers.
-- unicode61 with remove_diacritics 2 folds case, and accents of Latin letters
-- (cafe finds café), in every script that separates words with spaces.
-- columnsize=0: no per-row size table (it serves only bm25 ranking, and
-- results are by time). A prefix index for 3 characters, the usual state of
-- a word being typed: measured on 1M messages, it takes a query ending in a
-- 3-letter prefix from up to 24 ms to under 1 ms, for an index of 137 MB
-- instead of 77 and 6% slower storing; adding 2-letter prefixes as well
-- (prefix='2 3') would mean 204 MB and 20% slower storing, to speed up
-- 2-letter prefix queries that take under 10 ms anyway.
CREATE VIRTUAL TABLE messages_fts USING fts5(
	body,
	ctag,
	content = 'messages',
	content_rowid = 'id',
	columnsize = 0,
	tokenize = 'unicode61 remove_diacritics 2',
	prefix = '3'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
	INSERT INTO messages_fts(rowid, body, ctag) VALUES (new.id, new.body, new.ctag);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
	INSERT INTO messages_fts(messages_fts, rowid, body, ctag) VALUES ('delete', old.id, old.body, old.ctag);
END;
-- Corrections and retractions change the body: re-index it.
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages WHEN old.body IS NOT new.body BEGIN
	INSERT INTO messages_fts(messages_fts, rowid, body, ctag) VALUES ('delete', old.id, old.body, old.ctag);
	INSERT INTO messages_fts(rowid, body, ctag) VALUES (new.id, new.body, new.ctag);
END;
-- Index what version 1 stored.
INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
`},
	{Version: 3, Name: "archive sync state and pending edits", SQL: `
CREATE TABLE sync_state (
	archive TEXT PRIMARY KEY,   -- the archive's JID
	last_id TEXT NOT NULL,      -- archive id of the newest message seen
	last_ts INTEGER NOT NULL    -- its time, ms
);
CREATE TABLE sync_gaps (
	id           INTEGER PRIMARY KEY,
	archive      TEXT NOT NULL,
	conversation TEXT NOT NULL DEFAULT '', -- '' = the whole archive
	after_id     TEXT NOT NULL,
	before_id    TEXT NOT NULL,
	start_ts     INTEGER NOT NULL,
	end_ts       INTEGER NOT NULL
);
CREATE INDEX sync_gaps_archive ON sync_gaps(archive, end_ts);
-- Corrections and retractions that arrived before the message they change.
CREATE TABLE pending_edits (
	id              INTEGER PRIMARY KEY,
	conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
	direction       INTEGER NOT NULL,
	target          TEXT NOT NULL,    -- origin-id or id attribute of the message to change
	retract         INTEGER NOT NULL, -- 1 retraction, 0 correction
	body            TEXT NOT NULL,
	ts              INTEGER NOT NULL
);
CREATE INDEX pending_edits_target ON pending_edits(conversation_id, direction, target);
`},
	{Version: 4, Name: "per-conversation parts of archive gaps", SQL: `
-- A gap of the whole archive is filled one conversation at a time as the
-- user scrolls: each conversation's remaining part is a row of its own
-- that points at the whole-archive gap it came from (parent), and stays,
-- marked filled, once that conversation's part is fetched, so the parent
-- no longer applies to it.
ALTER TABLE sync_gaps ADD COLUMN parent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_gaps ADD COLUMN filled INTEGER NOT NULL DEFAULT 0;
CREATE INDEX sync_gaps_parent ON sync_gaps(parent, conversation);
`},
	{Version: 5, Name: "pending edits' storing time", SQL: `
-- When a pending edit was stored here, ms: it expires a week after that
-- (see pending.go). Rows from before this migration keep 0, "not dated
-- yet": the Open that runs the migration dates them right after it, by
-- the same clock new rows get (so they too wait the whole week).
ALTER TABLE pending_edits ADD COLUMN stored_at INTEGER NOT NULL DEFAULT 0;
-- Expiry deletes a range of it, whenever an edit is stored.
CREATE INDEX pending_edits_stored_at ON pending_edits(stored_at);
`},
	{Version: 6, Name: "markable messages", SQL: `
-- 1: an incoming message carried <markable/> (XEP-0333), so a displayed
-- marker may name it. Rows from before this migration keep 0: no marker
-- is sent for them (whether they asked is not known).
ALTER TABLE messages ADD COLUMN markable INTEGER NOT NULL DEFAULT 0;
`},
	{Version: 7, Name: "the outbox of corrections and retractions", SQL: `
-- Our own corrections (XEP-0308) and retractions (XEP-0424) on their way
-- to the server (see outbox_edits.go). Writing a row applies the edit to
-- its message in the same transaction; the row stays queued until the
-- server has the edit (its XEP-0198 ack, or the archive holds it).
CREATE TABLE outbox_edits (
	id              INTEGER PRIMARY KEY,         -- the order they were made in
	edit_id         TEXT NOT NULL UNIQUE,        -- the stanza's id attribute and origin-id
	conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
	target          TEXT NOT NULL,               -- origin-id or id attribute of the message changed
	retract         INTEGER NOT NULL,            -- 1 retraction, 0 correction
	body            TEXT NOT NULL,               -- the corrected text ('' for a retraction)
	ts              INTEGER NOT NULL,            -- when it was made, ms
	after_id        INTEGER NOT NULL,            -- the newest own message of the conversation then
	state           INTEGER NOT NULL DEFAULT 1   -- State: 1 queued, 2 sent
);
-- The queued ones, in the order they go out.
CREATE INDEX outbox_edits_queued ON outbox_edits(after_id, id) WHERE state = 1;
`},
	// Chained corrections: the ids of applied corrections as aliases of
	// the message they changed (see edit_aliases.go).
	{Version: 8, Name: "edit aliases for chained corrections", SQL: migrationEditAliasesSQL},
	// Corrections of messages that never came, shown as messages of their
	// own (see orphan_edits.go).
	{Version: 9, Name: "corrections shown without their message", SQL: migrationShownEditsSQL},
	// Message requests: whether the user accepted a conversation (see
	// requests.go).
	{Version: 10, Name: "accepted conversations", SQL: migrationRequestsSQL},
	// The file a message shares (see attachments.go).
	{Version: 11, Name: "attachments", SQL: migrationAttachmentsSQL},
}

// SchemaVersion is the schema version this package writes: the last migration's.
const SchemaVersion = 11

// ErrNewerSchema: the database was written by a newer Parley; it is left alone.
var ErrNewerSchema = errors.New("history database is from a newer version of Parley")

// migrate brings db up to the last of ms, one transaction per migration.
func migrate(ctx context.Context, db *sql.DB, ms []migration) error {
	for {
		done, err := migrateOne(ctx, db, ms)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next migration, if any; done reports there was none.
// The version is read inside the (immediate) write transaction, so two
// processes opening one old database cannot both apply a migration.
func migrateOne(ctx context.Context, db *sql.DB, ms []migration) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migrate: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return false, fmt.Errorf("migrate: read version: %w", err)
	}
	last := ms[len(ms)-1].Version
	switch {
	case v > last:
		return false, fmt.Errorf("%w (schema version %d, this one knows up to %d)", ErrNewerSchema, v, last)
	case v == last:
		return true, tx.Rollback()
	}
	var m *migration
	for i := range ms {
		if ms[i].Version == v+1 {
			m = &ms[i]
			break
		}
	}
	if m == nil {
		return false, fmt.Errorf("migrate: no migration from schema version %d", v)
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("migrate to version %d (%s): %w", m.Version, m.Name, err)
	}
	// PRAGMA takes no parameters; the version is our own integer.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.Version)); err != nil {
		return false, fmt.Errorf("migrate to version %d: set version: %w", m.Version, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migrate to version %d: commit: %w", m.Version, err)
	}
	return false, nil
}
