// The composition root of the service layer: Service owns the account's
// profile, its session (one engine client and the goroutine reading its
// events), and the services built on it (contacts, chats); it routes every
// engine event to them in an order that matters (route) and hands status
// changes to the views in order.
package app

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"parley/app/clock"
	"parley/app/notify"
	"parley/xmppclient"
)

// Options configure a Service.
type Options struct {
	// ProfileDir is a fixed profile folder (--profile). Empty: one folder
	// per account under ProfilesRoot.
	ProfileDir string
	// ProfilesRoot holds the per-account folders (default
	// os.UserConfigDir()/parley).
	ProfilesRoot string
	// Keyring keeps remembered passwords; nil means the OS keyring. When it
	// fails, passwords go to a 0600 file in the profile (see NoKeyringNote).
	Keyring SecretStore
	// Version is announced to the server (XEP-0092 / caps).
	Version string
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
	// Tune adjusts the engine configuration before each connection (tests
	// use it for short timeouts and backoff).
	Tune func(*xmppclient.Config)
	// Now is the clock that dates messages, requests and retries (nil:
	// clock.Now).
	Now clock.Func
	// PendingEditWait is how long a correction of a message not received
	// waits for it before it is shown as a message of its own (0: 20 s).
	PendingEditWait time.Duration
	// PausedAfter is how long typing must stop before "paused" is sent
	// (XEP-0085; 0: 5 s).
	PausedAfter time.Duration
	// FlushWait bounds what Logout and Close wait for before the session
	// ends: chat states, messages and drafts handed over by the views, on
	// a stuck connection or disk (0: 2 s).
	FlushWait time.Duration
	// AutoFetchLimit is the largest file from a contact fetched without
	// the user asking (0: 10 MB); CacheSize caps the fetched files kept
	// (0: 1 GiB).
	AutoFetchLimit, CacheSize int64
}

// session is one engine client and the goroutine reading its events.
type session struct {
	client  *xmppclient.Client
	account string
	profile *Profile
	done    chan struct{} // closed when the event loop has ended
}

// Service is the root of the service layer: the login and the session
// (login.go), the contacts and the chats. Create it with NewService; it is
// safe for concurrent use. Listeners get every status change in order, on a
// goroutine of the service (views wrap their updates in fyne.Do).
type Service struct {
	opts     Options
	log      *slog.Logger
	contacts *ContactsService
	chats    *ChatService
	voice    *VoiceService

	mu      sync.Mutex
	profile *Profile // current profile (nil until an account is known)
	sess    *session // the established session
	pending *session // the session a running login is creating
	busy    bool
	last    *attempt
	status  Status
	notice  string
	closed  bool
	// inactive: the person is not looking (window hidden, minimised or
	// unfocused for a while); the server is told (XEP-0352, csi.go).
	inactive bool
	csi      csiWorker
	ctx      context.Context // cancelled by Close; bounds logins
	cancel   context.CancelFunc

	// Every status change goes to the listeners, in order, on statusLoop.
	listeners  notify.Hub[Status]
	statuses   *notify.Coalescer[[]Status]
	statusLoop *notify.Loop
}

// NewService opens the profile (the fixed one, or the one of the account
// used last) and starts the status dispatcher.
func NewService(opts Options) (*Service, error) {
	opts.Now = clock.Or(opts.Now)
	s := &Service{opts: opts, log: opts.Logger, statusLoop: notify.NewLoop()}
	s.statuses = notify.NewCoalescer(s.statusLoop.Run, func(acc, v []Status) []Status { return append(acc, v...) },
		func(q []Status) {
			for _, st := range q {
				s.listeners.Publish(st)
			}
		})
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.opts.Keyring == nil {
		s.opts.Keyring = OSKeyring()
	}
	if s.opts.ProfileDir == "" && s.opts.ProfilesRoot == "" {
		root, err := DefaultProfilesRoot()
		if err != nil {
			return nil, err
		}
		s.opts.ProfilesRoot = root
	}
	switch {
	case s.opts.ProfileDir != "":
		p, err := OpenProfile(s.opts.ProfileDir)
		if err != nil {
			return nil, err
		}
		s.profile = p
	default:
		data, err := os.ReadFile(filepath.Join(s.opts.ProfilesRoot, lastAccountFile))
		if err == nil && strings.TrimSpace(string(data)) != "" {
			dir := ProfileDirFor(s.opts.ProfilesRoot, strings.TrimSpace(string(data)))
			if _, statErr := os.Stat(filepath.Join(dir, SettingsFile)); statErr == nil {
				if p, err := OpenProfile(dir); err == nil {
					s.profile = p
				} else {
					s.log.Warn("cannot open the last profile", "dir", dir, "err", err)
				}
			}
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("cannot read the last account", "err", err)
		}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.contacts = newContactsService(s.log, s.opts.Now)
	s.chats = newChatService(s.log, chatOptions{now: s.opts.Now, pendingEditWait: s.opts.PendingEditWait,
		pausedAfter: s.opts.PausedAfter, flushWait: s.opts.FlushWait, autoFetchLimit: s.opts.AutoFetchLimit,
		cacheSize: s.opts.CacheSize})
	// Receipts and markers go only to those the roster lets see our presence.
	s.chats.mayShowPresence = s.contacts.sharesPresenceWith
	// Conversations strangers start are message requests.
	s.chats.inRoster = s.contacts.hasContact
	s.voice = newVoiceService(s.log, s.opts.Now, s.Profile, s.chats)
	if s.profile != nil {
		// The last known roster and the history show at once, before any login.
		s.contacts.useProfile(s.profile, s.profile.Settings().JID)
		if err := s.chats.useProfile(s.profile, s.profile.Settings().JID); err != nil {
			s.log.Warn("cannot open the history", "err", err)
		}
	}
	s.status = Status{Phase: LoggedOut}
	if s.profile != nil {
		s.status.Account = s.profile.Settings().JID
		s.status.ProfileDir = s.profile.Dir()
	}
	return s, nil
}

// Status returns the current status.
func (s *Service) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// Subscribe registers fn to be called with every status change, in order,
// from a goroutine of the service. It returns a function that unsubscribes.
func (s *Service) Subscribe(fn func(Status)) (unsubscribe func()) {
	return s.listeners.Subscribe(fn)
}

// Profile returns the current profile, or nil before an account is known.
func (s *Service) Profile() *Profile {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.profile
}

// Close logs out and stops the service. What the views handed to the chats
// (chat states, messages, drafts) goes out first, bounded by
// Options.FlushWait. Listeners get no more calls.
func (s *Service) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	sess := s.sess
	s.sess = nil
	s.mu.Unlock()
	s.chats.chat.flush(context.Background())
	s.cancel()
	var err error
	if sess != nil {
		err = s.endSession(sess)
	}
	s.contacts.close()
	s.chats.close()
	s.voice.close()
	s.statusLoop.Close()
	return err
}

