// The player: one voice message plays at a time, through beep streams
// (a pcmStream under a beep.Ctrl for pause, followed by a beep.Callback
// for its end) pulled by a miniaudio playback device on the chosen
// speaker. beep's own speaker package cannot choose a device and, in its
// maintained fork, plays into nothing without an error when there is no
// device; this output does both. Speed changes switch to the clip decoded
// at that speed (FFmpeg's atempo keeps the voice's pitch) at the same
// point of the message.
package voice

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/faiface/beep"
	"github.com/gen2brain/malgo"
)

// PlayState is where the player is with a clip.
type PlayState int

const (
	Stopped PlayState = iota
	Loading           // decoding or opening the speaker
	Playing
	Paused
	Ended // played to its end
)

// PlayEvent tells the player's listener what changed.
type PlayEvent struct {
	Clip     string // the caller's name for the clip (a message id)
	State    PlayState
	Position time.Duration // in the message's own time (whatever the speed)
	Duration time.Duration
	Speed    float64
	Err      error // why it stopped, when it failed
}

// Speeds the player offers.
var Speeds = []float64{1, 1.5, 2}

// idleClose is how long the speaker stays open after a clip ends: the
// next message of the chat starts without reopening it.
const idleClose = 3 * time.Second

// tick is how often a playing clip's position is told.
const tick = 50 * time.Millisecond

// Player plays voice messages.
type Player struct {
	clips  *Clips
	listen func(PlayEvent)
	events chan PlayEvent
	emitMu sync.Mutex // guards closed against the sends to events
	closed bool

	mu      sync.Mutex // guards the fields below
	speaker string     // device id, "" default
	cur     *playback
	dev     *malgo.Device
	idle    *time.Timer
	gen     int // bumped on every Play/Stop: a stale load gives up

	lastFill atomic.Int64 // unix nanos of the device's last pull

	audioMu sync.Mutex // the "speaker lock": held while the device pulls samples
	source  beep.Streamer
	buf     [][2]float64
}

// playback is the clip being played.
type playback struct {
	clip, src string
	speed     float64
	stream    *pcmStream
	ctrl      *beep.Ctrl
	duration  time.Duration // at speed 1
	stopTick  chan struct{}
}

// NewPlayer plays clips decoded by clips; listen is told every change
// (from the player's goroutines: the UI hands it to its own).
func NewPlayer(clips *Clips, listen func(PlayEvent)) *Player {
	if listen == nil {
		listen = func(PlayEvent) {}
	}
	p := &Player{clips: clips, listen: listen, events: make(chan PlayEvent, 256)}
	go func() {
		for ev := range p.events {
			p.listen(ev)
		}
	}()
	return p
}

// emit hands ev to the listener, in order, on the player's own goroutine
// (which Close ends: nothing is told after it).
func (p *Player) emit(ev PlayEvent) {
	p.emitMu.Lock()
	defer p.emitMu.Unlock()
	if !p.closed {
		p.events <- ev
	}
}

// SetSpeaker chooses the output device ("" for the system default); it
// applies from the next clip.
func (p *Player) SetSpeaker(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.speaker != id && p.dev != nil && p.cur == nil {
		closeDevice(p.dev)
		p.dev = nil
	}
	p.speaker = id
}

// Current is the clip loaded (playing or paused), "" when none.
func (p *Player) Current() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil {
		return ""
	}
	return p.cur.clip
}

// Play starts clip (the file src) at position at, at the speed given (0:
// the speed the last clip had, else 1), stopping any other clip; a
// paused clip resumes where it is when at is negative. It returns at
// once: the outcome comes as events.
func (p *Player) Play(clip, src string, at time.Duration, speed float64) {
	p.mu.Lock()
	if c := p.cur; c != nil && c.clip == clip && at < 0 {
		p.setPaused(false)
		p.mu.Unlock()
		return
	}
	if speed <= 0 {
		speed = 1
		if p.cur != nil {
			speed = p.cur.speed
		}
	}
	p.stopLocked()
	p.gen++
	gen := p.gen
	p.mu.Unlock()
	at = max(at, 0)
	p.emit(PlayEvent{Clip: clip, State: Loading, Position: at, Speed: speed})
	go p.load(gen, clip, src, at, speed)
}

