// XEP-0030 Service Discovery and XEP-0115 Entity Capabilities: queries of
// other entities' identities, features and items, the responder that
// describes Parley, and the caps element put on every presence.
package xmppclient

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/xml"
	"slices"
	"sort"
	"strings"

	"gosrc.io/xmpp/stanza"
)

const (
	nsDiscoInfo  = "http://jabber.org/protocol/disco#info"
	nsDiscoItems = "http://jabber.org/protocol/disco#items"
)

// DiscoIdentity is one identity of an entity.
type DiscoIdentity struct {
	Category string `xml:"category,attr"`
	Type     string `xml:"type,attr"`
	Name     string `xml:"name,attr,omitempty"`
	Lang     string `xml:"http://www.w3.org/XML/1998/namespace lang,attr,omitempty"`
}

// DiscoInfo is what an entity says about itself.
type DiscoInfo struct {
	XMLName    xml.Name        `xml:"http://jabber.org/protocol/disco#info query"`
	Node       string          `xml:"node,attr,omitempty"`
	Identities []DiscoIdentity `xml:"identity"`
	Features   []discoFeature  `xml:"feature"`
	Forms      []DataForm      `xml:"jabber:x:data x"`
}

type discoFeature struct {
	Var string `xml:"var,attr"`
}

// HasFeature reports whether the entity announced feature.
func (d *DiscoInfo) HasFeature(feature string) bool {
	for _, f := range d.Features {
		if f.Var == feature {
			return true
		}
	}
	return false
}

// FeatureList returns the announced features.
func (d *DiscoInfo) FeatureList() []string {
	out := make([]string, len(d.Features))
	for i, f := range d.Features {
		out[i] = f.Var
	}
	return out
}

// DataForm is a XEP-0004 form, as found in disco extensions and registration.
type DataForm struct {
	Type         string      `xml:"type,attr"`
	Title        string      `xml:"title,omitempty"`
	Instructions string      `xml:"instructions,omitempty"`
	Fields       []FormField `xml:"field"`
}

// FormField is one field of a DataForm.
type FormField struct {
	Var      string    `xml:"var,attr,omitempty"`
	Type     string    `xml:"type,attr,omitempty"`
	Label    string    `xml:"label,attr,omitempty"`
	Required *struct{} `xml:"required"`
	Values   []string  `xml:"value"`
}

// Value returns the first value of the field named v in the form.
func (f *DataForm) Value(v string) string {
	for _, fl := range f.Fields {
		if fl.Var == v && len(fl.Values) > 0 {
			return fl.Values[0]
		}
	}
	return ""
}

// DiscoItem is one item an entity lists.
type DiscoItem struct {
	JID  string `xml:"jid,attr"`
	Node string `xml:"node,attr,omitempty"`
	Name string `xml:"name,attr,omitempty"`
}

type discoItemsResult struct {
	XMLName xml.Name    `xml:"http://jabber.org/protocol/disco#items query"`
	Items   []DiscoItem `xml:"item"`
}

// DiscoInfo asks to (the own server when zero) for its identities and features.
func (c *Client) DiscoInfo(ctx context.Context, to JID, node string) (*DiscoInfo, error) {
	iq := stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeGet, To: jidOrDomain(to, c.cfg.JID.Domain)},
		Payload: &stanza.DiscoInfo{XMLName: xml.Name{Space: nsDiscoInfo, Local: "query"}, Node: node}}
	_, raw, err := c.SendIQRaw(ctx, iq)
	if err != nil {
		return nil, err
	}
	var info DiscoInfo
	if err := DecodeIQPayload(raw, &info); err != nil {
		return nil, &ProtocolError{Step: "disco#info", Err: err}
	}
	return &info, nil
}

// DiscoItems lists the items of to (the own server when zero).
func (c *Client) DiscoItems(ctx context.Context, to JID, node string) ([]DiscoItem, error) {
	iq := stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeGet, To: jidOrDomain(to, c.cfg.JID.Domain)},
		Payload: &stanza.DiscoItems{XMLName: xml.Name{Space: nsDiscoItems, Local: "query"}, Node: node}}
	_, raw, err := c.SendIQRaw(ctx, iq)
	if err != nil {
		return nil, err
	}
	var res discoItemsResult
	if err := DecodeIQPayload(raw, &res); err != nil {
		return nil, &ProtocolError{Step: "disco#items", Err: err}
	}
	return res.Items, nil
}

