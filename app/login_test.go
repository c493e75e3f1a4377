// Tests of the login service against a real Prosody (through app/apptest):
// login, the initial presence, wrong password, unreachable server, untrusted
// certificate then TrustCertificate, an insecure server, registration,
// remembered passwords with auto-login (keyring and file fallback), logout
// and reconnecting after the server restarts.
package app_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gosrc.io/xmpp/stanza"

	"parley/app"
	"parley/app/apptest"
	"parley/xmppclient"
	"parley/xmppclient/xmpptest"
)

func TestMain(m *testing.M) { os.Exit(apptest.Main(m)) }

const waitFor = 20 * time.Second

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestLoginSucceeds(t *testing.T) {
	srv := apptest.Shared(t)
	jid, pass := srv.NewUser(t, "login")
	dir := srv.Profile(t, true)
	svc := apptest.NewService(t, dir, nil)

	// A second resource of the same account sees the service's initial
	// presence (RFC 6121: available presence goes to the other resources).
	watcher := watch(t, srv, jid, pass)

	if err := svc.Login(ctxT(t), srv.Request(jid, pass)); err != nil {
		t.Fatalf("Login: %v", err)
	}
	st := svc.Status()
	if st.Phase != app.Online || st.Account != jid {
		t.Fatalf("status after login: %+v", st)
	}
	p := svc.Profile()
	res := p.Settings().Resource
	if st.JID != jid+"/"+res {
		t.Errorf("bound JID %q, want the profile's resource %q", st.JID, jid+"/"+res)
	}
	saved := p.Settings()
	if saved.JID != jid || saved.Host != srv.Host || saved.Port != srv.Port || saved.RememberPassword {
		t.Errorf("profile after login: %+v", saved)
	}

	waitPresence(t, watcher, st.JID)
}

// watch logs in a second resource of account with the engine directly and
// returns its event stream.
func watch(t *testing.T, srv *apptest.Server, account, pass string) <-chan xmppclient.Event {
	t.Helper()
	j := xmppclient.MustParseJID(account).WithResource("watcher")
	c, err := xmppclient.New(xmppclient.Config{JID: j, Password: pass, Host: srv.Host, Port: srv.Port, RootCAs: srv.Harness().CAPool})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Connect(ctxT(t)); err != nil {
		t.Fatalf("watcher login: %v", err)
	}
	if err := c.SendPresence(stanza.NewPresence(stanza.Attrs{})); err != nil {
		t.Fatal(err)
	}
	return c.Events()
}

func waitPresence(t *testing.T, events <-chan xmppclient.Event, from string) {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("watcher closed before the presence came")
			}
			if pe, ok := ev.(xmppclient.PresenceEvent); ok && pe.Presence.From == from && pe.Presence.Type == "" {
				return
			}
		case <-deadline:
			t.Fatalf("no available presence from %s within %v", from, waitFor)
		}
	}
}

func TestWrongPassword(t *testing.T) {
	srv := apptest.Shared(t)
	jid, _ := srv.NewUser(t, "wrongpw")
	svc := apptest.NewService(t, srv.Profile(t, true), nil)
	err := svc.Login(ctxT(t), srv.Request(jid, "not-the-password"))
	if !errors.Is(err, app.ErrWrongPassword) {
		t.Fatalf("Login with a wrong password: %v (%T), want app.ErrWrongPassword", err, err)
	}
	if st := svc.Status(); st.Phase != app.Failed || !errors.Is(st.Err, app.ErrWrongPassword) {
		t.Errorf("status %+v", st)
	}
	if msg := app.UserMessage(err); !strings.Contains(msg, "Wrong user name or password") {
		t.Errorf("message %q", msg)
	}
}

func TestUnreachable(t *testing.T) {
	srv := apptest.Shared(t)
	svc := apptest.NewService(t, srv.Profile(t, true), nil)
	req := srv.Request("nobody@localhost", "pw")
	req.Port = apptest.ClosedPort(t)
	start := time.Now()
	err := svc.Login(ctxT(t), req)
	var unr *app.UnreachableError
	if !errors.As(err, &unr) {
		t.Fatalf("Login to a closed port: %v (%T), want *app.UnreachableError", err, err)
	}
	t.Logf("unreachable reported after %v: %v", time.Since(start), err)
}

func TestInvalidJID(t *testing.T) {
	svc := apptest.NewService(t, t.TempDir(), nil)
	for _, bad := range []string{"no-at-sign", "@localhost", "a b@localhost", ""} {
		err := svc.Login(ctxT(t), app.LoginRequest{JID: bad, Password: "x"})
		var je *app.InvalidJIDError
		if !errors.As(err, &je) {
			t.Errorf("Login(%q): %v, want *app.InvalidJIDError", bad, err)
		}
	}
}

