// The contacts pane of the main window: own presence, a filter box, "Show
// offline contacts", Add contact, the requests count, the grouped contacts
// list, a status line for running actions, and the details of the selected
// contact; "Chat" (menu, details, double-click) hands a contact to OnChat. It follows ContactsService snapshots (coalesced, applied on the
// UI goroutine) and runs every service call on its own goroutine.
package views

import (
	"context"
	"slices"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/app"
	"parley/app/notify"
)

// ContactsService is what the contacts UI needs of *app.ContactsService.
// Subscribe's callback runs on a service goroutine; the other calls except
// Snapshot and Avatar block until the server answers, so the views never
// make them on the UI goroutine.
type ContactsService interface {
	Snapshot() app.ContactsSnapshot
	Subscribe(fn func(app.ContactsSnapshot)) (unsubscribe func())
	Add(ctx context.Context, jid, name, group, message string) error
	Rename(ctx context.Context, jid, name string) error
	SetGroups(ctx context.Context, jid string, groups []string) error
	Remove(ctx context.Context, jid string) error
	Accept(ctx context.Context, jid string, addBack bool) error
	Deny(ctx context.Context, jid string) error
	Block(ctx context.Context, jid string) error
	Unblock(ctx context.Context, jid string) error
	SetOwnPresence(ctx context.Context, p app.OwnPresence) error
	Avatar(hash string) ([]byte, bool)
	PublishAvatar(ctx context.Context, image []byte) error
}

var _ ContactsService = (*app.ContactsService)(nil)

// runFunc runs op off the UI goroutine: the status line shows what while
// it runs, then ok (on success) or fail and the reason (with fail ""
// nothing: the caller shows the error). after, if not nil, then runs on the
// UI goroutine with op's error. The returned function cancels op.
type runFunc func(what string, op func(context.Context) error, ok, fail string, after func(error)) (cancel func())

// ContactsView is the contacts pane.
type ContactsView struct {
	svc  ContactsService
	win  fyne.Window
	do   func(func())
	ctx  context.Context
	stop context.CancelFunc

	snap     app.ContactsSnapshot
	selected string // JID of the contact whose details are shown

	avatars  *avatarCache
	list     *contactList
	presence *presenceSelector
	details  *detailsPane
	requests *requestsPanel

	filter      *widget.Entry
	showOffline *widget.Check
	addBtn      *widget.Button
	avatarBtn   *widget.Button
	requestsBtn *widget.Button
	// pickImage opens the image picker for the own avatar (nil: Fyne's file dialog).
	pickImage pickImageFunc
	status    *widget.Label
	activity  *widget.Activity
	running   int

	// The dialog or menu open now, if any.
	add     *addDialog
	prompt  *promptDialog
	confirm *dialog.ConfirmDialog
	menu    *fyne.Menu

	snapshots   *notify.Coalescer[app.ContactsSnapshot] // applied on the UI goroutine, the newest wins
	unsubscribe func()

	left    *fyne.Container // the list with its controls and status line
	content fyne.CanvasObject

	// OnChat, when set, opens a chat with a contact (UI goroutine).
	OnChat func(jid string)
}

// NewContactsView makes the pane for svc in win and starts following it;
// call it on the UI goroutine. do runs a function on the UI goroutine (nil:
// fyne.Do). Stop ends it.
func NewContactsView(win fyne.Window, svc ContactsService, do func(func())) *ContactsView {
	v := &ContactsView{svc: svc, win: win, do: do}
	if v.do == nil {
		v.do = fyne.Do
	}
	v.ctx, v.stop = context.WithCancel(context.Background())
	v.snapshots = notify.NewCoalescer(v.do, newerSnapshot, v.apply)
	v.avatars = newAvatarCache(v.ctx, svc.Avatar, v.do, func() {
		v.list.list.Refresh() // the rows on screen ask for their images again
		v.details.show(v.contact(v.selected))
	})
	v.list = newContactList(v.avatars)
	v.list.onSelect = func(c *app.Contact) { v.selectContact(c.JID) }
	v.list.onMenu = func(c *app.Contact, group string, at fyne.Position) { v.showMenu(c.JID, group, at) }
	v.list.onOpen = func(c *app.Contact) { v.chat(c.JID) }
	v.presence = newPresenceSelector(svc, v.run)
	v.details = newDetailsPane(v)
	v.requests = newRequestsPanel(v)

	v.filter = widget.NewEntry()
	v.filter.SetPlaceHolder("Filter by name or address")
	v.filter.ActionItem = widget.NewIcon(theme.SearchIcon())
	v.filter.OnChanged = v.list.setFilter
	v.showOffline = widget.NewCheck("Show offline contacts", v.list.setShowOffline)
	v.showOffline.SetChecked(true)
	v.addBtn = widget.NewButtonWithIcon("Add contact", theme.ContentAddIcon(), v.openAddDialog)
	v.avatarBtn = widget.NewButtonWithIcon("My avatar…", theme.AccountIcon(), v.chooseAvatar)
	v.requestsBtn = widget.NewButtonWithIcon("Requests (0)", theme.MailComposeIcon(), v.requests.open)
	v.requestsBtn.Disable()
	v.status = widget.NewLabel("")
	v.status.Wrapping = fyne.TextWrapWord
	v.activity = widget.NewActivity()
	v.activity.Hide()

	top := container.NewVBox(
		v.presence.content,
		container.NewBorder(nil, nil, nil, v.addBtn, v.filter),
		container.NewBorder(nil, nil, v.showOffline, container.NewHBox(v.avatarBtn, v.requestsBtn)),
	)
	bottom := container.NewBorder(nil, nil, v.activity, nil, v.status)
	v.left = container.NewBorder(top, bottom, nil, nil, v.list.content())
	split := container.NewHSplit(v.left, v.details.content)
	split.Offset = 0.45
	v.content = split

	v.apply(svc.Snapshot())
	v.unsubscribe = svc.Subscribe(v.onSnapshot)
	return v
}

