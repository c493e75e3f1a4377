// Integration tests of the engine under load and faults, against a real
// Prosody: thousands of concurrent IQs, message bursts in order, stanzas
// that do not decode, a killed TCP connection while a peer sends (XEP-0198
// resumption delivers everything exactly once), a server crash and restart,
// and a silent break noticed by pings.
package xmppclient_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gosrc.io/xmpp/stanza"
	"parley/xmppclient"
	"parley/xmppclient/xmpptest"
)

func TestFiveThousandConcurrentPings(t *testing.T) {
	srv := xmpptest.Shared(t)
	user, pass := srv.NewUser(t, "pings")
	c, _ := connect(t, clientConfig(t, srv, user, pass))
	const n = 5000
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Ping(ctx, xmppclient.JID{}); err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err)
			}
		}()
	}
	wg.Wait()
	if f := failed.Load(); f != 0 {
		t.Fatalf("%d of %d pings lost or failed; first: %v", f, n, firstErr.Load())
	}
}

func TestBurstOfMessagesArrivesInOrder(t *testing.T) {
	srv := xmpptest.Shared(t)
	user, pass := srv.NewUser(t, "burst")
	peer := rawPeer(t, srv, "burstpeer")
	c, rec := connect(t, clientConfig(t, srv, user, pass))
	const n = 2000
	if err := peer.SendMessages(c.JID().String(), n, "burst"); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, 60*time.Second, fmt.Sprintf("%d messages", n), func(evs []xmppclient.Event) bool {
		return len(messages(evs)) >= n
	})
	msgs := messages(rec.snapshot())
	if len(msgs) != n {
		t.Fatalf("got %d messages, want %d", len(msgs), n)
	}
	for i, m := range msgs {
		want := fmt.Sprintf("burst-%06d", i+1)
		if m.Message.Body != want {
			t.Fatalf("message %d is %q, want %q (order lost)", i, m.Message.Body, want)
		}
	}
}

func TestUndecodableStanzasAreSkipped(t *testing.T) {
	srv := xmpptest.Shared(t)
	user, pass := srv.NewUser(t, "junk")
	peer := rawPeer(t, srv, "junkpeer")
	c, rec := connect(t, clientConfig(t, srv, user, pass))
	to := c.JID().String()
	junk := []string{
		// unknown nested payloads
		"<message to='" + to + "' type='chat' id='j1'><weird xmlns='urn:example:weird'><deep><deeper x='1'/></deep></weird></message>",
		// junk inside a carbon wrapper, sent by someone else
		"<message to='" + to + "' id='j2'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message from='" + to + "' to='x@localhost'><body>forged carbon</body><garbage xmlns='urn:junk'><b>1</b></garbage></message></forwarded></received></message>",
		// a payload the stanza library fails to decode
		"<presence to='" + to + "'><priority>not-a-number</priority></presence>",
		// an IQ request nobody handles, with a broken payload
		"<iq type='get' to='" + to + "' id='iqjunk'><query xmlns='urn:example:unknown'><x/></query></iq>",
	}
	for _, j := range junk {
		if err := peer.SendRaw(j); err != nil {
			t.Fatal(err)
		}
	}
	if err := peer.SendMessage(to, "the next normal message", "normal"); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, 20*time.Second, "the normal message", func(evs []xmppclient.Event) bool {
		for _, m := range messages(evs) {
			if m.Message.ID == "normal" {
				return true
			}
		}
		return false
	})
	for _, m := range messages(rec.snapshot()) {
		if m.Message.Body == "forged carbon" {
			t.Errorf("the body inside the carbon wrapper leaked onto the outer message")
		}
	}
	// The unhandled IQ got an error reply, and the stream is still good.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := peer.WaitElement(ctx, func(e xmpptest.RawElement) bool {
		return e.Name == "iq" && strings.Contains(e.Raw, "iqjunk") && strings.Contains(e.Raw, "service-unavailable")
	}); err != nil {
		t.Errorf("no service-unavailable reply to the unhandled IQ: %v", err)
	}
	if err := c.Ping(ctx, xmppclient.JID{}); err != nil {
		t.Errorf("ping after junk: %v", err)
	}
}

