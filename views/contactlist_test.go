// Tests of the contacts list on its own, fed with snapshot contacts: how
// rows are built (grouping, a contact in two groups, "Contacts" for no
// group, collapse, filter by name or JID, hiding offline contacts, header
// counts), what a row shows, tapping a header to collapse it, and a
// 5,000-contact list scrolled from top to bottom with every visible row
// checked and the row widgets recycled.
package views

import (
	"fmt"
	"image/color"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"

	"parley/app"
)

func contact(jid, name string, show app.Show, groups ...string) app.Contact {
	return app.Contact{
		JID: jid, Name: name, Groups: groups, Show: show, Subscription: "both",
		Initials: strings.ToUpper(name[:1]), Color: color.RGBA{R: 0x30, G: 0x60, B: 0xc0, A: 0xff},
	}
}

// sampleContacts are sorted by name, as snapshots are.
func sampleContacts() []app.Contact {
	return []app.Contact{
		contact("alice@example.org", "Alice", app.ShowOnline, "Friends", "Work"),
		contact("bob@example.org", "Bob", app.ShowOffline),
		contact("carol@example.org", "Carol", app.ShowAway, "Work"),
		contact("dave@example.org", "Dave", app.ShowOffline, "Friends"),
		contact("eve@corp.example", "Evelyn", app.ShowDND),
	}
}

// describeRows writes rows as "# Group online/total" and contact names
// ("+" marks a collapsed group).
func describeRows(contacts []app.Contact, rows []listRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		if r.header {
			mark := "#"
			if r.collapsed {
				mark = "+"
			}
			out[i] = fmt.Sprintf("%s %s %d/%d", mark, r.group, r.online, r.total)
			continue
		}
		out[i] = contacts[r.contact].Name
	}
	return out
}