// Content is the pane's canvas object.
func (v *ContactsView) Content() fyne.CanvasObject { return v.content }

// Stop stops following the service and cancels running actions.
func (v *ContactsView) Stop() {
	v.stop()
	if v.unsubscribe != nil {
		v.unsubscribe()
		v.unsubscribe = nil
	}
}

// onSnapshot runs on a service goroutine. Snapshots are coalesced: while
// one apply is queued on the UI goroutine, newer snapshots only replace
// the one it will apply, so a burst of presence updates costs one rebuild.
func (v *ContactsView) onSnapshot(s app.ContactsSnapshot) { v.snapshots.Post(s) }

// newerSnapshot is the newer of two snapshots (they may be handed over
// out of order): the coalescers of contact snapshots keep it.
func newerSnapshot(held, s app.ContactsSnapshot) app.ContactsSnapshot {
	if s.Version >= held.Version {
		return s
	}
	return held
}

// apply shows snapshot s (on the UI goroutine); older ones are ignored.
func (v *ContactsView) apply(s app.ContactsSnapshot) {
	if s.Version < v.snap.Version {
		return
	}
	v.snap = s
	v.list.setContacts(s.Contacts, s.Version, s.Loaded)
	v.presence.update(s.Own)
	v.requests.update(s.Requests)
	n := len(s.Requests)
	v.requestsBtn.SetText("Requests (" + strconv.Itoa(n) + ")")
	if n > 0 {
		v.requestsBtn.Importance = widget.HighImportance
		v.requestsBtn.Enable()
	} else {
		v.requestsBtn.Importance = widget.MediumImportance
		v.requestsBtn.Disable()
	}
	v.requestsBtn.Refresh()
	v.details.show(v.contact(v.selected))
}

// chat opens a chat with jid, if the window supports chats.
func (v *ContactsView) chat(jid string) {
	if v.OnChat != nil && jid != "" {
		v.OnChat(jid)
	}
}

// contact finds jid in the current snapshot (nil if it is not there).
func (v *ContactsView) contact(jid string) *app.Contact {
	if jid == "" {
		return nil
	}
	for i := range v.snap.Contacts {
		if v.snap.Contacts[i].JID == jid {
			return &v.snap.Contacts[i]
		}
	}
	return nil
}

// groups are all group names in use, sorted, for pickers.
func (v *ContactsView) groups() []string {
	seen := map[string]bool{}
	var out []string
	for i := range v.snap.Contacts {
		for _, g := range v.snap.Contacts[i].Groups {
			if !seen[g] {
				seen[g] = true
				out = append(out, g)
			}
		}
	}
	slices.SortFunc(out, compareFold)
	return out
}

// selectContact shows jid's details and marks its rows.
func (v *ContactsView) selectContact(jid string) {
	v.selected = jid
	v.list.setSelected(jid)
	v.details.show(v.contact(jid))
}

// run implements runFunc.
func (v *ContactsView) run(what string, op func(context.Context) error, ok, fail string, after func(error)) (cancel func()) {
	ctx, cancel := context.WithCancel(v.ctx)
	v.running++
	v.activity.Show()
	v.activity.Start()
	v.setStatus(what, widget.MediumImportance)
	inBackgroundErr(v.do, func() error {
		defer cancel()
		return op(ctx)
	}, func(err error) {
		v.running--
		if v.running == 0 {
			v.activity.Stop()
			v.activity.Hide()
		}
		switch {
		case err == nil:
			v.setStatus(ok, widget.SuccessImportance)
		case fail == "":
			v.setStatus("", widget.MediumImportance)
		default:
			v.setStatus(fail+": "+app.UserMessage(err), widget.DangerImportance)
		}
		if after != nil {
			after(err)
		}
	})
	return cancel
}

// setStatus shows text in the status line.
func (v *ContactsView) setStatus(text string, imp widget.Importance) {
	v.status.Importance = imp
	v.status.SetText(text)
	v.left.Refresh() // a wrapped status may need more or fewer lines
}

// SetConnected tells the pane whether the account has a session: without
// one, the own presence shows Offline (see presenceSelector.setConnected).
func (v *ContactsView) SetConnected(on bool) { v.presence.setConnected(on) }

// OwnPresenceShown is the own presence as the menu shows it ("Offline"
// while there is no session).
func (v *ContactsView) OwnPresenceShown() string {
	if v.presence.show.Selected == "" {
		return v.presence.show.PlaceHolder
	}
	return v.presence.show.Selected
}

// StatusText is the status line as shown.
func (v *ContactsView) StatusText() string { return v.status.Text }
