// Tests of the conversation list's order: by the last message's time, newest
// first; starting a new chat puts it on top, opening an existing one leaves
// the list as it is.
package store

import (
	"slices"
	"testing"
	"time"
)

// listed returns the peers of the conversation list in order, and each
// one's LastActivity.
func listed(t *testing.T, s *Store) ([]string, map[string]time.Time) {
	t.Helper()
	list, err := s.Conversations(testCtx(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	peers := make([]string, len(list))
	at := map[string]time.Time{}
	for i, c := range list {
		peers[i] = c.Peer
		at[c.Peer] = c.LastActivity
	}
	return peers, at
}

func TestStartConversationKeepsOrder(t *testing.T) {
	ctx := testCtx(t)
	s := openTest(t, Options{})
	const (
		carol = "carol@example.com"
		dave  = "dave@example.com"
		eve   = "eve@example.com"
	)
	mustSave(t, s, in(alice, "a", 1))
	mustSave(t, s, out(bob, "b", 2))
	mustSave(t, s, in(carol, "c", 3))
	// start opens peer's chat; started says whether the list must change.
	start := func(peer string, at time.Duration, started bool) {
		t.Helper()
		got, _, err := s.StartConversation(ctx, peer, base.Add(at))
		if err != nil {
			t.Fatal(err)
		}
		if got != started {
			t.Errorf("opening %s: started = %v, want %v", peer, got, started)
		}
	}
	want := func(what string, peers ...string) map[string]time.Time {
		t.Helper()
		got, at := listed(t, s)
		if !slices.Equal(got, peers) {
			t.Fatalf("%s: list %v, want %v", what, got, peers)
		}
		return at
	}

	want("by the last messages", carol, bob, alice)
	// Opening old chats (the oldest, then the middle one) moves nothing.
	start(alice, time.Hour, false)
	start(bob, time.Hour+time.Second, false)
	at := want("after opening existing chats", carol, bob, alice)
	if !at[alice].Equal(base.Add(time.Second)) {
		t.Errorf("alice's activity %v, want her last message's time %v", at[alice], base.Add(time.Second))
	}

	// A chat the user starts, with no messages yet, goes on top; opening
	// it again later does not move it nor change its time.
	start(dave, 2*time.Hour, true)
	want("after starting a chat", dave, carol, bob, alice)
	start(dave, 3*time.Hour, false)
	if at := want("after opening the new chat again", dave, carol, bob, alice); !at[dave].Equal(base.Add(2 * time.Hour)) {
		t.Errorf("dave's start time %v moved to %v", base.Add(2*time.Hour), at[dave])
	}

	// A conversation that only holds an edit waiting for its message is
	// not listed; starting it is starting a chat.
	if r := mustSave(t, s, retraction(eve, In, "not-here-yet", 4)); r.Outcome != Pending {
		t.Fatalf("retraction of an unknown message: %v", r.Outcome)
	}
	want("with eve's pending retraction", dave, carol, bob, alice)
	start(eve, 4*time.Hour, true)
	want("after starting eve's chat", eve, dave, carol, bob, alice)

	// Messages place chats: a new one in an old chat moves it above
	// those with older messages, not above chats started later.
	mustSave(t, s, in(alice, "a2", 10))
	want("after a message from alice", eve, dave, alice, carol, bob)
	mustSave(t, s, out(bob, "b2", int(5*time.Hour/time.Second)))
	want("after a message to bob", bob, eve, dave, alice, carol)

	// A history from a version that raised a chat's activity when it was
	// opened: the list still follows the messages.
	err := s.do(ctx, func(t *wtx) error {
		_, err := t.tx.ExecContext(t.ctx, `UPDATE conversations SET last_activity = ? WHERE peer = ?`,
			base.Add(9*time.Hour).UnixMilli(), carol)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want("with carol's chat raised by an old version", bob, eve, dave, alice, carol)
}
