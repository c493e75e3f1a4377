// The conversation list: a virtualised widget.List of the conversations,
// newest activity first, each row with the contact's avatar (or initials),
// name, the time of the last activity, a preview of the last message (or
// the draft, or "typing…"), and the unread count in a badge. Tapping a row
// opens that chat.
package views

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/app"
	"parley/app/store"
)

// convList is the list of conversations.
type convList struct {
	c        *ChatsView
	list     *widget.List
	empty    *widget.Label
	box      *fyne.Container
	convs    []store.Conversation
	selected string // the peer of the open chat
}

func newConvList(c *ChatsView) *convList {
	l := &convList{c: c}
	l.list = newTapList(
		func() int { return len(l.convs) },
		func() fyne.CanvasObject { return newConvRowView(l) },
		func(id widget.ListItemID, o fyne.CanvasObject) { o.(*convRowView).update(id) },
		l.activate, // a tap, or Space on a highlighted row, opens the chat
	)
	l.empty, l.box = withEmptyText(l.list, emptyConversations)
	l.empty.Hide()
	return l
}

func (l *convList) content() fyne.CanvasObject { return l.box }

// set shows convs (newest first).
// The list's words when it is empty, without and with message requests.
const (
	emptyConversations         = "No conversations yet. Start one with “New chat” or from your contacts."
	emptyConversationsRequests = "No conversations yet. People not in your contacts wrote to you: see “Message requests” above."
)

// set shows convs; requests is how many message requests wait (the
// empty list points to them).
func (l *convList) set(convs []store.Conversation, requests int) {
	l.convs = convs
	if requests > 0 {
		l.empty.SetText(emptyConversationsRequests)
	} else {
		l.empty.SetText(emptyConversations)
	}
	showIf(l.empty, len(convs) == 0)
	l.list.Refresh()
}

// setSelected marks the open chat.
func (l *convList) setSelected(peer string) {
	if peer != l.selected {
		l.selected = peer
		l.list.Refresh()
	}
}

func (l *convList) activate(id int) {
	if id >= 0 && id < len(l.convs) {
		l.c.show(l.convs[id].Peer, nil, nil)
	}
}

// index is the row of peer (-1 if none).
func (l *convList) index(peer string) int {
	for i := range l.convs {
		if l.convs[i].Peer == peer {
			return i
		}
	}
	return -1
}

// oneLine shortens text to one line of at most n characters.
func oneLine(text string, n int) string {
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) <= n {
		return text
	}
	r := []rune(text)
	return string(r[:n]) + "…"
}

// previewBytes is how much of a body a preview parses: a preview shows a
// line's worth, and the list parses it again on every row refresh.
const previewBytes = 200

// previewPart is the start of body a preview is made from: previewBytes,
// up to the end of that line when it ends within as many bytes again
// (spans do not cross lines, so the line keeps its styling), cut at a
// character boundary; cut says whether text follows.
func previewPart(body string) (part string, cut bool) {
	if len(body) <= previewBytes {
		return body, false
	}
	if i := strings.IndexByte(body[previewBytes:min(len(body), 2*previewBytes)], '\n'); i >= 0 {
		return body[:previewBytes+i], strings.TrimSpace(body[previewBytes+i:]) != ""
	}
	end := previewBytes
	for end > 0 && !utf8.RuneStart(body[end]) {
		end--
	}
	return body[:end], true
}

// unstyled is the start of a body without its styling directives and
// quotation marks, for one-line previews.
func unstyled(body string) string {
	var b strings.Builder
	part, cut := previewPart(body)
	for _, blk := range app.ParseStyling(part) {
		for _, line := range blk.Lines {
			for _, sp := range line.Spans {
				if sp.Style&app.StyleDirective == 0 {
					b.WriteString(sp.Text)
				}
			}
			b.WriteByte(' ')
		}
	}
	if cut {
		b.WriteString("…")
	}
	return b.String()
}

