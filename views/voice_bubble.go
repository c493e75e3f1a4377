// Voice messages in the chat: a bubble holding an audio file shows a
// player strip instead of a file card: play/pause, the waveform of the
// clip (the played part in the accent colour; a click or a drag on it
// seeks), the position and length, and the speed (1×, 1.5×, 2×; a click
// changes it). One clip plays at a time (the voice service's player);
// when one ends, the next voice message of the chat may follow. The
// waveform is computed by the voice service off the UI goroutine and drawn
// here as one small image per bubble. A voice message not fetched yet is
// fetched by a click on play (a contact's is fetched when it shows, as
// pictures are); one that cannot be played says why, with Save as….
package views

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/app"
	"parley/app/store"
	"parley/app/voice"
)

// VoiceService is what the chat UI needs of *app.VoiceService. Record,
// Finish, Send and Waveform block (devices, encoding, the disk): the
// views call them off the UI goroutine. Subscribe's callback runs on the
// player's goroutine.
type VoiceService interface {
	VoiceSettingsService
	Record() (*app.Recording, error)
	Discard(d app.VoiceDraft)
	Send(ctx context.Context, peer string, d app.VoiceDraft) (store.Message, error)
	Subscribe(fn func(voice.PlayEvent)) (unsubscribe func())
	Play(clip, path string, at time.Duration, speed float64)
	Pause()
	Seek(at time.Duration)
	SetSpeed(speed float64)
	StopPlaying()
	Playing() string
	Waveform(ctx context.Context, path string, n int) ([]float32, time.Duration, error)
}

var _ VoiceService = (*app.VoiceService)(nil)

// The voice strip of a bubble.
const (
	voiceStripW = 280 // at most
	voiceStripH = 36
	voiceBtn    = 28 // the play button's square
	voiceInfoW  = 64 // time and speed, right of the waveform
	voiceBars   = 48 // bars of a waveform
)

// voiceLink is the "Save as…" of a voice message that cannot be played.
const voiceSaveLink = fileSaveLink

// isVoice says whether a's file is a voice message: by its sniffed type
// once fetched, else by the name's extension.
func isVoice(a *store.Attachment) bool {
	if a == nil {
		return false
	}
	if a.MediaType != "" {
		return strings.HasPrefix(a.MediaType, "audio/")
	}
	switch nameExt(a) {
	case ".m4a", ".ogg", ".oga", ".opus", ".mp3", ".aac":
		return true
	}
	return false
}

// waveState is one voice message's waveform, by message id.
type waveState struct {
	bars    []float32
	length  time.Duration
	loading bool
	path    string // the file it was loaded for ("" while not fetched)
	err     error  // why it cannot be played
	// The image drawn last, and for what.
	img      image.Image
	imgW     int
	imgH     int
	imgPart  int  // played bars
	imgReal  bool // drawn from the loaded bars (not the placeholder)
	imgColor color.Color
}

// voiceUI is the open chat's voice state (UI goroutine).
type voiceUI struct {
	now    voice.PlayEvent // what the player said last
	speed  float64         // the speed chosen last
	waves  map[int64]*waveState
	drag   int64            // the message whose waveform is being dragged on
	chatOf map[int64]string // message id -> peer, for what plays
}

func newVoiceUI() *voiceUI {
	return &voiceUI{speed: 1, waves: map[int64]*waveState{}, chatOf: map[int64]string{}}
}

// clipID is the player's name for message id.
func clipID(id int64) string { return "msg:" + strconv.FormatInt(id, 10) }

// clipMessage is the message id of a clip name (0 for a draft).
func clipMessage(clip string) int64 {
	id, err := strconv.ParseInt(strings.TrimPrefix(clip, "msg:"), 10, 64)
	if err != nil || !strings.HasPrefix(clip, "msg:") {
		return 0
	}
	return id
}

