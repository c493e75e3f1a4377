// render.go: opening a chat in the real chat view (views.ChatsView), rendered headless with Fyne's
// test driver (fyne.io/fyne/v2/test, software painter): from ChatsView.Open until the chat's list
// holds the first page and a Capture() of the window has completed. Only main.go may import
// fyne.io/fyne/v2/app (the GL driver), so the benchmark uses the test driver; the view's fyne.Do
// calls go through a queue this goroutine runs, as Fyne's main goroutine would.
package main

import (
	"context"
	"fmt"
	"image/png"
	"os"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/app"
	"parley/bench/internal/uiqueue"
	"parley/views"
)

// winSize is the main window's size after login (views/window.go).
var winSize = fyne.NewSize(900, 650)

// lists returns the widget.Lists in the window's content.
func lists(o fyne.CanvasObject) []*widget.List {
	var out []*widget.List
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		switch x := o.(type) {
		case *widget.List:
			out = append(out, x)
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(x).Objects() {
				walk(c)
			}
		}
	}
	walk(o)
	return out
}

// chatRendered is a headless chats tab on svc's history.
type chatRendered struct {
	win fyne.Window
	ui  *uiqueue.Queue
	cv  *views.ChatsView
}

func newChatRendered(svc *app.Service) *chatRendered {
	a := test.NewApp()
	a.Settings().SetTheme(theme.DefaultTheme())
	r := &chatRendered{ui: uiqueue.New()}
	r.win = test.NewWindow(nil)
	r.win.Resize(winSize)
	r.cv = views.NewChatsView(r.win, svc.Chats(), svc.Contacts(), views.ChatsOptions{Do: r.ui.Do,
		Notify: func(*fyne.Notification) {}})
	r.win.SetContent(r.cv.Content())
	return r
}

// waitList pumps the UI until peer's chat is the one shown ("" for none) and a visible list's
// length satisfies ok.
func (r *chatRendered) waitList(what, peer string, ok func(n int) bool) error {
	if err := r.ui.Pump(time.Minute, func() bool {
		if r.cv.Peer() != peer {
			return false
		}
		for _, l := range lists(r.win.Content()) {
			if l.Length != nil && ok(l.Length()) {
				return true
			}
		}
		return false
	}); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// openSample is one chat opened: until the first page is in the list, and until the window
// has been painted too.
type openSample struct{ listed, painted time.Duration }

// open opens peer's chat and times it. rows tells the chat's list from the conversation list
// (its length: the first page, 50 messages and their day separators).
func (r *chatRendered) open(peer string, rows func(n int) bool) (openSample, error) {
	t0 := time.Now()
	r.cv.Open(peer, "")
	if err := r.waitList("the chat with "+peer, peer, rows); err != nil {
		return openSample{}, err
	}
	listed := time.Since(t0)
	r.win.Canvas().Capture()
	return openSample{listed: listed, painted: time.Since(t0)}, nil
}

// renderOpen measures opening bigPeer's chat in the chat view: first after the history was
// opened, then again after switching to another chat, reps times.
func renderOpen(ctx context.Context, svc *app.Service, reps int, shot string) (first openSample, again []openSample, err error) {
	r := newChatRendered(svc)
	defer r.cv.Stop()
	// The conversation list first (genPeers rows): the window as it is before a chat is picked.
	if err := r.waitList("the conversation list", "", func(n int) bool { return n == genPeers }); err != nil {
		return openSample{}, nil, err
	}
	r.win.Canvas().Capture()
	firstPage := func(n int) bool { return n >= 50 && n < genPeers }
	if first, err = r.open(bigPeer, firstPage); err != nil {
		return openSample{}, nil, err
	}
	for range reps {
		if ctx.Err() != nil {
			return openSample{}, nil, ctx.Err()
		}
		if _, err := r.open("contact007@example.org", firstPage); err != nil {
			return openSample{}, nil, err
		}
		d, err := r.open(bigPeer, firstPage)
		if err != nil {
			return openSample{}, nil, err
		}
		again = append(again, d)
	}
	if shot != "" {
		f, err := os.Create(shot)
		if err != nil {
			return openSample{}, nil, err
		}
		defer f.Close()
		if err := png.Encode(f, r.win.Canvas().Capture()); err != nil {
			return openSample{}, nil, err
		}
	}
	return first, again, nil
}
