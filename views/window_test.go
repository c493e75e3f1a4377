// Headless tests of the login window and the main window against a real
// Prosody (through app/apptest): focus order, typing and validation, Enter
// submits, the busy state, each error shown (wrong password, unreachable,
// untrusted certificate with its dialog, invalid address, name taken), Trust
// leading to login, registration, auto-login, the keyring notice, the
// connection state while the server is down, and Log out.
package views

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"parley/app"
	"parley/app/apptest"
)

func TestMain(m *testing.M) { os.Exit(apptest.Main(m)) }

// uiRunner stands in for the UI goroutine: the test driver runs fyne.Do
// inline on any goroutine, so the window's updates from the service and the
// test's own taps and reads are serialized by one lock instead.
type uiRunner struct{ mu sync.Mutex }

func (u *uiRunner) do(fn func()) {
	u.mu.Lock()
	defer u.mu.Unlock()
	fn()
}

// waitUI waits until cond (evaluated on the "UI goroutine") holds, or fails.
func (u *uiRunner) waitUI(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		ok := false
		u.do(func() { ok = cond() })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		<-tick.C
	}
}

const waitFor = 20 * time.Second

type harness struct {
	t   *testing.T
	ui  *uiRunner
	svc *app.Service
	w   *Window
	f   *LoginForm
}

// open makes a window on a service for profileDir and shows it.
func open(t *testing.T, profileDir string, secrets app.SecretStore) *harness {
	t.Helper()
	return openOn(t, test.NewTempApp(t), profileDir, secrets)
}

// openOn is open on the Fyne app a.
func openOn(t *testing.T, a fyne.App, profileDir string, secrets app.SecretStore) *harness {
	t.Helper()
	svc := apptest.NewService(t, profileDir, secrets)
	h := &harness{t: t, ui: &uiRunner{}, svc: svc}
	h.ui.do(func() {
		h.w = NewWindow(a, svc, WindowOptions{Do: h.ui.do})
		h.w.Show()
		h.f = h.w.Login()
	})
	t.Cleanup(func() { h.w.Stop() })
	return h
}

// fill types an address, password and server into the form.
func (h *harness) fill(srv *apptest.Server, jid, password string, port int) {
	h.ui.do(func() {
		test.Type(h.f.jid, jid)
		test.Type(h.f.password, password)
		if srv != nil {
			h.f.advanced.Open(0)
			test.Type(h.f.host, srv.Host)
			if port == 0 {
				port = srv.Port
			}
			test.Type(h.f.port, strconv.Itoa(port))
		}
	})
}

// waitError waits for the form to show an error and returns its title and text.
func (h *harness) waitError() (title, text string) {
	h.t.Helper()
	h.ui.waitUI(h.t, "an error on the login form", waitFor, func() bool {
		return !h.f.busy && h.f.errTitle.Visible()
	})
	h.ui.do(func() { title, text = h.f.errTitle.Text, h.f.errText.Text })
	return title, text
}

// waitOnline waits for the main window to show the account online.
func (h *harness) waitOnline(account string) {
	h.t.Helper()
	h.ui.waitUI(h.t, "the main window online", waitFor, func() bool {
		return h.w.ShowingAccount() && strings.HasPrefix(h.w.Account().StateText(), "Online")
	})
	h.ui.do(func() {
		if got := h.w.Account().account.Text; got != account {
			h.t.Errorf("main window shows account %q, want %q", got, account)
		}
		if title := h.w.Window().Title(); !strings.Contains(title, "Parley") || !strings.Contains(title, account) {
			h.t.Errorf("main window title %q", title)
		}
	})
}

