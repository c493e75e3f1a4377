// Tests of the clock: Or's fallback, and that Now is the real time moved
// by Offset (zero in the ordinary build).
package clock

import (
	"testing"
	"time"
)

func TestOrFallsBackToNow(t *testing.T) {
	fixed := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	if got := Or(func() time.Time { return fixed })(); !got.Equal(fixed) {
		t.Fatalf("Or(fixed)() = %v, want %v", got, fixed)
	}
	before := time.Now().Add(Offset())
	got := Or(nil)()
	after := time.Now().Add(Offset())
	if got.Before(before) || got.After(after) {
		t.Fatalf("Or(nil)() = %v, want between %v and %v", got, before, after)
	}
}
