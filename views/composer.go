// The composer: a multi-line entry where Enter sends, Shift+Enter starts a
// new line, Up in an empty composer edits the last own message, Escape
// cancels that edit, and pasting files or a picture offers to send them. Sending, editing and chat states are the chats view's
// business (chats.go); this widget only turns keys into those calls.
package views

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// composer is the message entry of the chat pane.
type composer struct {
	widget.Entry
	shift bool // a Shift key is held

	onSend     func()      // Enter
	onEditLast func() bool // Up in an empty composer; false: nothing to edit
	onEscape   func() bool // Escape; false: not handled
	onPaste    func() bool // Ctrl+V; false: paste the clipboard's text as usual
}

func newComposer() *composer {
	c := &composer{}
	c.MultiLine = true
	c.Wrapping = fyne.TextWrapWord
	c.SetPlaceHolder("Write a message… (Enter sends, Shift+Enter for a new line)")
	c.SetMinRowsVisible(2)
	c.ExtendBaseWidget(c)
	return c
}

// KeyDown notes Shift (the entry uses it for selection too).
func (c *composer) KeyDown(ev *fyne.KeyEvent) {
	if ev.Name == desktop.KeyShiftLeft || ev.Name == desktop.KeyShiftRight {
		c.shift = true
	}
	c.Entry.KeyDown(ev)
}

// KeyUp notes the release of Shift.
func (c *composer) KeyUp(ev *fyne.KeyEvent) {
	if ev.Name == desktop.KeyShiftLeft || ev.Name == desktop.KeyShiftRight {
		c.shift = false
	}
	c.Entry.KeyUp(ev)
}

// FocusLost forgets Shift: its release may go to another widget.
func (c *composer) FocusLost() {
	c.shift = false
	c.Entry.FocusLost()
}

// TypedKey sends on Enter; Shift+Enter falls through to the entry, which
// inserts a new line (OnSubmitted is nil).
func (c *composer) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		if !c.shift {
			if c.onSend != nil && !c.Disabled() {
				c.onSend()
			}
			return
		}
	case fyne.KeyUp:
		if c.Text == "" && c.onEditLast != nil && c.onEditLast() {
			return
		}
	case fyne.KeyEscape:
		if c.onEscape != nil && c.onEscape() {
			return
		}
	}
	c.Entry.TypedKey(ev)
}

// TypedShortcut gives a paste to onPaste first (files or a picture on the
// clipboard are sent, not pasted as text).
func (c *composer) TypedShortcut(s fyne.Shortcut) {
	if _, ok := s.(*fyne.ShortcutPaste); ok && c.onPaste != nil && c.onPaste() {
		return
	}
	c.Entry.TypedShortcut(s)
}

// setText replaces the text and puts the cursor at its end.
func (c *composer) setText(text string) {
	c.SetText(text)
	row, col := 0, 0
	for _, r := range text {
		if r == '\n' {
			row++
			col = 0
		} else {
			col++
		}
	}
	c.CursorRow, c.CursorColumn = row, col
	c.Refresh()
}
