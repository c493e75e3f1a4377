// The chat service: one-to-one messages and their history. It keeps every
// message in the profile's history store (app/store), sends through an
// outbox that survives restarts (queued -> sent on the server's XEP-0198
// ack -> delivered on a XEP-0184 receipt -> read on a XEP-0333 displayed
// marker, or failed with the error), and so are our corrections (XEP-0308)
// and retractions (XEP-0424), in order with the messages; it catches up
// from the server archive (XEP-0313) on every fresh session, stores a
// message that arrives several times (live, carbon, archive) once, answers
// receipt requests once a message is committed to the history, and tells
// the views what changed.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"parley/app/clock"
	"parley/app/store"
	"parley/xmppclient"
)

// HistoryFile is the history database in a profile folder.
const HistoryFile = "history.db"

// catchUpPage is the archive page size asked for (servers may cap it lower).
const catchUpPage = 250

// firstSyncPages bounds the first sync of a new profile: the newest pages
// only; older history is a gap fetched when the user scrolls into it.
const firstSyncPages = 4

// localTime is the time given to a message without a server stamp (one
// received live, or sent from here). It is cut to whole seconds: the
// server's stamps (XEP-0203 delay of the archive and of offline copies)
// have whole seconds, and the history orders by time, then by arrival. A
// message stored live at 12:00:05.600 must stay before one the peer sent
// at 12:00:05.800 that comes later from the archive stamped 12:00:05.
//
// It is on the server's clock when the machine's is off by more than
// maxClockSkew (see measureServerClock), so that what is dated here sorts
// right among what the archive dates.
func (c *ChatService) localTime() time.Time { return c.Now().Truncate(time.Second) }

// Now is the time on the history's clock: the server's when the
// machine's is off it (see localTime), so that "a minute ago" and "today"
// agree with the times messages carry.
func (c *ChatService) Now() time.Time {
	c.mu.Lock()
	skew := c.serverSkew
	c.mu.Unlock()
	return c.now().Add(skew)
}

// outTime is the time of a message or edit handed to the outbox: the
// local time, but never before the last one handed over. The outbox sends
// in the order of these times, which must stay the order things were
// written in when the clock steps back (the server's clock became known
// at login, or the machine's was corrected while messages were queued).
func (c *ChatService) outTime() time.Time {
	t := c.localTime()
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.Before(c.lastOut) {
		t = c.lastOut
	}
	c.lastOut = t
	return t
}

// learnLastOut sets what outTime must not go below from the outbox of
// the history just opened.
func (c *ChatService) learnLastOut(st *store.Store) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var last time.Time
	msgs, err := st.Outbox(ctx)
	if err == nil && len(msgs) > 0 {
		last = msgs[len(msgs)-1].Time
	}
	edits, eerr := st.OutboxEdits(ctx)
	for _, e := range edits {
		if e.Time.After(last) {
			last = e.Time
		}
	}
	if err != nil || eerr != nil {
		c.log.Warn("reading the outbox", "err", errors.Join(err, eerr))
	}
	c.mu.Lock()
	c.lastOut = last
	c.mu.Unlock()
}

// maxClockSkew is how far the machine's clock may be off the server's
// before messages are dated on the server's clock instead: more than the
// stamps' whole seconds and a round trip.
const maxClockSkew = 2 * time.Second

// measureServerClock asks the server for its time (XEP-0202) at the start
// of a fresh session, before any message of it is handled, and sets the
// skew localTime adds. A server that does not say keeps the last one.
func (c *ChatService) measureServerClock(ctx context.Context, client *xmppclient.Client) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	offset, rtt, err := client.ServerClockOffset(ctx)
	if err != nil {
		c.log.Debug("server time unknown", "err", err)
		return
	}
	// offset is measured against the real time; the service's clock may
	// differ from it (tests, the clockahead build).
	skew := offset - time.Until(c.now())
	if skew < maxClockSkew+rtt/2 && skew > -maxClockSkew-rtt/2 {
		skew = 0
	} else {
		c.log.Warn("this machine's clock is off the server's: dating messages on the server's", "by", -skew)
	}
	c.mu.Lock()
	c.serverSkew = skew
	c.mu.Unlock()
}

// chatFeatures are the disco#info features Parley announces for what the
// chat service understands (XEP-0030/0115), so other clients send receipt
// requests, markers, chat states, corrections and retractions.
var chatFeatures = []string{
	xmppclient.NSReceipts, xmppclient.NSChatMarkers, xmppclient.NSChatStates,
	xmppclient.NSCorrection, xmppclient.NSRetract, xmppclient.NSStanzaID,
	xmppclient.NSOOB, "urn:xmpp:styling:0", "http://jabber.org/protocol/nick+notify",
}

// ErrNoHistory: no profile (and so no history) is open yet.
var ErrNoHistory = errors.New("no account is open, so there is no history yet")

// SyncProgress is the state of the archive catch-up.
type SyncProgress struct {
	Active  bool
	Fetched int   // messages fetched so far in this catch-up
	Total   int   // messages it expects to fetch, as the archive counted them (0: unknown)
	Err     error // the last catch-up's failure, if any
}

// ChatChange tells listeners what changed.
type ChatChange struct {
	// Peers whose conversation (messages, states, preview, unread) changed.
	Peers []string
	// Inserted are the row ids of messages newly stored (live, carbons or
	// the archive), for notifications; read them with Message.
	Inserted []int64
	// Typing maps peers to their current chat state when it changed.
	Typing map[string]string
	Sync   SyncProgress
	// Problem, when set, is something the user must know that no one view
	// shows: a message received but not saved (the disk is full, say).
	Problem string
}

