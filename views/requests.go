// The subscription requests panel: opened from "Requests (n)", it lists
// each inbound request (nick and JID, their message) with "Add them to my
// contacts too" (on by default), Accept and Deny; it shows each request's
// progress or error and the outcome of the last answer, and follows the
// snapshots while open.
package views

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"parley/app"
)

// requestState is what the panel knows about one request beyond the snapshot.
type requestState struct {
	addBack  bool
	busy     string // "Accepting…" while the answer is being sent
	err      string // why the last answer failed
	answered bool   // answered; waiting for the snapshot to drop it
}

// requestsPanel is the requests dialog and its state.
type requestsPanel struct {
	v        *ContactsView
	requests []app.Request
	state    map[string]*requestState

	dlg   *dialog.CustomDialog // nil until first opened
	shown bool
	list  *widget.List
	empty *widget.Label
	note  *widget.Label // the outcome of the last answer
}

func newRequestsPanel(v *ContactsView) *requestsPanel {
	p := &requestsPanel{v: v, state: map[string]*requestState{}}
	p.list = widget.NewList(
		func() int { return len(p.requests) },
		func() fyne.CanvasObject { return newRequestRow(p) },
		func(id widget.ListItemID, o fyne.CanvasObject) { o.(*requestRow).update(id) },
	)
	p.empty = widget.NewLabel("No pending requests.")
	p.empty.Alignment = fyne.TextAlignCenter
	p.empty.Importance = widget.LowImportance
	p.note = widget.NewLabel("")
	p.note.Truncation = fyne.TextTruncateEllipsis
	p.note.Importance = widget.SuccessImportance
	p.note.Hide()
	return p
}

// stateOf returns (making it) the state of jid's request.
func (p *requestsPanel) stateOf(jid string) *requestState {
	st := p.state[jid]
	if st == nil {
		st = &requestState{addBack: true}
		p.state[jid] = st
	}
	return st
}

// update follows the snapshot's requests.
func (p *requestsPanel) update(reqs []app.Request) {
	p.requests = reqs
	live := make(map[string]bool, len(reqs))
	for _, r := range reqs {
		live[r.JID] = true
	}
	for jid, st := range p.state {
		if !live[jid] && st.busy == "" {
			delete(p.state, jid)
		}
	}
	if len(reqs) == 0 {
		p.empty.Show()
	} else {
		p.empty.Hide()
	}
	if p.shown {
		p.list.Refresh()
	}
}

// open shows the panel.
func (p *requestsPanel) open() {
	if p.dlg == nil {
		body := container.NewBorder(p.note, nil, nil, nil, container.NewStack(p.list, container.NewVBox(p.empty)))
		p.dlg = dialog.NewCustom("Contact requests", "Close", body, p.v.win)
		p.dlg.SetOnClosed(func() { p.shown = false })
	}
	p.note.Hide()
	p.shown = true
	p.list.Refresh()
	p.dlg.Show()
	p.dlg.Resize(fyne.NewSize(520, 440))
}

// answer accepts or denies the request of jid.
func (p *requestsPanel) answer(jid string, accept bool) {
	st := p.stateOf(jid)
	if st.busy != "" || st.answered {
		return
	}
	st.err = ""
	var what, ok, fail string
	var op func(context.Context) error
	if accept {
		addBack := st.addBack
		what, fail = "Accepting "+jid+"…", "Could not accept "+jid
		ok = "Accepted " + jid + ": they see your presence."
		if addBack {
			ok = "Accepted " + jid + " and asked to see their presence."
		}
		op = func(ctx context.Context) error { return p.v.svc.Accept(ctx, jid, addBack) }
	} else {
		what, fail = "Denying "+jid+"…", "Could not deny "+jid
		ok = "Denied " + jid + "."
		op = func(ctx context.Context) error { return p.v.svc.Deny(ctx, jid) }
	}
	st.busy = what
	p.list.Refresh()
	p.v.run(what, op, ok, fail, func(err error) {
		st.busy = ""
		if err != nil {
			st.err = app.UserMessage(err)
		} else {
			st.answered = true
			p.note.SetText(ok)
			p.note.Show()
		}
		// Drop the state of a request the snapshot no longer has.
		p.update(p.requests)
		p.list.Refresh()
	})
}

// requestRow is the recycled row of one request.
type requestRow struct {
	widget.BaseWidget
	p   *requestsPanel
	jid string

	who     *widget.Label
	message *widget.Label
	state   *widget.Label
	addBack *widget.Check
	accept  *widget.Button
	deny    *widget.Button
}

func newRequestRow(p *requestsPanel) *requestRow {
	r := &requestRow{p: p}
	r.who = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	r.who.Truncation = fyne.TextTruncateEllipsis
	r.message = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
	r.message.Truncation = fyne.TextTruncateEllipsis
	r.state = widget.NewLabel("")
	r.state.Truncation = fyne.TextTruncateEllipsis
	r.addBack = widget.NewCheck("Add them to my contacts too", func(on bool) {
		if r.jid != "" {
			r.p.stateOf(r.jid).addBack = on
		}
	})
	r.accept = widget.NewButton("Accept", func() { r.p.answer(r.jid, true) })
	r.accept.Importance = widget.HighImportance
	r.deny = widget.NewButton("Deny", func() { r.p.answer(r.jid, false) })
	r.ExtendBaseWidget(r)
	return r
}

// CreateRenderer implements fyne.Widget.
func (r *requestRow) CreateRenderer() fyne.WidgetRenderer {
	buttons := container.NewHBox(r.addBack, layout.NewSpacer(), r.deny, r.accept)
	return widget.NewSimpleRenderer(container.NewVBox(r.who, r.message, buttons, r.state))
}

func (r *requestRow) update(id int) {
	if id < 0 || id >= len(r.p.requests) {
		return
	}
	req := r.p.requests[id]
	r.jid = "" // the check's callback must not write while it is being set
	st := r.p.stateOf(req.JID)
	r.addBack.SetChecked(st.addBack)
	r.jid = req.JID
	who := req.JID
	if req.Nick != "" {
		who = req.Nick + " (" + req.JID + ")"
	}
	r.who.SetText(who)
	if req.Message != "" {
		r.message.SetText("“" + req.Message + "”")
	} else {
		r.message.SetText("No message.")
	}
	switch {
	case st.busy != "":
		r.state.Importance = widget.MediumImportance
		r.state.SetText(st.busy)
	case st.err != "":
		r.state.Importance = widget.DangerImportance
		r.state.SetText(st.err)
	case st.answered:
		r.state.Importance = widget.SuccessImportance
		r.state.SetText("Answered.")
	default:
		r.state.SetText("")
	}
	if st.busy != "" || st.answered {
		r.accept.Disable()
		r.deny.Disable()
		r.addBack.Disable()
	} else {
		r.accept.Enable()
		r.deny.Enable()
		r.addBack.Enable()
	}
}
