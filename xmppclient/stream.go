// The stream reader: it reads an XMPP stream one top-level element at a
// time and hands each one over whole, as raw bytes plus its start tag, so a
// stanza that fails to decode can be logged and skipped without losing the
// stream; a message stanza is parsed in the same pass that finds its end. It also writes the stream header and decodes the elements used
// while negotiating (features, TLS, SASL, bind, stream management).
package xmppclient

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

const (
	nsStream  = "http://etherx.jabber.org/streams"
	nsClient  = "jabber:client"
	nsTLS     = "urn:ietf:params:xml:ns:xmpp-tls"
	nsSASL    = "urn:ietf:params:xml:ns:xmpp-sasl"
	nsBind    = "urn:ietf:params:xml:ns:xmpp-bind"
	nsSession = "urn:ietf:params:xml:ns:xmpp-session"
	nsSM      = "urn:xmpp:sm:3"
	nsStanzas = "urn:ietf:params:xml:ns:xmpp-stanzas"
	nsStreams = "urn:ietf:params:xml:ns:xmpp-streams"
	nsRegFeat = "http://jabber.org/features/iq-register"
	nsCaps    = "http://jabber.org/protocol/caps"
)

// maxElementSize bounds one top-level element; a larger one ends the
// stream (servers limit stanzas to far less, typically 256 KiB).
const maxElementSize = 16 << 20

// errStreamClosed is returned when the peer closed the stream (</stream:stream>).
var errStreamClosed = errors.New("the server closed the stream")

// streamHeader is what the server said in its <stream:stream> tag.
type streamHeader struct {
	ID      string
	From    string
	Version string
	nsDecls []xml.Attr // namespace declarations, to decode elements standalone
}

// recorder keeps the bytes the XML decoder has pulled from the connection,
// so the bytes of each element can be cut out by decoder offsets.
type recorder struct {
	r    io.Reader
	buf  []byte
	base int64 // stream offset of buf[0]
	err  error
}

func (rc *recorder) Read(p []byte) (int, error) {
	n, err := rc.r.Read(p)
	if n > 0 {
		if len(rc.buf)+n > maxElementSize+64<<10 {
			rc.err = fmt.Errorf("an element is larger than %d bytes", maxElementSize)
			return 0, rc.err
		}
		rc.buf = append(rc.buf, p[:n]...)
	}
	return n, err
}

// cut returns the bytes between two stream offsets.
func (rc *recorder) cut(start, end int64) []byte {
	return rc.buf[start-rc.base : end-rc.base]
}

// discard forgets the bytes before stream offset off.
func (rc *recorder) discard(off int64) {
	drop := int(off - rc.base)
	if drop <= 0 {
		return
	}
	rest := len(rc.buf) - drop
	if cap(rc.buf) > 64<<10 && rest < cap(rc.buf)/4 {
		nb := make([]byte, rest, max(rest, 4096))
		copy(nb, rc.buf[drop:])
		rc.buf = nb
	} else {
		copy(rc.buf, rc.buf[drop:])
		rc.buf = rc.buf[:rest]
	}
	rc.base = off
}

// element is one top-level element read from the stream.
type element struct {
	Start xml.StartElement // namespace-resolved start tag
	Raw   []byte           // the element's bytes exactly as received
	// msg is a <message/> stanza as parsed while it was read, in the same
	// pass over its tokens that found its end (nil for other elements).
	msg *incomingMessage
}

func (e *element) attr(local string) string {
	for _, a := range e.Start.Attr {
		if a.Name.Local == local && (a.Name.Space == "" || local == "lang") {
			return a.Value
		}
	}
	return ""
}

// elementReader reads top-level elements of one stream (one per TLS or
// SASL restart).
type elementReader struct {
	rec    *recorder
	dec    *xml.Decoder
	header streamHeader
}

func newElementReader(r io.Reader) *elementReader {
	rec := &recorder{r: r}
	dec := xml.NewDecoder(rec)
	dec.Strict = true
	return &elementReader{rec: rec, dec: dec}
}

// readHeader reads up to and including the server's <stream:stream> tag.
func (er *elementReader) readHeader() (streamHeader, error) {
	for {
		tok, err := er.dec.Token()
		if err != nil {
			return streamHeader{}, er.wrapErr(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space != nsStream || t.Name.Local != "stream" {
				return streamHeader{}, &ProtocolError{Step: "stream start", Err: fmt.Errorf("expected <stream:stream>, got <%s xmlns='%s'>", t.Name.Local, t.Name.Space)}
			}
			var h streamHeader
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns"):
					h.nsDecls = append(h.nsDecls, a)
				case a.Name.Local == "id":
					h.ID = a.Value
				case a.Name.Local == "from":
					h.From = a.Value
				case a.Name.Local == "version":
					h.Version = a.Value
				}
			}
			er.header = h
			er.rec.discard(er.dec.InputOffset())
			return h, nil
		case xml.ProcInst, xml.CharData, xml.Comment, xml.Directive:
			// the XML declaration and whitespace before the header
		}
	}
}