// ChatService is safe for concurrent use.
type ChatService struct {
	log *slog.Logger
	now clock.Func // the clock of message times and the history's

	mu       sync.Mutex
	st       *store.Store
	dir      string
	account  string // own bare JID
	client   *xmppclient.Client
	sessCtx  context.Context
	sessStop context.CancelFunc
	// inflight: ids of the outbox's messages and edits written in this
	// session and not yet acked.
	inflight map[string]outgoing
	// unverified: messages and edits a lost session wrote and the server
	// did not acknowledge; the outbox flush leaves them until an archive
	// check (which marks sent those the server got), or until a catch-up
	// finds there is no archive to check (see sessionStarted).
	unverified map[string]bool
	// doubted: messages and edits that were written and not acknowledged
	// when the server closed the stream with an error. One of them may be
	// what made it close (a stanza over the server's size limit, say), so
	// the outbox flush writes each alone (writeQueued). One that is again
	// the only one unacknowledged when the server closes the stream with
	// an error is refused by the server: a message is marked failed with
	// the server's error text, an edit (which has no failed state) is
	// poisoned, left out of this process's flushes; the queue moves on.
	doubted  map[string]bool
	poisoned map[string]bool
	// settled is closed, and replaced, whenever inflight shrinks.
	settled chan struct{}
	// flushing: the session's catch-up and outbox flush are not done yet;
	// Send leaves new messages to the flush (counted in deferred) so they
	// go out after the older queued ones.
	flushing bool
	deferred int
	typing   map[string]string // peer -> chat state
	// serverSkew: how far the server's clock is ahead of c.now (0 when
	// they agree within maxClockSkew); see localTime.
	serverSkew time.Duration
	// lastOut is the time of the last message or edit queued (outTime).
	lastOut time.Time
	// typingTimers turn a "composing" that was never followed up (the
	// peer's client went away) into "paused" after typingTimeout.
	typingTimers map[string]*time.Timer
	// idsClient's archive takes after-id (urn:xmpp:mam:2#extended).
	idsClient *xmppclient.Client
	sync      SyncProgress
	listeners map[int]func(ChatChange)
	nextL     int
	wg        sync.WaitGroup
	// sendMu makes writing a stored message (check, mark in flight, write)
	// one step: Send and the outbox flush never both write it, and
	// messages go out in the order they were handed over.
	sendMu sync.Mutex

	notifyMu sync.Mutex
	notifyQ  []ChatChange
	notifyC  chan struct{}
	done     chan struct{}

	// XEP-0184 receipts owed for received messages handed to the history:
	// sent (by receiptLoop, in order) once onCommit reports the message
	// committed, dropped when onStoreError reports it lost.
	receiptMu sync.Mutex
	owed      map[msgKey][]owedReceipt
	receiptQ  []owedReceipt
	receiptC  chan struct{}

	// mayShowPresence reports whether a peer may see our presence (see
	// presenceShared); set by NewService.
	mayShowPresence func(bare string) bool
	// inRoster reports whether a peer is in the roster: a conversation a
	// stranger starts is a message request (chats_requests.go).
	inRoster func(bare string) bool
	// sidClient's server announced urn:xmpp:sid:0 for the account: its
	// stanza-ids by the own bare JID are its own (see stanzaIDsTrusted).
	sidClient *xmppclient.Client

	// Corrections waiting for a message that may never come
	// (chats_orphans.go): how long, and the timer of the next check.
	pendingEditWait time.Duration
	orphanMu        sync.Mutex
	orphanTimer     *time.Timer
	orphanStop      bool
}

// outgoing is what an id in flight is: a message or an edit, to peer.
type outgoing struct {
	peer string
	edit bool
}

// msgKey names a message by its conversation and its origin-id or id
// attribute (as store.Saved reports a received one, say).
type msgKey struct{ peer, id string }

// owedReceipt is a receipt to send for message id from to.
type owedReceipt struct {
	client *xmppclient.Client
	to     xmppclient.JID
	id     string
}

func newChatService(log *slog.Logger, now clock.Func, pendingEditWait time.Duration) *ChatService {
	if pendingEditWait <= 0 {
		pendingEditWait = defaultPendingEditWait
	}
	c := &ChatService{log: log, now: clock.Or(now), pendingEditWait: pendingEditWait, inflight: map[string]outgoing{}, unverified: map[string]bool{},
		doubted: map[string]bool{}, poisoned: map[string]bool{}, settled: make(chan struct{}),
		typing: map[string]string{}, typingTimers: map[string]*time.Timer{},
		listeners: map[int]func(ChatChange){}, notifyC: make(chan struct{}, 1), done: make(chan struct{}),
		owed: map[msgKey][]owedReceipt{}, receiptC: make(chan struct{}, 1)}
	go c.notifyLoop()
	go c.receiptLoop()
	return c
}

// Chats returns the chat service of the account.
func (s *Service) Chats() *ChatService { return s.chats }

// Subscribe registers fn for changes; it is called in order on a goroutine
// of the service. It returns a function that unsubscribes.
func (c *ChatService) Subscribe(fn func(ChatChange)) (unsubscribe func()) {
	c.mu.Lock()
	id := c.nextL
	c.nextL++
	c.listeners[id] = fn
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		delete(c.listeners, id)
		c.mu.Unlock()
	}
}

func (c *ChatService) notify(ch ChatChange) {
	c.notifyMu.Lock()
	c.notifyQ = append(c.notifyQ, ch)
	c.notifyMu.Unlock()
	select {
	case c.notifyC <- struct{}{}:
	default:
	}
}

// notifyLoop delivers changes, merging those that queued up meanwhile.
func (c *ChatService) notifyLoop() {
	for {
		select {
		case <-c.done:
			return
		case <-c.notifyC:
		}
		c.notifyMu.Lock()
		q := c.notifyQ
		c.notifyQ = nil
		c.notifyMu.Unlock()
		if len(q) == 0 {
			continue
		}
		merged := mergeChanges(q)
		c.mu.Lock()
		fns := make([]func(ChatChange), 0, len(c.listeners))
		for _, fn := range c.listeners {
			fns = append(fns, fn)
		}
		merged.Sync = c.sync
		c.mu.Unlock()
		for _, fn := range fns {
			fn(merged)
		}
	}
}

func mergeChanges(q []ChatChange) ChatChange {
	var out ChatChange
	seen := map[string]bool{}
	for _, ch := range q {
		for _, p := range ch.Peers {
			if !seen[p] {
				seen[p] = true
				out.Peers = append(out.Peers, p)
			}
		}
		out.Inserted = append(out.Inserted, ch.Inserted...)
		for p, s := range ch.Typing {
			if out.Typing == nil {
				out.Typing = map[string]string{}
			}
			out.Typing[p] = s
		}
		if ch.Problem != "" {
			out.Problem = ch.Problem
		}
	}
	return out
}

