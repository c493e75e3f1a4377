// Avatars: XEP-0084 User Avatar over PEP (publish own, fetch others' by
// hash, and metadata notifications), with the vcard-temp fallback
// (XEP-0054 photo, XEP-0153 hash in presence) for servers and clients
// without PEP avatars.
package xmppclient

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"strings"

	"gosrc.io/xmpp/stanza"
)

const (
	nsPubSub         = "http://jabber.org/protocol/pubsub"
	nsPubSubEvent    = "http://jabber.org/protocol/pubsub#event"
	NSAvatarData     = "urn:xmpp:avatar:data"
	NSAvatarMetadata = "urn:xmpp:avatar:metadata"
	nsVCard          = "vcard-temp"
)

// AvatarInfo describes one published avatar image (XEP-0084 §4.2).
type AvatarInfo struct {
	ID     string `xml:"id,attr"` // hex SHA-1 of the image bytes
	Type   string `xml:"type,attr"`
	Bytes  int    `xml:"bytes,attr"`
	Width  int    `xml:"width,attr,omitempty"`
	Height int    `xml:"height,attr,omitempty"`
	URL    string `xml:"url,attr,omitempty"`
}

// AvatarMetadataEvent: a contact (or the own account) published new avatar
// metadata. Cleared means they removed their avatar.
type AvatarMetadataEvent struct {
	From    JID
	Infos   []AvatarInfo
	Cleared bool
}

func (AvatarMetadataEvent) isEvent() {}

// AvatarHash is the XEP-0084/0153 id of image data: hex SHA-1.
func AvatarHash(data []byte) string {
	sum := sha1.Sum(data)
	return hex.EncodeToString(sum[:])
}

type pubsubRaw struct {
	XMLName xml.Name `xml:"http://jabber.org/protocol/pubsub pubsub"`
	Inner   string   `xml:",innerxml"`
}

func (*pubsubRaw) Namespace() string         { return nsPubSub }
func (*pubsubRaw) GetSet() *stanza.ResultSet { return nil }

// PublishAvatar publishes image (already encoded as mimeType) as the own
// avatar: data node first, then metadata, as XEP-0084 §4.1 orders.
func (c *Client) PublishAvatar(ctx context.Context, image []byte, mimeType string, width, height int) (string, error) {
	id := AvatarHash(image)
	data := "<publish node='" + NSAvatarData + "'><item id='" + id + "'><data xmlns='" + NSAvatarData + "'>" +
		base64.StdEncoding.EncodeToString(image) + "</data></item></publish>"
	if _, err := c.SendIQ(ctx, stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeSet}, Payload: &pubsubRaw{Inner: data}}); err != nil {
		return "", fmt.Errorf("publish avatar data: %w", err)
	}
	info, err := xml.Marshal(struct {
		XMLName xml.Name `xml:"info"`
		AvatarInfo
	}{AvatarInfo: AvatarInfo{ID: id, Type: mimeType, Bytes: len(image), Width: width, Height: height}})
	if err != nil {
		return "", err
	}
	meta := "<publish node='" + NSAvatarMetadata + "'><item id='" + id + "'><metadata xmlns='" + NSAvatarMetadata + "'>" +
		string(info) + "</metadata></item></publish>"
	if _, err := c.SendIQ(ctx, stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeSet}, Payload: &pubsubRaw{Inner: meta}}); err != nil {
		return "", fmt.Errorf("publish avatar metadata: %w", err)
	}
	return id, nil
}

type pubsubItems struct {
	XMLName xml.Name `xml:"http://jabber.org/protocol/pubsub pubsub"`
	Items   struct {
		Node  string `xml:"node,attr"`
		Items []struct {
			ID       string `xml:"id,attr"`
			Data     string `xml:"urn:xmpp:avatar:data data"`
			Metadata *struct {
				Infos []AvatarInfo `xml:"info"`
			} `xml:"urn:xmpp:avatar:metadata metadata"`
		} `xml:"item"`
	} `xml:"items"`
}

// FetchAvatarMetadata asks jid's PEP service for its current avatar metadata.
func (c *Client) FetchAvatarMetadata(ctx context.Context, jid JID) ([]AvatarInfo, error) {
	q := "<items node='" + NSAvatarMetadata + "' max_items='1'/>"
	_, raw, err := c.SendIQRaw(ctx, stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeGet, To: jid.Bare().String()}, Payload: &pubsubRaw{Inner: q}})
	if err != nil {
		return nil, fmt.Errorf("avatar metadata of %s: %w", jid.Bare(), err)
	}
	var res pubsubItems
	if err := DecodeIQPayload(raw, &res); err != nil {
		return nil, &ProtocolError{Step: "avatar metadata", Err: err}
	}
	for _, it := range res.Items.Items {
		if it.Metadata != nil {
			return it.Metadata.Infos, nil
		}
	}
	return nil, nil
}

