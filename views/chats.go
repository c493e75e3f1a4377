// The Chats tab of the main window: the conversation list with the search
// box, "New chat" and the archive catch-up progress on the left, the open
// chat (header, message list, typing indicator, composer) on the right.
// It follows the chat service's changes (coalesced, applied on the UI
// goroutine), keeps a draft per chat, sends chat states (composing while
// typing, paused after a pause, active with a message), marks the chat read
// while it is shown at its end with the window focused, reports the unread
// total (for the window title) and sends desktop notifications
// (notify.go). Every service call runs off the UI goroutine; chat states
// and messages go out in order through one queue.
package views

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/app"
	"parley/app/store"
)

// ChatService is what the chat UI needs of *app.ChatService. Subscribe's
// callback runs on a service goroutine; the other calls read or write the
// history or the network, so the views never make them on the UI goroutine.
type ChatService interface {
	Subscribe(fn func(app.ChatChange)) (unsubscribe func())
	ConversationList(ctx context.Context) (convs, requests []store.Conversation, err error)
	Latest(ctx context.Context, peer string, n int) ([]store.Message, error)
	Before(ctx context.Context, peer string, cur store.Cursor, n int) ([]store.Message, error)
	After(ctx context.Context, peer string, cur store.Cursor, n int) ([]store.Message, error)
	Message(ctx context.Context, id int64) (store.Message, error)
	Send(ctx context.Context, peer, body string) (store.Message, error)
	Correct(ctx context.Context, peer string, target store.Message, body string) error
	Retract(ctx context.Context, peer string, target store.Message) error
	Retry(ctx context.Context, m store.Message) error
	SendChatState(peer, state string) error
	Typing(peer string) string
	MarkRead(ctx context.Context, peer string, upTo store.Message) error
	StartConversation(ctx context.Context, peer string) (string, error)
	Search(ctx context.Context, q store.Query) ([]store.SearchResult, error)
	SetDraft(ctx context.Context, peer, text string) error
	Sync() app.SyncProgress
	Now() time.Time
	IsRequest(ctx context.Context, peer string) (bool, error)
	AcceptRequest(ctx context.Context, peer string) error
	DismissRequest(ctx context.Context, peer string) error
}

var _ ChatService = (*app.ChatService)(nil)

// ChatsOptions configure a ChatsView.
type ChatsOptions struct {
	// Do runs a function on the UI goroutine (nil: fyne.Do).
	Do func(func())
	// Now is the clock (nil: the chat service's, which is the server's
	// when the machine's is off); Location the time zone times are shown
	// in (nil: time.Local).
	Now      func() time.Time
	Location *time.Location
	// Notify shows a desktop notification (nil: the app's SendNotification).
	Notify func(*fyne.Notification)
	// OnUnread is told the unread total whenever it changes (UI goroutine).
	OnUnread func(total int)
	// PausedAfter is how long typing must stop before "paused" is sent
	// (0: 5 s). NotifyDelay gathers a burst of messages into one
	// notification (0: 1 s).
	PausedAfter time.Duration
	NotifyDelay time.Duration
	// StopWait bounds the work Stop hands off: keeping the draft and
	// sending what waits, on a stuck connection or disk (0: 2 s).
	StopWait time.Duration
	// Unfocused starts the view as if its window had lost the focus (the
	// app left the foreground before the login that makes the view).
	Unfocused bool
}