// useProfile opens the profile's history (closing another one).
func (c *ChatService) useProfile(p *Profile, account string) error {
	if p == nil {
		return nil
	}
	c.mu.Lock()
	if c.st != nil && c.dir == p.Dir() {
		c.account = account
		c.mu.Unlock()
		return nil
	}
	old := c.st
	c.st = nil
	c.mu.Unlock()
	if old != nil {
		if err := old.Close(); err != nil {
			c.log.Warn("closing the history", "err", err)
		}
	}
	st, err := store.Open(context.Background(), filepath.Join(p.Dir(), HistoryFile), store.Options{OnCommit: c.onCommit, OnResolved: c.onCommit, OnError: c.onStoreError, Now: c.now})
	if err != nil {
		return fmt.Errorf("open the history of %s: %w", account, err)
	}
	c.learnLastOut(st)
	c.mu.Lock()
	c.st, c.dir, c.account = st, p.Dir(), account
	c.mu.Unlock()
	c.waitForOrphans() // corrections a previous run left waiting
	return nil
}

// onStoreError runs on the store's writer goroutine when a received
// message could not be saved even alone: the user is told, as the message
// exists nowhere else here (the archive may still have it), and the
// sender gets no receipt for it.
func (c *ChatService) onStoreError(m store.Message, err error) {
	c.log.Error("a message could not be saved", "peer", m.Conversation, "err", err)
	if m.Direction == store.In && m.MessageID != "" {
		c.takeReceipt(msgKey{m.Conversation, m.MessageID}, true)
	}
	c.notify(ChatChange{Peers: []string{m.Conversation},
		Problem: fmt.Sprintf("A message from %s could not be saved: %v", m.Conversation, err)})
}

// onCommit runs on the store's writer goroutine: hand the change over,
// and send the receipts owed for the messages now in the history (a copy
// of one stored already counts: it is in the history). It also takes the
// store's OnResolved: edits that waited for their message and are applied
// now, so the user sees them and the receipts owed for them go out.
func (c *ChatService) onCommit(saved []store.Saved) {
	peers := map[string]bool{}
	var ch ChatChange
	var receipts []owedReceipt
	waiting := false
	for _, s := range saved {
		if s.Outcome == store.Pending {
			// An edit of a message not here yet: nothing the user can
			// see, so its receipt waits (the store's OnResolved, or shown alone).
			waiting = true
		} else if s.Direction == store.In && s.MessageID != "" {
			if r, ok := c.takeReceipt(msgKey{s.Conversation, s.MessageID}, true); ok {
				receipts = append(receipts, r)
			}
		}
		if s.Conversation != "" && !peers[s.Conversation] {
			peers[s.Conversation] = true
			ch.Peers = append(ch.Peers, s.Conversation)
		}
		if s.Outcome == store.Inserted {
			ch.Inserted = append(ch.Inserted, s.ID)
		}
	}
	if len(ch.Peers) > 0 {
		c.notify(ch)
	}
	c.queueReceipts(receipts)
	if waiting {
		c.waitForOrphans()
	}
}

// queueReceipts hands receipts to receiptLoop, in order.
func (c *ChatService) queueReceipts(receipts []owedReceipt) {
	if len(receipts) == 0 {
		return
	}
	c.receiptMu.Lock()
	c.receiptQ = append(c.receiptQ, receipts...)
	c.receiptMu.Unlock()
	select {
	case c.receiptC <- struct{}{}:
	default:
	}
}

// oweReceipt notes a receipt to send once the message key is committed.
func (c *ChatService) oweReceipt(key msgKey, r owedReceipt) {
	c.receiptMu.Lock()
	c.owed[key] = append(c.owed[key], r)
	c.receiptMu.Unlock()
}

// takeReceipt removes a receipt owed for key: the oldest (the store
// reports messages in the order they were put) or the newest (a Put that
// failed at once).
func (c *ChatService) takeReceipt(key msgKey, oldest bool) (owedReceipt, bool) {
	c.receiptMu.Lock()
	defer c.receiptMu.Unlock()
	rs := c.owed[key]
	if len(rs) == 0 {
		return owedReceipt{}, false
	}
	var r owedReceipt
	if oldest {
		r, rs = rs[0], rs[1:]
	} else {
		r, rs = rs[len(rs)-1], rs[:len(rs)-1]
	}
	if len(rs) == 0 {
		delete(c.owed, key)
	} else {
		c.owed[key] = rs
	}
	return r, true
}

// receiptLoop sends the receipts onCommit queued, in order, off the
// store's writer goroutine (a write to the network may block).
func (c *ChatService) receiptLoop() {
	for {
		select {
		case <-c.done:
			return
		case <-c.receiptC:
		}
		c.receiptMu.Lock()
		q := c.receiptQ
		c.receiptQ = nil
		c.receiptMu.Unlock()
		for _, r := range q {
			// Archived (no no-store hint): the sender's devices that are
			// offline now learn "delivered" from their archive later.
			if _, err := r.client.SendMessage(xmppclient.OutgoingMessage{To: r.to, ReceiptFor: r.id}); err != nil {
				c.log.Debug("receipt not sent", "err", err)
			}
		}
	}
}

func (c *ChatService) close() {
	c.stopOrphanChecks()
	c.mu.Lock()
	st := c.st
	c.st = nil
	if c.sessStop != nil {
		c.sessStop()
	}
	c.mu.Unlock()
	c.wg.Wait()
	if st != nil {
		if err := st.Close(); err != nil {
			c.log.Warn("closing the history", "err", err)
		}
	}
	select {
	case <-c.done:
	default:
		close(c.done)
	}
}

func (c *ChatService) history() (*store.Store, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st == nil {
		return nil, ErrNoHistory
	}
	return c.st, nil
}

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
		c.acked(ev.IDs)
	}
}

