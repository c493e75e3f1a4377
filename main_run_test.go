// End-to-end tests of run() (through runOn, on Fyne's test app) against a
// real Prosody: Parley started with an xmpp: URI logs in by itself with the
// password its profile remembers and then shows the chat the URI names in
// the Chats tab, the URI's body in the composer (after the chat's draft,
// when it has one); a URI with a bad address exits 2 before any app is made.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"parley/app"
	"parley/app/apptest"
	"parley/views"
)

func TestMain(m *testing.M) {
	// As a later start of Parley (TestSecondStartHandsOver): run with the
	// arguments given, as the real binary does, and exit with its code.
	if args := os.Getenv("PARLEY_TEST_RUN_ARGS"); args != "" {
		var list []string
		if err := json.Unmarshal([]byte(args), &list); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		os.Exit(run(list))
	}
	os.Exit(apptest.Main(m))
}

const waitFor = 30 * time.Second

// loopApp is Fyne's test app, made the current app, run the way the
// desktop app runs: fyne.Do hands a function to the UI goroutine, which is
// the goroutine in Run, so nothing handed over runs before Run starts and
// everything runs one at a time, in order, until Quit. (The test driver
// alone runs fyne.Do at once on the calling goroutine and has a Run that
// returns at once.)
type loopApp struct {
	fyne.App
	drv *loopDriver
}

type loopDriver struct {
	fyne.Driver
	mu       sync.Mutex
	queue    []func()
	wake     chan struct{}
	quit     chan struct{}
	quitOnce sync.Once
}

func newLoopApp(t *testing.T) *loopApp {
	inner := test.NewTempApp(t) // its cleanup makes a fresh test app current
	a := &loopApp{App: inner, drv: &loopDriver{Driver: inner.Driver(), wake: make(chan struct{}, 1), quit: make(chan struct{})}}
	fyne.SetCurrentApp(a)
	return a
}

func (a *loopApp) Driver() fyne.Driver { return a.drv }

// Run runs what fyne.Do hands over until Quit.
func (a *loopApp) Run() {
	d := a.drv
	for {
		d.mu.Lock()
		q := d.queue
		d.queue = nil
		d.mu.Unlock()
		for _, fn := range q {
			fn()
		}
		select {
		case <-d.quit:
			return
		default:
		}
		if len(q) == 0 {
			select {
			case <-d.wake:
			case <-d.quit:
				return
			}
		}
	}
}

// Quit ends Run.
func (a *loopApp) Quit() { a.drv.quitOnce.Do(func() { close(a.drv.quit) }) }

// DoFromGoroutine queues fn for the UI goroutine; with wait it returns once
// fn ran (or the app quit). Calling it with wait from the UI goroutine
// would deadlock, as Parley never does.
func (d *loopDriver) DoFromGoroutine(fn func(), wait bool) {
	done := make(chan struct{})
	d.mu.Lock()
	d.queue = append(d.queue, func() {
		defer close(done)
		fn()
	})
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
	if wait {
		select {
		case <-done:
		case <-d.quit:
		}
	}
}

// running is one runOn on a loopApp in the background.
type running struct {
	t      *testing.T
	app    *loopApp
	win    *views.Window
	exited chan struct{} // closed when runOn returned rc
	rc     int
}

// start runs args on a fresh loopApp and waits for the main window.
func start(t *testing.T, args ...string) *running {
	t.Helper()
	r := &running{t: t, app: newLoopApp(t), exited: make(chan struct{})}
	shown := make(chan *views.Window, 1)
	go func() {
		defer close(r.exited)
		r.rc = runOn(args, func() fyne.App { return r.app }, func(w *views.Window) { shown <- w })
	}()
	// On any way out, the app quits and run closes the service before the
	// profile folder is removed.
	t.Cleanup(func() {
		r.app.Quit()
		select {
		case <-r.exited:
		case <-time.After(waitFor):
			t.Error("run did not return after Quit")
		}
	})
	select {
	case r.win = <-shown:
	case <-r.exited:
		t.Fatalf("run exited %d before showing the window", r.rc)
	case <-time.After(waitFor):
		t.Fatal("no window shown")
	}
	return r
}

// waitUI waits until cond, evaluated on the UI goroutine, holds; cond also
// says what it saw, for the failure message.
func (r *running) waitUI(what string, cond func(w *views.Window) (bool, string)) {
	r.t.Helper()
	deadline := time.Now().Add(waitFor)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, saw := false, ""
		fyne.DoAndWait(func() { ok, saw = cond(r.win) })
		if ok {
			return
		}
		select {
		case <-r.exited:
			r.t.Fatalf("run exited %d while waiting for %s", r.rc, what)
		default:
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("timed out after %v waiting for %s; saw %s", waitFor, what, saw)
		}
		<-tick.C
	}
}

// stop closes the window as the user would, quits the app and returns
// run's exit code.
func (r *running) stop() int {
	r.t.Helper()
	fyne.DoAndWait(func() {
		r.win.Window().Close() // its OnClosed stops the window
		r.app.Quit()           // the desktop app quits with its master window
	})
	select {
	case <-r.exited:
		return r.rc
	case <-time.After(waitFor):
		r.t.Fatal("run did not return after Quit")
		return -1
	}
}

