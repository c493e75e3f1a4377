// How the server's pushes change the contacts: roster and block-list
// pushes (also replayed over a fetch result that raced them), presence (one
// entry per resource), subscription requests, and avatar metadata
// (XEP-0084, with XEP-0153 vCard hashes as a fallback).
package app

import "parley/xmppclient"

func (s *contactsState) applyRosterPush(p xmppclient.RosterPushEvent) {
	bare := p.Item.JID.String()
	old := s.roster[bare]
	if old != nil && seesThem(old.Subscription) && !seesThem(p.Item.Subscription) {
		// We no longer receive their presence: what we have is stale (not
		// every server sends the unavailable presence RFC 6121 §3.3.3 asks for).
		delete(s.presence, bare)
	}
	if p.Item.Subscription == xmppclient.SubRemove {
		delete(s.roster, bare)
	} else {
		s.roster[bare] = entryFrom(p.Item)
		if seesUs(p.Item.Subscription) {
			s.dropRequest(bare)
		}
	}
	if p.Ver != "" {
		s.rosterVer = p.Ver
	}
	s.rosterDirty = true
	s.touch(bare)
}

func (c *ContactsService) onRosterPush(client *xmppclient.Client, p xmppclient.RosterPushEvent) {
	c.mu.Lock()
	if c.st.client != client {
		c.mu.Unlock()
		return
	}
	c.st.applyRosterPush(p)
	if c.st.fetching {
		c.st.replayR = append(c.st.replayR, p)
	}
	c.st.resolve(p)
	c.mu.Unlock()
	c.changed()
	c.persist()
}

func (s *contactsState) applyBlockPush(p xmppclient.BlockPushEvent) {
	if p.UnblockedAll {
		for b := range s.blocked {
			s.touch(bareOf(b))
		}
		clear(s.blocked)
	}
	for _, j := range p.Unblocked {
		delete(s.blocked, j.String())
		s.touch(j.Bare().String())
	}
	for _, j := range p.Blocked {
		s.blocked[j.String()] = struct{}{}
		bare := j.Bare().String()
		// Their presence no longer reaches us: what we have is stale. The
		// server also dropped their pending request.
		delete(s.presence, bare)
		s.dropRequest(bare)
		s.touch(bare)
	}
	s.bump()
}

func bareOf(s string) string {
	if j, err := xmppclient.ParseJID(s); err == nil {
		return j.Bare().String()
	}
	return s
}

func (c *ContactsService) onBlockPush(client *xmppclient.Client, p xmppclient.BlockPushEvent) {
	c.mu.Lock()
	if c.st.client != client {
		c.mu.Unlock()
		return
	}
	c.st.applyBlockPush(p)
	if c.st.fetching {
		c.st.replayB = append(c.st.replayB, p)
	}
	c.st.resolve(p)
	c.mu.Unlock()
	c.changed()
	c.persist()
}

func showOf(s string) Show {
	switch s {
	case xmppclient.ShowChat:
		return ShowChat
	case xmppclient.ShowAway:
		return ShowAway
	case xmppclient.ShowXA:
		return ShowXA
	case xmppclient.ShowDND:
		return ShowDND
	}
	return ShowOnline
}

func (c *ContactsService) onPresence(client *xmppclient.Client, ev xmppclient.PresenceEvent) {
	info, err := xmppclient.ParsePresence(ev.Presence)
	if err != nil {
		c.log.Debug("ignoring a presence with a bad sender", "err", err)
		return
	}
	bare := info.From.Bare().String()
	var after func()
	c.mu.Lock()
	s := &c.st
	if s.client != client || bare == s.account {
		c.mu.Unlock()
		return
	}
	switch info.Type {
	case "", "available":
		res := s.presence[bare]
		if res == nil {
			res = map[string]*resourceState{}
			s.presence[bare] = res
		}
		rs := &resourceState{show: showOf(info.Show), status: info.Status, priority: int(info.Priority)}
		if info.Caps != nil && info.Caps.Ver != "" {
			rs.caps = info.Caps.Node + "#" + info.Caps.Ver
			if _, known := s.capsName[rs.caps]; !known && !s.capsTried[rs.caps] {
				s.capsTried[rs.caps] = true
				c.enqueue(fetchJob{kind: jobCaps, jid: info.From, node: rs.caps, gen: s.gen})
			}
		}
		res[info.From.Resource] = rs
		if info.Nick != "" && s.nicks[bare] != info.Nick {
			s.nicks[bare] = info.Nick
			s.rosterDirty = true
		}
		if info.HasPhotoInfo {
			c.contactAvatar(info.From.Bare(), info.PhotoHash)
		}
		s.touch(bare)
	case "unavailable", "error":
		if res := s.presence[bare]; res != nil {
			if info.From.Resource == "" {
				delete(s.presence, bare)
			} else {
				delete(res, info.From.Resource)
				if len(res) == 0 {
					delete(s.presence, bare)
				}
			}
			s.touch(bare)
		}
	case "subscribe":
		after = c.onSubscribe(client, info)
	case "unsubscribe":
		// They withdrew their request (or stopped following us).
		s.dropRequest(bare)
	}
	c.mu.Unlock()
	if after != nil {
		after()
	}
	c.changed()
	c.persist()
}