// sessionStarted: on a fresh session enable carbons now (before presence
// and before the archive is read), then catch up and flush the outbox in
// the background; on a resumed one only flush what never left.
//
// The outbox's promise: a message is queued until the server has it, then
// sent (then delivered, read), or failed; nothing is lost and, as far as
// the protocol can tell, nothing goes out twice. What the server has is
// known from its acks: XEP-0198's, or without XEP-0198 a barrier ping's
// answer (xmppclient), and, for a session lost with messages unacked, the
// h of a refused resumption (an AckEvent before this one) or else the
// archive (XEP-0313), which the catch-up reads before the flush writes
// anything the lost session left unacknowledged (unverified):
//   - archive read: those found are marked sent; the others are sent again.
//   - catch-up failed (timeout, connection lost): they are held until a
//     session's catch-up succeeds; nothing is written that may be a copy.
//   - no archive (the server has none or refuses it): they are sent again,
//     with the same id and origin-id (XEP-0359). The server may already
//     have had some, so a peer may receive one twice on the wire, but
//     clients that drop copies by origin-id (Parley, Conversations, Dino,
//     Gajim) show it once; not sending would lose the ones it never got.
func (c *ChatService) sessionStarted(client *xmppclient.Client, ev xmppclient.SessionEvent) {
	c.mu.Lock()
	if c.sessStop != nil {
		c.sessStop()
	}
	c.client = client
	c.sessCtx, c.sessStop = context.WithCancel(context.Background())
	ctx := c.sessCtx
	c.flushing, c.deferred = true, 0
	// The engine does not resend what a lost session left unacknowledged:
	// those messages are still queued in the history, and the outbox flush
	// after the archive check sends the ones the server never got.
	var lost []string // of the outbox
	lostWhat := map[string]outgoing{}
	for _, id := range ev.Unacked {
		if what, ok := c.inflight[id]; ok {
			lost = append(lost, id)
			lostWhat[id] = what
		}
		delete(c.inflight, id)
		c.unverified[id] = true
	}
	refused := ""
	if ev.EndedBy != nil && stanzaFault(ev.EndedBy) {
		if len(lost) == 1 && c.doubted[lost[0]] {
			refused = lost[0]
			delete(c.doubted, refused)
			delete(c.unverified, refused)
		} else {
			for _, id := range lost {
				c.doubted[id] = true
			}
		}
	}
	if refused != "" && lostWhat[refused].edit {
		c.poisoned[refused] = true
	}
	c.signalSettledLocked()
	c.mu.Unlock()
	if refused != "" {
		c.refuse(refused, lostWhat[refused], ev.EndedBy)
	}
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
			checked := err == nil || archiveUnavailable(err)
			if checked {
				// The archive was read (what the server got is marked
				// sent, messages and edits alike), or there is none to
				// read: the flush may write what a lost session left
				// unacknowledged. Without an archive that resends, with
				// the same ids, what the server may have had (see above).
				c.mu.Lock()
				c.unverified = map[string]bool{}
				c.mu.Unlock()
			}
		}
		c.flushOutbox(ctx, client)
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
	c.inflight = map[string]outgoing{}
	c.signalSettledLocked()
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
	if len(changed) > 0 {
		c.notify(ChatChange{Typing: changed})
	}
}

func (c *ChatService) ownBare() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.account
}

// toStore turns a parsed message into a history row. ok is false for
// messages that are not one-to-one chat content.
func (c *ChatService) toStore(m xmppclient.ChatMessage, own string, outgoing bool) (store.Message, bool) {
	if m.Type == "groupchat" || m.Type == "headline" {
		return store.Message{}, false
	}
	sm := store.Message{Body: m.Body, Type: m.Type, OriginID: m.OriginID, MessageID: m.ID,
		StanzaID: m.StanzaIDs[own], ReplaceID: m.Replaces, RetractID: m.Retracts, Time: m.Delay,
		Markable: m.Markable}
	// No stamp, or one in the future (a sender's wrong clock would pin the
	// conversation on top): the time it arrived.
	if now := c.localTime(); sm.Time.IsZero() || sm.Time.After(now.Add(time.Minute)) {
		sm.Time = now
	}
	if outgoing || m.From.Bare().String() == own {
		sm.Direction = store.Out
		sm.Conversation = m.To.Bare().String()
		sm.Sender = m.From.String()
		if sm.Sender == "" {
			sm.Sender = own
		}
		sm.State = store.StateSent
	} else {
		sm.Direction = store.In
		sm.Conversation = m.From.Bare().String()
		sm.Sender = m.From.String()
	}
	if sm.Conversation == "" || sm.Conversation == own {
		return store.Message{}, false
	}
	if m.Body == "" && m.Replaces == "" && m.Retracts == "" {
		return store.Message{}, false
	}
	return sm, true
}

// received handles a live message or carbon; live is false for carbons
// (only the resource a message was for answers its receipt request).
func (c *ChatService) received(client *xmppclient.Client, m xmppclient.ChatMessage, sentCarbon, live bool) {
	st, err := c.history()
	if err != nil {
		return
	}
	own := c.ownBare()
	peer := m.From.Bare().String()
	if sentCarbon {
		peer = m.To.Bare().String()
	}
	if m.Type == "error" {
		// An error answers one of our messages: it failed.
		if m.ID != "" && m.Error != nil {
			changed, err := st.SetStateByMessageID(context.Background(), peer, m.ID, store.StateFailed, m.Error.Error())
			if err != nil {
				c.log.Warn("marking a message failed", "err", err)
			} else if changed {
				c.notify(ChatChange{Peers: []string{peer}})
			} else {
				c.editRefused(st, peer, m.ID, m.Error)
			}
		}
		return
	}
	if sentCarbon && (m.MarkerType == "displayed" || m.MarkerType == "acknowledged") && m.MarkerFor != "" {
		// Read on another device of the account: read here too.
		c.readElsewhere(st, peer, m.MarkerFor)
	}
	if !sentCarbon {
		if m.ReceiptFor != "" {
			c.setState(st, peer, m.ReceiptFor, store.StateDelivered)
		}
		if m.MarkerType == "displayed" || m.MarkerType == "acknowledged" {
			c.setState(st, peer, m.MarkerFor, store.StateRead)
		} else if m.MarkerType == "received" {
			c.setState(st, peer, m.MarkerFor, store.StateDelivered)
		}
		if m.ChatState != "" && peer != own {
			state := m.ChatState
			if m.Body != "" && state == xmppclient.StateComposing {
				state = xmppclient.StateActive
			}
			c.setTyping(peer, state)
		}
	}
	sm, ok := c.toStore(m, own, sentCarbon)
	if !ok {
		return
	}
	if !c.stanzaIDsTrusted(client) {
		sm.StanzaID = "" // anyone could have put it there (XEP-0359)
	}
	// XEP-0184: confirm receipt of a live message that asks for it, once
	// it is committed to the history (onCommit), not before: if the write
	// fails (the disk is full) the sender must not read "delivered".
	// Only to a sender who may see our presence (XEP-0184 §8: a receipt
	// tells that we are online).
	receipt := live && sm.Direction == store.In && m.ReceiptRequest && m.ID != "" && client != nil &&
		c.presenceShared(sm.Conversation)
	key := msgKey{sm.Conversation, sm.MessageID}
	if receipt {
		c.oweReceipt(key, owedReceipt{client: client, to: m.From, id: m.ID})
	}
	// Put batches the write: a burst of incoming messages costs a few
	// commits, and the store drops copies that arrive again.
	if err := st.Put(sm); err != nil {
		if receipt {
			c.takeReceipt(key, false)
		}
		c.log.Warn("storing a message", "from", m.From, "err", err)
	}
}

