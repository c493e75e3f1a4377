// The chat service: one-to-one messages and their history. Its jobs, a
// file each (Dino's libdino has a service for each):
//   - chats.go: the type, its history (app/store), its subscribers.
//   - chats_session.go: what a session starts and ends (carbons, the
//     server's clock, catch-up, the outbox flush); chats_catchup.go and
//     chats_gaps.go read the archive (XEP-0313).
//   - chats_receive.go: live messages and carbons into the history, with
//     delivery states, typing and reads on other devices; chats_orphans.go:
//     corrections whose message never comes.
//   - chats_receipts.go: receipts (XEP-0184) and markers (XEP-0333) we send.
//   - chats_send.go and outbox*.go: what we send (messages, corrections
//     XEP-0308, retractions XEP-0424) through an outbox that survives
//     restarts: queued -> sent on the server's ack -> delivered -> read, or
//     failed with the error.
//   - chatstates.go: what the person does, turned into chat states
//     (XEP-0085), ordered sends and drafts.
//   - chats_read.go and chats_requests.go: what the views read.
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
	"parley/app/notify"
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
	// Transfers are the files whose upload moved on, by message row id
	// (the latest of each; Done == Total when it ended, whichever way).
	Transfers map[int64]Transfer

	peerSet map[string]bool // Peers as a set, while merging
}

// ChatService is the chat service: one type, its jobs in files of their
// own (see the file comment). It is safe for concurrent use.
type ChatService struct {
	log *slog.Logger
	now clock.Func // the clock of message times and the history's

	mu       sync.Mutex
	st       *store.Store
	dir      string
	profile  *Profile // its settings (files: FileSettings)
	account  string   // own bare JID
	client   *xmppclient.Client
	sessCtx  context.Context
	sessStop context.CancelFunc
	typing   map[string]string // peer -> chat state
	// serverSkew: how far the server's clock is ahead of c.now (0 when
	// they agree within maxClockSkew); see localTime.
	serverSkew time.Duration
	// typingTimers turn a "composing" that was never followed up (the
	// peer's client went away) into "paused" after typingTimeout.
	typingTimers map[string]*time.Timer
	// idsClient's archive takes after-id (urn:xmpp:mam:2#extended).
	idsClient *xmppclient.Client
	sync      SyncProgress
	wg        sync.WaitGroup

	// out is the outbox (outbox.go); chat is what the person does in the
	// chats (chatstates.go); transfers the files on their way
	// (outbox_files.go).
	out       *outbox
	chat      *chatInteraction
	transfers transfers
	fetch     *fetcher // files others share (chats_fetch.go)

	// Changes go to the subscribers through one coalescer on loop.
	subscribers notify.Hub[ChatChange]
	changes     *notify.Coalescer[ChatChange]
	loop        *notify.Loop

	// XEP-0184 receipts owed for received messages handed to the history:
	// sent (on receiptLoop, in order) once onCommit reports the message
	// committed, dropped when onStoreError reports it lost.
	receiptMu   sync.Mutex
	owed        map[msgKey][]owedReceipt
	receipts    *notify.Coalescer[[]owedReceipt]
	receiptLoop *notify.Loop

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

// chatOptions are the chat service's settings (from Options).
type chatOptions struct {
	now             clock.Func
	pendingEditWait time.Duration // 0: defaultPendingEditWait
	pausedAfter     time.Duration // 0: defaultPausedAfter
	flushWait       time.Duration // 0: defaultFlushWait
	autoFetchLimit  int64         // 0: DefaultAutoFetchLimit
	cacheSize       int64         // 0: DefaultCacheSize
}

func newChatService(log *slog.Logger, o chatOptions) *ChatService {
	if o.pendingEditWait <= 0 {
		o.pendingEditWait = defaultPendingEditWait
	}
	c := &ChatService{log: log, now: clock.Or(o.now), pendingEditWait: o.pendingEditWait,
		typing: map[string]string{}, typingTimers: map[string]*time.Timer{}, owed: map[msgKey][]owedReceipt{},
		loop: notify.NewLoop(), receiptLoop: notify.NewLoop()}
	c.out = newOutbox(log, c.history, c.localTime, c.setState)
	c.out.spawn = func(fn func()) {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			fn()
		}()
	}
	c.out.files.progressed = c.transferred
	c.chat = newChatInteraction(log, c, o.pausedAfter, o.flushWait)
	c.fetch = newFetcher(o.autoFetchLimit, o.cacheSize)
	c.changes = notify.NewCoalescer(c.loop.Run, ChatChange.Merge, c.deliver)
	c.receipts = notify.NewCoalescer(c.receiptLoop.Run, func(acc, v []owedReceipt) []owedReceipt { return append(acc, v...) }, c.sendReceipts)
	return c
}

