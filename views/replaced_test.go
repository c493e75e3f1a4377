// Window test of a session replaced by another login with the same
// resource (real Prosody): the header says Offline and why, hides
// "Connected as", offers Reconnect, and the own presence shows Offline;
// Reconnect brings the window back online as a fresh resource.
package views

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"parley/app/apptest"
)

func TestReplacedSessionShowsOfflineAndReconnects(t *testing.T) {
	srv := apptest.Shared(t)
	jid, pass := srv.NewUser(t, "uireplaced")
	h := open(t, srv.Profile(t, true), nil)
	h.fill(srv, jid, pass, 0)
	h.ui.do(func() { test.Tap(h.f.loginBtn) })
	h.waitOnline(jid)
	var oldJID string
	h.ui.waitUI(t, "connected as a full JID", waitFor, func() bool {
		oldJID = h.w.Account().resource.Text
		return h.w.Account().resource.Visible() && strings.Contains(oldJID, "/") && h.w.Contacts().OwnPresenceShown() == "Online"
	})
	_, resource, _ := strings.Cut(oldJID, "/")

	other := srv.Raw(t, jid, pass, resource)
	h.ui.waitUI(t, "offline after the conflict", waitFor, func() bool {
		return strings.HasPrefix(h.w.Account().StateText(), "Offline: Another client")
	})
	h.ui.do(func() {
		a := h.w.Account()
		if a.resource.Visible() {
			t.Errorf("offline, the header still says %q", a.resource.Text)
		}
		if !a.reconnectBtn.Visible() || a.reconnectBtn.Text != "Reconnect" {
			t.Errorf("reconnect button visible %v, text %q; want a visible Reconnect", a.reconnectBtn.Visible(), a.reconnectBtn.Text)
		}
		if got := h.w.Contacts().OwnPresenceShown(); got != "Offline" {
			t.Errorf("own presence shows %q while offline, want Offline", got)
		}
	})

	h.ui.do(func() { test.Tap(h.w.Account().reconnectBtn) })
	h.ui.waitUI(t, "online again as a new resource", waitFor, func() bool {
		a := h.w.Account()
		return strings.HasPrefix(a.StateText(), "Online") && a.resource.Visible() && strings.Contains(a.resource.Text, "/") &&
			a.resource.Text != oldJID && !a.reconnectBtn.Visible() && h.w.Contacts().OwnPresenceShown() == "Online"
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := other.PingServer(ctx, srv.Domain); err != nil {
		t.Fatalf("reconnecting threw the other client out: %v", err)
	}
}