// editRefused tells the user when an error answers one of our
// corrections or retractions (id, to peer): the history shows the change,
// but the peer did not get it. An edit has no state to show that in, so it
// goes out as a ChatChange.Problem.
func (c *ChatService) editRefused(st *store.Store, peer, id string, why *xmppclient.StanzaError) {
	e, err := st.GetEdit(context.Background(), id)
	if err != nil || e.Conversation != peer {
		return // not ours, or not from where it went
	}
	what := "correction"
	if e.Retract {
		what = "retraction"
	}
	reason := why.Condition
	if why.Text != "" {
		reason += ": " + why.Text
	}
	c.notify(ChatChange{Peers: []string{peer}, Problem: fmt.Sprintf("Your %s of a message to %s was not delivered (%s).", what, peer, reason)})
}

func (c *ChatService) setState(st *store.Store, peer, msgID string, s store.State) {
	if msgID == "" {
		return
	}
	changed, err := st.SetStateByMessageID(context.Background(), peer, msgID, s, "")
	if err != nil {
		c.log.Warn("updating a delivery state", "peer", peer, "id", msgID, "err", err)
		return
	}
	// State changes are not messages: the store's commit report does not
	// carry them, so tell the listeners here (the ticks must move).
	if changed {
		c.notify(ChatChange{Peers: []string{peer}})
	}
}

// readElsewhere moves the read marker of peer's conversation to their
// message msgID, which another device of the account has shown.
func (c *ChatService) readElsewhere(st *store.Store, peer, msgID string) {
	_, found, err := st.MarkReadByMessageID(context.Background(), peer, msgID)
	if err != nil {
		c.log.Warn("marking a conversation read on another device's marker", "peer", peer, "err", err)
		return
	}
	if found {
		c.notify(ChatChange{Peers: []string{peer}})
	}
}

// typingTimeout: a peer shown composing for this long without another
// chat state is shown paused (XEP-0085 leaves it to the receiver).
var typingTimeout = 30 * time.Second

// setTyping records a peer's chat state and tells the listeners when it
// changed.
func (c *ChatService) setTyping(peer, state string) {
	c.mu.Lock()
	changed := c.typing[peer] != state
	c.typing[peer] = state
	if t := c.typingTimers[peer]; t != nil {
		t.Stop()
		delete(c.typingTimers, peer)
	}
	if state == xmppclient.StateComposing {
		var t *time.Timer
		t = time.AfterFunc(typingTimeout, func() {
			c.mu.Lock()
			stale := c.typingTimers[peer] == t
			if stale {
				delete(c.typingTimers, peer)
			}
			c.mu.Unlock()
			if stale {
				c.setTyping(peer, xmppclient.StatePaused)
			}
		})
		c.typingTimers[peer] = t
	}
	c.mu.Unlock()
	if changed {
		c.notify(ChatChange{Typing: map[string]string{peer: state}})
	}
}

// acked marks the messages and edits the server acknowledged as sent.
func (c *ChatService) acked(ids []string) {
	st, err := c.history()
	if err != nil {
		return
	}
	for _, id := range ids {
		c.mu.Lock()
		what, ok := c.inflight[id]
		c.mu.Unlock()
		if !ok {
			continue
		}
		// The history first, then forget it in flight: an outbox flush
		// that finds it no longer in flight then reads "sent".
		if what.edit {
			if _, err := st.EditSent(context.Background(), id); err != nil {
				c.log.Warn("marking a correction or retraction sent", "id", id, "err", err)
			}
		} else {
			c.setState(st, what.peer, id, store.StateSent)
		}
		c.mu.Lock()
		delete(c.inflight, id)
		delete(c.doubted, id)
		c.signalSettledLocked()
		c.mu.Unlock()
	}
}

// signalSettledLocked wakes waitSettled; c.mu is held.
func (c *ChatService) signalSettledLocked() {
	close(c.settled)
	c.settled = make(chan struct{})
}

// stanzaFault reports whether a stream error may have been caused by a
// stanza we wrote (policy-violation for one over the size limit, bad XML,
// ...), rather than by the server's state (shutting down, moving, a
// conflicting login, being overloaded).
func stanzaFault(e *xmppclient.StreamError) bool {
	switch e.Condition {
	case "system-shutdown", "see-other-host", "reset", "connection-timeout", "conflict", "host-gone",
		"host-unknown", "remote-connection-failed", "not-authorized", "resource-constraint":
		return false
	}
	return true
}

// refuse gives up on a message or edit the server closed the stream on
// twice in a row: a message is marked failed with the server's words (the
// user may retry it, or shorten it); an edit was poisoned by the caller.
func (c *ChatService) refuse(id string, what outgoing, why *xmppclient.StreamError) {
	text := why.Condition
	if why.Text != "" {
		text = why.Text + " (" + why.Condition + ")"
	}
	c.log.Warn("the server closed the connection twice on the same outgoing stanza; giving up on it", "id", id, "err", why)
	if what.edit {
		return
	}
	st, err := c.history()
	if err != nil {
		return
	}
	changed, err := st.SetStateByMessageID(context.Background(), what.peer, id, store.StateFailed, "the server refused it: "+text)
	if err != nil {
		c.log.Warn("marking a message failed", "id", id, "err", err)
	} else if changed {
		c.notify(ChatChange{Peers: []string{what.peer}})
	}
}

// settleLimit bounds each wait of writeQueued: a server that stops
// acknowledging is not waited for longer (the pinger ends a dead link).
var settleLimit = 30 * time.Second

// writeQueued writes the outbox's message or edit id with write: at once,
// or, when it is doubted (see sessionStarted), with nothing else of the
// outbox unacknowledged: it waits until what was written before is
// acknowledged, writes, asks for the ack at once and waits for it. If the
// server closes the stream meanwhile, it is the only one lost.
func (c *ChatService) writeQueued(ctx context.Context, client *xmppclient.Client, id string, write func() error) error {
	c.mu.Lock()
	doubted := c.doubted[id]
	c.mu.Unlock()
	if !doubted {
		return write()
	}
	c.waitSettled(ctx, client)
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := write(); err != nil {
		return err
	}
	c.waitSettled(ctx, client)
	return ctx.Err()
}

