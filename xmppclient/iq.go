// IQ requests and replies (RFC 6120 §8.2.3): a tracker that registers the
// reply before the request is written and accepts a reply only from the
// entity the request went to, handlers for incoming requests, and
// service-unavailable for requests nobody handles.
package xmppclient

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"sync"

	"gosrc.io/xmpp/stanza"
)

// IQHandler answers an incoming IQ get or set. It runs on the reader
// goroutine, in stanza order, so it must not block on the network. It
// returns the payload of the result (any XML-marshalable value, or nil for
// an empty result) or an error: a *StanzaError is sent as given, any other
// error as internal-server-error.
type IQHandler func(iq stanza.IQ, raw []byte) (any, error)

// HandleIQ registers h for requests whose payload element is name.
func (c *Client) HandleIQ(name xml.Name, h IQHandler) {
	c.handlersMu.Lock()
	defer c.handlersMu.Unlock()
	c.handlers[name] = h
}

type iqReply struct {
	iq  stanza.IQ
	raw []byte
	err error
}

type iqWait struct {
	to string // normalized JID the request went to; "" for the server
	ch chan iqReply
}

type iqTracker struct {
	mu      sync.Mutex
	pending map[string]*iqWait
}

func newIQTracker() *iqTracker { return &iqTracker{pending: map[string]*iqWait{}} }

func (t *iqTracker) add(id, to string) *iqWait {
	w := &iqWait{to: to, ch: make(chan iqReply, 1)}
	t.mu.Lock()
	t.pending[id] = w
	t.mu.Unlock()
	return w
}

func (t *iqTracker) remove(id string) {
	t.mu.Lock()
	delete(t.pending, id)
	t.mu.Unlock()
}

func (t *iqTracker) failAll(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, w := range t.pending {
		w.ch <- iqReply{err: err}
		delete(t.pending, id)
	}
}

// resolve hands a reply to its waiter if the sender is the one asked.
func (t *iqTracker) resolve(c *Client, iq stanza.IQ, raw []byte, decodeErr error) {
	t.mu.Lock()
	w, ok := t.pending[iq.Id]
	if ok && c.replyFromExpected(w.to, iq.From) {
		delete(t.pending, iq.Id)
	} else {
		ok = false
	}
	t.mu.Unlock()
	if !ok {
		c.log.Warn("ignoring an IQ reply nobody waits for (unknown id or wrong sender)", "id", iq.Id, "from", iq.From)
		return
	}
	w.ch <- iqReply{iq: iq, raw: raw, err: decodeErr}
}

// replyFromExpected: a reply must come from the JID the request went to;
// for a request without 'to' (or to our own bare JID), from is empty, our
// own bare or full JID, or our server.
func (c *Client) replyFromExpected(to, from string) bool {
	fromJ := ""
	if from != "" {
		j, err := ParseJID(from)
		if err != nil {
			return false
		}
		fromJ = j.String()
	}
	own := c.JID()
	if to == "" || to == own.Bare().String() {
		return fromJ == "" || fromJ == own.Bare().String() || fromJ == own.String() || fromJ == c.cfg.JID.Domain
	}
	return fromJ == to
}

// SendIQ sends a get or set and waits for the matching reply. A reply of
// type error is returned with a *StanzaError. The reply's payload is not
// decoded (only its attributes are set): use SendIQRaw and DecodeIQPayload
// to read it.
func (c *Client) SendIQ(ctx context.Context, iq stanza.IQ) (stanza.IQ, error) {
	reply, _, err := c.sendIQ(ctx, iq)
	return reply, err
}

// SendIQRaw is SendIQ that also returns the reply's raw XML, for payloads
// decoded by the caller's own types.
func (c *Client) SendIQRaw(ctx context.Context, iq stanza.IQ) (stanza.IQ, []byte, error) {
	return c.sendIQ(ctx, iq)
}

