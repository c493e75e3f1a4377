// Helpers for tests of the chat service against the real server: an
// account whose profile outlives its app.Service (stop, start again on the
// same profile, log in directly or through a proxy), waiting on chat
// changes with a deadline, reading a whole conversation from the history,
// and a ping round trip that orders a raw peer's earlier stanzas.
package apptest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"parley/app"
	"parley/app/store"
	"parley/xmppclient"
	"parley/xmppclient/xmpptest"
)

// ChatAccount is an account with a profile folder kept across services:
// Start logs in on a new app.Service, Stop closes it (a clean logout), and
// the next Start finds the history and the outbox where they were.
type ChatAccount struct {
	JID, Password, Dir string
	// Svc is the running service (nil when stopped).
	Svc *app.Service
	// Adjust, when set, changes the service options before each Start.
	Adjust func(*app.Options)

	srv *Server
}

// NewChatAccount creates a fresh user (prefix plus a unique suffix) with a
// profile that trusts the server; it is not logged in yet.
func (s *Server) NewChatAccount(t testing.TB, prefix string) *ChatAccount {
	t.Helper()
	jid, pass := s.NewUser(t, prefix)
	return &ChatAccount{JID: jid, Password: pass, Dir: s.Profile(t, true), srv: s}
}

// Start makes a new service on the profile and logs in directly.
func (a *ChatAccount) Start(t testing.TB) *app.Service {
	t.Helper()
	return a.StartVia(t, a.srv.Host, a.srv.Port, nil)
}

// StartVia makes a new service on the profile and logs in to host:port
// (a proxy in front of the server), with tune applied after Tune (nil: none).
func (a *ChatAccount) StartVia(t testing.TB, host string, port int, tune func(*xmppclient.Config)) *app.Service {
	t.Helper()
	if a.Svc != nil {
		t.Fatalf("apptest: %s is already running", a.JID)
	}
	opts := app.Options{ProfileDir: a.Dir, Keyring: NewMemorySecrets(), Version: "test",
		Tune: func(cfg *xmppclient.Config) {
			Tune(cfg)
			if tune != nil {
				tune(cfg)
			}
		}}
	if a.Adjust != nil {
		a.Adjust(&opts)
	}
	svc, err := app.NewService(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req := a.srv.Request(a.JID, a.Password)
	req.Host, req.Port = host, port
	if err := svc.Login(ctx, req); err != nil {
		t.Fatalf("apptest: login as %s: %v", a.JID, err)
	}
	a.Svc = svc
	return svc
}

// Stop closes the service (the session ends cleanly; the server keeps no
// session to resume).
func (a *ChatAccount) Stop(t testing.TB) {
	t.Helper()
	if a.Svc == nil {
		return
	}
	if err := a.Svc.Close(); err != nil {
		t.Logf("apptest: closing %s: %v", a.JID, err)
	}
	a.Svc = nil
}

// OtherResource is the same account on a second profile folder (another
// install: another resource), not logged in yet.
func (a *ChatAccount) OtherResource(t testing.TB) *ChatAccount {
	t.Helper()
	return &ChatAccount{JID: a.JID, Password: a.Password, Dir: a.srv.Profile(t, true), srv: a.srv}
}

// WhileAway runs send (from writing to the account) while another
// resource of the account is online, so the server archives what arrives
// instead of keeping it as offline messages for Parley, and returns when
// the server has handled all of it.
func (a *ChatAccount) WhileAway(t testing.TB, ctx context.Context, from *xmpptest.RawPeer, send func() error) {
	t.Helper()
	other := a.srv.Raw(t, a.JID, a.Password, "other")
	defer other.Close()
	if err := send(); err != nil {
		t.Fatal(err)
	}
	if err := PingSync(ctx, from, a.srv.Domain); err != nil {
		t.Fatal(err)
	}
}

// Chats is the running service's chat service.
func (a *ChatAccount) Chats() *app.ChatService { return a.Svc.Chats() }

// WaitChats waits until ok holds, checking it at once and after every
// change the chat service reports, and fails t after timeout with what and
// ok's last explanation (or, if ok holds by then although no change was
// reported, says so: the views would not have refreshed). ok may read the
// history.
func WaitChats(t testing.TB, cs *app.ChatService, what string, timeout time.Duration, ok func() (bool, string)) {
	t.Helper()
	ch, unsub := notified(cs.Subscribe)
	defer unsub()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		done, why := ok()
		if done {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			if done, _ = ok(); done {
				// It came true, but no change was reported: listeners
				// (the views) would not have refreshed either.
				t.Fatalf("apptest: %s: it holds, but the chat service reported no change within %v", what, timeout)
			}
			t.Fatalf("apptest: %s: not within %v; last: %s", what, timeout, why)
		}
	}
}