// waitSettled waits until nothing of the outbox is in flight (or ctx ends,
// or settleLimit passes).
func (c *ChatService) waitSettled(ctx context.Context, client *xmppclient.Client) {
	t := time.NewTimer(settleLimit)
	defer t.Stop()
	client.RequestAck()
	for {
		c.mu.Lock()
		n, ch := len(c.inflight), c.settled
		c.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return
		case <-t.C:
			c.log.Info("outbox: no acknowledgement in time; going on", "in flight", n)
			return
		}
	}
}

func (c *ChatService) setSync(p SyncProgress) {
	c.mu.Lock()
	c.sync = p
	c.mu.Unlock()
	c.notify(ChatChange{})
}

// Sync returns the catch-up progress.
func (c *ChatService) Sync() SyncProgress {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sync
}

// flushOutbox sends what is still queued, messages and edits in the order
// they were made (store.Edit.After), with their stored ids, so a copy can
// be recognised by the peer and the archive.
func (c *ChatService) flushOutbox(ctx context.Context, client *xmppclient.Client) {
	st, err := c.history()
	if err != nil {
		return
	}
	defer func() {
		c.mu.Lock()
		if ctx.Err() == nil { // still this session: Send writes by itself again
			c.flushing = false
		}
		c.mu.Unlock()
	}()
	for {
		queued, err := st.Outbox(ctx)
		if err != nil {
			c.log.Warn("reading the outbox", "err", err)
			return
		}
		edits, err := st.OutboxEdits(ctx)
		if err != nil {
			c.log.Warn("reading the outbox", "err", err)
			return
		}
		// held: messages (by conversation and origin-id or id) that wait,
		// and so do the edits of them.
		held := map[msgKey]bool{}
		for len(queued) > 0 || len(edits) > 0 {
			if ctx.Err() != nil {
				return
			}
			if len(edits) == 0 || len(queued) > 0 && queued[0].ID <= edits[0].After {
				m := queued[0]
				queued = queued[1:]
				c.mu.Lock()
				wait := c.unverified[m.MessageID]
				c.mu.Unlock()
				if wait {
					// A lost session wrote it, unacknowledged, and the archive
					// could not be checked: the server may have it. It waits
					// for a session whose catch-up succeeds.
					held[msgKey{m.Conversation, m.OriginID}] = true
					held[msgKey{m.Conversation, m.MessageID}] = true
					continue
				}
				if err := c.writeQueued(ctx, client, m.MessageID, func() error { return c.transmit(client, m, st) }); err != nil {
					c.log.Info("outbox: not sent yet", "id", m.MessageID, "err", err)
					return
				}
				continue
			}
			e := edits[0]
			edits = edits[1:]
			c.mu.Lock()
			wait, poisoned := c.unverified[e.ID], c.poisoned[e.ID]
			c.mu.Unlock()
			if poisoned {
				continue // the server refuses it (see doubted)
			}
			if target := (msgKey{e.Conversation, e.Target}); wait || held[target] {
				// Unverified as above, or what it changes waits: the peer
				// must get the message, and earlier edits of it, first.
				held[target] = true
				continue
			}
			if err := c.writeQueued(ctx, client, e.ID, func() error { return c.transmitEdit(client, e, st) }); err != nil {
				c.log.Info("outbox: not sent yet", "id", e.ID, "err", err)
				return
			}
		}
		// Messages and edits handed over meanwhile were left to us:
		// another pass. Deciding to stop and leaving Send to write by
		// itself is one step: a message handed over in between would be
		// left to a flush that has ended.
		c.mu.Lock()
		again := c.deferred > 0
		c.deferred = 0
		if !again && ctx.Err() == nil {
			c.flushing = false
		}
		c.mu.Unlock()
		if !again {
			return
		}
	}
}

// transmit writes one stored outgoing message. With recheck (not nil), m
// comes from an earlier read of the outbox: it is written only if the
// history still has it queued (acked meanwhile: it went out already), as
// it is now. A message corrected while queued goes with the text first
// written (its correction follows it); one retracted while queued is not
// written at all (its retraction still follows: a lost session may have
// written it) and counts as sent.
func (c *ChatService) transmit(client *xmppclient.Client, m store.Message, recheck *store.Store) error {
	to, err := xmppclient.ParseJID(m.Conversation)
	if err != nil {
		return err
	}
	id := m.MessageID
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if c.isInflight(id) {
		return nil // written already (by Send or by the outbox flush)
	}
	if recheck != nil {
		cur, err := recheck.Get(context.Background(), m.ID)
		if errors.Is(err, store.ErrNotFound) || err == nil && cur.State != store.StateQueued {
			return nil // deleted, or acked meanwhile
		}
		if err != nil {
			return err
		}
		m = cur
		if m.Retracted {
			c.setState(recheck, m.Conversation, id, store.StateSent)
			return nil
		}
	}
	body := m.Body
	if m.Edited && m.OriginalBody != "" {
		body = m.OriginalBody
	}
	return c.write(client, xmppclient.OutgoingMessage{To: to, ID: id, Body: body, RequestReceipt: true, Markable: true,
		ChatState: xmppclient.StateActive}, outgoing{peer: m.Conversation})
}

// transmitEdit writes one queued correction or retraction, if the history
// still has it queued (acked, or found in the archive, meanwhile: it went
// out already).
func (c *ChatService) transmitEdit(client *xmppclient.Client, e store.Edit, st *store.Store) error {
	to, err := xmppclient.ParseJID(e.Conversation)
	if err != nil {
		return err
	}
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if c.isInflight(e.ID) {
		return nil
	}
	cur, err := st.GetEdit(context.Background(), e.ID)
	if errors.Is(err, store.ErrNotFound) || err == nil && cur.State != store.StateQueued {
		return nil
	}
	if err != nil {
		return err
	}
	o := xmppclient.OutgoingMessage{To: to, ID: e.ID}
	if e.Retract {
		o.Retracts, o.Body = e.Target, retractFallback
	} else {
		o.Replaces, o.Body = e.Target, e.Body
	}
	return c.write(client, o, outgoing{peer: e.Conversation, edit: true})
}

