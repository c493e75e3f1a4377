// Recording voice messages from the composer. The microphone button
// records on a click (clicked again, now a stop button, it stops for a
// review; Send sends at once) or while held (hold-to-talk: the release
// reviews, or sends when the settings say "send at once"; dragging away
// from it or Escape cancels). While recording, the bar in the composer's
// place shows the elapsed time against the maximum, a live level meter,
// Cancel and Send; a recording that ends by itself (its maximum length,
// the microphone gone) is kept for review with a line saying why. The
// review plays the recording back with its waveform, and offers Discard
// and Send. Device calls and encoding run off the UI goroutine; every
// error is said in the chat's status line.
package views

import (
	"errors"
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/app"
	"parley/app/store"
	"parley/app/voice"
)

// holdFor is how long a press lasts before it is hold-to-talk rather
// than a click.
const holdFor = 400 * time.Millisecond

// recState is where a recording is.
type recState int

const (
	recIdle      recState = iota
	recOpening            // the microphone is being opened
	recRecording          // recording
	recFinishing          // stopping and encoding
	recReview             // a draft waits to be played, discarded or sent
)

// recorderUI is the composer's voice recorder.
type recorderUI struct {
	c     *ChatsView
	state recState
	peer  string // the chat it records for
	rec   *app.Recording
	draft app.VoiceDraft
	// What happens once the recording is finished: send it at once.
	sendWhenDone bool
	cancelled    bool // cancelled while the microphone was opening
	// Hold-to-talk: the press began at downAt; held says it lasted
	// holdFor; away says the pointer left the button while held.
	downAt     time.Time
	held, away bool
	ticker     *time.Ticker
	tickStop   chan struct{}
	playing    voice.PlayEvent // the draft's playback
	waveBars   []float32       // the draft's waveform

	mic       *holdButton
	bar       *fyne.Container // shown instead of the composer row
	dot       *canvas.Circle
	elapsed   *widget.Label
	meterBg   *canvas.Rectangle
	meter     *canvas.Rectangle
	meterBox  *fyne.Container
	hint      *widget.Label
	cancelBtn *widget.Button
	sendBtn   *widget.Button
	playBtn   *widget.Button
	wave      *canvas.Image
	length    *widget.Label
	discard   *widget.Button
	working   *widget.Activity
}

func newRecorderUI(c *ChatsView) *recorderUI {
	r := &recorderUI{c: c}
	r.mic = newHoldButton(theme.MediaRecordIcon(), r.pressed, r.released, r.leftWhileHeld, r.clicked)
	r.mic.onSecondary = func() { showVoiceSettings(c.win, c.opts.Voice, c.do, "") }
	r.dot = canvas.NewCircle(theme.Color(theme.ColorNameError))
	r.elapsed = widget.NewLabel("0:00")
	r.meterBg = canvas.NewRectangle(color.Transparent)
	r.meterBg.CornerRadius = 3
	r.meter = canvas.NewRectangle(theme.Color(theme.ColorNameSuccess))
	r.meter.CornerRadius = 3
	r.meterBox = container.New(&meterLayout{r: r}, r.meterBg, r.meter)
	r.hint = widget.NewLabel("")
	r.hint.Importance = widget.LowImportance
	r.hint.SizeName = theme.SizeNameCaptionText
	r.cancelBtn = widget.NewButtonWithIcon("", theme.CancelIcon(), r.cancel)
	r.sendBtn = widget.NewButtonWithIcon("", theme.MailSendIcon(), r.send)
	r.sendBtn.Importance = widget.HighImportance
	r.playBtn = widget.NewButtonWithIcon("", theme.MediaPlayIcon(), r.togglePlay)
	r.wave = canvas.NewImageFromImage(nil)
	r.wave.FillMode = canvas.ImageFillStretch
	r.wave.ScaleMode = canvas.ImageScalePixels
	r.wave.SetMinSize(fyne.NewSize(120, 24))
	r.length = widget.NewLabel("")
	r.discard = widget.NewButtonWithIcon("", theme.DeleteIcon(), r.discardDraft)
	r.working = widget.NewActivity()
	dotBox := container.NewCenter(container.NewGridWrap(fyne.NewSquareSize(12), r.dot))
	left := container.NewHBox(dotBox, r.elapsed, r.playBtn, r.working)
	right := container.NewHBox(r.cancelBtn, r.discard, r.sendBtn)
	middle := container.NewStack(container.NewVBox(layout.NewSpacer(), r.meterBox, layout.NewSpacer()), r.wave)
	r.bar = container.NewBorder(nil, nil, left, right, container.NewBorder(nil, nil, nil, r.length,
		container.NewStack(middle, container.NewCenter(r.hint))))
	r.bar.Hide()
	return r
}

