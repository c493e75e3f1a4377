// The Chats tab of the main window: the conversation list with the search
// box, "New chat" and the archive catch-up progress on the left, the open
// chat (header, message list, typing indicator, composer) on the right.
// It follows the chat service's changes (coalesced, applied on the UI
// goroutine), reports what the person does to the chat service (a chat
// opened or left, the composer changed, a message sent, the window focused
// or closed: the service decides which chat states go out, in order with
// the messages, and keeps the drafts), marks the chat read while it is
// shown at its end with the window focused, reports the unread total (for
// the window title) and sends desktop notifications (notify.go). Every
// service call that reads or writes runs off the UI goroutine.
package views

import (
	"context"
	"slices"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/app"
	"parley/app/media"
	"parley/app/notify"
	"parley/app/store"
	"parley/app/voice"
)

// ChatService is what the chat UI needs of *app.ChatService. Subscribe's
// callback runs on a service goroutine. The calls that report what the
// person did (ChatOpened to KeepDraft, DraftOf) never block and are made
// on the UI goroutine; the others read or write the history or the
// network, so the views never make them there.
type ChatService interface {
	Subscribe(fn func(app.ChatChange)) (unsubscribe func())
	ConversationList(ctx context.Context) (convs, requests []store.Conversation, err error)
	Latest(ctx context.Context, peer string, n int) ([]store.Message, error)
	Before(ctx context.Context, peer string, cur store.Cursor, n int) ([]store.Message, error)
	After(ctx context.Context, peer string, cur store.Cursor, n int) ([]store.Message, error)
	Message(ctx context.Context, id int64) (store.Message, error)
	Correct(ctx context.Context, peer string, target store.Message, body string) error
	Retract(ctx context.Context, peer string, target store.Message) error
	Retry(ctx context.Context, m store.Message) error
	Typing(peer string) string
	MarkRead(ctx context.Context, peer string, upTo store.Message) error
	StartConversation(ctx context.Context, peer string) (string, error)
	Search(ctx context.Context, q store.Query) ([]store.SearchResult, error)
	Sync() app.SyncProgress
	Now() time.Time
	IsRequest(ctx context.Context, peer string) (bool, error)
	AcceptRequest(ctx context.Context, peer string) error
	DismissRequest(ctx context.Context, peer string) error
	SendFile(ctx context.Context, peer, path string, opts media.PrepareOptions) (store.Message, error)
	Fetch(ctx context.Context, id int64, asked bool) (store.Attachment, error)
	Thumbnail(ctx context.Context, id int64, side int) (string, error)
	Preview(ctx context.Context, id int64) (string, error)
	CancelFile(ctx context.Context, id int64) error

	ChatOpened(peer string)
	ChatLeft(peer string)
	ComposerChanged(peer, text string)
	WindowFocused(focused bool)
	SendMessage(peer, text string, failed func(error))
	ChatsClosed()
	KeepDraft(peer, text string)
	DraftOf(peer string) (string, bool)
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
	// NotifyDelay gathers a burst of messages into one notification (0: 1 s).
	NotifyDelay time.Duration
	// PickFile asks the person for a file to send and calls picked with
	// its path (nil: Fyne's file dialog).
	PickFile func(win fyne.Window, pictures bool, picked func(path string))
	// ClipboardImage reads a picture from the system clipboard (nil:
	// media.ClipboardImage; Fyne's clipboard holds text only).
	ClipboardImage func(ctx context.Context) ([]byte, error)
	// CopyImage puts the picture file at path on the system clipboard
	// (nil: media.CopyImage).
	CopyImage func(ctx context.Context, path string) error
	// Unfocused starts the view as if its window had lost the focus (the
	// app left the foreground before the login that makes the view).
	Unfocused bool
	// Voice records and plays voice messages (nil: the composer has no
	// microphone button and audio files show as files).
	Voice VoiceService
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
	typing     map[string]string      // peer -> chat state
	transfers  map[int64]app.Transfer // files going up or down, by message id
	marked     map[string]store.Cursor

	// Editing (correcting) our last message.
	editing    *store.Message
	editDraft  string // the composer text before editing began
	settingTxt bool   // the composer text is set by us, not typed

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
	attachBtn   *widget.Button
	attachDlg   *attachPreview // the last file preview shown (attach.go)
	attachMenu  *fyne.Menu     // Picture… / File… (attach.go)
	composerRow *fyne.Container
	recorder    *recorderUI // voice recording (recorder.go; nil without a voice service)
	newChatBtn  *widget.Button
	newChat     *newChatDialog
	syncLabel   *widget.Label
	syncAct     *widget.Activity
	syncBox     *fyne.Container
	problem     string // the last ChatChange.Problem, shown where the catch-up line is
	placeholder fyne.CanvasObject
	startWith   *fyne.Container // contacts offered while there is no conversation
	chatPane    *fyne.Container
	content     fyne.CanvasObject

	changes     *notify.Coalescer[app.ChatChange]       // to apply on the UI goroutine
	snapshots   *notify.Coalescer[app.ContactsSnapshot] // the newest wins
	unsubscribe []func()
}