// retractFallback is the body of a retraction, for clients without XEP-0424.
const retractFallback = "This person attempted to retract a previous message, but it's unsupported by your client."

// write marks o in flight and writes it; c.sendMu is held.
func (c *ChatService) write(client *xmppclient.Client, o xmppclient.OutgoingMessage, what outgoing) error {
	c.mu.Lock()
	c.inflight[o.ID] = what
	c.mu.Unlock()
	if _, err := client.SendMessage(o); err != nil {
		c.mu.Lock()
		delete(c.inflight, o.ID)
		c.signalSettledLocked()
		c.mu.Unlock()
		return err
	}
	// Sent when the server acknowledges it: an AckEvent, from XEP-0198 or,
	// on a stream without it, from the engine's barrier ping.
	return nil
}

func (c *ChatService) isInflight(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.inflight[id]
	return ok
}

func (c *ChatService) currentClient() *xmppclient.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.client
}

// peerJID validates a conversation address.
func peerJID(peer string) (string, error) {
	j, err := xmppclient.ParseJID(strings.TrimSpace(peer))
	if err != nil {
		return "", &InvalidJIDError{Input: peer, Reason: err.Error()}
	}
	return j.Bare().String(), nil
}

// Send stores a message in the outbox and sends it when connected. It
// returns the stored message (state queued); its state moves on as the
// server and the peer confirm it.
func (c *ChatService) Send(ctx context.Context, peer, body string) (store.Message, error) {
	if strings.TrimSpace(body) == "" {
		return store.Message{}, errors.New("the message is empty")
	}
	if err := CheckMessageSize(body); err != nil {
		return store.Message{}, err // never queued: the server would close the stream on it
	}
	p, err := peerJID(peer)
	if err != nil {
		return store.Message{}, err
	}
	st, err := c.history()
	if err != nil {
		return store.Message{}, err
	}
	id := xmppclient.NewMessageID()
	own := c.ownBare()
	m := store.Message{Conversation: p, Direction: store.Out, Sender: own, Body: body, Time: c.outTime(),
		OriginID: id, MessageID: id, State: store.StateQueued, Type: store.TypeChat}
	saved, err := st.Save(ctx, m)
	if err != nil {
		return store.Message{}, fmt.Errorf("keep the message: %w", err)
	}
	m.ID = saved.ID
	c.mu.Lock()
	client, later := c.client, c.flushing
	if later {
		c.deferred++ // the session's outbox flush sends it, after the older ones
	}
	c.mu.Unlock()
	if client != nil && !later {
		if err := c.transmit(client, m, nil); err != nil {
			c.log.Info("message queued until the connection is back", "err", err)
		}
	}
	return m, nil
}

// Correct replaces the body of one of our messages (XEP-0308). The change
// shows at once and goes out through the outbox: now when connected, else
// after the next login.
func (c *ChatService) Correct(ctx context.Context, peer string, target store.Message, body string) error {
	return c.edit(ctx, peer, target, body, false)
}

// Retract withdraws one of our messages (XEP-0424), through the outbox as
// Correct.
func (c *ChatService) Retract(ctx context.Context, peer string, target store.Message) error {
	return c.edit(ctx, peer, target, "", true)
}

// edit applies a correction or retraction to the history and queues it in
// the outbox in one transaction (a crash cannot leave one without the
// other), then writes it if connected and nothing it follows still waits.
// Otherwise the outbox flush of a session sends it, in order with the
// queued messages. It is sent again only as messages are: after a lost
// session, when the archive shows the server did not get it.
func (c *ChatService) edit(ctx context.Context, peer string, target store.Message, body string, retract bool) error {
	p, err := peerJID(peer)
	if err != nil {
		return err
	}
	if target.Direction != store.Out {
		return errors.New("only your own messages can be changed")
	}
	if !retract && strings.TrimSpace(body) == "" {
		return errors.New("the corrected message is empty")
	}
	if !retract {
		if err := CheckMessageSize(body); err != nil {
			return err
		}
	}
	ref := target.OriginID
	if ref == "" {
		ref = target.MessageID
	}
	if ref == "" {
		return errors.New("this message has no id, so it cannot be changed")
	}
	st, err := c.history()
	if err != nil {
		return err
	}
	e := store.Edit{ID: xmppclient.NewMessageID(), Conversation: p, Target: ref, Retract: retract, Time: c.outTime()}
	if !retract {
		e.Body = body
	}
	e, _, err = st.QueueEdit(ctx, e)
	if err != nil {
		return fmt.Errorf("keep the change: %w", err)
	}
	c.mu.Lock()
	client, later := c.client, c.flushing
	if later {
		c.deferred++ // the session's outbox flush sends it, after the older ones
	}
	c.mu.Unlock()
	if client != nil && !later && !c.editWaits(ctx, st, e, target) {
		if err := c.transmitEdit(client, e, st); err != nil {
			c.log.Info("change queued until the connection is back", "err", err)
		}
	}
	return nil
}

// editWaits reports whether e must be left to a later outbox flush rather
// than written now: what it changes is still queued and not written (the
// message, or an earlier edit of it), and the peer must get that first.
//
// What is in flight is read before the history: an ack in between writes
// "sent" to the history before it forgets the id in flight, so nothing
// acked meanwhile is seen as neither (queued in the history read after,
// and not in flight), which would hold the edit until the next session.
func (c *ChatService) editWaits(ctx context.Context, st *store.Store, e store.Edit, target store.Message) bool {
	c.mu.Lock()
	written := make(map[string]bool, len(c.inflight))
	for id := range c.inflight {
		written[id] = true
	}
	c.mu.Unlock()
	if target.ID != 0 {
		cur, err := st.Get(ctx, target.ID)
		if err == nil && cur.State == store.StateQueued && !written[cur.MessageID] {
			return true
		}
	}
	edits, err := st.OutboxEdits(ctx)
	if err != nil {
		return true // the flush finds out
	}
	for _, x := range edits {
		if x.ID != e.ID && x.Conversation == e.Conversation && x.Target == e.Target && !written[x.ID] {
			return true
		}
	}
	return false
}

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

// Typing returns the peer's last chat state ("" when unknown).
func (c *ChatService) Typing(peer string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.typing[peer]
}

