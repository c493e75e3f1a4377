// Test of row ids for a batch spread over many milliseconds (archive
// stamps with sub-second precision): the ids already taken in its time
// span are read at once, and the new rows still get free ids after them,
// so messages of one millisecond keep the order they were stored in.
package store

import (
	"fmt"
	"testing"
	"time"
)

func TestBatchOverManyMillisecondsGetsFreeIDs(t *testing.T) {
	ctx := testCtx(t)
	s := openTest(t, Options{})
	at := func(ms int) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }
	// Earlier rows in every third millisecond of the span.
	for ms := 0; ms < 300; ms += 3 {
		m := in(alice, fmt.Sprint("old-", ms), 0)
		m.Time = at(ms)
		mustSave(t, s, m)
	}
	// A batch with a message in every millisecond, some twice.
	var batch []Message
	for ms := range 300 {
		for k := range 1 + ms%2 {
			m := in(alice, fmt.Sprintf("new-%d-%d", ms, k), 0)
			m.Time = at(ms)
			batch = append(batch, m)
		}
	}
	saved, err := s.SaveBatch(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range saved {
		if r.Outcome != Inserted {
			t.Fatalf("message %d: %+v", i, r)
		}
	}
	msgs, err := s.Latest(ctx, alice, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if want := 100 + len(batch); len(msgs) != want {
		t.Fatalf("%d messages stored, want %d", len(msgs), want)
	}
	// In each millisecond: the earlier row first, then the batch's in order.
	i := 0
	for ms := range 300 {
		var want []string
		if ms%3 == 0 {
			want = append(want, fmt.Sprint("old-", ms))
		}
		for k := range 1 + ms%2 {
			want = append(want, fmt.Sprintf("new-%d-%d", ms, k))
		}
		for _, w := range want {
			if msgs[i].Body != w || !msgs[i].Time.Equal(at(ms)) {
				t.Fatalf("message %d is %q at %v, want %q at %v", i, msgs[i].Body, msgs[i].Time, w, at(ms))
			}
			i++
		}
	}
}
