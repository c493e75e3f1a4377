// Chained corrections (XEP-0308): some clients (older Gajim and Psi among
// them) correct a correction, naming the id of their last correction
// instead of the original message's. Every correction matched to a message
// leaves its own ids (origin-id and id attribute) behind as aliases of that
// message (table edit_aliases), so a later correction or retraction naming
// one of them changes the message. Aliases are kept per conversation and
// direction, as message ids are looked up: in a one-to-one conversation
// the direction is the sender, and only the same sender's edits find them.
// A correction that arrives before the one it names waits as a pending
// edit (pending.go) and is applied when that one is.
package store

import (
	"database/sql"
	"errors"
	"fmt"
)

// migrationEditAliasesSQL is the schema change for chained corrections:
// the alias table, and the edit's own ids on pending edits (so a pending
// correction, once applied, leaves its aliases too).
const migrationEditAliasesSQL = `
CREATE TABLE edit_aliases (
	conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
	direction       INTEGER NOT NULL,
	alias           TEXT NOT NULL,    -- origin-id or id attribute of a correction
	message_id      INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE, -- the message it changed
	PRIMARY KEY (conversation_id, direction, alias)
) WITHOUT ROWID;
-- Deleting a message finds its aliases.
CREATE INDEX edit_aliases_message ON edit_aliases(message_id);
-- The ids of the pending edit itself ('' when it had none).
ALTER TABLE pending_edits ADD COLUMN origin_id TEXT NOT NULL DEFAULT '';
ALTER TABLE pending_edits ADD COLUMN message_id TEXT NOT NULL DEFAULT '';
`

func init() {
	writeSQL["aliasOf"] = `SELECT message_id FROM edit_aliases
		WHERE conversation_id = ?1 AND direction = ?2 AND alias = ?3`
	// The first message an id was matched to keeps it.
	writeSQL["aliasInsert"] = `INSERT OR IGNORE INTO edit_aliases(conversation_id, direction, alias, message_id)
		VALUES (?, ?, ?, ?)`
}

// editIDs are the ids an edit (or a message) is known by.
type editIDs struct{ origin, msg string }

func (e editIDs) empty() bool { return e.origin == "" && e.msg == "" }

// editTarget finds the message of the sender (direction) in conv that an
// edit naming target changes: the message whose origin-id or id attribute
// is target, else the message a correction with that id changed.
func (t *wtx) editTarget(conv int64, dir Direction, target string) (id int64, found bool, err error) {
	err = t.queryRow("byOriginID", conv, dir, target).Scan(&id, new(State))
	if errors.Is(err, sql.ErrNoRows) {
		err = t.queryRow("byMessageID", conv, dir, target).Scan(&id, new(State))
	}
	if errors.Is(err, sql.ErrNoRows) {
		err = t.queryRow("aliasOf", conv, dir, target).Scan(&id)
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	}
	return id, true, nil
}

// corrected records that the correction known by ids changed message id
// (whether or not its text won: an older one is still the sender's name
// for that message), then applies the edits that were waiting for it.
func (t *wtx) corrected(conv int64, peer string, dir Direction, id int64, ids editIDs) error {
	if err := t.alias(conv, dir, id, ids); err != nil {
		return err
	}
	return t.applyPending(conv, peer, dir, id, ids)
}

// alias makes ids name message id.
func (t *wtx) alias(conv int64, dir Direction, id int64, ids editIDs) error {
	for _, a := range []string{ids.origin, ids.msg} {
		if a == "" {
			continue
		}
		if _, err := t.exec("aliasInsert", conv, dir, a, id); err != nil {
			return fmt.Errorf("aliasInsert: %w", err)
		}
	}
	return nil
}

// applyPending applies to message id (in conv, with peer) the pending
// edits that name it by
// ids: the message's own ids when it is stored, or a correction's when it
// is applied. A pending correction applied in turn may be named by more
// pending edits (a chain that arrived backwards); those follow.
func (t *wtx) applyPending(conv int64, peer string, dir Direction, id int64, ids editIDs) error {
	type pendingEdit struct {
		id      int64
		retract bool
		body    string
		ts      int64
		ids     editIDs
	}
	for work := []editIDs{ids}; len(work) > 0 && t.w.pendingEdits > 0; {
		cur := work[0]
		work = work[1:]
		if cur.empty() {
			continue
		}
		rows, err := t.query("pendingFor", conv, dir, firstOf(cur.origin, cur.msg), firstOf(cur.msg, cur.origin))
		if err != nil {
			return err
		}
		var edits []pendingEdit
		for rows.Next() {
			var e pendingEdit
			if err := rows.Scan(&e.id, &e.retract, &e.body, &e.ts, &e.ids.origin, &e.ids.msg); err != nil {
				_ = rows.Close()
				return err
			}
			edits = append(edits, e)
		}
		if err := rows.Err(); err != nil {
			_ = rows.Close()
			return err
		}
		if err := rows.Close(); err != nil {
			return err
		}
		for _, e := range edits {
			out, err := t.applyEdit(conv, id, e.retract, e.body, e.ts)
			if err != nil {
				return err
			}
			// Reported like the edit's own arrival, now that the user can
			// see it: a receipt owed for it names its id attribute.
			t.resolved = append(t.resolved, Saved{ID: id, Conversation: peer, Outcome: out, Direction: dir, MessageID: e.ids.msg})
			if _, err := t.exec("pendingDelete", e.id); err != nil {
				return err
			}
			t.w.pendingEdits--
			if e.retract {
				continue
			}
			if err := t.alias(conv, dir, id, e.ids); err != nil {
				return err
			}
			work = append(work, e.ids)
		}
	}
	return nil
}
