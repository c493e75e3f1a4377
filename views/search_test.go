// Headless test of the search pane's paging: a search with more matches
// than a page shows the first page with an "N+" count, scrolling to the end
// of the results (or tapping the row after them) fetches the next page,
// and the pages together are every match once, newest first.
package views

import (
	"slices"
	"strconv"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"parley/app/store"
)

// moreRow is the results list's row after the last match, if on screen.
func (s *searchPane) moreRow() (*resultRowView, bool) {
	var row *resultRowView
	eachVisible(s.list, func(o fyne.CanvasObject) {
		if rv, ok := o.(*resultRowView); ok && rv.id == len(s.results) && rv.more.Visible() {
			row = rv
		}
	})
	return row, row != nil
}

func TestSearchPages(t *testing.T) {
	const n = 300
	var with []int // 2.5 pages of matches
	for i := range searchPage*5/2 + 1 {
		with = append(with, n-1-2*i)
	}
	total := len(with)
	svc := seedService(t, meJID, longChat(n, "zebracorn", with...))
	h := openChats(t, svc, fyne.NewSize(820, 600), true)
	h.wait("the conversations", func() bool { return len(h.v.list.convs) == 1 })
	s := h.v.search
	h.ui.do(func() { test.Type(s.entry, "zebra") })
	h.wait("the first page", func() bool { return len(s.results) == searchPage && s.query == "zebra" })
	h.ui.do(func() {
		if got, want := s.status.Text, strconv.Itoa(searchPage)+"+ matches, newest first:"; got != want {
			t.Errorf("status %q, want %q", got, want)
		}
		if got := s.list.Length(); got != searchPage+1 {
			t.Errorf("%d rows for a page with more to come, want %d", got, searchPage+1)
		}
		// Scrolling to the end brings the row after the results into view,
		// and that fetches the next page.
		s.list.ScrollToBottom()
		row, ok := s.moreRow()
		if !ok {
			t.Fatal("no row for more results at the end of the list")
		}
		if !s.loading || row.more.Text != "Loading more results…" {
			t.Errorf("at the end of the results: loading %v, row %q", s.loading, row.more.Text)
		}
	})
	h.wait("the second page", func() bool { return len(s.results) == 2*searchPage && !s.loading })
	h.ui.do(func() {
		if got, want := s.status.Text, strconv.Itoa(2*searchPage)+"+ matches, newest first:"; got != want {
			t.Errorf("status %q, want %q", got, want)
		}
		// The row after the results, tapped (or chosen with the keyboard).
		if _, ok := s.moreRow(); ok {
			t.Error("the row for more results is on screen before scrolling to it")
		}
		s.open(len(s.results))
		if !s.loading {
			t.Error("tapping the row for more results fetches nothing")
		}
	})
	h.wait("the last page", func() bool { return len(s.results) == total && !s.loading })
	h.ui.do(func() {
		if s.more || s.list.Length() != total {
			t.Errorf("after the last page: more %v, %d rows for %d matches", s.more, s.list.Length(), total)
		}
		if got, want := s.status.Text, strconv.Itoa(total)+" matches:"; got != want {
			t.Errorf("status %q, want %q", got, want)
		}
	})
	// Every match once, newest first: what one big page has.
	all, err := svc.Chats().Search(ctxFor(t), store.Query{Text: "zebra", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	h.ui.do(func() {
		id := func(r store.SearchResult) int64 { return r.ID }
		if got, want := idsOf(s.results, id), idsOf(all, id); !slices.Equal(got, want) {
			t.Errorf("paged results %v, want %v", got, want)
		}
		// A new search starts from its first page again.
		test.Type(s.entry, "corn")
	})
	// (Not a second one: the list was scrolled to its end, but a new
	// search shows its results from the top.)
	h.wait("a new first page", func() bool {
		return s.query == "zebracorn" && len(s.results) == searchPage && s.more && !s.loading
	})
}

func idsOf[T any](xs []T, id func(T) int64) []int64 {
	out := make([]int64, len(xs))
	for i, x := range xs {
		out[i] = id(x)
	}
	return out
}
