// Command login benchmarks login-to-online against an isolated Prosody on loopback: Parley's
// xmppclient side by side with slixmpp (slix_login.py) and a raw baseline (xmpptest.DialRaw),
// interleaved in one run, and prints median/p90/min per client, the Parley/slixmpp ratio, and
// where the time goes. Run it with `make bench` (scripts/bench.sh) or `go run ./bench/login`.
//
// "Online" is the same for every client: from the call that starts the connection (New for
// Parley, connect() for slixmpp, DialRaw for the raw client) through TCP connect, STARTTLS,
// SASL SCRAM-SHA-1, resource binding (and XEP-0198 enable where the client does it) and the
// initial <presence/> written, until the reply to an XEP-0199 ping sent right after that
// presence arrives. Prosody handles a client's stanzas in order, so that reply proves the
// server has received and processed the presence.
package main

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"gosrc.io/xmpp/stanza"

	"parley/xmppclient"
	"parley/xmppclient/xmpptest"
)

//go:embed slix_login.py
var slixScript string

// Phases shown in the breakdown table: cumulative milestones, in login order.
var phases = []string{"tls", "sasl", "bind", "sm", "session", "ping"}

var phaseTitles = map[string]string{
	"tls": "TLS done", "sasl": "SASL done", "bind": "bound", "sm": "SM enabled",
	"session": "online", "ping": "ping reply",
}

// sample is one timed login: the total and cumulative milestones (both from the start).
type sample struct {
	total time.Duration
	marks map[string]time.Duration
}

// contender is one client under test.
type contender struct {
	name  string
	steps string // what its login does, for the table
	login func(ctx context.Context, round int) (sample, error)
	close func()
	note  func() string // optional extra line for the report
	runs  []sample
	mech  string
}

func main() {
	n := flag.Int("n", 30, "timed logins per client (after one untimed warm-up each)")
	python := flag.String("python", "/usr/bin/python3", "Python with slixmpp (Debian's python3-slixmpp)")
	gap := flag.Duration("gap", 20*time.Millisecond, "pause after each login so the server finishes the previous session's teardown")
	raw := flag.Bool("raw", true, "include the raw baseline (xmpptest.DialRaw)")
	jsonOut := flag.String("json", "", "also write every sample to this JSON file")
	slixDebug := flag.Bool("slix-debug", false, "show slixmpp's timestamped debug log (SEND/RECV) on stderr")
	flag.Parse()
	if *n < 1 {
		fmt.Fprintln(os.Stderr, "login bench: -n must be at least 1")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, *n, *python, *gap, *raw, *slixDebug, *jsonOut)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "login bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, n int, python string, gap time.Duration, withRaw, slixDebug bool, jsonOut string) error {
	defer xmpptest.Cleanup()
	srv, err := xmpptest.StartProsody(xmpptest.ProsodyOptions{})
	if err != nil {
		return fmt.Errorf("start Prosody (make deps installs it): %w", err)
	}
	const pass = "bench-secret-1"
	for _, u := range []string{"parley", "slix", "raw"} {
		if err := srv.CreateUser(u, pass); err != nil {
			return fmt.Errorf("create user %s: %w", u, err)
		}
	}

	parley := newParley(srv, "parley", pass)
	slix, err := newSlix(ctx, python, srv, "slix", pass, slixDebug)
	if err != nil {
		return err
	}
	defer slix.close()
	cs := []*contender{parley, slix.contender}
	if withRaw {
		cs = append(cs, newRaw(srv, "raw", pass))
	}

	for _, c := range cs { // warm-up: first-connection costs on both sides, not timed
		if _, err := c.login(ctx, -1); err != nil {
			return fmt.Errorf("%s warm-up: %w", c.name, err)
		}
		time.Sleep(gap)
	}
	fmt.Fprintf(os.Stderr, "login bench: %d rounds of %d clients", n, len(cs))
	for round := range n {
		for k := range cs { // rotate the order each round so no client always goes first
			c := cs[(round+k)%len(cs)]
			s, err := c.login(ctx, round)
			if err != nil {
				return fmt.Errorf("%s login %d: %w", c.name, round+1, err)
			}
			c.runs = append(c.runs, s)
			time.Sleep(gap)
		}
		fmt.Fprint(os.Stderr, ".")
	}
	fmt.Fprintln(os.Stderr)

	report(os.Stdout, n, cs)
	if jsonOut != "" {
		if err := writeJSON(jsonOut, cs); err != nil {
			return err
		}
	}
	return nil
}

