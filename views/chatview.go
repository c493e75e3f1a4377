// The message list of the open chat: a virtualised widget.List with
// variable row heights over a window of the conversation's history (at most
// maxWindow messages, paged in from the history store off the UI goroutine).
//
// Heights: every row's height is computed by laying its text out
// (textlayout.go, bubble.go) for the list's width, and given to the list
// with SetItemHeight. A visible List refreshes itself on every
// SetItemHeight, so heights are set in bulk only on a list that has not
// been drawn yet: whenever row indices shift (older messages prepended, the
// window trimmed, another chat, a jump, a new width) a fresh List is built
// with all heights set and swapped in, scrolled so the message that was at
// the top of the screen stays where it was. New messages at the end and
// changed messages (receipts, corrections) set a few heights on the
// visible list. Layouts are cached per message and width, and the text
// width stops growing at maxBubbleW, so widening a wide window costs
// nothing.
//
// Paging: a "Loading older messages…" row at the top (and "newer" at the
// bottom after a jump) loads the next page when it scrolls into view. Rows
// coming into view are the only scroll signal a List gives, so they also
// drive the "jump to newest" button and marking the chat read.
package views

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/app/store"
)

// Paging.
const (
	firstPageSize = 50  // messages loaded when a chat opens
	olderPageSize = 100 // per page when scrolling up
	newerPageSize = 100 // per page when scrolling down after a jump
	jumpHalf      = 40  // messages loaded on each side of a search result
	refreshExtra  = 200 // new messages fetched by one refresh
	maxWindow     = 600 // messages held at most; the far end is dropped
	bulkRows      = 8   // more new rows than this: build a new list
	bottomSlack   = 24  // this close to the end counts as "at the bottom"
	flashFor      = 2500 * time.Millisecond
)

// rowKind is what a chat list row shows.
type rowKind int

const (
	rowMsg   rowKind = iota // a message bubble
	rowDay                  // a day separator
	rowOlder                // "Loading older messages…"
	rowNewer                // "Loading newer messages…"
)

// chatRow is one row of the chat list.
type chatRow struct {
	kind  rowKind
	msg   int       // index into chatView.msgs (rowMsg)
	day   time.Time // midnight of the day (rowDay)
	first bool      // the first message of a group
	top   float32   // space above the bubble
	h     float32   // the row's height
	lay   *bubbleLayout
}

// anchor says where to scroll a rebuilt list.
type anchor struct {
	bottom bool    // to the end
	msgID  int64   // else keep this message's row ...
	delta  float32 // ... this far below the top of the view
	center bool    // ... or centred
}

// chatView is the open chat's message list. All its methods run on the UI
// goroutine; loads run on goroutines and come back through do, dropped if
// another chat was opened meanwhile (gen).
type chatView struct {
	c    *ChatsView
	peer string
	gen  int

	msgs     []store.Message // the loaded window, oldest first
	hasOlder bool            // older messages exist before msgs
	hasNewer bool            // newer messages exist after msgs (after a jump)
	loaded   bool
	busy     bool // a load runs
	want     pendingOps
	follow   bool // scroll to the end when our next message appears

	rows    []chatRow
	rowOf   []int         // msgs index -> rows index
	rowByID map[int64]int // message id -> rows index
	layouts map[int64]*bubbleLayout
	width   float32 // the list width the rows are laid out for
	total   float32 // the content height
	pad     float32 // the List's space between rows

	list     *widget.List
	scroller *chatScroller
	jumpBtn  *widget.Button
	status   *widget.Label
	building bool
	flashID  int64
	menu     *fyne.Menu // the message menu shown last (for tests)
	sel      selState   // the text selected in a bubble (selection.go)

	thumbs  *thumbCache    // the pictures' thumbnails (thumbs.go)
	voice   *voiceUI       // voice messages' waveforms and what plays (voice_bubble.go)
	viewer  *pictureViewer // the picture viewer, while open (viewer.go)
	tm      *textMeasurer
	caption float32
	content fyne.CanvasObject
}

