// Command contacts is the benchmark of the Friends/contacts issue: a 5,000-contact roster on an
// isolated Prosody, timed from the start of login to the full list rendered in the contacts view
// ("cold": a fresh profile each run), and from the start of the app to the list rendered from the
// locally stored roster ("warm": the profile's roster.json, before the server answers), with the
// server's own limit (a raw roster fetch) as a baseline and the heap the list costs. Run it with
// `make bench` (scripts/bench.sh) or `go run ./bench/contacts`.
//
// Rendering is headless: Fyne's test driver (fyne.io/fyne/v2/test) with its software painter, so
// "rendered" means a canvas Capture() completed after the list reached its full length. Only
// main.go may import fyne.io/fyne/v2/app (the real GL driver), so the benchmark cannot use it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/app"
	"parley/app/apptest"
	"parley/bench/internal/uiqueue"
	"parley/views"
	"parley/xmppclient/xmpptest"
)

// Goals from the issue.
const (
	goalCold = 300 * time.Millisecond
	goalWarm = 100 * time.Millisecond
	goalMem  = 30.0 // MB above the empty app
)

// Size of the main window after login (views/window.go's mainSize).
var winSize = fyne.NewSize(900, 650)

const (
	user      = "friends"
	emptyUser = "loner" // no roster items: the login-only baseline
	password  = "bench-secret-1"
	waitMax   = 60 * time.Second
)

type config struct {
	runs     int
	contacts int
	groups   int
	gap      time.Duration
	jsonOut  string
	cpuProf  string
	keepTemp bool
}

func main() {
	var c config
	flag.IntVar(&c.runs, "n", 7, "timed runs per case (after one untimed warm-up)")
	flag.IntVar(&c.contacts, "contacts", 5000, "roster items to create")
	flag.IntVar(&c.groups, "groups", 25, "roster groups the contacts are spread over")
	flag.DurationVar(&c.gap, "gap", 200*time.Millisecond, "pause between runs so the server finishes the previous session")
	flag.StringVar(&c.jsonOut, "json", "", "also write every sample to this JSON file")
	flag.StringVar(&c.cpuProf, "cpuprofile", "", "write CPU profiles of the timed runs to FILE.cold, FILE.warm and FILE.window")
	flag.BoolVar(&c.keepTemp, "keep", false, "keep the temporary profiles")
	flag.Parse()
	if c.runs < 1 || c.contacts < 1 || c.groups < 1 {
		fmt.Fprintln(os.Stderr, "contacts bench: -n, -contacts and -groups must be at least 1")
		os.Exit(2)
	}
	c.groups = min(c.groups, c.contacts)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, c)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "contacts bench:", err)
		os.Exit(1)
	}
}

// bench holds what every case shares.
type bench struct {
	cfg     config
	srv     *xmpptest.Server
	app     fyne.App
	win     fyne.Window
	ui      *uiqueue.Queue
	secrets *apptest.MemorySecrets
	tmp     string
	jid     string
	host    string
	port    int
	rows    int // list rows when everything is shown: one header per group plus the contacts
	nextDir int
}

func run(ctx context.Context, cfg config) error {
	defer xmpptest.Cleanup()
	srv, err := xmpptest.StartProsody(xmpptest.ProsodyOptions{})
	if err != nil {
		return fmt.Errorf("start Prosody (make deps installs it): %w", err)
	}
	for _, u := range []string{user, emptyUser} {
		if err := srv.CreateUser(u, password); err != nil {
			return fmt.Errorf("create user %s: %w", u, err)
		}
	}
	fill, err := fillRoster(ctx, srv, cfg.contacts, cfg.groups)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "contacts bench: Prosody stored %d roster items in %v\n", cfg.contacts, fill.Round(time.Millisecond))

	tmp, err := os.MkdirTemp("", "parley-contacts-bench-")
	if err != nil {
		return err
	}
	if cfg.keepTemp {
		fmt.Fprintln(os.Stderr, "contacts bench: profiles in", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	host, portStr, _ := net.SplitHostPort(srv.C2SAddr)
	port, _ := strconv.Atoi(portStr)
	a := test.NewApp()
	a.Settings().SetTheme(theme.DefaultTheme())
	b := &bench{
		cfg: cfg, srv: srv, app: a, ui: uiqueue.New(), secrets: apptest.NewMemorySecrets(), tmp: tmp,
		jid: srv.JID(user), host: host, port: port, rows: cfg.contacts + cfg.groups,
	}
	b.win = test.NewWindow(nil)
	b.win.Resize(winSize)

	res := &results{cfg: cfg, fill: fill, loadBefore: loadAvg()}

	// Baseline: the server's own limit, on an already logged-in raw connection.
	if res.raw, err = b.rawFetch(ctx); err != nil {
		return fmt.Errorf("raw roster fetch: %w", err)
	}
	// Memory first, on a clean heap (the other cases leave caches behind).
	if res.mem, err = b.memory(ctx); err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	fmt.Fprintln(os.Stderr, "contacts bench: memory done")

	// Cold: a fresh profile each run. The untimed warm-up leaves the profile the warm case reuses.
	warmDir, _, err := b.cold(ctx)
	if err != nil {
		return fmt.Errorf("cold warm-up: %w", err)
	}
	time.Sleep(cfg.gap)
	if err := b.profiled("cold", func() error {
		for i := range cfg.runs {
			_, s, err := b.cold(ctx)
			if err != nil {
				return fmt.Errorf("cold run %d: %w", i+1, err)
			}
			res.cold = append(res.cold, s)
			time.Sleep(cfg.gap)
			d, err := b.loginOnly(ctx, emptyUser)
			if err != nil {
				return fmt.Errorf("login-only run %d: %w", i+1, err)
			}
			res.emptyLogin = append(res.emptyLogin, d)
			fmt.Fprint(os.Stderr, ".")
			time.Sleep(cfg.gap)
		}
		return nil
	}); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, " cold done")

	if _, err := b.warm(ctx, warmDir); err != nil {
		return fmt.Errorf("warm warm-up: %w", err)
	}
	time.Sleep(cfg.gap)
	if err := b.profiled("warm", func() error {
		for i := range cfg.runs {
			s, err := b.warm(ctx, warmDir)
			if err != nil {
				return fmt.Errorf("warm run %d: %w", i+1, err)
			}
			res.warm = append(res.warm, s)
			fmt.Fprint(os.Stderr, ".")
			time.Sleep(cfg.gap)
		}
		return nil
	}); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, " warm done")

	if _, err := b.window(ctx, warmDir); err != nil {
		return fmt.Errorf("window warm-up: %w", err)
	}
	time.Sleep(cfg.gap)
	if err := b.profiled("window", func() error {
		for i := range cfg.runs {
			s, err := b.window(ctx, warmDir)
			if err != nil {
				return fmt.Errorf("window run %d: %w", i+1, err)
			}
			res.window = append(res.window, s)
			fmt.Fprint(os.Stderr, ".")
			time.Sleep(cfg.gap)
		}
		return nil
	}); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, " window done")

	for _, qa := range []bool{false, true} {
		time.Sleep(cfg.gap)
		tl, err := b.wireRun(ctx, qa, res.raw.bytes)
		if err != nil {
			return fmt.Errorf("cold run through the timestamping proxy: %w", err)
		}
		res.wire = append(res.wire, tl)
	}

	res.loadAfter = loadAvg()
	res.report(os.Stdout)
	if cfg.jsonOut != "" {
		return res.writeJSON(cfg.jsonOut)
	}
	return nil
}