// ChatsView is the Chats tab.
type ChatsView struct {
	svc      ChatService
	contacts ContactsService
	win      fyne.Window
	do       func(func())
	now      func() time.Time
	loc      *time.Location
	opts     ChatsOptions
	ctx      context.Context
	stop     context.CancelFunc
	// sendCtx is the context of the queued sends: it outlives Stop until
	// what waits has gone out (or StopWait passed), so a message sent just
	// before logging out is still kept and sent. stopped is closed when the
	// work Stop hands off is done (nil before Stop).
	sendCtx  context.Context
	sendStop context.CancelFunc
	stopped  chan struct{}

	avatars  *avatarCache
	list     *convList
	chat     *chatView
	search   *searchPane
	requests *messageRequests
	notes    *notifier
	composer *composer

	// Conversations as last read, and contacts by JID.
	convs      []store.Conversation
	convByPeer map[string]store.Conversation
	convBusy   bool
	convAgain  bool
	unread     int
	byJID      map[string]*app.Contact
	typing     map[string]string // peer -> chat state
	drafts     map[string]string // composer text kept this session, by peer
	draftW     *draftWriter      // writes them to the history in order
	marked     map[string]store.Cursor

	// Editing (correcting) our last message.
	editing    *store.Message
	editDraft  string // the composer text before editing began
	settingTxt bool   // the composer text is set by us, not typed

	// The chat state we sent last, and to whom; sends keeps chat states
	// and messages in order.
	stateSent string
	statePeer string
	idle      *time.Timer
	sends     sendQueue

	focused     bool
	focusedFlag atomic.Bool

	header      *fyne.Container
	hdrAvatar   *avatarView
	hdrName     *widget.Label
	hdrJID      *widget.Label
	typingLabel *widget.Label
	status      *widget.Label
	editBar     *fyne.Container
	editLabel   *widget.Label
	sendBtn     *widget.Button
	newChatBtn  *widget.Button
	newChat     *newChatDialog
	syncLabel   *widget.Label
	syncAct     *widget.Activity
	syncBox     *fyne.Container
	problem     string // the last ChatChange.Problem, shown where the catch-up line is
	placeholder fyne.CanvasObject
	chatPane    *fyne.Container
	content     fyne.CanvasObject

	mu          sync.Mutex
	pending     *app.ChatChange // changes not yet applied
	scheduled   bool
	pendingSnap *app.ContactsSnapshot
	snapSched   bool
	unsubscribe []func()
}

