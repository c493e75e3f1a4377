// Presence (RFC 6121 §3-4): the own availability (online, away, extended
// away, do not disturb) with status text and priority; subscription
// requests, approvals (also pre-approval), denials and cancellations, with
// an optional message and the requester's nickname (XEP-0172); and the
// parsed view of others' presence the app layer aggregates per contact.
package xmppclient

import (
	"encoding/xml"
	"fmt"

	"gosrc.io/xmpp/stanza"
)

const (
	nsNick         = "http://jabber.org/protocol/nick"
	nsVCardUpdate  = "vcard-temp:x:update"
	nsPreApproval  = "urn:xmpp:features:pre-approval"
	presenceTypeOK = ""
)

// Nick is XEP-0172 User Nickname.
type Nick struct {
	XMLName xml.Name `xml:"http://jabber.org/protocol/nick nick"`
	Value   string   `xml:",chardata"`
}

// VCardUpdate is XEP-0153's avatar hash in presence. Photo is nil when the
// element is absent (no information), "" when the contact has no avatar.
type VCardUpdate struct {
	XMLName xml.Name `xml:"vcard-temp:x:update x"`
	Photo   *string  `xml:"photo"`
}

// Caps is XEP-0115 entity capabilities in someone's presence.
type Caps struct {
	XMLName xml.Name `xml:"http://jabber.org/protocol/caps c"`
	Hash    string   `xml:"hash,attr"`
	Node    string   `xml:"node,attr"`
	Ver     string   `xml:"ver,attr"`
}

func init() {
	stanza.TypeRegistry.MapExtension(stanza.PKTPresence, xml.Name{Space: nsNick, Local: "nick"}, Nick{})
	stanza.TypeRegistry.MapExtension(stanza.PKTMessage, xml.Name{Space: nsNick, Local: "nick"}, Nick{})
	stanza.TypeRegistry.MapExtension(stanza.PKTPresence, xml.Name{Space: nsVCardUpdate, Local: "x"}, VCardUpdate{})
	stanza.TypeRegistry.MapExtension(stanza.PKTPresence, xml.Name{Space: nsCaps, Local: "c"}, Caps{})
}

// Show values of availability.
const (
	ShowOnline = ""     // available, no <show/>
	ShowAway   = "away" // away
	ShowXA     = "xa"   // extended away
	ShowDND    = "dnd"  // do not disturb
	ShowChat   = "chat" // free for chat
)

// Availability is what SetPresence sends.
type Availability struct {
	Show     string // one of the Show constants
	Status   string
	Priority int8
}

// SetPresence broadcasts the own availability (with caps).
func (c *Client) SetPresence(a Availability) error {
	switch a.Show {
	case ShowOnline, ShowAway, ShowXA, ShowDND, ShowChat:
	default:
		return fmt.Errorf("set presence: unknown show %q", a.Show)
	}
	p := stanza.NewPresence(stanza.Attrs{})
	p.Show = stanza.PresenceShow(a.Show)
	p.Status = a.Status
	p.Priority = a.Priority
	return c.SendPresence(p)
}

// SetUnavailable tells contacts this resource is going offline.
func (c *Client) SetUnavailable(status string) error {
	p := stanza.NewPresence(stanza.Attrs{Type: stanza.PresenceTypeUnavailable})
	p.Status = status
	return c.Send(p)
}

func (c *Client) sendSubscription(typ stanza.StanzaType, to JID, status string, ext ...stanza.PresExtension) error {
	if to.IsZero() || to.Local == "" && to.Domain == "" {
		return fmt.Errorf("%s: no address", typ)
	}
	p := stanza.NewPresence(stanza.Attrs{Type: typ, To: to.Bare().String()})
	p.Status = status
	p.Extensions = ext
	if err := c.Send(p); err != nil {
		return fmt.Errorf("%s %s: %w", typ, to.Bare(), err)
	}
	return nil
}

// RequestSubscription asks to to share its presence, with an optional
// message and our nickname (XEP-0172).
func (c *Client) RequestSubscription(to JID, message, nick string) error {
	var ext []stanza.PresExtension
	if nick != "" {
		ext = append(ext, Nick{Value: nick})
	}
	return c.sendSubscription(stanza.PresenceTypeSubscribe, to, message, ext...)
}

// ApproveSubscription lets to see our presence: the answer to a request,
// or a pre-approval (RFC 6121 §3.4) when none is pending.
func (c *Client) ApproveSubscription(to JID) error {
	return c.sendSubscription(stanza.PresenceTypeSubscribed, to, "")
}

// DenySubscription refuses a request, or cancels an approval given earlier.
func (c *Client) DenySubscription(to JID) error {
	return c.sendSubscription(stanza.PresenceTypeUnsubscribed, to, "")
}

// Unsubscribe stops receiving to's presence.
func (c *Client) Unsubscribe(to JID) error {
	return c.sendSubscription(stanza.PresenceTypeUnsubscribe, to, "")
}

// PreApprovalSupported reports whether the server offers subscription
// pre-approval on the current stream.
func (c *Client) PreApprovalSupported() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur != nil && c.cur.features.PreApproval != nil
}

// PresenceInfo is someone's presence, parsed.
type PresenceInfo struct {
	From     JID
	Type     string // "" (available), unavailable, subscribe, subscribed, unsubscribe, unsubscribed, error
	Show     string
	Status   string
	Priority int8
	Nick     string
	// PhotoHash is the XEP-0153 avatar hash; HasPhotoInfo says whether the
	// presence said anything about the avatar at all.
	PhotoHash    string
	HasPhotoInfo bool
	Caps         *Caps
	Error        *StanzaError
}

// ParsePresence extracts what the app needs from a received presence.
func ParsePresence(p stanza.Presence) (PresenceInfo, error) {
	from, err := ParseJID(p.From)
	if err != nil {
		return PresenceInfo{}, fmt.Errorf("presence from %q: %w", p.From, err)
	}
	info := PresenceInfo{From: from, Type: string(p.Type), Show: string(p.Show), Status: p.Status, Priority: p.Priority}
	for _, e := range p.Extensions {
		switch x := e.(type) {
		case *Nick:
			info.Nick = x.Value
		case *VCardUpdate:
			if x.Photo != nil {
				info.HasPhotoInfo, info.PhotoHash = true, *x.Photo
			}
		case *Caps:
			info.Caps = x
		}
	}
	if p.Type == stanza.PresenceTypeError && p.Error.Reason != "" {
		info.Error = &StanzaError{Type: string(p.Error.Type), Condition: p.Error.Reason, Text: p.Error.Text}
	}
	return info, nil
}