func (c *Client) sendIQ(ctx context.Context, iq stanza.IQ) (stanza.IQ, []byte, error) {
	if iq.Type != stanza.IQTypeGet && iq.Type != stanza.IQTypeSet {
		return stanza.IQ{}, nil, fmt.Errorf("SendIQ: type must be get or set, not %q", iq.Type)
	}
	if iq.XMLName.Local == "" {
		iq.XMLName = xml.Name{Local: "iq"}
	}
	if iq.Id == "" {
		iq.Id = newID()
	}
	to := ""
	if iq.To != "" {
		j, err := ParseJID(iq.To)
		if err != nil {
			return stanza.IQ{}, nil, err
		}
		to = j.String()
	}
	w := c.iqs.add(iq.Id, to) // before the write, so a fast reply is never lost
	if err := c.Send(&iq); err != nil {
		c.iqs.remove(iq.Id)
		return stanza.IQ{}, nil, err
	}
	select {
	case r := <-w.ch:
		if r.err != nil {
			return r.iq, r.raw, r.err
		}
		if r.iq.Type == stanza.IQTypeError {
			return r.iq, r.raw, stanzaErrorOf(r.iq)
		}
		return r.iq, r.raw, nil
	case <-ctx.Done():
		c.iqs.remove(iq.Id)
		return stanza.IQ{}, nil, fmt.Errorf("waiting for the reply to %s: %w", iq.Id, ctx.Err())
	}
}

func stanzaErrorOf(iq stanza.IQ) *StanzaError {
	if iq.Error == nil {
		return &StanzaError{Type: "cancel", Condition: "undefined-condition"}
	}
	return &StanzaError{Type: string(iq.Error.Type), Condition: iq.Error.Reason, Text: iq.Error.Text}
}

// handleIQRequest runs the handler for an incoming get/set, or answers
// service-unavailable.
func (c *Client) handleIQRequest(cn *conn, iq stanza.IQ, raw []byte) {
	name := firstChildName(cn.er.header, raw)
	c.handlersMu.RLock()
	h := c.handlers[name]
	c.handlersMu.RUnlock()
	if h == nil {
		c.replyError(iq.Id, iq.From, "cancel", "service-unavailable")
		return
	}
	result, err := callHandler(h, iq, raw)
	if err != nil {
		var se *StanzaError
		if errors.As(err, &se) {
			c.replyError(iq.Id, iq.From, se.Type, se.Condition)
		} else {
			c.log.Warn("IQ handler failed", "payload", name.Space, "err", err)
			c.replyError(iq.Id, iq.From, "wait", "internal-server-error")
		}
		return
	}
	payload := ""
	if result != nil {
		b, err := xml.Marshal(result)
		if err != nil {
			c.log.Warn("IQ handler result does not encode", "err", err)
			c.replyError(iq.Id, iq.From, "wait", "internal-server-error")
			return
		}
		payload = string(b)
	}
	_ = c.sendRaw([]byte(iqOpen("result", iq.Id, iq.From)+payload+"</iq>"), iq.Id, "iq")
}

func callHandler(h IQHandler, iq stanza.IQ, raw []byte) (res any, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("IQ handler panic: %v", r)
		}
	}()
	return h(iq, raw)
}

func iqOpen(typ, id, to string) string {
	s := "<iq type='" + typ + "' id='" + xmlEscape(id) + "'"
	if to != "" {
		s += " to='" + xmlEscape(to) + "'"
	}
	return s + ">"
}

// replyError answers an IQ request with an error.
func (c *Client) replyError(id, to, typ, condition string) {
	if typ == "" {
		typ = "cancel"
	}
	x := iqOpen("error", id, to) + "<error type='" + typ + "'><" + condition + " xmlns='" + nsStanzas + "'/></error></iq>"
	_ = c.sendRaw([]byte(x), id, "iq")
}

// firstChildName returns the name of the first child element of raw.
func firstChildName(h streamHeader, raw []byte) xml.Name {
	dec, err := newElementDecoder(h, raw)
	if err != nil {
		return xml.Name{}
	}
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return xml.Name{}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 && t.Name.Local != "error" {
				return t.Name
			}
		case xml.EndElement:
			depth--
			if depth == 0 {
				return xml.Name{}
			}
		}
	}
}
