// A generator of large synthetic histories for the benchmarks: n messages
// of Zipf-distributed pseudo-words across many conversations, one of which
// holds bigConv messages, written in one transaction with prepared
// statements straight into the schema Open creates.
package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"time"
)

// genVersion changes when the generator's output changes, so a cached
// database from an older generator is rebuilt.
const genVersion = 3

const (
	genPeers = 300
	bigPeer  = "big@example.org"
	genVocab = 20000
)

// vocabulary returns genVocab distinct pronounceable pseudo-words, the most
// frequent first (rank i is drawn with probability ~ 1/(i+1)^1.1).
func vocabulary() []string {
	r := rand.New(rand.NewPCG(1, 2))
	cons := []string{"b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "ch", "st", "tr"}
	vows := []string{"a", "e", "i", "o", "u", "ai", "ou"}
	seen := make(map[string]bool, genVocab)
	words := make([]string, 0, genVocab)
	for len(words) < genVocab {
		var b strings.Builder
		syl := 1 + len(words)*4/genVocab + r.IntN(2) // frequent words are short
		for range syl {
			b.WriteString(cons[r.IntN(len(cons))])
			b.WriteString(vows[r.IntN(len(vows))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			words = append(words, w)
		}
	}
	return words
}

// generateDB creates a store database at path holding n messages, bigConv
// of them in the conversation with bigPeer, one message a second
// (interleaved across conversations) ending at base.
func generateDB(ctx context.Context, path string, n, bigConv int) (time.Duration, error) {
	start := time.Now()
	ctx = context.WithoutCancel(ctx) // no cancel goroutine per statement in the driver
	for _, suffix := range []string{"", "-wal", "-shm"} {
		_ = os.Remove(path + suffix)
	}
	s, err := Open(ctx, path, Options{})
	if err != nil {
		return 0, err
	}
	if err := s.Close(); err != nil {
		return 0, err
	}
	wdsn, err := dsn(path, writerParams)
	if err != nil {
		return 0, err
	}
	db, err := sql.Open("sqlite", wdsn)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	// Bulk load: a bigger page cache, the rollback journal in memory instead
	// of a WAL that would be copied into the file again at the checkpoint
	// (a failed run is simply generated again), WAL again at the end.
	if _, err := db.ExecContext(ctx, "PRAGMA cache_size = -262144; PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF"); err != nil {
		return 0, err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback() }()
	// Building the indexes once at the end (by sorting) is faster than
	// updating them row by row: drop them and the FTS triggers, load,
	// then recreate them from their stored definitions.
	var names, defs []string
	rows, err := tx.QueryContext(ctx, `SELECT type, name, sql FROM sqlite_schema
		WHERE type IN ('trigger', 'index') AND tbl_name = 'messages' AND sql IS NOT NULL`)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var typ, name, q string
		if err := rows.Scan(&typ, &name, &q); err != nil {
			return 0, err
		}
		names = append(names, "DROP "+typ+" "+name)
		defs = append(defs, q)
	}
	if err := rows.Close(); err != nil {
		return 0, err
	}
	for _, q := range names {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return 0, err
		}
	}

	convIns, err := tx.PrepareContext(ctx, `INSERT INTO conversations(peer) VALUES (?)`)
	if err != nil {
		return 0, err
	}
	convIDs := make([]int64, genPeers)
	for i := range convIDs {
		peer := fmt.Sprintf("peer%03d@example.net", i)
		if i == 0 {
			peer = bigPeer
		}
		res, err := convIns.ExecContext(ctx, peer)
		if err != nil {
			return 0, err
		}
		convIDs[i], _ = res.LastInsertId()
	}
	msgIns, err := tx.PrepareContext(ctx, `INSERT INTO messages(id, conversation_id, direction, sender, body, ts,
		origin_id, stanza_id, message_id, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return 0, err
	}
	words := vocabulary()
	r := rand.New(rand.NewPCG(3, 4))
	zipf := rand.NewZipf(rand.New(rand.NewPCG(5, 6)), 1.1, 1, genVocab-1)
	t0 := base.Add(-time.Duration(n) * time.Second).UnixMilli()
	var body strings.Builder
	for i := range n {
		conv := convIDs[1+r.IntN(genPeers-1)]
		if r.IntN(n) < bigConv {
			conv = convIDs[0]
		}
		body.Reset()
		for w := range 3 + r.IntN(14) {
			if w > 0 {
				body.WriteByte(' ')
			}
			body.WriteString(words[zipf.Uint64()])
		}
		dir, state, sender := In, StateNone, "peer@example.net/phone"
		if i%3 == 0 {
			dir, state, sender = Out, StateRead, me+"/parley"
		}
		id := fmt.Sprintf("g%08d", i)
		ts := t0 + int64(i)*1000
		if _, err := msgIns.ExecContext(ctx, ts<<idSeqBits, conv, dir, sender, body.String(), ts,
			id, "a"+id, id, state); err != nil {
			return 0, err
		}
	}
	for _, q := range defs {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return 0, err
		}
	}
	// A large in-memory term hash makes the rebuild write few big segments
	// instead of merging many small ones; the setting is removed after.
	for _, q := range []string{
		`INSERT INTO messages_fts(messages_fts, rank) VALUES ('hashsize', 268435456)`,
		`INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')`,
		`DELETE FROM messages_fts_config WHERE k = 'hashsize'`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return 0, err
		}
	}
	// Conversations as the writer would have left them: last message, all read.
	if _, err := tx.ExecContext(ctx, `UPDATE conversations SET
		last_message_id = (SELECT id FROM messages WHERE conversation_id = conversations.id ORDER BY ts DESC, id DESC LIMIT 1),
		last_ts = (SELECT max(ts) FROM messages WHERE conversation_id = conversations.id),
		last_activity = coalesce((SELECT max(ts) FROM messages WHERE conversation_id = conversations.id), 0)`); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE conversations SET read_ts = last_ts, read_id = last_message_id`); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE bench_meta(version INTEGER, n INTEGER, big INTEGER)`); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO bench_meta VALUES (?, ?, ?)`, genVersion, n, bigConv); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	if _, err := db.ExecContext(ctx, "PRAGMA journal_mode = WAL"); err != nil {
		return 0, err
	}
	if err := db.Close(); err != nil {
		return 0, err
	}
	// Leave it as the app would after a session: Close runs PRAGMA optimize.
	if s, err = Open(ctx, path, Options{}); err == nil {
		err = s.Close()
	}
	return time.Since(start), err
}

// generatedOK reports whether path holds a database generateDB made with
// these parameters.
func generatedOK(ctx context.Context, path string, n, bigConv int) bool {
	if _, err := os.Stat(path); err != nil {
		return false
	}
	rdsn, err := dsn(path, readerParams)
	if err != nil {
		return false
	}
	db, err := sql.Open("sqlite", rdsn)
	if err != nil {
		return false
	}
	defer db.Close()
	var v, gotN, gotBig int
	err = db.QueryRowContext(ctx, `SELECT version, n, big FROM bench_meta`).Scan(&v, &gotN, &gotBig)
	return err == nil && v == genVersion && gotN == n && gotBig == bigConv
}