// Chats returns the chat service of the account.
func (s *Service) Chats() *ChatService { return s.chats }

// Subscribe registers fn for changes; it is called in order on a goroutine
// of the service, with the changes made meanwhile merged. It returns a
// function that unsubscribes.
func (c *ChatService) Subscribe(fn func(ChatChange)) (unsubscribe func()) {
	return c.subscribers.Subscribe(fn)
}

// notify tells the subscribers of ch (merged with other changes made
// before they get it).
func (c *ChatService) notify(ch ChatChange) { c.changes.Post(ch) }

// deliver hands merged changes, with the catch-up's progress as it is now,
// to the subscribers.
func (c *ChatService) deliver(ch ChatChange) {
	c.mu.Lock()
	ch.Sync = c.sync
	c.mu.Unlock()
	c.subscribers.Publish(ch)
}

// Merge is the change c followed by later, as one: the peers of both,
// every insertion, the latest chat state of each peer, the latest problem
// and progress (a listener that gathers changes before it shows them
// merges them so).
func (c ChatChange) Merge(later ChatChange) ChatChange {
	if len(later.Peers) > 0 && c.peerSet == nil {
		c.peerSet = make(map[string]bool, len(c.Peers)+len(later.Peers))
		for _, p := range c.Peers {
			c.peerSet[p] = true
		}
	}
	for _, p := range later.Peers {
		if !c.peerSet[p] {
			c.peerSet[p] = true
			c.Peers = append(c.Peers, p)
		}
	}
	c.Inserted = append(c.Inserted, later.Inserted...)
	for p, s := range later.Typing {
		if c.Typing == nil {
			c.Typing = map[string]string{}
		}
		c.Typing[p] = s
	}
	if later.Problem != "" {
		c.Problem = later.Problem
	}
	for id, t := range later.Transfers {
		if c.Transfers == nil {
			c.Transfers = map[int64]Transfer{}
		}
		c.Transfers[id] = t
	}
	c.Sync = later.Sync
	return c
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
	c.out.learnLastOut(st)
	c.chat.forgetDrafts()
	c.mu.Lock()
	c.st, c.dir, c.account, c.profile = st, p.Dir(), account, p
	c.mu.Unlock()
	c.waitForOrphans() // corrections a previous run left waiting
	return nil
}

func (c *ChatService) close() {
	c.chat.close()
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
	// Subscribers get no more calls; receipts not sent yet are dropped
	// (the session has ended).
	c.loop.Close()
	c.receiptLoop.Close()
}

func (c *ChatService) history() (*store.Store, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.st == nil {
		return nil, ErrNoHistory
	}
	return c.st, nil
}

func (c *ChatService) ownBare() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.account
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

func (c *ChatService) currentClient() *xmppclient.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.client
}

// currentSession is the session's client and context (nil and nil when
// there is none).
func (c *ChatService) currentSession() (*xmppclient.Client, context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client == nil {
		return nil, nil
	}
	return c.client, c.sessCtx
}

// peerJID validates a conversation address.
func peerJID(peer string) (string, error) {
	j, err := xmppclient.ParseJID(strings.TrimSpace(peer))
	if err != nil {
		return "", &InvalidJIDError{Input: peer, Reason: err.Error()}
	}
	return j.Bare().String(), nil
}
