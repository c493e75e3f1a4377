// Tests of accepted conversations (requests.go): a conversation someone
// else started is not accepted until accepted, started or written in; the
// upgrade to schema version 10 accepts what existed before.
package store

import (
	"testing"
	"time"
)

// accepted reads whether peer's conversation is accepted.
func accepted(t *testing.T, s *Store, peer string) bool {
	t.Helper()
	c, found, err := s.Conversation(testCtx(t), peer)
	if err != nil || !found {
		t.Fatalf("Conversation(%s): found %v, %v", peer, found, err)
	}
	return c.Accepted
}

func TestConversationAcceptance(t *testing.T) {
	ctx := testCtx(t)
	s := openTest(t, Options{})
	const carol = "carol@example.com"
	mustSave(t, s, in(alice, "hi, buy my stuff", 1))
	mustSave(t, s, in(bob, "hello", 2))
	mustSave(t, s, in(carol, "hey", 3))
	for _, p := range []string{alice, bob, carol} {
		if accepted(t, s, p) {
			t.Errorf("%s's conversation, started by them, is accepted", p)
		}
	}
	// Writing accepts: a message we sent (here, or a carbon of another device's).
	mustSave(t, s, out(bob, "hi bob", 4))
	if !accepted(t, s, bob) {
		t.Error("a conversation we wrote in is not accepted")
	}
	// Starting a chat accepts it.
	const dave = "dave@example.com"
	if _, _, err := s.StartConversation(ctx, dave, base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !accepted(t, s, dave) {
		t.Error("a chat the user started is not accepted")
	}
	if accepted(t, s, carol) {
		t.Error("carol's conversation got accepted by another's")
	}
	changed, err := s.AcceptConversation(ctx, alice)
	if err != nil || !changed || !accepted(t, s, alice) {
		t.Errorf("AcceptConversation: changed %v, %v; accepted %v", changed, err, accepted(t, s, alice))
	}
	if changed, err := s.AcceptConversation(ctx, alice); err != nil || changed {
		t.Errorf("accepting again: changed %v, %v; want no change", changed, err)
	}
}

func TestMigrateToVersion10AcceptsExisting(t *testing.T) {
	path := oldDatabase(t, 9,
		`INSERT INTO conversations(id, peer, last_activity) VALUES (1, 'alice@example.org', 0)`,
		`INSERT INTO messages(id, conversation_id, direction, sender, body, ts, message_id, state)
			VALUES (?1 << 20, 1, 0, 'alice@example.org/x', 'from before', ?1, 'm1', 0)`,
		`UPDATE conversations SET last_message_id = ?1 << 20, last_ts = ?1, last_activity = ?1`)
	s := openAt(t, path, Options{})
	if !accepted(t, s, alice) {
		t.Error("a conversation from before version 10 is not accepted: the upgrade would hide it")
	}
	mustSave(t, s, in(bob, "new stranger", 5))
	if accepted(t, s, bob) {
		t.Error("a new conversation from a stranger is accepted")
	}
}