// profiled runs fn under the CPU profiler when -cpuprofile is set.
func (b *bench) profiled(name string, fn func() error) error {
	if b.cfg.cpuProf == "" {
		return fn()
	}
	f, err := os.Create(b.cfg.cpuProf + "." + name)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	defer pprof.StopCPUProfile()
	return fn()
}

// --- the roster -------------------------------------------------------------------------------

// fillRoster gives the user n roster items (name "Friend i", one of groups groups) over one raw
// connection: every roster set is written in one burst and the server's answers are awaited
// together, which is the fastest way through the real protocol.
func fillRoster(ctx context.Context, srv *xmpptest.Server, n, groups int) (time.Duration, error) {
	p, err := xmpptest.DialRawOpts(srv, user, password, "filler", xmpptest.RawOptions{NoPresence: true})
	if err != nil {
		return 0, fmt.Errorf("filler login: %w", err)
	}
	defer p.Close()
	start := time.Now()
	var sb strings.Builder
	for i := range n {
		fmt.Fprintf(&sb, "<iq type='set' id='fill%d'><query xmlns='jabber:iq:roster'><item jid='%s' name='Friend %d'><group>Group %02d</group></item></query></iq>",
			i, contactJID(i), i+1, i%groups)
	}
	if err := p.SendRaw(sb.String()); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	last := fmt.Sprintf("id='fill%d'", n-1)
	last2 := fmt.Sprintf(`id="fill%d"`, n-1)
	e, err := p.WaitElement(ctx, func(e xmpptest.RawElement) bool {
		return e.Name == "iq" && (strings.Contains(e.Raw, last) || strings.Contains(e.Raw, last2))
	})
	if err != nil {
		return 0, fmt.Errorf("waiting for the roster sets: %w", err)
	}
	if !strings.Contains(e.Raw, "result") {
		return 0, fmt.Errorf("the last roster set failed: %s", e.Raw)
	}
	return time.Since(start), nil
}

func contactJID(i int) string { return fmt.Sprintf("friend%05d@example.org", i) }

// rawSample is the raw client's figures.
type rawSample struct {
	login, loginEmpty []time.Duration // DialRawOpts (SCRAM-SHA-1): the user with the roster, one without
	fetch, fetchSM    []time.Duration // roster gets without and with XEP-0198 enabled
	bytes             int
}

