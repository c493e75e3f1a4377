// One-to-one messages: parsing received <message/> stanzas into ChatMessage
// with the extensions Parley uses — XEP-0359 origin-id and stanza-id,
// XEP-0203 delay, XEP-0184 receipts, XEP-0333 chat markers, XEP-0085 chat
// states, XEP-0308 correction, XEP-0424 retraction, XEP-0066 out-of-band
// URLs — and sending them.
package xmppclient

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"strings"
	"time"
)

// Namespaces of the message extensions.
const (
	NSReceipts    = "urn:xmpp:receipts"
	NSChatMarkers = "urn:xmpp:chat-markers:0"
	NSChatStates  = "http://jabber.org/protocol/chatstates"
	NSStanzaID    = "urn:xmpp:sid:0"
	NSCorrection  = "urn:xmpp:message-correct:0"
	NSRetract     = "urn:xmpp:message-retract:1"
	// The older form of XEP-0424 (versions before 0.4, still sent by
	// deployed clients): <apply-to xmlns='urn:xmpp:fasten:0' id='...'>
	// (XEP-0422) wrapping <retract xmlns='urn:xmpp:message-retract:0'/>.
	nsFasten        = "urn:xmpp:fasten:0"
	nsRetractLegacy = "urn:xmpp:message-retract:0"
	NSFallback      = "urn:xmpp:fallback:0"
	NSOOB           = "jabber:x:oob"
	NSHints         = "urn:xmpp:hints"
	nsDelay         = "urn:xmpp:delay"
	nsForward       = "urn:xmpp:forward:0"
)

// Chat states (XEP-0085).
const (
	StateActive    = "active"
	StateComposing = "composing"
	StatePaused    = "paused"
	StateInactive  = "inactive"
	StateGone      = "gone"
)

// ChatMessage is a parsed message.
type ChatMessage struct {
	From, To JID
	Type     string // chat, normal, error, groupchat or headline (absent or unknown: normal)
	ID       string // the id attribute
	OriginID string // XEP-0359 origin-id: the sender's own stable id
	// StanzaIDs are XEP-0359 stanza-ids by the entity in the key (the own
	// bare JID for the own archive). Only ids "by" an entity the caller
	// trusts mean anything.
	StanzaIDs map[string]string
	Body      string
	Subject   string
	Thread    string
	Delay     time.Time // XEP-0203: when it was originally sent; zero if live

	ReceiptRequest bool        // XEP-0184 <request/>
	ReceiptFor     string      // XEP-0184 <received id=.../>
	Markable       bool        // XEP-0333 <markable/>
	MarkerType     string      // received, displayed, acknowledged
	MarkerFor      string      // the id the marker is for
	ChatState      string      // XEP-0085
	Replaces       string      // XEP-0308: id of the message this corrects
	Retracts       string      // XEP-0424: id of the message retracted
	OOBURL         string      // XEP-0066
	File           *SharedFile // XEP-0447 (Dino), when present
	Error          *StanzaError
}

// OriginOrID is the id others use to refer to this message: the origin-id
// when present, else the id attribute.
func (m *ChatMessage) OriginOrID() string {
	if m.OriginID != "" {
		return m.OriginID
	}
	return m.ID
}

// ParseMessage parses the raw bytes of one <message/> element (as in
// MessageEvent.Raw, or the forwarded one of a carbon or an archive result).
// The engine has already parsed what it delivers (MessageEvent.Message);
// this is for bytes kept from earlier.
func ParseMessage(raw []byte) (ChatMessage, error) {
	im, err := parseMessageBytes(streamHeader{}, raw, false)
	if err != nil {
		return ChatMessage{}, fmt.Errorf("message: %w", err)
	}
	if im.bad != nil {
		return ChatMessage{}, im.bad
	}
	return im.msg, nil
}

// incomingMessage is a <message/> parsed in one pass: the message itself
// and, for a stanza at the top level of the stream, the wrappers the engine
// routes itself. Wrappers inside a forwarded message mean nothing and are
// skipped, as is everything below an unknown child: only direct children
// in the client namespace give body, subject and thread, so a <body>
// nested in an unknown payload never lands on the outer message.
type incomingMessage struct {
	msg  ChatMessage
	bad  error  // why msg cannot be used (a from or to that is no JID)
	from string // the from attribute as received, for the sender checks

	result      *mamResult  // XEP-0313 <result/> (mam.go)
	carbon      *carbonCopy // XEP-0280 <received/> or <sent/> (carbons.go)
	pubsubEvent bool        // a XEP-0060 <event/>: maybe a PEP notification (avatar.go)
}