// load decodes and starts a clip off the caller's goroutine.
func (p *Player) load(gen int, clip, src string, at time.Duration, speed float64) {
	fail := func(err error) {
		p.mu.Lock()
		stale := gen != p.gen
		p.mu.Unlock()
		if !stale {
			p.emit(PlayEvent{Clip: clip, State: Stopped, Speed: speed, Err: err})
		}
	}
	ctx := context.Background()
	dur, err := p.clips.Duration(ctx, src)
	if err != nil {
		fail(err)
		return
	}
	pcm, err := p.clips.PCM(ctx, src, speed)
	if err != nil {
		fail(err)
		return
	}
	stream, err := openPCM(pcm)
	if err != nil {
		fail(err)
		return
	}
	if at >= dur {
		at = 0
	}
	_ = stream.Seek(framesOf(time.Duration(float64(at) / speed)))
	pb := &playback{clip: clip, src: src, speed: speed, stream: stream, duration: dur, stopTick: make(chan struct{})}
	pb.ctrl = &beep.Ctrl{Streamer: stream}
	p.mu.Lock()
	if gen != p.gen {
		p.mu.Unlock()
		stream.Close()
		return
	}
	if err := p.openSpeakerLocked(); err != nil {
		p.mu.Unlock()
		stream.Close()
		fail(err)
		return
	}
	p.cur = pb
	p.lastFill.Store(time.Now().UnixNano())
	p.audioMu.Lock()
	p.source = beep.Seq(pb.ctrl, beep.Callback(func() { go p.ended(pb) }))
	p.audioMu.Unlock()
	ev := p.eventOf(pb, Playing)
	p.mu.Unlock()
	p.emit(ev)
	go p.ticker(pb)
}

// openSpeakerLocked opens the output device unless it is open.
func (p *Player) openSpeakerLocked() error {
	if p.idle != nil {
		p.idle.Stop()
		p.idle = nil
	}
	if p.dev != nil {
		return nil
	}
	dev, err := openDevice(false, p.speaker, p.fill, p.lost)
	if err != nil {
		return err
	}
	p.dev = dev
	return nil
}

// fill is the device's data callback: the current source's samples, or
// silence.
func (p *Player) fill(out, _ []byte, frames uint32) {
	p.lastFill.Store(time.Now().UnixNano())
	p.audioMu.Lock()
	defer p.audioMu.Unlock()
	n := int(frames)
	if cap(p.buf) < n {
		p.buf = make([][2]float64, n)
	}
	buf := p.buf[:n]
	got := 0
	if p.source != nil {
		for got < n {
			k, ok := p.source.Stream(buf[got:])
			got += k
			if !ok || k == 0 {
				break
			}
		}
	}
	for i := range n {
		var v float64
		if i < got {
			v = math.Max(-1, math.Min(1, (buf[i][0]+buf[i][1])/2))
		}
		binary.LittleEndian.PutUint16(out[2*i:], uint16(int16(v*32767)))
	}
}

// lost: the speaker stopped by itself (unplugged, sound server gone, its
// stream killed): what plays stops with a DeviceError.
func (p *Player) lost() {
	go func() {
		p.mu.Lock()
		pb := p.cur
		if p.dev != nil {
			closeDevice(p.dev) // off this goroutine, with deadlines: it may be stalled
			p.dev = nil
		}
		p.mu.Unlock()
		if pb != nil {
			p.Stop()
			p.emit(PlayEvent{Clip: pb.clip, State: Stopped, Duration: pb.duration, Speed: pb.speed,
				Err: &DeviceError{Kind: "speaker", Op: "use", Err: errors.New("it stopped while playing")}})
		}
	}()
}

// ticker tells the position while pb is loaded.
func (p *Player) ticker(pb *playback) {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-pb.stopTick:
			return
		case <-t.C:
			p.mu.Lock()
			cur, paused := p.cur == pb, pb.ctrl.Paused
			ev := p.eventOf(pb, Playing)
			p.mu.Unlock()
			if !cur {
				return
			}
			// The speaker pulls samples (silence while paused) every
			// period; one that stopped asking is gone (the server killed
			// the stream: miniaudio does not always say so).
			if time.Since(time.Unix(0, p.lastFill.Load())) > silentFor {
				p.lost()
				return
			}
			if !paused {
				p.emit(ev)
			}
		}
	}
}

