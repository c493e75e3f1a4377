// Package store is Parley's local message history: one SQLite database per
// profile (modernc.org/sqlite, pure Go) holding messages, conversations, the
// outbox of unsent messages, corrections and retractions, and the archive
// (XEP-0313) sync state, with an FTS5 full-text index for search.
//
// All writes go through one writer goroutine that groups them into
// transactions (up to Options.MaxBatch operations, or what arrives within
// Options.MaxDelay), so a burst of thousands of incoming messages costs a few
// commits, not thousands. Each transaction is all or nothing: a crash loses at
// most the batch not yet committed and never leaves half of one. Reads use a
// separate pool of read-only connections and, thanks to WAL, never wait for
// the writer; they see what has been committed (Flush waits for that).
//
// Row ids are allocated in time order (ts<<20 plus a sequence number), so
// the id order is the conversation order and the FTS index, which walks row
// ids, returns the newest matches first without sorting them all.
//
// This file opens and closes the store and holds its connection settings.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"parley/app/clock"
)

// Errors callers may want to tell apart.
var (
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("history store is closed")
	// ErrNotFound: no such message.
	ErrNotFound = errors.New("message not found")
)

// Options tune the store; the zero value is fine.
type Options struct {
	// MaxBatch is the most write operations (messages, state changes, ...)
	// committed in one transaction. Default 1000.
	MaxBatch int
	// MaxDelay is how long the writer waits for more messages to join a
	// batch of Put messages before committing it; batches with a caller
	// waiting (Save, SetState, ...) commit at once. Default 3 ms.
	MaxDelay time.Duration
	// QueueSize is how many operations may wait for the writer; Put blocks
	// beyond it (back-pressure on the network reader). Default 8192.
	QueueSize int
	// ReadConns is the size of the read connection pool. Default 4.
	ReadConns int
	// OnCommit, when set, is called on the writer goroutine after each
	// committed transaction with what its messages did (in order), so the UI
	// can refresh once per batch. It must not block, nor call the store's
	// write methods (that would deadlock): hand the slice to another goroutine.
	OnCommit func([]Saved)
	// OnResolved, when set, is called on the writer goroutine after a
	// committed transaction that applied edits which had been waiting for
	// their message (Pending when they were stored): one Saved each, with
	// the edit's own id attribute as MessageID and the message it changed
	// as ID. The same rules as for OnCommit apply.
	OnResolved func([]Saved)
	// OnError, when set, is called on the writer goroutine with a message
	// given to Put that could not be stored (even retried alone).
	OnError func(Message, error)
	// Now is the clock that dates messages without a time and expires
	// pending and sent edits (nil: clock.Now). Tests pass a fixed one.
	Now clock.Func
}

func (o *Options) defaults() {
	if o.MaxBatch <= 0 {
		o.MaxBatch = 1000
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = 3 * time.Millisecond
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 8192
	}
	if o.ReadConns <= 0 {
		o.ReadConns = 4
	}
	o.Now = clock.Or(o.Now)
}

// Store is the history of one profile. Its methods are safe for concurrent use.
type Store struct {
	path string
	opts Options
	wdb  *sql.DB // one connection, used only by the writer goroutine
	rdb  *sql.DB // read-only pool
	w    *writer
	// reads are the hot read queries, prepared on rdb.
	reads readStmts

	mu     sync.RWMutex // guards closed and sends on ops
	closed bool
	ops    chan *op
	done   chan struct{} // closed when the writer goroutine has ended
}

