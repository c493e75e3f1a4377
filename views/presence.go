// Presence in the contacts UI: the colour of the presence dot for each
// app.Show, the dot widget itself, and the own-presence selector (Online,
// Away, Not available, Busy with a status message) that shows the current
// own presence and persists changes through ContactsService.SetOwnPresence.
package views

import (
	"context"
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"parley/app"
)

// Presence dot colours, one per app.Show.
var (
	colorOnline  = color.NRGBA{R: 0x2e, G: 0xb3, B: 0x4a, A: 0xff} // green
	colorAway    = color.NRGBA{R: 0xf2, G: 0xa9, B: 0x00, A: 0xff} // amber
	colorXA      = color.NRGBA{R: 0xe0, G: 0x6c, B: 0x00, A: 0xff} // dark orange
	colorDND     = color.NRGBA{R: 0xd9, G: 0x30, B: 0x25, A: 0xff} // red
	colorOffline = color.NRGBA{R: 0x9e, G: 0x9e, B: 0x9e, A: 0xff} // grey
)

// presenceColor is the colour of the presence dot for s.
func presenceColor(s app.Show) color.Color {
	switch s {
	case app.ShowChat, app.ShowOnline:
		return colorOnline
	case app.ShowAway:
		return colorAway
	case app.ShowXA:
		return colorXA
	case app.ShowDND:
		return colorDND
	}
	return colorOffline
}

// presenceDotSize is the diameter of a presence dot.
const presenceDotSize = 12

// newPresenceDot makes a dot of the given diameter coloured for s.
func newPresenceDot(s app.Show, size float32) *canvas.Circle {
	dot := canvas.NewCircle(presenceColor(s))
	dot.Resize(fyne.NewSquareSize(size))
	return dot
}

// ownShows are the own presence states offered, in menu order.
var ownShows = []app.Show{app.ShowOnline, app.ShowAway, app.ShowXA, app.ShowDND}

// ownShowLabel is the selector's label for s (Free to chat shows as Online).
func ownShowLabel(s app.Show) string {
	if s == app.ShowChat || s == "" || s == app.ShowOffline {
		return app.ShowOnline.Label()
	}
	return s.Label()
}

// presenceSelector shows and changes the user's own presence.
type presenceSelector struct {
	svc ContactsService
	run runFunc

	dot    *canvas.Circle
	show   *widget.Select
	status *widget.Entry

	current app.OwnPresence // as the service last reported it
	syncing bool            // setting the widgets from current; ignore their callbacks
	busy    bool
	// offline: there is no session (setConnected), so the selector shows
	// Offline, whatever presence is chosen for the next one.
	offline bool

	content fyne.CanvasObject
}

func newPresenceSelector(svc ContactsService, run runFunc) *presenceSelector {
	p := &presenceSelector{svc: svc, run: run}
	p.dot = newPresenceDot(app.ShowOnline, presenceDotSize)
	labels := make([]string, len(ownShows))
	for i, s := range ownShows {
		labels[i] = s.Label()
	}
	p.show = widget.NewSelect(labels, func(string) {
		if !p.syncing {
			p.apply()
		}
	})
	p.status = widget.NewEntry()
	p.status.SetPlaceHolder("Status message (Enter to set)")
	p.status.OnSubmitted = func(string) { p.apply() }
	dotBox := container.NewCenter(container.NewGridWrap(fyne.NewSquareSize(presenceDotSize), p.dot))
	p.content = container.NewBorder(nil, nil, container.NewHBox(dotBox, p.show), nil, p.status)
	return p
}

// update shows own (the service's current own presence) unless a change is
// being sent.
func (p *presenceSelector) update(own app.OwnPresence) {
	if own.Show == "" {
		own.Show = app.ShowOnline
	}
	changed := own != p.current
	p.current = own
	if p.busy || !changed || p.offline {
		return
	}
	p.syncing = true
	p.show.SetSelected(ownShowLabel(own.Show))
	p.status.SetText(own.Status)
	p.syncing = false
	p.dot.FillColor = presenceColor(own.Show)
	p.dot.Refresh()
}

// setConnected shows the real state of the account: without a session
// (connecting, waiting to reconnect, or ended by the server) the dot is
// grey, the menu says Offline and cannot be used; the chosen presence
// comes back with the next session.
func (p *presenceSelector) setConnected(on bool) {
	if on == !p.offline {
		return
	}
	p.offline = !on
	p.syncing = true
	defer func() { p.syncing = false }()
	if on {
		p.show.Enable()
		p.status.Enable()
		p.show.SetSelected(ownShowLabel(p.current.Show))
		p.dot.FillColor = presenceColor(p.current.Show)
	} else {
		p.show.PlaceHolder = "Offline"
		p.show.ClearSelected()
		p.show.Disable()
		p.status.Disable()
		p.dot.FillColor = colorOffline
	}
	p.dot.Refresh()
}

// selected is the presence the widgets hold.
func (p *presenceSelector) selected() app.OwnPresence {
	show := app.ShowOnline
	for _, s := range ownShows {
		if s.Label() == p.show.Selected {
			show = s
		}
	}
	return app.OwnPresence{Show: show, Status: strings.TrimSpace(p.status.Text)}
}

// apply sends the presence the widgets hold, off the UI goroutine.
func (p *presenceSelector) apply() {
	want := p.selected()
	if p.busy || want == p.current {
		return
	}
	p.busy = true
	p.show.Disable()
	p.status.Disable()
	p.dot.FillColor = presenceColor(want.Show)
	p.dot.Refresh()
	p.run("Setting your presence to "+want.Show.Label()+"…",
		func(ctx context.Context) error { return p.svc.SetOwnPresence(ctx, want) },
		"Your presence is "+describeOwn(want)+".", "Could not set your presence",
		func(err error) {
			p.busy = false
			if p.offline {
				return // setConnected(true) shows the presence again
			}
			p.show.Enable()
			p.status.Enable()
			if err == nil {
				p.current = want
				return
			}
			// Show again what the service still has.
			cur := p.current
			p.current = app.OwnPresence{}
			p.update(cur)
		})
}

// describeOwn is an own presence in words: "Away (at lunch)".
func describeOwn(o app.OwnPresence) string {
	s := ownShowLabel(o.Show)
	if o.Status != "" {
		s += " (" + o.Status + ")"
	}
	return s
}