// onSubscribe keeps a request, or answers it at once when we pre-approved
// them. c.mu is held; the returned function runs after it is released.
func (c *ContactsService) onSubscribe(client *xmppclient.Client, info xmppclient.PresenceInfo) func() {
	s := &c.st
	bare := info.From.Bare().String()
	if _, blocked := s.blocked[bare]; blocked {
		return nil
	}
	e := s.roster[bare]
	if s.preApproved[bare] || (e != nil && seesUs(e.Subscription)) {
		delete(s.preApproved, bare)
		s.stateDirty = true
		s.touch(bare)
		jid := info.From.Bare()
		return func() {
			if err := client.ApproveSubscription(jid); err != nil {
				c.log.Warn("approving a pre-approved contact", "jid", jid, "err", err)
			}
		}
	}
	r, ok := s.requests[bare]
	if !ok {
		r = Request{JID: bare, Received: c.now()}
	}
	if info.Nick != "" {
		r.Nick = info.Nick
		if s.nicks[bare] != info.Nick {
			s.nicks[bare] = info.Nick
			s.rosterDirty = true
		}
	}
	if info.Status != "" {
		r.Message = info.Status
	}
	if !ok || s.requests[bare] != r {
		s.requests[bare] = r
		s.stateDirty = true
		s.touch(bare)
	}
	return nil
}

// pickAvatar chooses the image to show from XEP-0084 metadata: PNG (which
// every client must publish) first, and only images stored in PEP.
func pickAvatar(infos []xmppclient.AvatarInfo) string {
	best := ""
	for _, in := range infos {
		if in.URL != "" || !validHash(in.ID) {
			continue
		}
		if in.Type == "image/png" {
			return in.ID
		}
		if best == "" {
			best = in.ID
		}
	}
	return best
}

func (c *ContactsService) onAvatarMetadata(client *xmppclient.Client, ev xmppclient.AvatarMetadataEvent) {
	hash := ""
	if !ev.Cleared {
		hash = pickAvatar(ev.Infos)
	}
	c.mu.Lock()
	s := &c.st
	if s.client != client {
		c.mu.Unlock()
		return
	}
	if ev.From.Bare().String() == s.account {
		if s.ownAvatar != hash {
			s.ownAvatar = hash
			s.stateDirty = true
			s.bump()
		}
		c.wantAvatar(ev.From.Bare(), hash)
	} else {
		c.contactAvatar(ev.From.Bare(), hash)
	}
	c.mu.Unlock()
	c.changed()
	c.persist()
}

// contactAvatar records a contact's avatar and fetches it if needed; c.mu is held.
func (c *ContactsService) contactAvatar(jid xmppclient.JID, hash string) {
	if hash != "" && !validHash(hash) {
		return
	}
	c.st.setAvatar(jid.String(), hash)
	c.wantAvatar(jid, hash)
}

// wantAvatar queues the fetch of an image not cached yet, once per hash
// and session; c.mu is held.
func (c *ContactsService) wantAvatar(jid xmppclient.JID, hash string) {
	s := &c.st
	if hash == "" || s.cached[hash] || s.tried[hash] || s.store == nil {
		return
	}
	if s.store.hasAvatar(hash) {
		s.cached[hash] = true
		s.bump()
		return
	}
	s.tried[hash] = true
	if !c.enqueue(fetchJob{kind: jobAvatar, jid: jid, hash: hash, gen: s.gen}) {
		s.tried[hash] = false
	}
}
