// Package views holds Parley's Fyne windows and widgets. They talk only to
// the app layer (parley/app); every update that comes from another goroutine
// goes through fyne.Do, and long work never runs on the UI goroutine.
//
// This file is the main window: it shows the login form while logged out and,
// after login, the account view as a header above two tabs, Chats and
// Contacts; it follows the login service's status, puts the unread total in
// the title, opens a chat asked for before login (an xmpp: link) once
// logged in, and tells the chats whether the app has the focus.
package views

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"

	"parley/app"
	"parley/app/clock"
)

// WindowOptions configure a Window.
type WindowOptions struct {
	// Icon is the window icon (nil: the app's).
	Icon fyne.Resource
	// Do runs a function on the UI goroutine; nil means fyne.Do. Tests
	// pass a serializing runner.
	Do func(func())
	// Now is the clock for "next try in ..." (nil: clock.Now).
	Now func() time.Time
	// NoNotifications: there is nothing to show desktop notifications
	// with (no session bus): none are sent (main.go says so once).
	NoNotifications bool
	// InactiveAfter is how long the window may be out of focus before the
	// server is told Parley is inactive (XEP-0352; 0: DefaultInactiveAfter).
	InactiveAfter time.Duration
}

// DefaultInactiveAfter: unfocused this long, Parley tells the server it
// is inactive; focused again, active.
const DefaultInactiveAfter = 30 * time.Second

// Window is Parley's main window.
type Window struct {
	win  fyne.Window
	svc  *app.Service
	opts WindowOptions
	do   func(func())
	now  func() time.Time
	ctx  context.Context
	stop context.CancelFunc
	// chatsNow is WindowOptions.Now for the chats (nil: their service's clock).
	chatsNow func() time.Time

	login        *LoginForm
	account      *AccountView
	contacts     *ContactsView // while logged in
	chats        *ChatsView    // while logged in
	tabs         *container.AppTabs
	main         fyne.CanvasObject
	titleAccount string // the account in the title
	unread       int
	openNext     *chatRequest // a chat to open after login
	showing      fyne.CanvasObject
	// background: the app left the foreground (the lifecycle said so last);
	// chats made after that, at a login, start unfocused.
	background bool
	// inactiveTimer tells the server "inactive" once the window has been
	// out of focus for InactiveAfter (setFocused).
	inactiveTimer *time.Timer

	unsubscribe func()
	tickerMu    sync.Mutex
	ticker      *time.Ticker
	tickerStop  chan struct{}
}

// NewWindow creates the window (not shown yet) with the login form. The
// window title always contains "Parley".
func NewWindow(a fyne.App, svc *app.Service, opts WindowOptions) *Window {
	w := &Window{svc: svc, opts: opts, do: opts.Do, now: opts.Now, chatsNow: opts.Now}
	if w.do == nil {
		w.do = fyne.Do
	}
	if w.now == nil {
		w.now = clock.Now
	}
	w.ctx, w.stop = context.WithCancel(context.Background())
	w.win = a.NewWindow("Parley")
	if opts.Icon != nil {
		w.win.SetIcon(opts.Icon)
	}
	w.login = newLoginForm(w.ctx, svc, w.win, w.do, w.showAccount)
	w.login.onFailed = func() {
		if w.ShowingAccount() {
			w.showLogin()
		}
	}
	w.account = newAccountView(svc.Reconnect, w.logout, func() {
		showVoiceSettings(w.win, w.svc.Voice(), w.do, w.svc.Status().Notice)
	})
	// A notice shows once in the header (then only in the settings).
	w.account.SeenNotice = func(n string) bool {
		p := svc.Profile()
		return p != nil && slices.Contains(p.Settings().SeenNotices, n)
	}
	w.account.OnNoticeSeen = func(n string) {
		if p := svc.Profile(); p != nil {
			go func() {
				_ = p.Update(func(s *app.AccountSettings) {
					if !slices.Contains(s.SeenNotices, n) {
						s.SeenNotices = append(s.SeenNotices, n)
					}
				})
			}()
		}
	}
	w.showLogin()
	w.win.Resize(loginSize)
	w.unsubscribe = svc.Subscribe(func(st app.Status) {
		w.do(func() { w.onStatus(st) })
	})
	// The app's focus (one main window) decides about notifications.
	a.Lifecycle().SetOnEnteredForeground(func() { w.setFocused(true) })
	a.Lifecycle().SetOnExitedForeground(func() { w.setFocused(false) })
	return w
}

// chatRequest is a chat to open with a text in the composer.
type chatRequest struct{ jid, body string }

func (w *Window) setFocused(focused bool) {
	w.background = !focused
	if w.chats != nil {
		w.chats.SetFocused(focused)
	}
	// XEP-0352: active at once on focus; inactive after a while without.
	if w.inactiveTimer != nil {
		w.inactiveTimer.Stop()
		w.inactiveTimer = nil
	}
	if focused {
		w.svc.SetActive(true)
		return
	}
	after := w.opts.InactiveAfter
	if after <= 0 {
		after = DefaultInactiveAfter
	}
	svc := w.svc
	w.inactiveTimer = time.AfterFunc(after, func() { svc.SetActive(false) })
}

