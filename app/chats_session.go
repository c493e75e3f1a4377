// The chat service's side of a session: the engine's events routed to it
// (chats before contacts, see Service.route), what a fresh or resumed
// session starts (carbons, the server's clock, catch-up, the outbox flush)
// and what a lost one leaves behind.
package app

import (
	"context"
	"time"

	"parley/xmppclient"
)

// handleEvent is called on the session's event loop, before the contacts
// service (so carbons are enabled before the initial presence).
func (c *ChatService) handleEvent(client *xmppclient.Client, ev xmppclient.Event) {
	switch ev := ev.(type) {
	case xmppclient.SessionEvent:
		c.sessionStarted(client, ev)
	case xmppclient.StateEvent:
		if ev.State == xmppclient.StateOffline {
			c.sessionEnded(client)
		}
	case xmppclient.MessageEvent:
		// Parsed once by the engine; one that does not parse never comes.
		c.received(client, ev.Message, false, true)
	case xmppclient.CarbonEvent:
		// Not live for us: the resource it was for confirms receipt.
		c.received(client, ev.Message, ev.Sent, false)
	case xmppclient.AckEvent:
		c.out.acked(ev.IDs)
	}
}

// sessionStarted: on a fresh session enable carbons now (before presence
// and before the archive is read), then catch up and flush the outbox in
// the background; on a resumed one only flush what never left. What the
// catch-up has to do with the outbox is in outbox.go's comment.
func (c *ChatService) sessionStarted(client *xmppclient.Client, ev xmppclient.SessionEvent) {
	// The outbox first: what is submitted once the client is handed out
	// waits for the flush.
	c.out.sessionStarted(ev)
	c.mu.Lock()
	if c.sessStop != nil {
		c.sessStop()
	}
	c.client = client
	c.sessCtx, c.sessStop = context.WithCancel(context.Background())
	ctx := c.sessCtx
	c.mu.Unlock()
	if !ev.Resumed {
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		if err := client.EnableCarbons(cctx); err != nil {
			c.log.Warn("carbons not enabled", "err", err)
		}
		cancel()
		c.measureServerClock(ctx, client)
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		var pass *archivePass // the catch-up, when it succeeded
		if !ev.Resumed {
			var err error
			pass, err = c.catchUp(ctx, client)
			// Corrections still waiting for their message may be shown
			// now: the archive did not have it.
			c.showOrphans()
			if err == nil || archiveUnavailable(err) {
				c.out.archiveChecked()
			}
		}
		c.out.flush(ctx, client)
		if pass != nil {
			c.resumeGaps(ctx, pass)
		}
	}()
}

func (c *ChatService) sessionEnded(client *xmppclient.Client) {
	c.mu.Lock()
	if c.client != client {
		c.mu.Unlock()
		return
	}
	c.client = nil
	if c.sessStop != nil {
		c.sessStop()
	}
	changed := map[string]string{}
	for p := range c.typing {
		changed[p] = ""
	}
	c.typing = map[string]string{}
	for _, t := range c.typingTimers {
		t.Stop()
	}
	c.typingTimers = map[string]*time.Timer{}
	c.mu.Unlock()
	c.out.sessionEnded()
	if len(changed) > 0 {
		c.notify(ChatChange{Typing: changed})
	}
}