func TestLoginWindowFocusAndLayout(t *testing.T) {
	h := open(t, t.TempDir(), nil)
	h.ui.do(func() {
		c := h.w.Window().Canvas()
		if title := h.w.Window().Title(); !strings.Contains(title, "Parley") {
			t.Errorf("title %q does not contain Parley", title)
		}
		if c.Focused() != h.f.jid {
			t.Fatalf("focused on open: %T, want the address field", c.Focused())
		}
		c.FocusNext() // Tab
		if c.Focused() != h.f.password {
			t.Fatalf("after Tab: %T, want the password field", c.Focused())
		}
		if !h.f.password.Password {
			t.Error("the password field does not hide its text")
		}
		if h.f.remember.Text != "Remember password" || h.f.loginBtn.Text != "Log in" || h.f.registerBtn.Text != "Create account" {
			t.Errorf("labels: %q %q %q", h.f.remember.Text, h.f.loginBtn.Text, h.f.registerBtn.Text)
		}
		if h.f.advanced.Items[0].Title != "Advanced" || h.f.advanced.Items[0].Open {
			t.Errorf("Advanced section: %+v", h.f.advanced.Items[0])
		}
	})
}

func TestJIDValidatedAsTyped(t *testing.T) {
	h := open(t, t.TempDir(), nil)
	h.ui.do(func() {
		test.Type(h.f.jid, "alice")
		if !h.f.jidHint.Visible() || !strings.Contains(h.f.jidHint.Text, "name@server") {
			t.Errorf("hint after 'alice': visible=%v %q", h.f.jidHint.Visible(), h.f.jidHint.Text)
		}
		test.Type(h.f.jid, "@localhost")
		if h.f.jidHint.Visible() {
			t.Errorf("hint still shown for a valid address: %q", h.f.jidHint.Text)
		}
		test.Type(h.f.jid, " x")
		if !h.f.jidHint.Visible() {
			t.Error("no hint for an address with a space")
		}
		// Submitting an invalid address says so and does not start a login.
		test.Tap(h.f.loginBtn)
		if h.f.busy || h.f.errTitle.Text != "Invalid address" {
			t.Errorf("after Log in with an invalid address: busy=%v title=%q", h.f.busy, h.f.errTitle.Text)
		}
	})
}

func TestEnterLogsInAndShowsMainWindow(t *testing.T) {
	srv := apptest.Shared(t)
	jid, pass := srv.NewUser(t, "uilogin")
	h := open(t, srv.Profile(t, true), nil)
	h.fill(srv, jid, "", 0)
	h.ui.do(func() {
		c := h.w.Window().Canvas()
		c.Focus(h.f.jid)
		c.FocusNext() // Tab to the password
		test.Type(c.Focused(), pass)
		c.Focused().TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) // Enter
		// The attempt runs off the UI goroutine; meanwhile the form is busy.
		if !h.f.busy || !h.f.jid.Disabled() || !h.f.password.Disabled() || !h.f.loginBtn.Disabled() ||
			!h.f.progress.Visible() || !h.f.cancelBtn.Visible() {
			t.Errorf("form not busy after Enter: busy=%v", h.f.busy)
		}
	})
	h.waitOnline(jid)
	h.ui.do(func() {
		if !strings.Contains(h.w.Account().resource.Text, jid+"/parley-") {
			t.Errorf("resource line %q", h.w.Account().resource.Text)
		}
		if h.w.Account().reconnectBtn.Visible() {
			t.Error("Reconnect now shown while online")
		}
		test.Tap(h.w.Account().logoutBtn)
	})
	h.ui.waitUI(t, "the login form after Log out", waitFor, func() bool { return !h.w.ShowingAccount() })
	h.ui.do(func() {
		if h.f.jid.Text != jid {
			t.Errorf("address after logout %q, want it prefilled", h.f.jid.Text)
		}
		if h.w.Window().Canvas().Focused() != h.f.jid {
			t.Error("the address field has no focus after logout")
		}
	})
	if st := h.svc.Status(); st.Phase != app.LoggedOut {
		t.Errorf("service after Log out: %v", st.Phase)
	}
}

func TestEnterInAddressFieldLogsIn(t *testing.T) {
	srv := apptest.Shared(t)
	jid, pass := srv.NewUser(t, "uienter")
	h := open(t, srv.Profile(t, true), nil)
	h.fill(srv, jid, pass, 0)
	h.ui.do(func() {
		h.w.Window().Canvas().Focus(h.f.jid)
		h.f.jid.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	})
	h.waitOnline(jid)
}

