// The history's clock: messages are dated on the server's clock when the
// machine's is off it (XEP-0202 Entity Time, measured at the start of each
// fresh session), so that what is dated here sorts right among what the
// archive dates.
package app

import (
	"context"
	"time"

	"parley/xmppclient"
)

// localTime is the time given to a message without a server stamp (one
// received live, or sent from here). It is cut to whole seconds: the
// server's stamps (XEP-0203 delay of the archive and of offline copies)
// have whole seconds, and the history orders by time, then by arrival. A
// message stored live at 12:00:05.600 must stay before one the peer sent
// at 12:00:05.800 that comes later from the archive stamped 12:00:05.
//
// It is on the server's clock when the machine's is off by more than
// maxClockSkew (see measureServerClock), so that what is dated here sorts
// right among what the archive dates.
func (c *ChatService) localTime() time.Time { return c.Now().Truncate(time.Second) }

// Now is the time on the history's clock: the server's when the
// machine's is off it (see localTime), so that "a minute ago" and "today"
// agree with the times messages carry.
func (c *ChatService) Now() time.Time {
	c.mu.Lock()
	skew := c.serverSkew
	c.mu.Unlock()
	return c.now().Add(skew)
}

// maxClockSkew is how far the machine's clock may be off the server's
// before messages are dated on the server's clock instead: more than the
// stamps' whole seconds and a round trip.
const maxClockSkew = 2 * time.Second

// measureServerClock asks the server for its time (XEP-0202) at the start
// of a fresh session, before any message of it is handled, and sets the
// skew localTime adds. A server that does not say keeps the last one.
func (c *ChatService) measureServerClock(ctx context.Context, client *xmppclient.Client) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	offset, rtt, err := client.ServerClockOffset(ctx)
	if err != nil {
		c.log.Debug("server time unknown", "err", err)
		return
	}
	// offset is measured against the real time; the service's clock may
	// differ from it (tests, the clockahead build).
	skew := offset - time.Until(c.now())
	if skew < maxClockSkew+rtt/2 && skew > -maxClockSkew-rtt/2 {
		skew = 0
	} else {
		c.log.Warn("this machine's clock is off the server's: dating messages on the server's", "by", -skew)
	}
	c.mu.Lock()
	c.serverSkew = skew
	c.mu.Unlock()
}