// forwarded is XEP-0297 forwarding: a message and when it was first
// handled.
type forwarded struct {
	stamp time.Time        // from <delay/>; zero if absent or unreadable
	msg   *incomingMessage // nil if no message in the client namespace
	// raw is the forwarded message's bytes, cut out of the stanza as
	// received: namespace declarations on its ancestors are not repeated
	// in them (servers declare xmlns='jabber:client' on the message).
	raw      []byte
	from, to int // where raw is in the outer stanza
}

// parseMessageBytes parses the bytes of one <message/> element, resolving
// prefixes as the stream header h declared them. Only a document that is
// not well-formed (or not a message) is an error. It never panics.
func parseMessageBytes(h streamHeader, raw []byte, top bool) (im *incomingMessage, err error) {
	defer func() {
		if r := recover(); r != nil {
			im, err = nil, fmt.Errorf("message parser panic: %v", r)
		}
	}()
	dec, err := newElementDecoder(h, raw)
	if err != nil {
		return nil, err
	}
	// Offsets count from raw[0], which follows the wrapper's start tag.
	w := &elementTokens{dec: dec, base: dec.InputOffset()}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		if start, ok := tok.(xml.StartElement); ok {
			if start.Name.Local != "message" {
				return nil, fmt.Errorf("not a message: <%s xmlns='%s'>", start.Name.Local, start.Name.Space)
			}
			if im, err = parseMessage(w, start, top); err != nil {
				return nil, err
			}
			im.attachRaw(raw)
			return im, nil
		}
	}
}

// readTopMessage parses a top-level <message/> on the stream whose start
// tag the reader has just read, through its end tag. err is only a token
// error, which ends the stream; a message the parser cannot make sense of
// comes back with bad set. It never panics.
func readTopMessage(w *elementTokens, start xml.StartElement) (im *incomingMessage, err error) {
	defer func() {
		if r := recover(); r != nil {
			im, err = &incomingMessage{bad: fmt.Errorf("message parser panic: %v", r)}, w.close(0)
		}
	}()
	return parseMessage(w, start, true)
}

// attachRaw cuts the forwarded messages' bytes out of raw, the bytes of
// the parsed element.
func (im *incomingMessage) attachRaw(raw []byte) {
	for _, f := range []*forwarded{im.result.forwarded(), im.carbon.forwarded()} {
		if f != nil && f.msg != nil && 0 <= f.from && f.from < f.to && f.to <= len(raw) {
			f.raw = raw[f.from:f.to:f.to]
		}
	}
}

// parseMessage reads a message whose start tag was just read, through its
// end tag. Only token errors are returned.
func parseMessage(w *elementTokens, start xml.StartElement, top bool) (*incomingMessage, error) {
	im := &incomingMessage{}
	m := &im.msg
	to := ""
	for _, a := range start.Attr {
		if a.Name.Space != "" {
			continue
		}
		switch a.Name.Local {
		case "from":
			im.from = a.Value
		case "to":
			to = a.Value
		case "type":
			m.Type = a.Value
		case "id":
			m.ID = a.Value
		}
	}
	switch m.Type {
	case "chat", "error", "groupchat", "headline", "normal":
	default:
		// RFC 6121 §5.2.2: a message without a type, or with one not
		// understood, is of type normal.
		m.Type = "normal"
	}
	var err error
	if im.from != "" {
		if m.From, err = ParseJID(im.from); err != nil {
			im.bad = fmt.Errorf("message from: %w", err)
		}
	}
	if to != "" && im.bad == nil {
		if m.To, err = ParseJID(to); err != nil {
			im.bad = fmt.Errorf("message to: %w", err)
		}
	}
	var p messagePayloads
	err = w.children(func(c xml.StartElement) error { return p.child(w, im, c, top) })
	return im, err
}

// messagePayloads is what parseMessage remembers between children.
type messagePayloads struct {
	haveBody, bodyHasLang bool
	markerRank            int
}

