// What can be done to one contact: its menu (right-click or "…" on its
// row: Chat, Details, Rename, Move to group, Block/Unblock, Remove), the details
// pane of the selected contact (JID, presence, subscription, groups,
// resources with their clients, and the same actions as buttons), the
// single-field dialog used to rename and to move, and the confirmation
// before removing.
package views

import (
	"context"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/app"
)

// contactMenu is the menu of contact jid, opened on its row in group.
func (v *ContactsView) contactMenu(jid, group string) *fyne.Menu {
	c := v.contact(jid)
	if c == nil {
		return nil
	}
	block := fyne.NewMenuItem("Block", func() { v.block(jid, true) })
	if c.Blocked {
		block = fyne.NewMenuItem("Unblock", func() { v.block(jid, false) })
	}
	block.Icon = theme.CancelIcon()
	var chat []*fyne.MenuItem
	if v.OnChat != nil {
		chat = append(chat, &fyne.MenuItem{Label: "Chat", Icon: theme.MailComposeIcon(), Action: func() { v.chat(jid) }})
	}
	return fyne.NewMenu(c.Name, append(chat,
		&fyne.MenuItem{Label: "Details", Icon: theme.InfoIcon(), Action: func() { v.selectContact(jid) }},
		&fyne.MenuItem{Label: "Rename…", Icon: theme.DocumentCreateIcon(), Action: func() { v.rename(jid) }},
		&fyne.MenuItem{Label: "Move to group…", Icon: theme.FolderIcon(), Action: func() { v.move(jid, group) }},
		fyne.NewMenuItemSeparator(),
		block,
		&fyne.MenuItem{Label: "Remove…", Icon: theme.DeleteIcon(), Action: func() { v.confirmRemove(jid) }},
	)...)
}

// showMenu pops up the menu of jid at an absolute position.
func (v *ContactsView) showMenu(jid, group string, at fyne.Position) {
	m := v.contactMenu(jid, group)
	if m == nil {
		return
	}
	v.menu = m
	widget.ShowPopUpMenuAtPosition(m, v.win.Canvas(), at)
}

// rename asks for a new name for jid and sets it on the roster.
func (v *ContactsView) rename(jid string) {
	c := v.contact(jid)
	if c == nil {
		return
	}
	initial := c.RosterName
	if initial == "" {
		initial = c.Name
	}
	v.showPrompt(promptOptions{
		title:   "Rename " + c.JID,
		label:   "Name",
		hint:    "Leave empty to use their own nickname.",
		initial: initial,
		okText:  "Rename",
		what:    "Renaming " + c.JID + "…",
		submit: func(ctx context.Context, name string) error {
			return v.svc.Rename(ctx, jid, name)
		},
		done: func(name string) string {
			if name == "" {
				return "Removed the name of " + jid + "."
			}
			return "Renamed " + jid + " to " + name + "."
		},
	})
}

// move asks for a group and moves jid there from group (the one whose row
// the menu was opened on; other groups of the contact stay).
func (v *ContactsView) move(jid, from string) {
	c := v.contact(jid)
	if c == nil {
		return
	}
	options := append(v.groups(), defaultGroup)
	current := slices.Clone(c.Groups)
	v.showPrompt(promptOptions{
		title:   "Move " + c.Name + " to a group",
		label:   "Group",
		hint:    "Pick a group or type a new one. “" + defaultGroup + "” means no group.",
		initial: from,
		options: options,
		okText:  "Move",
		what:    "Moving " + c.JID + "…",
		submit: func(ctx context.Context, to string) error {
			return v.svc.SetGroups(ctx, jid, movedGroups(current, from, to))
		},
		done: func(to string) string {
			if to == "" {
				to = defaultGroup
			}
			return "Moved " + jid + " to " + to + "."
		},
	})
}