// NewChatsView makes the tab for svc (and contacts, for names and
// avatars) in win and starts following them; call it on the UI goroutine.
// Stop ends it.
func NewChatsView(win fyne.Window, svc ChatService, contacts ContactsService, opts ChatsOptions) *ChatsView {
	c := &ChatsView{svc: svc, contacts: contacts, win: win, do: opts.Do, now: opts.Now, loc: opts.Location, opts: opts,
		convByPeer: map[string]store.Conversation{}, byJID: map[string]*app.Contact{}, typing: map[string]string{},
		marked: map[string]store.Cursor{}, transfers: map[int64]app.Transfer{}, focused: !opts.Unfocused}
	if c.do == nil {
		c.do = fyne.Do
	}
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
	if c.opts.PickFile == nil {
		c.opts.PickFile = pickFile
	}
	if c.opts.ClipboardImage == nil {
		c.opts.ClipboardImage = media.ClipboardImage
	}
	if c.opts.CopyImage == nil {
		c.opts.CopyImage = media.CopyImage
	}
	if c.opts.NotifyDelay <= 0 {
		c.opts.NotifyDelay = time.Second
	}
	if c.opts.Notify == nil {
		c.opts.Notify = func(n *fyne.Notification) { fyne.CurrentApp().SendNotification(n) }
	}
	c.focusedFlag.Store(c.focused)
	c.ctx, c.stop = context.WithCancel(context.Background())
	c.changes = notify.NewCoalescer(c.do, app.ChatChange.Merge, c.apply)
	c.snapshots = notify.NewCoalescer(c.do, newerSnapshot, c.applySnapshot)
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
	c.composer.onPaste = c.paste
	c.composer.OnChanged = c.composerChanged
	c.sendBtn = widget.NewButtonWithIcon("", theme.MailSendIcon(), c.send)
	c.sendBtn.Importance = widget.HighImportance
	c.attachBtn = widget.NewButtonWithIcon("", theme.FileIcon(), c.attach)
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
	// The microphone stays where it is while it records (a held button
	// that disappeared would never hear its release): the recorder bar
	// takes the place of the composer and the send button beside it.
	buttons := fyne.CanvasObject(c.sendBtn)
	c.composerRow = container.NewBorder(nil, nil, container.NewVBox(layout.NewSpacer(), c.attachBtn), nil, c.composer)
	composing := fyne.CanvasObject(c.composerRow)
	if opts.Voice != nil {
		c.recorder = newRecorderUI(c)
		buttons = container.NewHBox(c.recorder.mic, c.sendBtn)
		composing = container.NewStack(c.composerRow, c.recorder.bar)
	}
	bottom := container.NewVBox(c.typingLabel, c.status, c.editBar,
		container.NewBorder(nil, nil, nil, container.NewVBox(layout.NewSpacer(), buttons), composing))
	c.chatPane = container.NewBorder(c.header, bottom, nil, nil, c.chat.content)
	c.chatPane.Hide()
	hint := widget.NewLabel("Pick a conversation, or start one with “New chat”.")
	hint.Importance = widget.LowImportance
	hint.Alignment = fyne.TextAlignCenter
	hint.Wrapping = fyne.TextWrapWord
	// With no conversation yet, the contacts to start one with (startwith.go).
	c.startWith = container.NewVBox()
	c.startWith.Hide()
	c.placeholder = container.NewCenter(container.NewVBox(hint, c.startWith))

	split := container.NewHSplit(left, container.NewStack(c.placeholder, c.chatPane))
	split.Offset = 0.32
	c.content = split

	c.applySnapshot(contacts.Snapshot())
	c.applySync(svc.Sync())
	c.unsubscribe = append(c.unsubscribe, svc.Subscribe(c.onChange), contacts.Subscribe(c.onSnapshot))
	if opts.Voice != nil {
		c.unsubscribe = append(c.unsubscribe, opts.Voice.Subscribe(func(ev voice.PlayEvent) {
			c.do(func() { c.chat.playerChanged(ev) })
		}))
	}
	// Files dropped on the window go to the open chat (attach.go).
	win.SetOnDropped(c.dropped)
	c.unsubscribe = append(c.unsubscribe, func() { win.SetOnDropped(nil) })
	c.refreshConversations()
	return c
}

// Content is the tab's canvas object.
func (c *ChatsView) Content() fyne.CanvasObject { return c.content }

// Peer is the JID of the open chat ("" if none).
func (c *ChatsView) Peer() string { return c.chat.peer }