// child reads one child element of a message (or leaves it, unknown, for
// parseMessage to skip).
func (p *messagePayloads) child(w *elementTokens, im *incomingMessage, c xml.StartElement, top bool) error {
	m := &im.msg
	var err error
	switch c.Name.Space {
	case nsClient:
		switch c.Name.Local {
		case "body":
			lang := ""
			for _, a := range c.Attr {
				if a.Name.Space == nsXML && a.Name.Local == "lang" {
					lang = a.Value
				}
			}
			var s string
			if s, err = w.text(); err == nil && (!p.haveBody || (p.bodyHasLang && lang == "")) {
				// the body without a language tag, else the first one
				m.Body, p.haveBody, p.bodyHasLang = s, true, lang != ""
			}
		case "subject":
			m.Subject, err = w.text()
		case "thread":
			m.Thread, err = w.text()
		case "error":
			m.Error, err = parseStanzaError(w, c)
		}
	case NSStanzaID:
		switch c.Name.Local {
		case "origin-id":
			m.OriginID = plainAttr(c, "id")
		case "stanza-id":
			id := plainAttr(c, "id")
			if by, err := ParseJID(plainAttr(c, "by")); err == nil && id != "" {
				if m.StanzaIDs == nil {
					m.StanzaIDs = map[string]string{}
				}
				m.StanzaIDs[by.String()] = id
			}
		}
	case nsDelay:
		if c.Name.Local == "delay" {
			m.Delay = parseStamp(plainAttr(c, "stamp"))
		}
	case NSReceipts:
		switch c.Name.Local {
		case "request":
			m.ReceiptRequest = true
		case "received":
			m.ReceiptFor = plainAttr(c, "id")
		}
	case NSChatMarkers:
		if c.Name.Local == "markable" {
			m.Markable = true
		} else if rank := markerRank(c.Name.Local); rank > 0 && rank >= p.markerRank {
			m.MarkerType, m.MarkerFor, p.markerRank = c.Name.Local, plainAttr(c, "id"), rank
		}
	case NSChatStates:
		switch c.Name.Local {
		case StateActive, StateComposing, StatePaused, StateInactive, StateGone:
			m.ChatState = c.Name.Local
		}
	case NSCorrection:
		if c.Name.Local == "replace" {
			m.Replaces = plainAttr(c, "id")
		}
	case NSRetract:
		if c.Name.Local == "retract" {
			m.Retracts = plainAttr(c, "id")
		}
	case nsFasten:
		if c.Name.Local == "apply-to" && m.Retracts == "" {
			target := plainAttr(c, "id")
			err = w.children(func(a xml.StartElement) error {
				if a.Name.Space == nsRetractLegacy && a.Name.Local == "retract" && target != "" {
					m.Retracts = target
				}
				return nil
			})
		}
	case NSOOB:
		if c.Name.Local == "x" {
			err = w.children(func(u xml.StartElement) error {
				if u.Name.Local != "url" {
					return nil
				}
				s, err := w.text()
				m.OOBURL = strings.TrimSpace(s)
				return err
			})
		}
	case nsSFS:
		if c.Name.Local == "file-sharing" && m.File == nil {
			m.File, err = parseFileSharing(w, c)
		}
	case nsMAM:
		if top && c.Name.Local == "result" && im.result == nil {
			im.result, err = parseMAMResult(w, c)
		}
	case nsCarbons:
		if top && (c.Name.Local == "received" || c.Name.Local == "sent") {
			var cc *carbonCopy
			cc, err = parseCarbon(w, c)
			if err == nil && (im.carbon == nil || (im.carbon.sent && !cc.sent)) {
				im.carbon = cc // the first; a <received/> wins over a <sent/>
			}
		}
	case nsPubSubEvent:
		im.pubsubEvent = im.pubsubEvent || (top && c.Name.Local == "event")
	}
	return err
}

// parseForwarded reads a XEP-0297 <forwarded/> whose start tag was just
// read: its delay and the first message in the client namespace.
func parseForwarded(w *elementTokens) (*forwarded, error) {
	f := &forwarded{}
	haveDelay := false
	err := w.children(func(c xml.StartElement) error {
		switch {
		case c.Name.Space == nsDelay && c.Name.Local == "delay" && !haveDelay:
			f.stamp, haveDelay = parseStamp(plainAttr(c, "stamp")), true
		case c.Name.Space == nsClient && c.Name.Local == "message" && f.msg == nil:
			from := w.offset()
			im, err := parseMessage(w, c, false)
			if err != nil {
				return err
			}
			f.msg, f.from, f.to = im, from, w.end()
		}
		return nil
	})
	return f, err
}

// parseStanzaError reads an <error/> element whose start tag was just read:
// its type, the first defined condition (a standard one over any other)
// and its text.
func parseStanzaError(w *elementTokens, start xml.StartElement) (*StanzaError, error) {
	e := &StanzaError{Type: plainAttr(start, "type")}
	known := false
	err := w.children(func(c xml.StartElement) error {
		if c.Name.Local == "text" {
			var err error
			e.Text, err = w.text()
			return err
		}
		k := c.Name.Space == nsStanzas || c.Name.Space == nsStreams || c.Name.Space == nsSASL
		if e.Condition == "" || (k && !known) {
			e.Condition, known = c.Name.Local, k
		}
		return nil
	})
	return e, err
}

// markerRank orders the XEP-0333 markers: displayed implies acknowledged,
// which implies received; 0 for anything else.
func markerRank(local string) int {
	switch local {
	case "received":
		return 1
	case "acknowledged":
		return 2
	case "displayed":
		return 3
	}
	return 0
}

