// XEP-0198 Stream Management, and what stands in for it without: the
// client's record of what the server received (smState), acks (<r/> and
// <a/>) and the requests for them, resumption of a lost session, and the
// barrier ping that confirms a burst on a server without XEP-0198 (see the
// comment at the top of client.go).
package xmppclient

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// smState is the bookkeeping of what the server received: XEP-0198 stream
// management when enabled, barrier pings otherwise (see the comment at
// the top of client.go).
type smState struct {
	enabled  bool
	id       string // resumption id; empty when the session cannot be resumed
	inbound  uint32 // stanzas received and handled (our h; XEP-0198 only)
	outbound uint32 // stanzas written on this session
	acked    uint32 // how many of them the server confirmed (its last h, or a barrier's count)
	sinceReq int    // stanzas written since the last <r/> or barrier
	reqTimer *time.Timer
	unacked  []sentStanza
	// endedBy is the stream error the server closed the last connection
	// with (nil when it ended otherwise); the next SessionEvent carries it.
	endedBy *StreamError
}

type sentStanza struct {
	raw  []byte
	id   string
	kind string // message, presence or iq
}

// resumed makes cn current after <resumed/>: acks what the server got and
// writes again, in order, everything it did not.
func (c *Client) resumed(cn *conn, ans smEnabled) error {
	c.out.Lock()
	defer c.out.Unlock()
	if n, err := strconv.ParseUint(ans.H, 10, 32); err == nil {
		c.ackUpTo(uint32(n))
	}
	c.sm.outbound = c.sm.acked
	var resent []string
	for _, s := range c.sm.unacked {
		if err := cn.write(s.raw); err != nil {
			return err
		}
		c.sm.outbound++
		resent = append(resent, s.id)
	}
	if len(c.sm.unacked) > 0 {
		if err := cn.writeString("<r xmlns='" + nsSM + "'/>"); err != nil {
			return err
		}
		c.sm.sinceReq = 0
	}
	c.mu.Lock()
	c.cur = cn
	jid := c.jid
	c.mu.Unlock()
	endedBy := c.sm.endedBy
	c.sm.endedBy = nil
	c.tellCSILocked(cn) // a resumed stream starts active again
	c.setState(StateOnline, nil, 0, 0)
	c.events.push(SessionEvent{JID: jid, Resumed: true, Resent: resent, EndedBy: endedBy})
	return nil
}

// freshSession makes cn current after bind. Stanzas the old session never
// got acknowledged (by XEP-0198 or a barrier) are not written again here:
// the server may have got some of them before the break, so only the app
// can tell (by its archive) which still need sending. Their ids go out in
// SessionEvent.Unacked; IQs waiting on the old session fail.
func (c *Client) freshSession(cn *conn, jid JID, smOn bool, en smEnabled) error {
	c.out.Lock()
	defer c.out.Unlock()
	old, endedBy := c.sm.unacked, c.sm.endedBy
	if c.sm.reqTimer != nil {
		c.sm.reqTimer.Stop()
	}
	c.sm = smState{enabled: smOn}
	if smOn && (en.Resume == "true" || en.Resume == "1") {
		c.sm.id = en.ID
	}
	c.iqs.failAll(errors.New("the session was lost before the server answered"))
	c.mu.Lock()
	c.cur = cn
	c.jid = jid
	c.mu.Unlock()
	c.setState(StateOnline, nil, 0, 0)
	var unacked []string
	for _, s := range old {
		if s.kind == "message" && s.id != "" {
			unacked = append(unacked, s.id)
		}
	}
	c.upload.reset() // a fresh session looks for the upload service again
	c.tellCSILocked(cn)
	c.events.push(SessionEvent{JID: jid, Resumed: false, Unacked: unacked, EndedBy: endedBy})
	return nil
}

// ackUpTo processes the server's h; c.out must be held.
func (c *Client) ackUpTo(h uint32) {
	n := int(h - c.sm.acked) // uint32 arithmetic wraps as XEP-0198 requires
	if n <= 0 {
		return
	}
	if n > len(c.sm.unacked) {
		c.log.Warn("server acknowledged more stanzas than were sent", "h", h, "acked", c.sm.acked, "unacked", len(c.sm.unacked))
		n = len(c.sm.unacked)
	}
	ids := make([]string, 0, n)
	for _, s := range c.sm.unacked[:n] {
		if s.id != "" {
			ids = append(ids, s.id)
		}
	}
	c.sm.unacked = append([]sentStanza(nil), c.sm.unacked[n:]...)
	c.sm.acked = h
	if len(ids) > 0 {
		c.events.push(AckEvent{IDs: ids})
	}
}

