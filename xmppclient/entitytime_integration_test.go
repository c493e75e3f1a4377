// Integration test of XEP-0202 against the real Prosody (mod_time): the
// server's clock, on this machine, is this machine's clock.
package xmppclient_test

import (
	"context"
	"testing"
	"time"

	"parley/xmppclient/xmpptest"
)

func TestServerClockOffset(t *testing.T) {
	srv := xmpptest.Shared(t)
	user, pass := srv.NewUser(t, "clock")
	c, _ := connect(t, clientConfig(t, srv, user, pass))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offset, rtt, err := c.ServerClockOffset(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Prosody answers in whole seconds or finer; the same machine's clock
	// differs by the stamp's rounding and half the round trip at most.
	if limit := time.Second + rtt; offset > limit || offset < -limit {
		t.Errorf("offset %v (round trip %v) from a server on the same machine; want within %v", offset, rtt, limit)
	}
}
