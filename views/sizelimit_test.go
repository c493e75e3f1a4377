// Tests of a message too long to send (over app.MaxMessageBytes, as
// pasted): Enter leaves it in the composer, the status line says why and
// by how much, nothing is stored; a correction too long stays in the
// composer with the edit open; a shorter text then goes as usual.
package views

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"

	"parley/app"
	"parley/app/store"
)

func TestTooLongMessageStaysInComposer(t *testing.T) {
	mine := outMsg(bobJID, "short and sent", at(14, 10, 0), "a1", store.StateSent)
	svc := seedService(t, meJID, []store.Message{mine})
	h := openChats(t, svc, fyne.NewSize(820, 600), false)
	h.openPeer(bobJID)
	// 13 bytes escaped a line ("a &lt; b&#xA;"): 5,000 lines take 64 KB
	// escaped, 30 KB as typed.
	huge := strings.Repeat("a < b\n", 5000) + "end"
	want := app.UserMessage(app.CheckMessageSize(huge))
	if !strings.HasPrefix(want, "This message is too long to send (64 KB; the limit is 60 KB)") {
		t.Fatalf("the message for it is %q", want)
	}
	enter := func() { h.v.composer.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) }

	h.ui.do(func() {
		h.v.composer.SetText(huge) // pasted
		enter()
		if h.v.composer.Text != huge {
			t.Errorf("the composer lost the text: %d bytes left of %d", len(h.v.composer.Text), len(huge))
		}
		if got := h.v.StatusText(); got != want {
			t.Errorf("status %q, want %q", got, want)
		}
	})

	// A correction too long: the edit stays open with the text.
	h.ui.do(func() {
		h.v.startEdit(mine)
		h.v.composer.SetText(huge)
		enter()
		if !h.v.Editing() || h.v.composer.Text != huge {
			t.Errorf("after Enter on a correction too long: editing %v, composer %d bytes of %d", h.v.Editing(), len(h.v.composer.Text), len(huge))
		}
		if got := h.v.StatusText(); got != want {
			t.Errorf("status %q, want %q", got, want)
		}
		h.v.cancelEdit()
	})

	// A shorter text goes, and the status line clears.
	h.ui.do(func() {
		h.v.composer.SetText("shorter now")
		enter()
	})
	h.wait("the shorter message sent", func() bool { return h.v.composer.Text == "" && h.v.StatusText() == "" })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var msgs []store.Message
	waitCond(t, "the shorter message stored", func() bool {
		var err error
		msgs, err = svc.Chats().Latest(ctx, bobJID, 10)
		return err == nil && len(msgs) == 2 && msgs[1].Body == "shorter now"
	})
	if msgs[0].Body != "short and sent" || msgs[0].Edited {
		t.Errorf("the first message became %+v", msgs[0])
	}
}
