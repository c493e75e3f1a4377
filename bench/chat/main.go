// Command chat benchmarks Parley's chat service (app.ChatService and its SQLite history) and
// prints tables for docs/benchmarks.md. Run it with `make bench` (scripts/bench.sh, section
// chat) or `go run ./bench/chat`. Sections (-only):
//
//   - burst: a peer sends 10,000 messages through an isolated server with MAM off; Parley's time
//     from the first byte sent until all 10,000 are committed to its history, against a raw
//     socket reader that only counts them (the server's limit). Goal: Parley >= 0.8 of the raw rate.
//   - catchup: 10,000 messages archived (MAM on) while away; Parley's catch-up (pages of 250,
//     stored) against slixmpp paging the same archive with its xep_0313 plugin (slix_mam.py, pages
//     of 250, only counted), and against a lean raw client paging it the same way (floor.go), the
//     least any client can take. Goal: at most half of slixmpp's time.
//
// The burst and the catch-up run on Prosody and on ejabberd (-server), every client against the
// same server instance in the same run, with ratios per server.
//   - open: opening a chat holding 100,000 messages in the chat view (views.ChatsView rendered
//     headless with Fyne's test driver) until its first screen is painted, and the history queries
//     alone. Goal: under 50 ms.
//   - search: ChatService.Search over 1,000,000 stored messages, several kinds of query. Goal:
//     median under 50 ms.
//   - memory: resident memory of the real app (built here) under Xvfb with that 100,000-message
//     chat open, against the same app on an empty profile. Goal: under 200 MB.
//
// The 1,000,000-message history is generated once through the public store API (store.Open,
// SaveBatch) and kept under -data for the next runs.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"parley/app"
	"parley/xmppclient/xmpptest"
)

//go:embed slix_mam.py
var slixScript string

type options struct {
	rounds     int
	server     string
	ackQueue   int
	n          int
	python     string
	data       string
	cpuprofile string
	burstNoSM  bool
	shot       string
	memSettle  time.Duration
	memShots   string
}

