// catchup.go: the archive catch-up benchmark. An account's archive (Prosody, MAM on, SQLite on
// tmpfs) receives n messages while Parley is away (another client of the account is online, so
// the server does not also keep them as offline messages). Parley logs in on a copy of a profile
// that had synced up to the message before them and catches up: pages of 250 fetched, parsed and
// committed to the history. slixmpp (slix_mam.py, logged in as the same account) pages through the
// same messages with its xep_0313 plugin, same page size, only counting them; once without and
// once with XEP-0198 (Parley's session always has it). The order rotates every round.
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
	srv, err := xmpptest.StartProsody(xmpptest.ProsodyOptions{})
	if err != nil {
		return fmt.Errorf("start Prosody (make deps installs it): %w", err)
	}
	defer srv.Close()
	for _, u := range []string{"sender", "owner"} {
		if err := srv.CreateUser(u, benchPass); err != nil {
			return err
		}
	}
	owner := srv.JID("owner")
	sender, err := xmpptest.DialRawOpts(srv, "sender", benchPass, "bench", xmpptest.RawOptions{NoPresence: true})
	if err != nil {
		return err
	}
	defer sender.Close()
	// Another client of the account, online while the messages come: they go to it and to the
	// archive, not to the offline store (which would replay them to Parley at login).
	holder, err := xmpptest.DialRawOpts(srv, "owner", benchPass, "holder", xmpptest.RawOptions{CountOnly: true})
	if err != nil {
		return err
	}
	defer holder.Close()

	dir, err := os.MkdirTemp("", "parley-bench-catchup-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	base := filepath.Join(dir, "base")
	if err := newProfile(srv, base); err != nil {
		return err
	}
	// The profile's first sync ends at a marker message: the next catch-up starts after it.
	if err := sender.SendMessage(owner, "marker", "marker"); err != nil {
		return err
	}
	if err := pingSync(ctx, sender, srv.Domain); err != nil {
		return err
	}
	if _, _, err := catchUpOnce(ctx, srv, base, 1); err != nil {
		return fmt.Errorf("first sync: %w", err)
	}
	after, err := syncPosition(ctx, base, owner)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "chat bench: catchup: archiving %d messages", o.n)
	if err := sender.SendMessages(owner, o.n, "arch"); err != nil {
		return err
	}
	if err := pingSync(ctx, sender, srv.Domain); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr)
	holder.Close()

	slix, err := startSlixMAM(ctx, o.python, srv, "owner", "slix", false)
	if err != nil {
		return err
	}
	defer slix.close()
	slixSM, err := startSlixMAM(ctx, o.python, srv, "owner", "slixsm", true)
	if err != nil {
		return err
	}
	defer slixSM.close()

	var prof profiler
	prof.prefix = o.cpuprofile
	var parleyD, parleyLoginD, slixD, parleySrv, slixSrv, parleySelf, slixSMD, slixSMSrv []time.Duration
	pid := srv.PID()
	var slixPages int
	fmt.Fprintf(os.Stderr, "chat bench: catchup: warm-up, then %d rounds", o.rounds)
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
				catch, total, err := catchUpOnce(ctx, srv, run, o.n)
				if err != nil {
					return err
				}
				if r >= 0 {
					parleyD, parleyLoginD = append(parleyD, catch), append(parleyLoginD, total)
					parleySrv, parleySelf = append(parleySrv, procCPU(pid)-srv0), append(parleySelf, selfCPU()-self0)
				}
				return nil
			},
			func() error {
				srv0 := procCPU(pid)
				res, err := slix.page(ctx, 250, after.LastID)
				if err != nil {
					return err
				}
				if r >= 0 {
					slixSrv = append(slixSrv, procCPU(pid)-srv0)
				}
				if res.Count != o.n {
					return fmt.Errorf("slixmpp paged %d messages, want %d", res.Count, o.n)
				}
				if r >= 0 {
					slixD = append(slixD, time.Duration(res.MS*float64(time.Millisecond)))
				}
				slixPages = res.Pages
				return nil
			},
			func() error {
				srv0 := procCPU(pid)
				res, err := slixSM.page(ctx, 250, after.LastID)
				if err != nil {
					return err
				}
				if res.Count != o.n {
					return fmt.Errorf("slixmpp (XEP-0198) paged %d messages, want %d", res.Count, o.n)
				}
				if r >= 0 {
					slixSMD = append(slixSMD, time.Duration(res.MS*float64(time.Millisecond)))
					slixSMSrv = append(slixSMSrv, procCPU(pid)-srv0)
				}
				return nil
			},
		}
		k := (r + 1) % len(steps) // rotate the order every round
		steps = append(steps[k:], steps[:k]...)
		for _, step := range steps {
			if err := step(); err != nil {
				return err
			}
		}
		fmt.Fprint(os.Stderr, ".")
	}
	fmt.Fprintln(os.Stderr)

	ps, pl, ss, sms := statsOf(parleyD), statsOf(parleyLoginD), statsOf(slixD), statsOf(slixSMD)
	ratio := float64(ps.median) / float64(ss.median)
	fmt.Printf("### Catch-up of %s archived messages (Prosody, MAM on, SQLite on tmpfs; pages of 250)\n\n", thousands(o.n))
	fmt.Printf("**Goal:** Parley's catch-up at most half of slixmpp's paging time. **%s:** %.2f × slixmpp (Parley %s, slixmpp %s; medians of %d rounds).\n\n",
		verdict(ratio <= 0.5), ratio, fmtDur(ps.median), fmtDur(ss.median), o.rounds)
	fmt.Printf("Against slixmpp with XEP-0198 enabled, as Parley's session is: %.2f × (%s).\n\n", float64(ps.median)/float64(sms.median), fmtDur(sms.median))
	fmt.Println("| client | what | median | min | max | rate (median) | Prosody CPU | client CPU |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|")
	fmt.Printf("| Parley | catch-up start → all %s fetched and committed to the history | %s | %s | %s | %s | %s | %s |\n",
		thousands(o.n), fmtDur(ps.median), fmtDur(ps.min), fmtDur(ps.max), fmtRate(rate(o.n, ps.median)),
		fmtDur(statsOf(parleySrv).median), fmtDur(statsOf(parleySelf).median))
	fmt.Printf("| Parley | the same from the Login call (login, carbons, catch-up) | %s | %s | %s | %s | | |\n",
		fmtDur(pl.median), fmtDur(pl.min), fmtDur(pl.max), fmtRate(rate(o.n, pl.median)))
	fmt.Printf("| slixmpp %s | first query → last page (%d queries), counted only | %s | %s | %s | %s | %s | |\n",
		slix.version, slixPages, fmtDur(ss.median), fmtDur(ss.min), fmtDur(ss.max), fmtRate(rate(o.n, ss.median)),
		fmtDur(statsOf(slixSrv).median))
	fmt.Printf("| slixmpp %s, XEP-0198 on | the same | %s | %s | %s | %s | %s | |\n",
		slix.version, fmtDur(sms.median), fmtDur(sms.min), fmtDur(sms.max), fmtRate(rate(o.n, sms.median)),
		fmtDur(statsOf(slixSMSrv).median))
	fmt.Printf("\nCPU columns: medians per round; Parley's \"client CPU\" is the whole bench process during its login and catch-up. Python %s. Machine: %s.\n\n", slix.python, machine())
	return nil
}

// catchUpOnce logs the owner in on the profile dir, waits until the catch-up fetched want
// messages and ended, and returns the catch-up's time (from the first report that it runs) and
// the time from the Login call.
func catchUpOnce(ctx context.Context, srv *xmpptest.Server, dir string, want int) (catch, total time.Duration, err error) {
	svc, err := openService(dir)
	if err != nil {
		return 0, 0, err
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
		return 0, 0, err
	}
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		return 0, 0, fmt.Errorf("catch-up: %w (%+v)", errTimeout, cs.Sync())
	case <-ctx.Done():
		return 0, 0, ctx.Err()
	}
	mu.Lock()
	defer mu.Unlock()
	if last.Err != nil {
		return 0, 0, fmt.Errorf("catch-up failed: %w", last.Err)
	}
	if last.Fetched != want {
		return 0, 0, fmt.Errorf("catch-up fetched %d, want %d", last.Fetched, want)
	}
	return ended.Sub(started), ended.Sub(t0), nil
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
