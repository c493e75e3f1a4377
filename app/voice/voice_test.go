// Tests of recording and playing against a real (headless) PulseAudio:
// what the microphone is told is what gets recorded, and what the player
// plays is what the speaker's monitor hears, judged by correlation with
// the source, never by the player's own counters.
package voice_test

import (
	"path/filepath"
	"testing"
	"time"

	"parley/app/voice"
	"parley/app/voice/voicetest"
)

// events collects a player's events for a test to wait on.
type events chan voice.PlayEvent

func (e events) waitFor(t *testing.T, clip string, state voice.PlayState, within time.Duration) voice.PlayEvent {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case ev := <-e:
			if ev.Err != nil && state != voice.Stopped {
				t.Fatalf("player: %v", ev.Err)
			}
			if ev.Clip == clip && ev.State == state {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %v event for %s within %v", state, clip, within)
		}
	}
}

func newPlayer(t *testing.T) (*voice.Player, events) {
	ev := make(events, 1024)
	p := voice.NewPlayer(voice.NewClips(t.TempDir()), func(e voice.PlayEvent) {
		select {
		case ev <- e:
		default:
		}
	})
	t.Cleanup(p.Close)
	return p, ev
}

func TestPlayWhatEveryClientSends(t *testing.T) {
	pa := voicetest.Start(t)
	speech := voicetest.Speech(t, "Parley plays every voice message.")
	dir := t.TempDir()
	clips := map[string][]string{
		"conversations.m4a": {"-c:a", "aac", "-b:a", "24k", "-ar", "24000", "-movflags", "+faststart", "-f", "ipod"},
		"gajim.m4a":         {"-c:a", "libopus", "-b:a", "32k", "-f", "mp4"},
		"matrix.ogg":        {"-c:a", "libopus", "-b:a", "24k", "-f", "ogg"},
		"old.mp3":           {"-c:a", "libmp3lame", "-b:a", "32k", "-f", "mp3"},
	}
	p, ev := newPlayer(t)
	for name, args := range clips {
		t.Run(name, func(t *testing.T) {
			src := filepath.Join(dir, name)
			voicetest.EncodeAs(t, speech, src, args...)
			l, err := pa.Listen()
			if err != nil {
				t.Fatal(err)
			}
			p.Play(name, src, 0, 1)
			ev.waitFor(t, name, voice.Ended, 30*time.Second)
			heard := l.Stop()
			c, lag := voicetest.Correlation(speech, heard)
			t.Logf("%s: correlation %.3f at %.3f s, heard %.2f s", name, c, lag, float64(len(heard))/48000)
			if c < 0.7 {
				t.Errorf("what the speaker played correlates %.3f with the clip, want >= 0.7", c)
			}
		})
	}
}

func TestRecordWhatIsSpoken(t *testing.T) {
	pa := voicetest.Start(t)
	speech := voicetest.Speech(t, "Recording a voice message.")
	rec, err := voice.Record(voice.RecordOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := pa.Speak(speech); err != nil {
		t.Fatal(err)
	}
	take, err := rec.Stop()
	if err != nil {
		t.Fatal(err)
	}
	m4a := filepath.Join(t.TempDir(), "v.m4a")
	if err := voice.Encode(t.Context(), take.PCM, m4a, voice.FormatAAC); err != nil {
		t.Fatal(err)
	}
	got := voicetest.DecodeFile(t, m4a)
	c, lag := voicetest.Correlation(speech, got)
	t.Logf("recorded %v, correlation %.3f at %.3f s", take.Duration, c, lag)
	if c < 0.7 {
		t.Errorf("the recording correlates %.3f with what was spoken, want >= 0.7", c)
	}
}
