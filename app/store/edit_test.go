// Tests of corrections (XEP-0308) and retractions (XEP-0424): the body and
// the original are kept right, only the sender can change a message, the
// search index follows, and an edit arriving before its message waits for it.
package store

import (
	"testing"
	"time"
)

// correction is peer's (dir's) correction of the message with id target.
func correction(peer string, dir Direction, target, body string, sec int) Message {
	return Message{Conversation: peer, Direction: dir, ReplaceID: target, Body: body,
		Time: base.Add(time.Duration(sec) * time.Second)}
}

func retraction(peer string, dir Direction, target string, sec int) Message {
	return Message{Conversation: peer, Direction: dir, RetractID: target,
		Time: base.Add(time.Duration(sec) * time.Second)}
}

func searchIDs(t *testing.T, s *Store, q Query) []int64 {
	t.Helper()
	res, err := s.Search(testCtx(t), q)
	if err != nil {
		t.Fatalf("Search(%q): %v", q.Text, err)
	}
	ids := make([]int64, len(res))
	for i, r := range res {
		ids[i] = r.ID
	}
	return ids
}

func TestCorrection(t *testing.T) {
	s := openTest(t, Options{})
	m := in(alice, "lets meet at the bakery", 1)
	m.OriginID, m.MessageID = "o-1", "id-1"
	id := mustSave(t, s, m).ID

	// XEP-0308 names the message by its id attribute; origin-id works too.
	if r := mustSave(t, s, correction(alice, In, "id-1", "lets meet at the library", 2)); r.Outcome != Corrected || r.ID != id {
		t.Fatalf("correction: %+v", r)
	}
	got := mustGet(t, s, id)
	if got.Body != "lets meet at the library" || !got.Edited || got.OriginalBody != "lets meet at the bakery" {
		t.Fatalf("after correction: %+v", got)
	}
	if !got.EditedAt.Equal(base.Add(2 * time.Second)) {
		t.Errorf("EditedAt = %v", got.EditedAt)
	}
	// A second correction replaces the body again; the original stays the first.
	mustSave(t, s, correction(alice, In, "o-1", "lets meet at the station", 3))
	got = mustGet(t, s, id)
	if got.Body != "lets meet at the station" || got.OriginalBody != "lets meet at the bakery" {
		t.Fatalf("after the second correction: %q (original %q)", got.Body, got.OriginalBody)
	}
	// The archive replays the first correction later: older than the one
	// applied, so ignored.
	if r := mustSave(t, s, correction(alice, In, "id-1", "lets meet at the library", 2)); r.Outcome != Ignored {
		t.Fatalf("replayed older correction: %v", r.Outcome)
	}
	if got := mustGet(t, s, id); got.Body != "lets meet at the station" {
		t.Fatalf("an older correction won: %q", got.Body)
	}
	// Only one message; the search index follows the body.
	if n := count(t, s, `SELECT count(*) FROM messages`); n != 1 {
		t.Fatalf("%d rows: a correction must not be stored as a message", n)
	}
	for text, want := range map[string]int{"station": 1, "bakery ": 0, "library ": 0, "meet": 1} {
		if ids := searchIDs(t, s, Query{Text: text}); len(ids) != want {
			t.Errorf("Search(%q) found %d, want %d", text, len(ids), want)
		}
	}
	// The conversation preview shows the corrected text.
	c, _, _ := s.Conversation(testCtx(t), alice)
	if c.Last == nil || c.Last.Body != "lets meet at the station" || !c.Last.Edited {
		t.Fatalf("preview after correction: %+v", c.Last)
	}
}

func TestCorrectionOnlyBySender(t *testing.T) {
	s := openTest(t, Options{})
	m := out(alice, "my words", 1)
	m.OriginID = "o-mine"
	id := mustSave(t, s, m).ID
	// The peer "corrects" my message: it is not theirs, so it cannot match.
	if r := mustSave(t, s, correction(alice, In, "o-mine", "words put in my mouth", 2)); r.Outcome != Pending {
		t.Fatalf("peer correcting my message: %v, want pending (no message of theirs has that id)", r.Outcome)
	}
	if r := mustSave(t, s, retraction(alice, In, "o-mine", 3)); r.Outcome != Pending {
		t.Fatalf("peer retracting my message: %v", r.Outcome)
	}
	if got := mustGet(t, s, id); got.Body != "my words" || got.Edited || got.Retracted {
		t.Fatalf("my message changed by the peer: %+v", got)
	}
	// Another conversation's message with the same id is not touched either.
	other := in(bob, "bob's", 1)
	other.OriginID = "o-b"
	bid := mustSave(t, s, other).ID
	mustSave(t, s, correction(alice, In, "o-b", "hijacked", 4))
	if got := mustGet(t, s, bid); got.Body != "bob's" {
		t.Fatalf("correction crossed conversations: %q", got.Body)
	}
	// My own correction of my message works.
	if r := mustSave(t, s, correction(alice, Out, "o-mine", "my better words", 5)); r.Outcome != Corrected {
		t.Fatalf("own correction: %v", r.Outcome)
	}
}

