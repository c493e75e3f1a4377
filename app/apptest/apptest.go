// Package apptest helps tests above the app layer (app/ itself and views/)
// use a REAL XMPP server without importing xmppclient: it wraps the Prosody
// harness (parley/xmppclient/xmpptest), creates users, makes temporary
// profiles that trust (or do not trust) the harness CA, gives login requests
// aimed at the server, builds app.Service values with an in-memory
// keyring and short timeouts, starts slixmpp peers, and waits on contacts
// snapshots.
package apptest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"parley/app"
	"parley/xmppclient"
	"parley/xmppclient/xmpptest"
)

// Server is a running test server as the app layer sees it.
type Server struct {
	// Domain is the XMPP domain ("localhost").
	Domain string
	// Host and Port are the STARTTLS client port; DirectTLSPort the XEP-0368 one.
	Host          string
	Port          int
	DirectTLSPort int
	// CAFile is the PEM of the CA that signed the server certificate.
	CAFile string
	// Fingerprint is the lower-case hex SHA-256 of the server certificate.
	Fingerprint string

	srv *xmpptest.Server
}

// Main runs the tests and then stops every server they started. Use it as
//
//	func TestMain(m *testing.M) { os.Exit(apptest.Main(m)) }
func Main(m *testing.M) int { return xmpptest.Main(m) }

