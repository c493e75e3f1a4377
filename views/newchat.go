// The "New chat" dialog of the chats tab: it asks for an address, says
// why one is refused, and opens the chat.
package views

import (
	"strings"

	"parley/app"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
)

// newChatDialog asks for the address to start a chat with.
type newChatDialog struct {
	dlg   *dialog.CustomDialog
	entry *widget.Entry
	err   *widget.Label
	ok    *widget.Button
}

// openNewChat asks for an address and opens a chat with it.
func (c *ChatsView) openNewChat() {
	d := &newChatDialog{}
	d.entry = widget.NewEntry()
	d.entry.SetPlaceHolder("name@example.org")
	d.err = widget.NewLabel("")
	d.err.Importance = widget.DangerImportance
	d.err.Wrapping = fyne.TextWrapWord
	d.err.Hide()
	submit := func() {
		jid := strings.TrimSpace(d.entry.Text)
		if jid == "" {
			return
		}
		d.ok.Disable()
		inBackground(c.do, func() (string, error) { return c.svc.StartConversation(c.ctx, jid) }, func(peer string, err error) {
			d.ok.Enable()
			if err != nil {
				d.err.SetText(app.UserMessage(err))
				d.err.Show()
				return
			}
			d.dlg.Hide()
			c.show(peer, nil, nil)
		})
	}
	d.entry.OnSubmitted = func(string) { submit() }
	d.ok = widget.NewButton("Chat", submit)
	d.ok.Importance = widget.HighImportance
	cancel := widget.NewButton("Cancel", func() { d.dlg.Hide() })
	form := widget.NewForm(widget.NewFormItem("Address", d.entry))
	d.dlg = dialog.NewCustomWithoutButtons("New chat", container.NewVBox(form, d.err), c.win)
	d.dlg.SetButtons([]fyne.CanvasObject{cancel, d.ok})
	d.dlg.SetOnClosed(func() {
		if c.newChat == d {
			c.newChat = nil
		}
	})
	c.newChat = d
	d.dlg.Resize(fyne.NewSize(400, 0))
	d.dlg.Show()
	c.win.Canvas().Focus(d.entry)
}