// NewChatsView makes the tab for svc (and contacts, for names and
// avatars) in win and starts following them; call it on the UI goroutine.
// Stop ends it.
func NewChatsView(win fyne.Window, svc ChatService, contacts ContactsService, opts ChatsOptions) *ChatsView {
	c := &ChatsView{svc: svc, contacts: contacts, win: win, do: opts.Do, now: opts.Now, loc: opts.Location, opts: opts,
		convByPeer: map[string]store.Conversation{}, byJID: map[string]*app.Contact{}, typing: map[string]string{},
		drafts: map[string]string{}, marked: map[string]store.Cursor{}, focused: !opts.Unfocused}
	if c.do == nil {
		c.do = fyne.Do
	}
	c.draftW = newDraftWriter(svc.SetDraft)
	// Work finishing after Stop has nothing left to update (nor a UI
	// goroutine, after the app quit).
	run := c.do
	c.do = func(fn func()) {
		if c.ctx.Err() != nil {
			return
		}
		run(func() {
			if c.ctx.Err() == nil {
				fn()
			}
		})
	}
	if c.now == nil {
		c.now = svc.Now
	}
	if c.loc == nil {
		c.loc = time.Local
	}
	if c.opts.PausedAfter <= 0 {
		c.opts.PausedAfter = 5 * time.Second
	}
	if c.opts.NotifyDelay <= 0 {
		c.opts.NotifyDelay = time.Second
	}
	if c.opts.StopWait <= 0 {
		c.opts.StopWait = 2 * time.Second
	}
	if c.opts.Notify == nil {
		c.opts.Notify = func(n *fyne.Notification) { fyne.CurrentApp().SendNotification(n) }
	}
	c.focusedFlag.Store(c.focused)
	c.ctx, c.stop = context.WithCancel(context.Background())
	c.sendCtx, c.sendStop = context.WithCancel(context.Background())
	c.avatars = newAvatarCache(c.ctx, contacts.Avatar, c.do, func() {
		c.list.list.Refresh()
		c.updateHeader()
	})
	c.list = newConvList(c)
	c.chat = newChatView(c)
	c.search = newSearchPane(c)
	c.notes = &notifier{c: c}

	c.newChatBtn = widget.NewButtonWithIcon("New chat", theme.ContentAddIcon(), c.openNewChat)
	c.syncLabel = widget.NewLabel("")
	c.syncLabel.Wrapping = fyne.TextWrapWord
	c.syncLabel.SizeName = theme.SizeNameCaptionText
	c.syncAct = widget.NewActivity()
	c.syncBox = container.NewBorder(nil, nil, c.syncAct, nil, c.syncLabel)
	c.syncBox.Hide()
	c.requests = newMessageRequests(c)
	top := container.NewVBox(c.search.entry, container.NewBorder(nil, nil, nil, c.newChatBtn, c.search.scope),
		c.requests.btn)
	left := container.NewBorder(top, c.syncBox, nil, nil,
		container.NewStack(c.list.content(), c.search.content()))

	c.hdrAvatar = newAvatarView(32, true)
	c.hdrName = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	c.hdrName.Truncation = fyne.TextTruncateEllipsis
	c.hdrJID = widget.NewLabel("")
	c.hdrJID.SizeName = theme.SizeNameCaptionText
	c.hdrJID.Importance = widget.LowImportance
	c.hdrJID.Truncation = fyne.TextTruncateEllipsis
	names := container.New(layout.NewCustomPaddedVBoxLayout(-2*theme.InnerPadding()+2), c.hdrName, c.hdrJID)
	c.header = container.NewBorder(nil, widget.NewSeparator(), container.NewCenter(c.hdrAvatar), nil,
		container.NewVBox(layout.NewSpacer(), names, layout.NewSpacer()))

	c.composer = newComposer()
	c.composer.onSend = c.send
	c.composer.onEditLast = c.editLast
	c.composer.onEscape = c.escape
	c.composer.OnChanged = c.composerChanged
	c.sendBtn = widget.NewButtonWithIcon("", theme.MailSendIcon(), c.send)
	c.sendBtn.Importance = widget.HighImportance
	c.typingLabel = widget.NewLabel(" ")
	c.typingLabel.SizeName = theme.SizeNameCaptionText
	c.typingLabel.Importance = widget.LowImportance
	c.typingLabel.TextStyle = fyne.TextStyle{Italic: true}
	c.status = widget.NewLabel("")
	c.status.Wrapping = fyne.TextWrapWord
	c.status.Hide()
	c.editLabel = widget.NewLabel("Editing your last message — Enter saves, Esc cancels")
	c.editLabel.SizeName = theme.SizeNameCaptionText
	c.editBar = container.NewBorder(nil, nil, widget.NewIcon(theme.DocumentCreateIcon()),
		widget.NewButtonWithIcon("", theme.CancelIcon(), c.cancelEdit), c.editLabel)
	c.editBar.Hide()
	bottom := container.NewVBox(c.typingLabel, c.status, c.editBar,
		container.NewBorder(nil, nil, nil, container.NewVBox(layout.NewSpacer(), c.sendBtn), c.composer))
	c.chatPane = container.NewBorder(c.header, bottom, nil, nil, c.chat.content)
	c.chatPane.Hide()
	hint := widget.NewLabel("Pick a conversation, or start one with “New chat”.")
	hint.Importance = widget.LowImportance
	hint.Alignment = fyne.TextAlignCenter
	hint.Wrapping = fyne.TextWrapWord
	c.placeholder = container.NewCenter(hint)

	split := container.NewHSplit(left, container.NewStack(c.placeholder, c.chatPane))
	split.Offset = 0.32
	c.content = split

	c.applySnapshot(contacts.Snapshot())
	c.applySync(svc.Sync())
	c.unsubscribe = append(c.unsubscribe, svc.Subscribe(c.onChange), contacts.Subscribe(c.onSnapshot))
	c.refreshConversations()
	return c
}

// Content is the tab's canvas object.
func (c *ChatsView) Content() fyne.CanvasObject { return c.content }

// Peer is the JID of the open chat ("" if none).
func (c *ChatsView) Peer() string { return c.chat.peer }

