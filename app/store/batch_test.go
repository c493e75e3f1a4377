// Batching must not change what storing does: a random mix of new
// messages, copies, corrections and retractions (some arriving before their
// message) gives the same database whether stored one transaction per
// message, all in one SaveBatch, or through Put in whatever batches the
// writer forms.
package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// mixedOps returns n messages to store, built from a seeded random walk.
func mixedOps(seed uint64, n int) []Message {
	r := rand.New(rand.NewPCG(seed, 1))
	peers := []string{alice, bob, "carol@example.com"}
	var sent []Message // messages stored so far (as first sent)
	var ops []Message
	for len(ops) < n {
		switch k := r.IntN(10); {
		case k < 5 || len(sent) == 0: // a new message, several per millisecond
			peer := peers[r.IntN(len(peers))]
			m := in(peer, fmt.Sprintf("message %d about %s", len(ops), []string{"tea", "trains", "tulips"}[r.IntN(3)]), 0)
			if r.IntN(2) == 0 {
				m = out(peer, m.Body, 0)
				if r.IntN(3) == 0 {
					m.State = StateNone // a carbon of a message sent elsewhere
				}
			}
			m.Time = base.Add(time.Duration(r.IntN(40)) * time.Millisecond)
			id := fmt.Sprint("x", len(ops))
			switch r.IntN(4) {
			case 0:
				m.OriginID, m.MessageID = id, id
			case 1:
				m.OriginID = id
			case 2:
				m.MessageID = id // an old client: id attribute only
			default:
				m.OriginID, m.StanzaID = id, "a-"+id
			}
			sent = append(sent, m)
			ops = append(ops, m)
		case k < 8: // a copy of an earlier message, from the archive or a carbon
			c := sent[r.IntN(len(sent))]
			if c.StanzaID == "" && r.IntN(2) == 0 {
				c.StanzaID = fmt.Sprint("a-late-", len(ops))
			}
			c.Time = c.Time.Add(time.Second)
			if c.Direction == Out {
				c.State = StateNone
			}
			ops = append(ops, c)
		default: // an edit of an earlier message, or of one never seen
			target := sent[r.IntN(len(sent))]
			ref := target.OriginID
			if ref == "" || r.IntN(4) == 0 {
				ref = target.MessageID
			}
			if ref == "" || r.IntN(5) == 0 {
				ref = fmt.Sprint("x", len(ops)+1+r.IntN(20)) // maybe a message still to come
			}
			e := Message{Conversation: target.Conversation, Direction: target.Direction,
				Time: base.Add(time.Duration(100+len(ops)) * time.Millisecond)}
			if r.IntN(3) == 0 {
				e.RetractID = ref
			} else {
				e.ReplaceID, e.Body = ref, fmt.Sprintf("corrected at %d", len(ops))
			}
			ops = append(ops, e)
		}
	}
	return ops
}

// dump reads everything the store keeps about messages, for comparison.
func dump(t *testing.T, s *Store) []any {
	t.Helper()
	var out []any
	for _, q := range []string{
		`SELECT id, conversation_id, direction, sender, body, ts, type, origin_id, stanza_id, message_id,
			state, error, edited_at, original_body, retracted FROM messages ORDER BY id`,
		`SELECT id, peer, last_message_id, last_ts, last_activity, unread, draft, read_ts, read_id
			FROM conversations ORDER BY id`,
		`SELECT conversation_id, direction, target, retract, body, ts FROM pending_edits ORDER BY ts, id`,
	} {
		rows, err := s.rdb.QueryContext(testCtx(t), q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(vals...))
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.wdb.Exec(`INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')`); err != nil {
		t.Fatalf("FTS integrity-check: %v", err)
	}
	for _, q := range []string{"tea", "trains", "corrected", "message"} {
		res, err := s.Search(testCtx(t), Query{Text: q, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(q, len(res)))
	}
	return out
}

func TestBatchingDoesNotChangeResults(t *testing.T) {
	ctx := testCtx(t)
	for seed := range uint64(4) {
		ops := mixedOps(seed, 400/raceScale)

		one := openTest(t, Options{})
		var want []Saved
		for _, m := range ops {
			r, err := one.Save(ctx, m)
			if err != nil {
				t.Fatalf("seed %d: Save(%+v): %v", seed, m, err)
			}
			want = append(want, r)
		}

		// The walk covers every case.
		outcomes := map[Outcome]int{}
		for _, r := range want {
			outcomes[r.Outcome]++
		}
		for _, o := range []Outcome{Inserted, Duplicate, Corrected, Retracted, Pending} {
			if outcomes[o] == 0 {
				t.Fatalf("seed %d: no %v among %v", seed, o, outcomes)
			}
		}

		batch := openTest(t, Options{})
		got, err := batch.SaveBatch(ctx, ops)
		if err != nil {
			t.Fatalf("seed %d: SaveBatch: %v", seed, err)
		}
		if !reflect.DeepEqual(got, want) {
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("seed %d: op %d (%+v): SaveBatch gave %+v, Save gave %+v", seed, i, ops[i], got[i], want[i])
				}
			}
		}

		var puts []Saved
		put := openTest(t, Options{OnCommit: func(b []Saved) { puts = append(puts, b...) }})
		for _, m := range ops {
			mustPut(t, put, m)
		}
		if err := put.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(puts, want) {
			t.Fatalf("seed %d: Put reported differently from Save", seed)
		}

		d := dump(t, one)
		if db := dump(t, batch); !reflect.DeepEqual(db, d) {
			t.Fatalf("seed %d: SaveBatch stored a different database:\n%v\nwant\n%v", seed, db, d)
		}
		if dp := dump(t, put); !reflect.DeepEqual(dp, d) {
			t.Fatalf("seed %d: Put stored a different database", seed)
		}
	}
}

// TestBatchWithOtherWrites: state changes, read markers and drafts queued
// among Puts see the messages put before them.
func TestBatchWithOtherWrites(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{MaxDelay: 20 * time.Millisecond})
	m := out(alice, "queued then acked", 1)
	m.OriginID = "o-1"
	mustPut(t, s, in(alice, "hello", 0))
	mustPut(t, s, m)
	// These wait in the same queue, behind the Puts.
	if ok, err := s.SetStateByMessageID(ctx, alice, "o-1", StateSent, ""); !ok || err != nil {
		t.Fatalf("SetState behind a Put: %v, %v", ok, err)
	}
	mustPut(t, s, in(alice, "one more", 2))
	if n, err := s.MarkRead(ctx, alice, 0); err != nil || n != 0 {
		t.Fatalf("MarkRead behind Puts: %d, %v", n, err)
	}
	var st State
	if err := s.rdb.QueryRow(`SELECT state FROM messages WHERE origin_id = 'o-1'`).Scan(&st); err != nil && err != sql.ErrNoRows {
		t.Fatal(err)
	}
	if st != StateSent {
		t.Fatalf("state %v", st)
	}
}