// meterLayout draws the level meter: its background fills the box, the
// bar a fraction of it.
type meterLayout struct{ r *recorderUI }

func (l *meterLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	objs[0].Resize(size)
	objs[0].Move(fyne.NewPos(0, 0))
	lvl := float32(0)
	if l.r.rec != nil {
		lvl = min(l.r.rec.Level()*1.4, 1)
	}
	objs[1].Move(fyne.NewPos(0, 0))
	objs[1].Resize(fyne.NewSize(size.Width*lvl, size.Height))
}

func (l *meterLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(60, 10) }

// pressed: the microphone button went down.
func (r *recorderUI) pressed() {
	if r.state == recRecording && r.downAt.IsZero() {
		r.finish(false) // recording after a click: this click stops it
		return
	}
	if r.state != recIdle || r.c.chat.peer == "" {
		return
	}
	r.downAt, r.held, r.away = r.c.now(), false, false
	r.start()
}

// released: the microphone button came up after a press.
func (r *recorderUI) released() {
	if r.downAt.IsZero() {
		return
	}
	held := r.c.now().Sub(r.downAt) >= holdFor
	r.downAt = time.Time{}
	if !held {
		r.hint.SetText("Recording… click Stop to listen first, or Send")
		return // a click: it goes on recording
	}
	r.held = true
	if r.away {
		r.cancel()
		return
	}
	r.finish(r.c.opts.Voice.Settings().SendAtOnce)
}

// leftWhileHeld: the pointer was dragged away from the button while
// held (away) or back onto it.
func (r *recorderUI) leftWhileHeld(away bool) {
	if r.downAt.IsZero() || r.state == recIdle {
		return
	}
	r.away = away
	if away {
		r.hint.SetText("Release to cancel")
	} else {
		r.hint.SetText("Release to stop")
	}
}

// clicked: the button was activated without a press seen (the
// keyboard): it starts recording, or stops one.
func (r *recorderUI) clicked() {
	switch r.state {
	case recIdle:
		if r.c.chat.peer != "" {
			r.start()
		}
	case recRecording:
		r.finish(false)
	}
}

// start opens the microphone and starts recording for the open chat.
func (r *recorderUI) start() {
	vs := r.c.opts.Voice
	r.state, r.peer, r.cancelled, r.sendWhenDone = recOpening, r.c.chat.peer, false, false
	r.c.setStatus("", widget.MediumImportance)
	r.show()
	ctx := r.c.ctx
	record := func() (*app.Recording, error) {
		rec, err := vs.Record()
		if err == nil && ctx.Err() != nil { // the view stopped meanwhile: no one will stop it
			rec.Cancel()
			return nil, ctx.Err()
		}
		return rec, err
	}
	inBackground(r.c.do, record, func(rec *app.Recording, err error) {
		if err != nil {
			r.state = recIdle
			r.show()
			r.c.setStatus("Could not record: "+voiceProblem(err), widget.DangerImportance)
			return
		}
		if r.cancelled || r.state != recOpening {
			rec.Cancel()
			return
		}
		r.rec, r.state = rec, recRecording
		r.show()
		r.follow(rec)
		// Released before the microphone opened: the press was a hold.
		if r.held && r.downAt.IsZero() {
			r.finish(vs.Settings().SendAtOnce)
		}
	})
}

