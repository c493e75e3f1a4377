// Package clock is where Parley reads the wall-clock time for anything it
// compares with dates (message times, expiry of pending edits and sent
// edits, "next try at"). Each service takes a Func (tests pass a fixed or
// stepped one) and falls back to Now.
//
// Built with the tag clockahead, Now runs ahead of the real time by
// PARLEY_CLOCK_OFFSET (a Go duration; default one year): `make
// test-clock-ahead` runs the whole suite that way, to find code or tests
// that still depend on the day they run on. Durations and network
// deadlines keep using the time package directly: they measure, they do
// not compare with dates.
package clock

import "time"

// Func tells the current time.
type Func func() time.Time

// Now is the wall-clock time (moved by the clockahead build tag).
func Now() time.Time { return time.Now().Add(offset) }

// Or returns f, or Now when f is nil.
func Or(f Func) Func {
	if f == nil {
		return Now
	}
	return f
}

// Offset is how far Now runs ahead of the real time (0 unless built with
// the clockahead tag).
func Offset() time.Duration { return offset }
