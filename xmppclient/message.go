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
	NSFallback    = "urn:xmpp:fallback:0"
	NSOOB         = "jabber:x:oob"
	NSHints       = "urn:xmpp:hints"
	nsDelay       = "urn:xmpp:delay"
	nsForward     = "urn:xmpp:forward:0"
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
	Type     string // chat, normal, error, groupchat, headline ("" is normal)
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

	ReceiptRequest bool   // XEP-0184 <request/>
	ReceiptFor     string // XEP-0184 <received id=.../>
	Markable       bool   // XEP-0333 <markable/>
	MarkerType     string // received, displayed, acknowledged
	MarkerFor      string // the id the marker is for
	ChatState      string // XEP-0085
	Replaces       string // XEP-0308: id of the message this corrects
	Retracts       string // XEP-0424: id of the message retracted
	OOBURL         string // XEP-0066
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

// messageWire is the XML shape of a message with the extensions above.
type messageWire struct {
	XMLName xml.Name
	From    string `xml:"from,attr"`
	To      string `xml:"to,attr"`
	Type    string `xml:"type,attr"`
	ID      string `xml:"id,attr"`
	Bodies  []struct {
		Lang string `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
		Text string `xml:",chardata"`
	} `xml:"jabber:client body"`
	Subject  string `xml:"jabber:client subject"`
	Thread   string `xml:"jabber:client thread"`
	OriginID *struct {
		ID string `xml:"id,attr"`
	} `xml:"urn:xmpp:sid:0 origin-id"`
	StanzaIDs []struct {
		ID string `xml:"id,attr"`
		By string `xml:"by,attr"`
	} `xml:"urn:xmpp:sid:0 stanza-id"`
	Delay *struct {
		Stamp string `xml:"stamp,attr"`
	} `xml:"urn:xmpp:delay delay"`
	ReceiptRequest *struct{} `xml:"urn:xmpp:receipts request"`
	ReceiptFor     *struct {
		ID string `xml:"id,attr"`
	} `xml:"urn:xmpp:receipts received"`
	Markable  *struct{} `xml:"urn:xmpp:chat-markers:0 markable"`
	Displayed *struct {
		ID string `xml:"id,attr"`
	} `xml:"urn:xmpp:chat-markers:0 displayed"`
	MarkReceived *struct {
		ID string `xml:"id,attr"`
	} `xml:"urn:xmpp:chat-markers:0 received"`
	Acknowledged *struct {
		ID string `xml:"id,attr"`
	} `xml:"urn:xmpp:chat-markers:0 acknowledged"`
	States []struct {
		XMLName xml.Name
	} `xml:",any"`
	Replace *struct {
		ID string `xml:"id,attr"`
	} `xml:"urn:xmpp:message-correct:0 replace"`
	Retract *struct {
		ID string `xml:"id,attr"`
	} `xml:"urn:xmpp:message-retract:1 retract"`
	OOB *struct {
		URL string `xml:"url"`
	} `xml:"jabber:x:oob x"`
	Error *struct {
		Type string `xml:"type,attr"`
		definedCondition
	} `xml:"jabber:client error"`
}

// ParseMessage parses the raw bytes of a top-level <message/> (as in
// MessageEvent.Raw, or a forwarded one from a carbon or the archive).
func ParseMessage(raw []byte) (ChatMessage, error) {
	var w messageWire
	if err := decodeElement(streamHeader{}, raw, &w); err != nil {
		return ChatMessage{}, fmt.Errorf("message: %w", err)
	}
	return w.chatMessage()
}

func (w *messageWire) chatMessage() (ChatMessage, error) {
	var m ChatMessage
	var err error
	if w.From != "" {
		if m.From, err = ParseJID(w.From); err != nil {
			return ChatMessage{}, fmt.Errorf("message from: %w", err)
		}
	}
	if w.To != "" {
		if m.To, err = ParseJID(w.To); err != nil {
			return ChatMessage{}, fmt.Errorf("message to: %w", err)
		}
	}
	m.Type, m.ID, m.Subject, m.Thread = w.Type, w.ID, w.Subject, w.Thread
	if len(w.Bodies) > 0 {
		m.Body = w.Bodies[0].Text
		for _, b := range w.Bodies { // prefer the body without a language tag
			if b.Lang == "" {
				m.Body = b.Text
				break
			}
		}
	}
	if w.OriginID != nil {
		m.OriginID = w.OriginID.ID
	}
	for _, s := range w.StanzaIDs {
		if by, err := ParseJID(s.By); err == nil && s.ID != "" {
			if m.StanzaIDs == nil {
				m.StanzaIDs = map[string]string{}
			}
			m.StanzaIDs[by.String()] = s.ID
		}
	}
	if w.Delay != nil {
		if t, err := time.Parse(time.RFC3339Nano, w.Delay.Stamp); err == nil {
			m.Delay = t
		}
	}
	m.ReceiptRequest = w.ReceiptRequest != nil
	if w.ReceiptFor != nil {
		m.ReceiptFor = w.ReceiptFor.ID
	}
	m.Markable = w.Markable != nil
	switch {
	case w.Displayed != nil:
		m.MarkerType, m.MarkerFor = "displayed", w.Displayed.ID
	case w.Acknowledged != nil:
		m.MarkerType, m.MarkerFor = "acknowledged", w.Acknowledged.ID
	case w.MarkReceived != nil:
		m.MarkerType, m.MarkerFor = "received", w.MarkReceived.ID
	}
	for _, s := range w.States {
		if s.XMLName.Space == NSChatStates {
			switch s.XMLName.Local {
			case StateActive, StateComposing, StatePaused, StateInactive, StateGone:
				m.ChatState = s.XMLName.Local
			}
		}
	}
	if w.Replace != nil {
		m.Replaces = w.Replace.ID
	}
	if w.Retract != nil {
		m.Retracts = w.Retract.ID
	}
	if w.OOB != nil {
		m.OOBURL = strings.TrimSpace(w.OOB.URL)
	}
	if w.Error != nil {
		m.Error = &StanzaError{Type: w.Error.Type, Condition: w.Error.Condition, Text: w.Error.Text}
	}
	return m, nil
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
