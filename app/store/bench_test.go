// Benchmarks of the history store. Always available: the rate of storing
// incoming messages through the batching writer (and, for comparison, one
// transaction per message). Opt-in with PARLEY_BENCH_1M=1, as they need a
// generated database of 1,000,000 messages (cached in /dev/shm, or
// $PARLEY_BENCH_DIR, between runs): search latency over all of it and
// opening a conversation of 100,000 messages. For example:
//
//	PARLEY_BENCH_1M=1 go test -run '^$' -bench . -benchtime 200x ./app/store/
package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	bigN    = 1_000_000
	bigConv = 100_000
)

// benchMessages returns n incoming messages with Zipf-distributed words
// over a few conversations, like the generated database's.
func benchMessages(n int) []Message {
	words := vocabulary()
	r := rand.New(rand.NewPCG(7, 8))
	zipf := rand.NewZipf(rand.New(rand.NewPCG(9, 10)), 1.1, 1, genVocab-1)
	msgs := make([]Message, n)
	now := time.Now()
	for i := range msgs {
		var b strings.Builder
		for w := range 3 + r.IntN(14) {
			if w > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(words[zipf.Uint64()])
		}
		peer := fmt.Sprintf("peer%d@example.net", r.IntN(20))
		msgs[i] = Message{Conversation: peer, Direction: In, Sender: peer + "/phone", Body: b.String(),
			Time: now.Add(time.Duration(i) * time.Millisecond), OriginID: fmt.Sprint("bench-", i),
			StanzaID: fmt.Sprint("arch-", i), MessageID: fmt.Sprint("id-", i)}
	}
	return msgs
}