// follow updates the elapsed time and the meter, and notices a recording
// that ends by itself.
func (r *recorderUI) follow(rec *app.Recording) {
	t := time.NewTicker(100 * time.Millisecond)
	stop := make(chan struct{})
	r.ticker, r.tickStop = t, stop
	go func() {
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-rec.Done():
				r.c.do(func() {
					if r.rec == rec && r.state == recRecording {
						r.finish(false)
					}
				})
				return
			case <-t.C:
				r.c.do(func() {
					if r.rec == rec {
						r.showProgress()
					}
				})
			}
		}
	}()
}

// stopFollowing ends the ticker.
func (r *recorderUI) stopFollowing() {
	if r.tickStop != nil {
		close(r.tickStop)
		r.tickStop = nil
	}
}

// showProgress shows the elapsed time and the level.
func (r *recorderUI) showProgress() {
	if r.rec == nil {
		return
	}
	r.elapsed.SetText(formatClock(r.rec.Elapsed()) + " / " + formatClock(r.rec.Max))
	r.meterBox.Refresh()
}

// finish stops recording and encodes; then reviews, or sends.
func (r *recorderUI) finish(send bool) {
	switch r.state {
	case recOpening:
		// Not open yet: finish as soon as it is (a hold released early).
		r.held = true
		return
	case recRecording:
	default:
		return
	}
	rec, peer := r.rec, r.peer
	r.stopFollowing()
	r.state, r.sendWhenDone = recFinishing, send
	r.show()
	ctx := r.c.ctx
	inBackground(r.c.do, func() (app.VoiceDraft, error) { return rec.Finish(ctx) }, func(d app.VoiceDraft, err error) {
		r.rec = nil
		if err != nil {
			r.state = recIdle
			r.show()
			if errors.Is(err, app.ErrRecordingTooShort) {
				r.c.setStatus("Hold the button to record, or click it to start and again to stop.", widget.MediumImportance)
				return
			}
			r.c.setStatus("Could not record: "+voiceProblem(err), widget.DangerImportance)
			return
		}
		r.draft = d
		if d.Ended != nil {
			r.c.setStatus(endedNote(d.Ended), widget.WarningImportance)
		}
		if r.sendWhenDone && d.Ended == nil {
			r.sendDraft(peer, d)
			return
		}
		r.state = recReview
		r.show()
		r.loadWave()
	})
}

// endedNote says why a recording stopped by itself.
func endedNote(err error) string {
	if errors.Is(err, voice.ErrMaxLength) {
		return "The recording reached its maximum length; listen to it, then send or discard it."
	}
	return voiceProblem(err) + " The recording so far is kept: listen to it, then send or discard it."
}

// loadWave draws the draft's waveform.
func (r *recorderUI) loadWave() {
	d, vs, ctx := r.draft, r.c.opts.Voice, r.c.ctx
	type loaded struct {
		bars   []float32
		length time.Duration
	}
	inBackground(r.c.do, func() (loaded, error) {
		bars, length, err := vs.Waveform(ctx, d.Path, voiceBars)
		return loaded{bars, length}, err
	}, func(l loaded, err error) {
		if r.state != recReview || r.draft.Path != d.Path {
			return
		}
		if err != nil {
			r.c.setStatus("Could not read the recording: "+voiceProblem(err), widget.DangerImportance)
			return
		}
		r.drawWave(l.bars, 0)
		r.length.SetText(formatClock(l.length))
	})
}

// drawWave draws the draft's waveform with frac of it played.
func (r *recorderUI) drawWave(bars []float32, frac float64) {
	if bars == nil {
		return
	}
	scale := r.c.win.Canvas().Scale()
	size := r.wave.Size()
	w, h := int(max(size.Width, 120)*scale), int(max(size.Height, 24)*scale)
	r.waveBars = bars
	r.wave.Image = waveImage(bars, w, h, int(frac*float64(len(bars))+0.5),
		withAlpha(theme.Color(theme.ColorNameForeground), 0x60), theme.Color(theme.ColorNamePrimary))
	r.wave.Refresh()
}

