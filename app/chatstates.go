// What the person does in a chat, turned into what goes on the wire: the
// XEP-0085 chat state machine (composing while typing, paused after a
// pause, active with a message or an emptied composer, inactive on leaving
// the chat or the window, gone when the chats close), the order of chat
// states against messages, the drafts kept as the person leaves a chat, and
// the flush of all of that before the session ends (logout, quit). The
// views report what happened; this file decides what is sent.
package app

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"parley/app/store"
	"parley/xmppclient"
)

// Chat states (XEP-0085) for SendChatState and ChatChange.Typing.
const (
	ChatStateActive    = xmppclient.StateActive
	ChatStateComposing = xmppclient.StateComposing
	ChatStatePaused    = xmppclient.StatePaused
	ChatStateInactive  = xmppclient.StateInactive
	ChatStateGone      = xmppclient.StateGone
)

// SendChatState tells the peer we are typing, paused, etc. (XEP-0085).
func (c *ChatService) SendChatState(peer, state string) error {
	p, err := peerJID(peer)
	if err != nil {
		return err
	}
	client := c.currentClient()
	if client == nil {
		return ErrNotOnline
	}
	// A stranger whose request is not accepted learns nothing of what we do.
	if req, err := c.IsRequest(context.Background(), p); err != nil || req {
		return err
	}
	to, _ := xmppclient.ParseJID(p)
	_, err = client.SendMessage(xmppclient.OutgoingMessage{To: to, ChatState: state, NoStore: true})
	return err
}

// defaultPausedAfter: typing stopped this long sends "paused" (and keeps
// the draft). defaultFlushWait bounds the flush before the session ends.
const (
	defaultPausedAfter = 5 * time.Second
	defaultFlushWait   = 2 * time.Second
)

// chatWire is where the interaction's decisions go: the chat service, or
// a test's double of it.
type chatWire interface {
	SendChatState(peer, state string) error
	Send(ctx context.Context, peer, body string) (store.Message, error)
	SetDraft(ctx context.Context, peer, text string) error
}

// chatInteraction is the state of the person's side of the chats: the
// chat shown, the chat state we sent last and to whom, the drafts kept in
// this run, and the queue that sends states and messages in order. Its
// methods are called from the views (on the UI goroutine): they never
// block on the network or the disk.
type chatInteraction struct {
	log         *slog.Logger
	pausedAfter time.Duration
	flushWait   time.Duration
	ctx         context.Context // of the queued sends and writes; ends with the service
	cancel      context.CancelFunc

	mu        sync.Mutex
	wire      chatWire
	open      string // the chat shown ("" when none)
	stateSent string // the chat state we sent last, to statePeer
	statePeer string
	idle      *time.Timer
	typed     string            // the open chat's composer text, as last typed
	drafts    map[string]string // drafts kept in this run, by peer
	sends     sendQueue
	draftW    *draftWriter
	writes    inFlight // draft writes under way
}

// inFlight counts work under way and says when there is none (a
// WaitGroup may not be added to while it is waited on; this may).
type inFlight struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to 0
}

func (f *inFlight) add() {
	f.mu.Lock()
	if f.n == 0 {
		f.idle = make(chan struct{})
	}
	f.n++
	f.mu.Unlock()
}

func (f *inFlight) done() {
	f.mu.Lock()
	f.n--
	if f.n == 0 {
		close(f.idle)
	}
	f.mu.Unlock()
}

// none is closed once nothing is under way.
func (f *inFlight) none() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 {
		c := make(chan struct{})
		close(c)
		return c
	}
	return f.idle
}

func newChatInteraction(log *slog.Logger, wire chatWire, pausedAfter, flushWait time.Duration) *chatInteraction {
	if pausedAfter <= 0 {
		pausedAfter = defaultPausedAfter
	}
	if flushWait <= 0 {
		flushWait = defaultFlushWait
	}
	i := &chatInteraction{log: log, wire: wire, pausedAfter: pausedAfter, flushWait: flushWait, drafts: map[string]string{}}
	i.ctx, i.cancel = context.WithCancel(context.Background())
	i.draftW = newDraftWriter(func(ctx context.Context, peer, text string) error {
		return i.currentWire().SetDraft(ctx, peer, text)
	})
	return i
}

func (i *chatInteraction) currentWire() chatWire {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.wire
}

// ChatOpened: the person opened peer's chat (the one shown before was
// left with ChatLeft).
func (c *ChatService) ChatOpened(peer string) {
	i := c.chat
	i.mu.Lock()
	defer i.mu.Unlock()
	i.open, i.typed = peer, ""
}

