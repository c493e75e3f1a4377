// The batching writer: one goroutine owns the write connection, takes
// operations from a queue and commits them in groups, one transaction per
// group. If a group fails, its operations are retried one transaction each,
// so one bad operation cannot take the others down with it.
package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"parley/app/clock"
)

// op is one queued write. run executes inside the batch's transaction; it
// must leave its results only in variables the caller reads after done.
type op struct {
	ctx  context.Context // nil for Put: nobody is waiting
	run  func(*wtx) error
	done chan error // nil for Put
	msg  *Message   // the message of a Put, for Options.OnError
	// buffered: run only stores messages, so it may leave new ones in the
	// insert buffer. Any other op starts by flushing the buffer.
	buffered bool
}

// do queues fn and waits until its transaction committed (or failed).
// Once queued, the operation runs unless ctx has ended before the writer
// reaches it, and do reports what really happened either way.
func (s *Store) do(ctx context.Context, fn func(*wtx) error) error {
	return s.doOp(&op{ctx: ctx, run: fn})
}

// doOp queues o and waits for its outcome.
func (s *Store) doOp(o *op) error {
	o.done = make(chan error, 1)
	if err := s.enqueue(o); err != nil {
		return err
	}
	return <-o.done
}

// enqueue hands o to the writer, blocking while the queue is full (until
// o.ctx ends, if it has one).
func (s *Store) enqueue(o *op) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	if o.ctx == nil {
		s.ops <- o
		return nil
	}
	select {
	case s.ops <- o:
		return nil
	case <-o.ctx.Done():
		return o.ctx.Err()
	}
}

// writeLoop is the writer goroutine. It ends when Close has closed the
// queue and everything in it is committed.
func (s *Store) writeLoop() {
	defer close(s.done)
	batch := make([]*op, 0, s.opts.MaxBatch)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		first, ok := <-s.ops
		if !ok {
			return
		}
		batch = append(batch[:0], first)
		waiting := first.done != nil
		lingering := false
	collect:
		for len(batch) < s.opts.MaxBatch {
			select {
			case o, ok := <-s.ops:
				if !ok {
					break collect
				}
				batch = append(batch, o)
				waiting = waiting || o.done != nil
				continue
			default:
			}
			// The queue is empty. Someone waits: commit now. Only Puts:
			// give a burst a few ms to fill the batch.
			if waiting {
				break
			}
			if !lingering {
				lingering = true
				timer.Reset(s.opts.MaxDelay)
			}
			select {
			case o, ok := <-s.ops:
				if !ok {
					break collect
				}
				batch = append(batch, o)
				waiting = waiting || o.done != nil
			case <-timer.C:
				lingering = false
				break collect
			}
		}
		if lingering {
			timer.Stop() // since Go 1.23 no stale tick can be received after Stop
		}
		s.commit(batch)
		clear(batch) // drop references to finished ops
	}
}

// commit runs batch in one transaction; if that fails, each operation alone.
func (s *Store) commit(batch []*op) {
	live := batch[:0:0]
	for _, o := range batch {
		if o.ctx != nil && o.ctx.Err() != nil {
			o.done <- o.ctx.Err()
			continue
		}
		live = append(live, o)
	}
	if len(live) == 0 {
		return
	}
	saved, resolved, err := s.w.runTx(live)
	if err == nil {
		s.finish(live, saved, resolved, nil)
		return
	}
	if len(live) == 1 {
		s.finish(live, nil, nil, err)
		return
	}
	for _, o := range live {
		one := []*op{o}
		saved, resolved, err := s.w.runTx(one)
		s.finish(one, saved, resolved, err)
	}
}

// finish reports a transaction's outcome to its callers, OnCommit and
// OnResolved.
func (s *Store) finish(ops []*op, saved, resolved []Saved, err error) {
	if err == nil && len(saved) > 0 && s.opts.OnCommit != nil {
		s.opts.OnCommit(saved)
	}
	if err == nil && len(resolved) > 0 && s.opts.OnResolved != nil {
		s.opts.OnResolved(resolved)
	}
	for _, o := range ops {
		switch {
		case o.done != nil:
			o.done <- err
		case err != nil && o.msg != nil && s.opts.OnError != nil:
			s.opts.OnError(*o.msg, err)
		}
	}
}

