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
		id, err = t.insertGap(g, false)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("add gap in %s: %w", g.Archive, err)
	}
	return id, nil
}

func (t *wtx) insertGap(g Gap, filled bool) (int64, error) {
	res, err := t.tx.ExecContext(t.ctx, `INSERT INTO sync_gaps(archive, conversation, after_id, before_id, start_ts, end_ts, parent, filled)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, g.Archive, g.Conversation, g.AfterID, g.BeforeID, unixMilli(g.Start), unixMilli(g.End), g.Parent, filled)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// unixMilli is t in ms, 0 for the zero time (a gap's open end).
func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromUnixMilli(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// AdvanceSync records, in one transaction, that the archive has been read
// up to p and, unless gap is nil, that gap (what lies between the previous
// position and the pages read so far) is still to be fetched. It returns
// the gap's id (0 without one).
func (s *Store) AdvanceSync(ctx context.Context, p SyncPosition, gap *Gap) (gapID int64, err error) {
	err = s.do(ctx, func(t *wtx) error {
		if gap != nil {
			if gapID, err = t.insertGap(*gap, false); err != nil {
				return err
			}
		}
		_, err := t.tx.ExecContext(t.ctx, `INSERT INTO sync_state(archive, last_id, last_ts) VALUES (?1, ?2, ?3)
			ON CONFLICT(archive) DO UPDATE SET last_id = ?2, last_ts = ?3 WHERE ?3 >= last_ts`,
			p.Archive, p.LastID, p.Time.UnixMilli())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("advance sync position of %s: %w", p.Archive, err)
	}
	return gapID, nil
}

// NarrowGap records that peer's messages in gap g have been fetched back
// to (beforeID, end), or all of them when done. For a whole-archive gap
// this creates peer's own part of it (so g no longer applies to peer);
// for peer's part it updates that. It returns peer's remaining part.
func (s *Store) NarrowGap(ctx context.Context, g Gap, peer, beforeID string, end time.Time, done bool) (Gap, error) {
	part := g
	part.Conversation, part.BeforeID, part.End = peer, beforeID, end
	err := s.do(ctx, func(t *wtx) error {
		switch {
		case g.Conversation == "":
			part.Parent = g.ID
			id, err := t.insertGap(part, done)
			part.ID = id
			return err
		case done && g.Parent == 0:
			_, err := t.tx.ExecContext(t.ctx, `DELETE FROM sync_gaps WHERE id = ?`, g.ID)
			return err
		default:
			_, err := t.tx.ExecContext(t.ctx, `UPDATE sync_gaps SET before_id = ?2, end_ts = ?3, filled = ?4 WHERE id = ?1`,
				g.ID, beforeID, unixMilli(end), done)
			return err
		}
	})
	if err != nil {
		return Gap{}, fmt.Errorf("record history of %s fetched in gap %d: %w", peer, g.ID, err)
	}
	return part, nil
}

// UpdateGap replaces gap g.ID with g (it shrank after a partial fill).
func (s *Store) UpdateGap(ctx context.Context, g Gap) error {
	err := s.do(ctx, func(t *wtx) error {
		_, err := t.tx.ExecContext(t.ctx, `UPDATE sync_gaps SET archive = ?2, conversation = ?3, after_id = ?4,
			before_id = ?5, start_ts = ?6, end_ts = ?7 WHERE id = ?1`,
			g.ID, g.Archive, g.Conversation, g.AfterID, g.BeforeID, unixMilli(g.Start), unixMilli(g.End))
		return err
	})
	if err != nil {
		return fmt.Errorf("update gap %d: %w", g.ID, err)
	}
	return nil
}

// DeleteGap forgets gap id and its conversations' parts (it has been filled).
func (s *Store) DeleteGap(ctx context.Context, id int64) error {
	err := s.do(ctx, func(t *wtx) error {
		_, err := t.tx.ExecContext(t.ctx, `DELETE FROM sync_gaps WHERE id = ?1 OR parent = ?1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete gap %d: %w", id, err)
	}
	return nil
}

// Gaps returns archive's gaps still to fill that concern conversation (its
// own parts and the whole-archive gaps it has no part of yet;
// conversation "" gives all), the newest first.
func (s *Store) Gaps(ctx context.Context, archive, conversation string) ([]Gap, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, conversation, after_id, before_id, start_ts, end_ts, parent
		FROM sync_gaps g WHERE archive = ?1 AND filled = 0 AND (?2 = '' OR conversation = ?2 OR (conversation = ''
			AND NOT EXISTS (SELECT 1 FROM sync_gaps p WHERE p.parent = g.id AND p.conversation = ?2)))
		ORDER BY end_ts = 0 DESC, end_ts DESC, id DESC`, archive, conversation)
	if err != nil {
		return nil, fmt.Errorf("gaps in %s: %w", archive, err)
	}
	defer rows.Close()
	var out []Gap
	for rows.Next() {
		g := Gap{Archive: archive}
		var start, end int64
		if err := rows.Scan(&g.ID, &g.Conversation, &g.AfterID, &g.BeforeID, &start, &end, &g.Parent); err != nil {
			return nil, fmt.Errorf("gaps in %s: %w", archive, err)
		}
		g.Start, g.End = fromUnixMilli(start), fromUnixMilli(end)
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("gaps in %s: %w", archive, err)
	}
	return out, nil
}
