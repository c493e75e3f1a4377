// Archive (XEP-0313) sync state: how far the account's archive has been read
// (the catch-up on login starts there) and the gaps left when the archive
// could not be read to the end, to be filled when the user scrolls into them.
// Writes go through the writer queue, so a position saved after Put calls is
// committed with or after those messages: a crash can make the catch-up
// fetch messages again (they are deduplicated), never skip them.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SyncPosition returns how far archive has been read; found is false before
// the first sync.
func (s *Store) SyncPosition(ctx context.Context, archive string) (p SyncPosition, found bool, err error) {
	var ts int64
	err = s.rdb.QueryRowContext(ctx, `SELECT last_id, last_ts FROM sync_state WHERE archive = ?`, archive).
		Scan(&p.LastID, &ts)
	if errors.Is(err, sql.ErrNoRows) {
		return SyncPosition{Archive: archive}, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("sync position of %s: %w", archive, err)
	}
	p.Archive, p.Time = archive, time.UnixMilli(ts)
	return p, true, nil
}

// SetSyncPosition records that p.Archive has been read up to p.LastID. It
// never moves the position back in time (filling an old gap does not).
func (s *Store) SetSyncPosition(ctx context.Context, p SyncPosition) error {
	err := s.do(ctx, func(t *wtx) error {
		_, err := t.tx.ExecContext(t.ctx, `INSERT INTO sync_state(archive, last_id, last_ts) VALUES (?1, ?2, ?3)
			ON CONFLICT(archive) DO UPDATE SET last_id = ?2, last_ts = ?3 WHERE ?3 >= last_ts`,
			p.Archive, p.LastID, p.Time.UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("set sync position of %s: %w", p.Archive, err)
	}
	return nil
}

// AddGap records a gap in the archive's history and returns its id.
func (s *Store) AddGap(ctx context.Context, g Gap) (id int64, err error) {
	err = s.do(ctx, func(t *wtx) error {
		res, err := t.tx.ExecContext(t.ctx, `INSERT INTO sync_gaps(archive, conversation, after_id, before_id, start_ts, end_ts)
			VALUES (?, ?, ?, ?, ?, ?)`, g.Archive, g.Conversation, g.AfterID, g.BeforeID, g.Start.UnixMilli(), g.End.UnixMilli())
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("add gap in %s: %w", g.Archive, err)
	}
	return id, nil
}

// UpdateGap replaces gap g.ID with g (it shrank after a partial fill).
func (s *Store) UpdateGap(ctx context.Context, g Gap) error {
	err := s.do(ctx, func(t *wtx) error {
		_, err := t.tx.ExecContext(t.ctx, `UPDATE sync_gaps SET archive = ?2, conversation = ?3, after_id = ?4,
			before_id = ?5, start_ts = ?6, end_ts = ?7 WHERE id = ?1`,
			g.ID, g.Archive, g.Conversation, g.AfterID, g.BeforeID, g.Start.UnixMilli(), g.End.UnixMilli())
		return err
	})
	if err != nil {
		return fmt.Errorf("update gap %d: %w", g.ID, err)
	}
	return nil
}

// DeleteGap forgets gap id (it has been filled).
func (s *Store) DeleteGap(ctx context.Context, id int64) error {
	err := s.do(ctx, func(t *wtx) error {
		_, err := t.tx.ExecContext(t.ctx, `DELETE FROM sync_gaps WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete gap %d: %w", id, err)
	}
	return nil
}

// Gaps returns archive's gaps that concern conversation (those of that
// conversation and those of the whole archive; conversation "" gives all),
// the newest first, so the view can tell whether the user scrolled into one.
func (s *Store) Gaps(ctx context.Context, archive, conversation string) ([]Gap, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, conversation, after_id, before_id, start_ts, end_ts
		FROM sync_gaps WHERE archive = ?1 AND (?2 = '' OR conversation IN ('', ?2))
		ORDER BY end_ts DESC, id DESC`, archive, conversation)
	if err != nil {
		return nil, fmt.Errorf("gaps in %s: %w", archive, err)
	}
	defer rows.Close()
	var out []Gap
	for rows.Next() {
		g := Gap{Archive: archive}
		var start, end int64
		if err := rows.Scan(&g.ID, &g.Conversation, &g.AfterID, &g.BeforeID, &start, &end); err != nil {
			return nil, fmt.Errorf("gaps in %s: %w", archive, err)
		}
		g.Start, g.End = time.UnixMilli(start), time.UnixMilli(end)
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("gaps in %s: %w", archive, err)
	}
	return out, nil
}