func TestBuildRows(t *testing.T) {
	contacts := sampleContacts()
	for _, tc := range []struct {
		name string
		opts listOptions
		want []string
	}{
		{
			name: "all contacts, grouped; two groups list a contact twice; no group is Contacts",
			opts: listOptions{showOffline: true},
			want: []string{"# Contacts 1/2", "Bob", "Evelyn", "# Friends 1/2", "Alice", "Dave", "# Work 2/2", "Alice", "Carol"},
		},
		{
			name: "offline hidden, counts still say online/total",
			opts: listOptions{},
			want: []string{"# Contacts 1/2", "Evelyn", "# Friends 1/2", "Alice", "# Work 2/2", "Alice", "Carol"},
		},
		{
			name: "collapsed group shows its header only",
			opts: listOptions{showOffline: true, collapsed: map[string]bool{"Friends": true}},
			want: []string{"# Contacts 1/2", "Bob", "Evelyn", "+ Friends 1/2", "# Work 2/2", "Alice", "Carol"},
		},
		{
			name: "filter matches the name",
			opts: listOptions{showOffline: true, filter: "ali"},
			want: []string{"# Friends 1/1", "Alice", "# Work 1/1", "Alice"},
		},
		{
			name: "filter matches the JID",
			opts: listOptions{showOffline: true, filter: "corp.example"},
			want: []string{"# Contacts 1/1", "Evelyn"},
		},
		{
			name: "a group with only offline matches disappears when offline is hidden",
			opts: listOptions{filter: "dave"},
			want: []string{},
		},
		{
			name: "nothing matches",
			opts: listOptions{showOffline: true, filter: "zed"},
			want: []string{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := describeRows(contacts, buildRows(contacts, tc.opts))
			if !slices.Equal(got, tc.want) {
				t.Errorf("rows\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestMovedGroups(t *testing.T) {
	for _, tc := range []struct {
		groups   []string
		from, to string
		want     []string
	}{
		{nil, defaultGroup, "Work", []string{"Work"}},
		{[]string{"Friends", "Work"}, "Friends", "Family", []string{"Work", "Family"}},
		{[]string{"Friends", "Work"}, "Friends", "Work", []string{"Work"}},
		{[]string{"Friends"}, "Friends", defaultGroup, []string{}},
		{[]string{"Friends"}, "Friends", "", []string{}},
	} {
		if got := movedGroups(tc.groups, tc.from, tc.to); !slices.Equal(got, tc.want) {
			t.Errorf("movedGroups(%q, %q, %q) = %q, want %q", tc.groups, tc.from, tc.to, got, tc.want)
		}
	}
}

// listHarness is a contact list alone in a test window.
type listHarness struct {
	l *contactList
	w fyne.Window
}

func newListHarness(t *testing.T, size fyne.Size) *listHarness {
	t.Helper()
	test.NewTempApp(t)
	ui := &uiRunner{}
	noAvatars := func(string) ([]byte, bool) { return nil, false }
	var l *contactList
	cache := newAvatarCache(t.Context(), noAvatars, ui.do, func() { l.list.Refresh() })
	l = newContactList(cache)
	w := test.NewTempWindow(t, container.NewStack(l.content()))
	w.Resize(size)
	return &listHarness{l: l, w: w}
}

// shownRow is a row as it is on screen.
type shownRow struct {
	id    int
	jid   string // of a contact row
	group string
	text  string // "# Group 1/2" for a header, else "Name | status"
	dot   color.Color
	img   bool // the avatar shows an image (not initials)
	init  string
}

// eachVisible calls fn for o and every visible object under it, as laid
// out now (test.LaidOutObjects would lay everything out again).
func eachVisible(o fyne.CanvasObject, fn func(fyne.CanvasObject)) {
	if o == nil || !o.Visible() {
		return
	}
	fn(o)
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			eachVisible(c, fn)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			eachVisible(c, fn)
		}
	}
}

// rowViews are the row widgets on screen.
func rowViews(l *contactList) []*rowView {
	var out []*rowView
	eachVisible(l.list, func(o fyne.CanvasObject) {
		if rv, ok := o.(*rowView); ok && rv.id >= 0 {
			out = append(out, rv)
		}
	})
	return out
}

// visibleRows are the rows the list has on screen, by id.
func visibleRows(l *contactList) []shownRow {
	var out []shownRow
	for _, rv := range rowViews(l) {
		if rv.header.Visible() {
			mark := "#"
			if rv.header.collapsed {
				mark = "+"
			}
			out = append(out, shownRow{id: rv.id, group: rv.header.name.Text, text: mark + " " + rv.header.name.Text + " " + rv.header.count.Text})
			continue
		}
		a := rv.cell.avatar
		r := l.rows[rv.id]
		out = append(out, shownRow{
			id: rv.id, jid: l.contacts[r.contact].JID, group: r.group, text: rv.cell.name.Text + " | " + rv.cell.status.Text,
			dot: a.dot.FillColor, img: a.showsImage(), init: a.initials.Text,
		})
	}
	slices.SortFunc(out, func(a, b shownRow) int { return a.id - b.id })
	return out
}

// checkRows fails unless every visible row shows what rows[id] holds.
func checkRows(t *testing.T, l *contactList, shown []shownRow) {
	t.Helper()
	for _, s := range shown {
		r := l.rows[s.id]
		var want string
		if r.header {
			mark := "#"
			if r.collapsed {
				mark = "+"
			}
			want = fmt.Sprintf("%s %s %d/%d", mark, r.group, r.online, r.total)
		} else {
			c := &l.contacts[r.contact]
			want = c.Name + " | " + contactStatus(c)
		}
		if s.text != want {
			t.Fatalf("row %d shows %q, want %q", s.id, s.text, want)
		}
	}
}

func TestContactListShowsRows(t *testing.T) {
	h := newListHarness(t, fyne.NewSize(360, 700))
	contacts := sampleContacts()
	contacts[2].Status = "at lunch"
	contacts[4].Blocked = true
	h.l.setShowOffline(true)
	h.l.setContacts(contacts, 1, true)
	shown := visibleRows(h.l)
	var texts []string
	for _, s := range shown {
		texts = append(texts, s.text)
	}
	want := []string{
		"# Contacts 1/2", "Bob | Offline", "Evelyn | Blocked",
		"# Friends 1/2", "Alice | Online", "Dave | Offline",
		"# Work 2/2", "Alice | Online", "Carol | at lunch",
	}
	if !slices.Equal(texts, want) {
		t.Fatalf("rows on screen\n got %q\nwant %q", texts, want)
	}
	byName := map[string]shownRow{}
	for _, s := range shown {
		byName[strings.SplitN(s.text, " |", 2)[0]] = s
	}
	for name, show := range map[string]app.Show{"Alice": app.ShowOnline, "Bob": app.ShowOffline, "Carol": app.ShowAway, "Evelyn": app.ShowDND} {
		if got := byName[name].dot; got != presenceColor(show) {
			t.Errorf("%s: dot %v, want %v (%s)", name, got, presenceColor(show), show)
		}
	}
	if s := byName["Carol"]; s.img || s.init != "C" {
		t.Errorf("Carol has no avatar: want initials C, got image=%v initials=%q", s.img, s.init)
	}

	// Tapping a header collapses its group, tapping again expands it.
	tapHeader := func(group string) {
		t.Helper()
		for _, rv := range rowViews(h.l) {
			if rv.header.Visible() && rv.header.name.Text == group {
				test.Tap(rv.header)
				return
			}
		}
		t.Fatalf("no header %q on screen", group)
	}
	tapHeader("Friends")
	texts = texts[:0]
	for _, s := range visibleRows(h.l) {
		texts = append(texts, s.text)
	}
	if !slices.Contains(texts, "+ Friends 1/2") || slices.Contains(texts, "Dave | Offline") {
		t.Errorf("after collapsing Friends: %q", texts)
	}
	tapHeader("Friends")
	if got := len(visibleRows(h.l)); got != len(want) {
		t.Errorf("after expanding Friends: %d rows, want %d", got, len(want))
	}

	// Filter as typed, case-insensitive, then hide offline.
	h.l.setFilter("  DAVE ")
	checkRows(t, h.l, visibleRows(h.l))
	if got := len(h.l.rows); got != 2 {
		t.Errorf("filter DAVE: %d rows, want 2", got)
	}
	h.l.setShowOffline(false)
	if len(h.l.rows) != 0 || !h.l.empty.Visible() || !strings.Contains(h.l.empty.Text, "DAVE") && !strings.Contains(h.l.empty.Text, "dave") {
		t.Errorf("filter dave without offline: rows %d, empty text visible=%v %q", len(h.l.rows), h.l.empty.Visible(), h.l.empty.Text)
	}
}

// manyContacts makes n contacts in 25 groups, every 7th also in a second
// group, every 3rd offline, sorted by name.
func manyContacts(n int) []app.Contact {
	shows := []app.Show{app.ShowOffline, app.ShowOnline, app.ShowAway}
	out := make([]app.Contact, n)
	for i := range out {
		groups := []string{fmt.Sprintf("Group %02d", i%25)}
		if i%7 == 0 {
			groups = append(groups, fmt.Sprintf("Group %02d", (i+3)%25))
		}
		out[i] = contact(fmt.Sprintf("user%04d@example.org", i), fmt.Sprintf("Contact %04d", i), shows[i%3], groups...)
		out[i].Status = fmt.Sprintf("status of %04d", i)
	}
	return out
}

func TestContactList5000Scroll(t *testing.T) {
	h := newListHarness(t, fyne.NewSize(360, 640))
	contacts := manyContacts(5000)
	h.l.setShowOffline(true)
	h.l.setContacts(contacts, 1, true)

	// 25 headers; every contact once, every 7th twice.
	wantRows := 25 + 5000 + (5000+6)/7
	if len(h.l.rows) != wantRows {
		t.Fatalf("%d rows, want %d", len(h.l.rows), wantRows)
	}
	seen := map[int]bool{}
	check := func(where string) {
		t.Helper()
		shown := visibleRows(h.l)
		if len(shown) == 0 {
			t.Fatalf("%s: no rows on screen", where)
		}
		checkRows(t, h.l, shown)
		for _, s := range shown {
			seen[s.id] = true
		}
	}
	check("top")
	// Scroll with the mouse wheel a few screens, then jump through the rest.
	list := h.l.list
	for range 5 {
		test.Scroll(h.w.Canvas(), fyne.NewPos(100, 300), 0, -600)
		check(fmt.Sprintf("wheel at %.0f", list.GetScrollOffset()))
	}
	if list.GetScrollOffset() == 0 {
		t.Fatal("the mouse wheel did not scroll the list")
	}
	rowH := list.MinSize().Height // at least one row
	for off := float32(0); ; off += 500 {
		list.ScrollToOffset(off)
		check(fmt.Sprintf("offset %.0f", off))
		if last := visibleRows(h.l); last[len(last)-1].id == wantRows-1 {
			break
		}
		if off > float32(wantRows)*rowH*4 {
			t.Fatal("never reached the last row")
		}
	}
	list.ScrollToBottom()
	check("bottom")
	if !seen[wantRows-1] || !seen[0] {
		t.Errorf("first or last row never shown")
	}
	// Rows are recycled through the list's sync.Pool, which the garbage
	// collector (and the race detector, on purpose) empties now and then;
	// so the bound is loose: far fewer widgets than rows (~40 in practice).
	if h.l.created > wantRows/2 {
		t.Errorf("%d row widgets made for %d rows; they should be recycled", h.l.created, wantRows)
	}
	t.Logf("%d rows checked on screen, %d row widgets made", len(seen), h.l.created)

	// Filtering and hiding offline rebuild the rows, still consistent.
	h.l.setFilter("contact 12")
	list.ScrollToTop()
	check("filtered")
	for _, r := range h.l.rows {
		if !r.header && !strings.HasPrefix(contacts[r.contact].Name, "Contact 12") {
			t.Fatalf("filter let %q through", contacts[r.contact].Name)
		}
	}
	h.l.setFilter("")
	h.l.setShowOffline(false)
	check("online only")
	for _, r := range h.l.rows {
		if !r.header && contacts[r.contact].Show == app.ShowOffline {
			t.Fatalf("offline %q shown", contacts[r.contact].Name)
		}
	}
	// A new snapshot version (one contact goes offline) is applied.
	next := slices.Clone(contacts)
	next[1].Show = app.ShowOffline
	h.l.setContacts(next, 2, true)
	for _, r := range h.l.rows {
		if !r.header && r.contact == 1 {
			t.Fatal("a contact that went offline is still listed")
		}
	}
}