// writer is the state owned by the writer goroutine: prepared statements
// and caches that save a query per message.
type writer struct {
	db    *sql.DB
	stmts map[string]*sql.Stmt
	// convIDs maps a peer's bare JID to its conversations row id.
	convIDs map[string]int64
	// pendingEdits counts rows in pending_edits; while it is 0 a new message
	// need not look for corrections waiting for it.
	pendingEdits int
	// shownEdits: shown_edits has rows, so a new message may be the
	// original of a correction shown alone (orphan_edits.go).
	shownEdits bool
	// buf holds the current transaction's new messages (see insertbuf.go).
	buf insertBuffer
	// now is the store's clock (Options.Now).
	now clock.Func
}

func newWriter(ctx context.Context, db *sql.DB, now clock.Func) (*writer, error) {
	w := &writer{db: db, stmts: make(map[string]*sql.Stmt), convIDs: make(map[string]int64), buf: newInsertBuffer(),
		now: clock.Or(now)}
	for name, q := range writeSQL {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			w.close()
			return nil, fmt.Errorf("prepare %s: %w", name, err)
		}
		w.stmts[name] = st
	}
	if err := expirePendingEdits(ctx, db, w.now()); err != nil {
		w.close()
		return nil, err
	}
	if err := w.reload(ctx); err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

// reload refreshes the caches from the database (after a rollback).
func (w *writer) reload(ctx context.Context) error {
	clear(w.convIDs)
	if err := w.db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM shown_edits)").Scan(&w.shownEdits); err != nil {
		return err
	}
	return w.db.QueryRowContext(ctx, "SELECT count(*) FROM pending_edits").Scan(&w.pendingEdits)
}

func (w *writer) close() {
	for _, st := range w.stmts {
		_ = st.Close()
	}
}

// wtx is one write transaction of the writer.
type wtx struct {
	ctx   context.Context
	tx    *sql.Tx
	w     *writer
	buf   *insertBuffer
	stmts map[string]*sql.Stmt // the writer's statements bound to tx
	saved []Saved
	// resolved are the pending edits applied in this transaction (see
	// Options.OnResolved).
	resolved []Saved
}

// runTx runs ops in one transaction and commits it.
func (w *writer) runTx(ops []*op) (saved, resolved []Saved, err error) {
	ctx := context.Background()
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("begin: %w", err)
	}
	w.buf.reset()
	t := &wtx{ctx: ctx, tx: tx, w: w, buf: &w.buf, stmts: make(map[string]*sql.Stmt, 16)}
	pending := w.pendingEdits
	defer func() {
		if err != nil {
			_ = tx.Rollback()
			w.pendingEdits = pending
			if rerr := w.reload(ctx); rerr != nil {
				err = fmt.Errorf("%w (and reloading caches: %v)", err, rerr)
			}
		}
	}()
	for _, o := range ops {
		if !o.buffered {
			if err := t.flushInserts(); err != nil {
				return nil, nil, err
			}
		}
		if err := o.run(t); err != nil {
			return nil, nil, err
		}
	}
	if err := t.flushInserts(); err != nil {
		return nil, nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, nil, fmt.Errorf("commit: %w", err)
	}
	return t.saved, t.resolved, nil
}

// stmt returns the named prepared statement bound to the transaction.
func (t *wtx) stmt(name string) *sql.Stmt {
	if st, ok := t.stmts[name]; ok {
		return st
	}
	base, ok := t.w.stmts[name]
	if !ok {
		panic("store: no statement " + name)
	}
	st := t.tx.StmtContext(t.ctx, base)
	t.stmts[name] = st
	return st
}

func (t *wtx) exec(name string, args ...any) (sql.Result, error) {
	res, err := t.stmt(name).ExecContext(t.ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return res, nil
}

// execChanged runs the named statement and reports whether it changed a row.
func (t *wtx) execChanged(name string, args ...any) (bool, error) {
	res, err := t.exec(name, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("%s: %w", name, err)
	}
	return n > 0, nil
}

func (t *wtx) queryRow(name string, args ...any) *sql.Row {
	return t.stmt(name).QueryRowContext(t.ctx, args...)
}

func (t *wtx) query(name string, args ...any) (*sql.Rows, error) {
	rows, err := t.stmt(name).QueryContext(t.ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return rows, nil
}