// previewKind says how a preview is shown.
type previewKind int

const (
	previewMessage previewKind = iota
	previewDraft
	previewTyping
	previewNone
)

// preview is the second line of a conversation's row.
func (c *ChatsView) preview(conv *store.Conversation) (string, previewKind) {
	if c.typing[conv.Peer] == app.ChatStateComposing {
		return "typing…", previewTyping
	}
	if conv.Peer != c.chat.peer {
		if d := strings.TrimSpace(c.draftFor(conv.Peer)); d != "" {
			return "Draft: " + oneLine(d, 120), previewDraft
		}
	}
	m := conv.Last
	if m == nil {
		return "No messages yet", previewNone
	}
	text := oneLine(unstyled(m.Body), 120)
	switch {
	case m.Retracted:
		text = "Message retracted"
	case m.Attachment != nil && isPicture(m.Attachment):
		text = "Picture"
	case m.Attachment != nil && isVoice(m.Attachment):
		text = "Voice message"
		if d := m.Attachment.Duration; d > 0 {
			text += " (" + formatClock(d) + ")"
		}
	case m.Attachment != nil:
		text = "File: " + oneLine(fileName(m.Attachment), 100)
	}
	if m.Direction == store.Out {
		text = "You: " + text
	}
	return text, previewMessage
}

// shortTime is a time in the list: 15:04 today, else the day.
func (c *ChatsView) shortTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	now := c.now().In(c.loc)
	t = t.In(c.loc)
	today, day := midnight(now), midnight(t)
	switch {
	case !day.Before(today):
		return t.Format("15:04")
	case day.Equal(today.AddDate(0, 0, -1)):
		return "Yesterday"
	case day.After(today.AddDate(0, 0, -6)):
		return t.Format("Mon")
	case t.Year() == now.Year():
		return t.Format("2 Jan")
	}
	return t.Format("2 Jan 2006")
}

// convRowView is the recycled row of the conversation list.
type convRowView struct {
	widget.BaseWidget
	l  *convList
	id int

	selected *canvas.Rectangle
	avatar   *avatarView
	name     *widget.Label
	when     *widget.Label
	preview  *widget.Label
	badge    *unreadBadge
	top      *fyne.Container
	bottom   *fyne.Container
	badgeBox *fyne.Container
}

func newConvRowView(l *convList) *convRowView {
	r := &convRowView{l: l, id: -1}
	r.selected = newSelectionMark()
	r.avatar = newAvatarView(avatarSize, true)
	r.name = newRowName()
	r.when = widget.NewLabel("")
	r.when.SizeName = theme.SizeNameCaptionText
	r.when.Importance = widget.LowImportance
	r.preview = widget.NewLabel("")
	r.preview.Truncation = fyne.TextTruncateEllipsis
	r.preview.SizeName = theme.SizeNameCaptionText
	r.badge = newUnreadBadge()
	r.top = container.NewBorder(nil, nil, nil, r.when, r.name)
	r.badgeBox = container.NewCenter(r.badge)
	r.bottom = container.NewBorder(nil, nil, nil, r.badgeBox, r.preview)
	r.ExtendBaseWidget(r)
	return r
}

// update fills the row with conversation id.
func (r *convRowView) update(id int) {
	r.id = id
	c := r.l.c
	if id < 0 || id >= len(r.l.convs) {
		return
	}
	conv := &r.l.convs[id]
	was := r.look()
	ct := c.contactFor(conv.Peer)
	r.avatar.set(ct, c.avatars.get(ct.AvatarHash))
	setText(r.name, ct.Name)
	setText(r.when, c.shortTime(conv.LastActivity))
	text, kind := c.preview(conv)
	imp, style := widget.MediumImportance, fyne.TextStyle{}
	switch kind {
	case previewTyping:
		imp, style = widget.HighImportance, fyne.TextStyle{Italic: true}
	case previewDraft:
		imp = widget.DangerImportance
	case previewNone:
		imp, style = widget.LowImportance, fyne.TextStyle{Italic: true}
	}
	if r.preview.Importance != imp || r.preview.TextStyle != style {
		r.preview.Importance, r.preview.TextStyle = imp, style
		r.preview.Text = text
		r.preview.Refresh()
	} else {
		setText(r.preview, text)
	}
	r.badge.set(conv.Unread)
	if r.look() != was {
		// The labels refreshed themselves; what changed size needs its
		// place again. Refreshing the rows' containers instead would
		// measure every label of every visible row again, on each change
		// of the list (opening a chat, a message in another one).
		relayout(r.top)
		relayout(r.badgeBox)
		relayout(r.bottom)
	}
	showIf(r.selected, conv.Peer == r.l.selected)
}

