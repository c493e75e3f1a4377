// What the chats tab shows around the messages: the open chat's header
// (avatar, name, address), the typing indicator, the status line above the
// composer (what failed, and why) and the archive catch-up's progress under
// the conversation list.
package views

import (
	"strconv"
	"strings"

	"parley/app"

	"fyne.io/fyne/v2/widget"
)

// applySync shows the archive catch-up progress.
func (c *ChatsView) applySync(p app.SyncProgress) {
	switch {
	case p.Active:
		text := "Fetching messages from the server…"
		switch {
		case p.Total > 0 && p.Fetched <= p.Total:
			text = "Fetching messages from the server… " + strconv.Itoa(p.Fetched) + " of " + strconv.Itoa(p.Total)
		case p.Fetched > 0:
			text = "Fetching messages from the server… " + strconv.Itoa(p.Fetched) + " so far"
		}
		c.syncLabel.Importance = widget.MediumImportance
		c.syncLabel.SetText(text)
		c.syncAct.Show()
		c.syncAct.Start()
		c.syncBox.Show()
	case p.Err != nil:
		c.syncLabel.Importance = widget.DangerImportance
		c.syncLabel.SetText("Fetching messages from the server failed: " + app.UserMessage(p.Err))
		c.syncAct.Stop()
		c.syncAct.Hide()
		c.syncBox.Show()
	case c.problem != "":
		// Stays until Parley restarts: a message was lost here.
		c.syncLabel.Importance = widget.DangerImportance
		c.syncLabel.SetText(c.problem)
		c.syncAct.Stop()
		c.syncAct.Hide()
		c.syncBox.Show()
	default:
		c.syncAct.Stop()
		c.syncBox.Hide()
	}
}

// SyncText is the catch-up line as shown ("" when hidden).
func (c *ChatsView) SyncText() string {
	if !c.syncBox.Visible() {
		return ""
	}
	return c.syncLabel.Text
}

// updateHeader shows the open chat's peer above the messages.
func (c *ChatsView) updateHeader() {
	peer := c.chat.peer
	if peer == "" {
		return
	}
	ct := c.contactFor(peer)
	c.hdrAvatar.set(ct, c.avatars.get(ct.AvatarHash))
	setText(c.hdrName, ct.Name)
	setText(c.hdrJID, peer)
	if ct.Name == peer {
		c.hdrJID.Hide()
	} else {
		c.hdrJID.Show()
	}
}

// updateTyping shows whether the open chat's peer is typing.
func (c *ChatsView) updateTyping() {
	text := " "
	if peer := c.chat.peer; peer != "" && c.typing[peer] == app.ChatStateComposing {
		text = c.displayName(peer) + " is typing…"
	}
	setText(c.typingLabel, text)
}

// TypingText is the typing indicator of the open chat ("" when none).
func (c *ChatsView) TypingText() string { return strings.TrimSpace(c.typingLabel.Text) }

// setStatus shows a line above the composer ("" hides it).
func (c *ChatsView) setStatus(text string, imp widget.Importance) {
	c.status.Importance = imp
	c.status.SetText(text)
	if text == "" {
		c.status.Hide()
	} else {
		c.status.Show()
	}
}

// sayFailure is what shows the failure of work started in the background
// on the status line, as "what: why".
func (c *ChatsView) sayFailure(what string) func(error) {
	return func(err error) {
		if err != nil {
			c.setStatus(what+": "+app.UserMessage(err), widget.DangerImportance)
		}
	}
}

// StatusText is the status line as shown.
func (c *ChatsView) StatusText() string { return c.status.Text }
