// Tests of chained corrections (XEP-0308 as older Gajim and Psi send them:
// a correction naming the previous correction's id) and of the archive id
// (XEP-0359 stanza-id) matching copies within one conversation only.
package store

import (
	"path/filepath"
	"testing"
)

// withIDs gives m an origin-id and an id attribute.
func withIDs(m Message, origin, id string) Message {
	m.OriginID, m.MessageID = origin, id
	return m
}

// TestChainedCorrection: v1, c1 (replaces m1) v2, c2 (replaces c1) v3,
// c3 (replaces c2, by its origin-id) v4: the message shows v4; a retraction
// naming a correction retracts the message.
func TestChainedCorrection(t *testing.T) {
	s := openTest(t, Options{})
	id := mustSave(t, s, withIDs(in(alice, "v1", 1), "", "m1")).ID
	steps := []struct {
		edit Message
		want string
	}{
		{withIDs(correction(alice, In, "m1", "v2", 2), "", "c1"), "v2"},
		{withIDs(correction(alice, In, "c1", "v3", 3), "", "c2"), "v3"},
		{withIDs(correction(alice, In, "oc2", "v4", 4), "oc3", "c3"), "v4"},
	}
	steps[1].edit.OriginID = "oc2"
	for _, st := range steps {
		r := mustSave(t, s, st.edit)
		if r.Outcome != Corrected || r.ID != id {
			t.Fatalf("correction %s of %s: %+v; want message %d corrected", st.edit.MessageID, st.edit.ReplaceID, r, id)
		}
		if got := mustGet(t, s, id); got.Body != st.want || got.OriginalBody != "v1" {
			t.Fatalf("after %s: %q (original %q), want %q (v1)", st.edit.MessageID, got.Body, got.OriginalBody, st.want)
		}
	}
	if n := count(t, s, `SELECT count(*) FROM messages`); n != 1 {
		t.Fatalf("%d rows: corrections must not be stored as messages", n)
	}
	if n := pendingCount(t, s); n != 0 {
		t.Fatalf("%d pending edits, want none", n)
	}
	// The archive replays c1 later: older than the last applied, ignored.
	if r := mustSave(t, s, withIDs(correction(alice, In, "m1", "v2", 2), "", "c1")); r.Outcome != Ignored {
		t.Fatalf("replayed c1: %v, want ignored", r.Outcome)
	}
	// A retraction naming the second correction.
	if r := mustSave(t, s, withIDs(retraction(alice, In, "c2", 5), "", "r1")); r.Outcome != Retracted || r.ID != id {
		t.Fatalf("retraction of c2: %+v; want message %d retracted", r, id)
	}
	if got := mustGet(t, s, id); !got.Retracted || got.Body != "" {
		t.Fatalf("after the retraction: %+v", got)
	}
}

// TestChainedCorrectionOnlyBySender: a correction's id names the message
// for its sender only: the peer cannot change our message by naming our
// correction, nor can another conversation.
func TestChainedCorrectionOnlyBySender(t *testing.T) {
	s := openTest(t, Options{})
	mine := mustSave(t, s, withIDs(out(alice, "mine", 1), "o1", "o1")).ID
	mustSave(t, s, withIDs(correction(alice, Out, "o1", "mine, corrected", 2), "oc1", "oc1"))
	theirs := mustSave(t, s, withIDs(in(bob, "bob's", 3), "", "b1")).ID
	mustSave(t, s, withIDs(correction(bob, In, "b1", "bob's, corrected", 4), "", "bc1"))

	for _, e := range []Message{
		correction(alice, In, "oc1", "alice names our correction", 5),
		retraction(alice, In, "oc1", 6),
		correction(alice, In, "bc1", "alice names bob's correction", 7),
		correction(bob, In, "oc1", "bob names our correction", 8),
	} {
		if r := mustSave(t, s, e); r.Outcome != Pending {
			t.Errorf("%s's edit of %s%s: %v, want pending (no message of theirs)", e.Conversation, e.ReplaceID, e.RetractID, r.Outcome)
		}
	}
	if got := mustGet(t, s, mine); got.Body != "mine, corrected" || got.Retracted {
		t.Errorf("our message: %+v", got)
	}
	if got := mustGet(t, s, theirs); got.Body != "bob's, corrected" {
		t.Errorf("bob's message: %+v", got)
	}
}

// TestChainedCorrectionBackwards: the archive is read newest first, so a
// chain can arrive backwards: c2 (of c1), then c1 (of m1), then m1. Each
// waits; the message shows the last text.
func TestChainedCorrectionBackwards(t *testing.T) {
	for _, order := range [][]string{{"c2", "c1", "m1"}, {"c2", "m1", "c1"}, {"m1", "c2", "c1"}, {"c1", "c2", "m1"}} {
		t.Run(order[0]+order[1]+order[2], func(t *testing.T) {
			s := openTest(t, Options{})
			msgs := map[string]Message{
				"m1": withIDs(in(alice, "v1", 1), "", "m1"),
				"c1": withIDs(correction(alice, In, "m1", "v2", 2), "", "c1"),
				"c2": withIDs(correction(alice, In, "c1", "v3", 3), "", "c2"),
			}
			var id int64
			for _, k := range order {
				r := mustSave(t, s, msgs[k])
				if k == "m1" {
					id = r.ID
				}
			}
			if got := mustGet(t, s, id); got.Body != "v3" || got.OriginalBody != "v1" {
				t.Fatalf("message: %q (original %q), want v3 (v1)", got.Body, got.OriginalBody)
			}
			if n := pendingCount(t, s); n != 0 {
				t.Fatalf("%d pending edits left", n)
			}
			// The chain goes on from the last one.
			if r := mustSave(t, s, withIDs(correction(alice, In, "c2", "v4", 4), "", "c3")); r.Outcome != Corrected || r.ID != id {
				t.Fatalf("c3 of c2: %+v", r)
			}
		})
	}
}

