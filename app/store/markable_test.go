// Tests of the markable flag (XEP-0333: the sender asked for chat markers):
// it round-trips through every way a message is stored and read, and
// messages stored before schema version 6 read as not markable.
package store

import (
	"fmt"
	"testing"
)

// markableOf maps the bodies of msgs to their Markable flag.
func markableOf(msgs []Message) map[string]bool {
	out := make(map[string]bool, len(msgs))
	for _, m := range msgs {
		out[m.Body] = m.Markable
	}
	return out
}

func TestMarkableRoundTrips(t *testing.T) {
	s := openTest(t, Options{})
	ctx := testCtx(t)
	want := map[string]bool{}

	// One at a time (single-row inserts).
	plain := mustSave(t, s, in(alice, "plain", 1))
	want["plain"] = false
	m := in(alice, "markable", 2)
	m.Markable = true
	marked := mustSave(t, s, m)
	want["markable"] = true

	// A batch of 21 (16 + 4 + 1 row inserts), alternating.
	var batch []Message
	for i := range 21 {
		m := in(alice, fmt.Sprintf("batch %02d", i), 10+i)
		m.Markable = i%2 == 1
		want[m.Body] = m.Markable
		batch = append(batch, m)
	}
	if _, err := s.SaveBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	// And through Put's buffered path.
	m = in(alice, "put markable", 40)
	m.Markable = true
	mustPut(t, s, m)
	want["put markable"] = true
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	msgs, err := s.Latest(ctx, alice, 100)
	if err != nil {
		t.Fatal(err)
	}
	if got := markableOf(msgs); len(got) != len(want) {
		t.Fatalf("Latest: %d messages, want %d", len(got), len(want))
	} else {
		for body, w := range want {
			if got[body] != w {
				t.Errorf("Latest: %q Markable = %v, want %v", body, got[body], w)
			}
		}
	}
	if g := mustGet(t, s, marked.ID); !g.Markable {
		t.Errorf("Get(markable): Markable = false")
	}
	if g := mustGet(t, s, plain.ID); g.Markable {
		t.Errorf("Get(plain): Markable = true")
	}
	last := msgs[len(msgs)-1]
	before, err := s.Before(ctx, alice, last.Cursor(), 100)
	if err != nil {
		t.Fatal(err)
	}
	for body, got := range markableOf(before) {
		if got != want[body] {
			t.Errorf("Before: %q Markable = %v, want %v", body, got, want[body])
		}
	}
	after, err := s.After(ctx, alice, msgs[0].Cursor(), 100)
	if err != nil {
		t.Fatal(err)
	}
	for body, got := range markableOf(after) {
		if got != want[body] {
			t.Errorf("After: %q Markable = %v, want %v", body, got, want[body])
		}
	}
	if len(before) != len(msgs)-1 || len(after) != len(msgs)-1 {
		t.Errorf("Before/After returned %d/%d messages, want %d", len(before), len(after), len(msgs)-1)
	}
}

func TestMarkableFalseForVersion5Rows(t *testing.T) {
	ctx := testCtx(t)
	path := oldDatabase(t, 5,
		`INSERT INTO conversations(id, peer, last_activity) VALUES (1, 'alice@example.org', 0)`,
		`INSERT INTO messages(id, conversation_id, direction, sender, body, ts, message_id, state)
			VALUES (?1 << 20, 1, 0, 'alice@example.org/phone', 'from version 5', ?1, 'm1', 0)`,
		`UPDATE conversations SET last_message_id = ?1 << 20, last_ts = ?1, last_activity = ?1`)

	s := openAt(t, path, Options{})
	if v := userVersion(t, s.rdb); v != SchemaVersion {
		t.Fatalf("after Open: user_version = %d, want %d", v, SchemaVersion)
	}
	m := in(alice, "after the migration", 60)
	m.Markable = true
	mustSave(t, s, m)
	msgs, err := s.Latest(ctx, alice, 10)
	if err != nil {
		t.Fatal(err)
	}
	got := markableOf(msgs)
	if len(msgs) != 2 || got["from version 5"] || !got["after the migration"] {
		t.Fatalf("after migrating: %+v; want the old message not markable, the new one markable", msgs)
	}
}
