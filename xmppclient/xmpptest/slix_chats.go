// slix_chats.go: SlixPeer commands for chat tests and benchmarks: messages asking for XEP-0184
// receipts and XEP-0333 markers, XEP-0308 corrections and XEP-0424 retractions, and receipts
// and markers sent back. The extension fields of received messages are in PeerEvent (OriginID,
// Replace, Retract, ReceiptFor, Marker ...).

package xmpptest

import (
	"fmt"
	"time"
)

// SendOpts sends a chat message (id may be empty: slixmpp picks one) that asks for a receipt
// (XEP-0184 <request/>) and/or chat markers (XEP-0333 <markable/>).
func (p *SlixPeer) SendOpts(to, body, id string, receipt, markable bool) error {
	return p.command(map[string]any{"cmd": "send", "to": to, "body": body, "id": id,
		"receipt": receipt, "markable": markable}, 10*time.Second)
}

// SendFile sends a chat message sharing the file at url (XEP-0066 <x xmlns='jabber:x:oob'>),
// with body (Conversations and the others send the URL itself as the body).
func (p *SlixPeer) SendFile(to, url, body, id string) error {
	return p.command(map[string]any{"cmd": "send", "to": to, "body": body, "id": id, "oob": url}, 10*time.Second)
}

// Correct sends a XEP-0308 correction of the message whose id (or origin-id) is ref, with the
// new body; id is the correction's own id (empty: a new one).
func (p *SlixPeer) Correct(to, ref, body, id string) error {
	return p.command(map[string]any{"cmd": "correct", "to": to, "ref": ref, "body": body, "id": id}, 10*time.Second)
}

// Retract sends a XEP-0424 retraction of the message whose id (or origin-id) is ref, with a
// fallback body; id is the retraction's own id (empty: a new one).
func (p *SlixPeer) Retract(to, ref, id string) error {
	return p.command(map[string]any{"cmd": "retract", "to": to, "ref": ref, "id": id}, 10*time.Second)
}

// RetractLegacy sends the same retraction in the form of XEP-0424 before version 0.4, which
// deployed clients still send: <apply-to xmlns='urn:xmpp:fasten:0' id=ref> wrapping
// <retract xmlns='urn:xmpp:message-retract:0'/>, with a fallback body.
func (p *SlixPeer) RetractLegacy(to, ref, id string) error {
	return p.command(map[string]any{"cmd": "retract_legacy", "to": to, "ref": ref, "id": id}, 10*time.Second)
}

// Receipt sends a XEP-0184 receipt (<received id=ref/>) to to.
func (p *SlixPeer) Receipt(to, ref string) error {
	return p.command(map[string]any{"cmd": "receipt", "to": to, "ref": ref}, 10*time.Second)
}

// Marker sends a XEP-0333 chat marker ("displayed", "received" or "acknowledged") for ref.
func (p *SlixPeer) Marker(to, ref, marker string) error {
	return p.command(map[string]any{"cmd": "marker", "to": to, "ref": ref, "marker": marker}, 10*time.Second)
}

// UploadFile uploads the file at path through the server's XEP-0363 service (slot by IQ, then an
// HTTP PUT from Python) and shares it with to as Conversations does: body equal to the OOB URL.
// It returns the URL.
func (p *SlixPeer) UploadFile(to, path, service, contentType string) (string, error) {
	before := len(p.Events())
	if err := p.command(map[string]any{"cmd": "upload_file", "to": to, "path": path, "service": service,
		"content_type": contentType}, 30*time.Second); err != nil {
		return "", err
	}
	for _, e := range p.Events()[before:] {
		if e.Event == "uploaded" {
			return e.URL, nil
		}
	}
	return "", fmt.Errorf("xmpptest: slixmpp upload_file: no uploaded event")
}
