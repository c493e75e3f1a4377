// The Add contact dialog: address (validated as typed), nickname, group
// (pick an existing one or type a new one) and an optional message for the
// subscription request. Enter in any field submits; the dialog stays open
// and disabled while the server answers and shows the error if it fails.
package views

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"parley/app"
)

// addDialog is the open Add contact dialog.
type addDialog struct {
	v   *ContactsView
	dlg *dialog.CustomDialog

	jid      *widget.Entry
	jidHint  *widget.Label
	nick     *widget.Entry
	group    *widget.SelectEntry
	message  *widget.Entry
	addBtn   *widget.Button
	progress *widget.ProgressBarInfinite
	errText  *widget.Label

	busy   bool
	cancel func()
}

// openAddDialog shows the Add contact dialog with the focus on the address.
func (v *ContactsView) openAddDialog() {
	if v.add != nil {
		v.add.dlg.Show()
		return
	}
	d := &addDialog{v: v}
	d.jid = widget.NewEntry()
	d.jid.SetPlaceHolder("name@example.org")
	d.jid.OnChanged = func(string) { d.validate(false) }
	d.jidHint = widget.NewLabel("")
	d.jidHint.Importance = widget.DangerImportance
	d.jidHint.Wrapping = fyne.TextWrapWord
	d.jidHint.Hide()
	d.nick = widget.NewEntry()
	d.nick.SetPlaceHolder("optional")
	d.group = widget.NewSelectEntry(v.groups())
	d.group.SetPlaceHolder(defaultGroup)
	d.message = widget.NewEntry()
	d.message.SetPlaceHolder("optional: a note with your request")
	for _, e := range []*widget.Entry{d.jid, d.nick, &d.group.Entry, d.message} {
		e.OnSubmitted = func(string) { d.submit() }
	}
	d.progress = widget.NewProgressBarInfinite()
	d.progress.Stop()
	d.progress.Hide()
	d.errText = widget.NewLabel("")
	d.errText.Importance = widget.DangerImportance
	d.errText.Wrapping = fyne.TextWrapWord
	d.errText.Hide()

	d.addBtn = widget.NewButton("Add", d.submit)
	d.addBtn.Importance = widget.HighImportance
	cancelBtn := widget.NewButton("Cancel", func() {
		if d.cancel != nil {
			d.cancel()
		}
		d.dlg.Hide()
	})
	form := widget.NewForm(
		widget.NewFormItem("Address", d.jid),
		widget.NewFormItem("Nickname", d.nick),
		widget.NewFormItem("Group", d.group),
		widget.NewFormItem("Message", d.message),
	)
	content := container.NewVBox(form, d.jidHint, d.progress, d.errText)
	d.dlg = dialog.NewCustomWithoutButtons("Add contact", content, v.win)
	d.dlg.SetButtons([]fyne.CanvasObject{cancelBtn, d.addBtn})
	d.dlg.SetOnClosed(func() {
		if v.add == d {
			v.add = nil
		}
	})
	v.add = d
	d.dlg.Show()
	d.dlg.Resize(fyne.NewSize(460, 0))
	v.win.Canvas().Focus(d.jid)
}

// validate shows why the address is not valid; with strict an empty one
// is an error too. It returns the normalized address, or "".
func (d *addDialog) validate(strict bool) string {
	text := strings.TrimSpace(d.jid.Text)
	if text == "" && !strict {
		d.jidHint.Hide()
		return ""
	}
	jid, err := app.ValidateJID(text)
	if err != nil {
		d.jidHint.SetText(app.UserMessage(err))
		d.jidHint.Show()
		return ""
	}
	d.jidHint.Hide()
	return jid
}

// submit adds the contact off the UI goroutine (Add, Enter).
func (d *addDialog) submit() {
	if d.busy {
		return
	}
	jid := d.validate(true)
	if jid == "" {
		d.v.win.Canvas().Focus(d.jid)
		return
	}
	nick := strings.TrimSpace(d.nick.Text)
	group := strings.TrimSpace(d.group.Text)
	if group == defaultGroup {
		group = ""
	}
	message := strings.TrimSpace(d.message.Text)
	d.setBusy(true)
	d.errText.Hide()
	d.cancel = d.v.run("Adding "+jid+"…",
		func(ctx context.Context) error { return d.v.svc.Add(ctx, jid, nick, group, message) },
		"Added "+jid+"; they have been asked to share their presence.", "",
		func(err error) {
			d.cancel = nil
			d.setBusy(false)
			if err != nil {
				d.errText.SetText(app.UserMessage(err))
				d.errText.Show()
				d.v.win.Canvas().Focus(d.jid)
				return
			}
			d.dlg.Hide()
			d.v.selectContact(jid)
		})
}

func (d *addDialog) setBusy(busy bool) {
	d.busy = busy
	for _, w := range []disableable{d.jid, d.nick, d.group, d.message, d.addBtn} {
		if busy {
			w.Disable()
		} else {
			w.Enable()
		}
	}
	if busy {
		d.progress.Show()
		d.progress.Start()
	} else {
		d.progress.Stop()
		d.progress.Hide()
	}
}
