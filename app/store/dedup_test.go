// Tests that a message arriving more than once (live, as a carbon, from the
// archive) is stored once, that later copies fill in what the first lacked,
// and that the unique indexes hold even with several writers at once.
package store

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestDedupLiveCarbonArchive(t *testing.T) {
	ctx := testCtx(t)
	s := openTest(t, Options{})

	live := in(alice, "hi there", 10)
	live.OriginID, live.MessageID = "orig-1", "id-1"
	carbon := live // the same stanza, forwarded by the server to this resource too
	carbon.Sender = alice + "/laptop"
	archive := live
	archive.StanzaID = "arch-1"
	archive.Time = live.Time.Add(-2 * time.Second) // the archive's own timestamp

	r1 := mustSave(t, s, live)
	r2 := mustSave(t, s, carbon)
	r3 := mustSave(t, s, archive)
	if r1.Outcome != Inserted || r2.Outcome != Duplicate || r3.Outcome != Duplicate {
		t.Fatalf("outcomes %v %v %v, want inserted duplicate duplicate", r1.Outcome, r2.Outcome, r3.Outcome)
	}
	if r2.ID != r1.ID || r3.ID != r1.ID {
		t.Fatalf("ids %d %d %d, want one message", r1.ID, r2.ID, r3.ID)
	}
	if n := count(t, s, `SELECT count(*) FROM messages`); n != 1 {
		t.Fatalf("%d rows stored, want 1", n)
	}
	m := mustGet(t, s, r1.ID)
	if m.StanzaID != "arch-1" {
		t.Errorf("archive id not filled in from the archive copy: %q", m.StanzaID)
	}
	if m.Sender != live.Sender || !m.Time.Equal(live.Time) {
		t.Errorf("the first copy's sender and time should stay: %q %v", m.Sender, m.Time)
	}
	// A fourth copy, matched now by its archive id alone (no origin-id).
	again := Message{Conversation: alice, Direction: In, StanzaID: "arch-1", Body: "hi there", Time: base}
	if r := mustSave(t, s, again); r.Outcome != Duplicate || r.ID != r1.ID {
		t.Fatalf("copy with only the archive id: %+v", r)
	}
	c, _, err := s.Conversation(ctx, alice)
	if err != nil || c.Unread != 1 {
		t.Fatalf("unread = %d (%v): copies must not count twice", c.Unread, err)
	}
}

func TestDedupArchiveFirst(t *testing.T) {
	s := openTest(t, Options{})
	archive := in(alice, "from the archive", 5)
	archive.OriginID, archive.StanzaID = "o-5", "a-5"
	live := in(alice, "from the archive", 6)
	live.OriginID = "o-5"
	r1, r2 := mustSave(t, s, archive), mustSave(t, s, live)
	if r1.ID != r2.ID || r2.Outcome != Duplicate {
		t.Fatalf("%+v then %+v", r1, r2)
	}
}

func TestDedupScopedBySender(t *testing.T) {
	s := openTest(t, Options{})
	// The same origin-id from two senders is two messages: origin-ids are
	// unique per sender only. In one conversation: the peer and me.
	a := in(alice, "mine is o-1", 1)
	a.OriginID = "o-1"
	b := out(alice, "so is mine", 2)
	b.OriginID = "o-1"
	// And the same origin-id in another conversation.
	c := in(bob, "and mine", 3)
	c.OriginID = "o-1"
	for _, m := range []Message{a, b, c} {
		if r := mustSave(t, s, m); r.Outcome != Inserted {
			t.Fatalf("%q: %v, want inserted", m.Body, r.Outcome)
		}
	}
}

func TestDedupWithoutOriginID(t *testing.T) {
	s := openTest(t, Options{})
	// An old client: only the id attribute. The archive copy carries the
	// same id and body and the archive id.
	live := in(alice, "no origin-id here", 1)
	live.MessageID = "purple123"
	archive := live
	archive.StanzaID = "a-9"
	r1, r2 := mustSave(t, s, live), mustSave(t, s, archive)
	if r1.ID != r2.ID || r2.Outcome != Duplicate {
		t.Fatalf("%+v then %+v", r1, r2)
	}
	// Same id attribute, different text: a different message (ids from
	// such clients repeat).
	other := live
	other.Body = "another message, same id"
	if r := mustSave(t, s, other); r.Outcome != Inserted {
		t.Fatalf("different body with a reused id: %v", r.Outcome)
	}
	// Two archive entries with the same id and text but different archive
	// ids are two messages (the peer really sent it twice).
	twice := archive
	twice.StanzaID = "a-10"
	if r := mustSave(t, s, twice); r.Outcome != Inserted {
		t.Fatalf("second archive entry: %v", r.Outcome)
	}
}