// MarkRead marks a conversation read up to the newest message shown and
// sends a displayed marker (XEP-0333) for the newest incoming message at or
// before it that asked for markers (carried <markable/>): upTo itself, or
// one of the page of messages before it, down to the previous read marker
// (markers up to there went out when it was set). When none did, no marker
// is sent: XEP-0333 allows markers only for markable messages.
func (c *ChatService) MarkRead(ctx context.Context, peer string, upTo store.Message) error {
	st, err := c.history()
	if err != nil {
		return err
	}
	markable := func(m store.Message) bool {
		return m.Direction == store.In && m.Markable && m.MessageID != ""
	}
	var (
		target store.Message
		found  = markable(upTo)
		prev   store.Cursor // the read marker before this call
	)
	if found {
		target = upTo
	} else {
		// Read before MarkRead moves it.
		conv, _, err := st.Conversation(ctx, peer)
		if err != nil {
			return err
		}
		prev = conv.LastRead
	}
	if _, err := st.MarkRead(ctx, peer, upTo.ID); err != nil {
		return err
	}
	if !found {
		// upTo as stored (the copy passed in may not say whether it is
		// markable) and the page before it; ID 0 means the newest.
		const lookBack = 50
		var msgs []store.Message
		if upTo.ID == 0 {
			msgs, err = st.Latest(ctx, peer, lookBack)
		} else {
			msgs, err = st.Before(ctx, peer, store.Cursor{Time: upTo.Time.UnixMilli(), ID: upTo.ID + 1}, lookBack)
		}
		if err != nil {
			return err
		}
		for i := len(msgs) - 1; i >= 0 && prev.Less(msgs[i].Cursor()); i-- {
			if markable(msgs[i]) {
				target, found = msgs[i], true
				break
			}
		}
	}
	// Not to a peer who may not see our presence (XEP-0333: a marker,
	// like a receipt, tells that we are online).
	if found && c.presenceShared(peer) {
		if client := c.currentClient(); client != nil {
			to, err := xmppclient.ParseJID(peer)
			if err == nil {
				// Archived: the sender's devices and our own other ones
				// that are offline now learn "read" from the archive.
				_, _ = client.SendMessage(xmppclient.OutgoingMessage{To: to, MarkerType: "displayed", MarkerFor: target.MessageID})
			}
		}
	}
	c.notify(ChatChange{Peers: []string{peer}})
	return nil
}

// Conversations lists conversations, newest activity first; message
// requests are not among them (MessageRequests).
func (c *ChatService) Conversations(ctx context.Context) ([]store.Conversation, error) {
	convs, _, err := c.ConversationList(ctx)
	return convs, err
}

// StartConversation makes a conversation appear in the list before any
// message: a new one on top; an existing one (opened again) keeps its place.
func (c *ChatService) StartConversation(ctx context.Context, peer string) (string, error) {
	p, err := peerJID(peer)
	if err != nil {
		return "", err
	}
	st, err := c.history()
	if err != nil {
		return "", err
	}
	// Opening a chat with someone also accepts their message request.
	started, accepted, err := st.StartConversation(ctx, p, c.Now())
	if err != nil {
		return "", err
	}
	if started || accepted {
		c.notify(ChatChange{Peers: []string{p}})
	}
	return p, nil
}

// Latest returns the newest page of a conversation, oldest first.
func (c *ChatService) Latest(ctx context.Context, peer string, n int) ([]store.Message, error) {
	st, err := c.history()
	if err != nil {
		return nil, err
	}
	return c.withGapsFilled(ctx, st, peer, nil, n, func() ([]store.Message, error) { return st.Latest(ctx, peer, n) })
}

// Before returns the page before a message (scrolling up), oldest first.
// Where the page would reach into a gap of the local history, that
// conversation's part of it is fetched from the archive first (see
// chats_gaps.go).
func (c *ChatService) Before(ctx context.Context, peer string, cur store.Cursor, n int) ([]store.Message, error) {
	st, err := c.history()
	if err != nil {
		return nil, err
	}
	return c.withGapsFilled(ctx, st, peer, &cur, n, func() ([]store.Message, error) { return st.Before(ctx, peer, cur, n) })
}

// After returns the page after a message (after jumping to a search result).
func (c *ChatService) After(ctx context.Context, peer string, cur store.Cursor, n int) ([]store.Message, error) {
	st, err := c.history()
	if err != nil {
		return nil, err
	}
	return st.After(ctx, peer, cur, n)
}

// Search returns a page of the messages matching q.Text, newest first, in
// all history or in one conversation (q.Conversation). The next page is
// q with Before set to the last result's Cursor (see store.Query).
func (c *ChatService) Search(ctx context.Context, q store.Query) ([]store.SearchResult, error) {
	st, err := c.history()
	if err != nil {
		return nil, err
	}
	return st.Search(ctx, q)
}

// Draft returns the composer text kept for a conversation.
func (c *ChatService) Draft(ctx context.Context, peer string) (string, error) {
	st, err := c.history()
	if err != nil {
		return "", err
	}
	return st.Draft(ctx, peer)
}

// SetDraft keeps the composer text for a conversation.
func (c *ChatService) SetDraft(ctx context.Context, peer, text string) error {
	st, err := c.history()
	if err != nil {
		return err
	}
	return st.SetDraft(ctx, peer, text)
}

// Message returns one stored message by row id.
func (c *ChatService) Message(ctx context.Context, id int64) (store.Message, error) {
	st, err := c.history()
	if err != nil {
		return store.Message{}, err
	}
	return st.Get(ctx, id)
}

// Flush waits until every message handed to the history is committed.
func (c *ChatService) Flush(ctx context.Context) error {
	st, err := c.history()
	if err != nil {
		return err
	}
	return st.Flush(ctx)
}

// UnreadTotal counts unread messages in all conversations (message
// requests not counted).
func (c *ChatService) UnreadTotal(ctx context.Context) (int, error) {
	convs, err := c.Conversations(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, conv := range convs {
		n += conv.Unread
	}
	return n, nil
}

// Retry puts a failed message back into the outbox and sends it.
func (c *ChatService) Retry(ctx context.Context, m store.Message) error {
	st, err := c.history()
	if err != nil {
		return err
	}
	changed, err := st.Requeue(ctx, m.ID)
	if err != nil || !changed {
		return err // not failed (any more): retried already, or sent meanwhile
	}
	c.notify(ChatChange{Peers: []string{m.Conversation}})
	if client := c.currentClient(); client != nil {
		return c.transmit(client, m, st)
	}
	return nil
}
