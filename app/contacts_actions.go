// What the user changes in the contacts, each sent to the server and
// confirmed by its push before the method returns: add (with
// pre-approval), rename, groups, remove, accept or deny a request, block and
// unblock (XEP-0191), the own presence, and the own avatar (XEP-0084).
package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"slices"
	"strings"

	"parley/xmppclient"
)

// Add puts jid on the roster (with name and group, both optional) and asks
// them to share their presence, with message and our nickname. They are
// also pre-approved: when they ask back, they may see us (kept by the
// server when it offers pre-approval, else answered by Parley while it is
// online). It returns when the server confirmed every step.
func (c *ContactsService) Add(ctx context.Context, jid, name, group, message string) error {
	client, j, bare, err := c.contactSession(ctx, jid)
	if err != nil {
		return err
	}
	if bare == client.JID().Bare().String() {
		return &InvalidJIDError{Input: jid, Reason: "that is your own address"}
	}
	var groups []string
	if e, ok := c.entry(bare); ok {
		groups = e.Groups
	}
	if g := strings.TrimSpace(group); g != "" && !slices.Contains(groups, g) {
		groups = append(slices.Clone(groups), g)
	}
	name = strings.TrimSpace(name)
	if err := c.request(ctx, client, "add", bare, rosterPushFor(bare, notRemoved), func() error {
		return client.SetRosterItem(ctx, j, name, groups)
	}); err != nil {
		return err
	}
	e, _ := c.entry(bare)
	if !seesThem(e.Subscription) {
		if err := c.request(ctx, client, "add", bare, rosterPushFor(bare, func(it xmppclient.RosterItem) bool {
			return it.Ask || seesThem(it.Subscription)
		}), func() error {
			return client.RequestSubscription(j, strings.TrimSpace(message), client.JID().Local)
		}); err != nil {
			return err
		}
	}
	return c.preApprove(ctx, client, j, bare)
}

// preApprove lets bare see our presence as soon as they ask: a server
// pre-approval (RFC 6121 §3.4) when offered, and Parley's own record.
func (c *ContactsService) preApprove(ctx context.Context, client *xmppclient.Client, j xmppclient.JID, bare string) error {
	e, _ := c.entry(bare)
	if seesUs(e.Subscription) {
		return nil
	}
	c.setPreApproved(bare, true)
	c.mu.Lock()
	supported := c.st.preApproval
	c.mu.Unlock()
	if !supported || e.Approved {
		return nil
	}
	return c.request(ctx, client, "accept", bare, rosterPushFor(bare, notRemoved), func() error {
		return client.ApproveSubscription(j)
	})
}

// Rename changes the name of a contact on the roster ("" removes it, so
// the nickname or address shows).
func (c *ContactsService) Rename(ctx context.Context, jid, name string) error {
	client, j, bare, err := c.contactSession(ctx, jid)
	if err != nil {
		return err
	}
	e, ok := c.entry(bare)
	if !ok {
		return fmt.Errorf("rename %s: %w", bare, ErrUnknownContact)
	}
	name = strings.TrimSpace(name)
	return c.request(ctx, client, "rename", bare, rosterPushFor(bare, func(it xmppclient.RosterItem) bool {
		return it.Subscription == xmppclient.SubRemove || it.Name == name
	}), func() error { return client.SetRosterItem(ctx, j, name, e.Groups) })
}

