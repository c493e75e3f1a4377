// Tests of the delivery state of outgoing messages (queued -> sent ->
// delivered -> read, or failed; never backwards) and of the outbox, which
// must survive a restart and list the oldest message first.
package store

import (
	"fmt"
	"testing"
)

func TestCanTransition(t *testing.T) {
	all := []State{StateNone, StateQueued, StateSent, StateDelivered, StateRead, StateFailed}
	allowed := map[[2]State]bool{
		{StateQueued, StateSent}: true, {StateQueued, StateDelivered}: true, {StateQueued, StateRead}: true,
		{StateSent, StateDelivered}: true, {StateSent, StateRead}: true,
		{StateDelivered, StateRead}: true,
		{StateQueued, StateFailed}:  true, {StateSent, StateFailed}: true,
		// A receipt or marker after an error: the peer got it after all.
		{StateFailed, StateDelivered}: true, {StateFailed, StateRead}: true,
	}
	for _, from := range all {
		for _, to := range all {
			if got := CanTransition(from, to); got != allowed[[2]State{from, to}] {
				t.Errorf("CanTransition(%v, %v) = %v", from, to, got)
			}
		}
	}
}

func TestStateTransitions(t *testing.T) {
	ctx := testCtx(t)
	s := openTest(t, Options{})
	m := out(alice, "hello", 1)
	m.OriginID, m.MessageID = "o-1", "o-1"
	id := mustSave(t, s, m).ID
	state := func() State { return mustGet(t, s, id).State }
	if st := state(); st != StateQueued {
		t.Fatalf("new outgoing message is %v", st)
	}
	steps := []struct {
		to      State
		changed bool
		want    State
	}{
		{StateSent, true, StateSent},
		{StateDelivered, true, StateDelivered},
		{StateSent, false, StateDelivered}, // a late ack after the receipt: ignored
		{StateQueued, false, StateDelivered},
		{StateFailed, false, StateDelivered}, // an error cannot undo a receipt
		{StateRead, true, StateRead},
		{StateDelivered, false, StateRead},
	}
	for i, st := range steps {
		changed, err := s.SetStateByMessageID(ctx, alice, "o-1", st.to, "")
		if err != nil {
			t.Fatal(err)
		}
		if changed != st.changed || state() != st.want {
			t.Fatalf("step %d (-> %v): changed %v, state %v; want %v, %v", i, st.to, changed, state(), st.changed, st.want)
		}
	}
	// Incoming messages have no delivery state.
	inID := mustSave(t, s, in(alice, "hi", 2)).ID
	if changed, _ := s.SetState(ctx, inID, StateSent, ""); changed {
		t.Fatal("an incoming message changed state")
	}
	// Unknown messages: nothing to change, no error (receipts for
	// messages sent from another client, say).
	if changed, err := s.SetStateByMessageID(ctx, alice, "no-such-id", StateDelivered, ""); changed || err != nil {
		t.Fatalf("unknown id: %v, %v", changed, err)
	}
	if changed, err := s.SetStateByMessageID(ctx, "nobody@example.org", "o-1", StateDelivered, ""); changed || err != nil {
		t.Fatalf("unknown peer: %v, %v", changed, err)
	}
}