func newChatView(c *ChatsView) *chatView {
	v := &chatView{c: c, layouts: map[int64]*bubbleLayout{}, rowByID: map[int64]int{}}
	v.thumbs = newThumbCache(v)
	v.voice = newVoiceUI()
	v.scroller = newChatScroller(v)
	v.jumpBtn = widget.NewButtonWithIcon("", theme.MoveDownIcon(), v.jumpToNewest)
	v.jumpBtn.Importance = widget.HighImportance
	v.jumpBtn.Hide()
	v.status = widget.NewLabel("")
	v.status.Alignment = fyne.TextAlignCenter
	v.status.Importance = widget.LowImportance
	v.status.Wrapping = fyne.TextWrapWord
	v.status.Hide()
	overlay := container.NewVBox(layout.NewSpacer(),
		container.NewHBox(layout.NewSpacer(), container.NewPadded(v.jumpBtn)))
	v.content = container.NewStack(v.scroller, container.NewVBox(v.status), overlay)
	return v
}

func (v *chatView) measurer() *textMeasurer {
	size := theme.TextSize()
	if v.tm == nil || v.tm.size != size {
		v.tm = newTextMeasurer(size)
		v.caption = theme.CaptionTextSize()
		clear(v.layouts)
	}
	return v.tm
}

func (v *chatView) captionSize() float32 {
	v.measurer()
	return v.caption
}

// dayLabel names a day: Today, Yesterday, or the date.
func (v *chatView) dayLabel(day time.Time) string {
	now := v.c.now().In(v.c.loc)
	today := midnight(now)
	switch {
	case day.Equal(today):
		return "Today"
	case day.Equal(today.AddDate(0, 0, -1)):
		return "Yesterday"
	case day.Year() == today.Year():
		return day.Format("Monday, 2 January")
	}
	return day.Format("Monday, 2 January 2006")
}

