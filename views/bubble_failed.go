// A failed message's bubble: its meta line ("14:05 · Not sent: reason ·
// Retry"), the reason in a few words from the XMPP error condition, and
// the dialog that says in full why it was not sent, with Retry.
package views

import (
	"strings"
	"time"
	"unicode/utf8"

	"parley/app/store"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
)

// The meta line of a failed message ends in retryLabel, or in "Not sent:
// reason · Retry"; a tap on retryWord retries, before it shows the reason.
const (
	notSentLabel = "Not sent"
	retryWord    = "Retry"
	retryLabel   = notSentLabel + " · " + retryWord
)

// metaText is the time line of a message: "edited 14:05" and, for a failed
// message, the retry prompt with the short reason when one is known
// ("14:05 · Not sent: recipient unavailable · Retry").
func metaText(m *store.Message, loc *time.Location, withReason bool) string {
	s := m.Time.In(loc).Format("15:04")
	if m.Edited && !m.Retracted {
		s = "edited " + s
	}
	if m.Direction == store.Out && m.State == store.StateFailed {
		if r := shortFailure(m.Error); withReason && r != "" {
			s += " · " + notSentLabel + ": " + r + " · " + retryWord
		} else {
			s += " · " + retryLabel
		}
	}
	return s
}

// stanzaErrorPrefix starts the text of an XMPP error stored with a failed
// message ("server replied with an error: condition (text)").
const stanzaErrorPrefix = "server replied with an error: "

// failureWords say the usual RFC 6120 error conditions of a message in a
// few words.
var failureWords = map[string]string{
	"service-unavailable":     "recipient unavailable",
	"recipient-unavailable":   "recipient unavailable",
	"item-not-found":          "no such address",
	"gone":                    "address no longer used",
	"jid-malformed":           "invalid address",
	"remote-server-not-found": "their server not found",
	"remote-server-timeout":   "their server did not answer",
	"forbidden":               "not allowed",
	"not-allowed":             "not allowed",
	"not-authorized":          "not allowed",
	"policy-violation":        "refused by their server",
	"not-acceptable":          "refused by their server",
	"resource-constraint":     "server too busy",
	"internal-server-error":   "server error",
	"undefined-condition":     "server error",
	"feature-not-implemented": "not supported",
	"bad-request":             "rejected as invalid",
}

// maxFailureRunes bounds the reason shown in a meta line.
const maxFailureRunes = 32

// shortFailure is the reason a message failed, in a few words for its meta
// line ("" if none is known): the error condition in words, else the start
// of the stored text.
func shortFailure(errText string) string {
	errText = strings.TrimSpace(errText)
	if errText == "" {
		return ""
	}
	cond := strings.TrimPrefix(errText, stanzaErrorPrefix)
	if i := strings.IndexAny(cond, " ("); i >= 0 && cond != errText {
		cond = cond[:i]
	}
	if w, ok := failureWords[cond]; ok {
		return w
	}
	return clip(strings.Join(strings.Fields(strings.ReplaceAll(cond, "-", " ")), " "), maxFailureRunes)
}

// failureDetails says in full why a message failed, for the dialog a tap
// on the reason opens.
func failureDetails(errText string) string {
	errText = strings.TrimSpace(errText)
	if errText == "" {
		return "The message was not sent. The server gave no reason."
	}
	text := "The message was not sent."
	if r := shortFailure(errText); r != "" {
		text += " Reason: " + r + "."
	}
	return text + "\n\nThe server said: " + clip(errText, 2000)
}

// clip shortens s to at most n runes, ending it with "…" when cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:n-1]), " ") + "…"
}

// showFailure says why a message was not sent, with a button to retry.
func showFailure(v *chatView, m store.Message) {
	text := widget.NewLabel(failureDetails(m.Error))
	text.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustomConfirm("Message not sent", "Retry", "Close", text, func(again bool) {
		if again {
			v.retry(m)
		}
	}, v.c.win)
	d.Resize(fyne.NewSize(420, 0))
	d.Show()
}