func TestDedupOutgoingCopiesAdvanceState(t *testing.T) {
	ctx := testCtx(t)
	s := openTest(t, Options{})
	m := out(alice, "sent from here", 1)
	m.OriginID, m.MessageID = "o-out", "o-out"
	r := mustSave(t, s, m)
	// The ack was lost, but the message shows up in the archive: it is
	// on the server, so it leaves the outbox (and is not sent twice).
	arch := m
	arch.State, arch.StanzaID = StateNone, "a-out"
	if r2 := mustSave(t, s, arch); r2.ID != r.ID {
		t.Fatalf("archive copy stored apart: %+v", r2)
	}
	if got := mustGet(t, s, r.ID); got.State != StateSent || got.StanzaID != "a-out" {
		t.Fatalf("after the archive copy: state %v, stanza-id %q", got.State, got.StanzaID)
	}
	if ob, err := s.Outbox(ctx); err != nil || len(ob) != 0 {
		t.Fatalf("outbox = %v, %v", ob, err)
	}
	// A copy never takes the state back.
	if _, err := s.SetState(ctx, r.ID, StateRead, ""); err != nil {
		t.Fatal(err)
	}
	mustSave(t, s, arch)
	if got := mustGet(t, s, r.ID); got.State != StateRead {
		t.Fatalf("a late copy moved the state back to %v", got.State)
	}
}

func TestDedupUnderConcurrentWriters(t *testing.T) {
	// Two stores on one file (as two processes would be) and many
	// goroutines, all storing the same 200 messages: each is stored once.
	path := filepath.Join(t.TempDir(), "h.db")
	stores := []*Store{openAt(t, path, Options{}), openAt(t, path, Options{})}
	const n = 200
	msgs := make([]Message, n)
	for i := range msgs {
		msgs[i] = in(alice, fmt.Sprintf("message %d", i), i)
		msgs[i].OriginID = fmt.Sprintf("o-%d", i)
		if i%2 == 0 {
			msgs[i].StanzaID = fmt.Sprintf("a-%d", i)
		}
	}
	var wg sync.WaitGroup
	for g := range 8 {
		s := stores[g%2]
		wg.Go(func() {
			for i := range msgs {
				m := msgs[(i+g*25)%n]
				if g%3 == 0 {
					if err := s.Put(m); err != nil {
						t.Error(err)
					}
					continue
				}
				if _, err := s.Save(testCtx(t), m); err != nil {
					t.Errorf("Save: %v", err)
				}
			}
		})
	}
	wg.Wait()
	for _, s := range stores {
		if err := s.Flush(testCtx(t)); err != nil {
			t.Fatal(err)
		}
	}
	s := stores[0]
	if got := count(t, s, `SELECT count(*) FROM messages`); got != n {
		t.Fatalf("%d rows, want %d", got, n)
	}
	if got := count(t, s, `SELECT count(*) FROM messages WHERE stanza_id IS NOT NULL`); got != n/2 {
		t.Fatalf("%d rows with an archive id, want %d", got, n/2)
	}
	c, _, err := s.Conversation(testCtx(t), alice)
	if err != nil || c.Unread != n {
		t.Fatalf("unread %d (%v), want %d", c.Unread, err, n)
	}
}

func TestUniqueIndexesEnforced(t *testing.T) {
	s := openTest(t, Options{})
	m := in(alice, "x", 1)
	m.OriginID, m.StanzaID = "o", "a"
	mustSave(t, s, m)
	// Bypassing the store's lookups, the database itself refuses copies.
	for _, q := range []string{
		`INSERT INTO messages(id, conversation_id, direction, body, ts, stanza_id) VALUES (1, 1, 0, 'copy', 0, 'a')`,
		`INSERT INTO messages(id, conversation_id, direction, body, ts, origin_id) VALUES (2, 1, 0, 'copy', 0, 'o')`,
	} {
		if _, err := s.wdb.Exec(q); err == nil {
			t.Errorf("%s: accepted", q)
		}
	}
}
