// burst.go: the incoming-burst benchmark. A raw client (xmpptest.RawPeer) sends n chat
// messages as fast as it can to a bare JID through an isolated server (Prosody, ejabberd) with
// MAM off; the time is from the first byte written until the receiver has them all: for Parley,
// all n committed to the history (counted from the chat service's change reports, which come
// after each commit); for the raw reader (xmpptest.RawPeer with CountOnly: TLS and element
// splitting, nothing else), all n counted. Also timed: the lean reader of floor.go (the same
// work, with TCP quick acks as Parley's socket has), alone and with XEP-0198 enabled and acked
// as Parley acks; the raw reader with XEP-0198 enabled that never acks (the server keeps a copy
// of every stanza, unacknowledged; left out when ejabberd's max_ack_queue is finite: it would
// close that stream); and Parley with XEP-0198 off. The order of the receivers rotates every
// round; the server's CPU time is read from /proc.
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
	"parley/app/store"
	"parley/xmppclient"
	"parley/xmppclient/xmpptest"
)

func benchBurst(ctx context.Context, o options) error {
	kinds, err := serverKinds(o.server)
	if err != nil {
		return err
	}
	var sums []burstSummary
	for _, kind := range kinds {
		sum, err := burstOn(ctx, o, kind)
		if err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
		sums = append(sums, sum)
	}
	fmt.Printf("### Incoming burst: Parley's rate against each baseline, per server (medians of %d rounds)\n\n", o.rounds)
	fmt.Println("| server | Parley | ÷ raw reader (goal ≥ 0.8) | ÷ lean reader | ÷ raw reader, XEP-0198 never acked | ÷ lean reader, XEP-0198 acked as Parley | Parley XEP-0198 off ÷ raw reader | … ÷ lean reader |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, s := range sums {
		fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n", s.server, fmtRate(s.parley), ratioOf(s.parley, s.raw),
			ratioOf(s.parley, s.lean), ratioOf(s.parley, s.rawNoAck), ratioOf(s.parley, s.rawAck),
			ratioOf(s.parleyNoSM, s.raw), ratioOf(s.parleyNoSM, s.lean))
	}
	fmt.Println()
	return nil
}

// burstSummary holds the median rates of one server's burst (0: not measured).
type burstSummary struct {
	server                                          string
	parley, raw, lean, rawNoAck, rawAck, parleyNoSM float64
}