func TestRetraction(t *testing.T) {
	ctx := testCtx(t)
	s := openTest(t, Options{})
	m := in(alice, "oops wrong chat pineapple", 1)
	m.OriginID = "o-r"
	id := mustSave(t, s, m).ID
	mustSave(t, s, in(alice, "next message", 2))
	mustSave(t, s, correction(alice, In, "o-r", "oops wrong chat pineapples", 3))
	if c, _, _ := s.Conversation(ctx, alice); c.Unread != 2 {
		t.Fatalf("unread %d, want 2", c.Unread)
	}

	if r := mustSave(t, s, retraction(alice, In, "o-r", 4)); r.Outcome != Retracted || r.ID != id {
		t.Fatalf("retraction: %+v", r)
	}
	got := mustGet(t, s, id)
	if !got.Retracted || got.Body != "" || got.OriginalBody != "" {
		t.Fatalf("after retraction: %+v (body and original must be gone)", got)
	}
	if ids := searchIDs(t, s, Query{Text: "pineapple"}); len(ids) != 0 {
		t.Fatalf("retracted text still found: %v", ids)
	}
	if n := count(t, s, `SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'pineapple*'`); n != 0 {
		t.Fatalf("the FTS index still holds the retracted text (%d)", n)
	}
	// A retracted unread message no longer counts as unread.
	if c, _, _ := s.Conversation(ctx, alice); c.Unread != 1 {
		t.Fatalf("unread %d after retraction, want 1", c.Unread)
	}
	// It cannot be corrected back to life, and copies of it do not restore it.
	if r := mustSave(t, s, correction(alice, In, "o-r", "I'm back", 5)); r.Outcome != Ignored {
		t.Fatalf("correction after retraction: %v", r.Outcome)
	}
	copyFromArchive := m
	copyFromArchive.StanzaID = "a-r"
	if r := mustSave(t, s, copyFromArchive); r.Outcome != Duplicate {
		t.Fatalf("archive copy of a retracted message: %v", r.Outcome)
	}
	if got := mustGet(t, s, id); !got.Retracted || got.Body != "" {
		t.Fatalf("retracted message came back: %+v", got)
	}
	if r := mustSave(t, s, retraction(alice, In, "o-r", 6)); r.Outcome != Ignored {
		t.Fatalf("second retraction: %v", r.Outcome)
	}
	// MarkRead's recount agrees with the incremental count.
	if n, err := s.MarkRead(ctx, alice, id); err != nil || n != 1 {
		t.Fatalf("MarkRead = %d, %v; want 1 left", n, err)
	}
}

func TestEditBeforeMessage(t *testing.T) {
	ctx := testCtx(t)
	s := openTest(t, Options{})
	// Live: a correction and a retraction whose messages we have not seen
	// (they are in a gap that is filled later from the archive).
	if r := mustSave(t, s, correction(alice, In, "o-early", "corrected text", 10)); r.Outcome != Pending {
		t.Fatalf("correction of an unknown message: %v", r.Outcome)
	}
	if r := mustSave(t, s, retraction(alice, In, "o-gone", 11)); r.Outcome != Pending {
		t.Fatalf("retraction of an unknown message: %v", r.Outcome)
	}
	// Edits alone do not put a conversation in the list.
	if list, err := s.Conversations(ctx, 0); err != nil || len(list) != 0 {
		t.Fatalf("conversations with only pending edits: %+v, %v", list, err)
	}
	// The gap is filled.
	a := in(alice, "first text", 1)
	a.OriginID, a.StanzaID = "o-early", "a-1"
	b := in(alice, "regrettable text", 2)
	b.OriginID, b.StanzaID = "o-gone", "a-2"
	res, err := s.SaveBatch(ctx, []Message{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, res[0].ID); got.Body != "corrected text" || got.OriginalBody != "first text" {
		t.Fatalf("pending correction not applied: %+v", got)
	}
	if got := mustGet(t, s, res[1].ID); !got.Retracted || got.Body != "" {
		t.Fatalf("pending retraction not applied: %+v", got)
	}
	if ids := searchIDs(t, s, Query{Text: "regrettable"}); len(ids) != 0 {
		t.Fatal("retracted text found")
	}
	if n := count(t, s, `SELECT count(*) FROM pending_edits`); n != 0 {
		t.Fatalf("%d pending edits left", n)
	}
	if c, _, _ := s.Conversation(ctx, alice); c.Unread != 1 {
		t.Fatalf("unread %d, want 1 (the retracted one does not count)", c.Unread)
	}
}

func TestPendingEditsSurviveReopen(t *testing.T) {
	s := openTest(t, Options{})
	path := s.Path()
	mustSave(t, s, retraction(alice, In, "o-later", 5))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, path, Options{})
	m := in(alice, "should be retracted", 1)
	m.OriginID = "o-later"
	if got := mustGet(t, s, mustSave(t, s, m).ID); !got.Retracted {
		t.Fatalf("pending retraction lost over a restart: %+v", got)
	}
}
