// Integration test of a session replaced by another login with the same
// resource (the server ends it with the stream error conflict), against a
// real Prosody: the engine stops instead of reconnecting in a loop against
// the other client, and Restart logs in again as a fresh resource while
// the other client stays connected.
package xmppclient_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"parley/xmppclient"
	"parley/xmppclient/xmpptest"
)

func TestConflictStopsAndRestartTakesAFreshResource(t *testing.T) {
	srv := xmpptest.Shared(t)
	user, pass := srv.NewUser(t, "conflict")
	cfg := clientConfig(t, srv, user, pass)
	cfg.JID = cfg.JID.WithResource("desk")
	// A reconnect loop would start at once.
	cfg.ReconnectMin, cfg.ReconnectMax = 10*time.Millisecond, 20*time.Millisecond
	c, rec := connect(t, cfg)
	if err := c.Restart(context.Background(), "x"); !errors.Is(err, xmppclient.ErrStillRunning) {
		t.Fatalf("Restart while online: %v, want ErrStillRunning", err)
	}

	other, err := xmpptest.DialRaw(srv, user, pass, "desk")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	conflictAt := -1
	rec.waitFor(t, 20*time.Second, "the session ended with conflict", func(evs []xmppclient.Event) bool {
		for i, e := range evs {
			var se *xmppclient.StreamError
			if s, ok := e.(xmppclient.StateEvent); ok && s.State == xmppclient.StateOffline && errors.As(s.Err, &se) && se.Condition == "conflict" {
				conflictAt = i
				return true
			}
		}
		return false
	})
	// The engine gave up before telling (Stopped), so nothing more comes
	// until Restart: no reconnect, which would throw the other client out.
	if !c.Stopped() {
		t.Fatal("after a conflict the client is not Stopped: it would reconnect")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := other.PingServer(ctx, srv.Domain); err != nil {
		t.Fatalf("the other client was thrown out: %v", err)
	}
	for _, e := range rec.snapshot()[conflictAt+1:] {
		if s, ok := e.(xmppclient.StateEvent); ok {
			t.Fatalf("the stopped client went on by itself: %+v", s)
		}
	}

	if err := c.Restart(ctx, "desk-2"); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	if c.Stopped() || c.State() != xmppclient.StateOnline {
		t.Fatalf("after Restart: stopped %v, state %v; want online", c.Stopped(), c.State())
	}
	if got := c.JID().Resource; got != "desk-2" {
		t.Errorf("restarted as resource %q, want desk-2", got)
	}
	rec.waitFor(t, 10*time.Second, "a session event after Restart", func(evs []xmppclient.Event) bool {
		for _, e := range evs[conflictAt+1:] {
			if s, ok := e.(xmppclient.SessionEvent); ok && s.JID.Resource == "desk-2" {
				return true
			}
		}
		return false
	})
	if err := other.PingServer(ctx, srv.Domain); err != nil {
		t.Fatalf("the other client was thrown out by the restart: %v", err)
	}
	// The restarted session works: a message reaches it.
	if err := other.SendMessage(c.JID().String(), "after the restart", "r1"); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, 10*time.Second, "a message after the restart", func(evs []xmppclient.Event) bool {
		for _, m := range messages(evs) {
			if m.Message.Body == "after the restart" {
				return true
			}
		}
		return false
	})
}
