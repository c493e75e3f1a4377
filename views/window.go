// Package views holds Parley's Fyne windows and widgets. They talk only to
// the app layer (parley/app); every update that comes from another goroutine
// goes through fyne.Do, and long work never runs on the UI goroutine.
//
// This file is the main window: it shows the login form while logged out and
// the account view after login, and follows the login service's status.
package views

import (
	"context"
	"sync"
	"time"

	"fyne.io/fyne/v2"

	"parley/app"
)

// WindowOptions configure a Window.
type WindowOptions struct {
	// Icon is the window icon (nil: the app's).
	Icon fyne.Resource
	// Do runs a function on the UI goroutine; nil means fyne.Do. Tests
	// pass a serializing runner.
	Do func(func())
	// Now is the clock for "next try in ..." (nil: time.Now).
	Now func() time.Time
}

// Window is Parley's main window.
type Window struct {
	win  fyne.Window
	svc  *app.Service
	do   func(func())
	now  func() time.Time
	ctx  context.Context
	stop context.CancelFunc

	login   *LoginForm
	account *AccountView
	showing fyne.CanvasObject

	unsubscribe func()
	tickerMu    sync.Mutex
	ticker      *time.Ticker
	tickerStop  chan struct{}
}

// NewWindow creates the window (not shown yet) with the login form. The
// window title always contains "Parley".
func NewWindow(a fyne.App, svc *app.Service, opts WindowOptions) *Window {
	w := &Window{svc: svc, do: opts.Do, now: opts.Now}
	if w.do == nil {
		w.do = fyne.Do
	}
	if w.now == nil {
		w.now = time.Now
	}
	w.ctx, w.stop = context.WithCancel(context.Background())
	w.win = a.NewWindow("Parley")
	if opts.Icon != nil {
		w.win.SetIcon(opts.Icon)
	}
	w.login = newLoginForm(w.ctx, svc, w.win, w.do, w.showAccount)
	w.account = newAccountView(svc.Reconnect, w.logout)
	w.showLogin()
	w.win.Resize(fyne.NewSize(460, 420))
	w.unsubscribe = svc.Subscribe(func(st app.Status) {
		w.do(func() { w.onStatus(st) })
	})
	return w
}

// Window is the Fyne window.
func (w *Window) Window() fyne.Window { return w.win }

// Login is the login form.
func (w *Window) Login() *LoginForm { return w.login }

// Account is the account view shown after login.
func (w *Window) Account() *AccountView { return w.account }

// ShowingAccount reports whether the account view (not the login form) is shown.
func (w *Window) ShowingAccount() bool { return w.showing == w.account.Content() }

// Show shows the window with the focus in the address field (or in the
// password field when the address is known).
func (w *Window) Show() {
	w.win.Show()
	if !w.ShowingAccount() {
		w.login.FocusFirst()
	}
}

// AutoLogin logs in with a remembered password, if there is one.
func (w *Window) AutoLogin() { w.login.AutoLogin() }

// Close stops following the service and closes the window.
func (w *Window) Close() {
	w.Stop()
	w.win.Close()
}

// Stop cancels running logins and stops updates; the window stays.
func (w *Window) Stop() {
	w.stop()
	if w.unsubscribe != nil {
		w.unsubscribe()
	}
	w.stopTicker()
}

func (w *Window) showLogin() {
	w.stopTicker()
	w.win.SetTitle("Parley — Log in")
	w.login.prefill(w.svc.Saved())
	w.showing = w.login.Content()
	w.win.SetContent(w.showing)
	w.login.FocusFirst()
}

// showAccount switches to the account view (after a successful login).
func (w *Window) showAccount() {
	st := w.svc.Status()
	w.win.SetTitle("Parley — " + st.Account)
	w.showing = w.account.Content()
	w.win.SetContent(w.showing)
	w.onStatus(st)
}

// onStatus follows the login service; it runs on the UI goroutine.
func (w *Window) onStatus(st app.Status) {
	if !w.ShowingAccount() {
		return // the login form shows the outcome of its own attempts
	}
	if st.Phase == app.LoggedOut || st.Phase == app.Failed {
		return // Log out switches back itself; Failed belongs to a login attempt
	}
	if st.Account != "" {
		w.win.SetTitle("Parley — " + st.Account)
	}
	w.account.Update(st, w.now())
	if st.Phase == app.Waiting {
		w.startTicker()
	} else {
		w.stopTicker()
	}
}

// logout ends the session off the UI goroutine and shows the login form.
func (w *Window) logout() {
	w.account.logoutBtn.Disable()
	go func() {
		_ = w.svc.Logout()
		w.do(func() {
			w.account.logoutBtn.Enable()
			w.showLogin()
		})
	}()
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