// --- Parley -----------------------------------------------------------------------------------

func newParley(srv *xmpptest.Server, user, pass string) *contender {
	c := &contender{name: "Parley (xmppclient)", steps: "New, Connect (STARTTLS, SCRAM-SHA-1, bind, SM enable), SendPresence, Ping"}
	host, port := splitAddr(srv.C2SAddr)
	jid := xmppclient.MustParseJID(srv.JID(user))
	c.login = func(ctx context.Context, round int) (sample, error) {
		rec := &markHandler{marks: map[string]time.Duration{}}
		cfg := xmppclient.Config{JID: jid, Password: pass, Host: host, Port: port, RootCAs: srv.CAPool, Logger: slog.New(rec)}
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()

		rec.t0 = time.Now()
		cl, err := xmppclient.New(cfg)
		if err != nil {
			return sample{}, err
		}
		go func() { // keep the event queue drained, as the app does
			for range cl.Events() {
			}
		}()
		defer cl.Close()
		if err := cl.Connect(ctx); err != nil {
			return sample{}, err
		}
		online := time.Since(rec.t0)
		if err := cl.SendPresence(stanza.Presence{}); err != nil {
			return sample{}, err
		}
		if err := cl.Ping(ctx, xmppclient.JID{Domain: srv.Domain}); err != nil {
			return sample{}, fmt.Errorf("ping after presence: %w", err)
		}
		total := time.Since(rec.t0)
		if info, ok := cl.ConnInfo(); ok {
			c.mech = info.Mechanism
		}
		marks := rec.snapshot()
		marks["session"], marks["ping"] = online, total
		return sample{total: total, marks: marks}, nil
	}
	c.close = func() {}
	return c
}

// markHandler is a slog.Handler that turns xmppclient's login-step debug records into
// milestones (time since t0). It sees a handful of records per login.
type markHandler struct {
	t0    time.Time
	mu    sync.Mutex
	marks map[string]time.Duration
}

func (h *markHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *markHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *markHandler) WithGroup(string) slog.Handler            { return h }

func (h *markHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "login step done" {
		return nil
	}
	at := time.Since(h.t0)
	h.mu.Lock()
	defer h.mu.Unlock()
	r.Attrs(func(a slog.Attr) bool {
		if a.Key != "step" {
			return true
		}
		switch step := a.Value.String(); {
		case step == "starttls+handshake":
			h.marks["tls"] = at
		case strings.HasPrefix(step, "sasl "):
			h.marks["sasl"] = at
		}
		return false
	})
	return nil
}

func (h *markHandler) snapshot() map[string]time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps.Clone(h.marks)
}

// --- slixmpp ----------------------------------------------------------------------------------

// slixResult is one line of slix_login.py --serve.
type slixResult struct {
	Ready     bool               `json:"ready"`
	Version   string             `json:"slixmpp"`
	Python    string             `json:"python"`
	Error     string             `json:"error"`
	MS        float64            `json:"ms"`
	SetupMS   float64            `json:"setup_ms"`
	Marks     map[string]float64 `json:"marks"`
	Mechanism string             `json:"mechanism"`
}

type slixContender struct {
	*contender
	version, python string
	setup           []time.Duration // ClientXMPP construction, not part of the total
}

