// Shared helpers of the engine's integration tests: clients configured for
// a harness server, and an event recorder tests wait on with deadlines.
package xmppclient_test

import (
	"context"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"parley/xmppclient"
	"parley/xmppclient/xmpptest"
)

func TestMain(m *testing.M) { os.Exit(xmpptest.Main(m)) }

// clientConfig is a Config for user on srv over STARTTLS, trusting the test CA.
func clientConfig(t testing.TB, srv *xmpptest.Server, user, pass string) xmppclient.Config {
	t.Helper()
	level := slog.LevelWarn
	if testing.Verbose() {
		level = slog.LevelInfo
	}
	if os.Getenv("XMPP_DEBUG") != "" {
		level = slog.LevelDebug
	}
	cfg := xmppclient.Config{
		JID:      xmppclient.MustParseJID(srv.JID(user)),
		Password: pass,
		RootCAs:  srv.CAPool,
		Logger:   slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: level})),
	}
	dialVia(t, &cfg, srv.C2SAddr)
	return cfg
}

// dialVia points cfg at addr (a proxy, or another port of the server).
func dialVia(t testing.TB, cfg *xmppclient.Config, addr string) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Host = host
	cfg.Port, _ = strconv.Atoi(port)
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// recorder collects a client's events so tests can wait for conditions.
type recorder struct {
	mu     sync.Mutex
	events []xmppclient.Event
	wake   chan struct{}
}

func record(c *xmppclient.Client) *recorder {
	r := &recorder{wake: make(chan struct{})}
	go func() {
		for e := range c.Events() {
			r.mu.Lock()
			r.events = append(r.events, e)
			close(r.wake)
			r.wake = make(chan struct{})
			r.mu.Unlock()
		}
	}()
	return r
}

// waitFor waits until pred holds for the events so far, or fails t.
func (r *recorder) waitFor(t testing.TB, d time.Duration, what string, pred func([]xmppclient.Event) bool) {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok := pred(r.events)
		wake := r.wake
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-wake:
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
	}
}

func (r *recorder) snapshot() []xmppclient.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]xmppclient.Event(nil), r.events...)
}

// messages returns the bodies of received messages, in order.
func messages(evs []xmppclient.Event) []xmppclient.MessageEvent {
	var out []xmppclient.MessageEvent
	for _, e := range evs {
		if m, ok := e.(xmppclient.MessageEvent); ok && m.Message.Body != "" {
			out = append(out, m)
		}
	}
	return out
}

func countSessions(evs []xmppclient.Event) (fresh, resumed int) {
	for _, e := range evs {
		if s, ok := e.(xmppclient.SessionEvent); ok {
			if s.Resumed {
				resumed++
			} else {
				fresh++
			}
		}
	}
	return
}

// connect makes a client, connects it and closes it when the test ends.
func connect(t testing.TB, cfg xmppclient.Config) (*xmppclient.Client, *recorder) {
	t.Helper()
	c, err := xmppclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec := record(c)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		t.Fatalf("connect %s: %v", cfg.JID, err)
	}
	t.Cleanup(func() { c.Close() })
	return c, rec
}

func online(c *xmppclient.Client) func([]xmppclient.Event) bool {
	return func([]xmppclient.Event) bool { return c.State() == xmppclient.StateOnline }
}

// rawPeer makes a user named after prefix and connects a raw client as
// it, closed when the test ends.
func rawPeer(t *testing.T, srv *xmpptest.Server, prefix string) *xmpptest.RawPeer {
	t.Helper()
	user, pass := srv.NewUser(t, prefix)
	return dialRaw(t, srv, user, pass)
}

// proxiedConfig is the configuration of user, connecting through a proxy
// to srv (closed when the test ends) that the test can pause or cut.
func proxiedConfig(t testing.TB, srv *xmpptest.Server, user, pass string) (xmppclient.Config, *xmpptest.Proxy) {
	t.Helper()
	proxy, err := xmpptest.StartProxy(srv.C2SAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	cfg := clientConfig(t, srv, user, pass)
	dialVia(t, &cfg, proxy.Addr())
	return cfg, proxy
}