// placeVoice puts the voice strip above the text of l.
func (v *chatView) placeVoice(l *bubbleLayout, maxW float32, contentW *float32) {
	w := min(float32(voiceStripW), maxW)
	l.placeBox(&mediaLayout{x: bubblePadX, y: bubblePadY, w: w, h: voiceStripH, voice: true}, contentW)
}

// layoutVoiceText is the text under a voice strip: nothing, or why it
// cannot be played, with Save as… when the file is here.
func (v *chatView) layoutVoiceText(m *store.Message, w float32) textLayout {
	a := m.Attachment
	tm := v.measurer()
	why := ""
	if a.State == store.AttachmentFailed && a.Error != "" {
		why = a.Error
	}
	if s := v.voice.waves[m.ID]; s != nil && s.err != nil {
		why = voiceProblem(s.err)
	}
	if why == "" {
		return textLayout{}
	}
	l := tm.layoutPlain([]piece{{text: why, style: runItalic | runSubdued}}, w)
	if a.LocalPath != "" {
		tm.appendLine(&l, piece{text: "Save as…", style: runLink, url: voiceSaveLink}, w)
	}
	return l
}

// voiceProblem is what a voice message that cannot be played says.
func voiceProblem(err error) string {
	var missing *voice.CodecMissingError
	if errors.As(err, &missing) {
		return strings.ToUpper(missing.Install[:1]) + missing.Install[1:] + "."
	}
	return app.UserMessage(err)
}

// wave is message id's waveform state, loading it (fetching the file
// first if a contact sent it) when it is not there.
func (v *chatView) wave(m *store.Message) *waveState {
	if s, ok := v.voice.waves[m.ID]; ok && (s.loading || s.err != nil || s.path == m.Attachment.LocalPath) {
		return s
	}
	s := &waveState{loading: true, path: m.Attachment.LocalPath}
	v.voice.waves[m.ID] = s
	id, a := m.ID, *m.Attachment
	svc, vs, ctx := v.c.svc, v.c.opts.Voice, v.c.ctx
	type loaded struct {
		bars   []float32
		length time.Duration
		err    error
		got    bool   // the file was fetched now
		path   string // where it is
	}
	inBackground(v.c.do, func() (loaded, error) {
		var l loaded
		if a.LocalPath == "" || a.State == store.AttachmentRemote {
			got, err := svc.Fetch(ctx, id, false)
			if err != nil {
				return l, nil // not fetched (a stranger's, too large, failed): the row says so
			}
			a, l.got = got, true
		}
		l.path = a.LocalPath
		l.bars, l.length, l.err = vs.Waveform(ctx, a.LocalPath, voiceBars)
		return l, nil
	}, func(l loaded, _ error) {
		if v.voice.waves[id] != s {
			return
		}
		s.loading, s.bars, s.length, s.err = false, l.bars, l.length, l.err
		if l.got {
			s.path = l.path
		}
		if l.err != nil || l.got {
			v.updateMessage(id) // a line saying why, or the fetched file
			return
		}
		v.refreshMessage(id)
	})
	return s
}

// forgetWave drops a message's waveform (its file changed).
func (v *chatView) forgetWave(id int64) { delete(v.voice.waves, id) }

// waveImage draws bars into a w × h image, the first played bars in the
// accent colour.
func waveImage(bars []float32, w, h, played int, fg, accent color.Color) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	n := len(bars)
	if n == 0 || w <= 0 || h <= 0 {
		return img
	}
	slot := float32(w) / float32(n)
	barW := max(int(slot*0.6), 1)
	for i, b := range bars {
		c := fg
		if i < played {
			c = accent
		}
		bh := max(int(float32(h)*max(b, 0.06)), 2)
		x0 := int(float32(i) * slot)
		y0 := (h - bh) / 2
		r, g, bb, aa := c.RGBA()
		nc := color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(bb >> 8), uint8(aa >> 8)}
		if aa > 0 && aa < 0xffff { // un-premultiply
			nc = color.NRGBA{uint8(r * 0xff / aa), uint8(g * 0xff / aa), uint8(bb * 0xff / aa), uint8(aa >> 8)}
		}
		for y := y0; y < y0+bh && y < h; y++ {
			for x := x0; x < x0+barW && x < w; x++ {
				img.SetNRGBA(x, y, nc)
			}
		}
	}
	return img
}

