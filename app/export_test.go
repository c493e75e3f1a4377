// Test-only access to the services' internals (package app_test uses
// these): an event tap, the result of the last roster fetch, a contacts
// service without session or profile fed with synthetic events, for the
// scale tests and benchmarks, and archive passes cut short.
package app

import (
	"log/slog"
	"time"

	"parley/xmppclient"
)

// SetTap makes fn see every engine event of the service's sessions first,
// on the event loop (nil removes it).
func (c *ContactsService) SetTap(fn func(xmppclient.Event)) {
	c.mu.Lock()
	c.tapFn = fn
	c.mu.Unlock()
}

// LastFetchUnchanged reports whether the last roster fetch was answered
// "unchanged" (XEP-0237), keeping the local copy.
func (c *ContactsService) LastFetchUnchanged() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.unchanged
}

// NewDetachedContacts returns a contacts service with no session and no
// profile; Feed gives it events as a session's event loop would.
func NewDetachedContacts() *ContactsService {
	return newContactsService(slog.New(slog.DiscardHandler), nil)
}

// Feed handles ev as if the current (absent) session's event loop got it.
func (c *ContactsService) Feed(ev xmppclient.Event) { c.handleEvent(nil, ev) }

// Close stops a detached service.
func (c *ContactsService) Close() { c.close() }

// CutArchivePassesAfter makes every archive catch-up pass fail after pages
// pages, as a connection lost mid-way would (0: never). It returns a
// function that restores the previous setting.
func CutArchivePassesAfter(pages int) (restore func()) {
	old := cutPassesAfter.Swap(int32(pages))
	return func() { cutPassesAfter.Store(old) }
}

// SetTypingTimeout changes how long a "composing" is shown without another
// chat state; it returns a function that restores the previous value.
func SetTypingTimeout(d time.Duration) (restore func()) {
	old := typingTimeout
	typingTimeout = d
	return func() { typingTimeout = old }
}

// ChatWire is what the chat interaction sends through (chatWire): the
// chat service, or a test's double wrapping it.
type ChatWire = chatWire

// SetChatWire makes the chat interaction send chat states and messages and
// keep drafts through w (nil: the chat service itself).
func (c *ChatService) SetChatWire(w ChatWire) {
	if w == nil {
		w = c
	}
	c.chat.mu.Lock()
	c.chat.wire = w
	c.chat.mu.Unlock()
}

// ClientActive is what the current session's engine was told last
// (XEP-0352), and whether there is a session.
func (s *Service) ClientActive() (active, ok bool) {
	s.mu.Lock()
	sess := s.sess
	s.mu.Unlock()
	if sess == nil {
		return false, false
	}
	return sess.client.Active(), true
}