func main() {
	only := flag.String("only", "burst,catchup,open,search,pictures,memory", "comma-separated sections to run")
	var o options
	flag.IntVar(&o.rounds, "rounds", 5, "timed rounds of the burst and catch-up benchmarks (after one untimed warm-up)")
	flag.StringVar(&o.server, "server", "both", "servers for the burst and the catch-up: prosody, ejabberd or both")
	flag.IntVar(&o.ackQueue, "ejabberd-max-ack-queue", -1, "ejabberd's mod_stream_mgmt max_ack_queue in the burst and catch-up: -1 infinity, 0 ejabberd's default (5000: it closes Parley's stream during a 10,000-message burst)")
	flag.IntVar(&o.n, "n", 10000, "messages per burst and archived for the catch-up")
	flag.StringVar(&o.python, "python", "/usr/bin/python3", "Python with slixmpp (Debian's python3-slixmpp)")
	flag.StringVar(&o.data, "data", "bin/bench/chat-data", "folder keeping the generated 1,000,000-message history between runs")
	flag.BoolVar(&o.burstNoSM, "burst-nosm", true, "also time Parley with XEP-0198 stream management off in the burst (the server's cost of it)")
	flag.DurationVar(&o.memSettle, "mem-settle", 5*time.Second, "memory: how long after the login the app's memory is read")
	flag.StringVar(&o.memShots, "mem-shots", "bin/bench/chat-memory", "memory: keep the screenshots as PREFIX-0.png (baseline) and PREFIX-1.png")
	flag.StringVar(&o.shot, "shot", "", "save the chat view as rendered at the end of the open benchmark to this PNG")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write CPU profiles and execution traces of Parley's timed parts to PREFIX-SECTION.pprof and .trace")
	flag.Parse()
	if o.rounds < 1 {
		fmt.Fprintln(os.Stderr, "chat bench: -rounds must be at least 1")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	defer xmpptest.Cleanup()
	sections := map[string]func(context.Context, options) error{
		"burst": benchBurst, "catchup": benchCatchUp, "open": benchOpen, "search": benchSearch, "pictures": benchPictures,
		"memory": benchMemory,
	}
	failed := false
	for _, name := range strings.Split(*only, ",") {
		run, ok := sections[strings.TrimSpace(name)]
		if !ok {
			fmt.Fprintf(os.Stderr, "chat bench: no section %q (have burst, catchup, open, search, pictures, memory)\n", name)
			os.Exit(2)
		}
		if err := run(ctx, o); err != nil {
			fmt.Fprintf(os.Stderr, "chat bench: %s: %v\n", name, err)
			failed = true
		}
		if ctx.Err() != nil {
			break
		}
	}
	if failed {
		xmpptest.Cleanup()
		os.Exit(1)
	}
}

// --- shared helpers -----------------------------------------------------------------------------

const benchPass = "bench-secret-1"

// noSecrets is a keyring that remembers nothing (the benchmark never asks to remember).
type noSecrets struct{}

func (noSecrets) Get(string) (string, error) { return "", app.ErrNoSecret }
func (noSecrets) Set(string, string) error   { return nil }
func (noSecrets) Delete(string) error        { return nil }

// newProfile makes a profile folder at dir that trusts the server's test CA.
func newProfile(srv *xmpptest.Server, dir string) error {
	p, err := app.OpenProfile(dir)
	if err != nil {
		return err
	}
	return p.Update(func(st *app.AccountSettings) { st.CAFile = srv.CAFile })
}

// openService makes an app.Service on the profile folder dir (its history opens at once).
func openService(dir string) (*app.Service, error) {
	return app.NewService(app.Options{ProfileDir: dir, Keyring: noSecrets{}, Version: "bench"})
}

// login logs user in on svc, directly to the server.
func login(ctx context.Context, svc *app.Service, srv *xmpptest.Server, user string) error {
	host, port := splitAddr(srv.C2SAddr)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return svc.Login(ctx, app.LoginRequest{JID: srv.JID(user), Password: benchPass, Host: host, Port: port})
}

func splitAddr(addr string) (string, int) {
	host, p, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(p)
	return host, port
}

// pingSync makes the server answer a ping from the raw peer: it handles a client's stanzas in
// order, so everything the peer sent before has been routed (and archived) by then.
func pingSync(ctx context.Context, p *xmpptest.RawPeer, domain string) error {
	id := fmt.Sprintf("sync-%d", time.Now().UnixNano())
	if err := p.SendRaw("<iq type='get' id='" + id + "' to='" + domain + "'><ping xmlns='urn:xmpp:ping'/></iq>"); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	_, err := p.WaitElement(ctx, func(el xmpptest.RawElement) bool {
		return el.Name == "iq" && (strings.Contains(el.Raw, "id='"+id+"'") || strings.Contains(el.Raw, `id="`+id+`"`))
	})
	return err
}

// profiler writes CPU profiles and execution traces of the parts it is started for, when asked to.
type profiler struct {
	prefix string
	f, tf  *os.File
}

func (p *profiler) start(section string) {
	if p.prefix == "" {
		return
	}
	f, err := os.Create(p.prefix + "-" + section + ".pprof")
	if err == nil && pprof.StartCPUProfile(f) == nil {
		p.f = f
	}
	tf, err := os.Create(p.prefix + "-" + section + ".trace")
	if err == nil && trace.Start(tf) == nil {
		p.tf = tf
	}
}

func (p *profiler) stop() {
	if p.f != nil {
		pprof.StopCPUProfile()
		p.f.Close()
		fmt.Fprintf(os.Stderr, "chat bench: CPU profile in %s\n", p.f.Name())
		p.f = nil
	}
	if p.tf != nil {
		trace.Stop()
		p.tf.Close()
		fmt.Fprintf(os.Stderr, "chat bench: execution trace in %s\n", p.tf.Name())
		p.tf = nil
	}
}

// stats of a sample.
type stats struct{ median, p90, min, max time.Duration }

func statsOf(ds []time.Duration) stats {
	if len(ds) == 0 {
		return stats{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return stats{median: s[len(s)/2], p90: s[min(len(s)-1, len(s)*9/10)], min: s[0], max: s[len(s)-1]}
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	}
}

func rate(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }

func fmtRate(r float64) string { return fmt.Sprintf("%s msg/s", thousands(int(r+0.5))) }

func thousands(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func verdict(ok bool) string {
	if ok {
		return "Met"
	}
	return "MISSED"
}

func machine() string {
	return fmt.Sprintf("%d cores, %s, %s", runtime.NumCPU(), runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH)
}

// scratchCopy copies a generated profile into a new temporary folder (opening a chat writes
// to it) and returns the copy's path and what removes it.
func scratchCopy(generated, name string) (dir string, remove func(), err error) {
	tmp, err := os.MkdirTemp("", "parley-bench-"+name+"-")
	if err != nil {
		return "", nil, err
	}
	remove = func() { os.RemoveAll(tmp) }
	dir = filepath.Join(tmp, "profile")
	if err := copyDir(generated, dir); err != nil {
		remove()
		return "", nil, err
	}
	return dir, remove, nil
}

// copyDir copies the regular files of a profile folder and its sub-folders (the cached
// thumbnails).
func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		case d.Type().IsRegular():
			return copyFile(path, filepath.Join(dst, rel))
		}
		return nil
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

var errTimeout = errors.New("timed out")
