// Parley's entry point: reads the flags (--profile, --version, an optional
// xmpp: URI), builds the Fyne app, wires the app layer (parley/app) to the
// windows (parley/views), shows the login window and logs in by itself when
// the profile remembers a password. An xmpp: URI (RFC 5122, e.g.
// xmpp:bob@example.org?message;body=hi) opens that chat after login with
// the body in the composer; a URI with a bad address is refused on the
// command line (exit code 2), before any window opens. One process runs
// per profile (app/instance): a later start hands its URI to the running
// one, which comes to the front and opens the chat, and exits 0.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"parley/app"
	"parley/app/instance"
	"parley/assets"
	"parley/views"
	"parley/xmppclient"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// appID matches the ID in FyneApp.toml.
const appID = "org.parley.desktop"

func main() {
	os.Exit(run(os.Args[1:]))
}

// run is Parley on the desktop Fyne app; it returns the exit code.
func run(args []string) int {
	return runOn(args, func() fyne.App { return fyneapp.NewWithID(appID) }, nil)
}

// runOn runs Parley with args on the Fyne app newApp makes (once the
// command line is known to be good) until the app quits, and returns the
// exit code. shown, if not nil, is handed the main window once it is shown
// and before the app runs (tests watch the window through it).
func runOn(args []string, newApp func() fyne.App, shown func(*views.Window)) int {
	fs := flag.NewFlagSet("parley", flag.ContinueOnError)
	profile := fs.String("profile", "", "profile folder (default: one per account under the user configuration folder)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	verbose := fs.Bool("verbose", false, "log debug messages")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: parley [--profile DIR] [--version] [xmpp:user@example.org]\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if *showVersion {
		fmt.Println("Parley", version)
		return 0
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	var uri *url.URL
	switch fs.NArg() {
	case 0:
	case 1:
		u, err := parseXMPPURI(fs.Arg(0))
		if err != nil {
			fmt.Fprintln(os.Stderr, "parley:", err)
			return 2
		}
		uri = u
	default:
		fmt.Fprintln(os.Stderr, "parley: at most one xmpp: URI may be given")
		fs.Usage()
		return 2
	}

	// One process per profile: a later start hands its URI to the running
	// one (which shows its window and opens the chat) and ends here, before
	// it opens the history or logs in.
	instDir := *profile
	if instDir == "" {
		root, err := app.DefaultProfilesRoot()
		if err != nil {
			fmt.Fprintln(os.Stderr, "parley:", err)
			return 1
		}
		instDir = root
	}
	var later laterStarts
	inst, err := instance.Acquire(instDir, later.arrived)
	if errors.Is(err, instance.ErrRunning) {
		raw := ""
		if uri != nil {
			raw = uri.String()
		}
		if err := instance.HandOver(instDir, instance.Request{URI: raw}, 10*time.Second); err != nil {
			fmt.Fprintln(os.Stderr, "parley: Parley is already running with this profile, but", err)
			return 1
		}
		fmt.Fprintln(os.Stderr, "parley: handed over to the Parley already running with this profile")
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "parley:", err)
		return 1
	}
	defer inst.Close()

	svc, err := app.NewService(app.Options{ProfileDir: *profile, Version: version, Logger: logger})
	if err != nil {
		fmt.Fprintln(os.Stderr, "parley:", err)
		return 1
	}

	a := newApp()
	icon := fyne.NewStaticResource("icon.png", assets.Icon)
	a.SetIcon(icon)
	busOK, bus := sessionBusReachable()
	if !busOK {
		logger.Info("no D-Bus session bus answers: desktop notifications are off", "looked at", bus)
	}
	win := views.NewWindow(a, svc, views.WindowOptions{Icon: icon, NoNotifications: !busOK})
	win.Window().SetMaster()
	// Closing the window quits the app; the session is closed after Run
	// returns, off the UI goroutine's last callbacks.
	win.Window().SetOnClosed(win.Stop)
	if uri != nil {
		openURI(win, uri, logger)
	}
	// Later starts: the window comes to the front, and their URI opens.
	later.serve(func(req instance.Request) {
		fyne.Do(func() {
			win.Show()
			win.Window().RequestFocus()
			if req.URI == "" {
				return
			}
			u, err := parseXMPPURI(req.URI)
			if err != nil {
				logger.Warn("a later start handed over a bad URI", "uri", req.URI, "err", err)
				return
			}
			logger.Info("opening what a later start handed over", "uri", req.URI)
			openURI(win, u, logger)
		})
	})
	// With a remembered password the main view is in the window before it
	// is first shown: the desktop driver then creates it at the main view's
	// size (a resize asked right after showing it was lost now and then:
	// the window stayed 680 × 420 under Xvfb).
	if svc.Saved().AutoLogin {
		logger.Info("logging in with the remembered password", "account", svc.Saved().JID, "profile", svc.Saved().ProfileDir)
		win.AutoLogin()
	}
	win.Show()
	if shown != nil {
		shown(win)
	}
	// SIGINT/SIGTERM (Ctrl-C, the demo's cleanup) quit like closing the
	// window, so the server sees the session end instead of hibernating it.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		logger.Info("quitting on signal", "signal", s.String())
		fyne.Do(a.Quit)
	}()
	a.Run()
	signal.Stop(sig)
	// Close sends what the chats handed over (their draft, "gone", the last
	// messages) before the session ends.
	if err := svc.Close(); err != nil {
		logger.Warn("closing the session", "err", err)
	}
	return 0
}