// History returns the whole conversation with peer, oldest first, paging
// back from the newest as the chat view does.
func History(ctx context.Context, cs *app.ChatService, peer string) ([]store.Message, error) {
	const page = 500
	msgs, err := cs.Latest(ctx, peer, page)
	if err != nil {
		return nil, err
	}
	all := msgs
	for len(msgs) == page {
		if msgs, err = cs.Before(ctx, peer, all[0].Cursor(), page); err != nil {
			return nil, err
		}
		all = append(msgs, all...)
	}
	return all, nil
}

// Bodies lists the messages' bodies.
func Bodies(msgs []store.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Body
	}
	return out
}

// DescribeMessages summarizes messages for failure messages (at most the
// first and last 5).
func DescribeMessages(msgs []store.Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d messages:", len(msgs))
	for i, m := range msgs {
		if i == 5 && len(msgs) > 10 {
			fmt.Fprintf(&b, " … (%d more)", len(msgs)-10)
			i = len(msgs) - 5
			for _, m := range msgs[i:] {
				fmt.Fprintf(&b, " [%s %q %s id=%s]", m.Direction, m.Body, m.State, m.MessageID)
			}
			break
		}
		fmt.Fprintf(&b, " [%s %q %s id=%s]", m.Direction, m.Body, m.State, m.MessageID)
	}
	return b.String()
}

// AllConversations lists every conversation of the history: the list's
// and the message requests (strangers' conversations not accepted).
func AllConversations(ctx context.Context, cs *app.ChatService) ([]store.Conversation, error) {
	convs, err := cs.Conversations(ctx)
	if err != nil {
		return nil, err
	}
	reqs, err := cs.MessageRequests(ctx)
	return append(convs, reqs...), err
}

// Befriend puts peer on the account's roster (a contact, not a stranger:
// their conversation is no message request), and waits until the roster
// has it.
func (a *ChatAccount) Befriend(t testing.TB, peer string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs := a.Svc.Contacts()
	// The contacts service takes the session after the chats (and may
	// still be fetching the roster when the chats' catch-up is done).
	WaitContacts(t, cs, "the roster loaded", 30*time.Second, func(s app.ContactsSnapshot) bool { return s.Loaded })
	if err := cs.Add(ctx, peer, "", "", ""); err != nil {
		t.Fatalf("apptest: adding %s to the roster of %s: %v", peer, a.JID, err)
	}
	WaitContacts(t, cs, peer+" on the roster", 30*time.Second, func(s app.ContactsSnapshot) bool {
		_, ok := FindContact(s, peer)
		return ok
	})
}

// DescribeConversations is convs in a line, for test failures.
func DescribeConversations(convs []store.Conversation) string {
	parts := make([]string, len(convs))
	for i, c := range convs {
		parts[i] = fmt.Sprintf("%s(unread %d, accepted %v)", c.Peer, c.Unread, c.Accepted)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// PingSync sends an XEP-0199 ping from the raw peer to its server and waits
// for the answer: the server handles a client's stanzas in order, so every
// stanza the peer sent before has then been routed (and archived).
func PingSync(ctx context.Context, p *xmpptest.RawPeer, domain string) error {
	return p.PingServer(ctx, domain)
}

// Raw logs jid in with the raw peer of the harness (xmpptest.DialRaw) with
// the given resource; it is closed when t ends.
func (s *Server) Raw(t testing.TB, jid, password, resource string) *xmpptest.RawPeer {
	t.Helper()
	user, _, _ := strings.Cut(jid, "@")
	p, err := xmpptest.DialRaw(s.srv, user, password, resource)
	if err != nil {
		t.Fatalf("apptest: raw login as %s: %v", jid, err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}