// rawFetch times the server's answer to a roster get on an already logged-in raw connection.
func (b *bench) rawFetch(ctx context.Context) (rawSample, error) {
	var r rawSample
	opts := xmpptest.RawOptions{NoPresence: true, Mechanism: "SCRAM-SHA-1"}
	// Login alone, with and without 5,000 roster items on the server (Prosody loads the roster
	// when the session starts), interleaved.
	for range b.cfg.runs {
		for _, u := range []string{user, emptyUser} {
			t0 := time.Now()
			p, err := xmpptest.DialRawOpts(b.srv, u, password, "raw-login", opts)
			if err != nil {
				return r, err
			}
			d := time.Since(t0)
			p.Close()
			if u == user {
				r.login = append(r.login, d)
			} else {
				r.loginEmpty = append(r.loginEmpty, d)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, waitMax)
	defer cancel()
	var err error
	if r.fetch, r.bytes, err = b.rawFetches(ctx, opts, false); err != nil {
		return r, err
	}
	if r.fetchSM, _, err = b.rawFetches(ctx, opts, true); err != nil {
		return r, fmt.Errorf("with stream management: %w", err)
	}
	return r, nil
}

// rawFetches logs a raw client in (with XEP-0198 enabled if sm, as Parley's sessions have it)
// and times roster gets on it. With sm it acknowledges each reply, as Parley does: unacknowledged
// 0.5 MB replies pile up in Prosody's queue and slow the next ones.
func (b *bench) rawFetches(ctx context.Context, opts xmpptest.RawOptions, sm bool) (ds []time.Duration, size int, err error) {
	p, err := xmpptest.DialRawOpts(b.srv, user, password, "raw", opts)
	if err != nil {
		return nil, 0, err
	}
	defer p.Close()
	if sm {
		if err := p.SendRaw("<enable xmlns='urn:xmpp:sm:3'/>"); err != nil {
			return nil, 0, err
		}
		if _, err := p.WaitElement(ctx, func(e xmpptest.RawElement) bool { return e.Name == "enabled" }); err != nil {
			return nil, 0, fmt.Errorf("enabling stream management: %w", err)
		}
	}
	for i := -1; i < 3*b.cfg.runs; i++ { // one untimed warm-up; more samples, as they are cheap
		if err := p.Err(); err != nil {
			return nil, 0, err
		}
		id := fmt.Sprintf("raw-roster-%v-%d", sm, i+1)
		t := time.Now()
		if err := p.SendRaw("<iq type='get' id='" + id + "'><query xmlns='jabber:iq:roster'/></iq>"); err != nil {
			return nil, 0, err
		}
		e, err := p.WaitElement(ctx, func(e xmpptest.RawElement) bool {
			return e.Name == "iq" && (strings.Contains(e.Raw, "id='"+id+"'") || strings.Contains(e.Raw, `id="`+id+`"`))
		})
		if err != nil {
			return nil, 0, err
		}
		d := time.Since(t)
		if got := strings.Count(e.Raw, "<item "); got != b.cfg.contacts {
			return nil, 0, fmt.Errorf("the raw fetch got %d items, want %d", got, b.cfg.contacts)
		}
		if i >= 0 {
			ds = append(ds, d)
			size = len(e.Raw)
		}
		if sm { // the replies are the only stanzas this session receives
			if err := p.SendRaw("<a xmlns='urn:xmpp:sm:3' h='" + strconv.Itoa(i+2) + "'/>"); err != nil {
				return nil, 0, err
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return ds, size, nil
}

// --- the UI goroutine -------------------------------------------------------------------------

// walkObjects calls fn for o and everything under it (containers' objects, widgets' renderer
// objects) until fn returns false for an object, whose children are then skipped.
func walkObjects(o fyne.CanvasObject, fn func(fyne.CanvasObject) bool) {
	if o == nil || !fn(o) {
		return
	}
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			walkObjects(c, fn)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			walkObjects(c, fn)
		}
	}
}

// findLists returns the widget.Lists under o.
func findLists(o fyne.CanvasObject) []*widget.List {
	var out []*widget.List
	walkObjects(o, func(o fyne.CanvasObject) bool {
		if l, ok := o.(*widget.List); ok {
			out = append(out, l)
			return false
		}
		return true
	})
	return out
}

// showTabOf selects, in any container.AppTabs under root, the tab whose content is content (the
// main window may put the contacts pane in a tab that is not the first).
func showTabOf(root, content fyne.CanvasObject) {
	walkObjects(root, func(o fyne.CanvasObject) bool {
		tabs, ok := o.(*container.AppTabs)
		if !ok {
			return true
		}
		for _, item := range tabs.Items {
			if item.Content == content {
				tabs.Select(item)
			}
		}
		return true
	})
}

// fullList reports whether one of lists shows want rows.
func fullList(lists []*widget.List, want int) bool {
	for _, l := range lists {
		if l.Length != nil && l.Length() == want {
			return true
		}
	}
	return false
}

// --- cases ------------------------------------------------------------------------------------

// newProfile makes a fresh profile folder that trusts the harness CA.
func (b *bench) newProfile() (string, error) {
	b.nextDir++
	dir := filepath.Join(b.tmp, fmt.Sprintf("profile-%03d", b.nextDir))
	p, err := app.OpenProfile(dir)
	if err != nil {
		return "", err
	}
	return dir, p.Update(func(st *app.AccountSettings) { st.CAFile = b.srv.CAFile })
}

func (b *bench) newService(dir string) (*app.Service, error) {
	return app.NewService(app.Options{ProfileDir: dir, Keyring: b.secrets, Version: "bench"})
}

func (b *bench) request() app.LoginRequest {
	return app.LoginRequest{JID: b.jid, Password: password, Remember: true, Host: b.host, Port: b.port}
}

// requestVia is request through another port (the timestamping proxy).
func (b *bench) requestVia(port int) app.LoginRequest {
	r := b.request()
	r.Port = port
	return r
}

// loginOnly times app.NewService and Login for name on a fresh profile (no view).
func (b *bench) loginOnly(ctx context.Context, name string) (time.Duration, error) {
	dir, err := b.newProfile()
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, waitMax)
	defer cancel()
	runtime.GC()
	t0 := time.Now()
	svc, err := b.newService(dir)
	if err != nil {
		return 0, err
	}
	defer svc.Close()
	req := b.request()
	req.JID = b.srv.JID(name)
	if err := svc.Login(ctx, req); err != nil {
		return 0, err
	}
	d := time.Since(t0)
	if err := b.waitLoaded(svc); err != nil {
		return 0, err
	}
	return d, svc.Close()
}

// coldSample is one cold run; times are since the start (before app.NewService).
type coldSample struct {
	login    time.Duration // Login returned (session up, the roster asked for)
	loaded   time.Duration // the service notified the first snapshot with the server's roster
	full     time.Duration // the view's list reached its full length
	rendered time.Duration // the Capture after that completed
	capture  time.Duration // that Capture alone
	applies  int           // snapshots applied by the view until then
}

// cold: a fresh profile (no roster.json); NewService, Login, then the contacts view as the main
// window builds it after a successful login (views.Window.showAccount), until the full list is
// rendered. It returns the profile, which now holds the stored roster.
func (b *bench) cold(ctx context.Context) (string, coldSample, error) {
	return b.coldVia(ctx, b.port, nil)
}

// coldVia is cold with the login sent to port; started, if not nil, gets the start time.
func (b *bench) coldVia(ctx context.Context, port int, started func(time.Time)) (string, coldSample, error) {
	var s coldSample
	dir, err := b.newProfile()
	if err != nil {
		return "", s, err
	}
	runtime.GC()
	ctx, cancel := context.WithTimeout(ctx, waitMax)
	defer cancel()

	t0 := time.Now()
	if started != nil {
		started(t0)
	}
	svc, err := b.newService(dir)
	if err != nil {
		return "", s, err
	}
	defer svc.Close()
	var loadedAt atomic.Int64
	defer svc.Contacts().Subscribe(func(snap app.ContactsSnapshot) {
		if snap.Loaded {
			loadedAt.CompareAndSwap(0, int64(time.Since(t0)))
		}
	})()
	if err := svc.Login(ctx, b.requestVia(port)); err != nil {
		return "", s, fmt.Errorf("login: %w", err)
	}
	s.login = time.Since(t0)
	var applies atomic.Int64
	v := views.NewContactsView(b.win, countingContacts{svc.Contacts(), &applies}, b.ui.Do)
	defer v.Stop()
	b.win.SetContent(v.Content())
	b.win.Resize(winSize)
	lists := findLists(v.Content())
	if err := b.ui.Pump(waitMax, func() bool { return fullList(lists, b.rows) }); err != nil {
		return "", s, fmt.Errorf("waiting for %d rows: %w (%d contacts)", b.rows, err, len(svc.Contacts().Snapshot().Contacts))
	}
	s.full = time.Since(t0)
	tc := time.Now()
	b.win.Canvas().Capture()
	s.capture = time.Since(tc)
	s.rendered = time.Since(t0)
	s.applies = int(applies.Load())
	s.loaded = time.Duration(loadedAt.Load())

	if err := b.waitLoaded(svc); err != nil {
		return "", s, err
	}
	b.ui.Drain(50 * time.Millisecond)
	return dir, s, svc.Close() // Close writes roster.json
}

// countingContacts counts the snapshots delivered to the view.
type countingContacts struct {
	*app.ContactsService
	n *atomic.Int64
}

func (c countingContacts) Subscribe(fn func(app.ContactsSnapshot)) func() {
	return c.ContactsService.Subscribe(func(s app.ContactsSnapshot) {
		c.n.Add(1)
		fn(s)
	})
}

// waitLoaded waits until the contacts reflect the server.
func (b *bench) waitLoaded(svc *app.Service) error {
	deadline := time.Now().Add(waitMax)
	for !svc.Contacts().Snapshot().Loaded {
		if time.Now().After(deadline) {
			return errors.New("the roster never loaded")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// warmSample is one warm run; times are since the start (before app.NewService).
type warmSample struct {
	service  time.Duration // NewService returned (roster.json read)
	rendered time.Duration // full list rendered (Capture done)
	capture  time.Duration
	// loadedAtRender: the contacts already reflected the server's answer when the render
	// completed (so it was not "before the server answers").
	loadedAtRender bool
	login          time.Duration // the concurrent Login returned
	loaded         time.Duration // the service first notified a snapshot with Loaded
}

// warm: the profile with the stored roster; NewService, the contacts view at once, and Login
// started at the same moment on another goroutine (as an auto-login would), until the full list
// is rendered. Whether the server's roster answer had been applied by then is recorded.
func (b *bench) warm(ctx context.Context, dir string) (warmSample, error) {
	var s warmSample
	runtime.GC()
	ctx, cancel := context.WithTimeout(ctx, waitMax)
	defer cancel()

	t0 := time.Now()
	svc, err := b.newService(dir)
	if err != nil {
		return s, err
	}
	defer svc.Close()
	s.service = time.Since(t0)
	loginDone := make(chan error, 1)
	var loginAt, loadedAt atomic.Int64
	unsub := svc.Contacts().Subscribe(func(snap app.ContactsSnapshot) {
		if snap.Loaded {
			loadedAt.CompareAndSwap(0, int64(time.Since(t0)))
		}
	})
	defer unsub()
	go func() {
		err := svc.Login(ctx, b.request())
		loginAt.Store(int64(time.Since(t0)))
		loginDone <- err
	}()
	v := views.NewContactsView(b.win, svc.Contacts(), b.ui.Do)
	defer v.Stop()
	b.win.SetContent(v.Content())
	b.win.Resize(winSize)
	lists := findLists(v.Content())
	if err := b.ui.Pump(waitMax, func() bool { return fullList(lists, b.rows) }); err != nil {
		return s, fmt.Errorf("waiting for %d rows: %w", b.rows, err)
	}
	tc := time.Now()
	b.win.Canvas().Capture()
	s.capture = time.Since(tc)
	s.rendered = time.Since(t0)
	s.loadedAtRender = svc.Contacts().Snapshot().Loaded

	if err := <-loginDone; err != nil {
		return s, fmt.Errorf("login: %w", err)
	}
	if err := b.waitLoaded(svc); err != nil {
		return s, err
	}
	b.ui.Drain(100 * time.Millisecond)
	s.login = time.Duration(loginAt.Load())
	s.loaded = time.Duration(loadedAt.Load())
	return s, svc.Close()
}

// windowSample is one run of the real main window with auto-login.
type windowSample struct {
	rendered time.Duration // the contacts pane's full list rendered
	login    time.Duration // the login form's attempt returned (the pane appears after it)
	loaded   time.Duration
	// loadedAtRender as in warmSample.
	loadedAtRender bool
}

// window: what main.go does on a start with a remembered password: NewService on the profile
// with the stored roster, views.NewWindow, Show, AutoLogin; until the contacts pane (which the
// window builds only once the login succeeded) has rendered the full list. If the pane is in a tab,
// that tab is selected as soon as the pane exists, as a user looking for a contact would.
func (b *bench) window(_ context.Context, dir string) (windowSample, error) {
	var s windowSample
	runtime.GC()
	t0 := time.Now()
	svc, err := b.newService(dir)
	if err != nil {
		return s, err
	}
	defer svc.Close()
	if !svc.Saved().AutoLogin {
		return s, errors.New("the profile does not log in by itself (no remembered password)")
	}
	var loginAt, loadedAt atomic.Int64
	unsubStatus := svc.Subscribe(func(st app.Status) {
		if st.Phase == app.Online {
			loginAt.CompareAndSwap(0, int64(time.Since(t0)))
		}
	})
	defer unsubStatus()
	unsub := svc.Contacts().Subscribe(func(snap app.ContactsSnapshot) {
		if snap.Loaded {
			loadedAt.CompareAndSwap(0, int64(time.Since(t0)))
		}
	})
	defer unsub()
	w := views.NewWindow(b.app, svc, views.WindowOptions{Do: b.ui.Do})
	defer w.Close()
	w.Show()
	w.AutoLogin()
	var lists []*widget.List
	var pane *views.ContactsView
	if err := b.ui.Pump(waitMax, func() bool {
		if c := w.Contacts(); c != nil && c != pane {
			pane = c
			showTabOf(w.Window().Content(), c.Content())
			lists = findLists(c.Content())
		}
		return fullList(lists, b.rows)
	}); err != nil {
		return s, fmt.Errorf("waiting for the contacts pane with %d rows: %w", b.rows, err)
	}
	w.Window().Canvas().Capture()
	s.rendered = time.Since(t0)
	s.loadedAtRender = svc.Contacts().Snapshot().Loaded
	if err := b.waitLoaded(svc); err != nil {
		return s, err
	}
	b.ui.Drain(100 * time.Millisecond)
	s.login = time.Duration(loginAt.Load())
	s.loaded = time.Duration(loadedAt.Load())
	w.Stop()
	return s, svc.Close()
}

// --- where the time goes: one cold run through a timestamping proxy ---------------------------

// wireEvent is one read on the proxy: when, which way, how many bytes.
type wireEvent struct {
	at         time.Time
	fromServer bool
	n          int
}

// wireProxy forwards loopback TCP connections to target and records every read's time and size
// (the stream is TLS, so only sizes and times are visible). Its sockets behave like Parley's after
// login (delayed ACKs), or with quickAck like a client that sets TCP_QUICKACK before every read.
type wireProxy struct {
	ln       net.Listener
	target   string
	quickAck bool
	mu       sync.Mutex
	events   []wireEvent
	wg       sync.WaitGroup
}

func startWireProxy(target string, quickAck bool) (*wireProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &wireProxy{ln: ln, target: target, quickAck: quickAck}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			sv, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			for _, x := range []net.Conn{c, sv} {
				x.(*net.TCPConn).SetNoDelay(true)
			}
			p.wg.Add(2)
			go p.pump(c, sv, false)
			go p.pump(sv, c, true)
		}
	}()
	return p, nil
}

func (p *wireProxy) pump(src, dst net.Conn, fromServer bool) {
	defer p.wg.Done()
	defer dst.Close()
	buf := make([]byte, 256<<10)
	for {
		if fromServer && p.quickAck {
			quickAck(src)
		}
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			p.events = append(p.events, wireEvent{at: time.Now(), fromServer: fromServer, n: n})
			p.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *wireProxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

func (p *wireProxy) close() {
	p.ln.Close()
	p.wg.Wait()
}

// wireTimeline is one cold run with the server's roster reply located on the wire.
type wireTimeline struct {
	quickAck bool
	sample   coldSample
	// lastRequest: the client's last write before the reply began (the roster get, or the
	// request right after it); replyStart/replyEnd: the first and last byte of the 5,000-item
	// roster reply on the wire; all since the start.
	lastRequest, replyStart, replyEnd time.Duration
	replyBytes                        int
}

// wireRun makes one (untimed for the tables) cold run through the proxy.
func (b *bench) wireRun(ctx context.Context, quickAck bool, replySize int) (wireTimeline, error) {
	tl := wireTimeline{quickAck: quickAck}
	p, err := startWireProxy(b.srv.C2SAddr, quickAck)
	if err != nil {
		return tl, err
	}
	var t0 time.Time
	_, s, err := b.coldVia(ctx, p.port(), func(t time.Time) { t0 = t })
	p.close()
	if err != nil {
		return tl, err
	}
	tl.sample = s
	p.mu.Lock()
	evs := slices.Clone(p.events)
	p.mu.Unlock()
	// The reply starts with the largest burst of server reads (less than 5 ms apart) and ends when
	// the server has sent, from there, as many bytes as the plain reply has (replySize, from the raw
	// fetch; TLS adds a little), so a tail that came late is counted.
	type burst struct {
		start, end time.Time
		bytes      int
	}
	var best, cur burst
	for _, e := range evs {
		if !e.fromServer {
			continue
		}
		if cur.bytes > 0 && e.at.Sub(cur.end) < 5*time.Millisecond {
			cur.end = e.at
			cur.bytes += e.n
		} else {
			cur = burst{start: e.at, end: e.at, bytes: e.n}
		}
		if cur.bytes > best.bytes {
			best = cur
		}
	}
	end, size := best.end, 0
	for _, e := range evs {
		if e.at.Before(best.start) {
			if !e.fromServer {
				tl.lastRequest = e.at.Sub(t0)
			}
			continue
		}
		if e.fromServer && size < replySize {
			end, size = e.at, size+e.n
		}
	}
	tl.replyStart, tl.replyEnd, tl.replyBytes = best.start.Sub(t0), end.Sub(t0), size
	return tl, nil
}

// --- memory -----------------------------------------------------------------------------------

// memSample is the heap and RSS with the empty app and with the full list.
type memSample struct {
	emptyHeap, fullHeap   uint64 // HeapAlloc after GC (live heap)
	emptyInuse, fullInuse uint64 // HeapInuse after GC
	emptyRSS, fullRSS     uint64 // VmRSS, bytes
	hwm                   uint64 // VmHWM at the end, bytes
}

// memory: the empty app (a logged-out service on a fresh profile, the contacts view with no
// contacts, rendered) against the same app after login with the full list rendered.
func (b *bench) memory(ctx context.Context) (memSample, error) {
	var m memSample
	dir, err := b.newProfile()
	if err != nil {
		return m, err
	}
	svc, err := b.newService(dir)
	if err != nil {
		return m, err
	}
	defer svc.Close()
	v := views.NewContactsView(b.win, svc.Contacts(), b.ui.Do)
	defer v.Stop()
	b.win.SetContent(v.Content())
	b.win.Resize(winSize)
	b.ui.Drain(200 * time.Millisecond)
	b.win.Canvas().Capture()
	b.ui.Drain(time.Second)
	m.emptyHeap, m.emptyInuse = heap()
	m.emptyRSS = procStatus("VmRSS")

	ctx, cancel := context.WithTimeout(ctx, waitMax)
	defer cancel()
	if err := svc.Login(ctx, b.request()); err != nil {
		return m, fmt.Errorf("login: %w", err)
	}
	lists := findLists(v.Content())
	if err := b.ui.Pump(waitMax, func() bool { return fullList(lists, b.rows) }); err != nil {
		return m, fmt.Errorf("waiting for %d rows: %w", b.rows, err)
	}
	b.win.Canvas().Capture()
	if err := b.waitLoaded(svc); err != nil {
		return m, err
	}
	b.ui.Drain(time.Second) // the roster file is written after 500 ms
	b.win.Canvas().Capture()
	m.fullHeap, m.fullInuse = heap()
	m.fullRSS = procStatus("VmRSS")
	m.hwm = procStatus("VmHWM")
	runtime.KeepAlive(v)
	b.ui.Drain(50 * time.Millisecond)
	return m, svc.Close()
}

// heap returns HeapAlloc and HeapInuse after two collections.
func heap() (alloc, inuse uint64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, ms.HeapInuse
}

// procStatus reads a "kB" field of /proc/self/status, in bytes (0 if unavailable).
func procStatus(field string) uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseUint(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

// --- report -----------------------------------------------------------------------------------

type results struct {
	// loadBefore, loadAfter: /proc/loadavg around the run (other work on the machine skews it).
	loadBefore, loadAfter string
	cfg                   config
	fill                  time.Duration
	raw                   rawSample
	mem                   memSample
	cold                  []coldSample
	// emptyLogin: NewService + Login of a user with no roster items (fresh profile).
	emptyLogin []time.Duration
	warm       []warmSample
	window     []windowSample
	wire       []wireTimeline // without, then with quick ACKs on the proxy's server side
}

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
	return stats{median: med, p90: s[int(math.Ceil(0.9*float64(n)))-1], min: s[0], max: s[n-1]}
}

func pick[T any](xs []T, f func(T) time.Duration) []time.Duration {
	out := make([]time.Duration, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

func fmtMS(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }

func row(w io.Writer, what string, ds []time.Duration) stats {
	s := statsOf(ds)
	fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", what, fmtMS(s.median), fmtMS(s.p90), fmtMS(s.min), fmtMS(s.max))
	return s
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

func (r *results) report(w io.Writer) {
	n := r.cfg.runs
	fmt.Fprintf(w, "Contacts list: %d roster items in %d groups on an isolated Prosody %s (SQLite on tmpfs), loopback.\n",
		r.cfg.contacts, r.cfg.groups, prosodyVersion())
	fmt.Fprintf(w, "%s, %s/%s, %d CPUs; Fyne test driver (software painter), window %.0fx%.0f; %d runs per case after 1 warm-up.\n",
		time.Now().Format("2006-01-02"), runtime.Version(), runtime.GOARCH, runtime.NumCPU(), winSize.Width, winSize.Height, n)
	fmt.Fprintf(w, "(Prosody stored the %d roster items, sent as one burst of roster sets, in %s. Load average before: %s; after: %s.)\n\n",
		r.cfg.contacts, fmtMS(r.fill), r.loadBefore, r.loadAfter)

	fmt.Fprintln(w, "| measure (time since the start) | median | p90 | min | max |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|")
	cold := row(w, "cold: login to the full list rendered", pick(r.cold, func(s coldSample) time.Duration { return s.rendered }))
	coldLogin := row(w, "cold: … of which Login returned", pick(r.cold, func(s coldSample) time.Duration { return s.login }))
	row(w, "cold: … the server's roster notified (Loaded)", pick(r.cold, func(s coldSample) time.Duration { return s.loaded }))
	row(w, "cold: … the list reached its full length", pick(r.cold, func(s coldSample) time.Duration { return s.full }))
	row(w, "cold: … the final Capture() alone", pick(r.cold, func(s coldSample) time.Duration { return s.capture }))
	warm := row(w, "warm: start to the stored list rendered", pick(r.warm, func(s warmSample) time.Duration { return s.rendered }))
	row(w, "warm: … of which NewService (reads roster.json)", pick(r.warm, func(s warmSample) time.Duration { return s.service }))
	row(w, "warm: … the final Capture() alone", pick(r.warm, func(s warmSample) time.Duration { return s.capture }))
	row(w, "warm: concurrent Login returned", pick(r.warm, func(s warmSample) time.Duration { return s.login }))
	row(w, "warm: server's roster answer notified (Loaded)", pick(r.warm, func(s warmSample) time.Duration { return s.loaded }))
	win := row(w, "main window + AutoLogin: contacts pane rendered", pick(r.window, func(s windowSample) time.Duration { return s.rendered }))
	row(w, "main window + AutoLogin: … Online status", pick(r.window, func(s windowSample) time.Duration { return s.login }))
	rawFetch := row(w, "baseline: raw roster fetch (logged-in RawPeer)", r.raw.fetch)
	rawSM := row(w, "baseline: the same with XEP-0198 enabled (as Parley)", r.raw.fetchSM)
	row(w, "baseline: NewService + Login, user with no roster items", r.emptyLogin)
	row(w, "baseline: raw login (no TCP_QUICKACK), this user", r.raw.login)
	row(w, "baseline: raw login (no TCP_QUICKACK), user with no roster items", r.raw.loginEmpty)

	beforeAnswer := 0
	for _, s := range r.warm {
		if !s.loadedAtRender {
			beforeAnswer++
		}
	}
	winBefore := 0
	for _, s := range r.window {
		if !s.loadedAtRender {
			winBefore++
		}
	}
	applies := pick(r.cold, func(s coldSample) time.Duration { return time.Duration(s.applies) })
	fmt.Fprintf(w, "\nWarm: the list was rendered before the server's roster answer was applied in %d of %d runs.\n", beforeAnswer, len(r.warm))
	fmt.Fprintf(w, "Main window: the contacts pane was rendered before the server's roster answer in %d of %d runs.\n", winBefore, len(r.window))
	fmt.Fprintf(w, "Cold: snapshots applied by the view until the full list: median %d.\n", int(statsOf(applies).median))
	stalled := 0
	for _, d := range r.raw.fetch {
		if d-rawFetch.min >= 30*time.Millisecond {
			stalled++
		}
	}
	fmt.Fprintf(w, "Baseline: the raw roster fetch's reply is %d bytes; %d of %d raw fetches took 30 ms or more over the fastest.\n",
		r.raw.bytes, stalled, len(r.raw.fetch))
	base := coldLogin.median + rawFetch.median
	fmt.Fprintf(w, "Parley cold login-to-rendered / (Parley login + raw roster fetch) (medians): %s / %s = %.2f\n",
		fmtMS(cold.median), fmtMS(base), float64(cold.median)/float64(base))
	base = coldLogin.median + rawSM.median
	fmt.Fprintf(w, "  the same against the raw fetch with XEP-0198 enabled (%s): %s / %s = %.2f\n\n",
		fmtMS(rawSM.median), fmtMS(cold.median), fmtMS(base), float64(cold.median)/float64(base))

	fmt.Fprintln(w, "Where the time goes: one cold run through a timestamping TCP proxy (TLS, so sizes and times only), "+
		"with delayed ACKs on the proxy's server side as Parley's socket has after login, and with TCP_QUICKACK on every read:")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| proxy | login | roster asked → reply starts (server) | reply first → last byte | last byte → Loaded notified (client) | → list full (view) | → rendered (Capture) | total |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, t := range r.wire {
		name := "delayed ACKs"
		if t.quickAck {
			name = "TCP_QUICKACK"
		}
		s := t.sample
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", name, fmtMS(s.login), fmtMS(t.replyStart-t.lastRequest),
			fmtMS(t.replyEnd-t.replyStart), fmtMS(s.loaded-t.replyEnd), fmtMS(s.full-s.loaded), fmtMS(s.rendered-s.full), fmtMS(s.rendered))
	}
	fmt.Fprintf(w, "(The reply is %d bytes on the wire; \"roster asked\" is the client's last write before it.)\n\n", r.wire[0].replyBytes)

	d := mb(r.mem.fullHeap) - mb(r.mem.emptyHeap)
	fmt.Fprintln(w, "| memory | empty app | full list | difference |")
	fmt.Fprintln(w, "|---|---:|---:|---:|")
	fmt.Fprintf(w, "| live heap (HeapAlloc after GC) | %.1f MB | %.1f MB | %.1f MB |\n", mb(r.mem.emptyHeap), mb(r.mem.fullHeap), d)
	fmt.Fprintf(w, "| HeapInuse after GC | %.1f MB | %.1f MB | %.1f MB |\n", mb(r.mem.emptyInuse), mb(r.mem.fullInuse), mb(r.mem.fullInuse)-mb(r.mem.emptyInuse))
	fmt.Fprintf(w, "| process RSS (VmRSS) | %.1f MB | %.1f MB | %.1f MB |\n", mb(r.mem.emptyRSS), mb(r.mem.fullRSS), mb(r.mem.fullRSS)-mb(r.mem.emptyRSS))
	fmt.Fprintf(w, "(VmHWM after the memory case: %.1f MB; MB = 2^20 bytes.)\n\n", mb(r.mem.hwm))

	fmt.Fprintf(w, "Goal cold (median < %v): %s (%s)\n", goalCold, verdict(cold.median < goalCold), fmtMS(cold.median))
	fmt.Fprintf(w, "Goal warm (median < %v, before the server answers): %s (%s; before the answer in %d/%d runs)\n",
		goalWarm, verdict(warm.median < goalWarm && beforeAnswer == len(r.warm)), fmtMS(warm.median), beforeAnswer, len(r.warm))
	fmt.Fprintf(w, "  (through the main window with auto-login, as main.go starts: %s, before the answer in %d/%d runs)\n",
		fmtMS(win.median), winBefore, len(r.window))
	fmt.Fprintf(w, "Goal memory (list < %.0f MB above the empty app): %s (%.1f MB)\n", goalMem, verdict(d < goalMem), d)
}

// loadAvg is the 1, 5 and 15 minute load averages.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// prosodyVersion asks dpkg (running prosody itself would start a server).
func prosodyVersion() string {
	out, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", "prosody").Output()
	if err != nil || len(out) == 0 {
		return "0.12"
	}
	v := string(out)
	if i := strings.IndexAny(v, "-+"); i > 0 {
		v = v[:i]
	}
	return v
}

func (r *results) writeJSON(path string) error {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	msAll := func(ds []time.Duration) []float64 {
		out := make([]float64, len(ds))
		for i, d := range ds {
			out[i] = ms(d)
		}
		return out
	}
	out := map[string]any{
		"contacts": r.cfg.contacts, "groups": r.cfg.groups, "fill_ms": ms(r.fill),
		"raw_login_ms": msAll(r.raw.login), "raw_login_empty_ms": msAll(r.raw.loginEmpty), "raw_fetch_ms": msAll(r.raw.fetch), "raw_fetch_sm_ms": msAll(r.raw.fetchSM),
		"memory": map[string]uint64{
			"empty_heap_alloc": r.mem.emptyHeap, "full_heap_alloc": r.mem.fullHeap,
			"empty_heap_inuse": r.mem.emptyInuse, "full_heap_inuse": r.mem.fullInuse,
			"empty_rss": r.mem.emptyRSS, "full_rss": r.mem.fullRSS, "vm_hwm": r.mem.hwm,
		},
	}
	var cold, warm, win []map[string]any
	for _, s := range r.cold {
		cold = append(cold, map[string]any{"login_ms": ms(s.login), "loaded_ms": ms(s.loaded), "full_ms": ms(s.full), "rendered_ms": ms(s.rendered),
			"capture_ms": ms(s.capture), "applies": s.applies})
	}
	for _, s := range r.warm {
		warm = append(warm, map[string]any{"service_ms": ms(s.service), "rendered_ms": ms(s.rendered), "capture_ms": ms(s.capture),
			"loaded_at_render": s.loadedAtRender, "login_ms": ms(s.login), "loaded_ms": ms(s.loaded)})
	}
	for _, s := range r.window {
		win = append(win, map[string]any{"rendered_ms": ms(s.rendered), "login_ms": ms(s.login), "loaded_ms": ms(s.loaded),
			"loaded_at_render": s.loadedAtRender})
	}
	out["cold"], out["warm"], out["window"], out["empty_login_ms"] = cold, warm, win, msAll(r.emptyLogin)
	var wire []map[string]any
	for _, t := range r.wire {
		wire = append(wire, map[string]any{"quick_ack": t.quickAck, "login_ms": ms(t.sample.login), "last_request_ms": ms(t.lastRequest),
			"reply_start_ms": ms(t.replyStart), "reply_end_ms": ms(t.replyEnd), "reply_bytes": t.replyBytes,
			"loaded_ms": ms(t.sample.loaded), "full_ms": ms(t.sample.full), "rendered_ms": ms(t.sample.rendered)})
	}
	out["wire"] = wire
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