func TestKilledConnectionResumesAndDeliversExactlyOnce(t *testing.T) {
	srv := xmpptest.Shared(t)
	user, pass := srv.NewUser(t, "kill")
	peerUser, peerPass := srv.NewUser(t, "killpeer")
	cfg := clientConfig(t, srv, user, pass)
	c, rec := connect(t, cfg)
	peer, err := xmpptest.DialRaw(srv, peerUser, peerPass, "peer")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	info, _ := c.ConnInfo()
	to := c.JID().String()
	const n = 500
	done := make(chan error, 1)
	go func() {
		for i := 1; i <= n; i++ {
			if err := peer.SendMessage(to, fmt.Sprintf("m-%03d", i), fmt.Sprintf("id-%03d", i)); err != nil {
				done <- err
				return
			}
			if i == n/3 {
				// Kill the client's TCP connection (its local port) mid-stream.
				if _, err := xmpptest.KillTCP(info.LocalAddr); err != nil {
					done <- err
					return
				}
			}
		}
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, 60*time.Second, fmt.Sprintf("%d messages after the reconnect", n), func(evs []xmppclient.Event) bool {
		return len(messages(evs)) >= n
	})
	// Wait for a final ack round so a late duplicate would have arrived too.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Ping(ctx, xmppclient.JID{}); err != nil {
		t.Fatal(err)
	}
	evs := rec.snapshot()
	seen := map[string]int{}
	for _, m := range messages(evs) {
		seen[m.Message.ID]++
	}
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("id-%03d", i)
		if seen[id] != 1 {
			t.Errorf("message %s arrived %d times", id, seen[id])
		}
	}
	fresh, resumed := countSessions(evs)
	if resumed < 1 {
		t.Errorf("the session was not resumed (fresh=%d resumed=%d)", fresh, resumed)
	}
	if newInfo, _ := c.ConnInfo(); newInfo.LocalAddr == info.LocalAddr {
		t.Errorf("still on the killed connection %s: the kill did not happen", info.LocalAddr)
	}
}

func TestOnlineAgainAfterServerCrashAndRestart(t *testing.T) {
	srv := xmpptest.NewProsody(t, xmpptest.ProsodyOptions{})
	user, pass := srv.NewUser(t, "crash")
	cfg := clientConfig(t, srv, user, pass)
	cfg.ReconnectMax = 8 * time.Second
	c, rec := connect(t, cfg)
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, 10*time.Second, "the client to notice the crash", func([]xmppclient.Event) bool {
		return c.State() != xmppclient.StateOnline
	})
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	// The state turns online just before the session's event is queued:
	// wait for the event, which says whether the session was resumed.
	rec.waitFor(t, 10*time.Second, "a new session within 10 s of the server coming back", func(evs []xmppclient.Event) bool {
		fresh, resumed := countSessions(evs)
		return fresh+resumed >= 2
	})
	t.Logf("online %v after the server came back", time.Since(back).Round(time.Millisecond))
	fresh, resumed := countSessions(rec.snapshot())
	if fresh != 2 || resumed != 0 || c.State() != xmppclient.StateOnline {
		t.Errorf("want a fresh session after the crash (resumption state is lost), got %d fresh and %d resumed sessions, state %v",
			fresh, resumed, c.State())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Ping(ctx, xmppclient.JID{}); err != nil {
		t.Errorf("ping after restart: %v", err)
	}
}

func TestSilentBreakIsDetectedByPing(t *testing.T) {
	srv := xmpptest.Shared(t)
	user, pass := srv.NewUser(t, "silent")
	cfg, proxy := proxiedConfig(t, srv, user, pass)
	cfg.PingInterval = 500 * time.Millisecond
	cfg.PingTimeout = 500 * time.Millisecond
	c, rec := connect(t, cfg)
	proxy.Pause() // bytes stop flowing; no FIN, no RST
	rec.waitFor(t, 15*time.Second, "the silent break to be noticed", func([]xmppclient.Event) bool {
		return c.State() != xmppclient.StateOnline
	})
	proxy.Resume()
	proxy.KillAll() // the paused connection is dead anyway
	rec.waitFor(t, 30*time.Second, "online again", online(c))
}

