// catchup.go: the archive catch-up benchmark. An account's archive (MAM on, SQLite on tmpfs;
// Prosody and ejabberd) receives n messages while Parley is away (another client of the account
// is online, so the server does not also keep them as offline messages). Parley logs in on a
// copy of a profile that had synced up to the message before them and catches up: pages of 250
// fetched, parsed and committed to the history. slixmpp (slix_mam.py, logged in as the same
// account) pages through the same messages with its xep_0313 plugin, same page size, only
// counting them; once without and once with XEP-0198 (Parley's session always has it). The
// floor: the lean client of floor.go pages the same archive with RSM, same page size, and only
// counts the results, once without and once with XEP-0198 (acked as Parley acks): the least
// time any client can take on that server. The order rotates every round; the server's CPU
// time and slixmpp's are read from /proc.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"parley/app"
	"parley/app/store"
	"parley/xmppclient/xmpptest"
)

func benchCatchUp(ctx context.Context, o options) error {
	kinds, err := serverKinds(o.server)
	if err != nil {
		return err
	}
	var sums []catchUpSummary
	for _, kind := range kinds {
		sum, err := catchUpOn(ctx, o, kind)
		if err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
		sums = append(sums, sum)
	}
	fmt.Printf("### Catch-up: Parley's time against each baseline, per server (medians of %d rounds)\n\n", o.rounds)
	fmt.Println("| server | Parley | ÷ slixmpp (goal ≤ 0.5) | ÷ slixmpp, XEP-0198 | ÷ floor | ÷ floor, XEP-0198 | floor ÷ slixmpp | floor, XEP-0198 ÷ slixmpp |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, s := range sums {
		fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n", s.server, fmtDur(s.parley),
			durRatio(s.parley, s.slix), durRatio(s.parley, s.slixSM), durRatio(s.parley, s.floor), durRatio(s.parley, s.floorSM),
			durRatio(s.floor, s.slix), durRatio(s.floorSM, s.slix))
	}
	fmt.Println("\nA floor above 0.5 × slixmpp means that no client can meet the goal on that server.")
	fmt.Println()
	return nil
}

// catchUpSummary holds the medians of one server's catch-up.
type catchUpSummary struct {
	server                               string
	parley, slix, slixSM, floor, floorSM time.Duration
}

func durRatio(a, b time.Duration) string {
	if a == 0 || b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", float64(a)/float64(b))
}

// cuSeries is one client's timed runs: durations, server CPU and client CPU per round.
type cuSeries struct{ d, srv, cli []time.Duration }

func (s *cuSeries) add(d, srv, cli time.Duration) {
	s.d, s.srv, s.cli = append(s.d, d), append(s.srv, srv), append(s.cli, cli)
}

