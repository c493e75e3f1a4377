// shared.go: test-facing entry points: per-binary shared servers (Shared, SharedEjabberd),
// per-test servers (NewProsody, NewEjabberd), and the missing-component policy (skip with a
// hint to run `make deps`, or fail when CI=true).

package xmpptest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// Python is the interpreter for the slixmpp peer: Debian's, which sees python3-slixmpp
// (another python3 earlier on PATH, e.g. pyenv's, would not).
const Python = "/usr/bin/python3"

func missingProsody() string {
	if _, err := exec.LookPath("prosody"); err != nil {
		return "prosody is not installed (Debian packages prosody, lua-dbi-sqlite3)"
	}
	if _, err := exec.LookPath("prosodyctl"); err != nil {
		return "prosodyctl is not installed (Debian package prosody)"
	}
	if m, _ := filepath.Glob("/usr/lib/*/lua/5.*/dbd/sqlite3.so"); len(m) == 0 {
		return "Prosody's SQLite driver is not installed (Debian package lua-dbi-sqlite3)"
	}
	return ""
}

func missingEjabberd() string {
	if _, err := os.Stat("/usr/sbin/ejabberdctl"); err != nil {
		return "ejabberd is not installed (Debian packages ejabberd, erlang-p1-sqlite3)"
	}
	if m, _ := filepath.Glob("/usr/lib/erlang/lib/p1_sqlite3-*"); len(m) == 0 {
		return "ejabberd's SQLite driver is not installed (Debian package erlang-p1-sqlite3)"
	}
	return ""
}

var slixOnce struct {
	sync.Once
	msg string
}

func missingSlixmpp() string {
	slixOnce.Do(func() {
		if _, err := os.Stat(Python); err != nil {
			slixOnce.msg = Python + " is not installed (Debian packages python3, python3-slixmpp)"
			return
		}
		if out, err := exec.Command(Python, "-c", "import slixmpp").CombinedOutput(); err != nil {
			slixOnce.msg = fmt.Sprintf("slixmpp is not importable by %s (Debian package python3-slixmpp): %v %s", Python, err, out)
		}
	})
	return slixOnce.msg
}

// missing applies the policy: fail under CI=true, skip otherwise.
func missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("xmpptest: %s; CI=true, so this is a failure: `make deps` must install it", msg)
	}
	t.Skipf("xmpptest: %s; skipping (`make deps` installs it)", msg)
}

// RequireProsody skips the test (or fails it when CI=true) if Prosody is not installed.
func RequireProsody(t testing.TB) {
	t.Helper()
	if m := missingProsody(); m != "" {
		missing(t, m)
	}
}

// RequireEjabberd skips the test (or fails it when CI=true) if ejabberd is not installed.
func RequireEjabberd(t testing.TB) {
	t.Helper()
	if m := missingEjabberd(); m != "" {
		missing(t, m)
	}
}

// RequireSlixmpp skips the test (or fails it when CI=true) if slixmpp is not available.
func RequireSlixmpp(t testing.TB) {
	t.Helper()
	if m := missingSlixmpp(); m != "" {
		missing(t, m)
	}
}

type sharedServer struct {
	mu  sync.Mutex
	srv *Server
	err error
}

var sharedProsody, sharedEjabberd sharedServer

func (ss *sharedServer) get(t testing.TB, start func() (*Server, error)) *Server {
	t.Helper()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.srv == nil && ss.err == nil {
		ss.srv, ss.err = start()
	}
	if ss.err != nil {
		t.Fatalf("xmpptest: shared server: %v", ss.err)
	}
	if !ss.srv.Running() { // a test killed it: bring it back for the next one
		if err := ss.srv.Restart(); err != nil {
			t.Fatalf("xmpptest: restarting shared server: %v", err)
		}
	}
	return ss.srv
}

func resetShared() {
	for _, ss := range []*sharedServer{&sharedProsody, &sharedEjabberd} {
		ss.mu.Lock()
		ss.srv, ss.err = nil, nil
		ss.mu.Unlock()
	}
}

// Shared returns the Prosody shared by all tests of this test binary, started on first use
// with default options. Do not Stop/Kill/Restart it (use NewProsody for that) and create users
// with unique names (srv.NewUser). It is stopped by Cleanup/Main, or by the parent-death signal.
func Shared(t testing.TB) *Server {
	t.Helper()
	RequireProsody(t)
	return sharedProsody.get(t, func() (*Server, error) { return StartProsody(ProsodyOptions{}) })
}

// SharedEjabberd is Shared for ejabberd.
func SharedEjabberd(t testing.TB) *Server {
	t.Helper()
	RequireEjabberd(t)
	return sharedEjabberd.get(t, func() (*Server, error) { return StartEjabberd(EjabberdOptions{}) })
}

// NewProsody starts a Prosody for this test only (skipping/failing per the policy when not
// installed) and closes it when the test ends, printing its log tail if the test failed.
func NewProsody(t testing.TB, opts ProsodyOptions) *Server {
	t.Helper()
	RequireProsody(t)
	s, err := StartProsody(opts)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() { closeForTest(t, s) })
	return s
}

// NewEjabberd is NewProsody for ejabberd.
func NewEjabberd(t testing.TB, opts EjabberdOptions) *Server {
	t.Helper()
	RequireEjabberd(t)
	s, err := StartEjabberd(opts)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() { closeForTest(t, s) })
	return s
}

func closeForTest(t testing.TB, s *Server) {
	if t.Failed() {
		t.Logf("%s server logs (%s):\n%s", s.Kind, s.Dir, s.LogTail(40))
	}
	if err := s.Close(); err != nil {
		t.Logf("xmpptest: closing %s: %v", s.Kind, err)
	}
}
