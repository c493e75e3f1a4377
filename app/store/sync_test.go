// Tests of the archive sync state: the last archive id seen (forward only,
// kept over restarts, committed after the messages put before it) and the
// gaps to fill later.
package store

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestSyncPosition(t *testing.T) {
	ctx := testCtx(t)
	s := openTest(t, Options{MaxDelay: 50 * time.Millisecond})
	if p, found, err := s.SyncPosition(ctx, me); err != nil || found || p.Archive != me {
		t.Fatalf("before any sync: %+v, %v, %v", p, found, err)
	}
	// Messages of a catch-up page, then the page's last id: the position
	// is committed with or after the messages, never before.
	for i := range 50 {
		m := in(alice, "caught up", i)
		m.StanzaID = fmt.Sprint("arch-", i)
		mustPut(t, s, m)
	}
	p1 := SyncPosition{Archive: me, LastID: "arch-50", Time: base.Add(50 * time.Second)}
	if err := s.SetSyncPosition(ctx, p1); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, `SELECT count(*) FROM messages`); n != 50 {
		t.Fatalf("position saved with %d of the 50 messages before it committed", n)
	}
	got, found, err := s.SyncPosition(ctx, me)
	if err != nil || !found || got.LastID != "arch-50" || !got.Time.Equal(p1.Time) {
		t.Fatalf("SyncPosition = %+v, %v, %v", got, found, err)
	}
	// Filling an old gap does not move the position back.
	if err := s.SetSyncPosition(ctx, SyncPosition{Archive: me, LastID: "arch-3", Time: base.Add(3 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.SyncPosition(ctx, me); got.LastID != "arch-50" {
		t.Fatalf("position moved back to %s", got.LastID)
	}
	// Another archive has its own position.
	room := SyncPosition{Archive: "room@conference.example.org", LastID: "r1", Time: base}
	if err := s.SetSyncPosition(ctx, room); err != nil {
		t.Fatal(err)
	}
	path := s.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, path, Options{})
	if got, found, _ := s.SyncPosition(ctx, me); !found || got.LastID != "arch-50" {
		t.Fatalf("after reopen: %+v", got)
	}
	if got, _, _ := s.SyncPosition(ctx, room.Archive); got.LastID != "r1" {
		t.Fatalf("room position: %+v", got)
	}
}

func TestGaps(t *testing.T) {
	ctx := testCtx(t)
	s := openTest(t, Options{})
	at := func(h int) time.Time { return base.Add(time.Duration(h) * time.Hour) }
	whole, err := s.AddGap(ctx, Gap{Archive: me, AfterID: "a1", BeforeID: "a2", Start: at(1), End: at(5)})
	if err != nil {
		t.Fatal(err)
	}
	bobs, _ := s.AddGap(ctx, Gap{Archive: me, Conversation: bob, AfterID: "b1", BeforeID: "b2", Start: at(6), End: at(7)})
	alices, _ := s.AddGap(ctx, Gap{Archive: me, Conversation: alice, AfterID: "", BeforeID: "c2", Start: at(0), End: at(9)})
	ids := func(gs []Gap) []int64 {
		var out []int64
		for _, g := range gs {
			out = append(out, g.ID)
		}
		return out
	}
	all, err := s.Gaps(ctx, me, "")
	if err != nil || !slices.Equal(ids(all), []int64{alices, bobs, whole}) {
		t.Fatalf("Gaps(all) = %v, %v (newest end first)", ids(all), err)
	}
	if g, _ := s.Gaps(ctx, me, bob); !slices.Equal(ids(g), []int64{bobs, whole}) {
		t.Fatalf("Gaps(bob) = %v: want bob's and the archive-wide one", ids(g))
	}
	if all[2].AfterID != "a1" || all[2].BeforeID != "a2" || !all[2].Start.Equal(at(1)) || !all[2].End.Equal(at(5)) {
		t.Fatalf("gap fields: %+v", all[2])
	}
	// Partly filled: the gap shrinks; then filled: gone.
	g := all[2]
	g.BeforeID, g.End = "a1.5", at(3)
	if err := s.UpdateGap(ctx, g); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGap(ctx, bobs); err != nil {
		t.Fatal(err)
	}
	all, _ = s.Gaps(ctx, me, "")
	if !slices.Equal(ids(all), []int64{alices, whole}) || all[1].BeforeID != "a1.5" || !all[1].End.Equal(at(3)) {
		t.Fatalf("after update and delete: %+v", all)
	}
	if g, _ := s.Gaps(ctx, "other@example.org", ""); len(g) != 0 {
		t.Fatalf("another archive's gaps: %v", g)
	}
}

func TestGapFilledOneConversationAtATime(t *testing.T) {
	ctx := testCtx(t)
	s := openTest(t, Options{})
	at := func(h int) time.Time { return base.Add(time.Duration(h) * time.Hour) }
	// A catch-up read the newest page and left the rest: the position and
	// the gap are recorded together.
	id, err := s.AdvanceSync(ctx, SyncPosition{Archive: me, LastID: "new", Time: at(9)},
		&Gap{Archive: me, AfterID: "old", Start: at(1), BeforeID: "first-read", End: at(8)})
	if err != nil || id == 0 {
		t.Fatalf("AdvanceSync = %d, %v", id, err)
	}
	if p, _, _ := s.SyncPosition(ctx, me); p.LastID != "new" {
		t.Fatalf("position %+v", p)
	}
	whole, err := s.Gaps(ctx, me, bob)
	if err != nil || len(whole) != 1 || whole[0].ID != id || !whole[0].Bounded() {
		t.Fatalf("bob's gaps: %+v, %v", whole, err)
	}
	// Bob's part is fetched back to b5: bob now has his own part, alice
	// still sees the whole gap.
	part, err := s.NarrowGap(ctx, whole[0], bob, "b5", at(5), false)
	if err != nil || part.Parent != id || part.Conversation != bob || part.AfterID != "old" {
		t.Fatalf("NarrowGap = %+v, %v", part, err)
	}
	got, _ := s.Gaps(ctx, me, bob)
	if len(got) != 1 || got[0].ID != part.ID || got[0].BeforeID != "b5" || !got[0].End.Equal(at(5)) || !got[0].Start.Equal(at(1)) {
		t.Fatalf("bob's gaps after a partial fill: %+v", got)
	}
	if got, _ := s.Gaps(ctx, me, alice); len(got) != 1 || got[0].ID != id {
		t.Fatalf("alice's gaps: %+v", got)
	}
	// Bob's part done: no gap for bob; alice's whole gap is done in one
	// step (her part is recorded filled at once).
	if _, err := s.NarrowGap(ctx, got[0], bob, "", time.Time{}, true); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Gaps(ctx, me, bob); len(got) != 0 {
		t.Fatalf("bob's gaps after the fill: %+v", got)
	}
	if _, err := s.NarrowGap(ctx, whole[0], alice, "", time.Time{}, true); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Gaps(ctx, me, alice); len(got) != 0 {
		t.Fatalf("alice's gaps after the fill: %+v", got)
	}
	// Carol never scrolled: she still has the whole gap, until the
	// catch-up fills it; that removes the parts with it.
	if got, _ := s.Gaps(ctx, me, "carol@example.org"); len(got) != 1 {
		t.Fatalf("carol's gaps: %+v", got)
	}
	if err := s.DeleteGap(ctx, id); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, `SELECT count(*) FROM sync_gaps`); n != 0 {
		t.Fatalf("%d gap rows left after the whole gap was filled", n)
	}
	// An open-ended gap (from a time up to now) keeps its zero end.
	open, _ := s.AddGap(ctx, Gap{Archive: me, Start: at(2)})
	if got, _ := s.Gaps(ctx, me, ""); len(got) != 1 || got[0].ID != open || !got[0].End.IsZero() || got[0].BeforeID != "" {
		t.Fatalf("open gap: %+v", got)
	}
}
