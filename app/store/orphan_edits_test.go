// Tests of corrections whose message never came (orphan_edits.go): shown
// as messages of their own, marked edited, searchable, once they waited;
// never before; not a second time when the original comes after all;
// later edits naming the original change the shown message; retractions
// stay pending; and edits applied when their message arrives are
// reported through OnResolved (what a receipt waits for).
package store

import (
	"sync"
	"testing"
	"time"
)

func TestPendingCorrectionShownAlone(t *testing.T) {
	ctx := testCtx(t)
	now := testNow()
	s := openTest(t, clockAt(&now))
	c1 := withIDs(correction(alice, In, "m1", "the corrected text", 5), "", "c1")
	if r := mustSave(t, s, c1); r.Outcome != Pending {
		t.Fatalf("correction of an unknown message: %v, want Pending", r.Outcome)
	}
	if r := mustSave(t, s, withIDs(retraction(alice, In, "m9", 6), "", "r9")); r.Outcome != Pending {
		t.Fatalf("retraction of an unknown message: %v, want Pending", r.Outcome)
	}
	// Not yet: it has not waited since the cutoff.
	shown, waiting, err := s.ShowPendingCorrections(ctx, now.Add(-time.Second))
	if err != nil || len(shown) != 0 || waiting != 1 {
		t.Fatalf("ShowPendingCorrections before the wait: %+v, %d waiting, %v; want nothing shown, 1 waiting", shown, waiting, err)
	}
	now = now.Add(time.Minute)
	shown, waiting, err = s.ShowPendingCorrections(ctx, now.Add(-30*time.Second))
	if err != nil || len(shown) != 1 || waiting != 0 {
		t.Fatalf("ShowPendingCorrections: %+v, %d waiting, %v; want the correction, none waiting", shown, waiting, err)
	}
	if r := shown[0]; r.Outcome != Inserted || r.Conversation != alice || r.MessageID != "c1" || r.Direction != In {
		t.Errorf("shown as %+v; want Inserted in alice's conversation, named c1", r)
	}
	m := mustGet(t, s, shown[0].ID)
	if m.Body != "the corrected text" || !m.Edited || m.OriginalBody != "" || !m.Time.Equal(c1.Time) {
		t.Errorf("shown message %+v; want the correction's text at its time, marked edited", m)
	}
	if ids := searchIDs(t, s, Query{Text: "corrected"}); len(ids) != 1 || ids[0] != m.ID {
		t.Errorf("search finds %v, want the shown correction %d", ids, m.ID)
	}
	if n := pendingCount(t, s); n != 1 {
		t.Errorf("%d pending edits left, want the retraction only", n)
	}
	if convs, err := s.Conversations(ctx, 0); err != nil || len(convs) != 1 || convs[0].Unread != 1 {
		t.Errorf("conversations %+v, %v; want alice's with one unread", convs, err)
	}

	// The original comes after all (an archive gap filled later): it is
	// the shown message, not one more.
	orig := mustSave(t, s, withIDs(in(alice, "the typo text", 1), "", "m1"))
	if orig.Outcome != Duplicate || orig.ID != m.ID {
		t.Errorf("the late original: %+v, want a Duplicate of %d", orig, m.ID)
	}
	msgs, err := s.Latest(ctx, alice, 10)
	if err != nil || len(msgs) != 1 || msgs[0].Body != "the corrected text" {
		t.Fatalf("history %q, %v; want the corrected text once", bodies(msgs), err)
	}
	// An edit naming the original changes the shown message.
	if r := mustSave(t, s, withIDs(correction(alice, In, "m1", "third try", 9), "", "c2")); r.Outcome != Corrected || r.ID != m.ID {
		t.Errorf("a later correction of the original: %+v, want Corrected %d", r, m.ID)
	}
	if r := mustSave(t, s, withIDs(retraction(alice, In, "m1", 10), "", "r1")); r.Outcome != Retracted || r.ID != m.ID {
		t.Errorf("a retraction of the original: %+v, want Retracted %d", r, m.ID)
	}
}

// TestPendingChainShownAsOne: a correction of a correction (older Gajim),
// both waiting for an original that never comes, make one message with
// the last text.
func TestPendingChainShownAsOne(t *testing.T) {
	ctx := testCtx(t)
	now := testNow()
	var mu sync.Mutex
	var resolved []Saved
	opts := clockAt(&now)
	opts.OnResolved = func(b []Saved) { mu.Lock(); resolved = append(resolved, b...); mu.Unlock() }
	s := openTest(t, opts)
	mustSave(t, s, withIDs(correction(bob, In, "m1", "v2", 2), "", "c1"))
	mustSave(t, s, withIDs(correction(bob, In, "c1", "v3", 3), "", "c2"))
	now = now.Add(time.Hour)
	shown, _, err := s.ShowPendingCorrections(ctx, now.Add(-time.Minute))
	if err != nil || len(shown) != 1 {
		t.Fatalf("ShowPendingCorrections: %+v, %v; want one message", shown, err)
	}
	if m := mustGet(t, s, shown[0].ID); m.Body != "v3" || !m.Edited {
		t.Errorf("shown %+v, want v3, edited", m)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(resolved) != 1 || resolved[0].MessageID != "c2" || resolved[0].Outcome != Corrected || resolved[0].ID != shown[0].ID {
		t.Errorf("OnResolved got %+v; want c2 applied to the shown message", resolved)
	}
}

// TestResolvedReportsWaitingEdits: a correction that waited is reported
// through OnResolved when its message arrives, named by its own id, and
// not through OnCommit a second time.
func TestResolvedReportsWaitingEdits(t *testing.T) {
	var mu sync.Mutex
	var commits, resolved []Saved
	s := openTest(t, Options{
		OnCommit:   func(b []Saved) { mu.Lock(); commits = append(commits, b...); mu.Unlock() },
		OnResolved: func(b []Saved) { mu.Lock(); resolved = append(resolved, b...); mu.Unlock() },
	})
	mustSave(t, s, withIDs(correction(alice, In, "m1", "fixed", 2), "", "c1"))
	m := mustSave(t, s, withIDs(in(alice, "fxied", 1), "", "m1"))
	mu.Lock()
	defer mu.Unlock()
	if len(commits) != 2 || commits[0].Outcome != Pending || commits[1].Outcome != Inserted {
		t.Errorf("OnCommit got %+v; want the Pending correction, then the message", commits)
	}
	if len(resolved) != 1 || resolved[0] != (Saved{ID: m.ID, Conversation: alice, Outcome: Corrected, Direction: In, MessageID: "c1"}) {
		t.Errorf("OnResolved got %+v; want c1 corrected message %d", resolved, m.ID)
	}
}