// Stop stops following the services and cancels running work. Call it on
// the UI goroutine; it does not wait there. What has to happen before the
// session and the history close goes on off the UI goroutine: the open
// chat's draft is kept, its peer is told we are gone (XEP-0085) and what
// waits in the send queue is sent. The channel returned is closed when
// that is done, or after ChatsOptions.StopWait: close the session only
// then. Calling Stop again returns the same channel.
func (c *ChatsView) Stop() <-chan struct{} {
	if c.stopped != nil {
		return c.stopped
	}
	c.stopped = make(chan struct{})
	for _, u := range c.unsubscribe {
		u()
	}
	c.unsubscribe = nil
	if c.idle != nil {
		c.idle.Stop()
	}
	saveDraft := func(context.Context) {}
	if peer := c.chat.peer; peer != "" {
		if text := c.currentDraft(); text != c.draftFor(peer) {
			w, t := c.draftW, c.draftW.ticket(peer)
			saveDraft = func(ctx context.Context) { _, _ = w.write(ctx, t, peer, text) }
		}
		// XEP-0085: closing the chat (the window, or logging out) ends our
		// part in it.
		if c.statePeer == peer && c.stateSent != app.ChatStateGone {
			c.sendState(peer, app.ChatStateGone)
		}
	}
	c.notes.stop()
	c.stop()
	done := c.stopped
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), c.opts.StopWait)
		defer cancel()
		saveDraft(ctx) // while the queue sends on its own goroutine
		c.sends.wait(ctx)
		c.sendStop()
		close(done)
	}()
	return done
}

// SetFocused tells the view whether its window has the focus (no
// notifications while it has; the chat shown is marked read when it gets it).
func (c *ChatsView) SetFocused(focused bool) {
	c.focused = focused
	c.focusedFlag.Store(focused)
	peer := c.chat.peer
	if focused {
		c.notes.drop()
		c.maybeMarkRead()
		// XEP-0085: back in the chat after being inactive.
		if peer != "" && c.statePeer == peer && c.stateSent == app.ChatStateInactive {
			c.sendState(peer, app.ChatStateActive)
		}
		return
	}
	// XEP-0085: the user left the window; the peer sees them inactive.
	if peer != "" && c.statePeer == peer && c.stateSent != app.ChatStateInactive && c.stateSent != app.ChatStateGone {
		c.sendState(peer, app.ChatStateInactive)
	}
}

// Open opens the chat with jid (adding it to the list); with body (an
// xmpp: link's message), the composer holds body, after the draft on a new
// line when there is one.
func (c *ChatsView) Open(jid, body string) {
	go func() {
		peer, err := c.svc.StartConversation(c.ctx, jid)
		c.do(func() {
			if err != nil {
				c.setStatus("Cannot open a chat with "+jid+": "+app.UserMessage(err), widget.DangerImportance)
				return
			}
			var b *string
			if body != "" {
				b = &body
			}
			c.show(peer, b, nil)
		})
	}()
}

