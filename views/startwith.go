// The chats tab before any conversation: instead of an empty pane, the
// contacts to start one with (online ones first, then by name, at most
// startWithMax), each a button that opens the chat.
package views

import (
	"cmp"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/app"
)

// startWithMax is how many contacts the empty chats tab offers.
const startWithMax = 8

// updateStartWith lists the contacts while there is no conversation
// (UI goroutine).
func (c *ChatsView) updateStartWith() {
	if c.startWith == nil {
		return
	}
	c.startWith.Objects = nil
	if len(c.convs) > 0 || len(c.byJID) == 0 {
		c.startWith.Hide() // hidden, it takes no room (the hint stays where it was)
		return
	}
	c.startWith.Show()
	contacts := make([]*app.Contact, 0, len(c.byJID))
	for _, ct := range c.byJID {
		if !ct.Blocked {
			contacts = append(contacts, ct)
		}
	}
	slices.SortFunc(contacts, func(a, b *app.Contact) int {
		if on := boolCmp(a.Show != app.ShowOffline, b.Show != app.ShowOffline); on != 0 {
			return on
		}
		return cmp.Compare(a.Name, b.Name)
	})
	if len(contacts) > startWithMax {
		contacts = contacts[:startWithMax]
	}
	title := widget.NewLabelWithStyle("No conversations yet. Start one with:", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	c.startWith.Add(title)
	for _, ct := range contacts {
		jid := ct.JID
		b := widget.NewButtonWithIcon(ct.Name, theme.MailComposeIcon(), func() { c.Open(jid, "") })
		b.Alignment = widget.ButtonAlignLeading
		c.startWith.Add(b)
	}
	c.startWith.Refresh()
}

// boolCmp orders true before false.
func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}
