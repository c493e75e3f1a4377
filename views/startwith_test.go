// The empty chats tab offers the contacts to start a conversation with,
// and a click on one opens its chat.
package views

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"parley/app/apptest"
)

func TestEmptyChatsOfferContacts(t *testing.T) {
	srv := apptest.Shared(t)
	me := srv.LogIn(t, "uistartme")
	bob := srv.LogIn(t, "uistartbob")
	apptest.Befriend(t, me, bob, "")
	h := openChats(t, me.Svc, fyne.NewSize(900, 650), false)
	var btn *widget.Button
	h.wait("the friend offered in the empty chats tab", func() bool {
		for _, o := range h.v.startWith.Objects {
			if b, ok := o.(*widget.Button); ok && h.v.placeholder.Visible() {
				btn = b
			}
		}
		return btn != nil && len(h.v.convs) == 0
	})
	h.ui.do(func() { test.Tap(btn) })
	h.wait("the friend's chat open", func() bool { return h.v.chat.peer == bob.JID })
}
