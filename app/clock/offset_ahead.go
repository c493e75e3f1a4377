//go:build clockahead

// The clockahead build: Now runs PARLEY_CLOCK_OFFSET (default one year)
// ahead of the real time, for `make test-clock-ahead`.
package clock

import (
	"fmt"
	"os"
	"time"
)

// defaultAhead is the offset when PARLEY_CLOCK_OFFSET is unset.
const defaultAhead = 365 * 24 * time.Hour

var offset = aheadFromEnv()

func aheadFromEnv() time.Duration {
	s := os.Getenv("PARLEY_CLOCK_OFFSET")
	if s == "" {
		return defaultAhead
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		panic(fmt.Sprintf("PARLEY_CLOCK_OFFSET=%q: %v", s, err))
	}
	return d
}