// movedGroups are groups after moving a contact from one group to another;
// "" and defaultGroup stand for no group.
func movedGroups(groups []string, from, to string) []string {
	out := make([]string, 0, len(groups)+1)
	for _, g := range groups {
		if g != from && g != to {
			out = append(out, g)
		}
	}
	if to != "" && to != defaultGroup {
		out = append(out, to)
	}
	return out
}

// confirmRemove asks before removing jid from the roster.
func (v *ContactsView) confirmRemove(jid string) {
	c := v.contact(jid)
	if c == nil {
		return
	}
	who := c.Name
	if who != c.JID {
		who += " (" + c.JID + ")"
	}
	v.confirm = dialog.NewConfirm("Remove contact",
		"Remove "+who+" from your contacts? You will no longer see each other's presence.",
		func(ok bool) {
			v.confirm = nil
			if !ok {
				return
			}
			v.run("Removing "+jid+"…",
				func(ctx context.Context) error { return v.svc.Remove(ctx, jid) },
				"Removed "+jid+".", "Could not remove "+jid, nil)
		}, v.win)
	v.confirm.SetConfirmText("Remove")
	v.confirm.SetConfirmImportance(widget.DangerImportance)
	v.confirm.Show()
}

// block blocks (or unblocks) jid.
func (v *ContactsView) block(jid string, block bool) {
	if block {
		v.run("Blocking "+jid+"…",
			func(ctx context.Context) error { return v.svc.Block(ctx, jid) },
			"Blocked "+jid+".", "Could not block "+jid, nil)
		return
	}
	v.run("Unblocking "+jid+"…",
		func(ctx context.Context) error { return v.svc.Unblock(ctx, jid) },
		"Unblocked "+jid+".", "Could not unblock "+jid, nil)
}

// promptOptions describe a single-field dialog.
type promptOptions struct {
	title, label, hint, initial, okText string
	options                             []string // with options, the field is a pick-or-type entry
	what                                string   // status while submitting
	submit                              func(ctx context.Context, value string) error
	done                                func(value string) string // status after success
}

// promptDialog is the open single-field dialog.
type promptDialog struct {
	dlg      *dialog.CustomDialog
	entry    *widget.Entry
	focus    fyne.Focusable // the field (a SelectEntry wraps the entry)
	errText  *widget.Label
	okBtn    *widget.Button
	progress *widget.ProgressBarInfinite
	busy     bool
	cancel   func()
}

// showPrompt opens a single-field dialog: Enter or OK submits off the UI
// goroutine, the dialog stays open and disabled while the server answers,
// shows the error if it fails, and closes when it succeeds.
func (v *ContactsView) showPrompt(o promptOptions) {
	p := &promptDialog{}
	var field fyne.CanvasObject
	if o.options != nil {
		se := widget.NewSelectEntry(o.options)
		p.entry, p.focus, field = &se.Entry, se, se
	} else {
		p.entry = widget.NewEntry()
		p.focus, field = p.entry, p.entry
	}
	p.entry.SetText(o.initial)
	hint := widget.NewLabel(o.hint)
	hint.Importance = widget.LowImportance
	hint.Wrapping = fyne.TextWrapWord
	p.errText = widget.NewLabel("")
	p.errText.Importance = widget.DangerImportance
	p.errText.Wrapping = fyne.TextWrapWord
	p.errText.Hide()
	p.progress = widget.NewProgressBarInfinite()
	p.progress.Stop()
	p.progress.Hide()

	submit := func() {
		if p.busy {
			return
		}
		value := strings.TrimSpace(p.entry.Text)
		p.busy = true
		p.entry.Disable()
		p.okBtn.Disable()
		p.errText.Hide()
		p.progress.Show()
		p.progress.Start()
		p.cancel = v.run(o.what, func(ctx context.Context) error { return o.submit(ctx, value) },
			o.done(value), "", func(err error) {
				p.busy = false
				p.cancel = nil
				p.progress.Stop()
				p.progress.Hide()
				p.entry.Enable()
				p.okBtn.Enable()
				if err != nil {
					p.errText.SetText(app.UserMessage(err))
					p.errText.Show()
					v.win.Canvas().Focus(p.focus)
					return
				}
				p.dlg.Hide()
			})
	}
	p.entry.OnSubmitted = func(string) { submit() }
	p.okBtn = widget.NewButton(o.okText, submit)
	p.okBtn.Importance = widget.HighImportance
	cancelBtn := widget.NewButton("Cancel", func() {
		if p.cancel != nil {
			p.cancel()
		}
		p.dlg.Hide()
	})
	form := widget.NewForm(widget.NewFormItem(o.label, field))
	content := container.NewVBox(form, hint, p.progress, p.errText)
	p.dlg = dialog.NewCustomWithoutButtons(o.title, content, v.win)
	p.dlg.SetButtons([]fyne.CanvasObject{cancelBtn, p.okBtn})
	p.dlg.SetOnClosed(func() {
		if v.prompt == p {
			v.prompt = nil
		}
	})
	v.prompt = p
	p.dlg.Resize(fyne.NewSize(420, 0))
	p.dlg.Show()
	v.win.Canvas().Focus(p.focus)
	// Typing replaces the current value.
	p.entry.TypedShortcut(&fyne.ShortcutSelectAll{})
}

