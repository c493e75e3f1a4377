// Message search: the box above the conversation list searches the whole
// history (or only the open chat) as the user types, off the UI goroutine
// and debounced, and lists the matches newest first with the matched words
// highlighted in a snippet. Tapping a match opens its chat at that message
// (the page around it is loaded and the message highlighted).
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
	searchLimit = 100
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
	query   string // what the results are for

	timer  *time.Timer
	gen    int
	cancel context.CancelFunc
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
	s.list = widget.NewList(
		func() int { return len(s.results) },
		func() fyne.CanvasObject { return newResultRowView(s) },
		func(id widget.ListItemID, o fyne.CanvasObject) { o.(*resultRowView).update(id) },
	)
	s.list.HideSeparators = true
	s.list.OnSelected = func(id widget.ListItemID) {
		s.list.UnselectAll()
		s.open(id)
	}
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
	s.status.SetText("Searching…")
	peer := ""
	if s.scope.Checked {
		peer = s.c.chat.peer
	}
	gen := s.gen
	ctx, cancel := context.WithCancel(s.c.ctx)
	s.cancel = cancel
	go func() {
		res, err := s.c.svc.Search(ctx, text, peer, searchLimit)
		s.c.do(func() {
			if gen != s.gen || s.c.ctx.Err() != nil {
				return
			}
			s.cancel = nil
			cancel()
			switch {
			case err != nil:
				s.status.SetText("Search failed: " + app.UserMessage(err))
				res = nil
			case len(res) == 0:
				s.status.SetText("No messages match “" + text + "”.")
			case len(res) == searchLimit:
				s.status.SetText("The newest " + strconv.Itoa(searchLimit) + " matches:")
			default:
				s.status.SetText(plural(len(res), "match", "matches") + ":")
			}
			s.results, s.query = res, text
			s.list.Refresh()
			s.list.ScrollToTop()
		})
	}()
}

// open jumps to result id.
func (s *searchPane) open(id int) {
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

// resultRowView is the recycled row of the results list.
type resultRowView struct {
	widget.BaseWidget
	s       *searchPane
	id      int
	avatar  *avatarView
	name    *widget.Label
	when    *widget.Label
	snippet *widget.RichText
	top     *fyne.Container
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
	r.ExtendBaseWidget(r)
	return r
}

func (r *resultRowView) update(id int) {
	r.id = id
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
	lines := container.NewVBox(r.top, r.snippet)
	return widget.NewSimpleRenderer(container.NewBorder(nil, nil, container.NewCenter(r.avatar), nil, lines))
}