// onChange runs on a service goroutine: changes are merged until the UI
// goroutine applies them, so a burst costs one update.
func (c *ChatsView) onChange(ch app.ChatChange) {
	if len(ch.Inserted) > 0 && !c.focusedFlag.Load() {
		go c.notes.lookUp(ch.Inserted)
	}
	c.mu.Lock()
	if c.pending == nil {
		c.pending = &app.ChatChange{}
	}
	p := c.pending
	for _, peer := range ch.Peers {
		if !containsString(p.Peers, peer) {
			p.Peers = append(p.Peers, peer)
		}
	}
	for peer, st := range ch.Typing {
		if p.Typing == nil {
			p.Typing = map[string]string{}
		}
		p.Typing[peer] = st
	}
	p.Sync = ch.Sync
	if ch.Problem != "" {
		p.Problem = ch.Problem
	}
	if c.scheduled {
		c.mu.Unlock()
		return
	}
	c.scheduled = true
	c.mu.Unlock()
	c.do(func() {
		c.mu.Lock()
		p := c.pending
		c.pending, c.scheduled = nil, false
		c.mu.Unlock()
		if p != nil && c.ctx.Err() == nil {
			c.apply(*p)
		}
	})
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// apply takes merged changes on the UI goroutine.
func (c *ChatsView) apply(ch app.ChatChange) {
	if ch.Problem != "" {
		c.problem = ch.Problem
	}
	c.applySync(ch.Sync)
	if len(ch.Typing) > 0 {
		for peer, st := range ch.Typing {
			c.typing[peer] = st
		}
		c.list.list.Refresh()
		c.updateTyping()
	}
	if len(ch.Peers) > 0 {
		c.refreshConversations()
		if containsString(ch.Peers, c.chat.peer) {
			c.chat.changed()
		}
	}
}

// applySync shows the archive catch-up progress.
func (c *ChatsView) applySync(p app.SyncProgress) {
	switch {
	case p.Active:
		text := "Fetching messages from the server…"
		switch {
		case p.Total > 0 && p.Fetched <= p.Total:
			text = "Fetching messages from the server… " + strconv.Itoa(p.Fetched) + " of " + strconv.Itoa(p.Total)
		case p.Fetched > 0:
			text = "Fetching messages from the server… " + strconv.Itoa(p.Fetched) + " so far"
		}
		c.syncLabel.Importance = widget.MediumImportance
		c.syncLabel.SetText(text)
		c.syncAct.Show()
		c.syncAct.Start()
		c.syncBox.Show()
	case p.Err != nil:
		c.syncLabel.Importance = widget.DangerImportance
		c.syncLabel.SetText("Fetching messages from the server failed: " + app.UserMessage(p.Err))
		c.syncAct.Stop()
		c.syncAct.Hide()
		c.syncBox.Show()
	case c.problem != "":
		// Stays until Parley restarts: a message was lost here.
		c.syncLabel.Importance = widget.DangerImportance
		c.syncLabel.SetText(c.problem)
		c.syncAct.Stop()
		c.syncAct.Hide()
		c.syncBox.Show()
	default:
		c.syncAct.Stop()
		c.syncBox.Hide()
	}
}

// SyncText is the catch-up line as shown ("" when hidden).
func (c *ChatsView) SyncText() string {
	if !c.syncBox.Visible() {
		return ""
	}
	return c.syncLabel.Text
}

// refreshConversations reads the conversation list again (one read at a
// time; changes meanwhile cause one more).
func (c *ChatsView) refreshConversations() {
	if c.convBusy {
		c.convAgain = true
		return
	}
	c.convBusy = true
	go func() {
		convs, reqs, err := c.svc.ConversationList(c.ctx)
		c.do(func() {
			c.convBusy = false
			if err == nil && c.ctx.Err() == nil {
				c.requests.set(reqs)
				c.applyConversations(convs)
			}
			if c.convAgain {
				c.convAgain = false
				c.refreshConversations()
			}
		})
	}()
}

func (c *ChatsView) applyConversations(convs []store.Conversation) {
	c.convs = convs
	clear(c.convByPeer)
	total := 0
	for _, conv := range convs {
		c.convByPeer[conv.Peer] = conv
		total += conv.Unread
	}
	c.list.set(convs, len(c.requests.list))
	if total != c.unread {
		c.unread = total
		if c.opts.OnUnread != nil {
			c.opts.OnUnread(total)
		}
	}
	c.maybeMarkRead()
}

// Unread is the unread total shown.
func (c *ChatsView) Unread() int { return c.unread }

// onSnapshot runs on a service goroutine; snapshots are coalesced.
func (c *ChatsView) onSnapshot(s app.ContactsSnapshot) {
	c.mu.Lock()
	if c.pendingSnap == nil || s.Version >= c.pendingSnap.Version {
		c.pendingSnap = &s
	}
	if c.snapSched {
		c.mu.Unlock()
		return
	}
	c.snapSched = true
	c.mu.Unlock()
	c.do(func() {
		c.mu.Lock()
		s := c.pendingSnap
		c.pendingSnap, c.snapSched = nil, false
		c.mu.Unlock()
		if s != nil && c.ctx.Err() == nil {
			c.applySnapshot(*s)
		}
	})
}

func (c *ChatsView) applySnapshot(s app.ContactsSnapshot) {
	// Who is a contact decides what is a message request: a change of
	// the roster's members reads the list again.
	members := len(s.Contacts) != len(c.byJID)
	for i := range s.Contacts {
		if _, ok := c.byJID[s.Contacts[i].JID]; !ok {
			members = true
		}
	}
	clear(c.byJID)
	for i := range s.Contacts {
		c.byJID[s.Contacts[i].JID] = &s.Contacts[i]
	}
	if members && c.list != nil {
		c.refreshConversations()
	}
	c.avatars.forget()
	c.list.list.Refresh()
	c.search.list.Refresh()
	c.updateHeader()
	c.updateTyping()
}

// contactFor is peer as a contact: from the roster, or made up from the JID.
func (c *ChatsView) contactFor(peer string) *app.Contact {
	if ct, ok := c.byJID[peer]; ok {
		return ct
	}
	return &app.Contact{JID: peer, Name: peer, Initials: app.Initials(peer), Color: app.ConsistentColor(peer), Show: app.ShowOffline}
}

// displayName is the name shown for peer.
func (c *ChatsView) displayName(peer string) string { return c.contactFor(peer).Name }

// show opens peer's chat: body, when given, goes into the composer (after
// the draft or the text there, on a new line); target, when given, is a
// search result to jump to.
func (c *ChatsView) show(peer string, body *string, target *store.SearchResult) {
	switching := peer != c.chat.peer
	if switching {
		c.leaveChat()
		c.setStatus("", widget.MediumImportance)
	}
	c.placeholder.Hide()
	c.chatPane.Show()
	switch {
	case target != nil:
		c.chat.openAt(peer, *target)
	case switching || !c.chat.loaded:
		c.chat.open(peer)
	}
	if switching {
		c.setComposerText(c.draftFor(peer))
	}
	if body != nil {
		if c.editing != nil {
			c.cancelEdit() // the composer gets its draft back
		}
		c.setComposerText(withLinkBody(c.composer.Text, *body))
	}
	c.list.setSelected(peer)
	c.updateHeader()
	c.updateTyping()
	c.win.Canvas().Focus(c.composer)
}

// leaveChat keeps the draft of the chat being left and tells its peer we
// stopped typing.
func (c *ChatsView) leaveChat() {
	peer := c.chat.peer
	if peer == "" {
		return
	}
	text := c.currentDraft()
	if c.editing != nil {
		c.editing = nil
		c.editBar.Hide()
	}
	c.saveDraft(peer, text)
	if c.idle != nil {
		c.idle.Stop()
	}
	// XEP-0085: leaving a chat we took part in makes us inactive there.
	if c.statePeer == peer && c.stateSent != app.ChatStateInactive && c.stateSent != app.ChatStateGone {
		c.sendState(peer, app.ChatStateInactive)
	}
}

// currentDraft is the draft of the open chat: the composer text, or while
// editing a message the text from before the edit.
func (c *ChatsView) currentDraft() string {
	if c.editing != nil {
		return c.editDraft
	}
	return c.composer.Text
}

// draftFor is the kept draft of peer.
func (c *ChatsView) draftFor(peer string) string {
	if d, ok := c.drafts[peer]; ok {
		return d
	}
	return c.convByPeer[peer].Draft
}

// saveDraft keeps text as peer's draft (in the history, off the UI goroutine).
func (c *ChatsView) saveDraft(peer, text string) {
	if text == c.draftFor(peer) {
		return
	}
	c.drafts[peer] = text
	t := c.draftW.ticket(peer) // an earlier write still waiting is skipped
	go func() {
		if wrote, err := c.draftW.write(c.ctx, t, peer, text); wrote && err == nil {
			c.do(func() { c.list.list.Refresh() })
		}
	}()
}

// setComposerText sets the composer without it counting as typing.
func (c *ChatsView) setComposerText(text string) {
	c.settingTxt = true
	c.composer.setText(text)
	c.settingTxt = false
}

// updateHeader shows the open chat's peer above the messages.
func (c *ChatsView) updateHeader() {
	peer := c.chat.peer
	if peer == "" {
		return
	}
	ct := c.contactFor(peer)
	c.hdrAvatar.set(ct, c.avatars.get(ct.AvatarHash))
	setText(c.hdrName, ct.Name)
	setText(c.hdrJID, peer)
	if ct.Name == peer {
		c.hdrJID.Hide()
	} else {
		c.hdrJID.Show()
	}
}

// updateTyping shows whether the open chat's peer is typing.
func (c *ChatsView) updateTyping() {
	text := " "
	if peer := c.chat.peer; peer != "" && c.typing[peer] == app.ChatStateComposing {
		text = c.displayName(peer) + " is typing…"
	}
	setText(c.typingLabel, text)
}

// TypingText is the typing indicator of the open chat ("" when none).
func (c *ChatsView) TypingText() string { return strings.TrimSpace(c.typingLabel.Text) }

// setStatus shows a line above the composer ("" hides it).
func (c *ChatsView) setStatus(text string, imp widget.Importance) {
	c.status.Importance = imp
	c.status.SetText(text)
	if text == "" {
		c.status.Hide()
	} else {
		c.status.Show()
	}
}

// StatusText is the status line as shown.
func (c *ChatsView) StatusText() string { return c.status.Text }

// maybeMarkRead marks the open chat read up to its newest incoming message
// when it is shown at its end in the focused window.
func (c *ChatsView) maybeMarkRead() {
	v := c.chat
	if !c.focused || v.peer == "" || !v.loaded || v.hasNewer || !v.atBottom() {
		return
	}
	m, ok := v.lastIncoming()
	if !ok {
		return
	}
	cur := m.Cursor()
	if done, ok := c.marked[v.peer]; ok && !done.Less(cur) {
		return
	}
	if conv, ok := c.convByPeer[v.peer]; ok && conv.Unread == 0 && !conv.LastRead.Less(cur) {
		return
	}
	c.marked[v.peer] = cur
	peer := v.peer
	go func() { _ = c.svc.MarkRead(c.ctx, peer, m) }()
}

// send sends the composer text, or saves the correction being edited.
func (c *ChatsView) send() {
	peer := c.chat.peer
	text := strings.TrimRight(c.composer.Text, " \t\r\n")
	if peer == "" || strings.TrimSpace(text) == "" {
		return
	}
	// Too long to send (the server would close the connection on it):
	// say so, and leave the text (and an edit) in the composer to shorten.
	if err := app.CheckMessageSize(text); err != nil {
		c.setStatus(app.UserMessage(err), widget.DangerImportance)
		return
	}
	if c.idle != nil {
		c.idle.Stop()
	}
	if c.editing != nil {
		target := *c.editing
		c.editing = nil
		c.editBar.Hide()
		c.setComposerText(c.editDraft)
		if target.Body == text {
			return
		}
		go func() {
			if err := c.svc.Correct(c.ctx, peer, target, text); err != nil {
				c.do(func() { c.setStatus("Could not correct the message: "+app.UserMessage(err), widget.DangerImportance) })
			}
		}()
		return
	}
	c.setComposerText("")
	c.saveDraft(peer, "")
	c.chat.followOwn()
	// The message carries <active/> itself.
	c.stateSent, c.statePeer = app.ChatStateActive, peer
	c.setStatus("", widget.MediumImportance)
	c.sends.push(queuedSend{peer: peer, send: func() {
		if _, err := c.svc.Send(c.sendCtx, peer, text); err != nil {
			c.do(func() {
				c.setStatus("Could not send the message: "+app.UserMessage(err), widget.DangerImportance)
				if c.chat.peer == peer && c.composer.Text == "" {
					c.setComposerText(text)
				}
			})
		}
	}})
}

// editLast starts editing the last own message (Up in an empty composer).
func (c *ChatsView) editLast() bool {
	m, ok := c.chat.lastOwn()
	if !ok {
		return false
	}
	c.startEdit(m)
	return true
}

// startEdit puts one of our messages into the composer for correction.
func (c *ChatsView) startEdit(m store.Message) {
	if c.editing == nil {
		c.editDraft = c.composer.Text
	}
	c.editing = &m
	c.setComposerText(m.Body)
	c.editBar.Show()
	c.win.Canvas().Focus(c.composer)
}

// Editing reports whether the composer holds a correction.
func (c *ChatsView) Editing() bool { return c.editing != nil }

// cancelEdit gives the composer back its draft.
func (c *ChatsView) cancelEdit() {
	if c.editing == nil {
		return
	}
	c.editing = nil
	c.editBar.Hide()
	c.setComposerText(c.editDraft)
	c.win.Canvas().Focus(c.composer)
}

// escape cancels an edit (Escape in the composer).
func (c *ChatsView) escape() bool {
	if c.editing == nil {
		return false
	}
	c.cancelEdit()
	return true
}

// composerChanged sends chat states as the user types: composing, then
// paused after a pause, active when the text is cleared.
func (c *ChatsView) composerChanged(text string) {
	peer := c.chat.peer
	if c.settingTxt || peer == "" || c.editing != nil {
		return
	}
	if strings.TrimSpace(text) == "" {
		if c.idle != nil {
			c.idle.Stop()
		}
		if c.statePeer == peer && (c.stateSent == app.ChatStateComposing || c.stateSent == app.ChatStatePaused) {
			c.sendState(peer, app.ChatStateActive)
		}
		return
	}
	if c.statePeer != peer || c.stateSent != app.ChatStateComposing {
		c.sendState(peer, app.ChatStateComposing)
	}
	if c.idle != nil {
		c.idle.Stop()
	}
	c.idle = time.AfterFunc(c.opts.PausedAfter, func() {
		c.do(func() {
			if c.ctx.Err() != nil || c.chat.peer != peer {
				return
			}
			if c.statePeer == peer && c.stateSent == app.ChatStateComposing {
				c.sendState(peer, app.ChatStatePaused)
			}
			c.saveDraft(peer, c.currentDraft())
		})
	})
}

// withLinkBody is the composer text after an xmpp: link's body arrives:
// the body alone, or the draft kept with the body on a new line after it
// (not twice when the same link is opened again).
func withLinkBody(draft, body string) string {
	kept := strings.TrimRight(draft, " \t\r\n")
	switch {
	case kept == "":
		return body
	case body == "" || strings.HasSuffix(kept, strings.TrimRight(body, " \t\r\n")):
		return draft
	}
	return kept + "\n" + body
}

// sendState sends a chat state (off the UI goroutine, in order with the
// others and our messages; failures, such as being offline, do not matter).
func (c *ChatsView) sendState(peer, state string) {
	c.stateSent, c.statePeer = state, peer
	svc := c.svc
	c.sends.push(queuedSend{peer: peer, state: state, send: func() { _ = svc.SendChatState(peer, state) }})
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

// newChatDialog asks for the address to start a chat with.
type newChatDialog struct {
	dlg   *dialog.CustomDialog
	entry *widget.Entry
	err   *widget.Label
	ok    *widget.Button
}

// openNewChat asks for an address and opens a chat with it.
func (c *ChatsView) openNewChat() {
	d := &newChatDialog{}
	d.entry = widget.NewEntry()
	d.entry.SetPlaceHolder("name@example.org")
	d.err = widget.NewLabel("")
	d.err.Importance = widget.DangerImportance
	d.err.Wrapping = fyne.TextWrapWord
	d.err.Hide()
	submit := func() {
		jid := strings.TrimSpace(d.entry.Text)
		if jid == "" {
			return
		}
		d.ok.Disable()
		go func() {
			peer, err := c.svc.StartConversation(c.ctx, jid)
			c.do(func() {
				d.ok.Enable()
				if err != nil {
					d.err.SetText(app.UserMessage(err))
					d.err.Show()
					return
				}
				d.dlg.Hide()
				c.show(peer, nil, nil)
			})
		}()
	}
	d.entry.OnSubmitted = func(string) { submit() }
	d.ok = widget.NewButton("Chat", submit)
	d.ok.Importance = widget.HighImportance
	cancel := widget.NewButton("Cancel", func() { d.dlg.Hide() })
	form := widget.NewForm(widget.NewFormItem("Address", d.entry))
	d.dlg = dialog.NewCustomWithoutButtons("New chat", container.NewVBox(form, d.err), c.win)
	d.dlg.SetButtons([]fyne.CanvasObject{cancel, d.ok})
	d.dlg.SetOnClosed(func() {
		if c.newChat == d {
			c.newChat = nil
		}
	})
	c.newChat = d
	d.dlg.Resize(fyne.NewSize(400, 0))
	d.dlg.Show()
	c.win.Canvas().Focus(d.entry)
}