// TestChainedCorrectionOfOwnQueuedEdit: our own correction made here (the
// outbox of edits) is an alias too: our other device correcting it, as
// seen in a carbon, changes the message.
func TestChainedCorrectionOfOwnQueuedEdit(t *testing.T) {
	ctx := testCtx(t)
	s := openTest(t, Options{})
	id := mustSave(t, s, withIDs(out(alice, "v1", 1), "o1", "o1")).ID
	if _, _, err := s.QueueEdit(ctx, Edit{ID: "e1", Conversation: alice, Target: "o1", Body: "v2", Time: base.Add(2e9)}); err != nil {
		t.Fatal(err)
	}
	carbon := withIDs(correction(alice, Out, "e1", "v3", 3), "e2", "e2")
	carbon.State = StateSent
	if r := mustSave(t, s, carbon); r.Outcome != Corrected || r.ID != id {
		t.Fatalf("the other device's correction of e1: %+v", r)
	}
	if got := mustGet(t, s, id); got.Body != "v3" {
		t.Fatalf("message: %q, want v3", got.Body)
	}
}

// TestChainedCorrectionFromVersion7: a database of version 7 with a
// pending edit (no ids of its own) migrates, and the edit still applies.
func TestChainedCorrectionFromVersion7(t *testing.T) {
	ctx := testCtx(t)
	path := filepath.Join(t.TempDir(), "v7.db")
	db := openRawTB(t, path)
	if err := migrate(ctx, db, migrations[:7]); err != nil {
		t.Fatalf("creating a version 7 database: %v", err)
	}
	for _, q := range []string{
		`INSERT INTO conversations(id, peer) VALUES (1, 'alice@example.org')`,
		`INSERT INTO pending_edits(id, conversation_id, direction, target, retract, body, ts, stored_at)
			VALUES (1, 1, 0, 'm1', 0, 'v2', 1, ?)`,
	} {
		if _, err := db.ExecContext(ctx, q, testNow().UnixMilli()); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s := openAt(t, path, Options{})
	if v := userVersion(t, s.rdb); v != SchemaVersion {
		t.Fatalf("user_version = %d after Open, want %d", v, SchemaVersion)
	}
	id := mustSave(t, s, withIDs(in(alice, "v1", 0), "", "m1")).ID
	if got := mustGet(t, s, id); got.Body != "v2" {
		t.Fatalf("the pending edit of version 7 did not apply: %q", got.Body)
	}
}

// TestStanzaIDMatchesInItsConversation: a message in another conversation
// that carries an archive id already stored (forged, or reused) is no copy:
// it is stored, without that id; a real copy in the first conversation
// still matches.
func TestStanzaIDMatchesInItsConversation(t *testing.T) {
	s := openTest(t, Options{})
	first := in(alice, "from alice", 1)
	first.StanzaID = "arch-1"
	r1 := mustSave(t, s, first)
	other := withIDs(in(bob, "from bob, same archive id", 2), "", "b1")
	other.StanzaID = "arch-1"
	r2 := mustSave(t, s, other)
	if r2.Outcome != Inserted || r2.ID == r1.ID {
		t.Fatalf("bob's message: %+v; want it stored as a message of its own", r2)
	}
	if got := mustGet(t, s, r2.ID); got.Body != other.Body || got.StanzaID != "" || got.Conversation != bob {
		t.Fatalf("bob's message stored as %+v; want its body, in bob's conversation, without the taken archive id", got)
	}
	if got := mustGet(t, s, r1.ID); got.Body != "from alice" || got.StanzaID != "arch-1" {
		t.Fatalf("alice's message became %+v", got)
	}
	// In one batch (one transaction, the insert buffer) as well.
	batch := []Message{withIDs(in(bob, "batch one", 3), "", "b2"), withIDs(in(alice, "batch two", 4), "", "a2")}
	batch[0].StanzaID, batch[1].StanzaID = "arch-2", "arch-2"
	res, err := s.SaveBatch(testCtx(t), batch)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Outcome != Inserted || res[1].Outcome != Inserted {
		t.Fatalf("batch outcomes %v %v, want both inserted", res[0].Outcome, res[1].Outcome)
	}
	// A copy of alice's first message from the archive is still one.
	copyOf := in(alice, "from alice", 1)
	copyOf.StanzaID = "arch-1"
	if r := mustSave(t, s, copyOf); r.Outcome != Duplicate || r.ID != r1.ID {
		t.Fatalf("the archive copy of alice's message: %+v", r)
	}
	if n := count(t, s, `SELECT count(*) FROM messages`); n != 4 {
		t.Fatalf("%d messages stored, want 4", n)
	}
}