func TestSendWhileDisconnectedIsQueuedForResume(t *testing.T) {
	srv := xmpptest.Shared(t)
	user, pass := srv.NewUser(t, "queue")
	peer := rawPeer(t, srv, "queuepeer")
	cfg, proxy := proxiedConfig(t, srv, user, pass)
	cfg.ReconnectMin = 2 * time.Second
	c, rec := connect(t, cfg)
	proxy.KillAll()
	rec.waitFor(t, 10*time.Second, "the break", func([]xmppclient.Event) bool { return c.State() != xmppclient.StateOnline })
	for i := 1; i <= 20; i++ {
		msg := stanza.Message{Attrs: stanza.Attrs{To: peer.JID(), Type: stanza.MessageTypeChat, Id: fmt.Sprintf("q%02d", i)}, Body: fmt.Sprintf("queued %d", i)}
		if err := c.Send(msg); err != nil {
			t.Fatalf("send while disconnected: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := peer.WaitCount(ctx, 20); err != nil {
		t.Fatalf("the peer did not get the queued messages: %v", err)
	}
	got := peer.Received()
	for i, m := range got {
		if want := fmt.Sprintf("q%02d", i+1); m.ID != want {
			t.Fatalf("message %d has id %s, want %s", i, m.ID, want)
		}
	}
	rec.waitFor(t, 10*time.Second, "all queued messages acknowledged", func([]xmppclient.Event) bool { return c.Unacked() == 0 })
}

func TestReconnectStopsOnAuthenticationFailure(t *testing.T) {
	srv := xmpptest.Shared(t)
	user, pass := srv.NewUser(t, "authstop")
	cfg := clientConfig(t, srv, user, pass)
	c, rec := connect(t, cfg)
	other, _ := connect(t, cfg) // a second resource of the same account changes the password
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := other.ChangePassword(ctx, "changed-elsewhere"); err != nil {
		t.Fatal(err)
	}
	// Prosody ends the account's other streams with <reset/> when the
	// password changes; elsewhere the connection may live on, so kill it.
	// Resumption needs no password, so a session may come back; kill
	// resumed connections too until a full login is needed.
	info, _ := c.ConnInfo()
	if info.LocalAddr != "" {
		_, _ = xmpptest.KillTCP(info.LocalAddr)
	}
	rec.waitFor(t, 30*time.Second, "offline with a wrong-password error", func(evs []xmppclient.Event) bool {
		for _, e := range evs {
			if s, ok := e.(xmppclient.StateEvent); ok && s.State == xmppclient.StateOffline && errors.Is(s.Err, xmppclient.ErrWrongPassword) {
				return true
			}
			if _, ok := e.(xmppclient.SessionEvent); ok {
				if ci, ok := c.ConnInfo(); ok && ci.LocalAddr != info.LocalAddr {
					info = ci
					_, _ = xmpptest.KillTCP(ci.LocalAddr)
				}
			}
		}
		return false
	})
	n := len(rec.snapshot())
	if c.State() != xmppclient.StateOffline {
		t.Fatalf("state = %v, want offline (no more retries)", c.State())
	}
	// No further attempts: nothing new happens while we ping through the other client.
	if err := other.Ping(ctx, xmppclient.JID{}); err != nil {
		t.Fatal(err)
	}
	if got := len(rec.snapshot()); got != n {
		t.Errorf("the client kept retrying after the authentication failure (%d new events)", got-n)
	}
}

func TestFreshSessionReportsUnackedMessagesWithoutResending(t *testing.T) {
	srv := xmpptest.NewProsody(t, xmpptest.ProsodyOptions{})
	user, pass := srv.NewUser(t, "unacked")
	cfg, proxy := proxiedConfig(t, srv, user, pass)
	cfg.AckInterval = time.Hour // no ack requests: the messages stay unacked
	cfg.AckEvery = 1000
	c, rec := connect(t, cfg)
	proxy.Pause() // what the client writes now never reaches the server
	ids := []string{"u1", "u2", "u3"}
	for _, id := range ids {
		if _, err := c.SendMessage(xmppclient.OutgoingMessage{To: xmppclient.MustParseJID("nobody@localhost"), ID: id, Body: id}); err != nil {
			t.Fatal(err)
		}
	}
	// The server forgets the session (crash), so the next one is fresh.
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	proxy.Resume()
	proxy.KillAll()
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	var got xmppclient.SessionEvent
	rec.waitFor(t, 20*time.Second, "a fresh session", func(evs []xmppclient.Event) bool {
		n := 0
		for _, e := range evs {
			if s, ok := e.(xmppclient.SessionEvent); ok {
				n++
				if n == 2 {
					got = s
					return true
				}
			}
		}
		return false
	})
	if got.Resumed || strings.Join(got.Unacked, ",") != "u1,u2,u3" || len(got.Resent) != 0 {
		t.Fatalf("fresh session = %+v, want Unacked u1,u2,u3 and nothing resent", got)
	}
	if n := c.Unacked(); n != 0 {
		t.Errorf("%d stanzas still queued in the engine after a fresh session", n)
	}
}

// ejabberd closes a stream whose unacknowledged stanzas pass max_ack_queue
// (policy-violation, "Too many unacked stanzas"): a burst the client cannot
// acknowledge as fast as the server writes it. That is a passing state,
// not a reason to stay offline: the client connects again.
func TestOnlineAgainAfterTooManyUnackedStanzas(t *testing.T) {
	srv := xmpptest.NewEjabberd(t, xmpptest.EjabberdOptions{MaxAckQueue: 10})
	user, pass := srv.NewUser(t, "unacked")
	peerUser, peerPass := srv.NewUser(t, "unackedpeer")
	cfg := clientConfig(t, srv, user, pass)
	cfg.ReconnectMax = 2 * time.Second
	c, rec := connect(t, cfg)
	peer, err := xmpptest.DialRaw(srv, peerUser, peerPass, "peer")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	if err := peer.SendMessages(c.JID().String(), 2000, "flood"); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, 60*time.Second, "the server to close the stream for too many unacked stanzas", func(evs []xmppclient.Event) bool {
		for _, ev := range evs {
			if se, ok := ev.(xmppclient.StateEvent); ok {
				var streamErr *xmppclient.StreamError
				if errors.As(se.Err, &streamErr) && streamErr.Condition == "policy-violation" {
					return true
				}
			}
		}
		return false
	})
	rec.waitFor(t, 30*time.Second, "a second session after it", func(evs []xmppclient.Event) bool {
		fresh, resumed := countSessions(evs)
		return fresh+resumed >= 2 && c.State() == xmppclient.StateOnline
	})
}
