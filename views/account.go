// The header of the main window after login: the account, the connection
// state (online, connecting, waiting to reconnect with why and when, offline
// and why), any notice (such as the keyring fallback), Reconnect now (while
// waiting) or Reconnect (once the engine gave up: another login took the
// resource), Settings (the voice settings for now: voicesettings.go) and Log
// out. The contacts pane sits below it.
package views

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/app"
)

// AccountView shows the logged-in account and its connection state.
type AccountView struct {
	account   *widget.Label
	resource  *widget.Label
	stateIcon *widget.Icon
	state     *widget.Label
	notice    *widget.Label

	noticeBox *fyne.Container
	line      *fyne.Container // the state and who, laid out by stateLine
	dismissed string          // the notice the user closed this run
	// SeenNotice says whether a notice was shown in an earlier run (it
	// then stays out of the header); OnNoticeSeen is told when one is shown
	// or closed (the window keeps it in the profile).
	SeenNotice   func(notice string) bool
	OnNoticeSeen func(notice string)

	reconnectBtn *widget.Button
	settingsBtn  *widget.Button // the voice settings, for now (voicesettings.go)
	logoutBtn    *widget.Button

	status  app.Status
	content fyne.CanvasObject
}

func newAccountView(onReconnect, onLogout, onSettings func()) *AccountView {
	v := &AccountView{}
	v.account = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.account.Truncation = fyne.TextTruncateEllipsis
	v.resource = widget.NewLabel("")
	v.resource.Importance = widget.LowImportance
	v.resource.SizeName = theme.SizeNameCaptionText
	v.resource.Truncation = fyne.TextTruncateEllipsis
	v.stateIcon = widget.NewIcon(theme.MediaRecordIcon())
	v.state = widget.NewLabel("")
	v.state.Truncation = fyne.TextTruncateEllipsis
	v.notice = widget.NewLabel("")
	v.notice.Importance = widget.WarningImportance
	v.notice.Wrapping = fyne.TextWrapWord
	v.noticeBox = container.NewBorder(nil, nil, nil,
		widget.NewButtonWithIcon("", theme.CancelIcon(), v.dismissNotice), v.notice)
	v.noticeBox.Hide()
	v.reconnectBtn = widget.NewButtonWithIcon("Reconnect now", theme.ViewRefreshIcon(), onReconnect)
	v.reconnectBtn.Hide()
	v.logoutBtn = widget.NewButtonWithIcon("Log out", theme.LogoutIcon(), onLogout)
	v.settingsBtn = widget.NewButtonWithIcon("", theme.SettingsIcon(), onSettings)

	// One line: ● the state, the account (or, online, the full address
	// with its resource) … Reconnect, Settings, Log out.
	buttons := container.NewHBox(v.reconnectBtn, v.settingsBtn, v.logoutBtn)
	who := container.NewStack(v.account, container.NewVBox(layout.NewSpacer(), v.resource, layout.NewSpacer()))
	v.line = container.New(stateLine{state: v.state}, v.state, who)
	line := container.NewBorder(nil, nil, v.stateIcon, buttons, v.line)
	v.content = container.NewVBox(line, v.noticeBox, widget.NewSeparator())
	return v
}

// stateLine lays the state out at its text's width (all the room when it
// is longer: it ends in "…") and the account or address in what is left,
// so the header is one line whatever the state says.
type stateLine struct{ state *widget.Label }

func (l stateLine) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	// The width of the same text in a label that is not truncated.
	// (A truncating label wants a few units more than that before it stops
	// shortening its text: measured, "Online" became "Onli…" without them.)
	natural := widget.NewLabelWithStyle(l.state.Text, l.state.Alignment, l.state.TextStyle)
	w := min(natural.MinSize().Width+theme.InnerPadding(), size.Width)
	objs[0].Move(fyne.NewPos(0, 0))
	objs[0].Resize(fyne.NewSize(w, size.Height))
	objs[1].Move(fyne.NewPos(w, 0))
	objs[1].Resize(fyne.NewSize(size.Width-w, size.Height))
}

func (l stateLine) MinSize(objs []fyne.CanvasObject) fyne.Size {
	return fyne.NewSize(objs[0].MinSize().Width+objs[1].MinSize().Width, max(objs[0].MinSize().Height, objs[1].MinSize().Height))
}

// dismissNotice hides the notice; OnNoticeSeen is told, so it is not
// shown again (it stays in the settings).
func (v *AccountView) dismissNotice() {
	v.noticeBox.Hide()
	v.dismissed = v.status.Notice
	if v.OnNoticeSeen != nil {
		v.OnNoticeSeen(v.status.Notice)
	}
}

// Content is the view's canvas object.
func (v *AccountView) Content() fyne.CanvasObject { return v.content }

// StateText is the connection state as shown.
func (v *AccountView) StateText() string { return v.state.Text }

// Update shows st; now is used for the time left before a reconnect.
func (v *AccountView) Update(st app.Status, now time.Time) {
	v.status = st
	v.account.SetText(st.Account)
	if st.JID != "" && st.Phase == app.Online {
		v.resource.SetText("Connected as " + st.JID)
		v.resource.Show()
		v.account.Hide()
	} else {
		v.resource.Hide()
		v.account.Show()
	}
	v.state.SetText(st.Describe(now))
	v.line.Refresh() // the state's width changed
	switch st.Phase {
	case app.Online:
		v.stateIcon.SetResource(theme.NewSuccessThemedResource(theme.MediaRecordIcon()))
	case app.Connecting, app.Waiting:
		v.stateIcon.SetResource(theme.NewWarningThemedResource(theme.MediaRecordIcon()))
	default:
		v.stateIcon.SetResource(theme.NewErrorThemedResource(theme.MediaRecordIcon()))
	}
	switch st.Phase {
	case app.Waiting:
		v.reconnectBtn.SetText("Reconnect now")
		v.reconnectBtn.Show()
	case app.Offline:
		// The engine gave up (another login took the resource, say):
		// nothing happens until the user asks.
		v.reconnectBtn.SetText("Reconnect")
		v.reconnectBtn.Show()
	default:
		v.reconnectBtn.Hide()
	}
	switch {
	case st.Notice == "" || st.Notice == v.dismissed:
		v.noticeBox.Hide()
	case v.noticeBox.Visible() && v.notice.Text == st.Notice:
	case v.SeenNotice != nil && v.SeenNotice(st.Notice):
		v.noticeBox.Hide() // shown in an earlier run: it is in the settings now
	default:
		v.notice.SetText(st.Notice)
		v.noticeBox.Show()
		if v.OnNoticeSeen != nil {
			v.OnNoticeSeen(st.Notice) // shown once; the next run leaves it out
		}
	}
}
