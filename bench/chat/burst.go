// burst.go: the incoming-burst benchmark. A raw client (xmpptest.RawPeer) sends n chat
// messages as fast as it can to a bare JID through an isolated Prosody with MAM off; the time is
// from the first byte written until the receiver has them all: for Parley, all n committed to the
// history (counted from the chat service's change reports, which come after each commit); for
// the raw reader (xmpptest.RawPeer with CountOnly: TLS and element splitting, nothing else), all
// n counted. Also timed: the raw reader with XEP-0198 enabled (Prosody then keeps a copy of every
// stanza until it is acknowledged, as it does for Parley), and Parley with XEP-0198 off. The
// order of the receivers rotates every round; Prosody's CPU time is read from /proc.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"parley/app"
	"parley/xmppclient"
	"parley/xmppclient/xmpptest"
)

func benchBurst(ctx context.Context, o options) error {
	srv, err := xmpptest.StartProsody(xmpptest.ProsodyOptions{DisableMAM: true})
	if err != nil {
		return fmt.Errorf("start Prosody (make deps installs it): %w", err)
	}
	defer srv.Close()
	for _, u := range []string{"sender", "parley", "raw", "rawsm"} {
		if err := srv.CreateUser(u, benchPass); err != nil {
			return err
		}
	}
	sender, err := xmpptest.DialRawOpts(srv, "sender", benchPass, "bench", xmpptest.RawOptions{NoPresence: true})
	if err != nil {
		return err
	}
	defer sender.Close()
	raw, err := xmpptest.DialRawOpts(srv, "raw", benchPass, "bench", xmpptest.RawOptions{CountOnly: true})
	if err != nil {
		return err
	}
	defer raw.Close()
	// The same reader with XEP-0198 enabled (it never answers the server's <r/>): what stream
	// management costs the server per stanza (a copy kept until acknowledged), as for Parley.
	rawSM, err := xmpptest.DialRawOpts(srv, "rawsm", benchPass, "bench", xmpptest.RawOptions{CountOnly: true})
	if err != nil {
		return err
	}
	defer rawSM.Close()
	if err := rawSM.SendRaw("<enable xmlns='urn:xmpp:sm:3'/>"); err != nil {
		return err
	}

	dir, err := os.MkdirTemp("", "parley-bench-burst-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	parley, err := newBurstParley(ctx, srv, filepath.Join(dir, "parley"), "parley", false)
	if err != nil {
		return err
	}
	defer parley.close()
	receivers := []*burstReceiver{parley, {name: "raw reader (counted only)", jid: srv.JID("raw"),
		wait:  func(ctx context.Context, target int64) error { return raw.WaitCount(ctx, target) },
		count: raw.Count}, {name: "raw reader, XEP-0198 enabled (counted only)", jid: srv.JID("rawsm"),
		wait:  func(ctx context.Context, target int64) error { return rawSM.WaitCount(ctx, target) },
		count: rawSM.Count}}
	if o.burstNoSM {
		if err := srv.CreateUser("parleynosm", benchPass); err != nil {
			return err
		}
		nosm, err := newBurstParley(ctx, srv, filepath.Join(dir, "nosm"), "parleynosm", true)
		if err != nil {
			return err
		}
		defer nosm.close()
		receivers = append(receivers, nosm)
	}

	pid := srv.PID()
	timeOne := func(rc *burstReceiver, n int, prefix string) (burstSample, error) {
		base := rc.count()
		srv0, self0 := procCPU(pid), selfCPU()
		t0 := time.Now()
		if err := sender.SendMessages(rc.jid, n, prefix); err != nil {
			return burstSample{}, err
		}
		wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		if err := rc.wait(wctx, base+int64(n)); err != nil {
			return burstSample{}, fmt.Errorf("%s: %d of %d: %w", rc.name, rc.count()-base, n, err)
		}
		return burstSample{d: time.Since(t0), serverCPU: procCPU(pid) - srv0, selfCPU: selfCPU() - self0}, nil
	}

	fmt.Fprintf(os.Stderr, "chat bench: burst: warm-up, then %d rounds of %d messages", o.rounds, o.n)
	for _, rc := range receivers {
		if _, err := timeOne(rc, 1000, "warm"); err != nil {
			return err
		}
	}
	var prof profiler
	prof.prefix = o.cpuprofile
	for r := range o.rounds {
		prefix := fmt.Sprintf("r%d", r)
		for k := range receivers { // rotate the order each round
			rc := receivers[(r+k)%len(receivers)]
			if r == 0 && rc == parley {
				prof.start("burst")
			}
			smp, err := timeOne(rc, o.n, prefix)
			if r == 0 && rc == parley {
				prof.stop()
			}
			if err != nil {
				return err
			}
			rc.runs = append(rc.runs, smp)
		}
		fmt.Fprint(os.Stderr, ".")
	}
	fmt.Fprintln(os.Stderr)
	cs := parley.svc.Chats()
	// Every message is stored once: the conversation counts them all unread.
	convs, err := cs.Conversations(ctx)
	if err != nil {
		return err
	}
	want := 1000 + o.rounds*o.n
	if len(convs) != 1 || convs[0].Unread != want {
		return fmt.Errorf("history check: conversations %d, unread %d; want 1 with %d", len(convs), convs[0].Unread, want)
	}

	med := func(rc *burstReceiver) burstSample {
		ds := make([]time.Duration, len(rc.runs))
		for i, r := range rc.runs {
			ds[i] = r.d
		}
		m := statsOf(ds).median
		for _, r := range rc.runs {
			if r.d == m {
				return r
			}
		}
		return burstSample{}
	}
	pm, rm, sm := med(parley), med(receivers[1]), med(receivers[2])
	ratio := rate(o.n, pm.d) / rate(o.n, rm.d)
	smRatio := rate(o.n, pm.d) / rate(o.n, sm.d)
	fmt.Printf("### Incoming burst: %s messages through Prosody (MAM off) into the history\n\n", thousands(o.n))
	fmt.Printf("**Goal:** Parley at least 0.8 of the raw reader's rate. **%s:** %.2f (Parley %s, raw %s; medians of %d rounds).\n\n",
		verdict(ratio >= 0.8), ratio, fmtRate(rate(o.n, pm.d)), fmtRate(rate(o.n, rm.d)), o.rounds)
	fmt.Printf("Against the raw reader with stream management enabled, as Parley's session is: %.2f (%s).\n\n", smRatio, fmtRate(rate(o.n, sm.d)))
	fmt.Println("| receiver | median | rate (median) | min | max | Prosody CPU | bench process CPU |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|")
	for _, rc := range receivers {
		ds := make([]time.Duration, len(rc.runs))
		for i, r := range rc.runs {
			ds[i] = r.d
		}
		st, m := statsOf(ds), med(rc)
		fmt.Printf("| %s | %s | %s | %s | %s | %s | %s |\n", rc.name, fmtDur(st.median), fmtRate(rate(o.n, st.median)),
			fmtDur(st.min), fmtDur(st.max), fmtDur(m.serverCPU), fmtDur(m.selfCPU))
	}
	fmt.Printf("\nCPU columns: of the median round; the bench process holds the sender and the receiver under test. "+
		"History after the run: %s messages in one conversation, each stored once. Machine: %s.\n\n", thousands(want), machine())
	return nil
}

// burstSample is one timed burst.
type burstSample struct {
	d, serverCPU, selfCPU time.Duration
}

// burstReceiver is one receiver under test.
type burstReceiver struct {
	name  string
	jid   string
	wait  func(ctx context.Context, target int64) error
	count func() int64
	svc   *app.Service
	close func()
	runs  []burstSample
}

// newBurstParley logs user in on a new service with a fresh profile at dir; its count is the
// number of messages the chat service reported inserted (committed).
func newBurstParley(ctx context.Context, srv *xmpptest.Server, dir, user string, noSM bool) (*burstReceiver, error) {
	if err := newProfile(srv, dir); err != nil {
		return nil, err
	}
	svc, err := app.NewService(app.Options{ProfileDir: dir, Keyring: noSecrets{}, Version: "bench",
		Tune: func(c *xmppclient.Config) { c.DisableStreamManagement = noSM }})
	if err != nil {
		return nil, err
	}
	if err := login(ctx, svc, srv, user); err != nil {
		svc.Close()
		return nil, err
	}
	cs := svc.Chats()
	var inserted atomic.Int64
	kick := make(chan struct{}, 1)
	unsub := cs.Subscribe(func(ch app.ChatChange) {
		inserted.Add(int64(len(ch.Inserted)))
		select {
		case kick <- struct{}{}:
		default:
		}
	})
	name := "Parley (stored, committed)"
	if noSM {
		name = "Parley, XEP-0198 off (stored, committed)"
	}
	rc := &burstReceiver{name: name, jid: srv.JID(user), svc: svc, count: inserted.Load,
		close: func() { unsub(); svc.Close() }}
	rc.wait = func(ctx context.Context, target int64) error {
		for inserted.Load() < target {
			select {
			case <-kick:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}
	// The session's catch-up (MAM is off: it fails at once) is over before the first burst.
	for deadline := time.Now().Add(30 * time.Second); cs.Sync().Active && time.Now().Before(deadline); {
		select {
		case <-kick:
		case <-time.After(100 * time.Millisecond):
		}
	}
	return rc, nil
}

// procCPU is the user+system CPU time a process has used so far (from /proc; 0 if unknown).
func procCPU(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(data)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+2:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// selfCPU is the user+system CPU time of this process so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