func midnight(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

// showStatus shows text over the empty list ("" hides it).
func (v *chatView) showStatus(text string) {
	v.status.SetText(text)
	if text == "" {
		v.status.Hide()
	} else {
		v.status.Show()
	}
}

// flash highlights a message for a moment.
func (v *chatView) flash(id int64) {
	v.flashID = id
	gen := v.gen
	time.AfterFunc(flashFor, func() {
		v.c.do(func() {
			if v.c.ctx.Err() != nil || v.gen != gen || v.flashID != id {
				return
			}
			v.flashID = 0
			if r, ok := v.rowByID[id]; ok && v.list != nil {
				v.list.RefreshItem(r)
			}
		})
	})
}

// updateMessageRow lays message i out again and updates its row.
func (v *chatView) updateMessageRow(i int) {
	if i >= len(v.rowOf) || v.list == nil {
		return
	}
	r := v.rowOf[i]
	old := v.rows[r].h
	v.layoutRow(&v.rows[r])
	if h := v.rows[r].h; h != old {
		// A row that grows (a file's box once its size is known) keeps
		// the end of the chat on screen if it was.
		bottom := v.atBottom()
		v.total += h - old
		v.list.SetItemHeight(r, h)
		if bottom && !v.hasNewer {
			v.list.ScrollToBottom()
		}
		return
	}
	v.list.RefreshItem(r)
}

// appendMessages adds messages after the last one.
func (v *chatView) appendMessages(added []store.Message, stick bool) {
	if v.list == nil || len(added) > bulkRows || len(v.msgs)+len(added) > maxWindow+olderPageSize {
		a := v.captureAnchor()
		v.msgs = append(v.msgs, added...)
		if n := len(v.msgs); n > maxWindow && stick {
			v.msgs = append([]store.Message(nil), v.msgs[n-maxWindow:]...)
			v.hasOlder = true
		}
		if stick {
			a = anchor{bottom: true}
		}
		v.rebuild(a)
		return
	}
	start := len(v.msgs)
	firstRow := len(v.rows)
	v.msgs = append(v.msgs, added...)
	for i := start; i < len(v.msgs); i++ {
		v.addRows(i)
	}
	v.building = true
	for r := firstRow; r < len(v.rows); r++ {
		v.layoutRow(&v.rows[r])
		v.total += v.rows[r].h + v.pad
		v.list.SetItemHeight(r, v.rows[r].h)
	}
	v.building = false
	if stick {
		v.list.ScrollToBottom()
	}
	v.scrolled()
}

// addRows appends the rows of message i (a day separator if it starts a
// day, then its bubble).
func (v *chatView) addRows(i int) {
	m := &v.msgs[i]
	day := midnight(m.Time.In(v.c.loc))
	first := true
	if i > 0 {
		p := &v.msgs[i-1]
		pday := midnight(p.Time.In(v.c.loc))
		if !pday.Equal(day) {
			v.rows = append(v.rows, chatRow{kind: rowDay, day: day})
		} else {
			first = p.Direction != m.Direction || m.Time.Sub(p.Time) > groupInterval ||
				(m.Direction == store.In && bareOf(p.Sender) != bareOf(m.Sender))
		}
	} else {
		v.rows = append(v.rows, chatRow{kind: rowDay, day: day})
	}
	v.rowOf = append(v.rowOf, len(v.rows))
	v.rowByID[m.ID] = len(v.rows)
	v.rows = append(v.rows, chatRow{kind: rowMsg, msg: i, first: first})
}

// bareOf is a JID without its resource.
func bareOf(jid string) string {
	for i := 0; i < len(jid); i++ {
		if jid[i] == '/' {
			return jid[:i]
		}
	}
	return jid
}

// layoutRow computes a row's height (and its bubble) for the current width.
func (v *chatView) layoutRow(r *chatRow) {
	switch r.kind {
	case rowDay:
		r.h = dayRowH
	case rowOlder, rowNewer:
		r.h = loaderRowH
	case rowMsg:
		r.lay = v.layoutBubble(&v.msgs[r.msg], v.width)
		r.top = groupGap
		if r.first {
			r.top = newGroupGap
		}
		r.h = r.top + r.lay.h
	}
}

// rebuild makes the rows from msgs and shows them in a new list.
func (v *chatView) rebuild(a anchor) {
	v.showStatus("")
	v.rows = v.rows[:0:0]
	v.rowOf = v.rowOf[:0:0]
	clear(v.rowByID)
	if v.hasOlder {
		v.rows = append(v.rows, chatRow{kind: rowOlder})
	}
	for i := range v.msgs {
		v.addRows(i)
	}
	if v.hasNewer {
		v.rows = append(v.rows, chatRow{kind: rowNewer})
	}
	// Forget the layouts of messages no longer loaded.
	if len(v.layouts) > 2*len(v.msgs)+64 {
		for id := range v.layouts {
			if _, ok := v.rowByID[id]; !ok {
				delete(v.layouts, id)
			}
		}
	}
	if len(v.msgs) == 0 {
		v.showStatus("No messages yet. Say hello!")
	}
	v.newList(a)
	v.preloadThumbs(a)
}

// newList builds a List over the rows with all heights set (cheap while it
// is not shown yet), swaps it in and scrolls it to the anchor.
func (v *chatView) newList(a anchor) {
	if v.width <= 0 {
		// Not laid out yet: the scroller builds the list when it gets a size.
		v.scroller.pending = &a
		return
	}
	v.scroller.pending = nil
	v.building = true
	defer func() { v.building = false; v.scrolled() }()
	l := widget.NewList(func() int { return len(v.rows) },
		func() fyne.CanvasObject { return newChatRowView(v) },
		func(id widget.ListItemID, o fyne.CanvasObject) { v.updateRow(id, o) })
	l.HideSeparators = true
	v.pad = theme.Padding()
	v.total = 0
	for i := range v.rows {
		v.layoutRow(&v.rows[i])
		l.SetItemHeight(i, v.rows[i].h)
		v.total += v.rows[i].h
	}
	if n := len(v.rows); n > 1 {
		v.total += v.pad * float32(n-1)
	}
	v.list = l
	v.scroller.setList(l)
	v.applyAnchor(a)
}

// rowTop is the offset of row i in the list.
func (v *chatView) rowTop(i int) float32 {
	var y float32
	for j := 0; j < i && j < len(v.rows); j++ {
		y += v.rows[j].h + v.pad
	}
	return y
}

func (v *chatView) applyAnchor(a anchor) {
	l := v.list
	if l == nil {
		return
	}
	viewH := l.Size().Height
	r, ok := v.rowByID[a.msgID]
	switch {
	case a.bottom || (a.msgID != 0 && !ok):
		l.ScrollToBottom()
	case a.center:
		l.ScrollToOffset(max(v.rowTop(r)-(viewH-v.rows[r].h)/2, 0))
	default:
		l.ScrollToOffset(max(v.rowTop(r)-a.delta, 0))
	}
}

// captureAnchor remembers what the view shows: the bottom, or the first
// message row on screen and where it is.
func (v *chatView) captureAnchor() anchor {
	if v.list == nil || len(v.rows) == 0 || (!v.hasNewer && v.atBottom()) {
		return anchor{bottom: true}
	}
	off := v.list.GetScrollOffset()
	var y float32
	for i := range v.rows {
		r := &v.rows[i]
		if r.kind == rowMsg && y+r.h > off {
			return anchor{msgID: v.msgs[r.msg].ID, delta: y - off}
		}
		y += r.h + v.pad
	}
	return anchor{bottom: true}
}

// atBottom reports whether the end of the list is on screen.
func (v *chatView) atBottom() bool {
	if v.list == nil {
		return true
	}
	viewH := v.list.Size().Height
	return v.total <= viewH || v.list.GetScrollOffset()+viewH >= v.total-bottomSlack
}

func (v *chatView) updateRow(id int, o fyne.CanvasObject) {
	o.(*chatRowView).set(id)
	v.scrolled()
}

// scrolled follows the scroll position: loads pages whose loader row is in
// view, shows "jump to newest" when the end is not, marks the chat read
// when it is.
func (v *chatView) scrolled() {
	if v.list == nil || v.building || len(v.rows) == 0 {
		return
	}
	off := v.list.GetScrollOffset()
	viewH := v.list.Size().Height
	if v.hasOlder && off < v.rows[0].h+v.pad {
		v.want.older = true
		v.kick()
	}
	if v.hasNewer && off+viewH > v.total-v.rows[len(v.rows)-1].h-v.pad {
		v.want.newer = true
		v.kick()
	}
	bottom := v.atBottom() && !v.hasNewer
	if bottom {
		v.jumpBtn.Hide()
		v.c.maybeMarkRead()
	} else {
		v.jumpBtn.Show()
	}
}

// jumpToNewest scrolls to the end, loading the newest page if needed.
func (v *chatView) jumpToNewest() {
	if v.peer == "" {
		return
	}
	if v.hasNewer {
		v.load(v.peer, nil)
		return
	}
	if v.list != nil {
		v.list.ScrollToBottom()
	}
	v.scrolled()
	v.c.win.Canvas().Focus(v.c.composer)
}

// followOwn makes the list scroll to our next message when it appears.
func (v *chatView) followOwn() {
	if v.hasNewer {
		v.load(v.peer, nil)
	}
	v.follow = true
}

// lastOwn is the newest own message loaded that can still be corrected.
func (v *chatView) lastOwn() (store.Message, bool) {
	if v.hasNewer {
		return store.Message{}, false
	}
	for i := len(v.msgs) - 1; i >= 0; i-- {
		if m := v.msgs[i]; m.Direction == store.Out {
			return m, !m.Retracted
		}
	}
	return store.Message{}, false
}

// lastIncoming is the newest incoming message loaded.
func (v *chatView) lastIncoming() (store.Message, bool) {
	for i := len(v.msgs) - 1; i >= 0; i-- {
		if v.msgs[i].Direction == store.In {
			return v.msgs[i], true
		}
	}
	return store.Message{}, false
}