func catchUpOn(ctx context.Context, o options, kind string) (catchUpSummary, error) {
	name := serverName(kind)
	fail := func(err error) (catchUpSummary, error) { return catchUpSummary{}, err }
	srv, err := startServer(kind, true, o.ackQueue)
	if err != nil {
		return fail(err)
	}
	defer srv.Close()
	for _, u := range []string{"sender", "owner"} {
		if err := srv.CreateUser(u, benchPass); err != nil {
			return fail(err)
		}
	}
	owner := srv.JID("owner")
	sender, err := xmpptest.DialRawOpts(srv, "sender", benchPass, "bench", xmpptest.RawOptions{NoPresence: true})
	if err != nil {
		return fail(err)
	}
	defer sender.Close()
	// Another client of the account, online while the messages come: they go to it and to the
	// archive, not to the offline store (which would replay them to Parley at login).
	holder, err := xmpptest.DialRawOpts(srv, "owner", benchPass, "holder", xmpptest.RawOptions{CountOnly: true})
	if err != nil {
		return fail(err)
	}
	defer holder.Close()

	dir, err := os.MkdirTemp("", "parley-bench-catchup-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(dir)
	base := filepath.Join(dir, "base")
	if err := newProfile(srv, base); err != nil {
		return fail(err)
	}
	// The profile's first sync ends at a marker message: the next catch-up starts after it.
	if err := sender.SendMessage(owner, "marker", "marker"); err != nil {
		return fail(err)
	}
	if err := pingSync(ctx, sender, srv.Domain); err != nil {
		return fail(err)
	}
	if _, _, _, err := catchUpOnce(ctx, srv, base, 1); err != nil {
		return fail(fmt.Errorf("first sync: %w", err))
	}
	after, err := syncPosition(ctx, base, owner)
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(os.Stderr, "chat bench: catchup on %s: archiving %d messages", name, o.n)
	if err := sender.SendMessages(owner, o.n, "arch"); err != nil {
		return fail(err)
	}
	if err := pingSync(ctx, sender, srv.Domain); err != nil {
		return fail(err)
	}
	fmt.Fprintln(os.Stderr)
	holder.Close()

	slix, err := startSlixMAM(ctx, o.python, srv, "owner", "slix", false)
	if err != nil {
		return fail(err)
	}
	defer slix.close()
	slixSM, err := startSlixMAM(ctx, o.python, srv, "owner", "slixsm", true)
	if err != nil {
		return fail(err)
	}
	defer slixSM.close()
	floor, err := dialFloor(srv, "owner", "floor", false, false)
	if err != nil {
		return fail(err)
	}
	defer floor.Close()
	floorSM, err := dialFloor(srv, "owner", "floorsm", false, true)
	if err != nil {
		return fail(err)
	}
	defer floorSM.Close()

	var prof profiler
	if kind == xmpptest.KindProsody || o.server == xmpptest.KindEjabberd {
		prof.prefix = o.cpuprofile // one server's profile: the first's
	}
	var parleyLoginD []time.Duration
	var parleyS, slixS, slixSMS, floorS, floorSMS cuSeries
	pid := srv.PID()
	var slixPages, floorPages, parleyFetched int
	slixStep := func(s *slixMAM, series *cuSeries, what string, r int) error {
		srv0, cli0 := procCPU(pid), procCPU(s.cmd.Process.Pid)
		res, err := s.page(ctx, 250, after.LastID)
		if err != nil {
			return err
		}
		if res.Count != o.n {
			return fmt.Errorf("%s paged %d messages, want %d", what, res.Count, o.n)
		}
		if r >= 0 {
			series.add(time.Duration(res.MS*float64(time.Millisecond)), procCPU(pid)-srv0, procCPU(s.cmd.Process.Pid)-cli0)
		}
		slixPages = res.Pages
		return nil
	}
	floorStep := func(c *floorClient, series *cuSeries, what string, r int) error {
		srv0, cli0 := procCPU(pid), selfCPU()
		count, pages, d, err := c.pageArchive(ctx, 250, after.LastID)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if count != o.n {
			return fmt.Errorf("%s paged %d messages, want %d", what, count, o.n)
		}
		if r >= 0 {
			series.add(d, procCPU(pid)-srv0, selfCPU()-cli0)
		}
		floorPages = pages
		return nil
	}
	fmt.Fprintf(os.Stderr, "chat bench: catchup on %s: warm-up, then %d rounds", name, o.rounds)
	for r := -1; r < o.rounds; r++ {
		steps := []func() error{
			func() error {
				run := filepath.Join(dir, fmt.Sprintf("run%d", r+1))
				if err := copyDir(base, run); err != nil {
					return err
				}
				defer os.RemoveAll(run)
				if r == 0 {
					prof.start("catchup")
					defer prof.stop()
				}
				srv0, self0 := procCPU(pid), selfCPU()
				catch, total, fetched, err := catchUpOnce(ctx, srv, run, o.n)
				if err != nil {
					return err
				}
				if r >= 0 {
					parleyS.add(catch, procCPU(pid)-srv0, selfCPU()-self0)
					parleyLoginD = append(parleyLoginD, total)
					parleyFetched = fetched
				}
				return nil
			},
			func() error { return slixStep(slix, &slixS, "slixmpp", r) },
			func() error { return slixStep(slixSM, &slixSMS, "slixmpp (XEP-0198)", r) },
			func() error { return floorStep(floor, &floorS, "floor client", r) },
			func() error { return floorStep(floorSM, &floorSMS, "floor client (XEP-0198)", r) },
		}
		k := (r + 1) % len(steps) // rotate the order every round
		steps = append(steps[k:], steps[:k]...)
		for _, step := range steps {
			if err := step(); err != nil {
				return fail(err)
			}
		}
		fmt.Fprint(os.Stderr, ".")
	}
	fmt.Fprintln(os.Stderr)

	sum := catchUpSummary{server: name, parley: statsOf(parleyS.d).median, slix: statsOf(slixS.d).median,
		slixSM: statsOf(slixSMS.d).median, floor: statsOf(floorS.d).median, floorSM: statsOf(floorSMS.d).median}
	srvNote := ""
	if kind == xmpptest.KindEjabberd {
		srvNote = ", max_ack_queue " + ackQueueName(o.ackQueue)
	}
	fmt.Printf("### Catch-up of %s archived messages (%s, MAM on, SQLite on tmpfs%s; pages of 250)\n\n", thousands(o.n), name, srvNote)
	fmt.Printf("**Goal:** Parley's catch-up at most half of slixmpp's paging time. **%s:** %s × slixmpp (Parley %s, slixmpp %s; medians of %d rounds).\n\n",
		verdict(sum.parley*2 <= sum.slix), durRatio(sum.parley, sum.slix), fmtDur(sum.parley), fmtDur(sum.slix), o.rounds)
	fmt.Printf("Against slixmpp with XEP-0198 enabled, as Parley's session is: %s × (%s). Against the floor (a lean client paging the same archive, counting only): %s × (%s); with XEP-0198: %s × (%s). The floor is %s × slixmpp's time (%s with XEP-0198).\n\n",
		durRatio(sum.parley, sum.slixSM), fmtDur(sum.slixSM), durRatio(sum.parley, sum.floor), fmtDur(sum.floor),
		durRatio(sum.parley, sum.floorSM), fmtDur(sum.floorSM), durRatio(sum.floor, sum.slix), durRatio(sum.floorSM, sum.slix))
	fmt.Println("| client | what | median | min | max | rate (median) | server CPU | client CPU |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|")
	row := func(client, what string, s cuSeries) {
		st := statsOf(s.d)
		fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n", client, what, fmtDur(st.median), fmtDur(st.min), fmtDur(st.max),
			fmtRate(rate(o.n, st.median)), fmtDur(statsOf(s.srv).median), fmtDur(statsOf(s.cli).median))
	}
	fetchedNote := ""
	if parleyFetched != o.n {
		fetchedNote = fmt.Sprintf(" (%s fetched: time-bounded, the archive has no after-id)", thousands(parleyFetched))
	}
	row("Parley", "catch-up start → all "+thousands(o.n)+" fetched and committed to the history"+fetchedNote, parleyS)
	pl := statsOf(parleyLoginD)
	fmt.Printf("| Parley | the same from the Login call (login, carbons, catch-up) | %s | %s | %s | %s | | |\n",
		fmtDur(pl.median), fmtDur(pl.min), fmtDur(pl.max), fmtRate(rate(o.n, pl.median)))
	row("slixmpp "+slix.version, fmt.Sprintf("first query → last page (%d queries), counted only", slixPages), slixS)
	row("slixmpp "+slix.version+", XEP-0198 on", "the same", slixSMS)
	row("floor (lean raw client)", fmt.Sprintf("first query → last page (%d queries), counted only", floorPages), floorS)
	row("floor, XEP-0198 on, acked as Parley acks", "the same", floorSMS)
	fmt.Printf("\nCPU columns: medians per round; \"server CPU\" is %s's process; Parley's and the floor's \"client CPU\" is the whole bench process during its run (for Parley: login and catch-up), slixmpp's its Python process. The floor with XEP-0198 got %s <r/> and sent %s <a/> over the run. Python %s. Machine: %s.\n\n",
		name, thousands(int(floorSM.rs.Load())), thousands(int(floorSM.acks.Load())), slix.python, machine())
	return sum, nil
}

