// The contacts list: a virtualised widget.List over a flat slice of rows
// (group headers and contacts) built from a snapshot. A contact without
// groups is listed under "Contacts"; a contact in two groups appears in
// both. The rows are rebuilt only when the snapshot version, the filter,
// "show offline" or a group's collapsed state changes; the list itself
// keeps only the row widgets on screen and refills them in UpdateItem.
package views

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/app"
)

// defaultGroup holds the contacts that are in no roster group.
const defaultGroup = "Contacts"

// avatarSize is the avatar's edge in a list row.
const avatarSize = 36

// listRow is one row of the list: a group header or a contact in a group.
type listRow struct {
	header  bool
	group   string
	contact int // index into the contacts, for a contact row
	// For a header: contacts of the group that match the filter, and how
	// many of them are online; whether the group is collapsed.
	total, online int
	collapsed     bool
}

// listOptions decide which rows are built.
type listOptions struct {
	filter      string // lower case; matches a substring of the name or JID
	showOffline bool
	collapsed   map[string]bool
}

// matches reports whether c passes the filter (not the offline rule).
func (o listOptions) matches(c *app.Contact) bool {
	return o.filter == "" ||
		strings.Contains(strings.ToLower(c.Name), o.filter) ||
		strings.Contains(strings.ToLower(c.JID), o.filter)
}

// groupsOf are the groups c is listed under.
func groupsOf(c *app.Contact) []string {
	if len(c.Groups) == 0 {
		return []string{defaultGroup}
	}
	return c.Groups
}

// buildRows flattens contacts (in their order) into header and contact
// rows, groups sorted by name. A group with nothing to show is left out;
// a collapsed group shows its header only.
func buildRows(contacts []app.Contact, o listOptions) []listRow {
	type group struct {
		name          string
		members       []int
		total, online int
	}
	groups := map[string]*group{}
	for i := range contacts {
		c := &contacts[i]
		if !o.matches(c) {
			continue
		}
		online := c.Show != app.ShowOffline && c.Show != ""
		for _, name := range groupsOf(c) {
			g := groups[name]
			if g == nil {
				g = &group{name: name}
				groups[name] = g
			} else if n := len(g.members); n > 0 && g.members[n-1] == i {
				continue // the group is listed twice on the contact
			}
			g.total++
			if online {
				g.online++
			}
			if online || o.showOffline {
				g.members = append(g.members, i)
			}
		}
	}
	sorted := make([]*group, 0, len(groups))
	n := 0
	for _, g := range groups {
		if len(g.members) == 0 {
			continue
		}
		sorted = append(sorted, g)
		n += 1 + len(g.members)
	}
	slices.SortFunc(sorted, func(a, b *group) int { return compareFold(a.name, b.name) })
	rows := make([]listRow, 0, n)
	for _, g := range sorted {
		collapsed := o.collapsed[g.name]
		rows = append(rows, listRow{header: true, group: g.name, total: g.total, online: g.online, collapsed: collapsed})
		if collapsed {
			continue
		}
		for _, i := range g.members {
			rows = append(rows, listRow{group: g.name, contact: i})
		}
	}
	return rows
}

// compareFold orders names case-insensitively (then exactly, for a stable order).
func compareFold(a, b string) int {
	return cmp.Or(cmp.Compare(strings.ToLower(a), strings.ToLower(b)), cmp.Compare(a, b))
}

// contactStatus is the second line of a contact row.
func contactStatus(c *app.Contact) string {
	switch {
	case c.Blocked:
		return "Blocked"
	case !c.SeesPresence() && c.Pending:
		return "Waiting for approval"
	case !c.SeesPresence():
		return "Does not share presence"
	case c.Status != "":
		return c.Status
	}
	return c.Show.Label()
}

// contactList is the list widget and the rows it shows.
type contactList struct {
	list    *widget.List
	empty   *widget.Label
	box     *fyne.Container
	avatars *avatarCache

	contacts []app.Contact
	version  uint64
	loaded   bool
	built    bool
	rows     []listRow
	opts     listOptions
	selected string // JID of the selected contact

	// onSelect is called when a contact is tapped; onMenu when its menu is
	// asked for (right-click or the "…" button), at an absolute position.
	onSelect func(c *app.Contact)
	onMenu   func(c *app.Contact, group string, at fyne.Position)
	onOpen   func(c *app.Contact) // double-click: open a chat

	created int // row widgets made so far (they are recycled)
}

