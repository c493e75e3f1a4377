// Message search: the box above the conversation list searches the whole
// history (or only the open chat) as the user types, off the UI goroutine
// and debounced, and lists the matches newest first with the matched words
// highlighted in a snippet. The matches come a page at a time: the next
// page is fetched when the list is scrolled to its end (or its "Show more
// results" row is tapped), continuing after the last match shown.
// Tapping a match opens its chat at that message (the page around it is
// loaded and the message highlighted).
package views

import (
	"context"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/app"
	"parley/app/store"
)

const (
	searchDelay = 150 * time.Millisecond // typing pause before searching
	searchPage  = 50                     // matches fetched at a time
)

// searchPane is the search box and its results.
type searchPane struct {
	c       *ChatsView
	entry   *widget.Entry
	scope   *widget.Check // only the open chat
	list    *widget.List
	status  *widget.Label
	box     *fyne.Container
	results []store.SearchResult
	query   string      // what the results are for
	shown   store.Query // the search the results are pages of
	// more: there are matches after the results; the list ends with a
	// row that loads them. loading: that page is being fetched.
	// moreFailed: fetching it failed; only a tap on the row retries.
	more, loading, moreFailed bool

	timer *time.Timer
	// gen counts searches started; an answer for an older one is dropped.
	gen    int
	cancel context.CancelFunc // the fetch in flight
}

func newSearchPane(c *ChatsView) *searchPane {
	s := &searchPane{c: c}
	s.entry = widget.NewEntry()
	s.entry.SetPlaceHolder("Search messages")
	clearBtn := widget.NewButtonWithIcon("", theme.CancelIcon(), func() { s.entry.SetText("") })
	clearBtn.Importance = widget.LowImportance
	clearBtn.Hide()
	s.entry.ActionItem = clearBtn
	s.entry.OnChanged = func(text string) {
		if text == "" {
			clearBtn.Hide()
		} else {
			clearBtn.Show()
		}
		s.schedule()
	}
	s.entry.OnSubmitted = func(string) { s.run() }
	s.scope = widget.NewCheck("Only this chat", func(bool) { s.schedule() })
	s.scope.Hide()
	s.list = newTapList(
		func() int {
			if s.more {
				return len(s.results) + 1 // the "Show more results" row
			}
			return len(s.results)
		},
		func() fyne.CanvasObject { return newResultRowView(s) },
		func(id widget.ListItemID, o fyne.CanvasObject) { o.(*resultRowView).update(id) },
		s.open,
	)
	s.status = widget.NewLabel("")
	s.status.Importance = widget.LowImportance
	s.status.Wrapping = fyne.TextWrapWord
	s.box = container.NewBorder(s.status, nil, nil, nil, s.list)
	s.box.Hide()
	return s
}

func (s *searchPane) content() fyne.CanvasObject { return s.box }

// active reports whether results (not the conversations) are shown.
func (s *searchPane) active() bool { return s.box.Visible() }

// schedule searches after a pause in typing.
func (s *searchPane) schedule() {
	if s.timer != nil {
		s.timer.Stop()
	}
	if strings.TrimSpace(s.entry.Text) == "" {
		s.run()
		return
	}
	gen := s.gen
	s.timer = time.AfterFunc(searchDelay, func() {
		s.c.do(func() {
			if s.c.ctx.Err() == nil && s.gen == gen {
				s.run()
			}
		})
	})
}

// run searches for the entry's text now.
func (s *searchPane) run() {
	s.gen++
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
	// The shown results stay until the new ones come, but cannot grow.
	s.more, s.loading, s.moreFailed = false, false, false
	text := strings.TrimSpace(s.entry.Text)
	if text == "" {
		s.results, s.query = nil, ""
		s.box.Hide()
		s.scope.Hide()
		s.c.list.box.Show()
		return
	}
	s.c.list.box.Hide()
	s.scope.Show()
	s.box.Show()
	s.list.Refresh()
	s.status.SetText("Searching…")
	q := store.Query{Text: text}
	if s.scope.Checked {
		q.Conversation = s.c.chat.peer
	}
	s.fetch(q)
}

// loadMore fetches the page after the last result shown.
func (s *searchPane) loadMore() {
	if !s.more || s.loading || len(s.results) == 0 {
		return
	}
	s.loading, s.moreFailed = true, false
	q := s.shown
	q.Before = s.results[len(s.results)-1].Cursor()
	s.fetch(q)
}

// fetch runs q (a first page, or the next one when q.Before is set) on
// its own goroutine and shows what it found, unless another search has
// started since.
func (s *searchPane) fetch(q store.Query) {
	gen := s.gen
	ctx, cancel := context.WithCancel(s.c.ctx)
	s.cancel = cancel
	// One more than a page: whether a next page exists is known without
	// asking for it.
	q.Limit = searchPage + 1
	inBackground(s.c.do, func() ([]store.SearchResult, error) {
		defer cancel()
		return s.c.svc.Search(ctx, q)
	}, func(res []store.SearchResult, err error) {
		if gen != s.gen {
			return
		}
		s.cancel = nil
		s.showPage(q, res, err)
	})
}

