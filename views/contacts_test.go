// Headless tests of the contacts pane against the real service on a real
// Prosody (through app/apptest): other accounts, each logged in on its own
// app.Service, act as the other side. They cover the list following the
// server (grouping, two groups, collapse, filter, hiding offline, presence
// dot and status, avatar image versus initials), the Add contact dialog
// (validation as typed, Enter submits, the request reaching the other
// side, an error shown in the dialog), the requests panel (count, accept
// with and without adding back, deny, each state shown), the per-contact
// actions (rename, move, block/unblock, remove with confirmation, details),
// own presence reaching the other side, and the main window showing it all
// after login.
package views

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"parley/app"
	"parley/app/apptest"
)

// contactsHarness is a contacts pane in a test window over the real
// service of a logged-in account.
type contactsHarness struct {
	t  *testing.T
	ui *uiRunner
	me *apptest.Account
	w  fyne.Window
	v  *ContactsView
}

func openContacts(t *testing.T, srv *apptest.Server, prefix string) *contactsHarness {
	t.Helper()
	test.NewTempApp(t)
	h := &contactsHarness{t: t, ui: &uiRunner{}, me: srv.LogIn(t, prefix)}
	h.ui.do(func() {
		h.w = test.NewTempWindow(t, nil)
		h.v = NewContactsView(h.w, h.me.Contacts(), h.ui.do)
		h.w.SetContent(h.v.Content())
		h.w.Resize(fyne.NewSize(900, 900))
	})
	t.Cleanup(func() { h.v.Stop() })
	return h
}

func (h *contactsHarness) wait(what string, cond func() bool) {
	h.t.Helper()
	h.ui.waitUI(h.t, what, waitFor, cond)
}

// row finds the row of jid under group on screen (nil if there is none).
func (h *contactsHarness) row(jid, group string) *rowView {
	for _, rv := range rowViews(h.v.list) {
		r := h.v.list.rows[rv.id]
		if !r.header && r.group == group && h.v.list.contacts[r.contact].JID == jid {
			return rv
		}
	}
	return nil
}

// header finds the header of group on screen.
func (h *contactsHarness) header(group string) *rowView {
	for _, rv := range rowViews(h.v.list) {
		if r := h.v.list.rows[rv.id]; r.header && r.group == group {
			return rv
		}
	}
	return nil
}

// groupsShowing are the groups under which jid has a row on screen.
func (h *contactsHarness) groupsShowing(jid string) []string {
	var out []string
	for _, s := range visibleRows(h.v.list) {
		if s.jid == jid {
			out = append(out, s.group)
		}
	}
	return out
}

// status is the second line of jid's row under group ("" if not shown).
func (h *contactsHarness) status(jid, group string) string {
	if rv := h.row(jid, group); rv != nil {
		return rv.cell.status.Text
	}
	return ""
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	t.Cleanup(cancel)
	return ctx
}