func newContactList(avatars *avatarCache) *contactList {
	l := &contactList{avatars: avatars, opts: listOptions{collapsed: map[string]bool{}}}
	l.list = newTapList(
		func() int { return len(l.rows) },
		func() fyne.CanvasObject { l.created++; return newRowView(l) },
		func(id widget.ListItemID, o fyne.CanvasObject) { o.(*rowView).update(id) },
		l.activate,
	)
	l.empty, l.box = withEmptyText(l.list, "")
	return l
}

// content is the list with its empty-state text.
func (l *contactList) content() fyne.CanvasObject { return l.box }

// setContacts takes a snapshot's contacts; the rows are rebuilt only when
// its version is new.
func (l *contactList) setContacts(contacts []app.Contact, version uint64, loaded bool) {
	if l.built && version == l.version && loaded == l.loaded {
		return
	}
	l.contacts, l.version, l.loaded = contacts, version, loaded
	l.avatars.forget()
	l.rebuild()
}

// setFilter filters by name or JID, case-insensitively.
func (l *contactList) setFilter(text string) {
	f := strings.ToLower(strings.TrimSpace(text))
	if f == l.opts.filter {
		return
	}
	l.opts.filter = f
	l.rebuild()
}

// setShowOffline shows or hides offline contacts.
func (l *contactList) setShowOffline(show bool) {
	if show == l.opts.showOffline && l.built {
		return
	}
	l.opts.showOffline = show
	l.rebuild()
}

// toggle collapses or expands a group.
func (l *contactList) toggle(group string) {
	if l.opts.collapsed[group] {
		delete(l.opts.collapsed, group)
	} else {
		l.opts.collapsed[group] = true
	}
	l.rebuild()
}

// setSelected marks the contact jid as selected ("" for none).
func (l *contactList) setSelected(jid string) {
	if jid == l.selected {
		return
	}
	l.selected = jid
	l.list.Refresh() // only the rows on screen are updated
}

func (l *contactList) rebuild() {
	l.built = true
	l.rows = buildRows(l.contacts, l.opts)
	switch {
	case len(l.rows) > 0:
		l.empty.Hide()
	case !l.loaded && len(l.contacts) == 0:
		l.showEmpty("Loading contacts…")
	case len(l.contacts) == 0:
		l.showEmpty("No contacts yet. Add one with “Add contact”.")
	case l.opts.filter != "":
		l.showEmpty("No contact matches “" + l.opts.filter + "”.")
	default:
		l.showEmpty("No contact is online. Tick “Show offline contacts” to see them all.")
	}
	l.list.Refresh()
}

func (l *contactList) showEmpty(text string) {
	l.empty.SetText(text)
	l.empty.Show()
}

// activate acts on a tap on row id: a header toggles, a contact is selected.
func (l *contactList) activate(id int) {
	if id < 0 || id >= len(l.rows) {
		return
	}
	row := l.rows[id]
	if row.header {
		l.toggle(row.group)
		return
	}
	c := &l.contacts[row.contact]
	l.setSelected(c.JID)
	if l.onSelect != nil {
		l.onSelect(c)
	}
}

// menu asks for the menu of the contact on row id at an absolute position.
func (l *contactList) menu(id int, at fyne.Position) {
	if id < 0 || id >= len(l.rows) || l.rows[id].header || l.onMenu == nil {
		return
	}
	row := l.rows[id]
	l.onMenu(&l.contacts[row.contact], row.group, at)
}

// setText sets a label's text unless it already shows it (refreshing a
// truncated label shapes its text again, the costly part of a row update).
func setText(l *widget.Label, text string) {
	if l.Text != text {
		l.SetText(text)
	}
}

// rowView is the recycled row widget: a group header or a contact cell.
type rowView struct {
	widget.BaseWidget
	l  *contactList
	id int

	header *groupHeader
	cell   *contactCell
}

func newRowView(l *contactList) *rowView {
	r := &rowView{l: l, id: -1}
	r.header = newGroupHeader(r)
	r.cell = newContactCell(r)
	r.ExtendBaseWidget(r)
	return r
}

// CreateRenderer implements fyne.Widget.
func (r *rowView) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewStack(r.header, r.cell))
}

