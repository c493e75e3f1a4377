// Tests of a failed message's bubble: its meta line says why it was not
// sent, a tap on the reason explains it in full, a tap on "Retry" retries.
package views

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"

	"parley/app/store"
)

func TestShortFailure(t *testing.T) {
	for in, want := range map[string]string{
		"": "",
		"server replied with an error: service-unavailable":                            "recipient unavailable",
		"server replied with an error: item-not-found (User session not found)":        "no such address",
		"server replied with an error: remote-server-not-found":                        "their server not found",
		"server replied with an error: some-new-condition (text)":                      "some new condition",
		"the connection was closed before the server took the message, twice in a row": "the connection was closed befor…",
	} {
		if got := shortFailure(in); got != want {
			t.Errorf("shortFailure(%q) = %q, want %q", in, got, want)
		}
		if n := len([]rune(shortFailure(in))); n > maxFailureRunes {
			t.Errorf("shortFailure(%q) has %d characters", in, n)
		}
	}
	if d := failureDetails("server replied with an error: service-unavailable (User session not found)"); !strings.Contains(d, "recipient unavailable") || !strings.Contains(d, "User session not found") {
		t.Errorf("details: %q", d)
	}
}

func TestFailedMessageSaysWhy(t *testing.T) {
	failed := outMsg(bobJID, "This one bounced", at(14, 10, 5), "f1", store.StateFailed)
	failed.Error = "server replied with an error: service-unavailable (User session not found)"
	noReason := outMsg(bobJID, "No reason known", at(14, 10, 6), "f2", store.StateFailed)
	svc := seedService(t, meJID, []store.Message{failed, noReason})
	h := openChats(t, svc, fyne.NewSize(820, 600), true)
	h.openPeer(bobJID)
	h.ui.do(func() {
		r, ok := h.rowFor("bounced")
		if !ok {
			t.Fatal("the failed message is not on screen")
		}
		if want := "10:05 · Not sent: recipient unavailable · Retry"; r.meta != want {
			t.Errorf("meta %q, want %q", r.meta, want)
		}
		if r2, _ := h.rowFor("No reason"); r2.meta != "10:06 · "+retryLabel {
			t.Errorf("without a reason: meta %q", r2.meta)
		}
		rv, lay := r.view, r.view.row.lay
		o := rv.bubbleOrigin(rv.Size().Width)
		y := o.Y + lay.metaY + lay.metaH/2
		onReason := fyne.NewPos(o.X+lay.metaX+(lay.retryX-lay.metaX)/2, y)
		onRetry := fyne.NewPos(o.X+lay.retryX+3, y)
		if retry, reason := rv.failedMetaAt(onReason); retry || !reason {
			t.Errorf("on the reason: retry %v, reason %v", retry, reason)
		}
		if retry, reason := rv.failedMetaAt(onRetry); !retry || reason {
			t.Errorf("on Retry: retry %v, reason %v", retry, reason)
		}
		// "Retry" is drawn where the tap target starts.
		caption := h.v.chat.captionSize()
		want := lay.metaW - tickWidth(lay.ticks, lay.metaH) - fyne.MeasureText(retryWord, caption, fyne.TextStyle{}).Width
		if d := (lay.retryX - lay.metaX) - want; d < -1 || d > 1 {
			t.Errorf("Retry starts %v into the meta line, drawn at %v", lay.retryX-lay.metaX, want)
		}
		rv.Tapped(&fyne.PointEvent{Position: onReason})
		if !dialogShowsText(h.w.Canvas(), "User session not found") || !dialogShowsText(h.w.Canvas(), "recipient unavailable") {
			t.Error("a tap on the reason shows no dialog with the server's text")
		}
		h.w.Canvas().Overlays().Top().Hide()
	})
	// A narrow window has no room for the reason: the short prompt stays.
	h.ui.do(func() { h.w.Resize(fyne.NewSize(480, 600)) })
	h.ui.do(func() {
		r, ok := h.rowFor("bounced")
		if !ok {
			t.Fatal("the failed message is not on screen")
		}
		if r.meta != "10:05 · "+retryLabel || r.view.row.lay.w > bubbleMaxW(h.v.chat.width)+0.5 {
			t.Errorf("list %v: meta %q, bubble %v wide, at most %v", h.v.chat.width, r.meta, r.view.row.lay.w, bubbleMaxW(h.v.chat.width))
		}
	})
}