// eventOf describes pb in state s (p.mu held).
func (p *Player) eventOf(pb *playback, s PlayState) PlayEvent {
	pos := time.Duration(float64(durationOf(pb.stream.Position())) * pb.speed)
	return PlayEvent{Clip: pb.clip, State: s, Position: min(pos, pb.duration), Duration: pb.duration, Speed: pb.speed}
}

// ended: pb's last samples are buffered.
func (p *Player) ended(pb *playback) {
	p.mu.Lock()
	if p.cur != pb {
		p.mu.Unlock()
		return
	}
	p.stopLocked()
	p.mu.Unlock()
	p.emit(PlayEvent{Clip: pb.clip, State: Ended, Position: pb.duration, Duration: pb.duration, Speed: pb.speed})
}

// Pause pauses the current clip.
func (p *Player) Pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setPaused(true)
}

// setPaused pauses or resumes the current clip (p.mu held).
func (p *Player) setPaused(paused bool) {
	pb := p.cur
	if pb == nil {
		return
	}
	p.audioMu.Lock()
	pb.ctrl.Paused = paused
	p.audioMu.Unlock()
	s := Playing
	if paused {
		s = Paused
	}
	ev := p.eventOf(pb, s)
	p.emit(ev)
}

// Seek moves the current clip to at (its own time).
func (p *Player) Seek(at time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pb := p.cur
	if pb == nil {
		return
	}
	at = max(0, min(at, pb.duration))
	p.audioMu.Lock()
	_ = pb.stream.Seek(framesOf(time.Duration(float64(at) / pb.speed)))
	p.audioMu.Unlock()
	s := Playing
	if pb.ctrl.Paused {
		s = Paused
	}
	ev := p.eventOf(pb, s)
	p.emit(ev)
}

// SetSpeed plays the current clip on at speed from where it is.
func (p *Player) SetSpeed(speed float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pb := p.cur
	if pb == nil || speed == pb.speed || speed <= 0 {
		return
	}
	pos := p.eventOf(pb, Playing).Position
	go func() {
		pcm, err := p.clips.PCM(context.Background(), pb.src, speed)
		var stream *pcmStream
		if err == nil {
			stream, err = openPCM(pcm)
		}
		if err != nil {
			p.Stop()
			p.emit(PlayEvent{Clip: pb.clip, State: Stopped, Err: err})
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.cur != pb {
			stream.Close()
			return
		}
		// Where the clip is now, not when the switch was asked.
		pos = max(pos, time.Duration(float64(durationOf(pb.stream.Position()))*pb.speed))
		_ = stream.Seek(framesOf(time.Duration(float64(pos) / speed)))
		p.audioMu.Lock()
		old := pb.stream
		pb.stream, pb.speed = stream, speed
		pb.ctrl.Streamer = stream
		p.audioMu.Unlock()
		old.Close()
		s := Playing
		if pb.ctrl.Paused {
			s = Paused
		}
		ev := p.eventOf(pb, s)
		p.emit(ev)
	}()
}

// Stop stops the current clip.
func (p *Player) Stop() {
	p.mu.Lock()
	pb := p.cur
	p.gen++
	p.stopLocked()
	p.mu.Unlock()
	if pb != nil {
		p.emit(PlayEvent{Clip: pb.clip, State: Stopped, Duration: pb.duration, Speed: pb.speed})
	}
}

// stopLocked unloads the current clip; the speaker closes when idle.
func (p *Player) stopLocked() {
	pb := p.cur
	if pb == nil {
		return
	}
	p.cur = nil
	close(pb.stopTick)
	p.audioMu.Lock()
	p.source = nil
	pb.stream.Close()
	p.audioMu.Unlock()
	if p.dev != nil && p.idle == nil {
		p.idle = time.AfterFunc(idleClose, p.closeIdle)
	}
}

// closeIdle closes the speaker when nothing has played for idleClose.
func (p *Player) closeIdle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.idle = nil
	if p.cur == nil && p.dev != nil {
		closeDevice(p.dev)
		p.dev = nil
	}
}

// Close stops playing and closes the speaker.
func (p *Player) Close() {
	p.Stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.idle != nil {
		p.idle.Stop()
		p.idle = nil
	}
	if p.dev != nil {
		closeDevice(p.dev)
		p.dev = nil
	}
	p.emitMu.Lock()
	if !p.closed {
		p.closed = true
		close(p.events)
	}
	p.emitMu.Unlock()
}