// FetchAvatarData gets the image with the given id from jid's PEP service
// and checks that its SHA-1 is the id.
func (c *Client) FetchAvatarData(ctx context.Context, jid JID, id string) ([]byte, error) {
	q := "<items node='" + NSAvatarData + "'><item id='" + xmlEscape(id) + "'/></items>"
	_, raw, err := c.SendIQRaw(ctx, stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeGet, To: jid.Bare().String()}, Payload: &pubsubRaw{Inner: q}})
	if err != nil {
		return nil, fmt.Errorf("avatar of %s: %w", jid.Bare(), err)
	}
	var res pubsubItems
	if err := DecodeIQPayload(raw, &res); err != nil {
		return nil, &ProtocolError{Step: "avatar data", Err: err}
	}
	for _, it := range res.Items.Items {
		if it.ID != id {
			continue
		}
		img, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(it.Data), ""))
		if err != nil {
			return nil, fmt.Errorf("avatar of %s: bad base64: %w", jid.Bare(), err)
		}
		if AvatarHash(img) != id {
			return nil, fmt.Errorf("avatar of %s: data does not match its hash %s", jid.Bare(), id)
		}
		return img, nil
	}
	return nil, fmt.Errorf("avatar of %s: item %s not found", jid.Bare(), id)
}

type vcardPhoto struct {
	XMLName xml.Name `xml:"vcard-temp vCard"`
	Photo   struct {
		Type   string `xml:"TYPE"`
		BinVal string `xml:"BINVAL"`
	} `xml:"PHOTO"`
}

func (*vcardPhoto) Namespace() string         { return nsVCard }
func (*vcardPhoto) GetSet() *stanza.ResultSet { return nil }

// FetchVCardPhoto gets the photo from jid's vcard-temp (XEP-0054); the
// fallback for contacts without PEP avatars. A vCard without photo gives nil.
func (c *Client) FetchVCardPhoto(ctx context.Context, jid JID) (image []byte, mimeType string, err error) {
	_, raw, err := c.SendIQRaw(ctx, stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeGet, To: jid.Bare().String()}, Payload: &vcardPhoto{}})
	if err != nil {
		return nil, "", fmt.Errorf("vCard of %s: %w", jid.Bare(), err)
	}
	var v vcardPhoto
	if err := DecodeIQPayload(raw, &v); err != nil {
		if err == errNoPayload {
			return nil, "", nil
		}
		return nil, "", &ProtocolError{Step: "vCard", Err: err}
	}
	b64 := strings.Join(strings.Fields(v.Photo.BinVal), "")
	if b64 == "" {
		return nil, "", nil
	}
	img, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, "", fmt.Errorf("vCard photo of %s: bad base64: %w", jid.Bare(), err)
	}
	return img, v.Photo.Type, nil
}

// pepEvent is a PubSub event notification carrying avatar metadata.
type pepEvent struct {
	Event struct {
		Items struct {
			Node  string `xml:"node,attr"`
			Items []struct {
				ID       string `xml:"id,attr"`
				Metadata *struct {
					Infos []AvatarInfo `xml:"info"`
				} `xml:"urn:xmpp:avatar:metadata metadata"`
			} `xml:"item"`
		} `xml:"items"`
	} `xml:"http://jabber.org/protocol/pubsub#event event"`
}

// handlePEPEvent turns avatar metadata notifications into events. PEP
// notifications come from the publisher's bare JID; any other sender is
// not trusted for them. It reports whether the message was consumed.
func (c *Client) handlePEPEvent(fromAttr string, raw []byte) bool {
	if !bytes.Contains(raw, []byte(NSAvatarMetadata)) {
		return false
	}
	from, err := ParseJID(fromAttr)
	if err != nil || !from.IsBare() {
		c.log.Warn("ignoring a PEP notification from a full or bad JID", "from", fromAttr)
		return true
	}
	var ev pepEvent
	if err := decodeElement(streamHeader{}, raw, &ev); err != nil || ev.Event.Items.Node != NSAvatarMetadata {
		return false
	}
	out := AvatarMetadataEvent{From: from}
	for _, it := range ev.Event.Items.Items {
		if it.Metadata != nil {
			out.Infos = append(out.Infos, it.Metadata.Infos...)
		}
	}
	out.Cleared = len(out.Infos) == 0
	c.events.push(out)
	return true
}
