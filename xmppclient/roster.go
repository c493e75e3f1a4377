// RFC 6121 roster management with XEP-0237 roster versioning: fetching the
// roster, adding, updating and removing items, and roster pushes — accepted
// only with no 'from' or from the own bare JID (a push from anyone else is
// ignored and logged, as RFC 6121 §2.1.6 requires).
package xmppclient

import (
	"context"
	"encoding/xml"
	"fmt"

	"gosrc.io/xmpp/stanza"
)

const nsRoster = "jabber:iq:roster"

// Subscription states of a roster item (RFC 6121 §2.1.2.5).
const (
	SubNone   = "none"
	SubTo     = "to"
	SubFrom   = "from"
	SubBoth   = "both"
	SubRemove = "remove"
)

// RosterItem is one contact on the roster.
type RosterItem struct {
	JID          JID
	Name         string
	Subscription string   // none, to, from, both (remove in pushes)
	Ask          bool     // a subscription request of ours is pending
	Approved     bool     // pre-approved (RFC 6121 §3.4)
	Groups       []string // as the server sent them (servers may reorder)
}

// wire form
type rosterQuery struct {
	XMLName xml.Name         `xml:"jabber:iq:roster query"`
	Ver     *string          `xml:"ver,attr"`
	Items   []rosterItemWire `xml:"item"`
}

type rosterItemWire struct {
	JID          string   `xml:"jid,attr"`
	Name         string   `xml:"name,attr,omitempty"`
	Subscription string   `xml:"subscription,attr,omitempty"`
	Ask          string   `xml:"ask,attr,omitempty"`
	Approved     string   `xml:"approved,attr,omitempty"`
	Groups       []string `xml:"group"`
}

func (*rosterQuery) Namespace() string         { return nsRoster }
func (*rosterQuery) GetSet() *stanza.ResultSet { return nil }

func (w rosterItemWire) item() (RosterItem, error) {
	j, err := ParseJID(w.JID)
	if err != nil {
		return RosterItem{}, err
	}
	sub := w.Subscription
	if sub == "" {
		sub = SubNone
	}
	return RosterItem{JID: j.Bare(), Name: w.Name, Subscription: sub, Ask: w.Ask == "subscribe",
		Approved: w.Approved == "true" || w.Approved == "1", Groups: w.Groups}, nil
}

// RosterPushEvent is a roster change the server pushed (RFC 6121 §2.1.6).
// Servers push only to resources that fetched the roster in this session,
// so call FetchRoster after every fresh session. A push comes
// after the user's own change, another resource's, or a subscription step.
// Item.Subscription is "remove" when the contact was removed.
type RosterPushEvent struct {
	Item RosterItem
	Ver  string
}

func (RosterPushEvent) isEvent() {}

// RosterVersioning reports whether the server offered XEP-0237 on the current stream.
func (c *Client) RosterVersioning() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur != nil && c.cur.features.RosterVer != nil
}

// RosterResult is a fetched roster. When Unchanged is true the server
// confirmed the cached version ver is current (Items is empty) and will
// push what changed since.
type RosterResult struct {
	Items     []RosterItem
	Ver       string
	Unchanged bool
}

// FetchRoster gets the roster. With cachedVer non-empty (and versioning
// offered) the server may answer that nothing changed.
func (c *Client) FetchRoster(ctx context.Context, cachedVer string) (RosterResult, error) {
	q := &rosterQuery{}
	if c.RosterVersioning() {
		v := cachedVer
		q.Ver = &v
	}
	_, raw, err := c.SendIQRaw(ctx, stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeGet}, Payload: q})
	if err != nil {
		return RosterResult{}, fmt.Errorf("fetch roster: %w", err)
	}
	var res rosterQuery
	if err := DecodeIQPayload(raw, &res); err != nil {
		if err == errNoPayload { // XEP-0237 §2.3: an empty result means "no change"
			return RosterResult{Ver: cachedVer, Unchanged: true}, nil
		}
		return RosterResult{}, &ProtocolError{Step: "roster", Err: err}
	}
	out := RosterResult{}
	if res.Ver != nil {
		out.Ver = *res.Ver
	}
	for _, w := range res.Items {
		it, err := w.item()
		if err != nil {
			c.log.Warn("skipping a roster item with a bad JID", "jid", w.JID, "err", err)
			continue
		}
		out.Items = append(out.Items, it)
	}
	return out, nil
}

// SetRosterItem adds or updates a contact (name and groups). The change is
// done when the server's push arrives (RosterPushEvent).
func (c *Client) SetRosterItem(ctx context.Context, jid JID, name string, groups []string) error {
	w := rosterItemWire{JID: jid.Bare().String(), Name: name, Groups: groups}
	q := &rosterQuery{Items: []rosterItemWire{w}}
	if _, err := c.SendIQ(ctx, stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeSet}, Payload: q}); err != nil {
		return fmt.Errorf("update contact %s: %w", jid.Bare(), err)
	}
	return nil
}

// RemoveRosterItem removes a contact; the server also cancels the
// subscriptions both ways.
func (c *Client) RemoveRosterItem(ctx context.Context, jid JID) error {
	q := &rosterQuery{Items: []rosterItemWire{{JID: jid.Bare().String(), Subscription: SubRemove}}}
	if _, err := c.SendIQ(ctx, stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeSet}, Payload: q}); err != nil {
		return fmt.Errorf("remove contact %s: %w", jid.Bare(), err)
	}
	return nil
}

// fromOwnAccount: a push must come without 'from' or from the own bare JID.
func (c *Client) fromOwnAccount(from string) bool {
	if from == "" {
		return true
	}
	j, err := ParseJID(from)
	if err != nil {
		return false
	}
	return j == c.JID().Bare()
}

// handleRosterPush answers and reports a roster push.
func (c *Client) handleRosterPush(iq stanza.IQ, raw []byte) (any, error) {
	if iq.Type != stanza.IQTypeSet {
		return nil, &StanzaError{Type: "cancel", Condition: "service-unavailable"}
	}
	if !c.fromOwnAccount(iq.From) {
		c.log.Warn("ignoring a roster push that did not come from the own account", "from", iq.From)
		return nil, &StanzaError{Type: "cancel", Condition: "service-unavailable"}
	}
	var q rosterQuery
	if err := DecodeIQPayload(raw, &q); err != nil || len(q.Items) != 1 {
		return nil, &StanzaError{Type: "modify", Condition: "bad-request"}
	}
	it, err := q.Items[0].item()
	if err != nil {
		return nil, &StanzaError{Type: "modify", Condition: "bad-request"}
	}
	ev := RosterPushEvent{Item: it}
	if q.Ver != nil {
		ev.Ver = *q.Ver
	}
	c.events.push(ev)
	return nil, nil
}