// showPage shows a page fetched for q: the first one replaces the results,
// a next one is appended to them.
func (s *searchPane) showPage(q store.Query, res []store.SearchResult, err error) {
	next := q.Before != (store.Cursor{})
	s.loading = false
	if err != nil {
		if next {
			s.moreFailed = true
			s.status.SetText("Could not load more matches: " + app.UserMessage(err))
			s.list.RefreshItem(len(s.results))
			return
		}
		s.status.SetText("Search failed: " + app.UserMessage(err))
		s.results, s.query, s.more = nil, q.Text, false
		s.list.Refresh()
		return
	}
	s.more = len(res) > searchPage
	if s.more {
		res = res[:searchPage]
	}
	if next {
		s.results = append(s.results, res...)
	} else {
		s.results, s.query, s.shown = res, q.Text, q
	}
	switch {
	case len(s.results) == 0:
		s.status.SetText("No messages match “" + q.Text + "”.")
	case s.more:
		s.status.SetText(strconv.Itoa(len(s.results)) + "+ matches, newest first:")
	default:
		s.status.SetText(plural(len(s.results), "match", "matches") + ":")
	}
	if !next {
		// To the top first: refreshed at the old offset, the row after
		// the results could come into view and fetch a page unasked.
		s.list.ScrollToTop()
	}
	s.list.Refresh()
}

// open jumps to result id; the row after the results loads the next page.
func (s *searchPane) open(id int) {
	if id == len(s.results) && s.more {
		s.loadMore()
		s.list.RefreshItem(id)
		return
	}
	if id < 0 || id >= len(s.results) {
		return
	}
	r := s.results[id]
	s.c.show(r.Conversation, nil, &r)
}

// plural is "1 match" or "3 matches".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// snippetSegments turns a snippet with highlight markers into rich text.
func snippetSegments(snippet string) []widget.RichTextSegment {
	snippet = strings.Join(strings.Fields(snippet), " ")
	normal := widget.RichTextStyle{Inline: true, ColorName: theme.ColorNameForeground, SizeName: theme.SizeNameCaptionText}
	marked := widget.RichTextStyle{Inline: true, ColorName: theme.ColorNamePrimary, SizeName: theme.SizeNameCaptionText,
		TextStyle: fyne.TextStyle{Bold: true}}
	var segs []widget.RichTextSegment
	add := func(text string, st widget.RichTextStyle) {
		if text != "" {
			segs = append(segs, &widget.TextSegment{Text: text, Style: st})
		}
	}
	for snippet != "" {
		i := strings.Index(snippet, store.HighlightStart)
		if i < 0 {
			add(snippet, normal)
			break
		}
		add(snippet[:i], normal)
		snippet = snippet[i+len(store.HighlightStart):]
		j := strings.Index(snippet, store.HighlightEnd)
		if j < 0 {
			add(snippet, marked)
			break
		}
		add(snippet[:j], marked)
		snippet = snippet[j+len(store.HighlightEnd):]
	}
	return segs
}

// resultRowView is the recycled row of the results list: a match, or
// after the last one the row that loads the next page.
type resultRowView struct {
	widget.BaseWidget
	s       *searchPane
	id      int
	avatar  *avatarView
	name    *widget.Label
	when    *widget.Label
	snippet *widget.RichText
	top     *fyne.Container
	match   *fyne.Container // avatar, name, time and snippet
	more    *widget.Label   // "Show more results", "Loading…"
}

func newResultRowView(s *searchPane) *resultRowView {
	r := &resultRowView{s: s, id: -1}
	r.avatar = newAvatarView(28, false)
	r.name = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	r.name.Truncation = fyne.TextTruncateEllipsis
	r.when = widget.NewLabel("")
	r.when.SizeName = theme.SizeNameCaptionText
	r.when.Importance = widget.LowImportance
	r.snippet = widget.NewRichText()
	r.snippet.Truncation = fyne.TextTruncateEllipsis
	r.top = container.NewBorder(nil, nil, nil, r.when, r.name)
	r.match = container.NewBorder(nil, nil, container.NewCenter(r.avatar), nil, container.NewVBox(r.top, r.snippet))
	r.more = widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{})
	r.more.Importance = widget.LowImportance
	r.more.Hide()
	r.ExtendBaseWidget(r)
	return r
}

func (r *resultRowView) update(id int) {
	r.id = id
	if id == len(r.s.results) {
		// The row after the results came into view: the user scrolled
		// to the end, so fetch the next page (after a failure, only a
		// tap retries).
		if !r.s.moreFailed {
			r.s.loadMore()
		}
		text := "Show more results"
		if r.s.loading {
			text = "Loading more results…"
		}
		setText(r.more, text)
		r.match.Hide()
		r.more.Show()
		return
	}
	r.more.Hide()
	r.match.Show()
	if id < 0 || id >= len(r.s.results) {
		return
	}
	c := r.s.c
	res := &r.s.results[id]
	ct := c.contactFor(res.Conversation)
	r.avatar.set(ct, c.avatars.get(ct.AvatarHash))
	name := ct.Name
	if res.Direction == store.Out {
		name = "You → " + name
	}
	setText(r.name, name)
	setText(r.when, c.shortTime(res.Time))
	r.snippet.Segments = snippetSegments(res.Snippet)
	r.snippet.Refresh()
	r.top.Refresh()
}

// Tapped jumps to the message.
func (r *resultRowView) Tapped(*fyne.PointEvent) { r.s.open(r.id) }

// CreateRenderer implements fyne.Widget.
func (r *resultRowView) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewStack(r.match, r.more))
}
