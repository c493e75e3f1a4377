// Window tests of message requests with real accounts on the test
// Prosody: a stranger's message is not in the conversation list but
// behind "Message requests (1)"; Accept lists it, opens the chat and
// offers to add them as a contact; Dismiss deletes a request; Block blocks
// the stranger and drops the request.
package views

import (
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"parley/app/apptest"
)

func TestMessageRequestsAcceptDismissBlock(t *testing.T) {
	srv := apptest.Shared(t)
	me := srv.LogIn(t, "uireq")
	spam := srv.LogIn(t, "uispam")
	other := srv.LogIn(t, "uiother")
	third := srv.LogIn(t, "uithird")
	h := openChats(t, me.Svc, fyne.NewSize(900, 600), false)
	ctx := ctxFor(t)

	if _, err := spam.Svc.Chats().Send(ctx, me.JID, "hello from a stranger"); err != nil {
		t.Fatal(err)
	}
	h.wait("the message request", func() bool {
		return h.v.requests.btn.Visible() && h.v.requests.btn.Text == "Message requests (1)"
	})
	h.ui.do(func() {
		if h.v.list.index(spam.JID) >= 0 {
			t.Error("the stranger's conversation is in the list")
		}
		if h.unread != 0 {
			t.Errorf("unread %d: the request is counted", h.unread)
		}
		test.Tap(h.v.requests.btn)
		if h.v.requests.dlg == nil {
			t.Fatal("the requests panel did not open")
		}
		h.v.requests.accept(spam.JID)
	})
	h.wait("the accepted chat listed and open", func() bool {
		return h.v.list.index(spam.JID) >= 0 && h.v.Peer() == spam.JID && !h.v.requests.btn.Visible()
	})
	h.ui.do(func() {
		if top := h.w.Canvas().Overlays().Top(); top == nil {
			t.Error("no prompt to add the stranger as a contact")
		}
	})

	// Dismiss: the request and its messages go.
	if _, err := other.Svc.Chats().Send(ctx, me.JID, "another stranger"); err != nil {
		t.Fatal(err)
	}
	h.wait("the second request", func() bool { return h.v.requests.btn.Visible() })
	h.ui.do(func() { h.v.requests.dismiss(other.JID) })
	h.wait("the request dismissed", func() bool { return !h.v.requests.btn.Visible() })
	if msgs, err := apptest.History(ctx, me.Svc.Chats(), other.JID); err != nil || len(msgs) != 0 {
		t.Errorf("the dismissed request's messages are still there: %s (%v)", apptest.DescribeMessages(msgs), err)
	}

	// Block: blocked, and the request goes.
	if _, err := third.Svc.Chats().Send(ctx, me.JID, "spam, spam, spam"); err != nil {
		t.Fatal(err)
	}
	h.wait("the third request", func() bool { return h.v.requests.btn.Visible() })
	h.ui.do(func() { h.v.requests.block(third.JID) })
	h.wait("the request gone after Block", func() bool { return !h.v.requests.btn.Visible() })
	waitCond(t, "the stranger blocked", func() bool { return slices.Contains(me.Svc.Contacts().Snapshot().Blocked, third.JID) })
}
