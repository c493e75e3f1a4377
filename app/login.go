// Login, registration and the session's life: the Service (service.go)
// logs in or registers an account (one xmppclient.Client at a time), keeps
// the profile and the remembered password up to date, reconnects as a new
// resource after another client took the session over, logs out, and
// turns the engine's events into a simple Status for the UI.
package app

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"parley/xmppclient"
)

// Phase is where the account is, as the UI shows it.
type Phase int

const (
	// LoggedOut: no session and none wanted (at start, after Log out).
	LoggedOut Phase = iota
	// Connecting: a login or reconnect is under way.
	Connecting
	// Online: the session is up.
	Online
	// Waiting: the connection was lost; the next attempt is at RetryAt.
	Waiting
	// Offline: the session stopped and will not come back by itself (the
	// password was changed elsewhere, the certificate changed ...); Err says why.
	Offline
	// Failed: the last login or registration attempt failed; Err says why.
	Failed
)

func (p Phase) String() string {
	switch p {
	case LoggedOut:
		return "logged out"
	case Connecting:
		return "connecting"
	case Online:
		return "online"
	case Waiting:
		return "waiting to reconnect"
	case Offline:
		return "offline"
	case Failed:
		return "login failed"
	}
	return "unknown"
}

// Status is a snapshot of the login service for the UI.
type Status struct {
	Phase Phase
	// Account is the bare account JID (the one in use, or the saved one).
	Account string
	// JID is the full bound JID while a session exists.
	JID string
	// Err is why: the login error (Failed), the cause of the drop
	// (Waiting, Offline). It is one of the app's error types.
	Err error
	// RetryAt is when the next reconnect attempt starts (Waiting);
	// Attempt counts reconnect attempts since the connection was lost.
	RetryAt time.Time
	Attempt int
	// Resumed: the current session was resumed (XEP-0198), not fresh.
	Resumed bool
	// Notice is an advisory for the user, e.g. NoKeyringNote.
	Notice string
	// ProfileDir is the folder of the account's profile.
	ProfileDir string
}

// Describe is a one-line description of the status for people.
func (s Status) Describe(now time.Time) string {
	switch s.Phase {
	case LoggedOut:
		if s.Err != nil {
			return "Logged out: " + UserMessage(s.Err)
		}
		return "Logged out"
	case Connecting:
		if s.Attempt > 0 {
			return fmt.Sprintf("Connecting (attempt %d)…", s.Attempt)
		}
		return "Connecting…"
	case Online:
		if s.Resumed {
			return "Online (session resumed)"
		}
		return "Online"
	case Waiting:
		msg := "Waiting to reconnect"
		if s.Err != nil {
			msg += ": " + strings.TrimSuffix(UserMessage(s.Err), ".")
		}
		if !s.RetryAt.IsZero() {
			left := s.RetryAt.Sub(now).Round(time.Second)
			if left <= 0 {
				msg += ". Retrying now"
			} else {
				msg += fmt.Sprintf(". Next try in %v (at %s)", left, s.RetryAt.Format("15:04:05"))
			}
		}
		return msg + "."
	case Offline:
		if s.Err != nil {
			return "Offline: " + UserMessage(s.Err)
		}
		return "Offline"
	case Failed:
		return UserMessage(s.Err)
	}
	return s.Phase.String()
}

// LoginRequest is what the login form sends.
type LoginRequest struct {
	JID      string
	Password string // empty: use the remembered password
	Remember bool
	// Host and Port override DNS SRV (empty/0: look up the domain);
	// DirectTLS connects with TLS from the first byte.
	Host      string
	Port      int
	DirectTLS bool
}

// SavedAccount is what the profile remembers, to prefill the login form.
type SavedAccount struct {
	JID              string
	Host             string
	Port             int
	DirectTLS        bool
	RememberPassword bool
	// PasswordSaved: a password is stored; Login with an empty password uses it.
	PasswordSaved bool
	// PasswordInFile: it is stored in the profile folder (no OS keyring).
	PasswordInFile bool
	// AutoLogin: the account logs in by itself on start (remembered
	// password, and the user did not log out).
	AutoLogin  bool
	ProfileDir string
}