// next returns the next top-level element. Whitespace keep-alives between
// elements are skipped. errStreamClosed reports </stream:stream>. A
// <message/> stanza is parsed on the way (element.msg), so its tokens are
// read once: finding its end and parsing it are the same pass.
func (er *elementReader) next() (element, error) {
	for {
		off := er.dec.InputOffset()
		tok, err := er.dec.Token()
		if err != nil {
			return element{}, er.wrapErr(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			start := t.Copy()
			var msg *incomingMessage
			if start.Name.Space == nsClient && start.Name.Local == "message" {
				msg, err = readTopMessage(&elementTokens{dec: er.dec, base: off}, start)
			} else {
				err = er.dec.Skip()
			}
			if err != nil {
				return element{}, er.wrapErr(err)
			}
			end := er.dec.InputOffset()
			raw := bytes.Clone(er.rec.cut(off, end))
			er.rec.discard(end)
			if msg != nil {
				msg.attachRaw(raw)
			}
			return element{Start: start, Raw: raw, msg: msg}, nil
		case xml.EndElement:
			return element{}, errStreamClosed
		default:
			er.rec.discard(er.dec.InputOffset())
		}
	}
}

func (er *elementReader) wrapErr(err error) error {
	if er.rec.err != nil {
		return &ProtocolError{Step: "reading the stream", Err: er.rec.err}
	}
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		if se.Msg == "unexpected EOF" {
			return io.ErrUnexpectedEOF
		}
		return &ProtocolError{Step: "reading the stream", Err: err}
	}
	return err
}

// decodeElement decodes an element's raw bytes into v, resolving prefixes
// and the default namespace as the stream header declared them.
func decodeElement(h streamHeader, raw []byte, v any) error {
	dec := xml.NewDecoder(io.MultiReader(strings.NewReader(wrapperOpen(h)), bytes.NewReader(raw)))
	if _, err := dec.Token(); err != nil { // the wrapper
		return err
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if se, ok := tok.(xml.StartElement); ok {
			return dec.DecodeElement(v, &se)
		}
	}
}

// newElementDecoder returns a decoder positioned just inside a wrapper that
// carries the stream's namespace declarations, followed by raw.
func newElementDecoder(h streamHeader, raw []byte) (*xml.Decoder, error) {
	dec := xml.NewDecoder(io.MultiReader(strings.NewReader(wrapperOpen(h)), bytes.NewReader(raw), strings.NewReader("</w>")))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return dec, nil
}

func wrapperOpen(h streamHeader) string {
	var b strings.Builder
	b.WriteString("<w")
	hasDefault, hasStream := false, false
	for _, a := range h.nsDecls {
		if a.Name.Space == "xmlns" {
			fmt.Fprintf(&b, " xmlns:%s=%q", a.Name.Local, a.Value)
			if a.Name.Local == "stream" {
				hasStream = true
			}
		} else {
			fmt.Fprintf(&b, " xmlns=%q", a.Value)
			hasDefault = true
		}
	}
	if !hasDefault {
		b.WriteString(` xmlns="jabber:client"`)
	}
	if !hasStream {
		b.WriteString(` xmlns:stream="` + nsStream + `"`)
	}
	b.WriteString(">")
	return b.String()
}

// streamOpen is the client's stream header.
func streamOpen(domain string) string {
	return "<?xml version='1.0'?><stream:stream to='" + xmlEscape(domain) +
		"' xmlns='jabber:client' xmlns:stream='" + nsStream + "' version='1.0' xml:lang='en'>"
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// Negotiation elements.

type streamFeatures struct {
	XMLName  xml.Name `xml:"http://etherx.jabber.org/streams features"`
	StartTLS *struct {
		Required *struct{} `xml:"required"`
	} `xml:"urn:ietf:params:xml:ns:xmpp-tls starttls"`
	Mechanisms []string  `xml:"urn:ietf:params:xml:ns:xmpp-sasl mechanisms>mechanism"`
	Bind       *struct{} `xml:"urn:ietf:params:xml:ns:xmpp-bind bind"`
	Session    *struct {
		Optional *struct{} `xml:"optional"`
	} `xml:"urn:ietf:params:xml:ns:xmpp-session session"`
	SM          *struct{} `xml:"urn:xmpp:sm:3 sm"`
	CSI         *struct{} `xml:"urn:xmpp:csi:0 csi"`
	Register    *struct{} `xml:"http://jabber.org/features/iq-register register"`
	RosterVer   *struct{} `xml:"urn:xmpp:features:rosterver ver"`
	PreApproval *struct{} `xml:"urn:xmpp:features:pre-approval sub"`
	Caps        *struct {
		Node string `xml:"node,attr"`
		Ver  string `xml:"ver,attr"`
	} `xml:"http://jabber.org/protocol/caps c"`
}

// definedCondition is an element whose first child names an error
// condition, with an optional <text>: SASL failures and stream errors.
type definedCondition struct {
	Condition string
	Text      string
	known     bool // Condition is from a standard namespace
}

func (d *definedCondition) UnmarshalXML(dec *xml.Decoder, start xml.StartElement) error {
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "text" {
				var s string
				if err := dec.DecodeElement(&s, &t); err != nil {
					return err
				}
				d.Text = s
			} else {
				known := t.Name.Space == nsStreams || t.Name.Space == nsStanzas || t.Name.Space == nsSASL
				if d.Condition == "" || (known && !d.known) {
					d.Condition, d.known = t.Name.Local, known
				}
				if err := dec.Skip(); err != nil {
					return err
				}
			}
		case xml.EndElement:
			return nil
		}
	}
}