// update fills the row with row id of the list.
func (r *rowView) update(id int) {
	r.id = id
	if id < 0 || id >= len(r.l.rows) {
		return
	}
	row := r.l.rows[id]
	if row.header {
		r.cell.Hide()
		r.header.set(row)
		r.header.Show()
		return
	}
	r.header.Hide()
	c := &r.l.contacts[row.contact]
	r.cell.set(c, c.JID == r.l.selected)
	r.cell.Show()
}

// groupHeader is a group's row: expand/collapse icon, name and counts.
// Tapping it collapses or expands the group.
type groupHeader struct {
	widget.BaseWidget
	row       *rowView
	collapsed bool
	icon      *widget.Icon
	name      *widget.Label
	count     *widget.Label
	line      *fyne.Container
}

func newGroupHeader(r *rowView) *groupHeader {
	h := &groupHeader{row: r}
	h.icon = widget.NewIcon(theme.MenuDropDownIcon())
	h.name = newRowName()
	h.count = widget.NewLabel("")
	h.count.Importance = widget.LowImportance
	h.line = container.NewBorder(nil, nil, h.icon, h.count, h.name)
	h.ExtendBaseWidget(h)
	return h
}

func (h *groupHeader) set(row listRow) {
	h.collapsed = row.collapsed
	if row.collapsed {
		h.icon.SetResource(theme.MenuExpandIcon())
	} else {
		h.icon.SetResource(theme.MenuDropDownIcon())
	}
	setText(h.name, row.group)
	setText(h.count, strconv.Itoa(row.online)+"/"+strconv.Itoa(row.total))
	h.line.Refresh() // the count's width may have changed
}

// Tapped collapses or expands the group.
func (h *groupHeader) Tapped(*fyne.PointEvent) { h.row.l.activate(h.row.id) }

// CreateRenderer implements fyne.Widget.
func (h *groupHeader) CreateRenderer() fyne.WidgetRenderer {
	// Rows share one height: centre the header line in it.
	return widget.NewSimpleRenderer(container.NewVBox(layout.NewSpacer(), h.line, layout.NewSpacer()))
}

// contactCell is a contact's row: avatar with presence dot, name, status
// and a "…" menu button. A tap selects the contact, a right-click or the
// button opens its menu.
type contactCell struct {
	widget.BaseWidget
	row      *rowView
	selected *canvas.Rectangle
	avatar   *avatarView
	name     *widget.Label
	status   *widget.Label
	more     *widget.Button
}

func newContactCell(r *rowView) *contactCell {
	c := &contactCell{row: r}
	c.selected = newSelectionMark()
	c.avatar = newAvatarView(avatarSize, true)
	c.name = newRowName()
	c.status = widget.NewLabel("")
	c.status.Truncation = fyne.TextTruncateEllipsis
	c.status.SizeName = theme.SizeNameCaptionText
	c.status.Importance = widget.LowImportance
	c.more = widget.NewButtonWithIcon("", theme.MoreHorizontalIcon(), func() {
		pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(c.more)
		c.row.l.menu(c.row.id, pos.AddXY(0, c.more.Size().Height))
	})
	c.more.Importance = widget.LowImportance
	c.ExtendBaseWidget(c)
	return c
}

func (c *contactCell) set(ct *app.Contact, selected bool) {
	c.avatar.set(ct, c.row.l.avatars.get(ct.AvatarHash))
	setText(c.name, ct.Name)
	setText(c.status, contactStatus(ct))
	showIf(c.selected, selected)
}

// Tapped selects the contact.
func (c *contactCell) Tapped(*fyne.PointEvent) { c.row.l.activate(c.row.id) }

// DoubleTapped selects the contact and opens a chat with it.
func (c *contactCell) DoubleTapped(*fyne.PointEvent) {
	l := c.row.l
	l.activate(c.row.id)
	id := c.row.id
	if id >= 0 && id < len(l.rows) && !l.rows[id].header && l.onOpen != nil {
		l.onOpen(&l.contacts[l.rows[id].contact])
	}
}

// TappedSecondary opens the contact's menu where the pointer is.
func (c *contactCell) TappedSecondary(ev *fyne.PointEvent) {
	c.row.l.menu(c.row.id, ev.AbsolutePosition)
}

// CreateRenderer implements fyne.Widget.
func (c *contactCell) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(avatarRow(c.selected, c.avatar, c.name, c.status, c.more))
}