func TestUntrustedCertificateThenTrust(t *testing.T) {
	srv := apptest.Shared(t)
	jid, pass := srv.NewUser(t, "cert")
	dir := srv.Profile(t, false) // no CA: the server's certificate does not verify
	svc := apptest.NewService(t, dir, nil)

	err := svc.Login(ctxT(t), srv.Request(jid, pass))
	var ce *app.UntrustedCertificateError
	if !errors.As(err, &ce) {
		t.Fatalf("Login without the CA: %v (%T), want *app.UntrustedCertificateError", err, err)
	}
	if ce.RawFingerprint != srv.Fingerprint {
		t.Errorf("fingerprint %s, want the server's %s", ce.RawFingerprint, srv.Fingerprint)
	}
	if want := app.FormatFingerprint(srv.Fingerprint); ce.Fingerprint != want || !strings.Contains(ce.Fingerprint, ":") {
		t.Errorf("display fingerprint %q, want %q", ce.Fingerprint, want)
	}

	if err := svc.TrustCertificate(ctxT(t), ce.Fingerprint); err != nil {
		t.Fatalf("TrustCertificate: %v", err)
	}
	if st := svc.Status(); st.Phase != app.Online {
		t.Fatalf("status after trusting: %+v", st)
	}

	// The pin is in the profile on disk, and a new service logs in with it.
	p, err := app.OpenProfile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if pins := p.Settings().PinnedFingerprints; len(pins) != 1 || pins[0] != srv.Fingerprint {
		t.Errorf("pinned %q, want [%s]", pins, srv.Fingerprint)
	}
	svc.Close()
	svc2 := apptest.NewService(t, dir, nil)
	if err := svc2.Login(ctxT(t), srv.Request(jid, pass)); err != nil {
		t.Fatalf("login with the pinned certificate: %v", err)
	}
}

func TestTrustCertificateWithoutAttempt(t *testing.T) {
	svc := apptest.NewService(t, t.TempDir(), nil)
	if err := svc.TrustCertificate(ctxT(t), "ab"); !errors.Is(err, app.ErrNothingToRetry) {
		t.Errorf("TrustCertificate with nothing to retry: %v", err)
	}
}

func TestInsecureServer(t *testing.T) {
	// A real Prosody with TLS switched off: it offers no STARTTLS, and the
	// client must refuse to send the password.
	srv := apptest.Start(t, xmpptest.ProsodyOptions{
		AllowPlaintext: true,
		DisableMAM:     true,
		ExtraConfig:    `modules_disabled = { "s2s"; "dialback"; "tls" }`,
	})
	jid := srv.CreateUser(t, "plain", "pw")
	svc := apptest.NewService(t, srv.Profile(t, true), nil)
	err := svc.Login(ctxT(t), srv.Request(jid, "pw"))
	if !errors.Is(err, app.ErrInsecureServer) {
		t.Fatalf("Login to a server without TLS: %v (%T), want app.ErrInsecureServer", err, err)
	}
}

func TestRegisterThenLogin(t *testing.T) {
	srv := apptest.Shared(t)
	name := "reg" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")
	jid := srv.JID(name)
	svc := apptest.NewService(t, srv.Profile(t, true), nil)
	if err := svc.Register(ctxT(t), srv.Request(jid, "fresh-pass")); err != nil {
		t.Fatalf("Register: %v", err)
	}
	if st := svc.Status(); st.Phase != app.Online || st.Account != jid {
		t.Fatalf("status after registering: %+v", st)
	}

	// The account exists: another profile logs in with it.
	other := apptest.NewService(t, srv.Profile(t, true), nil)
	if err := other.Login(ctxT(t), srv.Request(jid, "fresh-pass")); err != nil {
		t.Fatalf("login to the registered account: %v", err)
	}

	// Registering the same name again is refused as taken.
	third := apptest.NewService(t, srv.Profile(t, true), nil)
	err := third.Register(ctxT(t), srv.Request(jid, "another"))
	var re *app.RegistrationError
	if !errors.As(err, &re) || !re.NameTaken {
		t.Fatalf("registering a taken name: %v (%T), want RegistrationError{NameTaken}", err, err)
	}
}

func TestRegistrationNotAllowed(t *testing.T) {
	srv := apptest.Start(t, xmpptest.ProsodyOptions{DisableRegistration: true, DisableMAM: true})
	svc := apptest.NewService(t, srv.Profile(t, true), nil)
	err := svc.Register(ctxT(t), srv.Request(srv.JID("newbie"), "pw"))
	var re *app.RegistrationError
	if !errors.As(err, &re) || !re.NotAllowed {
		t.Fatalf("registering where it is off: %v (%T), want RegistrationError{NotAllowed}", err, err)
	}
	t.Logf("message: %s", app.UserMessage(err))
}

