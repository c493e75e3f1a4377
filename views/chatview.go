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
	"context"
	"net/url"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/app"
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

// pendingOps are loads asked for while another one runs.
type pendingOps struct{ refresh, older, newer bool }

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

	tm      *textMeasurer
	caption float32
	content fyne.CanvasObject
}

func newChatView(c *ChatsView) *chatView {
	v := &chatView{c: c, layouts: map[int64]*bubbleLayout{}, rowByID: map[int64]int{}}
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

// open shows the newest messages of peer.
func (v *chatView) open(peer string) { v.load(peer, nil) }

// openAt shows the messages around a search result, which is highlighted.
func (v *chatView) openAt(peer string, r store.SearchResult) { v.load(peer, &r) }

func (v *chatView) load(peer string, target *store.SearchResult) {
	if v.peer != peer {
		clear(v.layouts)
		v.dropSelection()
	}
	v.gen++
	gen := v.gen
	v.peer = peer
	v.msgs, v.rows, v.rowOf = nil, nil, nil
	clear(v.rowByID)
	v.hasOlder, v.hasNewer, v.loaded, v.follow = false, false, false, false
	v.busy, v.want = true, pendingOps{}
	v.flashID = 0
	v.scroller.setList(nil)
	v.list = nil
	v.jumpBtn.Hide()
	v.showStatus("Loading…")
	svc, ctx := v.c.svc, v.c.ctx
	go func() {
		var msgs []store.Message
		var older, newer bool
		var err error
		if target == nil {
			msgs, err = svc.Latest(ctx, peer, firstPageSize)
			older = len(msgs) == firstPageSize
		} else {
			// Before the position just after the result: the result and
			// what precedes it; then what follows.
			var before, after []store.Message
			before, err = svc.Before(ctx, peer, store.Cursor{Time: target.Time.UnixMilli(), ID: target.ID + 1}, jumpHalf)
			if err == nil {
				after, err = svc.After(ctx, peer, target.Cursor(), jumpHalf)
			}
			msgs = append(before, after...)
			older, newer = len(before) == jumpHalf, len(after) == jumpHalf
		}
		v.c.do(func() {
			if gen != v.gen {
				return
			}
			v.busy, v.loaded = false, true
			if err != nil {
				v.showStatus("Could not read the history: " + app.UserMessage(err))
				return
			}
			v.msgs, v.hasOlder, v.hasNewer = msgs, older, newer
			a := anchor{bottom: true}
			if target != nil {
				a = anchor{msgID: target.ID, center: true}
				v.flash(target.ID)
			}
			v.rebuild(a)
			v.kick()
		})
	}()
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

// changed: the conversation changed in the history (new messages, states,
// corrections); the loaded window is read again.
func (v *chatView) changed() {
	if v.peer == "" {
		return
	}
	v.want.refresh = true
	v.kick()
}

// kick starts the next load asked for, unless one runs.
func (v *chatView) kick() {
	for !v.busy && v.peer != "" && v.loaded {
		switch {
		case v.want.refresh:
			v.want.refresh = false
			v.startRefresh()
		case v.want.older:
			v.want.older = false
			if v.hasOlder && len(v.msgs) > 0 {
				v.startOlder()
			}
		case v.want.newer:
			v.want.newer = false
			if v.hasNewer && len(v.msgs) > 0 {
				v.startNewer()
			}
		default:
			return
		}
	}
}

// run loads on a goroutine and applies the result on the UI goroutine,
// unless another chat was opened meanwhile.
func (v *chatView) run(load func(ctx context.Context) ([]store.Message, error), apply func([]store.Message)) {
	v.busy = true
	gen := v.gen
	ctx := v.c.ctx
	go func() {
		msgs, err := load(ctx)
		v.c.do(func() {
			if gen != v.gen {
				return
			}
			v.busy = false
			if err == nil {
				apply(msgs)
			}
			v.kick()
		})
	}()
}

func (v *chatView) startRefresh() {
	svc, peer := v.c.svc, v.peer
	if len(v.msgs) == 0 {
		v.run(func(ctx context.Context) ([]store.Message, error) { return svc.Latest(ctx, peer, firstPageSize) },
			func(msgs []store.Message) {
				if len(msgs) > 0 {
					v.msgs, v.hasOlder = msgs, len(msgs) == firstPageSize
					v.rebuild(anchor{bottom: true})
				}
			})
		return
	}
	// From the first loaded message on (the cursor just before it).
	from := store.Cursor{Time: v.msgs[0].Time.UnixMilli(), ID: v.msgs[0].ID - 1}
	limit := len(v.msgs)
	if !v.hasNewer {
		limit += refreshExtra
	}
	v.run(func(ctx context.Context) ([]store.Message, error) { return svc.After(ctx, peer, from, limit) },
		func(msgs []store.Message) { v.merge(msgs, limit) })
}

func (v *chatView) startOlder() {
	svc, peer, cur := v.c.svc, v.peer, v.msgs[0].Cursor()
	v.run(func(ctx context.Context) ([]store.Message, error) { return svc.Before(ctx, peer, cur, olderPageSize) },
		func(page []store.Message) {
			a := v.captureAnchor()
			v.hasOlder = len(page) == olderPageSize
			v.msgs = append(page, v.msgs...)
			if len(v.msgs) > maxWindow {
				v.msgs = v.msgs[:maxWindow:maxWindow]
				v.hasNewer = true
			}
			v.rebuild(a)
		})
}

func (v *chatView) startNewer() {
	svc, peer, cur := v.c.svc, v.peer, v.msgs[len(v.msgs)-1].Cursor()
	v.run(func(ctx context.Context) ([]store.Message, error) { return svc.After(ctx, peer, cur, newerPageSize) },
		func(page []store.Message) {
			a := v.captureAnchor()
			v.hasNewer = len(page) == newerPageSize
			v.msgs = append(v.msgs, page...)
			if n := len(v.msgs); n > maxWindow {
				v.msgs = append([]store.Message(nil), v.msgs[n-maxWindow:]...)
				v.hasOlder = true
			}
			v.rebuild(a)
		})
}

// messageChanged reports whether b shows differently from a.
func messageChanged(a, b *store.Message) bool {
	return a.Body != b.Body || a.State != b.State || a.Edited != b.Edited || a.Retracted != b.Retracted ||
		a.Error != b.Error || !a.Time.Equal(b.Time)
}

// merge takes the window read again (from the first loaded message, at
// most limit messages): changed messages are updated in place, new ones
// appended; anything else (messages stored in between, deleted) rebuilds.
func (v *chatView) merge(fresh []store.Message, limit int) {
	old := v.msgs
	overflow := !v.hasNewer && len(fresh) >= limit
	stick := v.atBottom()
	if v.follow {
		for i := len(old); i < len(fresh); i++ {
			if fresh[i].Direction == store.Out {
				stick, v.follow = true, false
			}
		}
	}
	same := len(fresh) >= len(old)
	for i := 0; same && i < len(old); i++ {
		same = old[i].ID == fresh[i].ID
	}
	if !same || overflow {
		if overflow && stick {
			v.load(v.peer, nil) // too much is new: show the newest
			return
		}
		a := v.captureAnchor()
		v.msgs = fresh
		if overflow {
			v.hasNewer = true
		}
		v.rebuild(a)
		return
	}
	for i := range old {
		if messageChanged(&old[i], &fresh[i]) {
			v.msgs[i] = fresh[i]
			v.updateMessageRow(i)
		}
	}
	if len(fresh) > len(old) {
		v.appendMessages(fresh[len(old):], stick)
	}
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
		v.total += h - old
		v.list.SetItemHeight(r, h)
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

// openLink opens an http or https link in the browser.
func (v *chatView) openLink(link string) {
	u, err := url.Parse(link)
	if err != nil || !validLink(link) {
		return
	}
	if err := fyne.CurrentApp().OpenURL(u); err != nil {
		v.c.setStatus("Could not open "+link+": "+err.Error(), widget.DangerImportance)
	}
}

// retry sends a failed message again.
func (v *chatView) retry(m store.Message) {
	svc, ctx := v.c.svc, v.c.ctx
	go func() {
		if err := svc.Retry(ctx, m); err != nil {
			v.c.do(func() {
				v.c.setStatus("Could not send the message again: "+app.UserMessage(err), widget.DangerImportance)
			})
		}
	}()
}

// showMenu opens the menu of a message at an absolute position.
func (v *chatView) showMenu(m store.Message, at fyne.Position) {
	items := []*fyne.MenuItem{
		{Label: "Copy", Icon: theme.ContentCopyIcon(), Action: func() { v.copyMessage(m) }},
		{Label: "Select text…", Icon: theme.VisibilityIcon(), Action: func() { v.showText(m) }},
	}
	if m.Direction == store.Out && !m.Retracted {
		if last, ok := v.lastOwn(); ok && last.ID == m.ID {
			items = append(items, &fyne.MenuItem{Label: "Edit", Icon: theme.DocumentCreateIcon(), Action: func() { v.c.startEdit(m) }})
		}
		items = append(items, &fyne.MenuItem{Label: "Retract…", Icon: theme.DeleteIcon(), Action: func() { v.confirmRetract(m) }})
	}
	if m.Direction == store.Out && m.State == store.StateFailed {
		items = append(items, &fyne.MenuItem{Label: "Why not sent…", Icon: theme.WarningIcon(), Action: func() { showFailure(v, m) }},
			&fyne.MenuItem{Label: "Retry", Icon: theme.ViewRefreshIcon(), Action: func() { v.retry(m) }})
	}
	v.menu = fyne.NewMenu("", items...)
	widget.ShowPopUpMenuAtPosition(v.menu, v.c.win.Canvas(), at)
}

// showText shows a message's text in a box where any part can be selected
// and copied.
func (v *chatView) showText(m store.Message) {
	if utf8.RuneCountInString(m.Body) > bubbleMaxRunes {
		showWholeText(v, m) // an entry with the whole of a huge body would stall the window
		return
	}
	e := widget.NewMultiLineEntry()
	e.Wrapping = fyne.TextWrapWord
	text := plainText(m)
	e.SetText(text)
	e.OnChanged = func(s string) { // a copy to select from, not to edit
		if s != text {
			e.SetText(text)
		}
	}
	d := dialog.NewCustom("Message from "+m.Time.In(v.c.loc).Format("2 Jan 2006 15:04"), "Close", e, v.c.win)
	d.Resize(fyne.NewSize(480, 320))
	d.Show()
	v.c.win.Canvas().Focus(e)
}

// confirmRetract asks before retracting one of our messages.
func (v *chatView) confirmRetract(m store.Message) {
	peer := v.peer
	dialog.ShowConfirm("Retract message", "Retract this message? It is removed for you and, if their client supports it, for "+peer+".",
		func(ok bool) {
			if !ok {
				return
			}
			svc, ctx := v.c.svc, v.c.ctx
			go func() {
				if err := svc.Retract(ctx, peer, m); err != nil {
					v.c.do(func() { v.c.setStatus("Could not retract the message: "+app.UserMessage(err), widget.DangerImportance) })
				}
			}()
		}, v.c.win)
}

// chatScroller holds the current List and tells the chat view its width:
// a new width lays every row out again in a new list.
type chatScroller struct {
	widget.BaseWidget
	v       *chatView
	list    *widget.List
	objs    []fyne.CanvasObject
	pending *anchor // a list to build once there is a width
}

func newChatScroller(v *chatView) *chatScroller {
	s := &chatScroller{v: v}
	s.ExtendBaseWidget(s)
	return s
}

func (s *chatScroller) setList(l *widget.List) {
	s.list = l
	if l == nil {
		s.objs = nil
	} else {
		s.objs = []fyne.CanvasObject{l}
		l.Resize(s.Size())
	}
	canvas.Refresh(s)
}

// resized runs on every layout of the scroller.
func (s *chatScroller) resized(size fyne.Size) {
	v := s.v
	if size.Width > 0 && size.Width != v.width {
		old := v.width
		v.width = size.Width
		if s.pending != nil {
			a := *s.pending
			v.newList(a)
			return
		}
		if s.list != nil && bubbleMaxW(old) != bubbleMaxW(size.Width) {
			a := v.captureAnchor()
			s.list.Resize(size)
			v.newList(a)
			return
		}
	}
	if s.list != nil {
		bottom := v.atBottom()
		s.list.Resize(size)
		if bottom && !v.hasNewer {
			s.list.ScrollToBottom()
		}
		v.scrolled()
	}
}

// CreateRenderer implements fyne.Widget.
func (s *chatScroller) CreateRenderer() fyne.WidgetRenderer { return &chatScrollerRenderer{s: s} }

type chatScrollerRenderer struct{ s *chatScroller }

func (r *chatScrollerRenderer) Layout(size fyne.Size)        { r.s.resized(size) }
func (r *chatScrollerRenderer) MinSize() fyne.Size           { return fyne.NewSize(120, 120) }
func (r *chatScrollerRenderer) Objects() []fyne.CanvasObject { return r.s.objs }
func (r *chatScrollerRenderer) Destroy()                     {}
func (r *chatScrollerRenderer) Refresh() {
	for _, o := range r.s.objs {
		o.Refresh()
	}
}
