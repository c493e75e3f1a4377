// What the chat service tells whom, and whose word it takes: XEP-0184
// receipts and XEP-0333 displayed markers go only to peers who may see our
// presence (a roster subscription "from" or "both"), as both say that we
// are online (XEP-0184 §8, XEP-0333 security considerations); and a
// XEP-0359 stanza-id "by" our own account counts (for matching copies of a
// message) only when the server announces urn:xmpp:sid:0 for the account:
// such a server replaces a stanza-id by the account that a sender put in,
// while any other passes it through.
package app

import "parley/xmppclient"

// presenceShared reports whether peer (a bare JID) may see our presence.
func (c *ChatService) presenceShared(peer string) bool {
	return c.mayShowPresence != nil && c.mayShowPresence(peer)
}

// hasContact reports whether bare is in the roster, whatever the
// subscription (a contact added but not yet approved is no stranger).
func (c *ContactsService) hasContact(bare string) bool {
	_, ok := c.entry(bare)
	return ok
}

// sharesPresenceWith reports whether the roster lets bare see our presence
// (subscription from or both), as last known: the roster cached in the
// profile until the session's fetch, then kept in step by the server's
// pushes.
func (c *ContactsService) sharesPresenceWith(bare string) bool {
	e, ok := c.entry(bare)
	return ok && seesUs(e.Subscription)
}

// stanzaIDsTrusted reports whether the server of client's session said it
// sets stanza-ids for the account. Until the session's catch-up has asked
// (or when the asking failed), it has not: copies are then matched by
// origin-id or id attribute and text, as for a server without them.
func (c *ChatService) stanzaIDsTrusted(client *xmppclient.Client) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return client != nil && c.sidClient == client
}

// learnStanzaIDs records what the account's disco#info says about
// stanza-ids for client's session.
func (c *ChatService) learnStanzaIDs(client *xmppclient.Client, info *xmppclient.DiscoInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case info != nil && info.HasFeature(xmppclient.NSStanzaID):
		c.sidClient = client
	case c.sidClient == client:
		c.sidClient = nil
	}
}
