// The login form: account address, password, "Remember password", an
// Advanced section (host, port, direct TLS), Log in and Create account. It
// runs logins off the UI goroutine, shows progress, and explains failures,
// offering to trust an unverified server certificate.
package views

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/app"
)

// LoginForm is the content of the window while logged out.
type LoginForm struct {
	svc *app.Service
	do  func(func())
	win fyne.Window
	ctx context.Context

	// onLoggedIn is called on the UI goroutine after a successful login.
	onLoggedIn func()
	// onFailed is called on the UI goroutine when a login fails, before the
	// error is shown (the window brings the form back if it was hidden).
	onFailed func()

	jid       *widget.Entry
	jidHint   *widget.Label
	password  *widget.Entry
	remember  *widget.Check
	host      *widget.Entry
	port      *widget.Entry
	directTLS *widget.Check
	advanced  *widget.Accordion

	loginBtn    *widget.Button
	registerBtn *widget.Button
	cancelBtn   *widget.Button
	progress    *widget.ProgressBarInfinite
	progressMsg *widget.Label
	errTitle    *widget.Label
	errText     *widget.Label
	notice      *widget.Label

	cert *certDialog // the open certificate dialog, if any

	busy   bool
	cancel context.CancelFunc

	content fyne.CanvasObject
}

func newLoginForm(ctx context.Context, svc *app.Service, win fyne.Window, do func(func()), onLoggedIn func()) *LoginForm {
	f := &LoginForm{svc: svc, do: do, win: win, ctx: ctx, onLoggedIn: onLoggedIn}

	f.jid = widget.NewEntry()
	f.jid.SetPlaceHolder("name@example.org")
	f.jidHint = widget.NewLabel("")
	f.jidHint.Importance = widget.DangerImportance
	f.jidHint.Wrapping = fyne.TextWrapWord
	f.jidHint.Hide()
	f.jid.OnChanged = func(string) { f.validateJID(false) }
	f.jid.OnSubmitted = func(string) { f.submit() }

	f.password = widget.NewPasswordEntry()
	f.password.SetPlaceHolder("Password")
	f.password.OnSubmitted = func(string) { f.submit() }

	f.remember = widget.NewCheck("Remember password", nil)

	f.host = widget.NewEntry()
	f.host.SetPlaceHolder("from DNS (SRV)")
	f.port = widget.NewEntry()
	f.port.SetPlaceHolder("5222")
	f.port.Validator = func(s string) error {
		_, err := parsePort(s)
		return err
	}
	f.port.OnSubmitted = func(string) { f.submit() }
	f.host.OnSubmitted = func(string) { f.submit() }
	f.directTLS = widget.NewCheck("Direct TLS (XEP-0368)", nil)
	advancedForm := widget.NewForm(
		widget.NewFormItem("Host", f.host),
		widget.NewFormItem("Port", f.port),
		widget.NewFormItem("", f.directTLS),
	)
	f.advanced = widget.NewAccordion(widget.NewAccordionItem("Advanced", advancedForm))

	f.loginBtn = widget.NewButtonWithIcon("Log in", theme.LoginIcon(), f.submit)
	f.loginBtn.Importance = widget.HighImportance
	f.registerBtn = widget.NewButtonWithIcon("Create account", theme.ContentAddIcon(), f.register)
	f.cancelBtn = widget.NewButton("Cancel", f.cancelAttempt)
	f.cancelBtn.Hide()

	f.progress = widget.NewProgressBarInfinite()
	f.progress.Stop()
	f.progress.Hide()
	f.progressMsg = widget.NewLabel("")
	f.progressMsg.Hide()

	f.errTitle = widget.NewLabel("")
	f.errTitle.Importance = widget.DangerImportance
	f.errTitle.TextStyle = fyne.TextStyle{Bold: true}
	f.errTitle.Hide()
	f.errText = widget.NewLabel("")
	f.errText.Wrapping = fyne.TextWrapWord
	f.errText.Hide()
	f.notice = widget.NewLabel("")
	f.notice.Importance = widget.WarningImportance
	f.notice.Wrapping = fyne.TextWrapWord
	f.notice.Hide()

	heading := widget.NewLabelWithStyle("Log in to your XMPP account", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	form := widget.NewForm(
		widget.NewFormItem("Address", f.jid),
		widget.NewFormItem("Password", f.password),
	)
	buttons := container.NewHBox(f.registerBtn, f.cancelBtn, layout.NewSpacer(), f.loginBtn)
	f.content = container.NewPadded(container.NewVBox(
		heading,
		form,
		f.jidHint,
		f.remember,
		f.advanced,
		f.progress,
		f.progressMsg,
		f.errTitle,
		f.errText,
		f.notice,
		buttons,
	))
	f.prefill(svc.Saved())
	return f
}

// Content is the form's canvas object.
func (f *LoginForm) Content() fyne.CanvasObject { return f.content }

// FocusFirst puts the keyboard focus on the address field.
func (f *LoginForm) FocusFirst() {
	f.win.Canvas().Focus(f.jid)
}

func (f *LoginForm) prefill(s app.SavedAccount) {
	if s.JID != "" {
		f.jid.SetText(s.JID)
	}
	f.remember.SetChecked(s.RememberPassword)
	if s.PasswordSaved {
		f.password.SetPlaceHolder("Remembered password")
	}
	if s.PasswordInFile {
		f.SetNotice(app.NoKeyringNote)
	} else {
		f.SetNotice("")
	}
	f.host.SetText(s.Host)
	if s.Port != 0 {
		f.port.SetText(strconv.Itoa(s.Port))
	}
	f.directTLS.SetChecked(s.DirectTLS)
	if s.Host != "" || s.Port != 0 || s.DirectTLS {
		f.advanced.Open(0)
	}
}

// validateJID shows why the typed address is not valid. With strict, an
// empty field is an error too. It reports whether the address is valid.
func (f *LoginForm) validateJID(strict bool) bool {
	text := strings.TrimSpace(f.jid.Text)
	if text == "" && !strict {
		f.jidHint.Hide()
		return false
	}
	if _, err := app.ValidateJID(text); err != nil {
		f.jidHint.SetText(app.UserMessage(err))
		f.jidHint.Show()
		return false
	}
	f.jidHint.Hide()
	return true
}

func parsePort(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, errors.New("the port is a number from 1 to 65535")
	}
	return n, nil
}