// catchUpOnce logs the owner in on the profile dir, waits until the catch-up fetched want
// messages and ended, and returns the catch-up's time (from the first report that it runs),
// the time from the Login call and the number of messages fetched.
func catchUpOnce(ctx context.Context, srv *xmpptest.Server, dir string, want int) (catch, total time.Duration, fetched int, err error) {
	svc, err := openService(dir)
	if err != nil {
		return 0, 0, 0, err
	}
	defer svc.Close()
	cs := svc.Chats()
	var mu sync.Mutex
	var started, ended time.Time
	var last app.SyncProgress
	done := make(chan struct{})
	unsub := cs.Subscribe(func(ch app.ChatChange) {
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		if ch.Sync.Active && started.IsZero() {
			started = now
		}
		last = ch.Sync
		if !ch.Sync.Active && (ch.Sync.Fetched >= want || ch.Sync.Err != nil) && ended.IsZero() {
			ended = now
			if started.IsZero() { // the start and the end were reported together
				started = now
			}
			close(done)
		}
	})
	defer unsub()
	t0 := time.Now()
	if err := login(ctx, svc, srv, "owner"); err != nil {
		return 0, 0, 0, err
	}
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		return 0, 0, 0, fmt.Errorf("catch-up: %w (%+v)", errTimeout, cs.Sync())
	case <-ctx.Done():
		return 0, 0, 0, ctx.Err()
	}
	mu.Lock()
	defer mu.Unlock()
	if last.Err != nil {
		return 0, 0, 0, fmt.Errorf("catch-up failed: %w", last.Err)
	}
	// A time-bounded catch-up (an archive without after-id, as ejabberd's) fetches again the
	// messages of the last one's second; the history deduplicates them.
	if last.Fetched < want || last.Fetched > want+10 {
		return 0, 0, 0, fmt.Errorf("catch-up fetched %d, want %d", last.Fetched, want)
	}
	return ended.Sub(started), ended.Sub(t0), last.Fetched, nil
}

