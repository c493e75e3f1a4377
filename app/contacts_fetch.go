// Background fetches of the contacts service, in a small bounded pool so
// the session's event loop never waits on the network: avatar images
// (XEP-0084 data by hash over PEP, falling back to the vCard photo of
// XEP-0054/0153; cached on disk by hash, fetched once per hash) and the
// client software names of contacts' resources (XEP-0115 caps, resolved
// once per caps node#ver with a disco#info query).
package app

import (
	"context"
	"time"

	"parley/xmppclient"
)

const (
	fetchWorkers = 2
	fetchQueue   = 1024
	jobTimeout   = 30 * time.Second
	// maxAvatarBytes: larger images are not cached (XEP-0084 avatars are
	// meant to be small).
	maxAvatarBytes = 4 << 20
)

type jobKind int

const (
	jobAvatar jobKind = iota
	jobCaps
)

type fetchJob struct {
	kind jobKind
	jid  xmppclient.JID // avatar: the owner (bare); caps: the resource (full)
	hash string         // avatar
	node string         // caps: node#ver
	gen  uint64         // the session the job belongs to
}

// enqueue queues a job without blocking; false when the queue is full.
func (c *ContactsService) enqueue(j fetchJob) bool {
	select {
	case c.jobs <- j:
		return true
	default:
		c.log.Debug("fetch queue full; dropping", "jid", j.jid)
		return false
	}
}

func (c *ContactsService) fetchWorker() {
	defer c.wg.Done()
	for {
		select {
		case <-c.ctx.Done():
			return
		case j := <-c.jobs:
			c.runJob(j)
		}
	}
}

func (c *ContactsService) runJob(j fetchJob) {
	c.mu.Lock()
	client, gen, store := c.st.client, c.st.gen, c.st.store
	c.mu.Unlock()
	if client == nil || gen != j.gen || store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(c.ctx, jobTimeout)
	defer cancel()
	switch j.kind {
	case jobAvatar:
		c.fetchAvatar(ctx, client, store, j)
	case jobCaps:
		c.fetchCaps(ctx, client, j)
	}
}

func (c *ContactsService) fetchAvatar(ctx context.Context, client *xmppclient.Client, store *contactsStore, j fetchJob) {
	if store.hasAvatar(j.hash) {
		c.avatarCached(j.hash)
		return
	}
	data, err := client.FetchAvatarData(ctx, j.jid, j.hash)
	if err != nil {
		img, _, verr := client.FetchVCardPhoto(ctx, j.jid)
		switch {
		case verr != nil:
			c.log.Info("avatar not available", "jid", j.jid, "hash", j.hash, "pep_err", err, "vcard_err", verr)
			return
		case img == nil || xmppclient.AvatarHash(img) != j.hash:
			c.log.Info("avatar not available: the vCard photo is another one", "jid", j.jid, "hash", j.hash, "pep_err", err)
			return
		}
		data = img
	}
	if len(data) > maxAvatarBytes {
		c.log.Info("avatar too large; not cached", "jid", j.jid, "bytes", len(data))
		return
	}
	if err := store.writeAvatar(j.hash, data); err != nil {
		c.log.Warn("caching an avatar", "err", err)
		return
	}
	c.avatarCached(j.hash)
}

// avatarCached shows the contacts whose avatar just arrived.
func (c *ContactsService) avatarCached(hash string) {
	c.mu.Lock()
	s := &c.st
	s.cached[hash] = true
	for bare := range s.avatarUsers[hash] {
		s.touch(bare)
	}
	s.bump()
	c.mu.Unlock()
	c.changed()
}

func (c *ContactsService) fetchCaps(ctx context.Context, client *xmppclient.Client, j fetchJob) {
	info, err := client.DiscoInfo(ctx, j.jid, j.node)
	name := ""
	if err != nil {
		c.log.Debug("disco#info of a contact's client", "jid", j.jid, "err", err)
	} else {
		for _, id := range info.Identities {
			if id.Category == "client" && id.Name != "" {
				name = id.Name
				break
			}
		}
	}
	c.mu.Lock()
	s := &c.st
	s.capsName[j.node] = name
	if name != "" {
		for bare, res := range s.presence {
			for _, r := range res {
				if r.caps == j.node {
					s.touch(bare)
					break
				}
			}
		}
	}
	c.mu.Unlock()
	c.changed()
}