func (c *Client) handleSMNonza(cn *conn, el element) error {
	switch el.Start.Name.Local {
	case "r":
		c.out.Lock()
		h := c.sm.inbound
		c.out.Unlock()
		return cn.writeString("<a xmlns='" + nsSM + "' h='" + strconv.FormatUint(uint64(h), 10) + "'/>")
	case "a":
		n, err := strconv.ParseUint(el.attr("h"), 10, 32)
		if err != nil {
			c.log.Warn("bad ack from server", "h", el.attr("h"))
			return nil
		}
		c.out.Lock()
		c.ackUpTo(uint32(n))
		c.out.Unlock()
	default:
		c.log.Debug("ignoring stream management element", "name", el.Start.Name.Local)
	}
	return nil
}

// writeStanzaLocked writes s on cn; c.out must be held. The stanza waits
// in the unacked queue until the server confirms it (XEP-0198 or barrier).
func (c *Client) writeStanzaLocked(cn *conn, s sentStanza) error {
	c.sm.unacked = append(c.sm.unacked, s)
	c.sm.outbound++
	c.sm.sinceReq++
	if err := cn.write(s.raw); err != nil {
		cn.fail(fmt.Errorf("write failed: %w", err))
		if c.sm.enabled && c.sm.id != "" {
			return nil // kept in the unacked queue; resent on resume
		}
		// The caller learns it was not sent (and may send it again): the
		// next session does not report it as unacknowledged.
		c.sm.unacked = c.sm.unacked[:len(c.sm.unacked)-1]
		c.sm.outbound--
		c.sm.sinceReq = max(c.sm.sinceReq-1, 0)
		return fmt.Errorf("send %s: %w", s.kind, err)
	}
	c.scheduleAckRequestLocked(cn)
	return nil
}

// scheduleAckRequestLocked asks for an ack after AckEvery stanzas, or
// AckInterval after the first unrequested one: one request per burst.
func (c *Client) scheduleAckRequestLocked(cn *conn) {
	if c.sm.sinceReq >= c.cfg.AckEvery {
		if c.sm.reqTimer != nil {
			c.sm.reqTimer.Stop()
			c.sm.reqTimer = nil
		}
		c.requestAckLocked(cn)
		return
	}
	if c.sm.reqTimer == nil {
		c.sm.reqTimer = time.AfterFunc(c.cfg.AckInterval, func() {
			c.out.Lock()
			defer c.out.Unlock()
			c.sm.reqTimer = nil
			if c.sm.sinceReq == 0 {
				return
			}
			c.mu.Lock()
			cur := c.cur
			c.mu.Unlock()
			if cur == nil {
				return
			}
			c.requestAckLocked(cur)
		})
	}
}

// RequestAck asks the server now to confirm what was written so far (an
// XEP-0198 <r/>, or a barrier ping without it) instead of after the next
// AckInterval; the answer comes as an AckEvent. It does nothing when
// offline or when everything written is confirmed already.
func (c *Client) RequestAck() {
	c.out.Lock()
	defer c.out.Unlock()
	c.mu.Lock()
	cur := c.cur
	c.mu.Unlock()
	if cur == nil || len(c.sm.unacked) == 0 {
		return
	}
	c.requestAckLocked(cur)
}

// requestAckLocked writes an <r/> (XEP-0198) or a barrier; c.out is held.
func (c *Client) requestAckLocked(cn *conn) {
	c.sm.sinceReq = 0
	if c.sm.enabled {
		if err := cn.writeString("<r xmlns='" + nsSM + "'/>"); err != nil {
			cn.fail(fmt.Errorf("write failed: %w", err))
		}
		return
	}
	c.writeBarrierLocked(cn)
}

// writeBarrierLocked pings the server (XEP-0199) on a stream without
// XEP-0198. The server handles one stream's stanzas in order, so its
// answer (a result, or an error: still an answer) confirms every stanza
// written before the ping, as an <a h='N'/> would. c.out is held.
func (c *Client) writeBarrierLocked(cn *conn) {
	mark := c.sm.outbound
	if mark == c.sm.acked {
		return // nothing to confirm
	}
	id := newID()
	to := c.cfg.JID.Domain
	if j, err := ParseJID(to); err == nil {
		to = j.String()
	}
	w := c.iqs.add(id, to) // before the write, so a fast answer is never lost
	if err := cn.writeString(iqOpen("get", id, c.cfg.JID.Domain) + "<ping xmlns='" + nsPing + "'/></iq>"); err != nil {
		c.iqs.remove(id)
		cn.fail(fmt.Errorf("write failed: %w", err))
		return
	}
	c.barriers++
	go func() {
		var r iqReply
		select {
		case r = <-w.ch:
		case <-c.ctx.Done():
			c.iqs.remove(id)
			return
		}
		if r.err != nil {
			return // the connection ended first: its stanzas stay unconfirmed
		}
		c.out.Lock()
		defer c.out.Unlock()
		c.mu.Lock()
		cur := c.cur
		c.mu.Unlock()
		if cur == cn && !c.sm.enabled {
			c.ackUpTo(mark)
		}
	}()
}

// Unacked returns how many sent stanzas the server has not acknowledged
// yet (by XEP-0198, or by a barrier without it).
func (c *Client) Unacked() int {
	c.out.Lock()
	defer c.out.Unlock()
	return len(c.sm.unacked)
}
