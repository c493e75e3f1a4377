// Test of a session the server ends because another login took the same
// resource (stream error conflict), against a real Prosody: the status is
// Offline with ErrSessionReplaced and no "connected as" JID, nothing
// reconnects by itself (which would throw the other client out), and
// Reconnect logs in again as a fresh resource, kept in the profile, while
// the other client stays connected.
package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"parley/app"
	"parley/app/apptest"
)

func TestReplacedSessionOffersReconnectWithAFreshResource(t *testing.T) {
	srv := apptest.Shared(t)
	jid, pass := srv.NewUser(t, "replaced")
	dir := srv.Profile(t, true)
	svc := srv.LoginService(t, dir, jid, pass)
	st := apptest.WaitStatus(t, svc, 20*time.Second, func(s app.Status) bool { return s.Phase == app.Online && s.JID != "" })
	_, oldResource, _ := strings.Cut(st.JID, "/")
	if oldResource == "" {
		t.Fatalf("online as %q: no resource", st.JID)
	}

	// Every status from here on, to see that nothing reconnects by itself.
	var seen []app.Status
	statuses := make(chan app.Status, 256)
	unsub := svc.Subscribe(func(s app.Status) { statuses <- s })
	defer unsub()

	other := srv.Raw(t, jid, pass, oldResource)
	st = apptest.WaitStatus(t, svc, 20*time.Second, func(s app.Status) bool { return s.Phase == app.Offline })
	if !errors.Is(st.Err, app.ErrSessionReplaced) {
		t.Errorf("offline because %v, want ErrSessionReplaced", st.Err)
	}
	if st.JID != "" {
		t.Errorf("offline status still names the session %q", st.JID)
	}
	if msg := app.UserMessage(st.Err); !strings.Contains(msg, "same resource") || !strings.Contains(msg, "Reconnect") {
		t.Errorf("the user reads %q", msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := other.PingServer(ctx, srv.Domain); err != nil {
		t.Fatalf("the other client lost its session: %v", err)
	}

	svc.Reconnect()
	st = apptest.WaitStatus(t, svc, 20*time.Second, func(s app.Status) bool { return s.Phase == app.Online && s.JID != "" })
	_, newResource, _ := strings.Cut(st.JID, "/")
	if newResource == "" || newResource == oldResource {
		t.Errorf("reconnected as %q, want a fresh resource (not %q)", st.JID, oldResource)
	}
	if err := other.PingServer(ctx, srv.Domain); err != nil {
		t.Fatalf("reconnecting threw the other client out: %v", err)
	}
	if p := svc.Profile(); p == nil || p.Settings().Resource != newResource {
		t.Errorf("the profile keeps resource %q, want the new %q", p.Settings().Resource, newResource)
	}
	// Between the conflict and the Reconnect nothing tried to connect.
	for done := false; !done; {
		select {
		case s := <-statuses:
			seen = append(seen, s)
		default:
			done = true
		}
	}
	offline := false
	for _, s := range seen {
		switch {
		case s.Phase == app.Offline:
			offline = true
		case offline && s.Phase == app.Waiting:
			t.Errorf("after the conflict the session waited to reconnect by itself: %+v", s)
		}
	}
}