// OpenChat opens the chat with jid, body in the composer (an xmpp: URI);
// before login it waits for the main view.
func (w *Window) OpenChat(jid, body string) {
	if w.chats == nil {
		w.openNext = &chatRequest{jid: jid, body: body}
		return
	}
	w.ShowChats()
	w.chats.Open(jid, body)
}

// Chats is the chats tab while logged in (else nil).
func (w *Window) Chats() *ChatsView { return w.chats }

// ShowingChats reports whether the main view shows the Chats tab.
func (w *Window) ShowingChats() bool {
	return w.ShowingAccount() && w.tabs != nil && w.tabs.SelectedIndex() == 0
}

// ComposerText is the text in the open chat's composer ("" while logged
// out or with no chat open).
func (w *Window) ComposerText() string {
	if w.chats == nil || w.chats.Peer() == "" {
		return ""
	}
	return w.chats.composer.Text
}

// ShowChats selects the Chats tab.
func (w *Window) ShowChats() {
	if w.tabs != nil {
		w.tabs.SelectIndex(0)
	}
}

// ShowContacts selects the Contacts tab.
func (w *Window) ShowContacts() {
	if w.tabs != nil {
		w.tabs.SelectIndex(1)
	}
}

// setTitle is "Parley (3) — alice@example.org": the unread count, if any,
// and the account.
func (w *Window) setTitle() {
	title := "Parley"
	if w.unread > 0 {
		title += " (" + strconv.Itoa(w.unread) + ")"
	}
	if w.titleAccount != "" {
		title += " — " + w.titleAccount
	}
	w.win.SetTitle(title)
}

func (w *Window) setUnread(n int) {
	w.unread = n
	if w.ShowingAccount() {
		w.setTitle()
	}
}

// WindowClass is the main window's X11 class (the .desktop file's
// StartupWMClass).
const WindowClass = "Parley"

// Window is the Fyne window.
func (w *Window) Window() fyne.Window { return w.win }

// Login is the login form.
func (w *Window) Login() *LoginForm { return w.login }

// Account is the account view shown after login.
func (w *Window) Account() *AccountView { return w.account }

// Contacts is the contacts pane while logged in (else nil).
func (w *Window) Contacts() *ContactsView { return w.contacts }

// ShowingAccount reports whether the main view (account and contacts), not
// the login form, is shown.
func (w *Window) ShowingAccount() bool { return w.showing != nil && w.showing == w.main }

// Show shows the window with the focus in the address field (or in the
// password field when the address is known).
func (w *Window) Show() {
	// GLFW names the X11 window class after the title the window is
	// created with (Fyne sets no class hint): created as plain "Parley",
	// the class matches the .desktop file's StartupWMClass whatever the
	// title says later.
	title := w.win.Title()
	w.win.SetTitle(WindowClass)
	w.win.Show()
	w.win.SetTitle(title)
	if !w.ShowingAccount() {
		w.login.FocusFirst()
	}
}

// AutoLogin logs in with a remembered password, if there is one. The main
// view shows at once with what the profile keeps (the last known contacts,
// the history) while the login goes on; if it fails, the login form comes
// back with the error.
func (w *Window) AutoLogin() {
	if !w.svc.Saved().AutoLogin {
		return
	}
	w.showAccount()
	w.login.AutoLogin()
}

// Close stops following the service and closes the window.
func (w *Window) Close() {
	w.Stop()
	w.win.Close()
}

// Stop cancels running logins and stops updates; the window stays.
func (w *Window) Stop() {
	w.stop()
	w.rememberSize() // at quit: a small file, written before the process ends
	if w.unsubscribe != nil {
		w.unsubscribe()
	}
	if w.inactiveTimer != nil {
		w.inactiveTimer.Stop()
	}
	w.stopTicker()
	w.stopContacts()
}

// stopContacts ends the contacts and chats of the last session, if any.
func (w *Window) stopContacts() {
	if w.contacts != nil {
		w.contacts.Stop()
		w.contacts = nil
	}
	if w.chats != nil {
		w.chats.Stop()
		w.chats = nil
	}
	w.tabs = nil
	w.unread = 0
}

func (w *Window) showLogin() {
	w.stopTicker()
	if w.main != nil {
		w.stopContacts()
		w.main = nil
		w.win.Resize(loginSize)
	}
	w.win.SetTitle("Parley — Log in")
	w.login.prefill(w.svc.Saved())
	w.showing = w.login.Content()
	w.win.SetContent(w.showing)
	w.login.FocusFirst()
}

// maxRemembered bounds a remembered size (a profile carried from a
// larger screen; Fyne tells no screen size).
var maxRemembered = fyne.NewSize(3840, 2160)

