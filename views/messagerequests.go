// Message requests in the chats tab: conversations strangers (people not
// in the roster) started stay out of the conversation list; a "Message
// requests (n)" button above the list opens a panel with each one (who,
// their latest message, how many are unread) and Accept (the chat opens,
// then Parley offers to add them as a contact), Block (XEP-0191; the
// request goes) and Dismiss (the request and its messages are deleted).
package views

import (
	"context"
	"fmt"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/app/store"
)

// requestPreviewMax is how much of a request's latest message is shown.
const requestPreviewMax = 160

// messageRequests is the button and the panel.
type messageRequests struct {
	c    *ChatsView
	btn  *widget.Button
	list []store.Conversation // as last read
	dlg  *dialog.CustomDialog // the open panel, or nil
}

func newMessageRequests(c *ChatsView) *messageRequests {
	r := &messageRequests{c: c}
	r.btn = widget.NewButtonWithIcon("", theme.MailComposeIcon(), r.open)
	r.btn.Hide()
	return r
}

// set shows the requests as read (UI goroutine).
func (r *messageRequests) set(reqs []store.Conversation) {
	same := sameRequests(r.list, reqs)
	r.list = reqs
	if len(reqs) == 0 {
		r.btn.Hide()
		if r.dlg != nil {
			r.dlg.Hide()
			r.dlg = nil
		}
		return
	}
	r.btn.SetText("Message requests (" + strconv.Itoa(len(reqs)) + ")")
	r.btn.Show()
	if r.dlg != nil && !same {
		r.dlg.Hide()
		r.open() // the panel follows the list
	}
}

// sameRequests reports whether a and b show the same: the same people,
// unread counts and latest messages (the list is read again on every
// change of any conversation).
func sameRequests(a, b []store.Conversation) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Peer != b[i].Peer || a[i].Unread != b[i].Unread || (a[i].Last == nil) != (b[i].Last == nil) ||
			(a[i].Last != nil && a[i].Last.ID != b[i].Last.ID) {
			return false
		}
	}
	return true
}

// open shows the panel.
func (r *messageRequests) open() {
	rows := container.NewVBox()
	for _, conv := range r.list {
		rows.Add(r.row(conv))
		rows.Add(widget.NewSeparator())
	}
	intro := widget.NewLabel("People who are not in your contacts wrote to you. They do not know whether you read it until you accept.")
	intro.Wrapping = fyne.TextWrapWord
	scroll := container.NewVScroll(rows)
	scroll.SetMinSize(fyne.NewSize(460, 280))
	r.dlg = dialog.NewCustom("Message requests", "Close", container.NewBorder(intro, nil, nil, nil, scroll), r.c.win)
	r.dlg.SetOnClosed(func() { r.dlg = nil })
	r.dlg.Show()
}

// row is one request with its buttons.
func (r *messageRequests) row(conv store.Conversation) fyne.CanvasObject {
	peer := conv.Peer
	who := widget.NewLabelWithStyle(peer, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	who.Truncation = fyne.TextTruncateEllipsis
	preview := ""
	if conv.Last != nil {
		preview = conv.Last.Body
		if runes := []rune(preview); len(runes) > requestPreviewMax {
			preview = string(runes[:requestPreviewMax]) + "…"
		}
	}
	text := widget.NewLabel(preview)
	text.Wrapping = fyne.TextWrapWord
	count := widget.NewLabel(fmt.Sprintf("%d unread", conv.Unread))
	count.Importance = widget.LowImportance
	accept := widget.NewButtonWithIcon("Accept", theme.ConfirmIcon(), func() { r.accept(peer) })
	accept.Importance = widget.HighImportance
	block := widget.NewButtonWithIcon("Block", theme.CancelIcon(), func() { r.block(peer) })
	dismiss := widget.NewButtonWithIcon("Dismiss", theme.DeleteIcon(), func() { r.dismiss(peer) })
	return container.NewVBox(container.NewBorder(nil, nil, nil, count, who), text,
		container.NewHBox(accept, block, dismiss))
}

// runRequest runs op off the UI goroutine, saying what failed.
func (r *messageRequests) runRequest(what string, op func(ctx context.Context) error, after func()) {
	c := r.c
	if r.dlg != nil {
		r.dlg.Hide()
		r.dlg = nil
	}
	inBackgroundErr(c.do, func() error { return op(c.ctx) }, func(err error) {
		c.sayFailure(what)(err)
		if err == nil && after != nil {
			after()
		}
	})
}

// accept moves the request into the list, opens the chat and offers to
// add the person as a contact.
func (r *messageRequests) accept(peer string) {
	r.runRequest("Could not accept the message request of "+peer,
		func(ctx context.Context) error { return r.c.svc.AcceptRequest(ctx, peer) },
		func() {
			r.c.Open(peer, "")
			dialog.ShowConfirm("Add to contacts?",
				"Add "+peer+" to your contacts and ask to see when they are online?",
				func(yes bool) {
					if yes {
						r.addContact(peer)
					}
				}, r.c.win)
		})
}

// addContact adds peer to the roster (asking for their presence).
func (r *messageRequests) addContact(peer string) {
	r.runRequest("Could not add "+peer+" to your contacts",
		func(ctx context.Context) error { return r.c.contacts.Add(ctx, peer, "", "", "") },
		func() { r.c.setStatus(peer+" was added to your contacts.", widget.SuccessImportance) })
}

// block blocks peer and drops the request.
func (r *messageRequests) block(peer string) {
	r.runRequest("Could not block "+peer,
		func(ctx context.Context) error {
			if err := r.c.contacts.Block(ctx, peer); err != nil {
				return err
			}
			return r.c.svc.DismissRequest(ctx, peer)
		},
		func() { r.c.setStatus(peer+" is blocked.", widget.MediumImportance) })
}

// dismiss deletes the request and its messages.
func (r *messageRequests) dismiss(peer string) {
	r.runRequest("Could not dismiss the message request of "+peer,
		func(ctx context.Context) error { return r.c.svc.DismissRequest(ctx, peer) }, nil)
}
