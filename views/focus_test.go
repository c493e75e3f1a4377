// Headless test of the window's focus tracking through Fyne's real
// Lifecycle, against a real Prosody: the hooks NewWindow registers are
// called the way the desktop driver calls them when the app leaves or
// enters the foreground, a peer's messages arrive over the server, and the
// desktop notifications are observed where notify.go sends them (the
// current app's SendNotification).
package views

import (
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"parley/app/apptest"
	"parley/app/store"
)

// notifyingApp is Fyne's test app, made the current app, that records the
// notifications sent through it (the test app keeps only the last one).
type notifyingApp struct {
	fyne.App
	mu   sync.Mutex
	sent []*fyne.Notification
}

func newNotifyingApp(t *testing.T) *notifyingApp {
	a := &notifyingApp{App: test.NewTempApp(t)} // its cleanup makes a fresh app current
	fyne.SetCurrentApp(a)
	return a
}

func (a *notifyingApp) SendNotification(n *fyne.Notification) {
	a.mu.Lock()
	a.sent = append(a.sent, n)
	a.mu.Unlock()
	a.App.SendNotification(n)
}

// notifications lists what was sent as "title: content".
func (a *notifyingApp) notifications() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]string, len(a.sent))
	for i, n := range a.sent {
		out[i] = n.Title + ": " + n.Content
	}
	return out
}

// foreground returns the app's lifecycle hook for entering (or leaving)
// the foreground, to be run on the UI goroutine as Fyne's desktop driver
// does when the app's window gets (or loses) the focus. It reads the hook
// from the current app's Lifecycle as the driver does: Fyne 2.8.1's
// internal/app.Lifecycle has no trigger methods, only these getters.
func foreground(t *testing.T, entered bool) func() {
	t.Helper()
	lc, ok := fyne.CurrentApp().Lifecycle().(interface {
		OnEnteredForeground() func()
		OnExitedForeground() func()
	})
	if !ok {
		t.Fatalf("the app's Lifecycle %T has no foreground hooks", fyne.CurrentApp().Lifecycle())
	}
	hook := lc.OnExitedForeground()
	if entered {
		hook = lc.OnEnteredForeground()
	}
	if hook == nil {
		t.Fatalf("no foreground hook registered (entered=%v)", entered)
	}
	return hook
}

func TestFocusFollowsAppLifecycle(t *testing.T) {
	srv := apptest.Shared(t)
	jid, pass := srv.NewUser(t, "uifocus")
	bob := srv.LogIn(t, "uifocusbob")
	a := newNotifyingApp(t)
	h := openOn(t, a, srv.Profile(t, true), nil)
	ctx := ctxFor(t)
	title := func(unread string) string { return "Parley" + unread + " — " + jid }
	// bobSees waits until Bob's last message to us has the state want.
	bobSees := func(body string, want store.State) {
		t.Helper()
		waitCond(t, "Bob seeing "+body+" as "+want.String(), func() bool {
			m, ok := lastMessage(t, bob.Svc, jid)
			return ok && m.Body == body && m.State == want
		})
	}
	bobSends := func(body string) {
		t.Helper()
		if _, err := bob.Svc.Chats().Send(ctx, jid, body); err != nil {
			t.Fatal(err)
		}
	}

	// The app leaves the foreground while the login is under way (the chats
	// do not exist yet): a message arriving after the login is news.
	h.fill(srv, jid, pass, 0)
	h.ui.do(func() {
		test.Tap(h.f.loginBtn)
		foreground(t, false)()
	})
	h.waitOnline(jid)
	// Markers go only to contacts who may see our presence; named by the
	// address, as the notifications checked below are.
	apptest.Befriend(t, &apptest.Account{JID: jid, Svc: h.svc}, bob, "")
	if err := h.svc.Contacts().Rename(ctx, bob.JID, bob.JID); err != nil {
		t.Fatal(err)
	}
	bobSends("first")
	h.ui.waitUI(t, "the unread count in the title", waitFor, func() bool { return h.w.Window().Title() == title(" (1)") })
	waitCond(t, "a notification for the message that came while away", func() bool { return len(a.notifications()) == 1 })

	// Back in the foreground, the chat opened: read, and Bob is told.
	h.ui.do(foreground(t, true))
	h.ui.do(func() { h.w.OpenChat(bob.JID, "") })
	h.ui.waitUI(t, "the chat read and the title without a count", waitFor, func() bool {
		return h.w.Chats().chat.lastIncomingBody() == "first" && h.w.Window().Title() == title("")
	})
	bobSees("first", store.StateRead)

	// Away with the chat open: Bob's message is announced, counted in the
	// title, and not marked read although it is shown.
	h.ui.do(foreground(t, false))
	bobSends("are you there?")
	h.ui.waitUI(t, "the unread count in the title", waitFor, func() bool {
		return h.w.Window().Title() == title(" (1)") && h.w.Chats().chat.lastIncomingBody() == "are you there?"
	})
	waitCond(t, "a notification for the message in the open chat", func() bool { return len(a.notifications()) == 2 })
	bobSees("are you there?", store.StateDelivered)
	h.ui.do(func() {
		if got := h.w.Window().Title(); got != title(" (1)") {
			t.Errorf("title %q after the notification: the chat was marked read while away", got)
		}
	})

	// The app comes back to the foreground: the open chat is marked read.
	h.ui.do(foreground(t, true))
	h.ui.waitUI(t, "the title without a count", waitFor, func() bool { return h.w.Window().Title() == title("") })
	bobSees("are you there?", store.StateRead)

	// In the foreground a message is read at once and not announced; once
	// away again the next one is.
	bobSends("still here")
	bobSees("still here", store.StateRead)
	h.ui.do(foreground(t, false))
	bobSends("last one")
	waitCond(t, "a notification for the last message", func() bool { return len(a.notifications()) >= 3 })
	want := []string{bob.JID + ": first", bob.JID + ": are you there?", bob.JID + ": last one"}
	if got := a.notifications(); strings.Join(got, " | ") != strings.Join(want, " | ") {
		t.Errorf("notifications %q, want %q", got, want)
	}
}
