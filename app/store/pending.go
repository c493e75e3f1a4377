// Pending edits: corrections (XEP-0308) and retractions (XEP-0424) that
// arrived before the message they change (table pending_edits) wait for it
// pendingEditTTL at most, counted from when they were stored here (column
// stored_at), then are deleted, at Open and whenever another one is stored.
// Most wait seconds (the message comes in the same catch-up); one whose
// message never comes (an edit from a stranger, or of a message the archive
// no longer holds) would otherwise stay forever and slow every message
// stored.
//
// Not the edit's own time (ts): an edit fetched from the archive may be
// years old and still wait only a page for its message.
package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// pendingEditTTL is how long an edit waits for its message.
const pendingEditTTL = 7 * 24 * time.Hour

// pendingCutoff is the smallest stored_at of an edit still waiting at now.
func pendingCutoff(now time.Time) int64 {
	return now.Add(-pendingEditTTL).UnixMilli()
}

// pendingDateUndated gives the rows stored before schema version 5 (the
// migration left their stored_at 0) the time of the Open that first sees
// them, so they too wait the whole TTL. Done here rather than in the
// migration because this is where the store's clock (Options.Now) is:
// SQL's own clock would be a second one, which tests could not set. New rows always get a time,
// so only the first Open after the migration finds any.
const pendingDateUndated = `UPDATE pending_edits SET stored_at = ?1 WHERE stored_at = 0`

// keepPendingEdit stores an edit whose message is not stored yet, then
// deletes the ones that waited too long, keeping the writer's count of
// pending edits in step.
func (t *wtx) keepPendingEdit(conv int64, dir Direction, target string, retract bool, body string, ts int64, ids editIDs) error {
	now := t.w.now()
	if _, err := t.exec("pendingInsert", conv, dir, target, retract, body, ts, now.UnixMilli(), ids.origin, ids.msg); err != nil {
		return err
	}
	t.w.pendingEdits++
	res, err := t.exec("pendingExpire", pendingCutoff(now))
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("pendingExpire: %w", err)
	}
	t.w.pendingEdits -= int(n)
	return nil
}

// expirePendingEdits runs at Open, before the writer starts (which then
// counts the rows left): it dates the rows stored before stored_at existed
// (as of now) and deletes the expired ones.
func expirePendingEdits(ctx context.Context, db *sql.DB, now time.Time) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("expire pending edits: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
			err = fmt.Errorf("expire pending edits: %w", err)
		}
	}()
	if _, err := tx.ExecContext(ctx, pendingDateUndated, now.UnixMilli()); err != nil {
		return fmt.Errorf("date older rows: %w", err)
	}
	if _, err := tx.ExecContext(ctx, writeSQL["pendingExpire"], pendingCutoff(now)); err != nil {
		return fmt.Errorf("delete expired: %w", err)
	}
	return tx.Commit()
}
