// XEP-0191 Blocking Command: the block list, block and unblock, and the
// server's pushes of changes (made here or by another resource), accepted
// only from the own account.
package xmppclient

import (
	"context"
	"encoding/xml"
	"fmt"

	"gosrc.io/xmpp/stanza"
)

const nsBlocking = "urn:xmpp:blocking"

type blockItem struct {
	JID string `xml:"jid,attr"`
}

type blockList struct {
	XMLName xml.Name    `xml:"urn:xmpp:blocking blocklist"`
	Items   []blockItem `xml:"item"`
}

type blockCmd struct {
	XMLName xml.Name    // block or unblock
	Items   []blockItem `xml:"item"`
}

func (*blockList) Namespace() string         { return nsBlocking }
func (*blockList) GetSet() *stanza.ResultSet { return nil }
func (*blockCmd) Namespace() string          { return nsBlocking }
func (*blockCmd) GetSet() *stanza.ResultSet  { return nil }

// BlockPushEvent reports a change of the block list. UnblockedAll means
// the whole list was cleared.
type BlockPushEvent struct {
	Blocked      []JID
	Unblocked    []JID
	UnblockedAll bool
}

func (BlockPushEvent) isEvent() {}

// BlockList returns the blocked addresses.
func (c *Client) BlockList(ctx context.Context) ([]JID, error) {
	_, raw, err := c.SendIQRaw(ctx, stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeGet}, Payload: &blockList{}})
	if err != nil {
		return nil, fmt.Errorf("block list: %w", err)
	}
	var bl blockList
	if err := DecodeIQPayload(raw, &bl); err != nil {
		return nil, &ProtocolError{Step: "block list", Err: err}
	}
	return parseBlockItems(c, bl.Items), nil
}

func parseBlockItems(c *Client, items []blockItem) []JID {
	out := make([]JID, 0, len(items))
	for _, it := range items {
		j, err := ParseJID(it.JID)
		if err != nil {
			c.log.Warn("skipping a bad JID in the block list", "jid", it.JID)
			continue
		}
		out = append(out, j)
	}
	return out
}

func blockItems(jids []JID) []blockItem {
	items := make([]blockItem, len(jids))
	for i, j := range jids {
		items[i] = blockItem{JID: j.String()}
	}
	return items
}

// Block blocks the addresses: no messages, presence or IQs from them reach
// this account, and they see it as offline.
func (c *Client) Block(ctx context.Context, jids ...JID) error {
	if len(jids) == 0 {
		return fmt.Errorf("block: no address")
	}
	cmd := &blockCmd{XMLName: xml.Name{Space: nsBlocking, Local: "block"}, Items: blockItems(jids)}
	if _, err := c.SendIQ(ctx, stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeSet}, Payload: cmd}); err != nil {
		return fmt.Errorf("block: %w", err)
	}
	return nil
}

// Unblock removes addresses from the block list; with none it clears the list.
func (c *Client) Unblock(ctx context.Context, jids ...JID) error {
	cmd := &blockCmd{XMLName: xml.Name{Space: nsBlocking, Local: "unblock"}, Items: blockItems(jids)}
	if _, err := c.SendIQ(ctx, stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeSet}, Payload: cmd}); err != nil {
		return fmt.Errorf("unblock: %w", err)
	}
	return nil
}

func (c *Client) handleBlockPush(iq stanza.IQ, raw []byte) (any, error) {
	if iq.Type != stanza.IQTypeSet || !c.fromOwnAccount(iq.From) {
		c.log.Warn("ignoring a block-list push that did not come from the own account", "from", iq.From)
		return nil, &StanzaError{Type: "cancel", Condition: "service-unavailable"}
	}
	var cmd blockCmd
	if err := DecodeIQPayload(raw, &cmd); err != nil {
		return nil, &StanzaError{Type: "modify", Condition: "bad-request"}
	}
	jids := parseBlockItems(c, cmd.Items)
	ev := BlockPushEvent{}
	if cmd.XMLName.Local == "block" {
		ev.Blocked = jids
	} else {
		ev.Unblocked = jids
		ev.UnblockedAll = len(cmd.Items) == 0
	}
	c.events.push(ev)
	return nil, nil
}