// lastAccountFile, in ProfilesRoot, names the account used last.
const lastAccountFile = "last-account"

type operation int

const (
	opLogin operation = iota
	opRegister
)

// attempt remembers the last login or registration, for TrustCertificate.
type attempt struct {
	op  operation
	req LoginRequest
}

// Saved returns what the current profile remembers, to prefill the form.
func (s *Service) Saved() SavedAccount {
	p := s.Profile()
	if p == nil {
		return SavedAccount{}
	}
	st := p.Settings()
	return SavedAccount{
		JID:              st.JID,
		Host:             st.Host,
		Port:             st.Port,
		DirectTLS:        st.DirectTLS,
		RememberPassword: st.RememberPassword,
		PasswordSaved:    st.RememberPassword && st.PasswordStore != "",
		PasswordInFile:   st.RememberPassword && st.PasswordStore == PasswordInFile,
		AutoLogin:        st.RememberPassword && st.PasswordStore != "" && !st.LoggedOut && st.JID != "",
		ProfileDir:       p.Dir(),
	}
}

// AutoLogin logs in with the remembered password if the profile has one and
// the user did not log out last time. It reports whether it tried.
func (s *Service) AutoLogin(ctx context.Context) (bool, error) {
	saved := s.Saved()
	if !saved.AutoLogin {
		return false, nil
	}
	err := s.Login(ctx, LoginRequest{
		JID: saved.JID, Remember: true,
		Host: saved.Host, Port: saved.Port, DirectTLS: saved.DirectTLS,
	})
	if errors.Is(err, ErrNoPassword) {
		return false, nil
	}
	return true, err
}

// Login connects the account. It blocks until the first login succeeded or
// failed; after success the session stays up by itself (reconnecting as
// needed) until Logout. Errors are the app's types: ErrWrongPassword,
// *UnreachableError, *UntrustedCertificateError, ErrInsecureServer,
// *InvalidJIDError, *ConnectionError.
func (s *Service) Login(ctx context.Context, req LoginRequest) error {
	return s.run(ctx, attempt{op: opLogin, req: req})
}

// Register creates the account on the server (XEP-0077 in-band
// registration) and then logs in. Refusals are *RegistrationError (name
// taken, not allowed, needs a form).
func (s *Service) Register(ctx context.Context, req LoginRequest) error {
	return s.run(ctx, attempt{op: opRegister, req: req})
}

// TrustCertificate pins the certificate fingerprint (as shown in an
// *UntrustedCertificateError) in the account's profile and retries the
// login or registration that failed because of it.
func (s *Service) TrustCertificate(ctx context.Context, fingerprint string) error {
	s.mu.Lock()
	last := s.last
	s.mu.Unlock()
	if last == nil {
		return ErrNothingToRetry
	}
	bare, err := ValidateJID(last.req.JID)
	if err != nil {
		return err
	}
	p, err := s.profileFor(bare)
	if err != nil {
		return err
	}
	if err := p.PinFingerprint(fingerprint); err != nil {
		return err
	}
	s.log.Info("certificate pinned", "account", bare, "fingerprint", FormatFingerprint(fingerprint))
	return s.run(ctx, *last)
}

// Reconnect drops the connection and connects again now (after a wake from
// sleep, or when the user does not want to wait for the next try).
//
// A session the server ended for another login with the same resource
// (ErrSessionReplaced) is not reconnected by itself; Reconnect logs it in
// again as a fresh resource, kept in the profile from then on, so that
// the other client keeps its session. It returns at once; the status
// follows.
func (s *Service) Reconnect() {
	s.mu.Lock()
	sess := s.sess
	s.mu.Unlock()
	if sess == nil {
		return
	}
	if !sess.client.Stopped() {
		sess.client.Reconnect()
		return
	}
	go s.restart(sess)
}

