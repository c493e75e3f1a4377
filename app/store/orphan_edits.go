// Corrections (XEP-0308) of messages that never came: a correction waits
// as a pending edit (pending.go) for the message it names, which usually
// arrives in the same catch-up. When it does not (the original was sent
// while the archive was off, or to another resource only, or the sender's
// client numbered it wrongly), the user would never see the text at all,
// not even by search. ShowPendingCorrections turns such a correction,
// once it has waited long enough, into a message of its own, marked
// edited (XEP-0308 §5 lets a receiver show a correction it cannot match
// as a message), at the correction's time, searchable like any other.
//
// The table shown_edits remembers which id a shown correction stood in
// for: if the original still arrives (the archive gap it was in is
// filled later), it is a copy of the shown message, not a second one, and
// later edits naming the original's id change the shown message (edit
// aliases). Retractions of messages never seen stay pending: there is
// nothing to show.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// migrationShownEditsSQL is schema version 9.
const migrationShownEditsSQL = `
CREATE TABLE shown_edits (
	conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
	direction       INTEGER NOT NULL,
	target          TEXT NOT NULL,    -- the id of the message the correction named
	message_id      INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE, -- the correction shown
	PRIMARY KEY (conversation_id, direction, target)
) WITHOUT ROWID;
CREATE INDEX shown_edits_message ON shown_edits(message_id);
`

func init() {
	writeSQL["shownFor"] = `SELECT message_id FROM shown_edits
		WHERE conversation_id = ?1 AND direction = ?2 AND target IN (?3, ?4) LIMIT 1`
	writeSQL["shownInsert"] = `INSERT OR IGNORE INTO shown_edits(conversation_id, direction, target, message_id)
		VALUES (?, ?, ?, ?)`
	writeSQL["pendingOldestCorrection"] = `SELECT p.id, p.conversation_id, c.peer, p.direction, p.target, p.body,
		p.ts, p.origin_id, p.message_id
		FROM pending_edits p JOIN conversations c ON c.id = p.conversation_id
		WHERE p.retract = 0 AND p.stored_at <= ? ORDER BY p.ts, p.id LIMIT 1`
	writeSQL["markEdited"] = `UPDATE messages SET edited_at = ?2 WHERE id = ?1`
	writeSQL["pendingCorrections"] = `SELECT count(*) FROM pending_edits WHERE retract = 0`
}

// ShowPendingCorrections shows, as messages of their own marked edited,
// the corrections that have waited since storedBefore or longer for a
// message that never came (oldest first, so that a correction of such a
// correction applies to it). It returns what was stored, as OnCommit also
// reports it (Inserted, with the correction's id attribute as MessageID:
// what a receipt owed for it names), and how many corrections still wait
// (stored after storedBefore).
func (s *Store) ShowPendingCorrections(ctx context.Context, storedBefore time.Time) (shown []Saved, waiting int, err error) {
	err = s.do(ctx, func(t *wtx) error {
		shown = shown[:0]
		for t.w.pendingEdits > 0 {
			r, ok, err := t.showOldestPendingCorrection(storedBefore.UnixMilli())
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			shown = append(shown, r)
		}
		return t.queryRow("pendingCorrections").Scan(&waiting)
	})
	if err != nil {
		return nil, 0, fmt.Errorf("show pending corrections: %w", err)
	}
	return shown, waiting, nil
}

// showOldestPendingCorrection stores the oldest correction waiting since
// cutoff as a message; ok is false when there is none.
func (t *wtx) showOldestPendingCorrection(cutoff int64) (Saved, bool, error) {
	var (
		pendingID, conv, ts int64
		peer, target, body  string
		dir                 Direction
		ids                 editIDs
	)
	err := t.queryRow("pendingOldestCorrection", cutoff).Scan(&pendingID, &conv, &peer, &dir, &target, &body, &ts, &ids.origin, &ids.msg)
	if errors.Is(err, sql.ErrNoRows) {
		return Saved{}, false, nil
	}
	if err != nil {
		return Saved{}, false, fmt.Errorf("pendingOldestCorrection: %w", err)
	}
	if _, err := t.exec("pendingDelete", pendingID); err != nil {
		return Saved{}, false, err
	}
	t.w.pendingEdits--
	m := Message{Conversation: peer, Direction: dir, Body: body, Time: time.UnixMilli(ts),
		OriginID: ids.origin, MessageID: ids.msg}
	if dir == In {
		m.Sender = peer
	}
	res, err := t.save(m)
	if err != nil {
		return Saved{}, false, err
	}
	if err := t.flushInserts(); err != nil {
		return Saved{}, false, err
	}
	if _, err := t.exec("markEdited", res.ID, ts); err != nil {
		return Saved{}, false, err
	}
	if _, err := t.exec("shownInsert", conv, dir, target, res.ID); err != nil {
		return Saved{}, false, fmt.Errorf("shownInsert: %w", err)
	}
	t.w.shownEdits = true
	// Edits naming the original now change this message, and so do those
	// waiting for this correction's own ids (a chain).
	if err := t.alias(conv, dir, res.ID, editIDs{origin: target}); err != nil {
		return Saved{}, false, err
	}
	if err := t.corrected(conv, peer, dir, res.ID, ids); err != nil {
		return Saved{}, false, err
	}
	return res, true, nil
}

// shownCopy finds the shown correction that stood in for m, an original
// arriving after its correction was shown (see ShowPendingCorrections).
func (t *wtx) shownCopy(conv int64, m *Message) (msgRow, bool, error) {
	if m.OriginID == "" && m.MessageID == "" {
		return msgRow{}, false, nil
	}
	var r msgRow
	err := t.queryRow("shownFor", conv, m.Direction, firstOf(m.OriginID, m.MessageID), firstOf(m.MessageID, m.OriginID)).Scan(&r.id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return msgRow{}, false, nil
	case err != nil:
		return msgRow{}, false, fmt.Errorf("shownFor: %w", err)
	}
	if err := t.queryRow("stateOf", r.id).Scan(&r.state, new(Direction), new(int64), new(int64)); err != nil {
		return msgRow{}, false, fmt.Errorf("stateOf: %w", err)
	}
	return r, true, nil
}
