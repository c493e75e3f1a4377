// The read side of a session: one goroutine reads the stream's top-level
// elements in order and dispatches each (stream errors, XEP-0198 nonzas,
// IQs, messages, presences) before reading the next, so the app sees
// stanzas in arrival order; one that does not decode is logged and
// skipped, never the end of the stream.
package xmppclient

import (
	"context"
	"fmt"
	"strconv"

	"gosrc.io/xmpp/stanza"
)

// readLoop reads elements in order until the connection fails.
func (c *Client) readLoop(cn *conn) error {
	for {
		el, err := cn.next(context.Background())
		if err != nil {
			return cn.cause(err)
		}
		if err := c.handleElement(cn, el); err != nil {
			return err
		}
	}
}

// handleElement dispatches one top-level element. Only a stream error or a
// failed write ends the stream; a stanza that does not decode is logged
// and skipped (an IQ request among them gets an error reply).
func (c *Client) handleElement(cn *conn, el element) error {
	name := el.Start.Name
	switch {
	case name.Space == nsSM:
		return c.handleSMNonza(cn, el)
	case name.Space == nsStream && name.Local == "error":
		return streamErrorOf(cn.er.header, el)
	case name.Space == nsClient && (name.Local == "message" || name.Local == "presence" || name.Local == "iq"):
		c.out.Lock()
		ackNow := ""
		if c.sm.enabled {
			c.sm.inbound++
			if c.sm.inbound%unsolicitedAckEvery == 0 {
				ackNow = strconv.FormatUint(uint64(c.sm.inbound), 10)
			}
		}
		c.out.Unlock()
		c.handleStanza(cn, el)
		if ackNow != "" {
			// XEP-0198 allows an <a/> at any time. Without it the server
			// keeps every stanza of a burst (an archive page, a flood)
			// queued until it asks; a short queue is cheaper for it.
			return cn.writeString("<a xmlns='" + nsSM + "' h='" + ackNow + "'/>")
		}
		return nil
	default:
		c.log.Warn("ignoring unexpected top-level element", "name", name.Local, "ns", name.Space)
		return nil
	}
}

func (c *Client) handleStanza(cn *conn, el element) {
	if el.Start.Name.Local == "iq" && el.attr("type") == "result" {
		// Only the waiter reads a result, from the raw XML (SendIQRaw):
		// decoding a large reply (a 5,000-item roster is 0.5 MB) here too
		// would parse it once more for nothing.
		c.iqs.resolve(c, stanza.IQ{XMLName: el.Start.Name, Attrs: stanza.Attrs{Id: el.attr("id"), From: el.attr("from"),
			To: el.attr("to"), Type: stanza.IQTypeResult}}, el.Raw, nil)
		return
	}
	if el.Start.Name.Local == "message" {
		c.handleMessage(cn.er.header, el)
		return
	}
	pkt, err := decodeStanza(cn.er.header, el.Raw)
	if err != nil {
		c.log.Warn("skipping a stanza that does not decode", "name", el.Start.Name.Local, "err", err, "xml", truncate(el.Raw, 512))
		if t := el.attr("type"); el.Start.Name.Local == "iq" && (t == "get" || t == "set") {
			c.replyError(el.attr("id"), el.attr("from"), "modify", "bad-request")
		}
		if t := el.attr("type"); el.Start.Name.Local == "iq" && (t == "result" || t == "error") {
			c.iqs.resolve(c, stanza.IQ{Attrs: stanza.Attrs{Id: el.attr("id"), From: el.attr("from"), Type: stanza.StanzaType(t)}}, el.Raw,
				&ProtocolError{Step: "decoding an IQ reply", Err: err})
		}
		return
	}
	switch p := pkt.(type) {
	case stanza.Presence:
		c.events.push(PresenceEvent{Presence: p, Raw: el.Raw})
	case *stanza.IQ:
		switch p.Type {
		case stanza.IQTypeResult, stanza.IQTypeError:
			c.iqs.resolve(c, *p, el.Raw, nil)
		case stanza.IQTypeGet, stanza.IQTypeSet:
			c.handleIQRequest(cn, *p, el.Raw)
		default:
			c.log.Warn("IQ without a valid type", "type", p.Type)
		}
	default:
		c.log.Warn("unexpected packet type", "type", fmt.Sprintf("%T", pkt))
	}
}

// handleMessage routes a <message/> stanza, parsed as it was read (or
// now, for one the reader did not parse): an archive result to its query,
// a carbon, a PEP notification, or else a MessageEvent.
func (c *Client) handleMessage(h streamHeader, el element) {
	im := el.msg
	if im == nil {
		var err error
		if im, err = parseMessageBytes(h, el.Raw, true); err != nil {
			c.log.Warn("skipping a message that does not parse", "err", err, "xml", truncate(el.Raw, 512))
			return
		}
	}
	switch {
	case im.result != nil:
		c.handleMAMResult(im.from, im.result)
	case im.carbon != nil:
		c.handleCarbon(im.from, im.carbon)
	case im.pubsubEvent && c.handlePEPEvent(im.from, el.Raw):
	case im.bad != nil:
		c.log.Warn("skipping a message that does not parse", "err", im.bad, "xml", truncate(el.Raw, 512))
	default:
		c.events.push(MessageEvent{Message: im.msg, Raw: el.Raw})
	}
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}
