// frames.go: a five-minute voice message playing in the real chat view,
// rendered headless: each position tick redraws its bubble (the played
// part of the waveform, the time). Measured per tick: the UI goroutine's
// work (what the views do with the player's news) and, apart, the
// painting of the whole window by Fyne's software test painter.
package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"parley/app"
	"parley/app/voice"
	"parley/bench/internal/benchkit"
	"parley/bench/internal/uiqueue"
	"parley/views"
)

// benchPlayingFrames plays message id (a voice message to peer) in svc's
// chat view for a few seconds.
func benchPlayingFrames(ctx context.Context, svc *app.Service, peer string, id int64) error {
	a := test.NewApp()
	defer a.Quit()
	a.Settings().SetTheme(theme.DefaultTheme())
	q := uiqueue.New()
	var work []time.Duration
	do := func(fn func()) {
		q.Do(func() {
			t0 := time.Now()
			fn()
			work = append(work, time.Since(t0))
		})
	}
	win := test.NewWindow(nil)
	win.Resize(fyne.NewSize(900, 650))
	cv := views.NewChatsView(win, svc.Chats(), svc.Contacts(), views.ChatsOptions{Do: do, Voice: svc.Voice(),
		Notify: func(*fyne.Notification) {}})
	defer cv.Stop()
	win.SetContent(cv.Content())
	cv.Open(peer, "")
	if err := q.Pump(time.Minute, func() bool { return cv.Peer() == peer && cv.ChatLoaded() }); err != nil {
		return err
	}
	// Drawn, the bubbles ask for their waveforms.
	win.Canvas().Capture()
	if err := q.Pump(time.Minute, func() bool { return cv.VoiceLoading() == 0 }); err != nil {
		return fmt.Errorf("the waveforms: %w", err)
	}
	events := make(chan voice.PlayEvent, 1024)
	defer svc.Voice().Subscribe(func(e voice.PlayEvent) {
		select {
		case events <- e:
		default:
		}
	})()
	work = nil
	cv.PlayVoice(id)
	var paints []time.Duration
	start := time.Now()
	ticks := 0
	for time.Since(start) < 5*time.Second {
		select {
		case e := <-events:
			if e.State == voice.Playing {
				ticks++
			}
			if e.Err != nil {
				return e.Err
			}
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		// Run what the views were handed, then paint, as a frame would.
		if err := q.Pump(time.Second, func() bool { return true }); err != nil {
			return err
		}
		_ = q.Pump(20*time.Millisecond, func() bool { return false })
		t0 := time.Now()
		win.Canvas().Capture()
		paints = append(paints, time.Since(t0))
	}
	svc.Voice().StopPlaying()
	slices.Sort(work)
	slices.Sort(paints)
	if len(work) == 0 || ticks == 0 {
		return fmt.Errorf("nothing was drawn while playing (%d ticks)", ticks)
	}
	worst := work[len(work)-1]
	fmt.Printf("### A 5-minute voice message playing in the chat view\n\n")
	fmt.Printf("**Goal:** no frame over 16 ms. **%s** for Parley's part: over %d position ticks (5 s), the UI goroutine's work per update median %s, worst %s (the bubble's waveform image redrawn when the played part moves). Painting the whole 900 × 650 window with Fyne's software test painter: median %s, worst %s (the GL driver of the real app paints on the GPU; this is the headless upper bound).\n\n",
		benchkit.Verdict(worst < 16*time.Millisecond), ticks, benchkit.Ms(work[len(work)/2]), benchkit.Ms(worst),
		benchkit.Ms(paints[len(paints)/2]), benchkit.Ms(paints[len(paints)-1]))
	return nil
}