// syncPosition reads how far the profile's history has read the account's archive.
func syncPosition(ctx context.Context, dir, account string) (store.SyncPosition, error) {
	st, err := store.Open(ctx, filepath.Join(dir, app.HistoryFile), store.Options{})
	if err != nil {
		return store.SyncPosition{}, err
	}
	defer st.Close()
	p, found, err := st.SyncPosition(ctx, account)
	if err == nil && (!found || p.LastID == "") {
		err = errors.New("the first sync stored no archive position")
	}
	return p, err
}

// slixMAM drives slix_mam.py.
type slixMAM struct {
	cmd             *exec.Cmd
	stdin           io.WriteCloser
	lines           chan string
	stderr          *strings.Builder
	mu              sync.Mutex
	version, python string
}

type slixPage struct {
	Ready   bool    `json:"ready"`
	Version string  `json:"slixmpp"`
	Python  string  `json:"python"`
	Error   string  `json:"error"`
	Count   int     `json:"count"`
	Pages   int     `json:"pages"`
	MS      float64 `json:"ms"`
	Last    string  `json:"last"`
}

func startSlixMAM(ctx context.Context, python string, srv *xmpptest.Server, user, resource string, sm bool) (*slixMAM, error) {
	host, port := splitAddr(srv.C2SAddr)
	s := &slixMAM{lines: make(chan string), stderr: &strings.Builder{}}
	args := []string{"-c", slixScript, "--host", host, "--port", strconv.Itoa(port),
		"--jid", srv.JID(user) + "/" + resource, "--password", benchPass, "--ca-file", srv.CAFile}
	if sm {
		args = append(args, "--sm")
	}
	s.cmd = exec.CommandContext(ctx, python, args...)
	s.cmd.Stderr = &lockedWriter{w: s.stderr, mu: &s.mu}
	var err error
	if s.stdin, err = s.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (python3-slixmpp is installed by make deps): %w", python, err)
	}
	go func() {
		defer close(s.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
	}()
	ready, err := s.next(ctx, 30*time.Second)
	if err != nil || !ready.Ready {
		s.close()
		return nil, fmt.Errorf("slix_mam.py not ready: %v", err)
	}
	s.version, s.python = ready.Version, ready.Python
	return s, nil
}

func (s *slixMAM) next(ctx context.Context, timeout time.Duration) (slixPage, error) {
	var r slixPage
	select {
	case line, ok := <-s.lines:
		if !ok {
			s.mu.Lock()
			defer s.mu.Unlock()
			return r, fmt.Errorf("slix_mam.py exited: %s", strings.TrimSpace(s.stderr.String()))
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return r, fmt.Errorf("slix_mam.py said %q: %w", line, err)
		}
		if r.Error != "" {
			return r, errors.New(r.Error)
		}
		return r, nil
	case <-time.After(timeout):
		return r, errors.New("slix_mam.py did not answer in time")
	case <-ctx.Done():
		return r, ctx.Err()
	}
}

// page asks for one paging run through the archive after the archive id after.
func (s *slixMAM) page(ctx context.Context, max int, after string) (slixPage, error) {
	line, _ := json.Marshal(map[string]any{"max": max, "after": after})
	if _, err := s.stdin.Write(append(line, '\n')); err != nil {
		return slixPage{}, err
	}
	return s.next(ctx, 5*time.Minute)
}

func (s *slixMAM) close() {
	_, _ = io.WriteString(s.stdin, "quit\n")
	_ = s.stdin.Close()
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