// convRowLook is what decides the size of a conversation row's parts.
type convRowLook struct {
	name, when, preview string
	previewStyle        fyne.TextStyle
	badge               int
	badgeShown          bool
}

func (r *convRowView) look() convRowLook {
	return convRowLook{name: r.name.Text, when: r.when.Text, preview: r.preview.Text, previewStyle: r.preview.TextStyle,
		badge: r.badge.count, badgeShown: r.badge.Visible()}
}

// relayout places a container's objects again at its current size.
func relayout(c *fyne.Container) {
	if c.Layout != nil {
		c.Layout.Layout(c.Objects, c.Size())
	}
}

// Tapped opens the chat.
func (r *convRowView) Tapped(*fyne.PointEvent) { r.l.activate(r.id) }

// CreateRenderer implements fyne.Widget.
func (r *convRowView) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(avatarRow(r.selected, r.avatar, r.top, r.bottom, nil))
}

// unreadBadge is the unread count on a pill in the primary colour.
type unreadBadge struct {
	widget.BaseWidget
	count int
	bg    *canvas.Rectangle
	text  *canvas.Text
}

func newUnreadBadge() *unreadBadge {
	b := &unreadBadge{}
	b.bg = canvas.NewRectangle(theme.Color(theme.ColorNamePrimary))
	b.text = canvas.NewText("", theme.Color(theme.ColorNameForegroundOnPrimary))
	b.text.TextStyle = fyne.TextStyle{Bold: true}
	b.text.Alignment = fyne.TextAlignCenter
	b.ExtendBaseWidget(b)
	b.Hide()
	return b
}

func (b *unreadBadge) set(n int) {
	if n <= 0 {
		b.count = 0
		b.Hide()
		return
	}
	if n != b.count || !b.Visible() {
		b.count = n
		text := strconv.Itoa(n)
		if n > 999 {
			text = "999+"
		}
		b.text.Text = text
		b.Show()
		b.Refresh()
	}
}

// CreateRenderer implements fyne.Widget.
func (b *unreadBadge) CreateRenderer() fyne.WidgetRenderer { return &badgeRenderer{b: b} }

type badgeRenderer struct{ b *unreadBadge }

func (r *badgeRenderer) MinSize() fyne.Size {
	r.b.text.TextSize = theme.CaptionTextSize()
	ts := r.b.text.MinSize()
	h := ts.Height + 2
	return fyne.NewSize(max(ts.Width+10, h), h)
}

func (r *badgeRenderer) Layout(size fyne.Size) {
	r.b.bg.Resize(size)
	r.b.bg.CornerRadius = size.Height / 2
	r.b.text.Resize(size)
}

func (r *badgeRenderer) Refresh() {
	r.b.bg.FillColor = theme.Color(theme.ColorNamePrimary)
	r.b.text.Color = theme.Color(theme.ColorNameForegroundOnPrimary)
	r.b.text.TextSize = theme.CaptionTextSize()
	r.Layout(r.b.Size())
	r.b.bg.Refresh()
	r.b.text.Refresh()
}

func (r *badgeRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.b.bg, r.b.text}
}
func (r *badgeRenderer) Destroy() {}