// request collects the form into a login request.
func (f *LoginForm) request() (app.LoginRequest, error) {
	port, err := parsePort(f.port.Text)
	if err != nil {
		return app.LoginRequest{}, err
	}
	return app.LoginRequest{
		JID:       strings.TrimSpace(f.jid.Text),
		Password:  f.password.Text,
		Remember:  f.remember.Checked,
		Host:      strings.TrimSpace(f.host.Text),
		Port:      port,
		DirectTLS: f.directTLS.Checked,
	}, nil
}

// submit logs in with what the form holds (Log in button, Enter).
func (f *LoginForm) submit() {
	f.start("Logging in…", func(ctx context.Context, req app.LoginRequest) error {
		return f.svc.Login(ctx, req)
	})
}

// register creates the account and logs in.
func (f *LoginForm) register() {
	f.start("Creating the account…", func(ctx context.Context, req app.LoginRequest) error {
		return f.svc.Register(ctx, req)
	})
}

// AutoLogin logs in with the remembered password, showing progress as if
// the user had pressed Log in.
func (f *LoginForm) AutoLogin() {
	saved := f.svc.Saved()
	if !saved.AutoLogin || f.busy {
		return
	}
	f.begin("Logging in automatically…")
	ctx, cancel := context.WithCancel(f.ctx)
	f.cancel = cancel
	inBackgroundErr(f.do, func() error {
		defer cancel()
		tried, err := f.svc.AutoLogin(ctx)
		if !tried && err == nil {
			err = app.ErrNoPassword
		}
		return err
	}, f.finish)
}

