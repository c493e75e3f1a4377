// The outbox of edits: our own corrections (XEP-0308) and retractions
// (XEP-0424) on their way to the server (table outbox_edits). QueueEdit
// applies an edit to its message and queues it in one transaction, so the
// history never shows a change that will not be sent, nor sends one it
// does not show. An edit stays queued until the server has it: its
// XEP-0198 ack (EditSent), or a copy of it found in the archive (save
// marks it sent in the transaction that stores the copy). Sent rows are
// kept a week, then deleted.
//
// Queued edits go out in order with the queued messages: an edit is placed
// after the newest own message of its conversation when it was made (After),
// so a correction of a message still in the outbox follows that message.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Edit is one of our corrections or retractions in the outbox.
type Edit struct {
	ID           string    // the stanza's id attribute, also its origin-id (XEP-0359)
	Conversation string    // the peer's bare JID
	Target       string    // origin-id (or id attribute) of the message it changes
	Retract      bool      // a retraction; else a correction to Body
	Body         string    // the corrected text ("" for a retraction)
	Time         time.Time // when it was made; kept in ms
	State        State     // StateQueued until the server has it, then StateSent
	// After is the row id of the newest own message of the conversation
	// when the edit was made (0: none). The edit goes out after the queued
	// messages up to that one, and before later ones; set by QueueEdit.
	After int64
}

// sentEditsKept is how long a sent edit's row is kept.
const sentEditsKept = 7 * 24 * time.Hour

func init() {
	writeSQL["editAfter"] = `SELECT id FROM messages WHERE conversation_id = ?1 AND direction = 1
		ORDER BY ts DESC, id DESC LIMIT 1`
	writeSQL["editQueue"] = `INSERT INTO outbox_edits(edit_id, conversation_id, target, retract, body, ts, after_id, state)
		VALUES (?, ?, ?, ?, ?, ?, ?, 1)`
	writeSQL["editSent"] = `UPDATE outbox_edits SET state = 2 WHERE edit_id = ? AND state = 1`
	// A copy of one of our edits came back (the archive): the server has it.
	writeSQL["editCopySent"] = `UPDATE outbox_edits SET state = 2
		WHERE conversation_id = ?1 AND edit_id IN (?2, ?3) AND state = 1`
	writeSQL["editsExpire"] = `DELETE FROM outbox_edits WHERE state = 2 AND ts < ?`
}

// editCols are the outbox_edits columns scanEdits reads (alias e, with c
// the conversation).
const editCols = `e.edit_id, c.peer, e.target, e.retract, e.body, e.ts, e.after_id, e.state`

// QueueEdit applies a correction or retraction of our own message to the
// history and puts it in the outbox, in one transaction. e.ID, e.Conversation
// and e.Target are required; a zero e.Time is now. It returns the queued
// edit (with After) and what applying it did (Corrected, Retracted, Pending
// when the message is not stored, Ignored when it is retracted already).
func (s *Store) QueueEdit(ctx context.Context, e Edit) (Edit, Saved, error) {
	if e.ID == "" || e.Conversation == "" || e.Target == "" {
		return Edit{}, Saved{}, fmt.Errorf("queue edit: id, conversation and target are required (%q, %q, %q)", e.ID, e.Conversation, e.Target)
	}
	if e.Time.IsZero() {
		e.Time = s.opts.Now()
	}
	if e.Retract {
		e.Body = ""
	}
	ts := clampTime(e.Time.UnixMilli())
	e.Time, e.State = time.UnixMilli(ts), StateQueued
	m := Message{Conversation: e.Conversation, Direction: Out, Time: e.Time, OriginID: e.ID, MessageID: e.ID,
		State: StateQueued}
	if e.Retract {
		m.RetractID = e.Target
	} else {
		m.ReplaceID, m.Body = e.Target, e.Body
	}
	var res Saved
	err := s.do(ctx, func(t *wtx) error {
		var err error
		if res, err = t.save(m); err != nil {
			return err
		}
		conv, err := t.conversation(e.Conversation, 0)
		if err != nil {
			return err
		}
		e.After = 0
		if err := t.queryRow("editAfter", conv).Scan(&e.After); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("editAfter: %w", err)
		}
		_, err = t.exec("editQueue", e.ID, conv, e.Target, e.Retract, e.Body, ts, e.After)
		return err
	})
	if err != nil {
		return Edit{}, Saved{}, fmt.Errorf("queue edit %s of %s: %w", e.ID, e.Target, err)
	}
	return e, res, nil
}

// OutboxEdits returns the queued edits in the order they go out: by After,
// then in the order they were made.
func (s *Store) OutboxEdits(ctx context.Context) ([]Edit, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+editCols+` FROM outbox_edits e
		JOIN conversations c ON c.id = e.conversation_id
		WHERE e.state = 1 ORDER BY e.after_id, e.id`)
	if err != nil {
		return nil, fmt.Errorf("outbox of edits: %w", err)
	}
	edits, err := scanEdits(rows)
	if err != nil {
		return nil, fmt.Errorf("outbox of edits: %w", err)
	}
	return edits, nil
}

// GetEdit returns the edit with stanza id id (queued or sent), or ErrNotFound.
func (s *Store) GetEdit(ctx context.Context, id string) (Edit, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+editCols+` FROM outbox_edits e
		JOIN conversations c ON c.id = e.conversation_id WHERE e.edit_id = ?`, id)
	if err != nil {
		return Edit{}, fmt.Errorf("edit %s: %w", id, err)
	}
	edits, err := scanEdits(rows)
	if err != nil {
		return Edit{}, fmt.Errorf("edit %s: %w", id, err)
	}
	if len(edits) == 0 {
		return Edit{}, fmt.Errorf("edit %s: %w", id, ErrNotFound)
	}
	return edits[0], nil
}

// EditSent marks the edit with stanza id id sent (the server acknowledged
// it); changed is false when it was not queued. Sent edits older than a
// week are deleted on the way.
func (s *Store) EditSent(ctx context.Context, id string) (changed bool, err error) {
	err = s.do(ctx, func(t *wtx) error {
		res, err := t.exec("editSent", id)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		changed = n > 0
		_, err = t.exec("editsExpire", t.w.now().Add(-sentEditsKept).UnixMilli())
		return err
	})
	if err != nil {
		return false, fmt.Errorf("mark edit %s sent: %w", id, err)
	}
	return changed, nil
}

// ownEditCopy marks sent the queued edit m is a copy of, if any: m is one
// of our corrections or retractions that came from the server (the
// archive), so the server has it.
func (t *wtx) ownEditCopy(conv int64, m *Message) error {
	if m.OriginID == "" && m.MessageID == "" {
		return nil
	}
	_, err := t.exec("editCopySent", conv, m.OriginID, m.MessageID)
	return err
}

func scanEdits(rows *sql.Rows) ([]Edit, error) {
	defer rows.Close()
	var out []Edit
	for rows.Next() {
		var (
			e  Edit
			ts int64
		)
		if err := rows.Scan(&e.ID, &e.Conversation, &e.Target, &e.Retract, &e.Body, &ts, &e.After, &e.State); err != nil {
			return nil, err
		}
		e.Time = time.UnixMilli(ts)
		out = append(out, e)
	}
	return out, rows.Err()
}