func (s *Service) endSession(sess *session) error {
	err := sess.client.Close()
	select {
	case <-sess.done:
	case <-time.After(10 * time.Second):
		s.log.Warn("event loop did not end after Close", "account", sess.account)
	}
	s.contacts.sessionEnded(sess.client)
	s.chats.sessionEnded(sess.client)
	if errors.Is(err, xmppclient.ErrClosed) {
		err = nil
	}
	return err
}

// eventLoop reads the engine's events until the client is closed and
// routes each one. State events before the first session belong to the
// login, which Login itself reports; after it they drive the status.
func (s *Service) eventLoop(sess *session) {
	defer close(sess.done)
	started := false
	for ev := range sess.client.Events() {
		s.route(sess.client, ev)
		switch ev := ev.(type) {
		case xmppclient.SessionEvent:
			started = true
			jid := ev.JID.String()
			resumed := ev.Resumed
			s.updateSession(sess, func(st *Status) {
				*st = Status{Phase: Online, Account: sess.account, JID: jid, Resumed: resumed, ProfileDir: sess.profile.Dir(), Notice: s.notice}
			})
		case xmppclient.StateEvent:
			if !started {
				continue
			}
			s.updateSession(sess, func(st *Status) { s.applyState(st, sess, ev) })
		}
	}
}

// route hands one engine event to the services, one after the other, on
// the event loop.
//
// The order is a rule: chats before contacts. On a fresh session the
// chats' handler enables carbons and waits for the server's answer before
// it returns (ChatService.sessionStarted); only then does the contacts'
// handler send the initial presence. XEP-0280 §9: carbons must be on
// before the first presence, or a message sent to the account in between
// reaches only another of its devices and never this one (and before the
// archive is read, so no message falls between live delivery and history
// sync). carbons_order_test.go records the order on the wire and fails if
// these two lines are swapped.
func (s *Service) route(client *xmppclient.Client, ev xmppclient.Event) {
	s.chats.handleEvent(client, ev)
	s.contacts.handleEvent(client, ev)
}

// applyState maps an engine state event onto the status.
func (s *Service) applyState(st *Status, sess *session, ev xmppclient.StateEvent) {
	base := Status{Account: sess.account, JID: st.JID, ProfileDir: sess.profile.Dir(), Notice: s.notice, Attempt: ev.Attempt}
	if ev.Err != nil {
		base.Err = translate(ev.Err)
	}
	switch ev.State {
	case xmppclient.StateOnline:
		base.Phase = Online
		base.Resumed = st.Resumed
	case xmppclient.StateConnecting:
		base.Phase = Connecting
	case xmppclient.StateWaiting:
		base.Phase = Waiting
		// On the service's clock, which the views compare it with (the
		// engine's ev.At is the real time).
		base.RetryAt = s.opts.Now().Add(ev.RetryIn)
	case xmppclient.StateOffline:
		// The engine gave up (a stream error after which reconnecting
		// would fight another client or be refused): no session, so no
		// "connected as"; Reconnect starts one again.
		base.Phase = Offline
		base.JID = ""
	}
	*st = base
}

// updateSession changes the status only if sess is still the current
// session (or the login that is creating it).
func (s *Service) updateSession(sess *session, fn func(*Status)) {
	s.mu.Lock()
	current := s.sess == sess || s.pending == sess
	s.mu.Unlock()
	if current {
		s.setStatus(fn)
	}
}

// setStatus changes the status and queues it for the listeners.
func (s *Service) setStatus(fn func(*Status)) {
	s.mu.Lock()
	fn(&s.status)
	st := s.status
	s.mu.Unlock()
	s.statuses.Post([]Status{st})
}