// BenchmarkPut: incoming messages through Put (the batching writer), until
// committed. Reports messages per second.
func BenchmarkPut(b *testing.B) {
	s := openTest(b, Options{})
	msgs := benchMessages(b.N)
	b.ResetTimer()
	for i := range b.N {
		if err := s.Put(msgs[i]); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkBurst10k: a burst of 10,000 incoming messages into a store that
// already holds the previous bursts, until all are committed.
func BenchmarkBurst10k(b *testing.B) {
	s := openTest(b, Options{})
	const n = 10000
	msgs := benchMessages(n * min(b.N, 20))
	var total time.Duration
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		for _, m := range msgs[(i%20)*n : (i%20+1)*n] {
			if i >= 20 {
				m.OriginID, m.StanzaID = fmt.Sprint(m.OriginID, "-", i), fmt.Sprint(m.StanzaID, "-", i)
			}
			if err := s.Put(m); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "msgs/s")
}

// BenchmarkSaveUnbatched: the same messages, one Save (one transaction)
// each, waiting for each: what batching saves.
func BenchmarkSaveUnbatched(b *testing.B) {
	s := openTest(b, Options{})
	msgs := benchMessages(b.N)
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		if _, err := s.Save(ctx, msgs[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

var (
	bigOnce sync.Once
	bigPath string
	bigErr  error
)

// bigDB returns the path of the generated 1M-message database, generating
// it on first use unless a matching one is cached.
func bigDB(b *testing.B) string {
	if os.Getenv("PARLEY_BENCH_1M") == "" {
		b.Skip("set PARLEY_BENCH_1M=1 to run the 1,000,000-message benchmarks")
	}
	bigOnce.Do(func() {
		dir := os.Getenv("PARLEY_BENCH_DIR")
		if dir == "" {
			dir = os.TempDir()
			if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
				dir = "/dev/shm"
			}
		}
		bigPath = filepath.Join(dir, "parley-store-bench-1m.db")
		ctx := context.Background()
		if generatedOK(ctx, bigPath, bigN, bigConv) {
			return
		}
		var d time.Duration
		d, bigErr = generateDB(ctx, bigPath, bigN, bigConv)
		b.Logf("generated %d messages in %v at %s", bigN, d.Round(time.Millisecond), bigPath)
	})
	if bigErr != nil {
		b.Fatal(bigErr)
	}
	return bigPath
}

// BenchmarkGenerate1M: writing the 1,000,000-message database (one
// transaction, prepared statements, indexes and FTS built at the end).
func BenchmarkGenerate1M(b *testing.B) {
	bigDB(b) // the gate
	path := filepath.Join(b.TempDir(), "gen.db")
	for b.Loop() {
		d, err := generateDB(context.Background(), path, bigN, bigConv)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(d.Seconds(), "s/1M")
	}
}

// timed runs fn b.N times and reports the median and 95th percentile.
func timed(b *testing.B, fn func(i int) error) {
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		if err := fn(i); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "ms-median")
	b.ReportMetric(float64(ds[len(ds)*95/100].Microseconds())/1000, "ms-p95")
}

// searchQueries are what a user might type: words from very common to
// rare, several words, words being typed (prefixes), in all history and in
// the big chat and a small one.
func searchQueries() []Query {
	w := vocabulary()
	small := "peer007@example.net"
	return []Query{
		{Text: w[0] + " "}, {Text: w[5] + " "}, {Text: w[40] + " "}, {Text: w[300] + " "},
		{Text: w[2000] + " "}, {Text: w[15000] + " "}, {Text: "nosuchword "},
		{Text: w[3] + " " + w[70]}, {Text: w[20] + " " + w[900] + " "}, {Text: w[150] + " " + w[4000] + " " + w[12]},
		{Text: w[6000][:3]}, {Text: w[600][:2]}, {Text: w[11000][:4]},
		{Text: w[40] + " ", Conversation: bigPeer}, {Text: w[3000] + " ", Conversation: bigPeer},
		{Text: w[5] + " ", Conversation: small}, {Text: w[2000] + " ", Conversation: small},
		{Text: w[8] + " " + w[30], Conversation: small},
	}
}

// BenchmarkSearch1M: one search (a page of 50 results with snippets) over
// 1,000,000 messages, cycling through searchQueries. Goal: median < 50 ms.
func BenchmarkSearch1M(b *testing.B) {
	s := openAt(b, bigDB(b), Options{})
	ctx := context.Background()
	qs := searchQueries()
	timed(b, func(i int) error {
		_, err := s.Search(ctx, qs[i%len(qs)])
		return err
	})
}

// BenchmarkSearch1MEach: each query of the mix on its own, to see the spread.
func BenchmarkSearch1MEach(b *testing.B) {
	s := openAt(b, bigDB(b), Options{})
	ctx := context.Background()
	for i, q := range searchQueries() {
		name := fmt.Sprintf("%02d-%s", i, strings.ReplaceAll(strings.TrimSpace(q.Text), " ", "+"))
		if q.Conversation != "" {
			name += "-in-" + strings.Split(q.Conversation, "@")[0]
		}
		b.Run(name, func(b *testing.B) {
			timed(b, func(int) error {
				_, err := s.Search(ctx, q)
				return err
			})
		})
	}
}

// BenchmarkOpenChat100k: opening the chat of 100,000 messages, i.e. the
// latest page (50 messages). Goal: well under 50 ms.
func BenchmarkOpenChat100k(b *testing.B) {
	s := openAt(b, bigDB(b), Options{})
	ctx := context.Background()
	timed(b, func(int) error {
		msgs, err := s.Latest(ctx, bigPeer, 50)
		if err == nil && len(msgs) != 50 {
			err = fmt.Errorf("latest page has %d messages", len(msgs))
		}
		return err
	})
}

// BenchmarkScrollChat100k: a page of 50 older messages from the middle of
// the 100,000-message chat (keyset paging: as cheap as the first page).
func BenchmarkScrollChat100k(b *testing.B) {
	s := openAt(b, bigDB(b), Options{})
	ctx := context.Background()
	latest, err := s.Latest(ctx, bigPeer, 1)
	if err != nil || len(latest) != 1 {
		b.Fatal(err)
	}
	// Cursors spread over the chat's history.
	first, err := s.After(ctx, bigPeer, Cursor{}, 1)
	if err != nil || len(first) != 1 {
		b.Fatal(err)
	}
	lo, hi := first[0].Cursor(), latest[0].Cursor()
	timed(b, func(i int) error {
		t := lo.Time + (hi.Time-lo.Time)*int64(i%97+1)/98
		msgs, err := s.Before(ctx, bigPeer, Cursor{Time: t, ID: t << idSeqBits}, 50)
		if err == nil && len(msgs) != 50 {
			err = fmt.Errorf("page has %d messages", len(msgs))
		}
		return err
	})
}

// BenchmarkConversations1M: the conversation list (300 chats) with
// previews and unread counts, over the 1M-message database.
func BenchmarkConversations1M(b *testing.B) {
	s := openAt(b, bigDB(b), Options{})
	ctx := context.Background()
	timed(b, func(int) error {
		_, err := s.Conversations(ctx, 0)
		return err
	})
}

// BenchmarkOpenStore1M: Open (migrations check, statements prepared) and
// Close of the 1M-message database.
func BenchmarkOpenStore1M(b *testing.B) {
	path := bigDB(b)
	ctx := context.Background()
	timed(b, func(int) error {
		s, err := Open(ctx, path, Options{})
		if err != nil {
			return err
		}
		return s.Close()
	})
}