// togglePlay plays or pauses the draft.
func (r *recorderUI) togglePlay() {
	vs := r.c.opts.Voice
	clip := r.draft.Clip()
	switch {
	case r.playing.Clip == clip && r.playing.State == voice.Playing:
		vs.Pause()
	case r.playing.Clip == clip && r.playing.State == voice.Paused:
		vs.Play(clip, r.draft.Path, -1, 0)
	default:
		vs.Play(clip, r.draft.Path, 0, 1)
	}
}

// playerChanged follows the draft's playback (UI goroutine).
func (r *recorderUI) playerChanged(ev voice.PlayEvent) {
	if r.state != recReview || ev.Clip != r.draft.Clip() {
		return
	}
	r.playing = ev
	if ev.Err != nil {
		r.c.setStatus("Could not play the recording: "+voiceProblem(ev.Err), widget.DangerImportance)
	}
	if ev.State == voice.Playing || ev.State == voice.Loading {
		r.playBtn.SetIcon(theme.MediaPauseIcon())
	} else {
		r.playBtn.SetIcon(theme.MediaPlayIcon())
	}
	frac := 0.0
	if ev.Duration > 0 && ev.State != voice.Ended && ev.State != voice.Stopped {
		frac = float64(ev.Position) / float64(ev.Duration)
		r.length.SetText(formatClock(ev.Position) + " / " + formatClock(ev.Duration))
	}
	r.drawWave(r.waveBars, frac)
}

// send sends: a recording is finished and sent, a draft is sent.
func (r *recorderUI) send() {
	switch r.state {
	case recRecording, recOpening:
		r.finish(true)
	case recReview:
		r.sendDraft(r.peer, r.draft)
	}
}

// sendDraft queues the draft to peer.
func (r *recorderUI) sendDraft(peer string, d app.VoiceDraft) {
	r.state = recIdle
	r.draft = app.VoiceDraft{}
	r.show()
	vs, ctx := r.c.opts.Voice, r.c.ctx
	r.c.chat.followOwn()
	inBackground(r.c.do, func() (store.Message, error) { return vs.Send(ctx, peer, d) }, func(_ store.Message, err error) {
		if err != nil {
			// Kept for another try: back to the review.
			r.draft, r.peer, r.state = d, peer, recReview
			r.show()
			r.loadWave()
			r.c.setStatus("Could not send the voice message: "+app.UserMessage(err), widget.DangerImportance)
		}
	})
}

// cancel stops a recording and deletes it.
func (r *recorderUI) cancel() {
	switch r.state {
	case recOpening:
		r.cancelled = true
	case recRecording:
		r.stopFollowing()
		rec := r.rec
		go rec.Cancel()
	default:
		return
	}
	r.rec = nil
	r.state = recIdle
	r.show()
	r.c.setStatus("Recording cancelled.", widget.LowImportance)
}

// discardDraft deletes the draft under review.
func (r *recorderUI) discardDraft() {
	if r.state != recReview {
		return
	}
	d, vs := r.draft, r.c.opts.Voice
	r.draft, r.state = app.VoiceDraft{}, recIdle
	r.show()
	go vs.Discard(d)
}

// escape cancels a recording or discards a draft (Escape).
func (r *recorderUI) escape() bool {
	switch r.state {
	case recOpening, recRecording:
		r.cancel()
		return true
	case recReview:
		r.discardDraft()
		return true
	}
	return false
}

// chatChanged: another chat opened; a recording in progress is cancelled,
// a draft is discarded (it belonged to the other chat).
func (r *recorderUI) chatChanged() {
	if r.peer != "" && r.peer != r.c.chat.peer {
		r.escape()
	}
}

