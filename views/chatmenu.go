// What the person can do with one message of the open chat: open a link
// in it, retry it when it failed, and its menu (copy, select text, edit
// the last one of ours, retract with confirmation, why it was not sent,
// cancel a file's upload or download, save a file).
package views

import (
	"net/url"
	"unicode/utf8"

	"parley/app/store"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// openLink opens an http or https link in the browser.
func (v *chatView) openLink(link string) {
	u, err := url.Parse(link)
	if err != nil || !validLink(link) {
		return
	}
	if err := fyne.CurrentApp().OpenURL(u); err != nil {
		v.c.setStatus("Could not open "+link+": "+err.Error(), widget.DangerImportance)
	}
}

// cancelFile stops sending one of our files (Retry sends it again), or
// downloading a received one (a click fetches it again).
func (v *chatView) cancelFile(m store.Message) {
	svc, ctx := v.c.svc, v.c.ctx
	inBackgroundErr(v.c.do, func() error { return svc.CancelFile(ctx, m.ID) }, v.c.sayFailure("Could not cancel"))
}

// retry sends a failed message again.
func (v *chatView) retry(m store.Message) {
	svc, ctx := v.c.svc, v.c.ctx
	inBackgroundErr(v.c.do, func() error { return svc.Retry(ctx, m) }, v.c.sayFailure("Could not send the message again"))
}

// showMenu opens the menu of a message at an absolute position.
func (v *chatView) showMenu(m store.Message, at fyne.Position) {
	items := []*fyne.MenuItem{
		{Label: "Copy", Icon: theme.ContentCopyIcon(), Action: func() { v.copyMessage(m) }},
		{Label: "Select text…", Icon: theme.VisibilityIcon(), Action: func() { v.showText(m) }},
	}
	if m.Direction == store.Out && !m.Retracted {
		if last, ok := v.lastOwn(); ok && last.ID == m.ID {
			items = append(items, &fyne.MenuItem{Label: "Edit", Icon: theme.DocumentCreateIcon(), Action: func() { v.c.startEdit(m) }})
		}
		items = append(items, &fyne.MenuItem{Label: "Retract…", Icon: theme.DeleteIcon(), Action: func() { v.confirmRetract(m) }})
	}
	if m.Direction == store.Out && m.State == store.StateQueued && m.Attachment != nil {
		items = append(items, &fyne.MenuItem{Label: "Cancel sending", Icon: theme.CancelIcon(), Action: func() { v.cancelFile(m) }})
	}
	if _, downloading := v.c.transfers[m.ID]; downloading && m.Direction == store.In {
		items = append(items, &fyne.MenuItem{Label: "Cancel download", Icon: theme.CancelIcon(), Action: func() { v.cancelFile(m) }})
	}
	if m.Attachment != nil && m.Attachment.LocalPath != "" {
		items = append(items, &fyne.MenuItem{Label: "Save as…", Icon: theme.DocumentSaveIcon(), Action: func() { v.saveFile(m) }})
	}
	if m.Direction == store.Out && m.State == store.StateFailed {
		items = append(items, &fyne.MenuItem{Label: "Why not sent…", Icon: theme.WarningIcon(), Action: func() { showFailure(v, m) }},
			&fyne.MenuItem{Label: "Retry", Icon: theme.ViewRefreshIcon(), Action: func() { v.retry(m) }})
	}
	v.menu = fyne.NewMenu("", items...)
	widget.ShowPopUpMenuAtPosition(v.menu, v.c.win.Canvas(), at)
}

// showText shows a message's text in a box where any part can be selected
// and copied.
func (v *chatView) showText(m store.Message) {
	if utf8.RuneCountInString(m.Body) > bubbleMaxRunes {
		showWholeText(v, m) // an entry with the whole of a huge body would stall the window
		return
	}
	e := widget.NewMultiLineEntry()
	e.Wrapping = fyne.TextWrapWord
	text := plainText(m)
	e.SetText(text)
	e.OnChanged = func(s string) { // a copy to select from, not to edit
		if s != text {
			e.SetText(text)
		}
	}
	d := dialog.NewCustom("Message from "+m.Time.In(v.c.loc).Format("2 Jan 2006 15:04"), "Close", e, v.c.win)
	d.Resize(fyne.NewSize(480, 320))
	d.Show()
	v.c.win.Canvas().Focus(e)
}

// confirmRetract asks before retracting one of our messages.
func (v *chatView) confirmRetract(m store.Message) {
	peer := v.peer
	dialog.ShowConfirm("Retract message", "Retract this message? It is removed for you and, if their client supports it, for "+peer+".",
		func(ok bool) {
			if !ok {
				return
			}
			svc, ctx := v.c.svc, v.c.ctx
			inBackgroundErr(v.c.do, func() error { return svc.Retract(ctx, peer, m) }, v.c.sayFailure("Could not retract the message"))
		}, v.c.win)
}