// rememberedLogin makes a profile that logs in jid by itself (an earlier
// run with Remember ticked), with draft (if any) kept for peer's chat.
func rememberedLogin(t *testing.T, srv *apptest.Server, jid, pass, peer, draft string) string {
	t.Helper()
	dir := srv.Profile(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	first, err := app.NewService(app.Options{ProfileDir: dir, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { first.Close() })
	req := srv.Request(jid, pass)
	req.Remember = true
	if err := first.Login(ctx, req); err != nil {
		t.Fatal(err)
	}
	if draft != "" {
		if _, err := first.Chats().StartConversation(ctx, peer); err != nil {
			t.Fatal(err)
		}
		if err := first.Chats().SetDraft(ctx, peer, draft); err != nil {
			t.Fatal(err)
		}
	}
	if saved := first.Saved(); !saved.AutoLogin {
		t.Fatalf("the profile does not log in by itself: %+v", saved)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// waitOnline waits for the automatic login.
func (r *running) waitOnline() {
	r.t.Helper()
	r.waitUI("the automatic login", func(w *views.Window) (bool, string) {
		state := w.Account().StateText()
		return w.ShowingAccount() && strings.HasPrefix(state, "Online"), fmt.Sprintf("main view %v, state %q", w.ShowingAccount(), state)
	})
}

// waitChat waits for peer's chat in the Chats tab with composer in the composer.
func (r *running) waitChat(peer, composer string) {
	r.t.Helper()
	r.waitUI("the URI's chat in the Chats tab", func(w *views.Window) (bool, string) {
		peerShown := ""
		if c := w.Chats(); c != nil {
			peerShown = c.Peer()
		}
		return w.ShowingChats() && peerShown == peer && w.ComposerText() == composer,
			fmt.Sprintf("Chats tab %v, chat %q, composer %q", w.ShowingChats(), peerShown, w.ComposerText())
	})
}

func TestURIOpensChatAfterAutoLogin(t *testing.T) {
	srv := apptest.Shared(t)
	// No Secret Service runs on the test machines (scripts/deps.sh installs
	// no keyring daemon), yet the keyring is not mocked: run's real OS
	// keyring code finds no session bus at once, and the password is
	// remembered in the profile folder, as on any machine without a
	// keyring. The bus address points at nothing, so no bus is auto-launched
	// and a developer's own keyring is never touched.
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))

	for _, tc := range []struct {
		name, draft, want string
	}{
		{"no draft", "", "hi there"},
		{"after the draft", "earlier draft", "earlier draft\nhi there"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			jid, pass := srv.NewUser(t, "urime")
			peer, _ := srv.NewUser(t, "uripeer")
			dir := rememberedLogin(t, srv, jid, pass, peer, tc.draft)
			ctx, cancel := context.WithTimeout(context.Background(), waitFor)
			defer cancel()

			r := start(t, "--profile", dir, "xmpp:"+peer+"?message;body=hi%20there")
			r.waitOnline()
			r.waitChat(peer, tc.want)
			fyne.DoAndWait(func() {
				w := r.win
				if title := w.Window().Title(); title != "Parley — "+jid {
					t.Errorf("title %q", title)
				}
				if w.Window().Canvas().Focused() == nil {
					t.Error("nothing has the keyboard focus in the chat just opened")
				}
			})
			if rc := r.stop(); rc != 0 {
				t.Fatalf("exit code %d", rc)
			}

			// Closing the window kept the composer's text as the chat's draft.
			after := apptest.NewService(t, dir, nil)
			if d, err := after.Chats().Draft(ctx, peer); err != nil || d != tc.want {
				t.Errorf("draft after closing %q, %v; want %q", d, err, tc.want)
			}
		})
	}
}

// A second start with the same profile hands its xmpp: URI to the first
// (a real second process) and exits 0; the first opens the chat, the body
// in its composer. The second never opens the history or logs in.
func TestSecondStartHandsOver(t *testing.T) {
	srv := apptest.Shared(t)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	jid, pass := srv.NewUser(t, "twiceme")
	peer, _ := srv.NewUser(t, "twicepeer")
	dir := rememberedLogin(t, srv, jid, pass, "", "")
	r := start(t, "--profile", dir)
	r.waitOnline()

	args, _ := json.Marshal([]string{"--profile", dir, "xmpp:" + peer + "?message;body=from%20a%20link"})
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	second := exec.CommandContext(ctx, os.Args[0])
	second.Env = append(os.Environ(), "PARLEY_TEST_RUN_ARGS="+string(args))
	out, err := second.CombinedOutput()
	if err != nil {
		t.Fatalf("the second start: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "handed over to the Parley already running") {
		t.Errorf("the second start said %q", out)
	}
	r.waitChat(peer, "from a link")
	if rc := r.stop(); rc != 0 {
		t.Fatalf("exit code %d", rc)
	}
}

func TestBadURIExitsBeforeAnyApp(t *testing.T) {
	newApp := func() fyne.App {
		t.Error("an app was made for a bad URI")
		return test.NewTempApp(t)
	}
	for _, uri := range []string{"xmpp:bob@@example.org?message;body=hi", "xmpp:", "https://example.org"} {
		var rc int
		msg := stderrOf(t, func() { rc = runOn([]string{"--profile", t.TempDir(), uri}, newApp, nil) })
		if rc != 2 || !strings.HasPrefix(msg, "parley: ") {
			t.Errorf("%q: exit %d, stderr %q; want 2 and the reason", uri, rc, msg)
		}
	}
}
