// Checks the order of what the app writes at the start of a fresh session:
// XEP-0280 §9 wants carbons enabled before the initial presence and before
// the archive is read, so no message falls between live delivery and
// history sync. A recording TLS man in the middle (the app trusts its own
// certificate) sits between the app and the server's direct-TLS port and
// notes the order of the stanzas the app sends.
package app_test

import (
	"context"
	"crypto/tls"
	"encoding/xml"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"parley/app"
	"parley/app/apptest"
)

const (
	wroteCarbons  = "carbons enable"
	wrotePresence = "initial presence"
	wroteMAM      = "archive query"
)

// wireRecorder is a TLS man in the middle in front of a server's
// direct-TLS port: it forwards everything both ways and notes, in order,
// the kinds of stanzas the client writes.
type wireRecorder struct {
	ln     net.Listener
	target string
	toSrv  *tls.Config // trusts the real server
	toCli  *tls.Config // presents the server's own certificate (the harness's files)

	mu     sync.Mutex
	seen   []string // kinds, in the order the client wrote them
	wake   chan struct{}
	conns  []net.Conn
	closed bool
}

// startWireRecorder listens on loopback and forwards to srv's direct-TLS
// port, presenting the server's certificate, so a client that trusts the
// test CA trusts the recorder.
func startWireRecorder(t *testing.T, srv *apptest.Server) *wireRecorder {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(srv.Harness().CertFile, srv.Harness().KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &wireRecorder{
		ln:     ln,
		target: net.JoinHostPort(srv.Host, strconv.Itoa(srv.DirectTLSPort)),
		toSrv:  &tls.Config{RootCAs: srv.Harness().CAPool, ServerName: srv.Domain, NextProtos: []string{"xmpp-client"}},
		toCli:  &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"xmpp-client"}},
		wake:   make(chan struct{}),
	}
	go r.accept()
	t.Cleanup(r.close)
	return r
}

func (r *wireRecorder) accept() {
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		go r.serve(c)
	}
}

func (r *wireRecorder) track(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		c.Close()
		return false
	}
	r.conns = append(r.conns, c)
	return true
}

func (r *wireRecorder) serve(raw net.Conn) {
	if !r.track(raw) {
		return
	}
	cli := tls.Server(raw, r.toCli)
	up, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", r.target, r.toSrv)
	if err != nil {
		cli.Close()
		return
	}
	if !r.track(up) {
		cli.Close()
		return
	}
	go func() {
		_, _ = io.Copy(cli, up)
		cli.Close()
	}()
	// Client to server: forwarded, and read again by a decoder.
	pr, pw := io.Pipe()
	go r.decode(pr)
	_, _ = io.Copy(io.MultiWriter(up, pw), cli)
	pw.Close()
	up.Close()
}

// decode notes the stanzas of interest in the client's stream (across
// its restarts after TLS and SASL, which only nest deeper).
func (r *wireRecorder) decode(in io.Reader) {
	defer io.Copy(io.Discard, in) // never stall the forwarding
	d := xml.NewDecoder(in)
	for {
		tok, err := d.Token()
		if err != nil {
			return
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		kind := ""
		switch {
		case se.Name.Space == "urn:xmpp:carbons:2" && se.Name.Local == "enable":
			kind = wroteCarbons
		case se.Name.Space == "jabber:client" && se.Name.Local == "presence":
			kind = wrotePresence
			for _, a := range se.Attr {
				if a.Name.Local == "to" || a.Name.Local == "type" {
					kind = "" // directed, or a subscription: not the initial presence
				}
			}
		case se.Name.Space == "urn:xmpp:mam:2" && se.Name.Local == "query":
			kind = wroteMAM
		}
		if kind == "" {
			continue
		}
		r.mu.Lock()
		r.seen = append(r.seen, kind)
		close(r.wake)
		r.wake = make(chan struct{})
		r.mu.Unlock()
	}
}

func (r *wireRecorder) close() {
	r.mu.Lock()
	conns := r.conns
	r.conns, r.closed = nil, true
	r.mu.Unlock()
	r.ln.Close()
	for _, c := range conns {
		c.Close()
	}
}

// waitFor waits until the client wrote every kind in kinds at least once.
func (r *wireRecorder) waitFor(t *testing.T, d time.Duration, kinds ...string) []string {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		seen, wake := append([]string(nil), r.seen...), r.wake
		r.mu.Unlock()
		all := true
		for _, k := range kinds {
			all = all && first(seen, k) >= 0
		}
		if all {
			return seen
		}
		select {
		case <-wake:
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for the client to write %q; it wrote %q", d, kinds, seen)
		}
	}
}

func first(seen []string, kind string) int {
	for i, k := range seen {
		if k == kind {
			return i
		}
	}
	return -1
}

func TestCarbonsEnabledBeforeInitialPresenceAndArchiveQuery(t *testing.T) {
	srv := apptest.Shared(t)
	if srv.DirectTLSPort == 0 {
		t.Fatal("the test server has no direct-TLS port")
	}
	rec := startWireRecorder(t, srv)
	host, portStr, _ := net.SplitHostPort(rec.ln.Addr().String())
	port, _ := strconv.Atoi(portStr)
	jid, pass := srv.NewUser(t, "carbonsorder")
	svc, err := app.NewService(app.Options{ProfileDir: srv.Profile(t, true), Keyring: apptest.NewMemorySecrets(), Version: "test",
		Tune: apptest.Tune})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := svc.Login(ctx, app.LoginRequest{JID: jid, Password: pass, Host: host, Port: port, DirectTLS: true}); err != nil {
		t.Fatalf("login through the recorder: %v", err)
	}
	seen := rec.waitFor(t, 30*time.Second, wroteCarbons, wrotePresence, wroteMAM)
	t.Logf("the app wrote, in order: %s", strings.Join(seen, ", "))
	c, p, m := first(seen, wroteCarbons), first(seen, wrotePresence), first(seen, wroteMAM)
	if c > p || c > m {
		t.Errorf("the app wrote %s; want the carbons enable before the first presence and the first archive query", strings.Join(seen, ", "))
	}
}
