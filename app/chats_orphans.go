// Corrections whose message never came: the history keeps a correction
// (XEP-0308) that names a message it does not have as a pending edit,
// applied when that message arrives, usually in the same catch-up. One
// that has waited pendingEditWait without it (and not while a catch-up may
// still bring it) is shown as a message of its own, marked edited
// (store.ShowPendingCorrections). Its XEP-0184 receipt is owed until then:
// the sender must not read "delivered" for a text nobody can see.
package app

import (
	"context"
	"time"
)

// defaultPendingEditWait is how long a correction waits for its message
// before it is shown alone (Options.PendingEditWait).
const defaultPendingEditWait = 20 * time.Second

// orphanCheckSlack is added to the wait, so that the check after it finds
// the correction due (store and timer clocks step differently).
const orphanCheckSlack = 250 * time.Millisecond

// waitForOrphans schedules a check for corrections that waited long
// enough, unless one is scheduled already.
func (c *ChatService) waitForOrphans() {
	c.orphanMu.Lock()
	defer c.orphanMu.Unlock()
	if c.orphanTimer != nil || c.orphanStop {
		return
	}
	c.orphanTimer = time.AfterFunc(c.pendingEditWait+orphanCheckSlack, func() {
		c.orphanMu.Lock()
		c.orphanTimer = nil
		c.orphanMu.Unlock()
		c.showOrphans()
	})
}

// stopOrphanChecks ends the checks (the service closes).
func (c *ChatService) stopOrphanChecks() {
	c.orphanMu.Lock()
	defer c.orphanMu.Unlock()
	c.orphanStop = true
	if c.orphanTimer != nil {
		c.orphanTimer.Stop()
		c.orphanTimer = nil
	}
}

// showOrphans shows the corrections that waited pendingEditWait for their
// message, and checks again later for those that have not yet. During a
// catch-up it does nothing: the catch-up calls it when it ends.
func (c *ChatService) showOrphans() {
	if c.Sync().Active {
		return
	}
	st, err := c.history()
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// What is shown reaches the views and the owed receipts through
	// onCommit, as a new message.
	shown, waiting, err := st.ShowPendingCorrections(ctx, c.now().Add(-c.pendingEditWait))
	if err != nil {
		c.log.Warn("showing corrections whose message never came", "err", err)
		return
	}
	if len(shown) > 0 {
		c.log.Info("corrections shown without their message", "count", len(shown))
	}
	if waiting > 0 {
		c.waitForOrphans()
	}
}
