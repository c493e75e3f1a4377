// Desktop notifications for incoming messages while the window is not
// focused. Newly stored messages are looked up off the UI goroutine;
// retracted ones, our own and those older than a minute (archive catch-up)
// are skipped; a message request shows as one, without its text; a burst
// within ChatsOptions.NotifyDelay becomes one
// notification ("Alice (3 new messages)", or "5 new messages" from several
// people).
package views

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"

	"parley/app/store"
)

// requestNotice stands for the text of a message request in a notification.
const requestNotice = "Message request: see “Message requests” in Chats."

const (
	notifyMaxAge     = time.Minute // older messages are catch-up, not news
	notifyMaxLookups = 8           // per change: the newest ones
	notifyMaxText    = 200
)

// notifier gathers messages into notifications. add, flush and drop run on
// the UI goroutine; lookUp on any.
type notifier struct {
	c       *ChatsView
	pending []store.Message
	extra   int // messages in the burst not looked up
	timer   *time.Timer
}

// lookUp reads newly stored messages and queues those worth a notification.
func (n *notifier) lookUp(ids []int64) {
	c := n.c
	extra := 0
	if len(ids) > notifyMaxLookups {
		extra = len(ids) - notifyMaxLookups
		ids = ids[len(ids)-notifyMaxLookups:]
	}
	now := c.now()
	var msgs []store.Message
	requests := map[string]bool{} // by peer, asked once per lookup
	for _, id := range ids {
		m, err := c.svc.Message(c.ctx, id)
		if err != nil || m.Direction != store.In || m.Retracted || strings.TrimSpace(m.Body) == "" || now.Sub(m.Time) > notifyMaxAge {
			continue
		}
		req, asked := requests[m.Conversation]
		if !asked {
			req, _ = c.svc.IsRequest(c.ctx, m.Conversation)
			requests[m.Conversation] = req
		}
		if req {
			// A stranger's text (spam, often) stays off the desktop.
			m.Body = requestNotice
		}
		msgs = append(msgs, m)
	}
	if len(msgs) == 0 {
		return
	}
	c.do(func() { n.add(msgs, extra) })
}

// add queues messages; the first of a burst starts the timer.
func (n *notifier) add(msgs []store.Message, extra int) {
	if n.c.focused || n.c.ctx.Err() != nil {
		return
	}
	n.pending = append(n.pending, msgs...)
	n.extra += extra
	if n.timer == nil {
		n.timer = time.AfterFunc(n.c.opts.NotifyDelay, func() { n.c.do(n.flush) })
	}
}

// flush sends one notification for the burst.
func (n *notifier) flush() {
	msgs, extra := n.pending, n.extra
	n.pending, n.extra, n.timer = nil, 0, nil
	if len(msgs) == 0 || n.c.focused || n.c.ctx.Err() != nil {
		return
	}
	n.c.opts.Notify(n.c.notification(msgs, extra))
}

// drop forgets the burst (the window got the focus).
func (n *notifier) drop() {
	if n.timer != nil {
		n.timer.Stop()
	}
	n.pending, n.extra, n.timer = nil, 0, nil
}

// stop ends notifications.
func (n *notifier) stop() { n.drop() }

// notification words a burst of messages.
func (c *ChatsView) notification(msgs []store.Message, extra int) *fyne.Notification {
	var peers []string
	for _, m := range msgs {
		if !slices.Contains(peers, m.Conversation) {
			peers = append(peers, m.Conversation)
		}
	}
	last := msgs[len(msgs)-1]
	body := oneLine(unstyled(last.Body), notifyMaxText)
	total := len(msgs) + extra
	if len(peers) == 1 {
		title := c.displayName(peers[0])
		if total > 1 {
			title += " (" + strconv.Itoa(total) + " new messages)"
		}
		return fyne.NewNotification(title, body)
	}
	names := make([]string, 0, len(peers))
	for _, p := range peers {
		names = append(names, c.displayName(p))
	}
	from := strings.Join(names, ", ")
	if len(names) > 3 {
		from = strings.Join(names[:3], ", ") + " and " + strconv.Itoa(len(names)-3) + " more"
	}
	return fyne.NewNotification(strconv.Itoa(total)+" new messages", "From "+from)
}