// testPNG is a 96x96 avatar: a gradient, so it is not mistaken for a circle.
func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 96, 96))
	for y := range 96 {
		for x := range 96 {
			img.Set(x, y, color.NRGBA{R: uint8(x * 2), G: uint8(y * 2), B: 0xa0, A: 0xff})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestContactsListFollowsServer(t *testing.T) {
	srv := apptest.Shared(t)
	h := openContacts(t, srv, "uilist")
	bea := srv.LogIn(t, "uilistbea")
	cid := srv.LogIn(t, "uilistcid")
	apptest.Befriend(t, h.me, bea, "Friends")
	apptest.Befriend(t, h.me, cid, "")

	// Both online, Bea under Friends, Cid (no group) under Contacts.
	h.wait("both contacts online", func() bool {
		return h.status(bea.JID, "Friends") == "Online" && h.status(cid.JID, defaultGroup) == "Online"
	})

	// Bea goes away with a status and publishes an avatar; Cid has none.
	ctx := ctxFor(t)
	if err := bea.Contacts().SetOwnPresence(ctx, app.OwnPresence{Show: app.ShowAway, Status: "at lunch"}); err != nil {
		t.Fatal(err)
	}
	if err := bea.Contacts().PublishAvatar(ctx, testPNG(t)); err != nil {
		t.Fatal(err)
	}
	h.wait("Bea away, at lunch, with her avatar", func() bool {
		rv := h.row(bea.JID, "Friends")
		return rv != nil && rv.cell.status.Text == "at lunch" && rv.cell.avatar.showsImage()
	})
	h.ui.do(func() {
		b := h.row(bea.JID, "Friends").cell.avatar
		if b.dot.FillColor != presenceColor(app.ShowAway) {
			t.Errorf("Bea's dot %v, want away %v", b.dot.FillColor, presenceColor(app.ShowAway))
		}
		c := h.row(cid.JID, defaultGroup).cell.avatar
		if c.showsImage() || c.initials.Text == "" || !c.circle.Visible() {
			t.Errorf("Cid has no avatar: want initials on a circle, got image=%v initials=%q", c.showsImage(), c.initials.Text)
		}
		if c.dot.FillColor != presenceColor(app.ShowOnline) {
			t.Errorf("Cid's dot %v, want online", c.dot.FillColor)
		}
	})

	// Bea in two groups shows in both; collapsing one hides her there only.
	if err := h.me.Contacts().SetGroups(ctx, bea.JID, []string{"Friends", "Work"}); err != nil {
		t.Fatal(err)
	}
	h.wait("Bea under Friends and Work", func() bool {
		return slices.Equal(h.groupsShowing(bea.JID), []string{"Friends", "Work"})
	})
	h.ui.do(func() { test.Tap(h.header("Friends").header) })
	h.ui.do(func() {
		if got := h.groupsShowing(bea.JID); !slices.Equal(got, []string{"Work"}) {
			t.Errorf("after collapsing Friends Bea shows under %q", got)
		}
		if !h.header("Friends").header.collapsed {
			t.Error("the Friends header does not show it is collapsed")
		}
		test.Tap(h.header("Friends").header)
		if got := h.groupsShowing(bea.JID); !slices.Equal(got, []string{"Friends", "Work"}) {
			t.Errorf("after expanding Friends Bea shows under %q", got)
		}
	})

	// Filter as typed, by JID, case-insensitively.
	h.ui.do(func() {
		test.Type(h.v.filter, strings.ToUpper(strings.Split(cid.JID, "@")[0]))
		rows := visibleRows(h.v.list)
		if len(rows) != 2 || rows[1].jid != cid.JID {
			t.Errorf("filtered by Cid's name: %+v", rows)
		}
		h.v.filter.SetText("")
		if got := len(h.groupsShowing(bea.JID)); got != 2 {
			t.Errorf("after clearing the filter Bea shows %d times", got)
		}
	})

	// Cid logs out: offline, grey; hidden when offline contacts are hidden.
	if err := cid.Svc.Logout(); err != nil {
		t.Fatal(err)
	}
	h.wait("Cid offline", func() bool { return h.status(cid.JID, defaultGroup) == "Offline" })
	h.ui.do(func() {
		if got := h.row(cid.JID, defaultGroup).cell.avatar.dot.FillColor; got != presenceColor(app.ShowOffline) {
			t.Errorf("offline dot %v", got)
		}
		test.Tap(h.v.showOffline) // untick
		if h.v.showOffline.Checked || len(h.groupsShowing(cid.JID)) != 0 || h.header(defaultGroup) != nil {
			t.Errorf("offline Cid still listed with offline hidden: %+v", visibleRows(h.v.list))
		}
		if len(h.groupsShowing(bea.JID)) != 2 {
			t.Error("hiding offline contacts hid Bea")
		}
		test.Tap(h.v.showOffline)
		if len(h.groupsShowing(cid.JID)) != 1 {
			t.Error("Cid not back with offline shown")
		}
	})
}

func TestAddContactDialog(t *testing.T) {
	srv := apptest.Shared(t)
	h := openContacts(t, srv, "uiadd")
	dan := srv.LogIn(t, "uiadddan")

	h.ui.do(func() {
		test.Tap(h.v.addBtn)
		d := h.v.add
		if d == nil || h.w.Canvas().Focused() != d.jid {
			t.Fatal("the dialog did not open with the focus on the address")
		}
		test.Type(d.jid, "dan")
		if !d.jidHint.Visible() || !strings.Contains(d.jidHint.Text, "name@server") {
			t.Errorf("hint after 'dan': visible=%v %q", d.jidHint.Visible(), d.jidHint.Text)
		}
		d.jid.SetText(dan.JID)
		if d.jidHint.Visible() {
			t.Errorf("hint for a valid address: %q", d.jidHint.Text)
		}
		test.Type(d.nick, "Dan the Man")
		test.Type(d.group, "Team")
		test.Type(d.message, "it's me, from the tests")
		d.message.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) // Enter submits
		if !d.busy || !d.jid.Disabled() || !d.addBtn.Disabled() || !d.progress.Visible() {
			t.Error("the dialog is not busy after Enter")
		}
	})
	h.wait("the dialog closed and Dan listed under Team", func() bool {
		return h.v.add == nil && h.status(dan.JID, "Team") == "Waiting for approval"
	})
	h.ui.do(func() {
		if rv := h.row(dan.JID, "Team"); rv.cell.name.Text != "Dan the Man" {
			t.Errorf("Dan's row shows %q", rv.cell.name.Text)
		}
		if h.v.details.jid.Text != dan.JID {
			t.Errorf("the details show %q, want the new contact", h.v.details.jid.Text)
		}
	})
	s := apptest.WaitContacts(t, dan.Contacts(), "the request", waitFor, func(s app.ContactsSnapshot) bool { return apptest.HasRequest(s, h.me.JID) })
	for _, r := range s.Requests {
		if r.JID == h.me.JID && r.Message != "it's me, from the tests" {
			t.Errorf("Dan got the message %q", r.Message)
		}
	}

	// An invalid address is refused as typed; Add does not start.
	h.ui.do(func() {
		test.Tap(h.v.addBtn)
		d := h.v.add
		test.Type(d.jid, "no spaces@localhost")
		test.Tap(d.addBtn)
		if d.busy || !d.jidHint.Visible() {
			t.Errorf("Add with an invalid address: busy=%v hint=%q", d.busy, d.jidHint.Text)
		}
	})

	// A failure from the service is shown in the dialog, which stays open.
	if err := h.me.Svc.Logout(); err != nil {
		t.Fatal(err)
	}
	h.ui.do(func() {
		d := h.v.add
		d.jid.SetText("someone@" + srv.Domain)
		d.jid.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	})
	h.wait("the error in the dialog", func() bool { d := h.v.add; return d != nil && !d.busy && d.errText.Visible() })
	h.ui.do(func() {
		d := h.v.add
		t.Logf("error shown: %q", d.errText.Text)
		if d.errText.Text == "" || d.jid.Disabled() || d.addBtn.Disabled() {
			t.Errorf("after the error: text %q, address disabled=%v", d.errText.Text, d.jid.Disabled())
		}
	})
}

// requestRows are the rows of the requests panel on screen, by JID.
func requestRows(p *requestsPanel) map[string]*requestRow {
	out := map[string]*requestRow{}
	eachVisible(p.list, func(o fyne.CanvasObject) {
		if r, ok := o.(*requestRow); ok && r.jid != "" {
			out[r.jid] = r
		}
	})
	return out
}

func TestRequestsPanel(t *testing.T) {
	srv := apptest.Shared(t)
	h := openContacts(t, srv, "uireq")
	eve := srv.LogIn(t, "uireqeve")
	fay := srv.LogIn(t, "uireqfay")
	gus := srv.LogIn(t, "uireqgus")
	ctx := ctxFor(t)
	for _, a := range []*apptest.Account{eve, fay, gus} {
		if err := a.Contacts().Add(ctx, h.me.JID, "", "", "hello from "+a.JID); err != nil {
			t.Fatal(err)
		}
	}
	h.wait("Requests (3)", func() bool { return h.v.requestsBtn.Text == "Requests (3)" && !h.v.requestsBtn.Disabled() })

	h.ui.do(func() {
		test.Tap(h.v.requestsBtn)
		rows := requestRows(h.v.requests)
		if len(rows) != 3 {
			t.Fatalf("%d request rows on screen, want 3", len(rows))
		}
		e := rows[eve.JID]
		if !strings.Contains(e.who.Text, eve.JID) || e.message.Text != "“hello from "+eve.JID+"”" {
			t.Errorf("Eve's request shows %q / %q", e.who.Text, e.message.Text)
		}
		if !e.addBack.Checked {
			t.Error("Add them back is not on by default")
		}
		test.Tap(e.accept)
		if e.state.Text != "Accepting "+eve.JID+"…" || !e.accept.Disabled() || !e.deny.Disabled() {
			t.Errorf("Eve's row while accepting: %q", e.state.Text)
		}
		g := rows[gus.JID]
		test.Tap(g.addBack) // accept Gus without adding him back
		test.Tap(g.accept)
		test.Tap(rows[fay.JID].deny)
	})
	h.wait("all three answered", func() bool {
		return h.v.requestsBtn.Text == "Requests (0)" && h.v.requestsBtn.Disabled() && len(requestRows(h.v.requests)) == 0
	})
	h.ui.do(func() {
		if !h.v.requests.empty.Visible() || !h.v.requests.note.Visible() {
			t.Errorf("panel after answering: empty=%v note=%q", h.v.requests.empty.Visible(), h.v.requests.note.Text)
		}
		h.v.requests.close()
	})

	// Eve: accepted and asked back. Having asked first, her side may approve
	// by itself; otherwise she accepts. Then she is online in our list.
	es := apptest.WaitContacts(t, eve.Contacts(), "our request or approval", waitFor, func(s app.ContactsSnapshot) bool {
		c, _ := apptest.FindContact(s, h.me.JID)
		return apptest.HasRequest(s, h.me.JID) || c.Subscription == "both"
	})
	if apptest.HasRequest(es, h.me.JID) {
		if err := eve.Contacts().Accept(ctx, h.me.JID, false); err != nil {
			t.Fatal(err)
		}
	}
	h.wait("Eve online", func() bool { return h.status(eve.JID, defaultGroup) == "Online" })
	// Gus: he sees us; we did not ask to see him.
	h.wait("Gus listed without presence", func() bool { return h.status(gus.JID, defaultGroup) == "Does not share presence" })
	apptest.WaitContacts(t, gus.Contacts(), "our approval", waitFor, func(s app.ContactsSnapshot) bool {
		c, ok := apptest.FindContact(s, h.me.JID)
		return ok && c.Subscription == "to" && !apptest.HasRequest(s, h.me.JID)
	})
	// Fay: denied; she does not see us and we do not list her.
	apptest.WaitContacts(t, fay.Contacts(), "the denial", waitFor, func(s app.ContactsSnapshot) bool {
		c, ok := apptest.FindContact(s, h.me.JID)
		return ok && !c.Pending && !c.SeesPresence()
	})
	h.ui.do(func() {
		if got := h.groupsShowing(fay.JID); len(got) != 0 {
			t.Errorf("denied Fay is listed under %q", got)
		}
	})
}

func TestContactActions(t *testing.T) {
	srv := apptest.Shared(t)
	h := openContacts(t, srv, "uiact")
	hal := srv.LogIn(t, "uiacthal")
	apptest.Befriend(t, h.me, hal, "Friends")
	// The view applies the service's snapshots in turn: Hal can show online
	// (we see his presence) one snapshot before his subscription to us.
	h.wait("Hal online under Friends, subscribed both ways", func() bool {
		c := h.v.contact(hal.JID)
		return h.status(hal.JID, "Friends") == "Online" && c != nil && c.Subscription == "both"
	})

	// Details: select by tapping the row.
	h.ui.do(func() {
		test.Tap(h.row(hal.JID, "Friends").cell)
		d := h.v.details
		if d.jid.Text != hal.JID || !strings.HasPrefix(d.subscription.Text, "Both") || !d.body.Visible() {
			t.Errorf("details: %q %q", d.jid.Text, d.subscription.Text)
		}
		res := d.resourceTexts()
		if len(res) != 1 || !strings.Contains(res[0], "Online") {
			t.Errorf("resources %q", res)
		}
		t.Logf("Hal's client: %q", res)
		if !h.row(hal.JID, "Friends").cell.selected.Visible() {
			t.Error("the selected row is not marked")
		}
	})

	// Rename from the "…" menu; Enter submits.
	h.ui.do(func() {
		test.Tap(h.row(hal.JID, "Friends").cell.more)
		if h.v.menu == nil || h.w.Canvas().Overlays().Top() == nil {
			t.Fatal("the … button opened no menu")
		}
		h.w.Canvas().Overlays().Top().Hide()
		h.v.menuItem("Rename…").Action()
		p := h.v.prompt
		test.Type(p.entry, "Hal 9000")
		p.entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
		if !p.busy || !p.okBtn.Disabled() {
			t.Error("the rename dialog is not busy after Enter")
		}
	})
	h.wait("Hal renamed", func() bool {
		rv := h.row(hal.JID, "Friends")
		return h.v.prompt == nil && rv != nil && rv.cell.name.Text == "Hal 9000" && h.v.details.name.Text == "Hal 9000"
	})

	// Move to another group from the right-click menu.
	h.ui.do(func() {
		test.TapSecondary(h.row(hal.JID, "Friends").cell)
		h.w.Canvas().Overlays().Top().Hide()
		h.v.menuItem("Move to group…").Action()
		p := h.v.prompt
		if p.entry.Text != "Friends" {
			t.Errorf("move dialog starts at %q", p.entry.Text)
		}
		test.Type(p.entry, "Work")
		p.entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	})
	h.wait("Hal under Work only", func() bool {
		return h.v.prompt == nil && slices.Equal(h.groupsShowing(hal.JID), []string{"Work"})
	})

	// Block, then unblock from the details pane.
	h.ui.do(func() {
		test.Tap(h.row(hal.JID, "Work").cell.more)
		h.w.Canvas().Overlays().Top().Hide()
		h.v.menuItem("Block").Action()
		if !strings.HasPrefix(h.v.StatusText(), "Blocking ") {
			t.Errorf("status while blocking: %q", h.v.StatusText())
		}
	})
	h.wait("Hal blocked", func() bool {
		return h.status(hal.JID, "Work") == "Blocked" && h.v.details.blocked.Visible() && h.v.details.blockBtn.Text == "Unblock"
	})
	h.ui.do(func() {
		test.Tap(h.row(hal.JID, "Work").cell.more)
		h.w.Canvas().Overlays().Top().Hide()
		if h.v.menuItem("Unblock") == nil {
			t.Error("the menu of a blocked contact offers no Unblock")
		}
		test.Tap(h.v.details.blockBtn)
	})
	h.wait("Hal unblocked", func() bool {
		s := h.status(hal.JID, "Work")
		return s != "" && s != "Blocked" && !h.v.details.blocked.Visible() && strings.HasPrefix(h.v.StatusText(), "Unblocked")
	})

	// Remove asks first: Cancel keeps Hal, Remove removes him.
	h.ui.do(func() {
		test.Tap(h.row(hal.JID, "Work").cell.more)
		h.w.Canvas().Overlays().Top().Hide()
		h.v.menuItem("Remove…").Action()
		if h.v.confirm == nil || !dialogShowsText(h.w.Canvas(), hal.JID) {
			t.Fatal("no confirmation naming Hal")
		}
		h.v.confirm.Hide() // Cancel
		if h.v.running != 0 || h.row(hal.JID, "Work") == nil {
			t.Error("Cancel removed Hal")
		}
		test.Tap(h.v.details.removeBtn)
		h.v.confirm.Confirm()
	})
	h.wait("Hal removed", func() bool {
		return len(h.groupsShowing(hal.JID)) == 0 && !h.v.details.body.Visible() && strings.HasPrefix(h.v.StatusText(), "Removed")
	})
	s := h.me.Contacts().Snapshot()
	if _, ok := apptest.FindContact(s, hal.JID); ok {
		t.Error("Hal is still on the roster")
	}
}

// dialogShowsText reports whether a label or rich text on the top overlay contains text.
func dialogShowsText(c fyne.Canvas, text string) bool {
	top := c.Overlays().Top()
	if top == nil {
		return false
	}
	for _, o := range test.LaidOutObjects(top) {
		switch x := o.(type) {
		case *widget.Label:
			if strings.Contains(x.Text, text) {
				return true
			}
		case *widget.RichText:
			if strings.Contains(x.String(), text) {
				return true
			}
		}
	}
	return false
}

func TestOwnPresenceReachesContacts(t *testing.T) {
	srv := apptest.Shared(t)
	h := openContacts(t, srv, "uiown")
	ivy := srv.LogIn(t, "uiownivy")
	apptest.Befriend(t, h.me, ivy, "")
	h.ui.do(func() {
		if h.v.presence.show.Selected != "Online" {
			t.Errorf("own presence shows %q, want Online", h.v.presence.show.Selected)
		}
		test.Type(h.v.presence.status, "in a meeting")
		h.v.presence.show.SetSelected("Busy")
	})
	h.wait("presence set", func() bool { return strings.HasPrefix(h.v.StatusText(), "Your presence is Busy (in a meeting)") })
	own := h.me.Contacts().Snapshot().Own
	if own.Show != app.ShowDND || own.Status != "in a meeting" {
		t.Errorf("service keeps %+v", own)
	}
	apptest.WaitContacts(t, ivy.Contacts(), "us busy", waitFor, func(s app.ContactsSnapshot) bool {
		c, ok := apptest.FindContact(s, h.me.JID)
		return ok && c.Show == app.ShowDND && c.Status == "in a meeting"
	})
	h.ui.do(func() {
		if h.v.presence.dot.FillColor != presenceColor(app.ShowDND) {
			t.Errorf("own dot %v", h.v.presence.dot.FillColor)
		}
	})
}

func TestMainWindowShowsContactsAfterLogin(t *testing.T) {
	srv := apptest.Shared(t)
	jid, pass := srv.NewUser(t, "uimain")
	dir := srv.Profile(t, true)
	h := open(t, dir, nil)
	h.fill(srv, jid, pass, 0)
	h.ui.do(func() { test.Tap(h.f.loginBtn) })
	h.waitOnline(jid)
	var c *ContactsView
	h.ui.do(func() {
		c = h.w.Contacts()
		if c == nil {
			t.Fatal("no contacts pane after login")
		}
		h.w.ShowContacts() // the Chats tab is shown first
		found := false
		eachVisible(h.w.Window().Content(), func(o fyne.CanvasObject) { found = found || o == c.Content() })
		if !found {
			t.Error("the contacts pane is not in the window")
		}
		if sz := h.w.Window().Canvas().Size(); sz.Width < 900 || sz.Height < 650 {
			t.Errorf("main window %v, want at least 900x650", sz)
		}
		c.presence.show.SetSelected("Away")
	})
	h.ui.waitUI(t, "Away set", waitFor, func() bool { return strings.HasPrefix(c.StatusText(), "Your presence is Away") })
	h.ui.do(func() { test.Tap(h.w.Account().logoutBtn) })
	h.ui.waitUI(t, "the login form after Log out", waitFor, func() bool { return !h.w.ShowingAccount() && h.w.Contacts() == nil })
	h.w.Stop()
	h.svc.Close()

	// The next run on the profile shows the presence kept.
	h2 := open(t, dir, nil)
	h2.fill(nil, "", pass, 0)
	h2.ui.do(func() { test.Tap(h2.f.loginBtn) })
	h2.waitOnline(jid)
	h2.ui.waitUI(t, "the kept presence", waitFor, func() bool {
		return h2.w.Contacts() != nil && h2.w.Contacts().presence.show.Selected == "Away"
	})
}

// menuItem finds an item of the last menu shown by its label.
func (v *ContactsView) menuItem(label string) *fyne.MenuItem {
	if v.menu == nil {
		return nil
	}
	for _, it := range v.menu.Items {
		if it.Label == label {
			return it
		}
	}
	return nil
}

// resourceTexts are the lines shown for the connected clients.
func (d *detailsPane) resourceTexts() []string {
	var out []string
	for _, o := range d.resources.Objects {
		out = append(out, o.(*widget.Label).Text)
	}
	return out
}

// close hides the panel.
func (p *requestsPanel) close() {
	if p.dlg != nil {
		p.dlg.Hide()
	}
}

// TestSetOwnAvatar picks an image through the pane (the file dialog is
// replaced by a function handing in a real file: the dialog itself cannot
// be driven headless) and checks a friend's Parley gets the same bytes.
func TestSetOwnAvatar(t *testing.T) {
	srv := apptest.Shared(t)
	h := openContacts(t, srv, "uiava")
	ivy := srv.LogIn(t, "uiavaivy")
	apptest.Befriend(t, h.me, ivy, "")
	img := testPNG(t)
	path := filepath.Join(t.TempDir(), "me.png")
	if err := os.WriteFile(path, img, 0o600); err != nil {
		t.Fatal(err)
	}
	h.ui.do(func() {
		h.v.pickImage = func(_ fyne.Window, done func(fyne.URIReadCloser, error)) {
			done(storage.Reader(storage.NewFileURI(path)))
		}
		test.Tap(h.v.avatarBtn)
	})
	h.wait("avatar published", func() bool { return h.v.StatusText() == "Your avatar is published." })
	if got := h.me.Contacts().Snapshot().OwnAvatar; got == "" {
		t.Errorf("the service does not know the own avatar after publishing")
	}
	s := apptest.WaitContacts(t, ivy.Contacts(), "our avatar at the friend's", waitFor, func(s app.ContactsSnapshot) bool {
		c, ok := apptest.FindContact(s, h.me.JID)
		return ok && c.AvatarHash != ""
	})
	c, _ := apptest.FindContact(s, h.me.JID)
	if data, ok := ivy.Contacts().Avatar(c.AvatarHash); !ok || !bytes.Equal(data, img) {
		t.Errorf("the friend got %d bytes, want the %d published", len(data), len(img))
	}
}