// start validates the form and runs op on a goroutine; called on the UI goroutine.
func (f *LoginForm) start(what string, op func(context.Context, app.LoginRequest) error) {
	if f.busy {
		return
	}
	if _, err := app.ValidateJID(f.jid.Text); err != nil {
		f.validateJID(true)
		f.showError(describeFailure(err))
		f.win.Canvas().Focus(f.jid)
		return
	}
	req, err := f.request()
	if err != nil {
		f.showError(failure{"Invalid port", err.Error() + "."})
		return
	}
	if req.Password == "" && !f.svc.Saved().PasswordSaved {
		f.showError(describeFailure(app.ErrNoPassword))
		f.win.Canvas().Focus(f.password)
		return
	}
	f.begin(what)
	ctx, cancel := context.WithCancel(f.ctx)
	f.cancel = cancel
	inBackgroundErr(f.do, func() error {
		defer cancel()
		return op(ctx, req)
	}, f.finish)
}

// begin switches the form into its busy state.
func (f *LoginForm) begin(what string) {
	f.busy = true
	f.clearError()
	for _, w := range f.inputs() {
		w.Disable()
	}
	f.cancelBtn.Show()
	f.progressMsg.SetText(what)
	f.progressMsg.Show()
	f.progress.Show()
	f.progress.Start()
}

// finish ends the busy state with the outcome of the attempt.
func (f *LoginForm) finish(err error) {
	f.busy = false
	f.cancel = nil
	f.progress.Stop()
	f.progress.Hide()
	f.progressMsg.Hide()
	f.cancelBtn.Hide()
	for _, w := range f.inputs() {
		w.Enable()
	}
	if err == nil {
		f.password.SetText("")
		if f.onLoggedIn != nil {
			f.onLoggedIn()
		}
		return
	}
	if f.onFailed != nil {
		f.onFailed()
	}
	f.showError(describeFailure(err))
	var cert *app.UntrustedCertificateError
	switch {
	case errors.As(err, &cert):
		f.askTrust(cert)
	case errors.Is(err, app.ErrWrongPassword), errors.Is(err, app.ErrNoPassword):
		f.win.Canvas().Focus(f.password)
	}
}

// cancelAttempt stops the running login.
func (f *LoginForm) cancelAttempt() {
	if f.cancel != nil {
		f.cancel()
	}
}

// askTrust opens the certificate dialog; Trust pins and retries.
func (f *LoginForm) askTrust(cert *app.UntrustedCertificateError) {
	f.cert = showCertDialog(f.win, cert, func(trust bool) {
		f.cert = nil
		if !trust {
			return
		}
		fp := cert.RawFingerprint
		f.begin("Trusting the certificate and logging in…")
		ctx, cancel := context.WithCancel(f.ctx)
		f.cancel = cancel
		inBackgroundErr(f.do, func() error {
			defer cancel()
			return f.svc.TrustCertificate(ctx, fp)
		}, f.finish)
	})
}

func (f *LoginForm) showError(e failure) {
	f.errTitle.SetText(e.Title)
	f.errTitle.Show()
	f.errText.SetText(e.Text)
	f.errText.Show()
}

func (f *LoginForm) clearError() {
	f.errTitle.Hide()
	f.errText.Hide()
}

// SetNotice shows an advisory (such as the keyring note) under the form.
func (f *LoginForm) SetNotice(text string) {
	if text == "" {
		f.notice.Hide()
		return
	}
	f.notice.SetText(text)
	f.notice.Show()
}

type disableable interface {
	Enable()
	Disable()
}

func (f *LoginForm) inputs() []disableable {
	return []disableable{f.jid, f.password, f.remember, f.host, f.port, f.directTLS, f.loginBtn, f.registerBtn}
}
