// slix_contacts.go: SlixPeer commands for contacts tests: manual answers to subscription
// requests, subscribe/approve/deny/unsubscribe presences (with status text and XEP-0172 nick),
// roster add/remove/get, and XEP-0084 avatars (publish, fetch another account's).

package xmpptest

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"
)

// PeerRosterItem is one item of a SlixPeer's roster as the server sent it.
type PeerRosterItem struct {
	Name         string   `json:"name"`
	Subscription string   `json:"subscription"`
	Ask          string   `json:"ask"`
	Groups       []string `json:"groups"`
}

// ManualSubscriptions stops slixmpp from answering subscription requests by itself (its
// default is to accept them): they then only show as presence events of type "subscribe".
func (p *SlixPeer) ManualSubscriptions() error {
	return p.command(map[string]any{"cmd": "manual_subscriptions"}, 10*time.Second)
}

// Subscribe asks to for its presence, with an optional status text and nickname.
func (p *SlixPeer) Subscribe(to, status, nick string) error {
	return p.command(map[string]any{"cmd": "subscribe", "to": to, "status": status, "nick": nick}, 10*time.Second)
}

// Approve sends "subscribed" to to (an answer, or a pre-approval).
func (p *SlixPeer) Approve(to string) error {
	return p.command(map[string]any{"cmd": "approve", "to": to}, 10*time.Second)
}

// Deny sends "unsubscribed" to to.
func (p *SlixPeer) Deny(to string) error {
	return p.command(map[string]any{"cmd": "deny", "to": to}, 10*time.Second)
}

// Unsubscribe sends "unsubscribe" to to.
func (p *SlixPeer) Unsubscribe(to string) error {
	return p.command(map[string]any{"cmd": "unsubscribe", "to": to}, 10*time.Second)
}

// RosterAdd adds or updates jid on the peer's roster and waits for the server's answer.
func (p *SlixPeer) RosterAdd(jid, name string, groups ...string) error {
	if groups == nil {
		groups = []string{}
	}
	return p.command(map[string]any{"cmd": "roster_add", "jid": jid, "name": name, "groups": groups}, 15*time.Second)
}

// RosterRemove removes jid from the peer's roster and waits for the server's answer.
func (p *SlixPeer) RosterRemove(jid string) error {
	return p.command(map[string]any{"cmd": "roster_remove", "jid": jid}, 15*time.Second)
}

// Roster fetches the peer's whole roster from the server.
func (p *SlixPeer) Roster(ctx context.Context) (map[string]PeerRosterItem, error) {
	p.mu.Lock()
	from := len(p.events)
	p.mu.Unlock()
	if err := p.command(map[string]any{"cmd": "get_roster"}, 15*time.Second); err != nil {
		return nil, err
	}
	n := 0
	ev, err := p.WaitEvent(ctx, func(e PeerEvent) bool {
		n++
		return n > from && e.Event == "roster"
	})
	if err != nil {
		return nil, err
	}
	if ev.Roster == nil {
		ev.Roster = map[string]PeerRosterItem{}
	}
	return ev.Roster, nil
}

// PublishAvatar publishes image (of mimeType, width x height) as the peer's XEP-0084 avatar:
// data, then metadata.
func (p *SlixPeer) PublishAvatar(image []byte, mimeType string, width, height int) error {
	return p.command(map[string]any{"cmd": "publish_avatar", "data": base64.StdEncoding.EncodeToString(image),
		"type": mimeType, "width": width, "height": height}, 20*time.Second)
}

// FetchAvatar gets the XEP-0084 avatar data item id from jid's PEP service.
func (p *SlixPeer) FetchAvatar(ctx context.Context, jid, id string) ([]byte, error) {
	p.mu.Lock()
	from := len(p.events)
	p.mu.Unlock()
	if err := p.command(map[string]any{"cmd": "fetch_avatar", "jid": jid, "id": id}, 20*time.Second); err != nil {
		return nil, err
	}
	n := 0
	ev, err := p.WaitEvent(ctx, func(e PeerEvent) bool {
		n++
		return n > from && e.Event == "avatar" && e.ID == id
	})
	if err != nil {
		return nil, err
	}
	data, err := base64.StdEncoding.DecodeString(ev.Data)
	if err != nil {
		return nil, fmt.Errorf("xmpptest: avatar from slixmpp: %w", err)
	}
	return data, nil
}