func jidOrDomain(j JID, domain string) string {
	if j.IsZero() {
		return domain
	}
	return j.String()
}

// DecodeIQPayload decodes the first non-error child of an IQ's raw XML into v.
func DecodeIQPayload(raw []byte, v any) error {
	return decodeChild(raw, v, func(n xml.Name) bool { return n.Local != "error" })
}

// decodeErrorChild decodes the <error/> child of a stanza's raw XML into v.
func decodeErrorChild(raw []byte, v any) error {
	return decodeChild(raw, v, func(n xml.Name) bool { return n.Local == "error" })
}

// decodeChild decodes the first child of the stanza in raw that want
// accepts into v (errNoPayload when there is none).
func decodeChild(raw []byte, v any, want func(xml.Name) bool) error {
	dec, err := newElementDecoder(streamHeader{}, raw)
	if err != nil {
		return err
	}
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 && want(t.Name) {
				return dec.DecodeElement(v, &t)
			}
		case xml.EndElement:
			depth--
			if depth == 0 {
				return errNoPayload
			}
		}
	}
}

var errNoPayload = &StanzaError{Type: "cancel", Condition: "undefined-condition", Text: "the reply has no payload"}

// discoResponder describes Parley to others.
type discoResponder struct {
	identity DiscoIdentity
	features []string
	node     string
	ver      string
}

func newDiscoResponder(cfg *Config) *discoResponder {
	feats := []string{nsDiscoInfo, nsCaps, nsPing, NSAvatarMetadata + "+notify"}
	for _, f := range cfg.Features {
		if !slices.Contains(feats, f) {
			feats = append(feats, f)
		}
	}
	sort.Strings(feats)
	d := &discoResponder{
		identity: DiscoIdentity{Category: "client", Type: "pc", Name: cfg.ClientName},
		features: feats,
		node:     cfg.CapsNode,
	}
	d.ver = capsVer([]DiscoIdentity{d.identity}, feats)
	return d
}

// capsVer is the XEP-0115 §5.1 verification string (no extended forms).
func capsVer(ids []DiscoIdentity, features []string) string {
	var b strings.Builder
	idStrings := make([]string, len(ids))
	for i, id := range ids {
		idStrings[i] = id.Category + "/" + id.Type + "/" + id.Lang + "/" + id.Name
	}
	sort.Strings(idStrings)
	for _, s := range idStrings {
		b.WriteString(s)
		b.WriteByte('<')
	}
	fs := slices.Clone(features)
	sort.Strings(fs)
	for _, f := range fs {
		b.WriteString(f)
		b.WriteByte('<')
	}
	sum := sha1.Sum([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func (d *discoResponder) handleInfo(_ stanza.IQ, raw []byte) (any, error) {
	var q struct {
		Node string `xml:"node,attr"`
	}
	_ = DecodeIQPayload(raw, &q)
	if q.Node != "" && q.Node != d.node+"#"+d.ver {
		return nil, &StanzaError{Type: "cancel", Condition: "item-not-found"}
	}
	info := DiscoInfo{Node: q.Node, Identities: []DiscoIdentity{d.identity}}
	for _, f := range d.features {
		info.Features = append(info.Features, discoFeature{Var: f})
	}
	return info, nil
}

// capsElement is the XEP-0115 <c/> for presence.
type capsElement struct {
	XMLName xml.Name `xml:"http://jabber.org/protocol/caps c"`
	Hash    string   `xml:"hash,attr"`
	Node    string   `xml:"node,attr"`
	Ver     string   `xml:"ver,attr"`
}

func (d *discoResponder) capsElement() capsElement {
	return capsElement{Hash: "sha-1", Node: d.node, Ver: d.ver}
}

// CapsVer returns this client's XEP-0115 verification string.
func (c *Client) CapsVer() string { return c.disco.ver }
