// history.go: the benchmarks on a large stored history, and its generator. The generator writes
// 1,000,000 messages through the public store API (store.Open, SaveBatch in transactions of
// 2,000, the way a catch-up stores pages) into a profile folder under -data, once: 300
// conversations, one of them (big@example.org) holding 100,000 messages, one message a second,
// bodies of 3-24 pseudo-words drawn from a 20,000-word vocabulary with a Zipf law (so some words
// are in a large share of the messages and most are rare). Then:
//   - open: the chat with big@example.org opened in the chat view (views.ChatsView, rendered
//     headless, see render.go) on a service just started on that profile, then again after another
//     chat; and the queries alone: ChatService.Latest of 50 (the first page) on a history just
//     opened and warm, and the page before it.
//   - search: ChatService.Search (first page of 50, newest first) for words of several
//     frequencies, a prefix, two words, one chat only, and a word found nowhere.
package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"parley/app"
	"parley/app/store"
)

const (
	genVersion  = 1 // change when the generator's output changes: the cached history is rebuilt
	genTotal    = 1_000_000
	genBig      = 100_000
	genPeers    = 300
	genVocab    = 20_000
	bigPeer     = "big@example.org"
	genBatch    = 2000
	searchLimit = 50
)

// vocabulary returns genVocab distinct pseudo-words, the most frequent first (short ones).
func vocabulary() []string {
	r := rand.New(rand.NewPCG(7, 11))
	cons := []string{"b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "sh", "th", "br", "pl"}
	vows := []string{"a", "e", "i", "o", "u", "ea", "io"}
	seen := make(map[string]bool, genVocab)
	words := make([]string, 0, genVocab)
	for len(words) < genVocab {
		var b strings.Builder
		for range 1 + len(words)*3/genVocab + r.IntN(2) {
			b.WriteString(cons[r.IntN(len(cons))])
			b.WriteString(vows[r.IntN(len(vows))])
		}
		if w := b.String(); len(w) > 1 && !seen[w] {
			seen[w] = true
			words = append(words, w)
		}
	}
	return words
}

// historyProfile returns the profile folder holding the generated history, generating it if
// the cached one is missing or from another generator version.
func historyProfile(ctx context.Context, data string) (string, error) {
	dir := filepath.Join(data, fmt.Sprintf("profile-%d-v%d", genTotal, genVersion))
	marker := filepath.Join(dir, "generated")
	if _, err := os.Stat(marker); err == nil {
		return dir, nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if _, err := app.OpenProfile(dir); err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "chat bench: generating a history of %s messages in %s (once; kept for the next runs)", thousands(genTotal), dir)
	t0 := time.Now()
	st, err := store.Open(ctx, filepath.Join(dir, app.HistoryFile), store.Options{})
	if err != nil {
		return "", err
	}
	words := vocabulary()
	r := rand.New(rand.NewPCG(3, 5))
	zipf := rand.NewZipf(r, 1.1, 1, genVocab-1)
	peers := make([]string, genPeers)
	peers[0] = bigPeer
	for i := 1; i < genPeers; i++ {
		peers[i] = fmt.Sprintf("contact%03d@example.org", i)
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	batch := make([]store.Message, 0, genBatch)
	bigLeft, restLeft := genBig, genTotal-genBig
	var body strings.Builder
	for i := range genTotal {
		peer := bigPeer
		if r.IntN(bigLeft+restLeft) >= bigLeft {
			peer = peers[1+r.IntN(genPeers-1)]
			restLeft--
		} else {
			bigLeft--
		}
		body.Reset()
		nw := 3 + int(r.ExpFloat64()*5)%22
		for w := range nw {
			if w > 0 {
				body.WriteByte(' ')
			}
			body.WriteString(words[zipf.Uint64()])
		}
		id := fmt.Sprintf("gen-%07d", i)
		m := store.Message{Conversation: peer, Body: body.String(), Time: base.Add(time.Duration(i) * time.Second),
			Type: store.TypeChat, OriginID: id, MessageID: id, StanzaID: "sid-" + id[4:]}
		if r.IntN(2) == 0 {
			m.Direction, m.Sender, m.State = store.Out, "me@example.org/parley", store.StateSent
		} else {
			m.Direction, m.Sender = store.In, peer+"/phone"
		}
		batch = append(batch, m)
		if len(batch) == genBatch || i == genTotal-1 {
			if _, err := st.SaveBatch(ctx, batch); err != nil {
				st.Close()
				return "", err
			}
			batch = batch[:0]
			if (i+1)%100_000 == 0 {
				fmt.Fprint(os.Stderr, ".")
			}
		}
	}
	if err := st.Close(); err != nil {
		return "", err
	}
	d := time.Since(t0)
	fmt.Fprintf(os.Stderr, " %s (%s)\n", fmtDur(d), fmtRate(rate(genTotal, d)))
	return dir, os.WriteFile(marker, []byte(fmt.Sprintf("v%d %d messages, generated in %s\n", genVersion, genTotal, d)), 0o600)
}

func benchOpen(ctx context.Context, o options) error {
	generated, err := historyProfile(ctx, o.data)
	if err != nil {
		return err
	}
	dir, remove, err := scratchCopy(generated, "open")
	if err != nil {
		return err
	}
	defer remove()
	// The chat view, headless: a service of its own, so its first open is on a history just opened.
	rsvc, err := openService(dir)
	if err != nil {
		return err
	}
	var prof profiler
	prof.prefix = o.cpuprofile
	prof.start("open")
	rFirst, rAgain, err := renderOpen(ctx, rsvc, 20, o.shot)
	prof.stop()
	rsvc.Close()
	if err != nil {
		return fmt.Errorf("chat view: %w", err)
	}
	var againPainted, againListed []time.Duration
	for _, a := range rAgain {
		againPainted, againListed = append(againPainted, a.painted), append(againListed, a.listed)
	}
	rs, rl := statsOf(againPainted), statsOf(againListed)

	t0 := time.Now()
	svc, err := openService(dir)
	if err != nil {
		return err
	}
	defer svc.Close()
	opened := time.Since(t0)
	cs := svc.Chats()
	t1 := time.Now()
	first, err := cs.Latest(ctx, bigPeer, store.DefaultPage)
	firstD := time.Since(t1)
	if err != nil {
		return err
	}
	if len(first) != store.DefaultPage {
		return fmt.Errorf("the first page has %d messages, want %d", len(first), store.DefaultPage)
	}
	t2 := time.Now()
	convs, err := cs.Conversations(ctx)
	convD := time.Since(t2)
	if err != nil {
		return err
	}
	var warm, before []time.Duration
	for range 200 {
		t := time.Now()
		page, err := cs.Latest(ctx, bigPeer, store.DefaultPage)
		warm = append(warm, time.Since(t))
		if err != nil {
			return err
		}
		t = time.Now()
		if _, err := cs.Before(ctx, bigPeer, page[0].Cursor(), store.DefaultPage); err != nil {
			return err
		}
		before = append(before, time.Since(t))
	}
	ws, bs := statsOf(warm), statsOf(before)
	fmt.Printf("### Open a chat holding %s messages (history of %s)\n\n", thousands(genBig), thousands(genTotal))
	fmt.Printf("**Goal:** first screen rendered under 50 ms. **%s:** %s from ChatsView.Open to the first page painted, on a history just opened; "+
		"%s median when opened again (%d times, after another chat).\n\n",
		verdict(rFirst.painted < 50*time.Millisecond && rs.median < 50*time.Millisecond), fmtDur(rFirst.painted), fmtDur(rs.median), len(rAgain))
	fmt.Println("| step | time |")
	fmt.Println("|---|---:|")
	fmt.Printf("| chat view (views.ChatsView, %gx%g window, Fyne test driver): Open → first page in the list, first time | %s |\n", winSize.Width, winSize.Height, fmtDur(rFirst.listed))
	fmt.Printf("| … → the window painted (software painter, Capture), first time | %s |\n", fmtDur(rFirst.painted))
	fmt.Printf("| opened again after another chat, first page in the list: median / p90 / max of %d | %s / %s / %s |\n", len(rAgain), fmtDur(rl.median), fmtDur(rl.p90), fmtDur(rl.max))
	fmt.Printf("| opened again after another chat, painted: median / p90 / max of %d | %s / %s / %s |\n", len(rAgain), fmtDur(rs.median), fmtDur(rs.p90), fmtDur(rs.max))
	fmt.Printf("| open the history (new app.Service on the profile: SQLite open, schema check, statements) | %s |\n", fmtDur(opened))
	fmt.Printf("| ChatService.Latest(%s, 50), first query on the history just opened | %s |\n", bigPeer, fmtDur(firstD))
	fmt.Printf("| ChatService.Conversations (the list: %d conversations) | %s |\n", len(convs), fmtDur(convD))
	fmt.Printf("| ChatService.Latest, warm: median / p90 / max of 200 | %s / %s / %s |\n", fmtDur(ws.median), fmtDur(ws.p90), fmtDur(ws.max))
	fmt.Printf("| ChatService.Before (the page above: scrolling up), warm: median / p90 / max of 200 | %s / %s / %s |\n", fmtDur(bs.median), fmtDur(bs.p90), fmtDur(bs.max))
	fmt.Printf("\nThe OS file cache holds the database (it was just generated or used); the first query is the first on the service's fresh connection pool. Machine: %s.\n\n", machine())
	return nil
}

// searchCase is one search of the benchmark.
type searchCase struct {
	what, text, peer string
}

func benchSearch(ctx context.Context, o options) error {
	dir, err := historyProfile(ctx, o.data)
	if err != nil {
		return err
	}
	svc, err := openService(dir)
	if err != nil {
		return err
	}
	defer svc.Close()
	cs := svc.Chats()
	words := vocabulary()
	cases := []searchCase{
		{"the most frequent word (rank 1)", words[0], ""},
		{"the same, typed with a space after it (the word alone, no prefix)", words[0] + " ", ""},
		{"a frequent word (rank 30)", words[29], ""},
		{"a common word (rank 300)", words[299], ""},
		{"an uncommon word (rank 3,000)", words[2999], ""},
		{"a rare word (rank 15,000)", words[14999], ""},
		{"a prefix being typed (2 letters of rank 200)", words[199][:2], ""},
		{"two words (ranks 10 and 500)", words[9] + " " + words[499], ""},
		{"two rare words, seldom together (ranks 2,000 and 5,000)", words[1999] + " " + words[4999], ""},
		{"one chat (100,000 messages), a common word (rank 100)", words[99], bigPeer},
		{"one small chat, an uncommon word (rank 1,000)", words[999], "contact007@example.org"},
		{"a word found nowhere", "xyzzyq", ""},
	}
	const reps = 21
	var prof profiler
	prof.prefix = o.cpuprofile
	prof.start("search")
	var all []time.Duration
	type row struct {
		c       searchCase
		first   time.Duration
		s       stats
		results int
	}
	var rows []row
	for _, c := range cases {
		var ds []time.Duration
		var first time.Duration
		var n int
		for i := range reps + 1 {
			t := time.Now()
			res, err := cs.Search(ctx, store.Query{Text: c.text, Conversation: c.peer, Limit: searchLimit})
			d := time.Since(t)
			if err != nil {
				prof.stop()
				return fmt.Errorf("search %q: %w", c.text, err)
			}
			if i == 0 {
				first, n = d, len(res)
				continue
			}
			ds = append(ds, d)
		}
		all = append(all, ds...)
		rows = append(rows, row{c, first, statsOf(ds), n})
	}
	prof.stop()
	as := statsOf(all)
	worst := time.Duration(0)
	for _, r := range rows {
		worst = max(worst, r.s.median)
	}
	fmt.Printf("### Search over %s stored messages (first page of %d results, newest first)\n\n", thousands(genTotal), searchLimit)
	fmt.Printf("**Goal:** median under 50 ms. **%s:** median %s over all %d searches (%d kinds × %d); the slowest kind's median %s.\n\n",
		verdict(as.median < 50*time.Millisecond), fmtDur(as.median), len(all), len(cases), reps, fmtDur(worst))
	fmt.Println("| query | text | results | first | median | p90 | max |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		text := r.c.text
		if r.c.peer != "" {
			text += " (in " + r.c.peer + ")"
		}
		fmt.Printf("| %s | `%s` | %d | %s | %s | %s | %s |\n", r.c.what, text, r.results, fmtDur(r.first), fmtDur(r.s.median), fmtDur(r.s.p90), fmtDur(r.s.max))
	}
	fmt.Printf("\nMachine: %s.\n\n", machine())
	return nil
}