func newSlix(ctx context.Context, python string, srv *xmpptest.Server, user, pass string, debug bool) (*slixContender, error) {
	host, port := splitAddr(srv.C2SAddr)
	args := []string{"-c", slixScript, "--serve", "--host", host, "--port", strconv.Itoa(port),
		"--jid", srv.JID(user), "--password", pass, "--ca-file", srv.CAFile}
	if debug {
		args = append(args, "--debug")
	}
	cmd := exec.CommandContext(ctx, python, args...)
	var stderr syncBuilder
	cmd.Stderr = &stderr
	if debug {
		cmd.Stderr = io.MultiWriter(&stderr, os.Stderr)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (python3-slixmpp is installed by make deps): %w", python, err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	next := func(timeout time.Duration) (slixResult, error) {
		var r slixResult
		select {
		case line, ok := <-lines:
			if !ok {
				return r, fmt.Errorf("slix_login.py exited: %s", strings.TrimSpace(stderr.String()))
			}
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				return r, fmt.Errorf("slix_login.py said %q: %w", line, err)
			}
			if r.Error != "" {
				return r, errors.New(r.Error)
			}
			return r, nil
		case <-time.After(timeout):
			return r, errors.New("slix_login.py did not answer in time")
		case <-ctx.Done():
			return r, ctx.Err()
		}
	}
	s := &slixContender{contender: &contender{
		name:  "slixmpp",
		steps: "ClientXMPP (+xep_0198, xep_0199) untimed; connect() → session_start, send_presence, ping",
	}}
	s.close = func() {
		_, _ = io.WriteString(stdin, "quit\n")
		_ = stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	ready, err := next(30 * time.Second)
	if err != nil || !ready.Ready {
		s.close()
		return nil, fmt.Errorf("slixmpp helper not ready (is python3-slixmpp installed? make deps): %v", err)
	}
	s.version, s.python = ready.Version, ready.Python
	s.name = "slixmpp " + s.version
	s.note = func() string {
		return fmt.Sprintf("(Python %s; building the ClientXMPP before connect() took a further %s median, not counted)",
			s.python, fmtMS(statsOf(s.setup).median))
	}
	s.login = func(_ context.Context, round int) (sample, error) {
		if _, err := io.WriteString(stdin, "login\n"); err != nil {
			return sample{}, err
		}
		r, err := next(30 * time.Second)
		if err != nil {
			return sample{}, err
		}
		s.mech = r.Mechanism
		marks := map[string]time.Duration{}
		for k, v := range r.Marks {
			marks[k] = ms(v)
		}
		if round >= 0 {
			s.setup = append(s.setup, ms(r.SetupMS))
		}
		return sample{total: ms(r.MS), marks: marks}, nil
	}
	return s, nil
}

// syncBuilder collects the helper's stderr (written by exec's copier goroutine).
type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 64<<10 { // keep only the start; enough to explain a failure
		return len(p), nil
	}
	return s.b.Write(p)
}

