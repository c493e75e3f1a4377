// XEP-0199 XMPP Ping: the payload, a Ping call, and (registered in New) the
// answer to pings from the server or contacts.
package xmppclient

import (
	"context"
	"encoding/xml"

	"gosrc.io/xmpp/stanza"
)

const nsPing = "urn:xmpp:ping"

type pingPayload struct {
	XMLName xml.Name `xml:"urn:xmpp:ping ping"`
}

func (*pingPayload) Namespace() string         { return nsPing }
func (*pingPayload) GetSet() *stanza.ResultSet { return nil }

// Ping sends an XEP-0199 ping to to (the server when to is zero) and waits
// for the answer.
func (c *Client) Ping(ctx context.Context, to JID) error {
	iq := stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeGet}, Payload: &pingPayload{}}
	if !to.IsZero() {
		iq.To = to.String()
	}
	_, err := c.SendIQ(ctx, iq)
	return err
}
