// XEP-0280 Message Carbons: enabling them, and unwrapping carbon copies of
// messages the account's other resources sent or received. A carbon is
// accepted only from the own bare JID; anything else wearing a carbon
// wrapper is a forgery (CVE-2017-5589, CVE-2019-16235, CVE-2020-26547) and
// is dropped.
package xmppclient

import (
	"context"
	"encoding/xml"
	"fmt"

	"gosrc.io/xmpp/stanza"
)

const nsCarbons = "urn:xmpp:carbons:2"

type carbonsEnable struct {
	XMLName xml.Name `xml:"urn:xmpp:carbons:2 enable"`
}

func (*carbonsEnable) Namespace() string         { return nsCarbons }
func (*carbonsEnable) GetSet() *stanza.ResultSet { return nil }

// EnableCarbons asks the server to copy this account's messages to this
// resource. Call it on every fresh session, before querying the archive and
// before the initial presence (XEP-0280 §9), so nothing falls between live
// delivery and history sync.
func (c *Client) EnableCarbons(ctx context.Context) error {
	if _, err := c.SendIQ(ctx, stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeSet}, Payload: &carbonsEnable{}}); err != nil {
		return fmt.Errorf("enable carbons: %w", err)
	}
	return nil
}

// CarbonEvent is a copy of a message another resource of this account sent
// (Sent) or received.
type CarbonEvent struct {
	Sent    bool
	Message ChatMessage
	// Raw is the forwarded <message/>, its bytes as received, cut out of
	// the carbon (namespaces its ancestors declared are not repeated).
	Raw []byte
}

func (CarbonEvent) isEvent() {}

// carbonCopy is a <received/> or <sent/> wrapper.
type carbonCopy struct {
	sent bool
	fwd  *forwarded // nil without a <forwarded/>
}

func (cc *carbonCopy) forwarded() *forwarded {
	if cc == nil {
		return nil
	}
	return cc.fwd
}

// parseCarbon reads a <received/> or <sent/> whose start tag was just read
// (part of parseMessage's single pass over the stanza).
func parseCarbon(w *elementTokens, start xml.StartElement) (*carbonCopy, error) {
	cc := &carbonCopy{sent: start.Name.Local == "sent"}
	err := w.children(func(c xml.StartElement) error {
		if c.Name.Space != nsForward || c.Name.Local != "forwarded" || cc.fwd != nil {
			return nil
		}
		var err error
		cc.fwd, err = parseForwarded(w)
		return err
	})
	return cc, err
}

// handleCarbon delivers a carbon sent by from, or drops it as a forgery.
func (c *Client) handleCarbon(from string, cc *carbonCopy) {
	if !c.fromOwnAccountStrict(from) {
		c.log.Warn("dropping a forged carbon: not from the own account", "from", from)
		return
	}
	f := cc.forwarded()
	if f == nil || f.msg == nil {
		c.log.Warn("dropping a carbon without a forwarded message")
		return
	}
	if f.msg.bad != nil {
		c.log.Warn("dropping a carbon whose message does not parse", "err", f.msg.bad)
		return
	}
	c.events.push(CarbonEvent{Sent: cc.sent, Message: f.msg.msg, Raw: f.raw})
}

// fromOwnAccountStrict: from must be exactly the own bare JID (carbons
// always carry it; a missing from is not enough here).
func (c *Client) fromOwnAccountStrict(from string) bool {
	j, err := ParseJID(from)
	return err == nil && j == c.JID().Bare()
}