// parseStamp reads a XEP-0082 date-time; the zero time if it is not one.
func parseStamp(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// OutgoingMessage is a message to send.
type OutgoingMessage struct {
	To             JID
	Type           string // default chat
	ID             string // default: a new id; also used as origin-id
	Body           string
	Thread         string
	RequestReceipt bool   // XEP-0184
	Markable       bool   // XEP-0333
	ChatState      string // XEP-0085; may be the only content
	Replaces       string // XEP-0308: correct the message with this id
	Retracts       string // XEP-0424: retract the message with this id
	MarkerType     string // send a XEP-0333 marker (displayed, received ...)
	MarkerFor      string
	ReceiptFor     string // send a XEP-0184 receipt for this id
	OOBURL         string // XEP-0066; Body should equal it for other clients' previews
	NoStore        bool   // XEP-0334 <no-store/> (chat states alone)
}

// Encode writes the message as XML. The id is also the XEP-0359 origin-id.
func (o *OutgoingMessage) Encode() []byte {
	typ := o.Type
	if typ == "" {
		typ = "chat"
	}
	var b strings.Builder
	b.WriteString("<message type='" + xmlEscape(typ) + "' to='" + xmlEscape(o.To.String()) + "' id='" + xmlEscape(o.ID) + "'>")
	if o.Body != "" {
		b.WriteString("<body>" + xmlEscape(o.Body) + "</body>")
	}
	if o.Thread != "" {
		b.WriteString("<thread>" + xmlEscape(o.Thread) + "</thread>")
	}
	b.WriteString("<origin-id xmlns='" + NSStanzaID + "' id='" + xmlEscape(o.ID) + "'/>")
	if o.RequestReceipt {
		b.WriteString("<request xmlns='" + NSReceipts + "'/>")
	}
	if o.ReceiptFor != "" {
		b.WriteString("<received xmlns='" + NSReceipts + "' id='" + xmlEscape(o.ReceiptFor) + "'/>")
	}
	if o.Markable {
		b.WriteString("<markable xmlns='" + NSChatMarkers + "'/>")
	}
	if o.MarkerType != "" {
		b.WriteString("<" + o.MarkerType + " xmlns='" + NSChatMarkers + "' id='" + xmlEscape(o.MarkerFor) + "'/>")
	}
	if o.ChatState != "" {
		b.WriteString("<" + o.ChatState + " xmlns='" + NSChatStates + "'/>")
	}
	if o.Replaces != "" {
		b.WriteString("<replace xmlns='" + NSCorrection + "' id='" + xmlEscape(o.Replaces) + "'/>")
	}
	if o.Retracts != "" {
		b.WriteString("<retract xmlns='" + NSRetract + "' id='" + xmlEscape(o.Retracts) + "'/>")
		b.WriteString("<fallback xmlns='" + NSFallback + "' for='" + NSRetract + "'/>")
		b.WriteString("<store xmlns='" + NSHints + "'/>")
	}
	if o.OOBURL != "" {
		b.WriteString("<x xmlns='" + NSOOB + "'><url>" + xmlEscape(o.OOBURL) + "</url></x>")
	}
	if o.NoStore {
		b.WriteString("<no-store xmlns='" + NSHints + "'/>")
	}
	b.WriteString("</message>")
	return []byte(b.String())
}

// EncodedTextSize is the number of bytes s takes as character data in a
// stanza, escaped as Encode escapes a body ('<' becomes "&lt;", a line
// break "&#xA;"): what counts against a server's stanza size limit.
func EncodedTextSize(s string) int {
	var n byteCounter
	_ = xml.EscapeText(&n, []byte(s))
	return int(n)
}

// byteCounter is an io.Writer that only counts.
type byteCounter int

func (c *byteCounter) Write(p []byte) (int, error) {
	*c += byteCounter(len(p))
	return len(p), nil
}

// SendMessage writes a message (queued for resumption like every stanza)
// and returns its id; the AckEvent with that id means the server has it.
func (c *Client) SendMessage(o OutgoingMessage) (string, error) {
	if o.To.IsZero() {
		return "", fmt.Errorf("send message: no recipient")
	}
	if o.ID == "" {
		o.ID = NewMessageID()
	}
	if o.MarkerType != "" {
		switch o.MarkerType {
		case "received", "displayed", "acknowledged":
		default:
			return "", fmt.Errorf("send message: unknown marker %q", o.MarkerType)
		}
	}
	if o.ChatState != "" {
		switch o.ChatState {
		case StateActive, StateComposing, StatePaused, StateInactive, StateGone:
		default:
			return "", fmt.Errorf("send message: unknown chat state %q", o.ChatState)
		}
	}
	if err := c.sendRaw(o.Encode(), o.ID, "message"); err != nil {
		return "", fmt.Errorf("send message to %s: %w", o.To, err)
	}
	return o.ID, nil
}

// NewMessageID returns a fresh, globally unique id for a message (128
// random bits), to be stored in the outbox before sending; it doubles as
// the XEP-0359 origin-id, which receivers use to drop duplicates.
func NewMessageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