// flatBars is the waveform shown while the real one loads.
var flatBars = func() []float32 {
	b := make([]float32, voiceBars)
	for i := range b {
		b[i] = 0.08
	}
	return b
}()

// formatClock is a duration as m:ss.
func formatClock(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// speedLabel is a speed as shown: 1×, 1.5×, 2×.
func speedLabel(s float64) string {
	return strconv.FormatFloat(s, 'f', -1, 64) + "×"
}

// voiceFacts is what a voice strip shows for m now: its waveform bars,
// the played fraction, position and length, and whether it plays.
func (v *chatView) voiceFacts(m *store.Message) (bars []float32, frac float64, pos, length time.Duration, playing bool) {
	s := v.wave(m)
	bars, length = s.bars, s.length
	if length == 0 {
		length = m.Attachment.Duration
	}
	if len(bars) == 0 {
		bars = flatBars
	}
	if now := v.voice.now; now.Clip == clipID(m.ID) && now.State != voice.Stopped && now.State != voice.Ended {
		pos, playing = now.Position, now.State == voice.Playing || now.State == voice.Loading
		if now.Duration > 0 {
			length = now.Duration
		}
	}
	if length > 0 {
		frac = min(float64(pos)/float64(length), 1)
	}
	return bars, frac, pos, length, playing
}

// setVoice shows the voice strip of the row's message.
func (rv *chatRowView) setVoice(lay *bubbleLayout, col func(fyne.ThemeColorName) color.Color, caption float32) {
	v := rv.v
	m := &rv.msg
	bars, frac, pos, length, playing := v.voiceFacts(m)
	icon := theme.MediaPlayIcon()
	switch {
	case playing:
		icon = theme.MediaPauseIcon()
	case m.Attachment.LocalPath == "":
		icon = theme.DownloadIcon()
	}
	rv.voiceBtn.Resource = theme.NewColoredResource(icon, theme.ColorNamePrimary)
	rv.voiceBtn.Show()
	scale := v.c.win.Canvas().Scale()
	ww := int((lay.media.w-voiceBtn-4-voiceInfoW)*scale + 0.5)
	wh := int((voiceStripH - 8) * scale)
	played := int(frac*float64(len(bars)) + 0.5)
	fg := withAlpha(col(theme.ColorNameForeground), 0x60)
	accent := col(theme.ColorNamePrimary)
	s := v.wave(m)
	real := len(s.bars) > 0
	if s.img == nil || s.imgW != ww || s.imgH != wh || s.imgPart != played || s.imgColor != fg || s.imgReal != real {
		s.img, s.imgW, s.imgH, s.imgPart, s.imgColor, s.imgReal = waveImage(bars, ww, wh, played, fg, accent), ww, wh, played, fg, real
	}
	rv.voiceWave.Image = s.img
	rv.voiceWave.Show()
	timeText := formatClock(length)
	if pos > 0 || playing {
		timeText = formatClock(pos) + " / " + formatClock(length)
	}
	if length == 0 {
		timeText = "Voice"
	}
	rv.voiceTime.Text = timeText
	rv.voiceTime.TextSize = caption
	rv.voiceTime.Color = col(theme.ColorNameForeground)
	rv.voiceTime.Show()
	speed := v.voice.speed
	if now := v.voice.now; now.Clip == clipID(m.ID) && now.Speed > 0 && now.State != voice.Stopped && now.State != voice.Ended {
		speed = now.Speed
	}
	rv.voiceSpeed.Text = speedLabel(speed)
	rv.voiceSpeed.TextSize = caption
	rv.voiceSpeed.TextStyle = fyne.TextStyle{Bold: true}
	rv.voiceSpeed.Color = col(theme.ColorNamePrimary)
	rv.voiceSpeed.Show()
	rv.setTransferBar(col)
}

// placeVoice places the voice strip of the bubble at o.
func (rv *chatRowView) placeVoice(lay *bubbleLayout, o fyne.Position) {
	m := lay.media
	at := fyne.NewPos(o.X+m.x, o.Y+m.y)
	rv.voiceBtn.Move(fyne.NewPos(at.X, at.Y+(m.h-voiceBtn)/2))
	rv.voiceBtn.Resize(fyne.NewSquareSize(voiceBtn))
	waveW := m.w - voiceBtn - 4 - voiceInfoW
	rv.voiceWave.Move(fyne.NewPos(at.X+voiceBtn+4, at.Y+4))
	rv.voiceWave.Resize(fyne.NewSize(waveW, m.h-8))
	infoX := at.X + m.w - voiceInfoW + 6
	ts := rv.voiceTime.MinSize()
	rv.voiceTime.Move(fyne.NewPos(infoX, at.Y+m.h/2-ts.Height))
	rv.voiceTime.Resize(fyne.NewSize(voiceInfoW-6, ts.Height))
	ss := rv.voiceSpeed.MinSize()
	rv.voiceSpeed.Move(fyne.NewPos(infoX, at.Y+m.h/2))
	rv.voiceSpeed.Resize(fyne.NewSize(voiceInfoW-6, ss.Height))
	rv.placeTransferBar(at.X+voiceBtn+4, at.Y+m.h-progressH, waveW)
}

// voicePart is where on a voice strip a point is.
type voicePart int

const (
	voiceNone voicePart = iota
	voicePlay
	voiceWave
	voiceSpeedPart
)

// voiceAt says which part of the voice strip p is on, and for the
// waveform, at what fraction of it.
func (rv *chatRowView) voiceAt(p fyne.Position) (voicePart, float64) {
	lay := rv.row.lay
	if rv.row.kind != rowMsg || lay == nil || lay.media == nil || !lay.media.voice {
		return voiceNone, 0
	}
	o := rv.bubbleOrigin(rv.Size().Width)
	m := lay.media
	x, y := p.X-o.X-m.x, p.Y-o.Y-m.y
	if y < 0 || y >= m.h || x < 0 || x >= m.w {
		return voiceNone, 0
	}
	waveW := m.w - voiceBtn - 4 - voiceInfoW
	switch {
	case x < voiceBtn+2:
		return voicePlay, 0
	case x < voiceBtn+4+waveW:
		return voiceWave, float64(max(0, min(1, (x-voiceBtn-4)/waveW)))
	case y >= m.h/2-2:
		return voiceSpeedPart, 0
	}
	return voicePlay, 0 // the time: plays too
}

// tapVoice does what a tap on part of m's voice strip means.
func (v *chatView) tapVoice(m store.Message, part voicePart, frac float64) {
	vs := v.c.opts.Voice
	a := m.Attachment
	if vs == nil || a == nil {
		return
	}
	clip := clipID(m.ID)
	now := v.voice.now
	current := now.Clip == clip && now.State != voice.Stopped && now.State != voice.Ended
	if part == voiceSpeedPart {
		base := v.voice.speed
		if current && now.Speed > 0 {
			base = now.Speed
		}
		v.voice.speed = nextSpeed(base)
		if current {
			vs.SetSpeed(v.voice.speed)
		}
		v.refreshMessage(m.ID)
		return
	}
	if a.LocalPath == "" || a.State == store.AttachmentRemote {
		v.forgetWave(m.ID)
		v.tapFile(m, "") // fetches it; a tap once it is here plays it
		return
	}
	if s := v.voice.waves[m.ID]; s != nil && s.err != nil {
		return // it says why under the strip
	}
	length := now.Duration
	if s := v.voice.waves[m.ID]; length == 0 && s != nil {
		length = s.length
	}
	if length == 0 {
		length = a.Duration
	}
	v.voice.chatOf[m.ID] = v.peer
	switch {
	case part == voiceWave && current:
		vs.Seek(time.Duration(frac * float64(length)))
	case part == voiceWave:
		vs.Play(clip, a.LocalPath, time.Duration(frac*float64(length)), v.voice.speed)
	case current && (now.State == voice.Playing || now.State == voice.Loading):
		vs.Pause()
	case current:
		vs.Play(clip, a.LocalPath, -1, 0)
	default:
		vs.Play(clip, a.LocalPath, 0, v.voice.speed)
	}
}

// nextSpeed is the speed after s in the cycle 1×, 1.5×, 2×.
func nextSpeed(s float64) float64 {
	for i, x := range voice.Speeds {
		if x == s {
			return voice.Speeds[(i+1)%len(voice.Speeds)]
		}
	}
	return 1
}

// dragVoice seeks while the pointer drags on the waveform of the row's
// voice message: it reports whether the drag is such a seek.
func (rv *chatRowView) dragVoice(from, p fyne.Position, starting bool) bool {
	v := rv.v
	if starting {
		part, _ := rv.voiceAt(from)
		if part != voiceWave || v.voice.now.Clip != clipID(rv.msg.ID) {
			v.voice.drag = 0
			return false
		}
		v.voice.drag = rv.msg.ID
	}
	if v.voice.drag == 0 || v.voice.drag != rv.msg.ID {
		return false
	}
	o := rv.bubbleOrigin(rv.Size().Width)
	m := rv.row.lay.media
	waveW := m.w - voiceBtn - 4 - voiceInfoW
	frac := float64(max(0, min(1, (p.X-o.X-m.x-voiceBtn-4)/waveW)))
	if d := v.voice.now.Duration; d > 0 && v.c.opts.Voice != nil {
		v.c.opts.Voice.Seek(time.Duration(frac * float64(d)))
	}
	return true
}

// playerChanged applies what the player said (UI goroutine): the rows of
// the clip that changed are drawn again, and a voice message that ended
// may hand over to the next one of the chat.
func (v *chatView) playerChanged(ev voice.PlayEvent) {
	prev := v.voice.now
	v.voice.now = ev
	if ev.Speed > 0 {
		v.voice.speed = ev.Speed
	}
	if id := clipMessage(prev.Clip); id != 0 && prev.Clip != ev.Clip {
		v.refreshMessage(id)
	}
	id := clipMessage(ev.Clip)
	if id == 0 {
		if v.c.recorder != nil {
			v.c.recorder.playerChanged(ev)
		}
		return
	}
	var device *voice.DeviceError
	if errors.As(ev.Err, &device) {
		// The speaker, not the message: said where the user is, and the
		// next click tries again.
		v.c.setStatus("Could not play the voice message: "+voiceProblem(ev.Err), widget.DangerImportance)
		v.refreshMessage(id)
		return
	}
	if ev.Err != nil {
		if s := v.voice.waves[id]; s != nil {
			s.err = ev.Err
		} else {
			v.voice.waves[id] = &waveState{err: ev.Err}
		}
		v.updateMessage(id)
		return
	}
	v.refreshMessage(id)
	if ev.State == voice.Ended && v.voice.chatOf[id] == v.peer && v.c.opts.Voice != nil &&
		!v.c.opts.Voice.Settings().NoAutoPlayNext {
		v.playAfter(id)
	}
}

// playAfter plays the next voice message after message id in the loaded
// chat, if it is here (fetched and playable).
func (v *chatView) playAfter(id int64) {
	found := false
	for i := range v.msgs {
		m := &v.msgs[i]
		if !found {
			found = m.ID == id
			continue
		}
		if m.Attachment == nil || m.Retracted || !isVoice(m.Attachment) {
			continue
		}
		if m.Attachment.LocalPath == "" {
			return // not fetched: the chain stops there
		}
		v.voice.chatOf[m.ID] = v.peer
		v.c.opts.Voice.Play(clipID(m.ID), m.Attachment.LocalPath, 0, v.voice.speed)
		return
	}
}