func TestRememberAndAutoLogin(t *testing.T) {
	srv := apptest.Shared(t)
	jid, pass := srv.NewUser(t, "remember")
	dir := srv.Profile(t, true)
	secrets := apptest.NewMemorySecrets()
	svc := apptest.NewService(t, dir, secrets)
	req := srv.Request(jid, pass)
	req.Remember = true
	if err := svc.Login(ctxT(t), req); err != nil {
		t.Fatal(err)
	}
	if st := svc.Status(); st.Notice != "" {
		t.Errorf("notice with a working keyring: %q", st.Notice)
	}
	if pw, err := secrets.Get(jid); err != nil || pw != pass {
		t.Fatalf("keyring holds %q, %v", pw, err)
	}
	if _, err := os.Stat(filepath.Join(dir, app.PasswordFile)); !os.IsNotExist(err) {
		t.Errorf("password file written although the keyring works: %v", err)
	}
	svc.Close()

	// A new start on the same profile logs in by itself.
	svc2 := apptest.NewService(t, dir, secrets)
	saved := svc2.Saved()
	if !saved.AutoLogin || saved.JID != jid || saved.Port != srv.Port {
		t.Fatalf("saved account %+v", saved)
	}
	tried, err := svc2.AutoLogin(ctxT(t))
	if !tried || err != nil {
		t.Fatalf("AutoLogin = %v, %v", tried, err)
	}
	if st := svc2.Status(); st.Phase != app.Online {
		t.Fatalf("status after auto-login: %+v", st)
	}

	// After Log out, the next start does not log in by itself.
	if err := svc2.Logout(); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if st := svc2.Status(); st.Phase != app.LoggedOut {
		t.Errorf("status after logout: %+v", st)
	}
	svc2.Close()
	svc3 := apptest.NewService(t, dir, secrets)
	if tried, err := svc3.AutoLogin(ctxT(t)); tried || err != nil {
		t.Errorf("AutoLogin after logout = %v, %v; want no attempt", tried, err)
	}
	if !svc3.Saved().PasswordSaved {
		t.Error("the password was forgotten at logout")
	}
	// An empty password uses the remembered one.
	empty := srv.Request(jid, "")
	empty.Remember = true
	if err := svc3.Login(ctxT(t), empty); err != nil {
		t.Fatalf("login with the remembered password: %v", err)
	}

	// Unticking Remember forgets it.
	svc3.Logout()
	if err := svc3.Login(ctxT(t), srv.Request(jid, pass)); err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.Get(jid); !errors.Is(err, app.ErrNoSecret) {
		t.Errorf("password still in the keyring after login without Remember: %v", err)
	}
}

func TestRememberWithoutKeyring(t *testing.T) {
	srv := apptest.Shared(t)
	jid, pass := srv.NewUser(t, "nokeyring")
	dir := srv.Profile(t, true)
	svc := apptest.NewService(t, dir, apptest.NoKeyring{})
	req := srv.Request(jid, pass)
	req.Remember = true
	if err := svc.Login(ctxT(t), req); err != nil {
		t.Fatal(err)
	}
	if st := svc.Status(); st.Notice != app.NoKeyringNote {
		t.Errorf("notice %q, want %q", st.Notice, app.NoKeyringNote)
	}
	fi, err := os.Stat(filepath.Join(dir, app.PasswordFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("password file: %v", err)
	}
	svc.Close()

	svc2 := apptest.NewService(t, dir, apptest.NoKeyring{})
	if tried, err := svc2.AutoLogin(ctxT(t)); !tried || err != nil {
		t.Fatalf("AutoLogin from the password file = %v, %v", tried, err)
	}
}

func TestStatusListenersAndReconnect(t *testing.T) {
	srv := apptest.Start(t, xmpptest.ProsodyOptions{DisableMAM: true})
	jid := srv.CreateUser(t, "bounce", "pw")
	svc := apptest.NewService(t, srv.Profile(t, true), nil)

	phases := make(chan app.Phase, 100)
	unsub := svc.Subscribe(func(st app.Status) { phases <- st.Phase })
	defer unsub()
	if err := svc.Login(ctxT(t), srv.Request(jid, "pw")); err != nil {
		t.Fatal(err)
	}
	want := []app.Phase{app.Connecting, app.Online}
	for _, w := range want {
		select {
		case got := <-phases:
			if got != w {
				t.Fatalf("listener got %v, want %v", got, w)
			}
		case <-time.After(waitFor):
			t.Fatalf("listener never got %v", w)
		}
	}

	// The server crashes: the service reports the drop and, once the server
	// is back, a fresh session (the old one cannot be resumed).
	if err := srv.Harness().Kill(); err != nil {
		t.Fatal(err)
	}
	st := apptest.WaitStatus(t, svc, waitFor, func(st app.Status) bool {
		return st.Phase == app.Waiting && st.Err != nil && !st.RetryAt.IsZero()
	})
	t.Logf("while down: %s", st.Describe(time.Now()))
	if err := srv.Harness().Restart(); err != nil {
		t.Fatal(err)
	}
	st = apptest.WaitStatus(t, svc, 30*time.Second, func(st app.Status) bool { return st.Phase == app.Online })
	if st.Resumed {
		t.Errorf("session resumed after a server crash")
	}
}