func (s *syncBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func ms(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// --- raw baseline -----------------------------------------------------------------------------

func newRaw(srv *xmpptest.Server, user, pass string) *contender {
	c := &contender{name: "raw (xmpptest.DialRaw)", steps: "DialRaw (STARTTLS, SCRAM-SHA-1, bind, presence; no SM, no TCP_QUICKACK), ping", mech: "SCRAM-SHA-1"}
	c.login = func(ctx context.Context, round int) (sample, error) {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		t0 := time.Now()
		p, err := xmpptest.DialRawOpts(srv, user, pass, "", xmpptest.RawOptions{Mechanism: "SCRAM-SHA-1"})
		if err != nil {
			return sample{}, err
		}
		defer p.Close()
		online := time.Since(t0)
		id := fmt.Sprintf("bench-ping-%d", round+1)
		if err := p.SendRaw("<iq type='get' id='" + id + "' to='" + srv.Domain + "'><ping xmlns='urn:xmpp:ping'/></iq>"); err != nil {
			return sample{}, err
		}
		if _, err := p.WaitElement(ctx, func(e xmpptest.RawElement) bool {
			return e.Name == "iq" && (strings.Contains(e.Raw, "id='"+id+"'") || strings.Contains(e.Raw, `id="`+id+`"`))
		}); err != nil {
			return sample{}, fmt.Errorf("ping after presence: %w", err)
		}
		total := time.Since(t0)
		return sample{total: total, marks: map[string]time.Duration{"session": online, "ping": total}}, nil
	}
	c.close = func() {}
	return c
}

// --- report -----------------------------------------------------------------------------------

type stats struct{ median, p90, min, max time.Duration }

func statsOf(ds []time.Duration) stats {
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return stats{}
	}
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	p90 := s[int(math.Ceil(0.9*float64(n)))-1] // nearest rank
	return stats{median: med, p90: p90, min: s[0], max: s[n-1]}
}

func totals(c *contender) []time.Duration {
	out := make([]time.Duration, len(c.runs))
	for i, r := range c.runs {
		out[i] = r.total
	}
	return out
}

func fmtMS(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func report(w io.Writer, n int, cs []*contender) {
	fmt.Fprintf(w, "Login to online on loopback: dial, STARTTLS, SASL, bind, initial presence, reply to a ping sent after it.\n")
	fmt.Fprintf(w, "%s, %s/%s, %d CPUs, Prosody %s (isolated, SQLite on tmpfs, MAM on), %d logins per client after 1 warm-up, interleaved.\n\n",
		time.Now().Format("2006-01-02"), runtime.Version(), runtime.GOARCH, runtime.NumCPU(), prosodyVersion(), n)

	fmt.Fprintln(w, "| client | SASL | median | p90 | min | max |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|")
	st := map[*contender]stats{}
	for _, c := range cs {
		s := statsOf(totals(c))
		st[c] = s
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", c.name, c.mech, fmtMS(s.median), fmtMS(s.p90), fmtMS(s.min), fmtMS(s.max))
	}
	parley, slix := cs[0], cs[1]
	ratio := float64(st[parley].median) / float64(st[slix].median)
	fmt.Fprintf(w, "\nParley / slixmpp (median): %.2f\n", ratio)
	under := st[parley].median < 50*time.Millisecond
	half := ratio <= 0.5
	verdict := "met"
	if !under || !half {
		verdict = "NOT met"
	}
	fmt.Fprintf(w, "Goal (median < 50 ms and <= 0.5 x slixmpp): %s (%s < 50 ms: %v; ratio %.2f <= 0.5: %v)\n\n",
		verdict, fmtMS(st[parley].median), under, ratio, half)

	fmt.Fprintln(w, "Where the time goes (median of cumulative time since start; - = not observable):")
	fmt.Fprintln(w)
	head := "| client |"
	sep := "|---|"
	for _, p := range phases {
		head += " " + phaseTitles[p] + " |"
		sep += "---:|"
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, sep)
	for _, c := range cs {
		row := "| " + c.name + " |"
		for _, p := range phases {
			var ds []time.Duration
			for _, r := range c.runs {
				if d, ok := r.marks[p]; ok {
					ds = append(ds, d)
				}
			}
			if len(ds) == 0 {
				row += " - |"
				continue
			}
			row += " " + fmtMS(statsOf(ds).median) + " |"
		}
		fmt.Fprintln(w, row)
	}
	fmt.Fprintln(w)
	for _, c := range cs {
		fmt.Fprintf(w, "- %s: %s\n", c.name, c.steps)
		if c.note != nil {
			fmt.Fprintf(w, "  %s\n", c.note())
		}
	}
}

// prosodyVersion asks dpkg (running prosody itself would start a server).
func prosodyVersion() string {
	out, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", "prosody").Output()
	if err != nil || len(out) == 0 {
		return "0.12 (version unknown)"
	}
	v := string(out)
	if i := strings.IndexAny(v, "-+"); i > 0 {
		v = v[:i]
	}
	return v
}

func writeJSON(path string, cs []*contender) error {
	type run struct {
		TotalMS float64            `json:"total_ms"`
		Marks   map[string]float64 `json:"marks_ms"`
	}
	out := map[string][]run{}
	for _, c := range cs {
		for _, r := range c.runs {
			m := map[string]float64{}
			for k, v := range r.marks {
				m[k] = float64(v) / float64(time.Millisecond)
			}
			out[c.name] = append(out[c.name], run{TotalMS: float64(r.total) / float64(time.Millisecond), Marks: m})
		}
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func splitAddr(addr string) (string, int) {
	i := strings.LastIndexByte(addr, ':')
	port, _ := strconv.Atoi(addr[i+1:])
	return addr[:i], port
}
