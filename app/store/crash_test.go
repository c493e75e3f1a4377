// Crash safety: a child process (this test binary, re-executed) writes
// batches in a loop and is killed with SIGKILL mid-write, five times over.
// After each kill the database must pass SQLite's and FTS5's integrity
// checks, hold every batch the child saw committed, and hold every batch
// either whole or not at all.
package store

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// crashEnv names the database the child writes to; set only in the child.
const crashEnv = "PARLEY_STORE_CRASH_CHILD_DB"

// crashBatch is the number of new messages in each of the child's batches.
const crashBatch = 200 / raceScale

func TestCrashSafety(t *testing.T) {
	if path := os.Getenv(crashEnv); path != "" {
		crashChild(t, path)
		return
	}
	if testing.Short() {
		t.Skip("starts child processes")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	acked := -1
	for round := range 5 {
		acked = crashRound(t, path, acked, 20/raceScale)
		checkAfterCrash(t, path, acked, round)
	}
}

// crashRound starts a child writing to path, waits until it has committed
// want more batches, kills it at a random moment, and returns the last
// batch the child reported committed.
func crashRound(t *testing.T, path string, acked, want int) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashSafety$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	seen := 0
	for seen < want && sc.Scan() {
		if n, ok := strings.CutPrefix(sc.Text(), "committed "); ok {
			b, err := strconv.Atoi(n)
			if err != nil || b <= acked {
				t.Fatalf("child reported %q after batch %d", sc.Text(), acked)
			}
			acked = b
			seen++
		}
	}
	if seen < want {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("child stopped after %d batches: %v", seen, sc.Err())
	}
	// Land the kill anywhere in the next batch or two (a batch takes about
	// 10 ms: building, inserting, committing).
	time.Sleep(time.Duration(rand.IntN(20000)) * time.Microsecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Batches committed between our last read and the kill count too.
	for sc.Scan() {
		if n, ok := strings.CutPrefix(sc.Text(), "committed "); ok {
			if b, err := strconv.Atoi(n); err == nil && b > acked {
				acked = b
			}
		}
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die by SIGKILL: %v", err)
	}
	return acked
}

// crashChild is the child: it appends batches forever, each a SaveBatch of
// crashBatch new messages over three conversations plus a correction of a
// message of the batch before, and prints each batch number once committed.
func crashChild(t *testing.T, path string) {
	ctx := context.Background()
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	next := 0
	var last string
	if err := s.rdb.QueryRowContext(ctx, `SELECT coalesce(max(origin_id), '') FROM messages`).Scan(&last); err != nil {
		t.Fatal(err)
	}
	if last != "" {
		var b, j int
		fmt.Sscanf(last, "b%06d-%04d", &b, &j)
		next = b + 1
	}
	peers := []string{alice, bob, "carol@example.com"}
	for b := next; ; b++ {
		msgs := make([]Message, 0, crashBatch+1)
		for j := range crashBatch {
			m := in(peers[j%len(peers)], fmt.Sprintf("crash batch %d message %d", b, j), b*crashBatch+j)
			m.OriginID = fmt.Sprintf("b%06d-%04d", b, j)
			msgs = append(msgs, m)
		}
		if b > 0 {
			c := correction(peers[1], In, fmt.Sprintf("b%06d-%04d", b-1, 1), fmt.Sprintf("corrected by batch %d", b), b*crashBatch)
			msgs = append(msgs, c)
		}
		if _, err := s.SaveBatch(ctx, msgs); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("committed %d\n", b)
	}
}

// checkAfterCrash opens the database the child left and checks it.
func checkAfterCrash(t *testing.T, path string, acked, round int) {
	t.Helper()
	ctx := testCtx(t)
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
	}
	defer s.Close()
	var check string
	if err := s.rdb.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("round %d: integrity_check = %q, %v", round, check, err)
	}
	if _, err := s.wdb.ExecContext(ctx, `INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')`); err != nil {
		t.Fatalf("round %d: FTS integrity-check: %v", round, err)
	}
	if n := count(t, s, `SELECT count(*) FROM pragma_foreign_key_check`); n != 0 {
		t.Fatalf("round %d: %d foreign key violations", round, n)
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT substr(origin_id, 2, 6) + 0 AS b, count(*) FROM messages GROUP BY b ORDER BY b`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	expect := 0
	for rows.Next() {
		var b, n int
		if err := rows.Scan(&b, &n); err != nil {
			t.Fatal(err)
		}
		if b != expect {
			t.Fatalf("round %d: batch %d missing (next stored is %d)", round, expect, b)
		}
		if n != crashBatch {
			t.Fatalf("round %d: batch %d has %d of %d messages: half written", round, b, n, crashBatch)
		}
		expect++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	stored := expect - 1
	// Committed batches are all there; at most the one in flight beyond them.
	if stored < acked || stored > acked+1 {
		t.Fatalf("round %d: batches 0..%d stored, child reported 0..%d committed", round, stored, acked)
	}
	// Each correction is in its batch's transaction: message 1 of batch b
	// is corrected exactly when batch b+1 is stored.
	for b := 0; b <= stored; b++ {
		var body string
		if err := s.rdb.QueryRowContext(ctx, `SELECT body FROM messages WHERE origin_id = ?`,
			fmt.Sprintf("b%06d-%04d", b, 1)).Scan(&body); err != nil {
			t.Fatal(err)
		}
		if corrected := strings.HasPrefix(body, "corrected"); corrected != (b < stored) {
			t.Fatalf("round %d: batch %d message 1 is %q with batches up to %d stored", round, b, body, stored)
		}
	}
	// The search index agrees with the table.
	if ids := searchIDs(t, s, Query{Text: fmt.Sprintf("crash batch %d ", stored), Limit: 1000}); len(ids) < crashBatch-1 {
		t.Fatalf("round %d: search finds %d messages of the last batch", round, len(ids))
	}
	t.Logf("round %d: killed after batch %d reported, %d batches intact", round, acked, stored+1)
}