// restart logs a stopped session in again with a fresh resource.
func (s *Service) restart(sess *session) {
	resource := NewResource()
	if err := sess.profile.Update(func(st *AccountSettings) { st.Resource = resource }); err != nil {
		s.log.Warn("saving the new resource", "err", err)
	}
	s.log.Info("logging in again as a new resource", "account", sess.account, "resource", resource)
	ctx, cancel := context.WithTimeout(s.ctx, 2*time.Minute)
	defer cancel()
	if err := sess.client.Restart(ctx, resource); err != nil && !errors.Is(err, xmppclient.ErrStillRunning) {
		// The engine reported the failure as a state (Offline, with why).
		s.log.Warn("logging in again", "account", sess.account, "err", err)
	}
}

// Logout ends the session, after what the views handed to the chats went
// out. The remembered password stays, but the account no longer logs in
// by itself on the next start.
func (s *Service) Logout() error {
	// What the views handed to the chats goes out while the session is
	// still there (bounded by Options.FlushWait).
	s.chats.chat.flush(context.Background())
	s.mu.Lock()
	sess := s.sess
	s.sess = nil
	p := s.profile
	s.mu.Unlock()
	var err error
	if sess != nil {
		err = s.endSession(sess)
	}
	if p != nil {
		if perr := p.Update(func(st *AccountSettings) { st.LoggedOut = true }); perr != nil && err == nil {
			err = perr
		}
	}
	s.setStatus(func(st *Status) {
		*st = Status{Phase: LoggedOut, Account: st.Account, ProfileDir: st.ProfileDir, Notice: s.notice}
	})
	return err
}

// run performs a login or registration attempt.
func (s *Service) run(ctx context.Context, at attempt) (err error) {
	req := at.req
	bare, jerr := ValidateJID(req.JID)
	if jerr != nil {
		s.fail(req.JID, jerr)
		return jerr
	}
	req.JID = bare
	at.req = req

	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return ErrClosed
	case s.busy:
		s.mu.Unlock()
		return ErrBusy
	}
	s.busy = true
	s.last = &at
	old := s.sess
	s.sess = nil
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.busy = false
		s.pending = nil
		s.mu.Unlock()
	}()
	if old != nil {
		if err := s.endSession(old); err != nil {
			s.log.Warn("closing the previous session", "err", err)
		}
	}

	p, err := s.profileFor(bare)
	if err != nil {
		s.fail(bare, err)
		return err
	}
	s.contacts.useProfile(p, bare)
	if err := s.chats.useProfile(p, bare); err != nil {
		s.fail(bare, err)
		return err
	}
	password := req.Password
	if password == "" {
		if at.op == opLogin {
			password, _ = passwordVault{keyring: s.opts.Keyring, profile: p}.load(bare)
		}
		if password == "" {
			s.fail(bare, ErrNoPassword)
			return ErrNoPassword
		}
	}
	cfg, err := s.config(p, bare, req, password)
	if err != nil {
		s.fail(bare, err)
		return err
	}
	s.setStatus(func(st *Status) {
		*st = Status{Phase: Connecting, Account: bare, ProfileDir: p.Dir(), Notice: s.notice}
	})

	// Logins end when the service closes, as well as with ctx.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		select {
		case <-s.ctx.Done():
			stop()
		case <-ctx.Done():
		}
	}()

	if at.op == opRegister {
		s.log.Info("registering", "account", bare)
		if err := xmppclient.Register(ctx, cfg, password); err != nil {
			terr := translate(err)
			s.fail(bare, terr)
			return terr
		}
	}

	client, err := xmppclient.New(cfg)
	if err != nil {
		terr := translate(err)
		s.fail(bare, terr)
		return terr
	}
	sess := &session{client: client, account: bare, profile: p, done: make(chan struct{})}
	s.mu.Lock()
	s.pending = sess
	client.SetActive(!s.inactive) // XEP-0352: told on the stream as soon as it is up
	s.mu.Unlock()
	go s.eventLoop(sess)
	s.log.Info("logging in", "account", bare, "host", req.Host, "port", req.Port, "direct_tls", req.DirectTLS)
	if err := client.Connect(ctx); err != nil {
		_ = s.endSession(sess)
		terr := translate(err)
		s.fail(bare, terr)
		return terr
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = s.endSession(sess)
		return ErrClosed
	}
	s.sess = sess
	s.mu.Unlock()

	s.remember(p, bare, req, password)
	jid := client.JID().String()
	online := client.State() == xmppclient.StateOnline
	s.setStatus(func(st *Status) {
		if !online {
			return // the event loop already reported a later state
		}
		*st = Status{Phase: Online, Account: bare, JID: jid, ProfileDir: p.Dir(), Notice: s.notice}
	})
	return nil
}