// mainWindowSize is the size the main view opens at: the one the profile
// remembers from the last close, else at least mainSize.
func (w *Window) mainWindowSize() fyne.Size {
	size := w.win.Canvas().Size()
	if p := w.svc.Profile(); p != nil {
		if r := p.Settings().Window; r.Width > 0 && r.Height > 0 {
			size = fyne.NewSize(min(r.Width, maxRemembered.Width), min(r.Height, maxRemembered.Height))
		}
	}
	return fyne.NewSize(max(size.Width, mainSize.Width), max(size.Height, mainSize.Height))
}

// rememberSize keeps the main view's size in the profile (when it shows).
func (w *Window) rememberSize() {
	p := w.svc.Profile()
	if p == nil || w.main == nil {
		return
	}
	size := w.win.Canvas().Size()
	if size.Width <= 0 || size.Height <= 0 || p.Settings().Window == (app.WindowSize{Width: size.Width, Height: size.Height}) {
		return
	}
	_ = p.Update(func(s *app.AccountSettings) { s.Window = app.WindowSize{Width: size.Width, Height: size.Height} })
}

// Window sizes: the login form, and at least this after login.
var (
	loginSize = fyne.NewSize(460, 420)
	mainSize  = fyne.NewSize(900, 650)
)

// showAccount switches to the main view (after a successful login): the
// account view as a header above the Chats and Contacts tabs of the session.
func (w *Window) showAccount() {
	st := w.svc.Status()
	if w.main != nil && w.showing == w.main && w.titleAccount == st.Account {
		w.onStatus(st) // already shown (during an automatic login)
		return
	}
	w.stopContacts()
	w.titleAccount = st.Account
	w.setTitle()
	w.contacts = NewContactsView(w.win, w.svc.Contacts(), w.do)
	opts := ChatsOptions{Do: w.do, Now: w.chatsNow, OnUnread: w.setUnread, Unfocused: w.background, Voice: w.svc.Voice()}
	if w.opts.NoNotifications {
		opts.Notify = func(*fyne.Notification) {}
	}
	w.chats = NewChatsView(w.win, w.svc.Chats(), w.svc.Contacts(), opts)
	w.contacts.OnChat = func(jid string) {
		w.ShowChats()
		w.chats.Open(jid, "")
	}
	w.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Chats", theme.MailComposeIcon(), w.chats.Content()),
		container.NewTabItemWithIcon("Contacts", theme.AccountIcon(), w.contacts.Content()),
	)
	w.main = container.NewBorder(w.account.Content(), nil, nil, nil, w.tabs)
	w.showing = w.main
	w.win.SetContent(w.showing)
	// (At start with a remembered password, main.go shows the window only
	// after this: a resize asked just after it was first shown was lost
	// now and then under the desktop driver.)
	w.win.Resize(w.mainWindowSize())
	w.onStatus(st)
	if r := w.openNext; r != nil {
		w.openNext = nil
		w.chats.Open(r.jid, r.body)
	}
}

// onStatus follows the login service; it runs on the UI goroutine.
func (w *Window) onStatus(st app.Status) {
	if !w.ShowingAccount() {
		return // the login form shows the outcome of its own attempts
	}
	if st.Phase == app.LoggedOut || st.Phase == app.Failed {
		return // Log out switches back itself; Failed belongs to a login attempt
	}
	if st.Account != "" && st.Account != w.titleAccount {
		w.titleAccount = st.Account
		w.setTitle()
	}
	w.account.Update(st, w.now())
	if w.contacts != nil {
		w.contacts.SetConnected(st.Phase == app.Online)
	}
	if st.Phase == app.Waiting {
		w.startTicker()
	} else {
		w.stopTicker()
	}
}

// logout ends the session off the UI goroutine and shows the login form.
func (w *Window) logout() {
	w.account.logoutBtn.Disable()
	// The chats hand over their draft and report themselves closed; Logout
	// sends that ("gone") and what waits while the session is still open.
	if w.chats != nil {
		w.chats.Stop()
	}
	size := w.win.Canvas().Size()
	inBackgroundErr(w.do, func() error {
		if p := w.svc.Profile(); p != nil && size.Width > 0 {
			_ = p.Update(func(s *app.AccountSettings) { s.Window = app.WindowSize{Width: size.Width, Height: size.Height} })
		}
		return w.svc.Logout()
	}, func(error) {
		w.account.logoutBtn.Enable()
		w.showLogin()
	})
}

// startTicker refreshes "next try in ..." every second while waiting.
func (w *Window) startTicker() {
	w.tickerMu.Lock()
	defer w.tickerMu.Unlock()
	if w.ticker != nil {
		return
	}
	w.ticker = time.NewTicker(time.Second)
	w.tickerStop = make(chan struct{})
	t, stop := w.ticker, w.tickerStop
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				w.do(func() {
					st := w.svc.Status()
					if w.ShowingAccount() && st.Phase == app.Waiting {
						w.account.Update(st, w.now())
					}
				})
			}
		}
	}()
}

func (w *Window) stopTicker() {
	w.tickerMu.Lock()
	defer w.tickerMu.Unlock()
	if w.ticker == nil {
		return
	}
	w.ticker.Stop()
	close(w.tickerStop)
	w.ticker = nil
}
