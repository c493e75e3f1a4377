// The composer side of the chats tab: sending the composer's text (in
// order with the chat states, which the chat service decides from what the
// view reports here), correcting our last message (Up, Enter, Escape), and
// the drafts each chat keeps, also when an xmpp: link brings a body.
package views

import (
	"strings"

	"parley/app"
	"parley/app/store"

	"fyne.io/fyne/v2/widget"
)

// currentDraft is the draft of the open chat: the composer text, or while
// editing a message the text from before the edit.
func (c *ChatsView) currentDraft() string {
	if c.editing != nil {
		return c.editDraft
	}
	return c.composer.Text
}

// draftFor is the kept draft of peer: as kept in this run, or as the
// history had it.
func (c *ChatsView) draftFor(peer string) string {
	if d, ok := c.svc.DraftOf(peer); ok {
		return d
	}
	return c.convByPeer[peer].Draft
}

// saveDraft hands text to the chat service as peer's draft (it keeps it
// in the history, off the UI goroutine).
func (c *ChatsView) saveDraft(peer, text string) {
	if text == c.draftFor(peer) {
		return
	}
	c.svc.KeepDraft(peer, text)
	c.list.list.Refresh()
}

// setComposerText sets the composer without it counting as typing.
func (c *ChatsView) setComposerText(text string) {
	c.settingTxt = true
	c.composer.setText(text)
	c.settingTxt = false
}

// send sends the composer text, or saves the correction being edited.
func (c *ChatsView) send() {
	peer := c.chat.peer
	text := strings.TrimRight(c.composer.Text, " \t\r\n")
	if peer == "" || strings.TrimSpace(text) == "" {
		return
	}
	// Too long to send (the server would close the connection on it):
	// say so, and leave the text (and an edit) in the composer to shorten.
	if err := app.CheckMessageSize(text); err != nil {
		c.setStatus(app.UserMessage(err), widget.DangerImportance)
		return
	}
	if c.editing != nil {
		target := *c.editing
		c.editing = nil
		c.editBar.Hide()
		c.setComposerText(c.editDraft)
		if target.Body == text {
			return
		}
		inBackgroundErr(c.do, func() error { return c.svc.Correct(c.ctx, peer, target, text) }, c.sayFailure("Could not correct the message"))
		return
	}
	c.setComposerText("")
	c.chat.followOwn()
	c.setStatus("", widget.MediumImportance)
	// In order with the chat states; it empties the draft.
	c.svc.SendMessage(peer, text, c.failedSend(peer, text))
	c.list.list.Refresh()
}

// failedSend is what a failed send of text to peer does: it says why and
// puts the text back in an empty composer of that chat.
func (c *ChatsView) failedSend(peer, text string) func(error) {
	return func(err error) {
		c.do(func() {
			c.setStatus("Could not send the message: "+app.UserMessage(err), widget.DangerImportance)
			if c.chat.peer == peer && c.composer.Text == "" {
				c.setComposerText(text)
			}
		})
	}
}

// editLast starts editing the last own message (Up in an empty composer).
func (c *ChatsView) editLast() bool {
	m, ok := c.chat.lastOwn()
	if !ok {
		return false
	}
	c.startEdit(m)
	return true
}

// startEdit puts one of our messages into the composer for correction.
func (c *ChatsView) startEdit(m store.Message) {
	if c.editing == nil {
		c.editDraft = c.composer.Text
	}
	c.editing = &m
	c.setComposerText(m.Body)
	c.editBar.Show()
	c.win.Canvas().Focus(c.composer)
}

// Editing reports whether the composer holds a correction.
func (c *ChatsView) Editing() bool { return c.editing != nil }

// cancelEdit gives the composer back its draft.
func (c *ChatsView) cancelEdit() {
	if c.editing == nil {
		return
	}
	c.editing = nil
	c.editBar.Hide()
	c.setComposerText(c.editDraft)
	c.win.Canvas().Focus(c.composer)
}

// escape cancels an edit (Escape in the composer).
func (c *ChatsView) escape() bool {
	if c.recorder != nil && c.recorder.escape() {
		return true
	}
	if c.editing == nil {
		return false
	}
	c.cancelEdit()
	return true
}

// composerChanged reports the person's typing to the chat service (which
// sends the chat states); text set by the program, and a correction being
// edited, are not typing.
func (c *ChatsView) composerChanged(text string) {
	peer := c.chat.peer
	if c.settingTxt || peer == "" || c.editing != nil {
		return
	}
	c.svc.ComposerChanged(peer, text)
}

// withLinkBody is the composer text after an xmpp: link's body arrives:
// the body alone, or the draft kept with the body on a new line after it
// (not twice when the same link is opened again).
func withLinkBody(draft, body string) string {
	kept := strings.TrimRight(draft, " \t\r\n")
	switch {
	case kept == "":
		return body
	case body == "" || strings.HasSuffix(kept, strings.TrimRight(body, " \t\r\n")):
		return draft
	}
	return kept + "\n" + body
}