func TestStateFailedAndRequeue(t *testing.T) {
	ctx := testCtx(t)
	s := openTest(t, Options{})
	id := mustSave(t, s, out(alice, "to nowhere", 1)).ID
	if ok, _ := s.SetState(ctx, id, StateSent, ""); !ok {
		t.Fatal("queued -> sent refused")
	}
	if ok, _ := s.SetState(ctx, id, StateFailed, "recipient-unavailable"); !ok {
		t.Fatal("sent -> failed refused")
	}
	m := mustGet(t, s, id)
	if m.State != StateFailed || m.Error != "recipient-unavailable" {
		t.Fatalf("failed message: %v %q", m.State, m.Error)
	}
	// A late ack does not hide the failure.
	if ok, _ := s.SetState(ctx, id, StateSent, ""); ok {
		t.Fatal("failed -> sent accepted")
	}
	if ok, err := s.Requeue(ctx, id); !ok || err != nil {
		t.Fatalf("Requeue = %v, %v", ok, err)
	}
	m = mustGet(t, s, id)
	if m.State != StateQueued || m.Error != "" {
		t.Fatalf("requeued message: %v %q", m.State, m.Error)
	}
	if ob, _ := s.Outbox(ctx); len(ob) != 1 || ob[0].ID != id {
		t.Fatalf("outbox after requeue: %v", ob)
	}
	if ok, _ := s.Requeue(ctx, id); ok {
		t.Fatal("requeue of a queued message")
	}
	// A receipt wins over a failure.
	if ok, _ := s.SetState(ctx, id, StateFailed, "timeout"); !ok {
		t.Fatal("queued -> failed refused")
	}
	if ok, _ := s.SetState(ctx, id, StateDelivered, ""); !ok {
		t.Fatal("failed -> delivered refused")
	}
	if m := mustGet(t, s, id); m.Error != "" {
		t.Fatalf("error text kept after delivery: %q", m.Error)
	}
}

func TestReadMarkerCoversEarlierMessages(t *testing.T) {
	ctx := testCtx(t)
	s := openTest(t, Options{})
	var ids []int64
	for i := range 5 {
		m := out(alice, fmt.Sprint("m", i), i)
		m.OriginID = fmt.Sprint("o", i)
		ids = append(ids, mustSave(t, s, m).ID)
	}
	other := mustSave(t, s, out(bob, "to bob", 2)).ID
	for _, id := range ids[:4] {
		s.SetState(ctx, id, StateSent, "")
	}
	s.SetState(ctx, other, StateSent, "")
	s.SetState(ctx, ids[1], StateDelivered, "")
	// Displayed marker for m3: m0..m3 are read; m4 (still queued) and
	// bob's message are not.
	if ok, err := s.SetStateByMessageID(ctx, alice, "o3", StateRead, ""); !ok || err != nil {
		t.Fatalf("marker: %v, %v", ok, err)
	}
	want := []State{StateRead, StateRead, StateRead, StateRead, StateQueued}
	for i, id := range ids {
		if got := mustGet(t, s, id).State; got != want[i] {
			t.Errorf("m%d is %v, want %v", i, got, want[i])
		}
	}
	if got := mustGet(t, s, other).State; got != StateSent {
		t.Errorf("bob's message is %v", got)
	}
}

func TestOutboxSurvivesReopen(t *testing.T) {
	ctx := testCtx(t)
	s := openTest(t, Options{})
	path := s.Path()
	// Queued out of time order across conversations; one sent already.
	var queued []int64
	for i, m := range []Message{out(alice, "first", 1), out(bob, "second", 2), out(alice, "sent", 3), out(alice, "third", 4)} {
		m.OriginID = fmt.Sprint("o", i)
		id := mustSave(t, s, m).ID
		if m.Body == "sent" {
			s.SetState(ctx, id, StateSent, "")
			continue
		}
		queued = append(queued, id)
	}
	mustSave(t, s, in(alice, "incoming", 5))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openAt(t, path, Options{})
	ob, err := s.Outbox(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ob) != 3 {
		t.Fatalf("outbox after reopen has %d messages: %v", len(ob), bodies(ob))
	}
	for i, m := range ob {
		if m.ID != queued[i] || m.State != StateQueued || m.Direction != Out {
			t.Fatalf("outbox[%d] = %+v, want message %d", i, m, queued[i])
		}
	}
	if ob[1].Conversation != bob || ob[0].OriginID != "o0" {
		t.Fatalf("outbox lost fields: %+v", ob[:2])
	}
	// Resent and acked: it leaves the outbox.
	s.SetState(ctx, ob[0].ID, StateSent, "")
	if ob, _ := s.Outbox(ctx); len(ob) != 2 {
		t.Fatalf("outbox has %d after an ack", len(ob))
	}
}