// Stop stops following the services and cancels running work; call it on
// the UI goroutine. It hands the open chat's draft to the chat service and
// reports the chats closed (its peer is told we are gone, XEP-0085); the
// service sends what waits before its session ends (Logout, Close).
func (c *ChatsView) Stop() {
	if c.ctx.Err() != nil {
		return
	}
	for _, u := range c.unsubscribe {
		u()
	}
	c.unsubscribe = nil
	if peer := c.chat.peer; peer != "" {
		c.saveDraft(peer, c.currentDraft())
	}
	c.svc.ChatsClosed()
	c.notes.stop()
	if c.recorder != nil {
		// The microphone is released and an unsent recording dropped (as
		// other clients do when they close); what plays stops.
		c.recorder.escape()
		go c.opts.Voice.StopPlaying()
	}
	c.stop()
}

// SetFocused tells the view whether its window has the focus (no
// notifications while it has; the chat shown is marked read when it gets it).
func (c *ChatsView) SetFocused(focused bool) {
	c.focused = focused
	c.focusedFlag.Store(focused)
	c.svc.WindowFocused(focused)
	if focused {
		c.notes.drop()
		c.maybeMarkRead()
	}
}

// Open opens the chat with jid (adding it to the list); with body (an
// xmpp: link's message), the composer holds body, after the draft on a new
// line when there is one.
func (c *ChatsView) Open(jid, body string) {
	inBackground(c.do, func() (string, error) { return c.svc.StartConversation(c.ctx, jid) }, func(peer string, err error) {
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
}

// onChange runs on a service goroutine: changes are merged until the UI
// goroutine applies them, so a burst costs one update.
func (c *ChatsView) onChange(ch app.ChatChange) {
	if len(ch.Inserted) > 0 && !c.focusedFlag.Load() {
		go c.notes.lookUp(ch.Inserted)
	}
	c.changes.Post(ch)
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
	for id, t := range ch.Transfers {
		if t.Total > 0 && t.Done >= t.Total {
			delete(c.transfers, id)
		} else {
			c.transfers[id] = t
		}
		c.chat.refreshMessage(id)
	}
	if len(ch.Peers) > 0 {
		c.refreshConversations()
		if slices.Contains(ch.Peers, c.chat.peer) {
			c.chat.changed()
		}
	}
}

// refreshConversations reads the conversation list again (one read at a
// time; changes meanwhile cause one more).
func (c *ChatsView) refreshConversations() {
	if c.convBusy {
		c.convAgain = true
		return
	}
	c.convBusy = true
	type lists struct{ convs, reqs []store.Conversation }
	inBackground(c.do, func() (l lists, err error) {
		l.convs, l.reqs, err = c.svc.ConversationList(c.ctx)
		return l, err
	}, func(l lists, err error) {
		c.convBusy = false
		if err == nil {
			c.requests.set(l.reqs)
			c.applyConversations(l.convs)
		}
		if c.convAgain {
			c.convAgain = false
			c.refreshConversations()
		}
	})
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
	c.updateStartWith()
	if total != c.unread {
		c.unread = total
		if c.opts.OnUnread != nil {
			c.opts.OnUnread(total)
		}
	}
	c.maybeMarkRead()
}

// PicturesLoading is how many thumbnails the rows shown have asked for
// and not got yet (0: the pictures on screen are shown); for benchmarks.
func (c *ChatsView) PicturesLoading() int { return c.chat.thumbs.loading() }

// ChatLoaded says whether the open chat's messages are loaded (for the
// benchmarks).
func (c *ChatsView) ChatLoaded() bool { return c.chat.loaded && !c.chat.busy }

// VoiceLoading is how many voice messages of the open chat are having
// their waveform computed (for the benchmarks).
func (c *ChatsView) VoiceLoading() int {
	n := 0
	for _, s := range c.chat.voice.waves {
		if s.loading {
			n++
		}
	}
	return n
}

// PlayVoice plays (or pauses) voice message id of the open chat, as a
// click on its play button does.
func (c *ChatsView) PlayVoice(id int64) {
	for _, m := range c.chat.msgs {
		if m.ID == id && m.Attachment != nil {
			c.chat.tapVoice(m, voicePlay, 0)
		}
	}
}

// Unread is the unread total shown.
func (c *ChatsView) Unread() int { return c.unread }

// onSnapshot runs on a service goroutine; snapshots are coalesced.
func (c *ChatsView) onSnapshot(s app.ContactsSnapshot) { c.snapshots.Post(s) }

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
	c.updateStartWith()
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
		c.svc.ChatOpened(peer)
		c.setComposerText(c.draftFor(peer))
		if c.recorder != nil {
			c.recorder.chatChanged()
		}
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

// leaveChat keeps the draft of the chat being left and tells the service
// it was left.
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
	c.svc.ChatLeft(peer)
}

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
	inBackgroundErr(c.do, func() error { return c.svc.MarkRead(c.ctx, peer, m) }, nil)
}
