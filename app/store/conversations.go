// The conversation list: newest activity first (the last message's time;
// for a chat without messages, when it was started) with unread counts and
// the last message as preview; read markers, drafts, starting and deleting
// a chat.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// activitySQL is a conversation's place in the list: its last message's
// time, or for one without messages the time it was started. Not
// last_activity alone: versions before this one moved a conversation up
// (raised last_activity) whenever it was opened, and this way such a list
// is in message order again with no migration.
const activitySQL = `CASE WHEN c.last_message_id IS NULL THEN c.last_activity ELSE c.last_ts END`

const conversationSQL = `SELECT c.peer, ` + activitySQL + `, c.unread, c.draft, c.read_ts, c.read_id, c.accepted,
	` + messageCols + `
	FROM conversations c LEFT JOIN messages m ON m.id = c.last_message_id`

// Conversations returns up to limit conversations (0: all), the most
// recently active first, each with its last message.
func (s *Store) Conversations(ctx context.Context, limit int) ([]Conversation, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	// Conversations only created to hold an edit waiting for its message
	// have no activity, message nor draft: not listed.
	rows, err := s.rdb.QueryContext(ctx, conversationSQL+`
		WHERE c.last_activity > 0 OR c.last_message_id IS NOT NULL OR c.draft != ''
		ORDER BY `+activitySQL+` DESC, c.id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("conversations: %w", err)
	}
	convs, err := scanConversations(rows)
	if err != nil {
		return nil, fmt.Errorf("conversations: %w", err)
	}
	return convs, nil
}

// Conversation returns the conversation with peer; found is false if there is none.
func (s *Store) Conversation(ctx context.Context, peer string) (c Conversation, found bool, err error) {
	rows, err := s.rdb.QueryContext(ctx, conversationSQL+` WHERE c.peer = ?`, peer)
	if err != nil {
		return c, false, fmt.Errorf("conversation %s: %w", peer, err)
	}
	convs, err := scanConversations(rows)
	if err != nil || len(convs) == 0 {
		return c, false, err
	}
	return convs[0], true, nil
}

func scanConversations(rows *sql.Rows) ([]Conversation, error) {
	defer rows.Close()
	var out []Conversation
	for rows.Next() {
		var (
			c                        Conversation
			activity                 int64
			id, ts, editedAt, state  sql.NullInt64
			dir, retracted, markable sql.NullInt64
			sender, body, typ, errTx sql.NullString
			origin, stanza, msgID    sql.NullString
			original                 sql.NullString
			att                      attachmentScan
		)
		err := rows.Scan(&c.Peer, &activity, &c.Unread, &c.Draft, &c.LastRead.Time, &c.LastRead.ID, &c.Accepted,
			&id, &dir, &sender, &body, &ts, &typ, &origin, &stanza, &msgID, &state, &errTx, &editedAt,
			&original, &retracted, &markable, &att.raw)
		if err != nil {
			return nil, err
		}
		c.LastActivity = time.UnixMilli(activity)
		if id.Valid {
			c.Last = &Message{
				ID: id.Int64, Conversation: c.Peer, Direction: Direction(dir.Int64), Sender: sender.String,
				Body: body.String, Time: time.UnixMilli(ts.Int64), Type: typ.String, OriginID: origin.String,
				StanzaID: stanza.String, MessageID: msgID.String, State: State(state.Int64), Error: errTx.String,
				Edited: editedAt.Int64 != 0, OriginalBody: original.String, Retracted: retracted.Int64 != 0,
				Markable: markable.Int64 != 0, Attachment: att.attachment(),
			}
			if c.Last.Edited {
				c.Last.EditedAt = time.UnixMilli(editedAt.Int64)
			}
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// UnreadTotal is the sum of the unread counts (for the window title).
func (s *Store) UnreadTotal(ctx context.Context) (int, error) {
	var n int
	if err := s.rdb.QueryRowContext(ctx, `SELECT coalesce(sum(unread), 0) FROM conversations`).Scan(&n); err != nil {
		return 0, fmt.Errorf("unread total: %w", err)
	}
	return n, nil
}

// MarkRead moves the read marker of the conversation with peer forward to
// message upTo (0: its newest message) and returns the unread count left
// (incoming messages after the marker). A marker never moves back.
func (s *Store) MarkRead(ctx context.Context, peer string, upTo int64) (unread int, err error) {
	err = s.do(ctx, func(t *wtx) error {
		var conv int64
		err := t.queryRow("convByPeer", peer).Scan(&conv)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		unread, err = t.markRead(conv, peer, upTo)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("mark %s read: %w", peer, err)
	}
	return unread, nil
}

// MarkReadByMessageID is MarkRead up to the incoming message from peer
// whose origin-id or id attribute is msgID (what a displayed marker names:
// the account read it on another device). found is false when no such
// message is stored.
func (s *Store) MarkReadByMessageID(ctx context.Context, peer, msgID string) (unread int, found bool, err error) {
	err = s.do(ctx, func(t *wtx) error {
		var conv, id int64
		err := t.queryRow("convByPeer", peer).Scan(&conv)
		if err == nil {
			err = t.queryRow("byOriginID", conv, In, msgID).Scan(&id, new(State))
		}
		if errors.Is(err, sql.ErrNoRows) {
			err = t.queryRow("byMessageID", conv, In, msgID).Scan(&id, new(State))
		}
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		unread, err = t.markRead(conv, peer, id)
		return err
	})
	if err != nil {
		return 0, false, fmt.Errorf("mark %s read up to %s: %w", peer, msgID, err)
	}
	return unread, found, nil
}

// markRead moves conversation conv's read marker forward to message upTo
// (0: the newest) and recounts its unread messages.
func (t *wtx) markRead(conv int64, peer string, upTo int64) (unread int, err error) {
	var ts int64
	if upTo == 0 {
		err = t.queryRow("newest", conv).Scan(&upTo, &ts)
	} else {
		err = t.queryRow("markerOf", upTo, conv).Scan(&ts)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("message %d of %s: %w", upTo, peer, ErrNotFound)
	}
	if err != nil {
		return 0, err
	}
	if _, err := t.exec("setMarker", conv, ts, upTo); err != nil {
		return 0, err
	}
	if err := t.queryRow("countUnread", conv).Scan(&unread); err != nil {
		return 0, fmt.Errorf("countUnread: %w", err)
	}
	_, err = t.exec("setUnread", conv, unread)
	return unread, err
}

// Draft returns the composer text kept for peer ("" if none).
func (s *Store) Draft(ctx context.Context, peer string) (string, error) {
	var d string
	err := s.rdb.QueryRowContext(ctx, `SELECT draft FROM conversations WHERE peer = ?`, peer).Scan(&d)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("draft for %s: %w", peer, err)
	}
	return d, nil
}

// SetDraft keeps text as the composer draft for peer (creating the
// conversation if needed; it does not move it in the list).
func (s *Store) SetDraft(ctx context.Context, peer, text string) error {
	err := s.do(ctx, func(t *wtx) error {
		conv, err := t.conversation(peer, t.w.now().UnixMilli())
		if err != nil {
			return err
		}
		_, err = t.exec("setDraft", conv, text)
		return err
	})
	if err != nil {
		return fmt.Errorf("set draft for %s: %w", peer, err)
	}
	return nil
}

// StartConversation makes the conversation with peer show in the list (a
// chat opened from the contact list, by JID or from an xmpp: URI). A new
// one, or one not listed yet (no message nor start time: it only held an
// edit waiting for its message), is started as of at, so it shows at the
// top until messages place it. An existing one keeps its place: opening a
// chat is not activity. started reports whether the list changed. Opening
// a chat also accepts it (see requests.go); accepted reports whether it
// was not accepted before. Opening a listed, accepted conversation only
// reads (it does not wait behind the writer, which may be busy storing a
// catch-up).
func (s *Store) StartConversation(ctx context.Context, peer string, at time.Time) (started, accepted bool, err error) {
	var listed, wasAccepted bool
	err = s.rdb.QueryRowContext(ctx, `SELECT last_activity != 0 OR last_message_id IS NOT NULL, accepted
		FROM conversations WHERE peer = ?`, peer).Scan(&listed, &wasAccepted)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, false, fmt.Errorf("start conversation with %s: %w", peer, err)
	}
	if listed && wasAccepted {
		return false, false, nil
	}
	err = s.do(ctx, func(t *wtx) error {
		started, accepted = false, false
		var id int64
		switch err := t.queryRow("convByPeer", peer).Scan(&id); {
		case errors.Is(err, sql.ErrNoRows):
			started = true // created below
		case err != nil:
			return err
		}
		conv, err := t.conversation(peer, at.UnixMilli())
		if err != nil {
			return err
		}
		changed, err := t.execChanged("convStart", conv, at.UnixMilli())
		if err != nil {
			return err
		}
		started = started || changed
		accepted, err = t.execChanged("convAccept", conv)
		return err
	})
	if err != nil {
		return false, false, fmt.Errorf("start conversation with %s: %w", peer, err)
	}
	return started, accepted, nil
}

// DeleteConversation deletes the conversation with peer and all its messages.
func (s *Store) DeleteConversation(ctx context.Context, peer string) error {
	err := s.do(ctx, func(t *wtx) error {
		// Not a prepared statement: rare, and the writer's cache must forget the id.
		if _, err := t.tx.ExecContext(t.ctx, `DELETE FROM conversations WHERE peer = ?`, peer); err != nil {
			return err
		}
		delete(t.w.convIDs, peer)
		// Its pending edits went with it.
		return t.tx.QueryRowContext(t.ctx, `SELECT count(*) FROM pending_edits`).Scan(&t.w.pendingEdits)
	})
	if err != nil {
		return fmt.Errorf("delete conversation with %s: %w", peer, err)
	}
	return nil
}