// remember saves the account settings after a successful login and stores
// or forgets the password.
func (s *Service) remember(p *Profile, bare string, req LoginRequest, password string) {
	if err := p.Update(func(st *AccountSettings) {
		st.JID = bare
		st.Host = req.Host
		st.Port = req.Port
		st.DirectTLS = req.DirectTLS
		st.RememberPassword = req.Remember
		st.LoggedOut = false
	}); err != nil {
		s.log.Error("saving the profile", "err", err)
	}
	if s.opts.ProfileDir == "" && s.opts.ProfilesRoot != "" {
		if err := writeFileAtomic(filepath.Join(s.opts.ProfilesRoot, lastAccountFile), []byte(bare+"\n"), 0o600); err != nil {
			s.log.Warn("saving the last account", "err", err)
		}
	}
	vault := passwordVault{keyring: s.opts.Keyring, profile: p}
	notice := ""
	if req.Remember {
		where, keyErr, err := vault.save(bare, password)
		switch {
		case err != nil:
			s.log.Error("remembering the password", "err", err)
			notice = "The password could not be remembered: " + err.Error()
		case where == PasswordInFile:
			s.log.Warn("no system keyring; password stored in the profile folder", "keyring_err", keyErr, "dir", p.Dir())
			notice = NoKeyringNote
		}
	} else if err := vault.forget(bare); err != nil {
		s.log.Warn("forgetting the password", "err", err)
	}
	s.mu.Lock()
	s.notice = notice
	s.mu.Unlock()
}

// config builds the engine configuration for one attempt.
func (s *Service) config(p *Profile, bare string, req LoginRequest, password string) (xmppclient.Config, error) {
	jid, err := xmppclient.ParseJID(bare)
	if err != nil {
		return xmppclient.Config{}, translateJIDError(bare, err)
	}
	st := p.Settings()
	cfg := xmppclient.Config{
		JID:                jid.WithResource(st.Resource),
		Password:           password,
		Host:               strings.TrimSpace(req.Host),
		Port:               req.Port,
		DirectTLS:          req.DirectTLS,
		PinnedFingerprints: st.PinnedFingerprints,
		ClientName:         "Parley",
		ClientVersion:      s.opts.Version,
		Features:           chatFeatures,
		Logger:             s.log,
	}
	if caFile := p.CAFilePath(); caFile != "" {
		pool, err := loadCAFile(caFile)
		if err != nil {
			return cfg, err
		}
		cfg.RootCAs = pool
	}
	if s.opts.Tune != nil {
		s.opts.Tune(&cfg)
	}
	return cfg, nil
}

// loadCAFile returns the system roots plus the certificates in a PEM file.
func loadCAFile(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the CA file of the profile: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("the CA file %s holds no PEM certificate", path)
	}
	return pool, nil
}

// profileFor returns the profile for an account: the fixed one, or
// ProfilesRoot/<account> (opened on first use). It becomes the current one.
func (s *Service) profileFor(bare string) (*Profile, error) {
	s.mu.Lock()
	cur := s.profile
	s.mu.Unlock()
	if s.opts.ProfileDir != "" {
		return cur, nil
	}
	dir := ProfileDirFor(s.opts.ProfilesRoot, bare)
	if cur != nil && cur.Dir() == dir {
		return cur, nil
	}
	abs, _ := filepath.Abs(dir)
	if cur != nil && cur.Dir() == abs {
		return cur, nil
	}
	p, err := OpenProfile(dir)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.profile = p
	s.mu.Unlock()
	return p, nil
}

// fail reports a failed attempt.
func (s *Service) fail(account string, err error) {
	s.setStatus(func(st *Status) {
		*st = Status{Phase: Failed, Account: account, Err: err, ProfileDir: st.ProfileDir, Notice: s.notice}
	})
}