// ChatLeft: the person left peer's chat for another one (or for none).
// XEP-0085: leaving a chat we took part in makes us inactive there.
func (c *ChatService) ChatLeft(peer string) {
	i := c.chat
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.open == peer {
		i.open = ""
		i.stopIdleLocked()
	}
	if i.statePeer == peer && i.stateSent != ChatStateInactive && i.stateSent != ChatStateGone {
		i.sendStateLocked(peer, ChatStateInactive)
	}
}

// ComposerChanged: the person changed the text of a new message to peer
// (not a correction, and not text set by the program). Typing sends
// "composing", a pause of pausedAfter "paused" (and keeps the draft), an
// emptied composer "active".
func (c *ChatService) ComposerChanged(peer, text string) {
	i := c.chat
	i.mu.Lock()
	defer i.mu.Unlock()
	if peer == "" || i.open != peer {
		return
	}
	i.typed = text
	i.stopIdleLocked()
	if strings.TrimSpace(text) == "" {
		if i.statePeer == peer && (i.stateSent == ChatStateComposing || i.stateSent == ChatStatePaused) {
			i.sendStateLocked(peer, ChatStateActive)
		}
		return
	}
	if i.statePeer != peer || i.stateSent != ChatStateComposing {
		i.sendStateLocked(peer, ChatStateComposing)
	}
	var t *time.Timer
	t = time.AfterFunc(i.pausedAfter, func() {
		i.mu.Lock()
		defer i.mu.Unlock()
		if i.idle != t || i.open != peer {
			return // typed again, or left: that decided already
		}
		i.idle = nil
		if i.statePeer == peer && i.stateSent == ChatStateComposing {
			i.sendStateLocked(peer, ChatStatePaused)
		}
		i.keepDraftLocked(peer, i.typed)
	})
	i.idle = t
}

// WindowFocused: the chats' window got or lost the focus. XEP-0085: the
// person left the window, so the peer of the chat shown sees them
// inactive; back in it, active again.
func (c *ChatService) WindowFocused(focused bool) {
	i := c.chat
	i.mu.Lock()
	defer i.mu.Unlock()
	peer := i.open
	if peer == "" || i.statePeer != peer {
		return
	}
	switch {
	case focused && i.stateSent == ChatStateInactive:
		i.sendStateLocked(peer, ChatStateActive)
	case !focused && i.stateSent != ChatStateInactive && i.stateSent != ChatStateGone:
		i.sendStateLocked(peer, ChatStateInactive)
	}
}

// SendMessage sends text to peer in order with the chat states before and
// after it (the message carries <active/>), and empties peer's draft. If
// sending fails, failed is called with why, off the caller's goroutine.
func (c *ChatService) SendMessage(peer, text string, failed func(error)) {
	i := c.chat
	i.mu.Lock()
	defer i.mu.Unlock()
	i.stopIdleLocked()
	if i.open == peer {
		i.typed = ""
	}
	i.keepDraftLocked(peer, "")
	i.stateSent, i.statePeer = ChatStateActive, peer
	wire, ctx := i.wire, i.ctx
	i.sends.push(queuedSend{peer: peer, send: func() {
		if _, err := wire.Send(ctx, peer, text); err != nil && failed != nil {
			failed(err)
		}
	}})
}

// ChatsClosed: the chats are closed (the window, or logging out). The
// peer of the chat shown is told we are gone (XEP-0085). What waits goes
// out before the session ends: Logout and Close flush.
func (c *ChatService) ChatsClosed() {
	i := c.chat
	i.mu.Lock()
	defer i.mu.Unlock()
	peer := i.open
	i.stopIdleLocked()
	i.open = ""
	if peer != "" && i.statePeer == peer && i.stateSent != ChatStateGone {
		i.sendStateLocked(peer, ChatStateGone)
	}
}

// KeepDraft keeps text as peer's draft: at once for DraftOf, and in the
// history off the caller's goroutine (writes land in the order asked for).
func (c *ChatService) KeepDraft(peer, text string) {
	i := c.chat
	i.mu.Lock()
	defer i.mu.Unlock()
	i.keepDraftLocked(peer, text)
}

// DraftOf is peer's draft as kept in this run (ok is false when none was:
// the history's, in the conversation list, is the one).
func (c *ChatService) DraftOf(peer string) (text string, ok bool) {
	i := c.chat
	i.mu.Lock()
	defer i.mu.Unlock()
	text, ok = i.drafts[peer]
	return text, ok
}

// keepDraftLocked: i.mu is held.
func (i *chatInteraction) keepDraftLocked(peer, text string) {
	if old, ok := i.drafts[peer]; ok && old == text {
		return
	}
	i.drafts[peer] = text
	t := i.draftW.ticket(peer) // an earlier write still waiting is skipped
	i.writes.add()
	go func() {
		defer i.writes.done()
		if _, err := i.draftW.write(i.ctx, t, peer, text); err != nil {
			i.log.Warn("keeping a draft", "peer", peer, "err", err)
		}
	}()
}