// openURI opens the chat an xmpp: URI names (its body in the composer).
func openURI(win *views.Window, uri *url.URL, logger *slog.Logger) {
	action, params := xmppURIQuery(uri)
	switch action {
	case "", "message":
		win.OpenChat(xmppURITarget(uri), params["body"])
	default:
		logger.Info("xmpp: URI action not supported; opening the chat", "action", action)
		win.OpenChat(xmppURITarget(uri), "")
	}
}

// laterStarts holds what later starts hand over until the window is
// there to take it (serve), then hands it on at once.
type laterStarts struct {
	mu      sync.Mutex
	handle  func(instance.Request)
	pending []instance.Request
}

// arrived is the instance's handler (its goroutine).
func (l *laterStarts) arrived(req instance.Request) {
	l.mu.Lock()
	h := l.handle
	if h == nil {
		l.pending = append(l.pending, req)
	}
	l.mu.Unlock()
	if h != nil {
		h(req)
	}
}

// serve hands what arrived, and what will, to h.
func (l *laterStarts) serve(h func(instance.Request)) {
	l.mu.Lock()
	l.handle = h
	pending := l.pending
	l.pending = nil
	l.mu.Unlock()
	for _, req := range pending {
		h(req)
	}
}

// parseXMPPURI accepts an RFC 5122 URI such as xmpp:user@example.org?message
// whose address is a valid JID.
func parseXMPPURI(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URI: %w", s, err)
	}
	if !strings.EqualFold(u.Scheme, "xmpp") {
		return nil, fmt.Errorf("%q is not an xmpp: URI", s)
	}
	target := xmppURITarget(u)
	if target == "" {
		return nil, fmt.Errorf("%q names no address", s)
	}
	if _, err := xmppclient.ParseJID(target); err != nil {
		reason := err.Error()
		var je *xmppclient.JIDError
		if errors.As(err, &je) {
			reason = je.Reason
		}
		return nil, fmt.Errorf("%q: %q is not a valid address: %s", s, target, reason)
	}
	return u, nil
}

// xmppURIQuery splits an xmpp: URI's query ("message;body=hi%20there")
// into its action and its key=value parameters, percent-decoded (RFC 5122:
// a '+' stays a '+').
func xmppURIQuery(u *url.URL) (action string, params map[string]string) {
	params = map[string]string{}
	q := u.RawQuery
	if q == "" {
		return "", params
	}
	parts := strings.Split(q, ";")
	action = parts[0]
	if a, err := url.PathUnescape(action); err == nil {
		action = a
	}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(p, "=")
		if dv, err := url.PathUnescape(v); err == nil {
			v = dv
		}
		if dk, err := url.PathUnescape(k); err == nil {
			k = dk
		}
		if _, dup := params[k]; !dup && k != "" {
			params[k] = v
		}
	}
	return strings.ToLower(action), params
}

// xmppURITarget is the address an xmpp: URI points at.
func xmppURITarget(u *url.URL) string {
	target := u.Opaque
	if target == "" { // xmpp://auth@host/target form
		target = strings.TrimPrefix(u.Path, "/")
	}
	if t, err := url.PathUnescape(target); err == nil {
		target = t
	}
	return target
}
