// go-sendxmpp, a second real client (Debian package go-sendxmpp), for
// tests that receive what it sends: here a file through its own XEP-0363
// HTTP upload (-h), as a user of that tool would share one.
package xmpptest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// RequireGoSendxmpp skips the test (or fails it when CI=true) if
// go-sendxmpp is not installed.
func RequireGoSendxmpp(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("go-sendxmpp"); err != nil {
		missing(t, "go-sendxmpp is not installed (Debian package go-sendxmpp)")
	}
}

// GoSendxmppFile sends the file at path to the JID to with go-sendxmpp
// logged in as user@domain (its HTTP upload, then a message sharing it),
// over direct TLS to the server's port. The test CA is not in the system
// store, so go-sendxmpp runs with -n (no certificate check): only on
// loopback, against the harness's own server.
func GoSendxmppFile(t testing.TB, srv *Server, user, password, to, path string) {
	t.Helper()
	RequireGoSendxmpp(t)
	if srv.DirectTLSAddr == "" {
		t.Fatal("xmpptest: go-sendxmpp needs the server's direct TLS port")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go-sendxmpp", "-t", "-n", "-j", srv.DirectTLSAddr,
		"-u", user+"@"+srv.Domain, "-p", password, "-h", path, to)
	// No configuration file of the machine's user is read.
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xmpptest: go-sendxmpp -h %s: %v: %s", path, err, strings.TrimSpace(string(out)))
	}
}
