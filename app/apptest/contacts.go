// Helpers for tests of the contacts service and the contacts views against
// the real server: log a fresh user in on its own app.Service (the other
// side of a subscription), wait for a contacts snapshot to satisfy a
// condition, and make two accounts see each other's presence.
package apptest

import (
	"context"
	"testing"
	"time"

	"parley/app"
)

// Account is a user logged in on its own service.
type Account struct {
	JID string
	Svc *app.Service
}

// Contacts is the account's contacts service.
func (a *Account) Contacts() *app.ContactsService { return a.Svc.Contacts() }

// LogIn creates a fresh user (prefix plus a unique suffix) and logs it in
// on a new service with a profile that trusts the server (LoginService);
// the service is closed when t ends.
func (s *Server) LogIn(t testing.TB, prefix string, adjust ...func(*app.Options)) *Account {
	t.Helper()
	jid, pass := s.NewUser(t, prefix)
	return &Account{JID: jid, Svc: s.LoginService(t, s.Profile(t, true), jid, pass, adjust...)}
}

// WaitContacts waits until a snapshot of cs satisfies ok and returns it, or
// fails t after timeout naming what.
func WaitContacts(t testing.TB, cs *app.ContactsService, what string, timeout time.Duration, ok func(app.ContactsSnapshot) bool) app.ContactsSnapshot {
	t.Helper()
	ch, unsub := notified(cs.Subscribe)
	defer unsub()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if s := cs.Snapshot(); ok(s) {
			return s
		}
		select {
		case <-ch:
		case <-deadline.C:
			s := cs.Snapshot()
			t.Fatalf("apptest: timed out after %v waiting for %s (contacts version %d: %d contacts, %d requests)",
				timeout, what, s.Version, len(s.Contacts), len(s.Requests))
			return s
		}
	}
}

// notified subscribes through subscribe and returns a channel that holds a
// value whenever a notification came since it was last read.
func notified[T any](subscribe func(func(T)) func()) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	unsub := subscribe(func(T) {
		select {
		case ch <- struct{}{}:
		default:
		}
	})
	return ch, unsub
}

// FindContact returns jid's entry in s.
func FindContact(s app.ContactsSnapshot, jid string) (app.Contact, bool) {
	for _, c := range s.Contacts {
		if c.JID == jid {
			return c, true
		}
	}
	return app.Contact{}, false
}

// HasRequest reports whether s holds a subscription request from jid.
func HasRequest(s app.ContactsSnapshot, jid string) bool {
	_, ok := FindRequest(s, jid)
	return ok
}

// Befriend makes a and b see each other's presence: a adds b (in group,
// "" for none), b accepts and adds a back, a accepts that. It returns when
// both rosters say "both".
func Befriend(t testing.TB, a, b *Account, group string) {
	t.Helper()
	const timeout = 30 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := a.Contacts().Add(ctx, b.JID, "", group, ""); err != nil {
		t.Fatalf("apptest: %s adds %s: %v", a.JID, b.JID, err)
	}
	WaitContacts(t, b.Contacts(), "the request of "+a.JID, timeout, func(s app.ContactsSnapshot) bool { return HasRequest(s, a.JID) })
	if err := b.Contacts().Accept(ctx, a.JID, true); err != nil {
		t.Fatalf("apptest: %s accepts %s: %v", b.JID, a.JID, err)
	}
	s := WaitContacts(t, a.Contacts(), b.JID+" answering", timeout, func(s app.ContactsSnapshot) bool {
		c, ok := FindContact(s, b.JID)
		return HasRequest(s, b.JID) || ok && c.Subscription == "both"
	})
	if HasRequest(s, b.JID) {
		if err := a.Contacts().Accept(ctx, b.JID, false); err != nil {
			t.Fatalf("apptest: %s accepts %s: %v", a.JID, b.JID, err)
		}
	}
	for _, p := range [][2]*Account{{a, b}, {b, a}} {
		me, other := p[0], p[1]
		WaitContacts(t, me.Contacts(), other.JID+" with subscription both on "+me.JID, timeout, func(s app.ContactsSnapshot) bool {
			c, ok := FindContact(s, other.JID)
			return ok && c.Subscription == "both"
		})
	}
}
