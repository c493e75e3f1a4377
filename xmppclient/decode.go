// Stanza decoding of presences and IQs into gosrc.io/xmpp/stanza types,
// done safely: the library's own Presence decoder reads every token of
// unknown child elements, so a payload nested inside an unknown one could
// leak onto the outer stanza. Here unknown children are skipped whole,
// only direct children in the client namespace are taken as show, status
// and priority, and registered extensions are decoded through
// stanza.TypeRegistry. Messages are parsed into ChatMessage instead, in
// the reader's own pass (message.go).
package xmppclient

import (
	"encoding/xml"
	"fmt"
	"strconv"

	"gosrc.io/xmpp/stanza"
)

const nsXML = "http://www.w3.org/XML/1998/namespace"

// decodeStanza turns raw bytes into a gosrc.io/xmpp/stanza packet: a
// stanza.Presence or *stanza.IQ. It never panics.
func decodeStanza(h streamHeader, raw []byte) (pkt stanza.Packet, err error) {
	defer func() {
		if r := recover(); r != nil {
			pkt, err = nil, fmt.Errorf("decoder panic: %v", r)
		}
	}()
	dec, err := newElementDecoder(h, raw)
	if err != nil {
		return nil, err
	}
	var start xml.StartElement
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		if se, ok := tok.(xml.StartElement); ok {
			start = se
			break
		}
	}
	if start.Name.Space != nsClient {
		return nil, fmt.Errorf("not a client stanza: <%s xmlns='%s'>", start.Name.Local, start.Name.Space)
	}
	switch start.Name.Local {
	case "presence":
		var p stanza.Presence
		err := decodePresence(dec, start, &p)
		return p, err
	case "iq":
		iq := &stanza.IQ{}
		err := dec.DecodeElement(iq, &start)
		return iq, err
	}
	return nil, fmt.Errorf("unknown stanza <%s>", start.Name.Local)
}

func stanzaAttrs(start xml.StartElement) stanza.Attrs {
	var a stanza.Attrs
	for _, at := range start.Attr {
		switch {
		case at.Name.Space == "" && at.Name.Local == "id":
			a.Id = at.Value
		case at.Name.Space == "" && at.Name.Local == "type":
			a.Type = stanza.StanzaType(at.Value)
		case at.Name.Space == "" && at.Name.Local == "to":
			a.To = at.Value
		case at.Name.Space == "" && at.Name.Local == "from":
			a.From = at.Value
		case at.Name.Space == nsXML && at.Name.Local == "lang":
			a.Lang = at.Value
		}
	}
	return a
}

func decodePresence(dec *xml.Decoder, start xml.StartElement, p *stanza.Presence) error {
	p.XMLName = start.Name
	p.Attrs = stanzaAttrs(start)
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if ext := stanza.TypeRegistry.GetPresExtension(t.Name); ext != nil {
				if err := dec.DecodeElement(ext, &t); err != nil {
					return fmt.Errorf("presence payload <%s xmlns='%s'>: %w", t.Name.Local, t.Name.Space, err)
				}
				p.Extensions = append(p.Extensions, ext)
				continue
			}
			if t.Name.Space != nsClient {
				if err := dec.Skip(); err != nil {
					return err
				}
				continue
			}
			switch t.Name.Local {
			case "show":
				var s string
				if err := dec.DecodeElement(&s, &t); err != nil {
					return err
				}
				p.Show = stanza.PresenceShow(s)
			case "status":
				if err := dec.DecodeElement(&p.Status, &t); err != nil {
					return err
				}
			case "priority":
				var s string
				if err := dec.DecodeElement(&s, &t); err != nil {
					return err
				}
				n, err := strconv.ParseInt(s, 10, 8)
				if err != nil {
					return fmt.Errorf("presence priority %q: %w", s, err)
				}
				p.Priority = int8(n)
			case "error":
				if err := dec.DecodeElement(&p.Error, &t); err != nil {
					return err
				}
			default:
				if err := dec.Skip(); err != nil {
					return err
				}
			}
		case xml.EndElement:
			return nil
		}
	}
}