// detailsPane shows the selected contact.
type detailsPane struct {
	v     *ContactsView
	shown *app.Contact // a copy of what is shown; nil: nothing selected

	placeholder  *widget.Label
	avatar       *avatarView
	name         *widget.Label
	jid          *widget.Label
	presence     *widget.Label
	subscription *widget.Label
	groups       *widget.Label
	blocked      *widget.Label
	resources    *fyne.Container

	renameBtn, moveBtn, blockBtn, removeBtn *widget.Button
	chatBtn                                 *widget.Button

	column  *fyne.Container // everything below the placeholder
	body    fyne.CanvasObject
	content fyne.CanvasObject
}

func newDetailsPane(v *ContactsView) *detailsPane {
	d := &detailsPane{v: v}
	d.placeholder = widget.NewLabel("Select a contact to see its details.")
	d.placeholder.Alignment = fyne.TextAlignCenter
	d.placeholder.Importance = widget.LowImportance
	d.avatar = newAvatarView(64, true)
	d.name = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	d.name.SizeName = theme.SizeNameSubHeadingText
	d.name.Truncation = fyne.TextTruncateEllipsis
	d.jid = widget.NewLabel("")
	d.jid.Selectable = true
	d.jid.Truncation = fyne.TextTruncateEllipsis
	d.presence = widget.NewLabel("")
	d.presence.Wrapping = fyne.TextWrapWord
	d.subscription = widget.NewLabel("")
	d.subscription.Wrapping = fyne.TextWrapWord
	d.groups = widget.NewLabel("")
	d.groups.Wrapping = fyne.TextWrapWord
	d.blocked = widget.NewLabel("You have blocked this contact.")
	d.blocked.Importance = widget.DangerImportance
	d.resources = container.NewVBox()

	jid := func() string {
		if d.shown == nil {
			return ""
		}
		return d.shown.JID
	}
	d.renameBtn = widget.NewButtonWithIcon("Rename…", theme.DocumentCreateIcon(), func() { v.rename(jid()) })
	d.moveBtn = widget.NewButtonWithIcon("Move to group…", theme.FolderIcon(), func() {
		if d.shown != nil {
			v.move(d.shown.JID, groupsOf(d.shown)[0])
		}
	})
	d.blockBtn = widget.NewButtonWithIcon("Block", theme.CancelIcon(), func() {
		if d.shown != nil {
			v.block(d.shown.JID, !d.shown.Blocked)
		}
	})
	d.removeBtn = widget.NewButtonWithIcon("Remove…", theme.DeleteIcon(), func() { v.confirmRemove(jid()) })
	d.removeBtn.Importance = widget.DangerImportance
	d.chatBtn = widget.NewButtonWithIcon("Chat", theme.MailComposeIcon(), func() { v.chat(jid()) })
	d.chatBtn.Importance = widget.HighImportance

	head := container.NewBorder(nil, nil, d.avatar, container.NewCenter(d.chatBtn), container.NewVBox(d.name, d.jid))
	field := func(label string, value fyne.CanvasObject) *widget.FormItem { return widget.NewFormItem(label, value) }
	info := widget.NewForm(
		field("Presence", d.presence),
		field("Subscription", d.subscription),
		field("Groups", d.groups),
	)
	resTitle := widget.NewLabelWithStyle("Connected clients", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	buttons := container.NewGridWithColumns(2, d.renameBtn, d.moveBtn, d.blockBtn, d.removeBtn)
	d.column = container.NewVBox(
		head, widget.NewSeparator(), info, d.blocked, resTitle, d.resources, widget.NewSeparator(), buttons,
	)
	d.body = container.NewVScroll(container.NewPadded(d.column))
	d.body.Hide()
	d.content = container.NewStack(container.NewCenter(d.placeholder), d.body)
	return d
}

// show shows c (nil: the placeholder); unchanged contacts are left alone.
func (d *detailsPane) show(c *app.Contact) {
	if c == nil {
		d.shown = nil
		d.body.Hide()
		d.placeholder.Show()
		return
	}
	if d.shown != nil && reflect.DeepEqual(*d.shown, *c) {
		d.avatar.set(c, d.v.avatars.get(c.AvatarHash)) // the image may have arrived
		return
	}
	cp := *c
	d.shown = &cp
	if d.v.OnChat != nil {
		d.chatBtn.Show()
	} else {
		d.chatBtn.Hide()
	}
	d.placeholder.Hide()
	d.body.Show()
	d.avatar.set(c, d.v.avatars.get(c.AvatarHash))
	d.name.SetText(c.Name)
	d.jid.SetText(c.JID)
	pres := c.Show.Label()
	if c.Status != "" {
		pres += ": " + c.Status
	}
	if !c.SeesPresence() {
		pres = "Unknown (they do not share their presence with you)"
	}
	d.presence.SetText(pres)
	d.subscription.SetText(describeSubscription(c))
	if len(c.Groups) == 0 {
		d.groups.SetText("None (listed under “" + defaultGroup + "”)")
	} else {
		d.groups.SetText(strings.Join(c.Groups, ", "))
	}
	if c.Blocked {
		d.blocked.Show()
		d.blockBtn.SetText("Unblock")
	} else {
		d.blocked.Hide()
		d.blockBtn.SetText("Block")
	}
	d.resources.RemoveAll()
	if len(c.Resources) == 0 {
		none := widget.NewLabel("None online.")
		none.Importance = widget.LowImportance
		d.resources.Add(none)
	}
	for _, r := range c.Resources {
		l := widget.NewLabel(describeResource(r))
		l.Wrapping = fyne.TextWrapWord
		d.resources.Add(l)
	}
	d.column.Refresh() // lay out again: line counts and heights changed
}

// describeResource is one connected client in words:
// "phone — Conversations: Away (on the train), priority 5".
func describeResource(r app.Resource) string {
	s := r.Name
	if s == "" {
		s = "(no resource)"
	}
	if r.Client != "" {
		s += " — " + r.Client
	}
	s += ": " + r.Show.Label()
	if r.Status != "" {
		s += " (" + r.Status + ")"
	}
	return s + ", priority " + strconv.Itoa(r.Priority)
}

// describeSubscription says who sees whose presence.
func describeSubscription(c *app.Contact) string {
	var s string
	switch c.Subscription {
	case "both":
		s = "Both: you see each other's presence"
	case "to":
		s = "To: you see their presence; they do not see yours"
	case "from":
		s = "From: they see your presence; you do not see theirs"
	default:
		s = "None: neither of you sees the other's presence"
	}
	if c.Pending {
		s += ". Your request to see their presence awaits their answer"
	}
	return s + "."
}
