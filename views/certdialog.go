// The "untrusted certificate" dialog: it shows the server's certificate
// fingerprint (AB:CD:...), subject and issuer, and lets the user trust that
// exact certificate for this account or cancel.
package views

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/app"
)

// certDialog is an open certificate dialog.
type certDialog struct {
	dlg         *dialog.CustomDialog
	fingerprint *widget.Label
	trustBtn    *widget.Button
	cancelBtn   *widget.Button
}

// showCertDialog shows the dialog; done(true) means Trust was chosen.
func showCertDialog(win fyne.Window, cert *app.UntrustedCertificateError, done func(trust bool)) *certDialog {
	d := &certDialog{}
	intro := widget.NewLabel("Parley cannot verify the identity of " + cert.Host + ": " + cert.Reason + ".\n" +
		"Only trust this certificate if you know it is the server's own, for example by comparing the fingerprint with what the server's administrator published.")
	intro.Wrapping = fyne.TextWrapWord

	d.fingerprint = widget.NewLabel(cert.Fingerprint)
	d.fingerprint.TextStyle = fyne.TextStyle{Monospace: true}
	d.fingerprint.Wrapping = fyne.TextWrapBreak
	d.fingerprint.Selectable = true

	details := widget.NewForm(
		widget.NewFormItem("SHA-256", d.fingerprint),
	)
	if cert.Subject != "" {
		details.Append("Subject", widget.NewLabel(cert.Subject))
	}
	if cert.Issuer != "" {
		details.Append("Issuer", widget.NewLabel(cert.Issuer))
	}
	content := container.NewVBox(intro, details)

	d.dlg = dialog.NewCustomWithoutButtons("Untrusted certificate", content, win)
	answered := false
	answer := func(trust bool) {
		if answered {
			return
		}
		answered = true
		d.dlg.Hide()
		done(trust)
	}
	d.cancelBtn = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() { answer(false) })
	d.trustBtn = widget.NewButtonWithIcon("Trust", theme.ConfirmIcon(), func() { answer(true) })
	d.trustBtn.Importance = widget.WarningImportance
	d.dlg.SetButtons([]fyne.CanvasObject{d.cancelBtn, d.trustBtn})
	d.dlg.SetOnClosed(func() { answer(false) })
	d.dlg.Show()
	d.dlg.Resize(fyne.NewSize(560, 0)) // after Show: the dialog sizes itself on show
	return d
}
