// Voice messages in the service layer: recording one (the microphone the
// settings name, up to their maximum length), encoding it into the
// format they choose (AAC in MP4 by default: what Conversations and Monal
// send, and the only one Monal plays), reviewing, discarding or sending it
// (as a file, through the persistent outbox: sent once, after reconnect
// or restart if need be), and playing voice messages one at a time with
// their waveforms. The audio itself is app/voice's.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"parley/app/clock"
	"parley/app/media"
	"parley/app/notify"
	"parley/app/store"
	"parley/app/voice"
)

// VoiceSettings say how voice messages are recorded and sent (zero
// values: the defaults).
type VoiceSettings struct {
	// Microphone and Speaker are device ids (voice.Devices); "" is the
	// system's default.
	Microphone string `json:"microphone,omitempty"`
	Speaker    string `json:"speaker,omitempty"`
	// Format is "aac" (AAC in MP4, the default) or "opus" (Ogg Opus:
	// smaller, but Monal cannot play it).
	Format string `json:"format,omitempty"`
	// MaxSeconds is the longest recording (0: 300).
	MaxSeconds int `json:"max_seconds,omitempty"`
	// SendAtOnce: a hold-to-talk recording is sent when the button is
	// released, without a review.
	SendAtOnce bool `json:"send_at_once,omitempty"`
	// NoAutoPlayNext: the next voice message of the chat does not follow
	// the one that ended.
	NoAutoPlayNext bool `json:"no_autoplay_next,omitempty"`
}

// MaxRecording is the longest recording the settings allow.
func (s VoiceSettings) MaxRecording() time.Duration {
	if s.MaxSeconds <= 0 {
		return voice.DefaultMaxRecording
	}
	return time.Duration(s.MaxSeconds) * time.Second
}

// VoiceFormat is the wire format the settings choose.
func (s VoiceSettings) VoiceFormat() voice.Format {
	if s.Format == string(voice.FormatOpus) {
		return voice.FormatOpus
	}
	return voice.FormatAAC
}

// Folders of a profile for voice messages.
const (
	// RecordingsDir holds recordings being made and those waiting for
	// review; a voice message sent moves to OutgoingDir.
	RecordingsDir = "recordings"
	// DecodedDir holds voice messages decoded for playing (a cache).
	DecodedDir = "decoded"
)

// VoiceService records and plays voice messages. Create it with the
// Service; it is safe for concurrent use.
type VoiceService struct {
	log     *slog.Logger
	now     clock.Func
	profile func() *Profile
	chats   *ChatService

	mu     sync.Mutex
	player *voice.Player
	clips  *voice.Clips
	dir    string // the profile folder the player's cache is in

	listeners notify.Hub[voice.PlayEvent]
}

func newVoiceService(log *slog.Logger, now clock.Func, profile func() *Profile, chats *ChatService) *VoiceService {
	return &VoiceService{log: log, now: now, profile: profile, chats: chats}
}

// Voice is the voice message service.
func (s *Service) Voice() *VoiceService { return s.voice }

// Settings are the current profile's voice settings.
func (v *VoiceService) Settings() VoiceSettings {
	if p := v.profile(); p != nil {
		return p.Settings().Voice
	}
	return VoiceSettings{}
}

// SetSettings saves the voice settings in the profile.
func (v *VoiceService) SetSettings(s VoiceSettings) error {
	p := v.profile()
	if p == nil {
		return errors.New("no account yet: log in first")
	}
	if err := p.Update(func(a *AccountSettings) { a.Voice = s }); err != nil {
		return fmt.Errorf("save the voice settings: %w", err)
	}
	v.mu.Lock()
	if v.player != nil {
		v.player.SetSpeaker(s.Speaker)
	}
	v.mu.Unlock()
	return nil
}

// folder is a folder of the profile (or of the temporary folder before
// any account is known).
func (v *VoiceService) folder(name string) string {
	if p := v.profile(); p != nil {
		return filepath.Join(p.Dir(), name)
	}
	return filepath.Join(os.TempDir(), "parley-"+name)
}

// Devices lists the microphones (capture) or speakers. It may take up to
// voice.DeviceTimeout: call it off the UI goroutine.
func (v *VoiceService) Devices(capture bool) ([]voice.Device, error) {
	return voice.Devices(capture)
}

// Recording is a voice message being recorded.
type Recording struct {
	v      *VoiceService
	rec    *voice.Recorder
	format voice.Format
	Max    time.Duration
}

// Record opens the microphone the settings name and starts recording. It
// blocks for at most voice.DeviceTimeout: call it off the UI goroutine.
func (v *VoiceService) Record() (*Recording, error) {
	if err := voice.CheckCodecs(); err != nil {
		return nil, err
	}
	s := v.Settings()
	rec, err := voice.Record(voice.RecordOptions{Device: s.Microphone, Dir: v.folder(RecordingsDir), Max: s.MaxRecording()})
	if err != nil {
		return nil, err
	}
	// One clip at a time: what plays stops while the user speaks.
	v.mu.Lock()
	player := v.player
	v.mu.Unlock()
	if player != nil {
		player.Stop()
	}
	return &Recording{v: v, rec: rec, format: s.VoiceFormat(), Max: s.MaxRecording()}, nil
}

// Level is the microphone's level now, 0..1.
func (r *Recording) Level() float32 { return r.rec.Level() }