func TestLoginErrorsShown(t *testing.T) {
	srv := apptest.Shared(t)
	for _, tc := range []struct {
		name      string
		setup     func(t *testing.T, h *harness)
		action    func(h *harness)
		wantTitle string
		wantText  string
	}{
		{
			name: "wrong password",
			setup: func(t *testing.T, h *harness) {
				jid, _ := srv.NewUser(t, "uiwrong")
				h.fill(srv, jid, "not-the-password", 0)
			},
			wantTitle: "Wrong password",
			wantText:  "did not accept",
		},
		{
			name: "unreachable",
			setup: func(t *testing.T, h *harness) {
				h.fill(srv, "nobody@localhost", "pw", apptest.ClosedPort(t))
			},
			wantTitle: "Server unreachable",
			wantText:  "Cannot reach the server 127.0.0.1:",
		},
		{
			name: "registration refused: name taken",
			setup: func(t *testing.T, h *harness) {
				jid, _ := srv.NewUser(t, "uitaken")
				h.fill(srv, jid, "whatever", 0)
			},
			action:    func(h *harness) { test.Tap(h.f.registerBtn) },
			wantTitle: "Name taken",
			wantText:  "already taken",
		},
		{
			name: "password missing",
			setup: func(t *testing.T, h *harness) {
				h.fill(srv, "someone@localhost", "", 0)
			},
			wantTitle: "Password missing",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := open(t, srv.Profile(t, true), nil)
			tc.setup(t, h)
			h.ui.do(func() {
				if tc.action != nil {
					tc.action(h)
				} else {
					test.Tap(h.f.loginBtn)
				}
			})
			title, text := h.waitError()
			if title != tc.wantTitle || !strings.Contains(text, tc.wantText) {
				t.Errorf("error shown %q / %q, want %q / ...%q...", title, text, tc.wantTitle, tc.wantText)
			}
			h.ui.do(func() {
				if h.f.jid.Disabled() || h.f.loginBtn.Disabled() || h.f.progress.Visible() {
					t.Error("the form is still busy after the error")
				}
				if h.w.ShowingAccount() {
					t.Error("main window shown after a failed login")
				}
			})
		})
	}
}

func TestUntrustedCertificateDialog(t *testing.T) {
	srv := apptest.Shared(t)
	jid, pass := srv.NewUser(t, "uicert")
	dir := srv.Profile(t, false) // without the CA the certificate does not verify
	h := open(t, dir, nil)

	// Cancel first: the error stays, nothing is pinned.
	h.fill(srv, jid, pass, 0)
	h.ui.do(func() { test.Tap(h.f.loginBtn) })
	title, text := h.waitError()
	want := app.FormatFingerprint(srv.Fingerprint)
	if title != "Untrusted certificate" || !strings.Contains(text, want) {
		t.Errorf("error %q / %q, want the fingerprint %s", title, text, want)
	}
	h.ui.do(func() {
		if h.f.cert == nil {
			t.Fatal("no certificate dialog")
		}
		if got := h.f.cert.fingerprint.Text; got != want || strings.Count(got, ":") != 31 {
			t.Errorf("dialog fingerprint %q, want %q (AB:CD:... 32 pairs)", got, want)
		}
		if !dialogShows(h.w.Window().Canvas(), want) {
			t.Error("the fingerprint is not on the canvas overlay")
		}
		test.Tap(h.f.cert.cancelBtn)
		if h.f.busy || h.w.ShowingAccount() {
			t.Error("Cancel started a login")
		}
	})
	if p, _ := app.OpenProfile(dir); len(p.Settings().PinnedFingerprints) != 0 {
		t.Fatalf("Cancel pinned %v", p.Settings().PinnedFingerprints)
	}

	// Again, and Trust: it pins and logs in.
	h.ui.do(func() { test.Tap(h.f.loginBtn) })
	h.waitError()
	h.ui.do(func() {
		if h.f.cert == nil {
			t.Fatal("no certificate dialog the second time")
		}
		test.Tap(h.f.cert.trustBtn)
	})
	h.waitOnline(jid)
	p, err := app.OpenProfile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if pins := p.Settings().PinnedFingerprints; len(pins) != 1 || pins[0] != srv.Fingerprint {
		t.Errorf("pinned %v, want [%s]", pins, srv.Fingerprint)
	}
}

