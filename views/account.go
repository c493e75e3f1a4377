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

	reconnectBtn *widget.Button
	settingsBtn  *widget.Button // the voice settings, for now (voicesettings.go)
	logoutBtn    *widget.Button

	status  app.Status
	content fyne.CanvasObject
}

func newAccountView(onReconnect, onLogout, onSettings func()) *AccountView {
	v := &AccountView{}
	v.account = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.account.SizeName = theme.SizeNameSubHeadingText
	v.resource = widget.NewLabel("")
	v.resource.Importance = widget.LowImportance
	v.stateIcon = widget.NewIcon(theme.MediaRecordIcon())
	v.state = widget.NewLabel("")
	v.state.Wrapping = fyne.TextWrapWord
	v.notice = widget.NewLabel("")
	v.notice.Importance = widget.WarningImportance
	v.notice.Wrapping = fyne.TextWrapWord
	v.notice.Hide()
	v.reconnectBtn = widget.NewButtonWithIcon("Reconnect now", theme.ViewRefreshIcon(), onReconnect)
	v.reconnectBtn.Hide()
	v.logoutBtn = widget.NewButtonWithIcon("Log out", theme.LogoutIcon(), onLogout)
	v.settingsBtn = widget.NewButtonWithIcon("", theme.SettingsIcon(), onSettings)

	stateRow := container.NewBorder(nil, nil, v.stateIcon, nil, v.state)
	who := container.NewVBox(v.account, v.resource)
	buttons := container.NewHBox(v.reconnectBtn, v.settingsBtn, v.logoutBtn)
	v.content = container.NewVBox(
		container.NewBorder(nil, nil, nil, container.NewCenter(buttons), who),
		stateRow,
		v.notice,
		widget.NewSeparator(),
	)
	return v
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
	} else {
		v.resource.Hide()
	}
	v.state.SetText(st.Describe(now))
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
	if st.Notice != "" {
		v.notice.SetText(st.Notice)
		v.notice.Show()
	} else {
		v.notice.Hide()
	}
}