func ratioOf(a, b float64) string {
	if a == 0 || b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func burstOn(ctx context.Context, o options, kind string) (burstSummary, error) {
	name := serverName(kind)
	srv, err := startServer(kind, false, o.ackQueue)
	if err != nil {
		return burstSummary{}, err
	}
	defer srv.Close()
	for _, u := range []string{"sender", "parley", "raw", "lean", "rawsm", "rawack"} {
		if err := srv.CreateUser(u, benchPass); err != nil {
			return burstSummary{}, err
		}
	}
	sender, err := xmpptest.DialRawOpts(srv, "sender", benchPass, "bench", xmpptest.RawOptions{NoPresence: true})
	if err != nil {
		return burstSummary{}, err
	}
	defer sender.Close()
	raw, err := xmpptest.DialRawOpts(srv, "raw", benchPass, "bench", xmpptest.RawOptions{CountOnly: true})
	if err != nil {
		return burstSummary{}, err
	}
	defer raw.Close()

	dir, err := os.MkdirTemp("", "parley-bench-burst-")
	if err != nil {
		return burstSummary{}, err
	}
	defer os.RemoveAll(dir)
	parley, err := newBurstParley(ctx, srv, filepath.Join(dir, "parley"), "parley", false)
	if err != nil {
		return burstSummary{}, err
	}
	defer parley.close()
	rawRC := &burstReceiver{name: "raw reader (counted only)", jid: srv.JID("raw"), wait: raw.WaitCount, count: raw.Count}
	leanReader, err := dialFloor(srv, "lean", "bench", true, false)
	if err != nil {
		return burstSummary{}, err
	}
	defer leanReader.Close()
	leanRC := &burstReceiver{name: "lean reader (counted only)", jid: srv.JID("lean"), wait: leanReader.WaitCount, count: leanReader.Count}
	receivers := []*burstReceiver{parley, rawRC, leanRC}
	var noAckRC *burstReceiver
	if kind == xmpptest.KindProsody || o.ackQueue < 0 {
		// The raw reader with XEP-0198 enabled that never answers the server's <r/>: what stream
		// management costs the server per stanza (a copy kept until acknowledged). ejabberd
		// closes such a stream once max_ack_queue stanzas are unacknowledged.
		rawSM, err := xmpptest.DialRawOpts(srv, "rawsm", benchPass, "bench", xmpptest.RawOptions{CountOnly: true})
		if err != nil {
			return burstSummary{}, err
		}
		defer rawSM.Close()
		if err := rawSM.SendRaw("<enable xmlns='urn:xmpp:sm:3'/>"); err != nil {
			return burstSummary{}, err
		}
		noAckRC = &burstReceiver{name: "raw reader, XEP-0198 enabled, never acked (counted only)", jid: srv.JID("rawsm"),
			wait: rawSM.WaitCount, count: rawSM.Count}
		receivers = append(receivers, noAckRC)
	}
	// The lean reader with XEP-0198 acked as Parley acks (every <r/>, and every 64 stanzas).
	ackReader, err := dialFloor(srv, "rawack", "bench", true, true)
	if err != nil {
		return burstSummary{}, err
	}
	defer ackReader.Close()
	ackRC := &burstReceiver{name: "lean reader, XEP-0198 enabled, acked as Parley acks (counted only)", jid: srv.JID("rawack"),
		wait: ackReader.WaitCount, count: ackReader.Count}
	receivers = append(receivers, ackRC)
	var nosm *burstReceiver
	if o.burstNoSM {
		if err := srv.CreateUser("parleynosm", benchPass); err != nil {
			return burstSummary{}, err
		}
		nosm, err = newBurstParley(ctx, srv, filepath.Join(dir, "nosm"), "parleynosm", true)
		if err != nil {
			return burstSummary{}, err
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

	fmt.Fprintf(os.Stderr, "chat bench: burst on %s: warm-up, then %d rounds of %d messages", name, o.rounds, o.n)
	for _, rc := range receivers {
		if _, err := timeOne(rc, 1000, "warm"); err != nil {
			return burstSummary{}, err
		}
	}
	rs0, acks0 := ackReader.rs.Load(), ackReader.acks.Load()
	var prof profiler
	if kind == xmpptest.KindProsody || o.server == xmpptest.KindEjabberd {
		prof.prefix = o.cpuprofile // one server's profile: the first's
	}
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
				return burstSummary{}, err
			}
			rc.runs = append(rc.runs, smp)
		}
		fmt.Fprint(os.Stderr, ".")
	}
	fmt.Fprintln(os.Stderr)
	cs := parley.svc.Chats()
	// Every message is stored once: the conversation counts them all unread.
	// The sender is a stranger, so the conversation is a message request.
	convs, requests, err := cs.ConversationList(ctx)
	if err != nil {
		return burstSummary{}, err
	}
	convs = append(convs, requests...)
	want := 1000 + o.rounds*o.n
	if len(convs) != 1 || convs[0].Unread != want {
		return burstSummary{}, fmt.Errorf("history check: conversations %s; want 1 with %d unread", describeConvs(convs), want)
	}

	med := func(rc *burstReceiver) burstSample {
		if rc == nil {
			return burstSample{}
		}
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
	medRate := func(rc *burstReceiver) float64 {
		if m := med(rc); m.d > 0 {
			return rate(o.n, m.d)
		}
		return 0
	}
	sum := burstSummary{server: name, parley: medRate(parley), raw: medRate(rawRC), lean: medRate(leanRC), rawNoAck: medRate(noAckRC),
		rawAck: medRate(ackRC), parleyNoSM: medRate(nosm)}
	srvNote := ""
	if kind == xmpptest.KindEjabberd {
		srvNote = ", max_ack_queue " + ackQueueName(o.ackQueue)
	}
	fmt.Printf("### Incoming burst: %s messages through %s (MAM off%s) into the history\n\n", thousands(o.n), name, srvNote)
	fmt.Printf("**Goal:** Parley at least 0.8 of the raw reader's rate. **%s:** %s (Parley %s, raw %s; medians of %d rounds).\n\n",
		verdict(sum.parley >= 0.8*sum.raw), ratioOf(sum.parley, sum.raw), fmtRate(sum.parley), fmtRate(sum.raw), o.rounds)
	fmt.Printf("Against the lean reader (floor.go: the same work as the raw reader, with TCP quick acks): %s (%s).\n\n", ratioOf(sum.parley, sum.lean), fmtRate(sum.lean))
	if noAckRC != nil {
		fmt.Printf("Against the raw reader with stream management enabled and never acked: %s (%s).\n\n", ratioOf(sum.parley, sum.rawNoAck), fmtRate(sum.rawNoAck))
	}
	fmt.Printf("Against the lean reader with stream management enabled and acked as Parley acks: %s (%s).\n\n", ratioOf(sum.parley, sum.rawAck), fmtRate(sum.rawAck))
	fmt.Println("| receiver | median | rate (median) | min | max | server CPU | bench process CPU |")
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
	timed := int64(o.rounds * o.n)
	fmt.Printf("\nCPU columns: of the median round; \"server CPU\" is %s's process, the bench process holds the sender and the receiver under test. "+
		"The acked lean reader got %s <r/> and sent %s <a/> for %s messages. History after the run: %s messages in one conversation, each stored once. Machine: %s.\n\n",
		name, thousands(int(ackReader.rs.Load()-rs0)), thousands(int(ackReader.acks.Load()-acks0)), thousands(int(timed)), thousands(want), machine())
	if kind == xmpptest.KindEjabberd && o.ackQueue != 0 {
		fmt.Printf("ejabberd runs with max_ack_queue %s (-ejabberd-max-ack-queue): with its default, 5,000, it closes Parley's stream "+
			"during a 10,000-message burst (\"Too many unacked stanzas\"), Parley's unacknowledged stanzas being more than that.\n\n", ackQueueName(o.ackQueue))
	}
	return sum, nil
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

// describeConvs is convs in a line (peer: unread), for the history check.
func describeConvs(convs []store.Conversation) string {
	parts := make([]string, len(convs))
	for i, c := range convs {
		parts[i] = fmt.Sprintf("%s: %d unread", c.Peer, c.Unread)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