func (i *chatInteraction) stopIdleLocked() {
	if i.idle != nil {
		i.idle.Stop()
		i.idle = nil
	}
}

// sendStateLocked queues a chat state (failures, such as being offline,
// do not matter); i.mu is held.
func (i *chatInteraction) sendStateLocked(peer, state string) {
	i.stateSent, i.statePeer = state, peer
	wire := i.wire
	i.sends.push(queuedSend{peer: peer, state: state, send: func() { _ = wire.SendChatState(peer, state) }})
}

// flush waits until what was queued and the drafts asked for have gone
// out, or ctx ends, or flushWait passed: the session and the history may
// close then.
func (i *chatInteraction) flush(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, i.flushWait)
	defer cancel()
	i.sends.wait(ctx)
	select {
	case <-i.writes.none():
	case <-ctx.Done():
		i.log.Warn("drafts not kept in time before the session ends")
	}
}

// forgetDrafts forgets the drafts kept in this run (another account's
// history was opened).
func (i *chatInteraction) forgetDrafts() {
	i.mu.Lock()
	clear(i.drafts)
	i.mu.Unlock()
}

// close ends what still waits (after flush): the history closes next.
func (i *chatInteraction) close() {
	i.mu.Lock()
	i.stopIdleLocked()
	i.mu.Unlock()
	i.cancel()
}

// sendQueue sends chat states and messages in the order they were made, on
// one goroutine that runs while there is something to send (a goroutine
// per send let "composing" reach the peer after the message that ended
// it). Of several states waiting for one peer only the latest is sent, and
// a message (which carries <active/>) makes the states waiting for its peer
// out of date.
type sendQueue struct {
	mu      sync.Mutex
	waiting []queuedSend
	done    chan struct{} // closed when the sending goroutine ends; nil when none runs
}

// queuedSend is one send: a chat state, or a message when state is "".
type queuedSend struct {
	peer, state string
	send        func()
}

// push queues a send and starts the goroutine if none runs.
func (q *sendQueue) push(s queuedSend) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if s.state != "" {
		// Replace a state waiting for the peer, unless a message for it
		// waits after that state.
		for i := len(q.waiting) - 1; i >= 0; i-- {
			if w := q.waiting[i]; w.peer == s.peer {
				if w.state != "" {
					q.waiting[i] = s
					return
				}
				break
			}
		}
	} else {
		kept := q.waiting[:0]
		for _, w := range q.waiting {
			if w.state == "" || w.peer != s.peer {
				kept = append(kept, w)
			}
		}
		clear(q.waiting[len(kept):])
		q.waiting = kept
	}
	q.waiting = append(q.waiting, s)
	if q.done == nil {
		q.done = make(chan struct{})
		go q.run(q.done)
	}
}

// run sends until nothing waits.
func (q *sendQueue) run(done chan struct{}) {
	defer close(done)
	for {
		q.mu.Lock()
		if len(q.waiting) == 0 {
			q.waiting = nil
			q.done = nil
			q.mu.Unlock()
			return
		}
		s := q.waiting[0]
		q.waiting = q.waiting[1:]
		q.mu.Unlock()
		s.send()
	}
}

// wait waits until everything queued is sent, or ctx ends.
func (q *sendQueue) wait(ctx context.Context) {
	q.mu.Lock()
	done := q.done
	q.mu.Unlock()
	if done == nil {
		return
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// draftWriter writes drafts through save, one at a time, skipping a write
// when a newer one for the same peer was asked for meanwhile. The zero
// value is not usable: see newDraftWriter.
type draftWriter struct {
	save func(ctx context.Context, peer, text string) error

	mu     sync.Mutex // guards next and latest
	next   uint64
	latest map[string]uint64 // peer -> the newest write asked for

	writing sync.Mutex // held during a write, so a check and its write are one step
}

func newDraftWriter(save func(ctx context.Context, peer, text string) error) *draftWriter {
	return &draftWriter{save: save, latest: map[string]uint64{}}
}

// ticket records that text is now the newest draft for peer; call it in
// the order the drafts were made (on the UI goroutine), then write with
// the ticket, on any goroutine.
func (w *draftWriter) ticket(peer string) uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.next++
	w.latest[peer] = w.next
	return w.next
}

// write keeps text as peer's draft unless a newer ticket for peer was
// taken; it reports whether it wrote (false, nil when skipped).
func (w *draftWriter) write(ctx context.Context, t uint64, peer, text string) (bool, error) {
	w.writing.Lock()
	defer w.writing.Unlock()
	w.mu.Lock()
	stale := w.latest[peer] != t
	w.mu.Unlock()
	if stale {
		return false, nil
	}
	return true, w.save(ctx, peer, text)
}