// normalizeGroups trims, drops empty and duplicate names, and sorts.
func normalizeGroups(groups []string) []string {
	var out []string
	for _, g := range groups {
		if g = strings.TrimSpace(g); g != "" && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	slices.Sort(out)
	return out
}

// SetGroups replaces the groups of a contact (none: the default group).
func (c *ContactsService) SetGroups(ctx context.Context, jid string, groups []string) error {
	client, j, bare, err := c.contactSession(ctx, jid)
	if err != nil {
		return err
	}
	e, ok := c.entry(bare)
	if !ok {
		return fmt.Errorf("change the groups of %s: %w", bare, ErrUnknownContact)
	}
	groups = normalizeGroups(groups)
	return c.request(ctx, client, "groups", bare, rosterPushFor(bare, func(it xmppclient.RosterItem) bool {
		return it.Subscription == xmppclient.SubRemove || slices.Equal(normalizeGroups(it.Groups), groups)
	}), func() error { return client.SetRosterItem(ctx, j, e.Name, groups) })
}

// Remove takes a contact off the roster; the server also ends the
// presence subscriptions both ways. Removing someone who is not on the
// roster is not an error.
func (c *ContactsService) Remove(ctx context.Context, jid string) error {
	client, j, bare, err := c.contactSession(ctx, jid)
	if err != nil {
		return err
	}
	err = c.request(ctx, client, "remove", bare, rosterPushFor(bare, func(it xmppclient.RosterItem) bool {
		return it.Subscription == xmppclient.SubRemove
	}), func() error { return client.RemoveRosterItem(ctx, j) })
	var ce *ContactError
	if errors.As(err, &ce) && ce.Condition == "item-not-found" {
		err = nil
	}
	if err == nil {
		c.forget(bare)
	}
	return err
}

// Accept answers a subscription request with yes: they may see our
// presence. With addBack we also ask to see theirs (adding them to the
// roster under the nickname they gave). Accepting someone who has not
// asked is a pre-approval (see ContactsSnapshot.PreApproval).
func (c *ContactsService) Accept(ctx context.Context, jid string, addBack bool) error {
	client, j, bare, err := c.contactSession(ctx, jid)
	if err != nil {
		return err
	}
	c.mu.Lock()
	req, asked := c.st.requests[bare]
	c.mu.Unlock()
	e, onRoster := c.entry(bare)
	switch {
	case onRoster && seesUs(e.Subscription):
		// Already approved.
	case asked:
		if err := c.request(ctx, client, "accept", bare, rosterPushFor(bare, notRemoved), func() error {
			return client.ApproveSubscription(j)
		}); err != nil {
			return err
		}
	default:
		if err := c.preApprove(ctx, client, j, bare); err != nil {
			return err
		}
	}
	c.answered(bare)
	if !addBack {
		return nil
	}
	e, onRoster = c.entry(bare)
	if !onRoster || (e.Name == "" && req.Nick != "") {
		name := e.Name
		if name == "" {
			name = req.Nick
		}
		if err := c.request(ctx, client, "add", bare, rosterPushFor(bare, notRemoved), func() error {
			return client.SetRosterItem(ctx, j, name, e.Groups)
		}); err != nil {
			return err
		}
		e, _ = c.entry(bare)
	}
	if seesThem(e.Subscription) || e.Ask {
		return nil
	}
	return c.request(ctx, client, "add", bare, rosterPushFor(bare, func(it xmppclient.RosterItem) bool {
		return it.Ask || seesThem(it.Subscription)
	}), func() error { return client.RequestSubscription(j, "", client.JID().Local) })
}

// Deny answers a subscription request with no (and, for a contact who
// already sees our presence, takes that away).
func (c *ContactsService) Deny(ctx context.Context, jid string) error {
	client, j, bare, err := c.contactSession(ctx, jid)
	if err != nil {
		return err
	}
	c.setPreApproved(bare, false)
	if e, ok := c.entry(bare); ok && seesUs(e.Subscription) {
		err = c.request(ctx, client, "deny", bare, rosterPushFor(bare, nil), func() error {
			return client.DenySubscription(j)
		})
	} else {
		// No roster push need follow a plain refusal (or the withdrawal of a
		// pre-approval); a ping the server answers after it proves the
		// refusal was processed.
		if err = client.DenySubscription(j); err == nil {
			err = client.Ping(ctx, xmppclient.JID{})
		}
		err = contactErr(client, "deny", bare, err)
	}
	if err == nil {
		c.answered(bare)
	}
	return err
}

// blockJID parses an address to block: a bare or full JID, or a domain.
func blockJID(s string) (xmppclient.JID, error) {
	s = strings.TrimSpace(s)
	j, err := xmppclient.ParseJID(s)
	if err != nil {
		return j, translateJIDError(s, err)
	}
	return j, nil
}

// Block stops all communication with jid (XEP-0191): no messages or
// presence from them reach the account, and they see it offline. A pending
// request from them is dropped.
func (c *ContactsService) Block(ctx context.Context, jid string) error {
	return c.setBlocked(ctx, jid, true)
}

// Unblock lets jid communicate with the account again.
func (c *ContactsService) Unblock(ctx context.Context, jid string) error {
	return c.setBlocked(ctx, jid, false)
}

// setBlocked puts jid on the block list or takes it off, and waits for the
// server's push that says so.
func (c *ContactsService) setBlocked(ctx context.Context, jid string, block bool) error {
	j, err := blockJID(jid)
	if err != nil {
		return err
	}
	client, err := c.session(ctx)
	if err != nil {
		return err
	}
	key := j.String()
	listed := func(jids []xmppclient.JID) bool {
		return slices.ContainsFunc(jids, func(b xmppclient.JID) bool { return b.String() == key })
	}
	op, send := "unblock", client.Unblock
	if block {
		op, send = "block", client.Block
	}
	return c.request(ctx, client, op, key, func(ev xmppclient.Event) bool {
		p, ok := ev.(xmppclient.BlockPushEvent)
		if block {
			return ok && listed(p.Blocked)
		}
		return ok && (p.UnblockedAll || listed(p.Unblocked))
	}, func() error { return send(ctx, j) })
}

// SetOwnPresence changes the own presence. It is saved in the profile and
// sent again on every fresh session; without a session it only is saved.
// ShowOffline makes the account appear offline (unavailable presence).
func (c *ContactsService) SetOwnPresence(ctx context.Context, p OwnPresence) error {
	switch p.Show {
	case "":
		p.Show = ShowOnline
	case ShowChat, ShowOnline, ShowAway, ShowXA, ShowDND, ShowOffline:
	default:
		return fmt.Errorf("unknown presence %q", p.Show)
	}
	p.Status = strings.TrimSpace(p.Status)
	c.mu.Lock()
	c.st.own = p
	c.st.stateDirty = true
	c.st.bump()
	client := c.st.client
	c.mu.Unlock()
	c.changed()
	c.flush()
	if client == nil || client.State() != xmppclient.StateOnline {
		return nil
	}
	return contactErr(client, "presence", "", c.sendOwnPresence(client, p))
}

// sendOwnPresence broadcasts p on client.
func (c *ContactsService) sendOwnPresence(client *xmppclient.Client, p OwnPresence) error {
	if p.Show == ShowOffline {
		err := client.SetUnavailable(p.Status)
		// The server sends no more presence to an unavailable resource.
		c.mu.Lock()
		if c.st.client == client {
			c.st.clearPresence()
		}
		c.mu.Unlock()
		c.changed()
		return err
	}
	show := string(p.Show)
	if p.Show == ShowOnline {
		show = xmppclient.ShowOnline
	}
	return client.SetPresence(xmppclient.Availability{Show: show, Status: p.Status})
}

// PublishAvatar makes image (PNG or JPEG bytes) the account's avatar
// (XEP-0084 over PEP; the server also offers it through vCard).
func (c *ContactsService) PublishAvatar(ctx context.Context, img []byte) error {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(img))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnsupportedImage, err)
	}
	var mime string
	switch format {
	case "png":
		mime = "image/png"
	case "jpeg":
		mime = "image/jpeg"
	default:
		return ErrUnsupportedImage
	}
	client, err := c.session(ctx)
	if err != nil {
		return err
	}
	hash, err := client.PublishAvatar(ctx, img, mime, cfg.Width, cfg.Height)
	if err != nil {
		return contactErr(client, "avatar", "", err)
	}
	c.mu.Lock()
	store := c.st.store
	c.mu.Unlock()
	if store != nil {
		if err := store.writeAvatar(hash, img); err != nil {
			c.log.Warn("caching the own avatar", "err", err)
		}
	}
	c.mu.Lock()
	c.st.cached[hash] = true
	c.st.ownAvatar = hash
	c.st.stateDirty = true
	c.st.bump()
	c.mu.Unlock()
	c.changed()
	c.persist()
	return nil
}

// setPreApproved remembers (or forgets) that bare may see our presence
// when they ask.
func (c *ContactsService) setPreApproved(bare string, on bool) {
	c.mu.Lock()
	if c.st.preApproved[bare] != on {
		if on {
			c.st.preApproved[bare] = true
		} else {
			delete(c.st.preApproved, bare)
		}
		c.st.stateDirty = true
		c.st.touch(bare)
	}
	c.mu.Unlock()
	c.changed()
	c.persist()
}

// answered drops the request of bare.
func (c *ContactsService) answered(bare string) {
	c.mu.Lock()
	c.st.dropRequest(bare)
	c.mu.Unlock()
	c.changed()
	c.persist()
}

// forget drops what is kept about a removed contact.
func (c *ContactsService) forget(bare string) {
	c.mu.Lock()
	c.st.dropRequest(bare)
	if c.st.preApproved[bare] {
		delete(c.st.preApproved, bare)
		c.st.stateDirty = true
	}
	c.mu.Unlock()
	c.changed()
	c.persist()
}
