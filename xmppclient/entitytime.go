// XEP-0202 Entity Time: asking the server what time it is, so that the app
// can date what it stores on the server's clock (the clock of the archive's
// and offline messages' XEP-0203 stamps) when the machine's own clock is
// wrong.
package xmppclient

import (
	"context"
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	"gosrc.io/xmpp/stanza"
)

const nsTime = "urn:xmpp:time"

// timePayload is the <time/> of a XEP-0202 request and its answer.
type timePayload struct {
	XMLName xml.Name `xml:"urn:xmpp:time time"`
	TZO     string   `xml:"tzo,omitempty"`
	UTC     string   `xml:"utc,omitempty"`
}

func (*timePayload) Namespace() string         { return nsTime }
func (*timePayload) GetSet() *stanza.ResultSet { return nil }

// ServerClockOffset asks the server for its time (XEP-0202) and returns
// how far its clock is ahead of this machine's (negative: behind),
// measured at the middle of the round trip, with the round trip itself
// (the uncertainty is half of it). Servers that do not answer XEP-0202
// give an error.
func (c *Client) ServerClockOffset(ctx context.Context) (offset, rtt time.Duration, err error) {
	domain := c.Config().JID.Domain
	sent := time.Now()
	_, raw, err := c.SendIQRaw(ctx, stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeGet, To: domain}, Payload: &timePayload{}})
	if err != nil {
		return 0, 0, fmt.Errorf("server time: %w", err)
	}
	got := time.Now()
	var p timePayload
	if err := DecodeIQPayload(raw, &p); err != nil {
		return 0, 0, &ProtocolError{Step: "server time", Err: err}
	}
	server, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(p.UTC))
	if err != nil {
		return 0, 0, fmt.Errorf("server time: bad <utc> %q: %w", p.UTC, err)
	}
	rtt = got.Sub(sent)
	return server.Sub(sent.Add(rtt / 2)), rtt, nil
}
