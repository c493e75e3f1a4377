// Tests of reading history: keyset pages in a stable order (also with equal
// timestamps and with older messages arriving late), and the conversation
// list with previews, unread counts, read markers and drafts.
package store

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestPagingOrderWithEqualTimestamps(t *testing.T) {
	ctx := testCtx(t)
	s := openTest(t, Options{})
	// 95 messages, five at each second (the same millisecond), stored
	// out of order: the later seconds first (as when the archive fills in
	// history before), within a second reversed every other second, in
	// batches of 37, mixed with another conversation's messages.
	name := func(i int) string { return fmt.Sprintf("m%02d", i) }
	var stored []int
	for _, sec := range append(seq(10, 19), seq(0, 10)...) {
		idx := seq(sec*5, sec*5+5)
		if sec%2 == 0 {
			slices.Reverse(idx)
		}
		stored = append(stored, idx...)
	}
	var batch []Message
	for _, i := range stored {
		m := in(alice, name(i), i/5)
		m.OriginID = name(i)
		batch = append(batch, m, in(bob, "noise "+name(i), i/5))
	}
	for len(batch) > 0 {
		n := min(len(batch), 37)
		if _, err := s.SaveBatch(ctx, batch[:n]); err != nil {
			t.Fatal(err)
		}
		batch = batch[n:]
	}
	// The order: by time, and within one millisecond by arrival.
	var order []string
	for sec := range 19 {
		for _, i := range stored {
			if i/5 == sec {
				order = append(order, name(i))
			}
		}
	}
	if order[0] != "m04" || order[5] != "m05" {
		t.Fatalf("test setup: order starts %v", order[:6])
	}

	latest, err := s.Latest(ctx, alice, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got := bodies(latest); !slices.Equal(got, order[85:]) {
		t.Fatalf("Latest = %v, want %v", got, order[85:])
	}
	// Scroll up to the beginning in pages of 10: every message once, in order.
	all := latest
	for page := latest; len(page) > 0; {
		page, err = s.Before(ctx, alice, page[0].Cursor(), 10)
		if err != nil {
			t.Fatal(err)
		}
		all = append(slices.Clone(page), all...)
	}
	if got := bodies(all); !slices.Equal(got, order) {
		t.Fatalf("paging up gave\n%v\nwant\n%v", got, order)
	}
	// Cursors strictly increase.
	for i := 1; i < len(all); i++ {
		if !all[i-1].Cursor().Less(all[i].Cursor()) {
			t.Fatalf("cursor %v not before %v", all[i-1].Cursor(), all[i].Cursor())
		}
	}
	// And down again from the first.
	down := all[:1]
	for page := down; len(page) > 0; {
		page, err = s.After(ctx, alice, page[len(page)-1].Cursor(), 7)
		if err != nil {
			t.Fatal(err)
		}
		down = append(down, page...)
	}
	if got := bodies(down); !slices.Equal(got, order) {
		t.Fatalf("paging down gave %v", got)
	}
	// A message arriving late from the archive lands at its time.
	late := in(alice, "late", 3)
	late.OriginID = "late"
	mustSave(t, s, late)
	page, _ := s.Latest(ctx, alice, 200)
	if got := bodies(page); got[20] != "late" || len(got) != 96 {
		t.Fatalf("late message at %d of %d", slices.Index(got, "late"), len(got))
	}
	// The preview is still the newest message, not the last stored.
	c, _, _ := s.Conversation(ctx, alice)
	if c.Last == nil || c.Last.Body != order[94] {
		t.Fatalf("preview %+v, want %s", c.Last, order[94])
	}
	if empty, err := s.Latest(ctx, "nobody@example.org", 10); err != nil || len(empty) != 0 {
		t.Fatalf("Latest of an unknown conversation = %v, %v", empty, err)
	}
}

func seq(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func TestConversationList(t *testing.T) {
	ctx := testCtx(t)
	s := openTest(t, Options{})
	mustSave(t, s, in(alice, "a1", 1))
	mustSave(t, s, in(bob, "b1", 2))
	mustSave(t, s, out(alice, "a2", 3))
	mustSave(t, s, in(bob, "b2 from the archive, older", 0))
	carol := "carol@example.com"
	mustSave(t, s, in(carol, "c1", 4))

	list, err := s.Conversations(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var peers, previews []string
	for _, c := range list {
		peers = append(peers, c.Peer)
		previews = append(previews, c.Last.Body)
	}
	if !slices.Equal(peers, []string{carol, alice, bob}) {
		t.Fatalf("order %v, want newest first", peers)
	}
	if !slices.Equal(previews, []string{"c1", "a2", "b1"}) {
		t.Fatalf("previews %v", previews)
	}
	if list[1].Last.Direction != Out || list[1].Last.State != StateQueued {
		t.Fatalf("alice's preview: %+v", list[1].Last)
	}
	if list[0].Unread != 1 || list[1].Unread != 1 || list[2].Unread != 2 {
		t.Fatalf("unread %d %d %d, want 1 1 2", list[0].Unread, list[1].Unread, list[2].Unread)
	}
	if n, err := s.UnreadTotal(ctx); err != nil || n != 4 {
		t.Fatalf("UnreadTotal = %d, %v", n, err)
	}
	if top, _ := s.Conversations(ctx, 2); len(top) != 2 {
		t.Fatalf("limit 2 gave %d", len(top))
	}
	// Starting a new chat puts it on top; one without messages has no
	// preview. Opening an existing one does not move it (see
	// TestStartConversationKeepsOrder).
	dave := "dave@example.com"
	if _, _, err := s.StartConversation(ctx, dave, base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.StartConversation(ctx, bob, base.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	list, _ = s.Conversations(ctx, 0)
	if list[0].Peer != dave || list[0].Last != nil || list[len(list)-1].Peer != bob {
		t.Fatalf("after starting chats: %s %+v ... %s", list[0].Peer, list[0].Last, list[len(list)-1].Peer)
	}
	// Deleting a conversation deletes its messages.
	if err := s.DeleteConversation(ctx, bob); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, `SELECT count(*) FROM messages WHERE body LIKE 'b%'`); n != 0 {
		t.Fatalf("%d messages of a deleted conversation left", n)
	}
	if ids := searchIDs(t, s, Query{Text: "archive"}); len(ids) != 0 {
		t.Fatal("a deleted message is still found")
	}
	// And it can start over.
	if r := mustSave(t, s, in(bob, "b3", 10)); r.Outcome != Inserted {
		t.Fatal(r)
	}
}

func TestUnreadAndMarkRead(t *testing.T) {
	ctx := testCtx(t)
	s := openTest(t, Options{})
	var ids []int64
	for i := range 5 {
		ids = append(ids, mustSave(t, s, in(alice, fmt.Sprint("m", i), i)).ID)
	}
	mustSave(t, s, out(alice, "my reply", 5)) // mine: never unread
	ids = append(ids, mustSave(t, s, in(alice, "m5", 6)).ID)
	unread := func() int {
		c, _, err := s.Conversation(ctx, alice)
		if err != nil {
			t.Fatal(err)
		}
		return c.Unread
	}
	if n := unread(); n != 6 {
		t.Fatalf("unread %d, want 6", n)
	}
	if n, err := s.MarkRead(ctx, alice, ids[2]); err != nil || n != 3 {
		t.Fatalf("MarkRead(m2) = %d, %v; want 3", n, err)
	}
	if n := unread(); n != 3 {
		t.Fatalf("unread %d after MarkRead, want 3", n)
	}
	// The marker does not go back.
	if n, err := s.MarkRead(ctx, alice, ids[0]); err != nil || n != 3 {
		t.Fatalf("MarkRead(m0) = %d, %v; want 3 (marker kept)", n, err)
	}
	// Messages older than the marker (archive) do not count; newer do.
	mustSave(t, s, in(alice, "old from archive", 0))
	mustSave(t, s, in(alice, "new", 10))
	if n := unread(); n != 4 {
		t.Fatalf("unread %d, want 4", n)
	}
	c, _, _ := s.Conversation(ctx, alice)
	if c.LastRead.ID != ids[2] {
		t.Fatalf("LastRead %v, want message %d", c.LastRead, ids[2])
	}
	// 0: up to the newest.
	if n, err := s.MarkRead(ctx, alice, 0); err != nil || n != 0 {
		t.Fatalf("MarkRead(0) = %d, %v", n, err)
	}
	if n, _ := s.UnreadTotal(ctx); n != 0 {
		t.Fatalf("UnreadTotal %d", n)
	}
	// A message of another conversation is not a marker here.
	bid := mustSave(t, s, in(bob, "b", 1)).ID
	if _, err := s.MarkRead(ctx, alice, bid); err == nil {
		t.Fatal("MarkRead with another conversation's message succeeded")
	}
	// An unknown conversation has nothing to mark.
	if n, err := s.MarkRead(ctx, "nobody@example.org", 0); err != nil || n != 0 {
		t.Fatalf("MarkRead(unknown) = %d, %v", n, err)
	}
}

func TestDrafts(t *testing.T) {
	ctx := testCtx(t)
	s := openTest(t, Options{})
	if d, err := s.Draft(ctx, alice); err != nil || d != "" {
		t.Fatalf("Draft of a new chat = %q, %v", d, err)
	}
	text := "half a thought,\nsecond line ✍️"
	if err := s.SetDraft(ctx, alice, text); err != nil {
		t.Fatal(err)
	}
	if d, err := s.Draft(ctx, alice); err != nil || d != text {
		t.Fatalf("Draft = %q, %v", d, err)
	}
	mustSave(t, s, in(alice, "meanwhile", 1))
	c, _, _ := s.Conversation(ctx, alice)
	if c.Draft != text {
		t.Fatalf("conversation draft %q", c.Draft)
	}
	if err := s.SetDraft(ctx, alice, ""); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Draft(ctx, alice); d != "" {
		t.Fatalf("cleared draft = %q", d)
	}
}