// Shared returns the test binary's shared Prosody (xmpptest.Shared), started
// on first use. Tests must not stop it and must use users of their own
// (NewUser). Without Prosody installed the test is skipped (failed with CI=true).
func Shared(t testing.TB) *Server {
	t.Helper()
	s, err := wrap(xmpptest.Shared(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// SharedEjabberd returns the test binary's shared ejabberd
// (xmpptest.SharedEjabberd), started on first use, as Shared does Prosody.
func SharedEjabberd(t testing.TB) *Server {
	t.Helper()
	s, err := wrap(xmpptest.SharedEjabberd(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Start starts a private Prosody with opts (for tests that change its
// configuration or stop it); it is closed when t ends.
func Start(t testing.TB, opts xmpptest.ProsodyOptions) *Server {
	t.Helper()
	s, err := wrap(xmpptest.NewProsody(t, opts))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// StartPrivate starts a private Prosody with the usual test settings (MAM
// off) for a test that stops or restarts it; it is closed when t ends.
func StartPrivate(t testing.TB) *Server {
	t.Helper()
	return Start(t, xmpptest.ProsodyOptions{DisableMAM: true})
}

func wrap(srv *xmpptest.Server) (*Server, error) {
	host, portStr, err := net.SplitHostPort(srv.C2SAddr)
	if err != nil {
		return nil, fmt.Errorf("apptest: c2s address %q: %w", srv.C2SAddr, err)
	}
	port, _ := strconv.Atoi(portStr)
	s := &Server{Domain: srv.Domain, Host: host, Port: port, CAFile: srv.CAFile, Fingerprint: srv.LeafFingerprintSHA256, srv: srv}
	if srv.DirectTLSAddr != "" {
		_, p, err := net.SplitHostPort(srv.DirectTLSAddr)
		if err == nil {
			s.DirectTLSPort, _ = strconv.Atoi(p)
		}
	}
	return s, nil
}

// Harness is the underlying xmpptest server, for tests in app/ that need
// more of it (restart, kill, logs).
func (s *Server) Harness() *xmpptest.Server { return s.srv }

// JID returns user@domain.
func (s *Server) JID(user string) string { return user + "@" + s.Domain }

// NewUser creates a fresh user and returns its JID and password.
func (s *Server) NewUser(t testing.TB, prefix string) (jid, password string) {
	t.Helper()
	user, pass := s.srv.NewUser(t, prefix)
	return s.JID(user), pass
}

// CreateUser creates user with password pass and returns its JID.
func (s *Server) CreateUser(t testing.TB, user, pass string) string {
	t.Helper()
	if err := s.srv.CreateUser(user, pass); err != nil {
		t.Fatalf("apptest: create user %s: %v", user, err)
	}
	return s.JID(user)
}

// Request is a login request for jid aimed at this server's STARTTLS port.
func (s *Server) Request(jid, password string) app.LoginRequest {
	return app.LoginRequest{JID: jid, Password: password, Host: s.Host, Port: s.Port}
}

// Profile makes a temporary profile folder. With trustCA the profile's CA
// file is the harness CA, so the server's certificate verifies; without it
// the certificate is untrusted (as with a self-signed server).
func (s *Server) Profile(t testing.TB, trustCA bool) string {
	t.Helper()
	dir := t.TempDir()
	p, err := app.OpenProfile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if trustCA {
		if err := p.Update(func(st *app.AccountSettings) { st.CAFile = s.CAFile }); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// ClosedPort returns a loopback port with nothing listening on it (a port
// that was just bound and released).
func ClosedPort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// Tune shortens the engine's timeouts and backoff for tests.
func Tune(cfg *xmppclient.Config) {
	cfg.DialTimeout = 5 * time.Second
	cfg.HandshakeTimeout = 15 * time.Second
	cfg.ReconnectMin = 100 * time.Millisecond
	cfg.ReconnectMax = time.Second
}

// NewService makes an app.Service on profileDir with the given secret store
// (nil: a fresh MemorySecrets) and short timeouts, with adjust applied to
// its options; it is closed when t ends.
func NewService(t testing.TB, profileDir string, secrets app.SecretStore, adjust ...func(*app.Options)) *app.Service {
	t.Helper()
	if secrets == nil {
		secrets = NewMemorySecrets()
	}
	opts := app.Options{ProfileDir: profileDir, Keyring: secrets, Version: "test", Tune: Tune}
	for _, a := range adjust {
		a(&opts)
	}
	svc, err := app.NewService(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	return svc
}

// MemorySecrets is an in-memory app.SecretStore (a stand-in for the OS
// keyring, which needs a D-Bus session that test machines lack).
type MemorySecrets struct {
	mu sync.Mutex
	m  map[string]string
}

// NewMemorySecrets returns an empty store.
func NewMemorySecrets() *MemorySecrets { return &MemorySecrets{m: map[string]string{}} }

// Get implements app.SecretStore.
func (m *MemorySecrets) Get(account string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	pw, ok := m.m[account]
	if !ok {
		return "", app.ErrNoSecret
	}
	return pw, nil
}

// Set implements app.SecretStore.
func (m *MemorySecrets) Set(account, password string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[account] = password
	return nil
}

// Delete implements app.SecretStore.
func (m *MemorySecrets) Delete(account string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, account)
	return nil
}

// NoKeyring is an app.SecretStore that always fails, like the OS keyring
// on a machine without a D-Bus session.
type NoKeyring struct{}

// ErrNoKeyring is what NoKeyring returns.
var ErrNoKeyring = errors.New("no D-Bus session: the system keyring is unavailable")

// Get implements app.SecretStore.
func (NoKeyring) Get(string) (string, error) { return "", ErrNoKeyring }

// Set implements app.SecretStore.
func (NoKeyring) Set(string, string) error { return ErrNoKeyring }

// Delete implements app.SecretStore.
func (NoKeyring) Delete(string) error { return ErrNoKeyring }

// WaitStatus waits until svc's status satisfies ok, or fails t after timeout.
func WaitStatus(t testing.TB, svc *app.Service, timeout time.Duration, ok func(app.Status) bool) app.Status {
	t.Helper()
	ch := make(chan app.Status, 64)
	unsub := svc.Subscribe(func(st app.Status) {
		select {
		case ch <- st:
		default:
		}
	})
	defer unsub()
	if st := svc.Status(); ok(st) {
		return st
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		select {
		case <-ch:
			if st := svc.Status(); ok(st) {
				return st
			}
		case <-ctx.Done():
			st := svc.Status()
			t.Fatalf("apptest: status never matched within %v; last: %s (%v)", timeout, st.Phase, st.Err)
			return st
		}
	}
}

// LoginService makes an app.Service on profileDir (see NewService), logs
// jid in and waits until it is online. The password is not remembered.
func (s *Server) LoginService(t testing.TB, profileDir, jid, password string, adjust ...func(*app.Options)) *app.Service {
	t.Helper()
	svc := NewService(t, profileDir, nil, adjust...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := svc.Login(ctx, s.Request(jid, password)); err != nil {
		t.Fatalf("apptest: login as %s: %v", jid, err)
	}
	return svc
}

// Slixmpp logs jid (user@domain) in with slixmpp, a second real client
// (xmpptest.StartSlixmpp; resource "slix"), and stops it when t ends.
func (s *Server) Slixmpp(t testing.TB, jid, password string) *xmpptest.SlixPeer {
	t.Helper()
	user, _, _ := strings.Cut(jid, "@")
	p, err := xmpptest.StartSlixmpp(t, s.srv, user, password)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// GoSendxmppFile shares the file at path from jid (user@domain) to "to"
// with go-sendxmpp, through the server's HTTP upload
// (xmpptest.GoSendxmppFile).
func (s *Server) GoSendxmppFile(t testing.TB, jid, password, to, path string) {
	t.Helper()
	user, _, _ := strings.Cut(jid, "@")
	xmpptest.GoSendxmppFile(t, s.srv, user, password, to, path)
}

// FindRequest returns the pending request of jid from a snapshot.
func FindRequest(snap app.ContactsSnapshot, jid string) (app.Request, bool) {
	for _, r := range snap.Requests {
		if r.JID == jid {
			return r, true
		}
	}
	return app.Request{}, false
}

// DescribeContacts summarizes a snapshot for failure messages (at most 20 contacts).
func DescribeContacts(snap app.ContactsSnapshot) string {
	var b strings.Builder
	fmt.Fprintf(&b, "v%d loaded=%v own=%s/%q contacts=%d", snap.Version, snap.Loaded, snap.Own.Show, snap.Own.Status, len(snap.Contacts))
	for i, c := range snap.Contacts {
		if i == 20 {
			b.WriteString(" …")
			break
		}
		fmt.Fprintf(&b, " [%s name=%q sub=%s pending=%v show=%s status=%q groups=%v res=%d avatar=%.8s blocked=%v]",
			c.JID, c.Name, c.Subscription, c.Pending, c.Show, c.Status, c.Groups, len(c.Resources), c.AvatarHash, c.Blocked)
	}
	for _, r := range snap.Requests {
		fmt.Fprintf(&b, " request[%s nick=%q msg=%q]", r.JID, r.Nick, r.Message)
	}
	if len(snap.Blocked) > 0 {
		fmt.Fprintf(&b, " blocked=%v", snap.Blocked)
	}
	return b.String()
}
