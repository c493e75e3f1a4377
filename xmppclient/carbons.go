// XEP-0280 Message Carbons: enabling them, and unwrapping carbon copies of
// messages the account's other resources sent or received. A carbon is
// accepted only from the own bare JID; anything else wearing a carbon
// wrapper is a forgery (CVE-2017-5589, CVE-2019-16235, CVE-2020-26547) and
// is dropped.
package xmppclient

import (
	"bytes"
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
	Raw     []byte // the forwarded message
}

func (CarbonEvent) isEvent() {}

// forwardedWire is XEP-0297 forwarding, with the inner message kept raw.
type forwardedWire struct {
	Delay *struct {
		Stamp string `xml:"stamp,attr"`
	} `xml:"urn:xmpp:delay delay"`
	Message *struct {
		Inner []byte     `xml:",innerxml"`
		Attrs []xml.Attr `xml:",any,attr"`
	} `xml:"jabber:client message"`
}

type carbonWire struct {
	Received *struct {
		Forwarded forwardedWire `xml:"urn:xmpp:forward:0 forwarded"`
	} `xml:"urn:xmpp:carbons:2 received"`
	Sent *struct {
		Forwarded forwardedWire `xml:"urn:xmpp:forward:0 forwarded"`
	} `xml:"urn:xmpp:carbons:2 sent"`
	Private *struct{} `xml:"urn:xmpp:carbons:2 private"`
}

// rebuild re-serializes a forwarded message as a standalone element in
// the client namespace, so ParseMessage can read it.
func (f *forwardedWire) rebuild() []byte {
	if f.Message == nil {
		return nil
	}
	var b bytes.Buffer
	b.WriteString("<message xmlns='jabber:client'")
	for _, a := range f.Message.Attrs {
		if (a.Name.Space != "" && a.Name.Space != nsXML) || a.Name.Local == "xmlns" {
			continue
		}
		name := a.Name.Local
		if a.Name.Space == nsXML {
			name = "xml:" + name
		}
		b.WriteString(" " + name + "='" + xmlEscape(a.Value) + "'")
	}
	b.WriteString(">")
	b.Write(f.Message.Inner)
	b.WriteString("</message>")
	return b.Bytes()
}

// handleCarbon unwraps a carbon; it reports whether raw was one (handled,
// or dropped as a forgery).
func (c *Client) handleCarbon(m stanza.Message, raw []byte) bool {
	if !bytes.Contains(raw, []byte(nsCarbons)) {
		return false
	}
	var w carbonWire
	if err := decodeElement(streamHeader{}, raw, &w); err != nil {
		return false
	}
	var fw *forwardedWire
	sent := false
	switch {
	case w.Received != nil:
		fw = &w.Received.Forwarded
	case w.Sent != nil:
		fw, sent = &w.Sent.Forwarded, true
	default:
		return false // <private/> alone, or carbons mentioned elsewhere
	}
	if !c.fromOwnAccountStrict(m.From) {
		c.log.Warn("dropping a forged carbon: not from the own account", "from", m.From)
		return true
	}
	inner := fw.rebuild()
	if inner == nil {
		c.log.Warn("dropping a carbon without a forwarded message")
		return true
	}
	cm, err := ParseMessage(inner)
	if err != nil {
		c.log.Warn("dropping a carbon whose message does not parse", "err", err)
		return true
	}
	c.events.push(CarbonEvent{Sent: sent, Message: cm, Raw: inner})
	return true
}

// fromOwnAccountStrict: from must be exactly the own bare JID (carbons
// always carry it; a missing from is not enough here).
func (c *Client) fromOwnAccountStrict(from string) bool {
	j, err := ParseJID(from)
	return err == nil && j == c.JID().Bare()
}
