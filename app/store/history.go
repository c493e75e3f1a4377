// Reading a conversation's history: the latest page and the pages before or
// after a position, keyset-paged on (time, row id) so pages are stable and
// cheap at any depth, and single messages by row id.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

// DefaultPage is the page size used when a limit of 0 or less is given.
const DefaultPage = 50

// messageCols are the messages columns scanMessages reads (alias m), the
// attachment's last.
const messageCols = `m.id, m.direction, m.sender, m.body, m.ts, m.type, coalesce(m.origin_id, ''),
	coalesce(m.stanza_id, ''), coalesce(m.message_id, ''), m.state, m.error, m.edited_at,
	coalesce(m.original_body, ''), m.retracted, m.markable, ` + attachmentCols

// Paging queries: the conversation is looked up once, then the index
// messages_conversation_ts is walked from the cursor.
const (
	latestSQL = `SELECT ` + messageCols + ` FROM messages m
		WHERE m.conversation_id = (SELECT id FROM conversations WHERE peer = ?1)
		ORDER BY m.ts DESC, m.id DESC LIMIT ?2`
	beforeSQL = `SELECT ` + messageCols + ` FROM messages m
		WHERE m.conversation_id = (SELECT id FROM conversations WHERE peer = ?1) AND (m.ts, m.id) < (?2, ?3)
		ORDER BY m.ts DESC, m.id DESC LIMIT ?4`
	afterSQL = `SELECT ` + messageCols + ` FROM messages m
		WHERE m.conversation_id = (SELECT id FROM conversations WHERE peer = ?1) AND (m.ts, m.id) > (?2, ?3)
		ORDER BY m.ts, m.id LIMIT ?4`
	getSQL = `SELECT ` + messageCols + `, c.peer FROM messages m
		JOIN conversations c ON c.id = m.conversation_id WHERE m.id = ?`
)

// scanMessages reads rows of messageCols; with peer "" each row also has
// the conversation's peer as its last column.
func scanMessages(rows *sql.Rows, peer string) ([]Message, error) {
	defer rows.Close()
	var out []Message
	for rows.Next() {
		m := Message{Conversation: peer}
		var ts, editedAt int64
		var att attachmentScan
		dest := []any{&m.ID, &m.Direction, &m.Sender, &m.Body, &ts, &m.Type, &m.OriginID,
			&m.StanzaID, &m.MessageID, &m.State, &m.Error, &editedAt, &m.OriginalBody, &m.Retracted, &m.Markable, &att.raw}
		if peer == "" {
			dest = append(dest, &m.Conversation)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		m.Time = time.UnixMilli(ts)
		m.Attachment = att.attachment()
		if editedAt != 0 {
			m.Edited = true
			m.EditedAt = time.UnixMilli(editedAt)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func pageLimit(n int) int {
	if n <= 0 {
		return DefaultPage
	}
	return n
}

// Latest returns the newest limit messages of the conversation with peer,
// oldest first (the order they are shown in).
func (s *Store) Latest(ctx context.Context, peer string, limit int) ([]Message, error) {
	msgs, err := s.page(ctx, s.reads.latest, peer, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", peer, err)
	}
	slices.Reverse(msgs)
	return msgs, nil
}

// Before returns up to limit messages older than c (scrolling up), oldest first.
func (s *Store) Before(ctx context.Context, peer string, c Cursor, limit int) ([]Message, error) {
	msgs, err := s.page(ctx, s.reads.before, peer, c.Time, c.ID, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("history of %s before %v: %w", peer, c, err)
	}
	slices.Reverse(msgs)
	return msgs, nil
}

// After returns up to limit messages newer than c (scrolling down after a
// jump to a search result), oldest first.
func (s *Store) After(ctx context.Context, peer string, c Cursor, limit int) ([]Message, error) {
	msgs, err := s.page(ctx, s.reads.after, peer, c.Time, c.ID, pageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("history of %s after %v: %w", peer, c, err)
	}
	return msgs, nil
}

func (s *Store) page(ctx context.Context, st *sql.Stmt, peer string, args ...any) ([]Message, error) {
	rows, err := st.QueryContext(ctx, append([]any{peer}, args...)...)
	if err != nil {
		return nil, err
	}
	return scanMessages(rows, peer)
}

// Get returns the message with row id id, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id int64) (Message, error) {
	rows, err := s.reads.get.QueryContext(ctx, id)
	if err != nil {
		return Message{}, fmt.Errorf("message %d: %w", id, err)
	}
	msgs, err := scanMessages(rows, "")
	if err != nil {
		return Message{}, fmt.Errorf("message %d: %w", id, err)
	}
	if len(msgs) == 0 {
		return Message{}, fmt.Errorf("message %d: %w", id, ErrNotFound)
	}
	return msgs[0], nil
}

// readStmts are the hot read queries, prepared once on the read pool.
type readStmts struct {
	latest, before, after, get, search *sql.Stmt
}

func (r *readStmts) prepare(ctx context.Context, db *sql.DB) error {
	for _, p := range []struct {
		st **sql.Stmt
		q  string
	}{
		{&r.latest, latestSQL}, {&r.before, beforeSQL}, {&r.after, afterSQL}, {&r.get, getSQL},
		{&r.search, searchSQL},
	} {
		st, err := db.PrepareContext(ctx, p.q)
		if err != nil {
			return errors.Join(fmt.Errorf("prepare %.40q: %w", p.q, err), r.close())
		}
		*p.st = st
	}
	return nil
}

func (r *readStmts) close() error {
	var errs []error
	for _, st := range []*sql.Stmt{r.latest, r.before, r.after, r.get, r.search} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}