// show shows the bar's controls for the state, or the composer row.
func (r *recorderUI) show() {
	c := r.c
	if r.state == recIdle {
		r.bar.Hide()
		c.composerRow.Show()
		c.sendBtn.Show()
		r.mic.SetIcon(theme.MediaRecordIcon())
		r.hint.SetText("")
		r.elapsed.SetText("0:00")
		r.length.SetText("")
		r.wave.Image = nil
		r.waveBars = nil
		r.playing = voice.PlayEvent{}
		return
	}
	c.composerRow.Hide()
	c.sendBtn.Hide()
	r.bar.Show()
	if r.state == recOpening || r.state == recRecording {
		r.mic.SetIcon(theme.MediaStopIcon()) // a click on it stops
	} else {
		r.mic.SetIcon(theme.MediaRecordIcon())
	}
	recording := r.state == recOpening || r.state == recRecording
	review := r.state == recReview
	setVisible(r.dot, recording)
	setVisible(r.elapsed, recording)
	setVisible(r.meterBox, recording)
	setVisible(r.cancelBtn, recording)
	setVisible(r.playBtn, review)
	setVisible(r.wave, review)
	setVisible(r.length, review)
	setVisible(r.discard, review)
	setVisible(r.hint, recording)
	setVisible(r.working, r.state == recFinishing || r.state == recOpening)
	if r.state == recFinishing || r.state == recOpening {
		r.working.Start()
	} else {
		r.working.Stop()
	}
	r.sendBtn.Enable()
	if r.state == recFinishing {
		r.sendBtn.Disable()
	}
	if recording && r.hint.Text == "" {
		r.hint.SetText("Recording… release to stop, drag away or Esc to cancel")
	}
	c.win.Canvas().Focus(c.composer) // Escape reaches the recorder
}

// setVisible shows or hides o.
func setVisible(o fyne.CanvasObject, on bool) {
	if on {
		o.Show()
	} else {
		o.Hide()
	}
}

// holdButton is a button that reports press and release (and a drag off
// it while pressed), for hold-to-talk; activated from the keyboard it
// clicks.
type holdButton struct {
	widget.Button
	onDown, onUp func()
	onAway       func(away bool)
	onClick      func()
	onSecondary  func() // a right-click: the voice settings
	lastDown     time.Time
}

var (
	_ desktop.Mouseable      = (*holdButton)(nil)
	_ fyne.Draggable         = (*holdButton)(nil)
	_ fyne.SecondaryTappable = (*holdButton)(nil)
)

func newHoldButton(icon fyne.Resource, down, up func(), away func(bool), click func()) *holdButton {
	b := &holdButton{onDown: down, onUp: up, onAway: away, onClick: click}
	b.Icon = icon
	// A mouse click comes with its press (handled there); the keyboard's
	// activation comes alone.
	b.OnTapped = func() {
		if time.Since(b.lastDown) < time.Second {
			return
		}
		b.onClick()
	}
	b.ExtendBaseWidget(b)
	return b
}

// MouseDown starts a press.
func (b *holdButton) MouseDown(ev *desktop.MouseEvent) {
	if ev.Button != desktop.MouseButtonPrimary || b.Disabled() {
		return
	}
	b.lastDown = time.Now()
	b.onDown()
}

// MouseUp ends it (also when released off the button after a drag).
func (b *holdButton) MouseUp(ev *desktop.MouseEvent) {
	if ev.Button != desktop.MouseButtonPrimary || b.Disabled() {
		return
	}
	b.onUp()
}

// Dragged tells whether the pointer is still on the button.
func (b *holdButton) Dragged(ev *fyne.DragEvent) {
	size := b.Size()
	p := ev.Position
	const slack = 24
	b.onAway(p.X < -slack || p.Y < -slack || p.X > size.Width+slack || p.Y > size.Height+slack)
}

// DragEnd implements fyne.Draggable (the release comes as MouseUp).
func (b *holdButton) DragEnd() {}

// TappedSecondary opens the voice settings.
func (b *holdButton) TappedSecondary(*fyne.PointEvent) {
	if b.onSecondary != nil {
		b.onSecondary()
	}
}