// Connection settings, applied to every connection the pools open.
//
//   - journal_mode=WAL: readers never block the writer nor the writer them,
//     and a commit appends to the log instead of rewriting pages twice.
//   - synchronous=NORMAL: in WAL mode this syncs the log only at checkpoints,
//     not at every commit. The database can never be corrupted by a crash
//     either way; what NORMAL gives up is the last transactions committed
//     before a power loss or OS crash (not an application crash: those
//     commits are already in the OS cache). For a chat history that is the
//     right trade: the archive (XEP-0313) still has those messages and the
//     catch-up fetches them again, while FULL would make every batch wait for
//     the disk (milliseconds on laptops), the cost a burst must not pay.
//     The outbox is not at risk from a process crash either.
//   - busy_timeout: another connection holding the lock (a checkpoint, a
//     second process) makes a statement wait up to 5 s instead of failing.
//   - foreign_keys: messages belong to conversations; deleting a
//     conversation deletes its messages.
//   - _txlock=immediate (writer only): write transactions take the write
//     lock at BEGIN, so what a transaction reads cannot be changed under it
//     and it never fails half-way with SQLITE_BUSY_SNAPSHOT.
const (
	commonParams = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
		"&_pragma=foreign_keys(1)&_pragma=temp_store(MEMORY)"
	writerParams = commonParams + "&_pragma=cache_size(-16000)&_txlock=immediate"
	readerParams = commonParams + "&_pragma=cache_size(-32000)&_pragma=mmap_size(268435456)&_pragma=query_only(1)"
)

// dsn builds an SQLite URI for path (escaped, so any file name works).
func dsn(path, params string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: params}
	return u.String(), nil
}

// Open opens (creating it if needed, readable by the owner only) the
// history database at path and brings its schema up to date.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	opts.defaults()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open history %s: %w", path, err)
	}
	// Create the file ourselves so it is private; SQLite gives the -wal and
	// -shm files the database file's permissions.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open history %s: %w", path, err)
	}
	_ = f.Close()

	s := &Store{path: path, opts: opts, done: make(chan struct{})}
	if err := s.open(ctx); err != nil {
		s.closeDBs()
		return nil, fmt.Errorf("open history %s: %w", path, err)
	}
	s.ops = make(chan *op, opts.QueueSize)
	go s.writeLoop()
	return s, nil
}

func (s *Store) open(ctx context.Context) error {
	wdsn, err := dsn(s.path, writerParams)
	if err != nil {
		return err
	}
	rdsn, err := dsn(s.path, readerParams)
	if err != nil {
		return err
	}
	if s.wdb, err = sql.Open("sqlite", wdsn); err != nil {
		return err
	}
	s.wdb.SetMaxOpenConns(1)
	s.wdb.SetMaxIdleConns(1)
	s.wdb.SetConnMaxLifetime(0)
	s.wdb.SetConnMaxIdleTime(0)
	var mode string
	if err := s.wdb.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if mode != "wal" {
		return fmt.Errorf("journal mode is %q, want wal", mode)
	}
	if err := migrate(ctx, s.wdb, migrations); err != nil {
		return err
	}
	if s.rdb, err = sql.Open("sqlite", rdsn); err != nil {
		return err
	}
	s.rdb.SetMaxOpenConns(s.opts.ReadConns)
	s.rdb.SetMaxIdleConns(s.opts.ReadConns)
	if err := s.reads.prepare(ctx, s.rdb); err != nil {
		return err
	}
	if s.w, err = newWriter(ctx, s.wdb, s.opts.Now); err != nil {
		return err
	}
	return nil
}

func (s *Store) closeDBs() {
	if s.w != nil {
		s.w.close()
	}
	_ = s.reads.close()
	if s.rdb != nil {
		_ = s.rdb.Close()
	}
	if s.wdb != nil {
		_ = s.wdb.Close()
	}
}

// Path is the database file's path.
func (s *Store) Path() string { return s.path }

// Flush waits until every write queued before it is committed.
func (s *Store) Flush(ctx context.Context) error {
	return s.do(ctx, func(*wtx) error { return nil })
}

// Close commits the writes still queued, stops the writer and closes the
// database. Calls after Close return ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.closed = true
	close(s.ops)
	s.mu.Unlock()
	<-s.done

	// Leave a tidy database: refresh the planner's statistics where they
	// are stale, and fold the WAL back into the main file.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = s.wdb.ExecContext(ctx, "PRAGMA optimize")
	_, _ = s.wdb.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	s.closeDBs()
	return nil
}