// dialogShows reports whether a label on the top overlay shows text.
func dialogShows(c fyne.Canvas, text string) bool {
	top := c.Overlays().Top()
	if top == nil {
		return false
	}
	for _, o := range test.LaidOutObjects(top) {
		if l, ok := o.(*widget.Label); ok && l.Text == text {
			return true
		}
	}
	return false
}

func TestCreateAccount(t *testing.T) {
	srv := apptest.Shared(t)
	jid := srv.JID("uinew" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", ""))
	h := open(t, srv.Profile(t, true), nil)
	h.fill(srv, jid, "brand-new", 0)
	h.ui.do(func() {
		test.Tap(h.f.registerBtn)
		if h.f.progressMsg.Text != "Creating the account…" {
			t.Errorf("progress %q", h.f.progressMsg.Text)
		}
	})
	h.waitOnline(jid)
}

func TestAutoLoginAndKeyringNotice(t *testing.T) {
	srv := apptest.Shared(t)
	jid, pass := srv.NewUser(t, "uiauto")
	dir := srv.Profile(t, true)

	// First run: log in with Remember ticked; there is no OS keyring, so the
	// password goes to the profile folder and the window says so.
	h := open(t, dir, apptest.NoKeyring{})
	h.fill(srv, jid, pass, 0)
	h.ui.do(func() {
		test.Tap(h.f.remember)
		test.Tap(h.f.loginBtn)
	})
	h.waitOnline(jid)
	h.ui.do(func() {
		n := h.w.Account().notice
		if !h.w.Account().noticeBox.Visible() || n.Text != app.NoKeyringNote {
			t.Errorf("notice visible=%v %q, want %q", h.w.Account().noticeBox.Visible(), n.Text, app.NoKeyringNote)
		}
	})
	// Shown once: the profile remembers it, and the next run leaves it out
	// of the header (it stays in the settings).
	waitCond(t, "the notice remembered as shown", func() bool {
		return slices.Contains(h.svc.Profile().Settings().SeenNotices, app.NoKeyringNote)
	})
	h.w.Stop()
	h.svc.Close()

	// Second run on the same profile: the form is prefilled and logs in by itself.
	h2 := open(t, dir, apptest.NoKeyring{})
	h2.ui.do(func() {
		if h2.f.jid.Text != jid || !h2.f.remember.Checked || h2.f.port.Text != strconv.Itoa(srv.Port) {
			t.Errorf("prefill: %q remember=%v port=%q", h2.f.jid.Text, h2.f.remember.Checked, h2.f.port.Text)
		}
		if !h2.f.notice.Visible() || h2.f.notice.Text != app.NoKeyringNote {
			t.Errorf("login form notice visible=%v %q", h2.f.notice.Visible(), h2.f.notice.Text)
		}
		h2.w.AutoLogin()
		// The main view shows at once, while the login goes on.
		if !h2.w.ShowingAccount() {
			t.Errorf("the main view is not shown during the automatic login")
		}
	})
	h2.waitOnline(jid)
	h2.ui.do(func() {
		if h2.w.Account().noticeBox.Visible() {
			t.Error("the notice is in the header again on the second run")
		}
		f := showVoiceSettings(h2.w.Window(), h2.svc.Voice(), h2.ui.do, h2.svc.Status().Notice)
		if !strings.Contains(dialogText(f), app.NoKeyringNote) {
			t.Error("the settings do not say the notice")
		}
		f.dlg.Hide()
	})
	h2.w.Stop()
	h2.svc.Close()

	// Third run after the password was changed elsewhere: the main view
	// shows, then the login form comes back with the error.
	user, _, _ := strings.Cut(jid, "@")
	if err := srv.Harness().DeleteUser(user); err != nil {
		t.Fatal(err)
	}
	if err := srv.Harness().CreateUser(user, "changed-elsewhere"); err != nil {
		t.Fatal(err)
	}
	h3 := open(t, dir, apptest.NoKeyring{})
	h3.ui.do(func() { h3.w.AutoLogin() })
	title, _ := h3.waitError()
	h3.ui.do(func() {
		if h3.w.ShowingAccount() {
			t.Errorf("the main view stays after a failed automatic login")
		}
	})
	if !strings.Contains(strings.ToLower(title), "password") {
		t.Errorf("error title %q does not speak of the password", title)
	}
}

func TestStateWhileServerDown(t *testing.T) {
	srv := apptest.StartPrivate(t)
	jid := srv.CreateUser(t, "uidown", "pw")
	h := open(t, srv.Profile(t, true), nil)
	h.fill(srv, jid, "pw", 0)
	h.ui.do(func() { test.Tap(h.f.loginBtn) })
	h.waitOnline(jid)

	if err := srv.Harness().Kill(); err != nil {
		t.Fatal(err)
	}
	h.ui.waitUI(t, "waiting to reconnect", waitFor, func() bool {
		return strings.HasPrefix(h.w.Account().StateText(), "Waiting to reconnect") || strings.HasPrefix(h.w.Account().StateText(), "Connecting")
	})
	h.ui.waitUI(t, "waiting with a reason", waitFor, func() bool {
		s := h.w.Account().StateText()
		return strings.HasPrefix(s, "Waiting to reconnect: ") && h.w.Account().reconnectBtn.Visible()
	})
	h.ui.do(func() { t.Logf("while down: %s", h.w.Account().StateText()) })
	if err := srv.Harness().Restart(); err != nil {
		t.Fatal(err)
	}
	h.waitOnline(jid)
}

// XEP-0352 wiring: out of focus for InactiveAfter, the service (and so
// the server) hears "inactive"; focused again, "active" at once.
func TestFocusTellsTheServerActiveOrNot(t *testing.T) {
	srv := apptest.Shared(t)
	jid, pass := srv.NewUser(t, "uicsi")
	h := &harness{t: t, ui: &uiRunner{}, svc: apptest.NewService(t, srv.Profile(t, true), nil)}
	h.ui.do(func() {
		h.w = NewWindow(test.NewTempApp(t), h.svc, WindowOptions{Do: h.ui.do, InactiveAfter: 50 * time.Millisecond})
		h.w.Show()
		h.f = h.w.Login()
	})
	t.Cleanup(func() { h.w.Stop() })
	h.fill(srv, jid, pass, 0)
	h.ui.do(func() { h.f.submit() })
	h.waitOnline(jid)
	h.ui.do(func() { h.w.setFocused(false) })
	waitCond(t, "the service inactive after the window lost the focus", func() bool { return !h.svc.Active() })
	h.ui.do(func() { h.w.setFocused(true) })
	if !h.svc.Active() {
		t.Error("the service is not active right after the window got the focus back")
	}
}

// dialogText is every label's text in the settings dialog's content.
func dialogText(f *voiceSettingsForm) string {
	var b strings.Builder
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *widget.Label:
			b.WriteString(x.Text + "\n")
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		}
	}
	walk(f.content)
	return b.String()
}

// The main view opens at the size it had when the window last closed
// (per profile), never under mainSize.
func TestWindowSizeRemembered(t *testing.T) {
	srv := apptest.Shared(t)
	jid, pass := srv.NewUser(t, "uisize")
	dir := srv.Profile(t, true)
	h := open(t, dir, nil)
	h.fill(srv, jid, pass, 0)
	h.ui.do(func() { h.f.submit() })
	h.waitOnline(jid)
	h.ui.do(func() {
		if s := h.w.Window().Canvas().Size(); s.Width < mainSize.Width || s.Height < mainSize.Height {
			t.Errorf("the main view opened at %v, under %v", s, mainSize)
		}
		h.w.Window().Resize(fyne.NewSize(1100, 760))
	})
	h.w.Stop()
	h.svc.Close()

	h2 := open(t, dir, nil) // the form comes prefilled with the address and server
	h2.ui.do(func() {
		h2.f.password.SetText(pass)
		h2.f.submit()
	})
	h2.waitOnline(jid)
	h2.ui.do(func() {
		if s := h2.w.Window().Canvas().Size(); s != fyne.NewSize(1100, 760) {
			t.Errorf("the main view opened at %v, want the 1100 × 760 it closed at", s)
		}
	})
}