// Elapsed is how much has been recorded.
func (r *Recording) Elapsed() time.Duration { return r.rec.Elapsed() }

// Done is closed when the recording ended by itself (maximum length, the
// microphone gone) or was finished.
func (r *Recording) Done() <-chan struct{} { return r.rec.Done() }

// VoiceDraft is a recorded voice message, encoded, waiting to be sent or
// discarded.
type VoiceDraft struct {
	Path     string // the encoded file
	Duration time.Duration
	Size     int64
	// Ended says why the recording stopped by itself (maximum length,
	// microphone gone); nil when the user stopped it.
	Ended error
}

// Clip is the player's name for the draft (Play it under this name: Send
// and Discard then stop it if it plays).
func (d VoiceDraft) Clip() string { return "draft:" + d.Path }

// Finish stops the recording and encodes it: the draft to review or send.
// Encoding a minute takes a fraction of a second; call it off the UI
// goroutine. A recording with no sound at all (shorter than 0.3 s) is
// discarded with ErrRecordingTooShort.
func (r *Recording) Finish(ctx context.Context) (VoiceDraft, error) {
	take, err := r.rec.Stop()
	if err != nil {
		return VoiceDraft{}, err
	}
	defer os.Remove(take.PCM)
	if take.Duration < 300*time.Millisecond {
		return VoiceDraft{}, ErrRecordingTooShort
	}
	name := "voice-" + r.v.now().Format("20060102-150405") + r.format.Ext()
	dst := filepath.Join(filepath.Dir(take.PCM), name)
	if err := voice.Encode(ctx, take.PCM, dst, r.format); err != nil {
		return VoiceDraft{}, err
	}
	st, err := os.Stat(dst)
	if err != nil {
		return VoiceDraft{}, err
	}
	return VoiceDraft{Path: dst, Duration: take.Duration, Size: st.Size(), Ended: take.Ended}, nil
}

// Cancel stops the recording and deletes it.
func (r *Recording) Cancel() { r.rec.Cancel() }

// ErrRecordingTooShort: the recording was stopped before it held
// anything worth sending.
var ErrRecordingTooShort = errors.New("the recording is too short to send")

// stopDraft stops the draft if it plays (its file is about to go).
func (v *VoiceService) stopDraft(d VoiceDraft) {
	v.mu.Lock()
	player := v.player
	v.mu.Unlock()
	if player != nil && player.Current() == d.Clip() {
		player.Stop()
	}
}

// Discard deletes a draft (stopping it if it plays).
func (v *VoiceService) Discard(d VoiceDraft) {
	v.stopDraft(d)
	os.Remove(d.Path)
}

// Send queues the draft as a voice message to peer (through the outbox,
// as any file) and deletes the draft.
func (v *VoiceService) Send(ctx context.Context, peer string, d VoiceDraft) (store.Message, error) {
	v.stopDraft(d)
	m, err := v.chats.SendFile(ctx, peer, d.Path, media.PrepareOptions{})
	if err != nil {
		return m, err
	}
	os.Remove(d.Path)
	return m, nil
}

// Subscribe tells fn every change of what plays (on the player's
// goroutine: views hand it to theirs).
func (v *VoiceService) Subscribe(fn func(voice.PlayEvent)) (unsubscribe func()) {
	return v.listeners.Subscribe(fn)
}

// playerFor is the player, created on first use with its cache in the
// current profile.
func (v *VoiceService) playerFor() (*voice.Player, *voice.Clips) {
	dir := v.folder(DecodedDir)
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.player == nil || v.dir != dir {
		if v.player != nil {
			v.player.Close()
		}
		v.clips = voice.NewClips(dir)
		v.player = voice.NewPlayer(v.clips, v.listeners.Publish)
		v.player.SetSpeaker(v.Settings().Speaker)
		v.dir = dir
	}
	return v.player, v.clips
}

// Play plays the voice message in the file path, named clip in the
// events (a message id, or a draft's path), from at (negative: resume
// where it was paused) at speed (0: the last speed).
func (v *VoiceService) Play(clip, path string, at time.Duration, speed float64) {
	p, _ := v.playerFor()
	p.Play(clip, path, at, speed)
}

// Pause pauses what plays.
func (v *VoiceService) Pause() {
	p, _ := v.playerFor()
	p.Pause()
}

// Seek moves what plays to at.
func (v *VoiceService) Seek(at time.Duration) {
	p, _ := v.playerFor()
	p.Seek(at)
}

// SetSpeed changes the speed of what plays.
func (v *VoiceService) SetSpeed(speed float64) {
	p, _ := v.playerFor()
	p.SetSpeed(speed)
}

// StopPlaying stops what plays.
func (v *VoiceService) StopPlaying() {
	p, _ := v.playerFor()
	p.Stop()
}

// Playing is the clip loaded in the player ("" when none).
func (v *VoiceService) Playing() string {
	p, _ := v.playerFor()
	return p.Current()
}

// Waveform is the voice message's waveform in n bars, and its length. It
// decodes the file the first time: call it off the UI goroutine.
func (v *VoiceService) Waveform(ctx context.Context, path string, n int) ([]float32, time.Duration, error) {
	_, clips := v.playerFor()
	return clips.Waveform(ctx, path, n)
}

// close stops playing and closes the speaker.
func (v *VoiceService) close() {
	v.mu.Lock()
	player := v.player
	v.player = nil
	v.mu.Unlock()
	if player != nil {
		player.Close()
	}
}
