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

// twoPhrases is a clip of two different phrases, and where the second
// starts.
func twoPhrases(t *testing.T) (all, first, second []int16) {
	first = voicetest.Speech(t, "One two three four.")
	second = voicetest.Speech(t, "Seven eight nine ten.")
	all = append(append([]int16{}, first...), second...)
	return all, first, second
}

// Seek, pause and speed, judged by what the speaker's monitor hears.
func TestSeekPauseAndSpeedAsHeard(t *testing.T) {
	pa := voicetest.Start(t)
	all, first, second := twoPhrases(t)
	src := filepath.Join(t.TempDir(), "two.m4a")
	voicetest.EncodeAs(t, all, src, "-c:a", "aac", "-b:a", "32k", "-f", "ipod")
	p, ev := newPlayer(t)
	secondAt := time.Duration(len(first)) * time.Second / 48000

	t.Run("start at the second phrase", func(t *testing.T) {
		l, err := pa.Listen()
		if err != nil {
			t.Fatal(err)
		}
		p.Play("seek", src, secondAt, 1)
		ev.waitFor(t, "seek", voice.Ended, 30*time.Second)
		heard := l.Stop()
		c2, _ := voicetest.Correlation(second, heard)
		c1, _ := voicetest.Correlation(first[:len(first)/2], heard)
		t.Logf("second phrase %.3f, first phrase %.3f", c2, c1)
		if c2 < 0.7 || c1 > c2-0.3 {
			t.Errorf("after a seek to the second phrase: it correlates %.3f, the first %.3f", c2, c1)
		}
	})

	t.Run("pause is silent and resume goes on", func(t *testing.T) {
		p.Play("pause", src, 0, 1)
		ev.waitPast(t, "pause", 500*time.Millisecond)
		p.Pause()
		paused := ev.waitFor(t, "pause", voice.Paused, 5*time.Second)
		l, err := pa.Listen()
		if err != nil {
			t.Fatal(err)
		}
		waitHeard(t, l, 48000/2) // half a second of the monitor while paused
		quiet := l.Stop()
		rms := voicetest.RMS(quiet[4800:]) // past the last buffered samples
		l, err = pa.Listen()
		if err != nil {
			t.Fatal(err)
		}
		p.Play("pause", src, -1, 0)
		ev.waitFor(t, "pause", voice.Ended, 30*time.Second)
		rest := l.Stop()
		c, _ := voicetest.Correlation(second, rest)
		t.Logf("paused at %v: rms while paused %.4f; the rest correlates %.3f with the second phrase", paused.Position, rms, c)
		if rms > 0.002 {
			t.Errorf("the speaker was not silent while paused (rms %.4f)", rms)
		}
		if c < 0.7 {
			t.Errorf("after resuming, the second phrase correlates %.3f", c)
		}
	})

	t.Run("twice as fast", func(t *testing.T) {
		// The clip as ffmpeg plays it at 2x, pitch kept.
		ref := voicetest.DecodeFile(t, src, "-af", "atempo=2")
		l, err := pa.Listen()
		if err != nil {
			t.Fatal(err)
		}
		p.Play("fast", src, 0, 2)
		ev.waitFor(t, "fast", voice.Ended, 30*time.Second)
		heard := l.Stop()
		c, _ := voicetest.Correlation(ref, heard)
		normal, _ := voicetest.Correlation(all[:len(all)/2], heard)
		span := soundSpan(heard)
		t.Logf("2x: correlation %.3f with the clip at 2x, %.3f with it at 1x; sound for %v of %v", c, normal,
			span, time.Duration(len(all))*time.Second/48000)
		if c < 0.6 || c < normal {
			t.Errorf("at 2x the speaker's sound correlates %.3f with the clip at 2x (%.3f at 1x)", c, normal)
		}
		if want := time.Duration(len(all)) * time.Second / 48000 / 2; span > want+300*time.Millisecond {
			t.Errorf("at 2x the clip sounded for %v, want about %v", span, want)
		}
	})
}

// waitPast waits until clip plays past pos.
func (e events) waitPast(t *testing.T, clip string, pos time.Duration) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-e:
			if ev.Err != nil {
				t.Fatalf("player: %v", ev.Err)
			}
			if ev.Clip == clip && ev.State == voice.Playing && ev.Position >= pos {
				return
			}
		case <-deadline:
			t.Fatalf("%s did not play past %v in 10 s", clip, pos)
		}
	}
}

// waitHeard waits until the listener has n samples.
func waitHeard(t *testing.T, l *voicetest.Listener, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(l.Heard()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("the monitor gave %d samples in 10 s, want %d", len(l.Heard()), n)
		}
		time.Sleep(20 * time.Millisecond) // polling a growing recording
	}
}

// soundSpan is the time from the first to the last sample above a
// speech-level threshold.
func soundSpan(pcm []int16) time.Duration {
	first, last := -1, -1
	for i, v := range pcm {
		if v > 1000 || v < -1000 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return 0
	}
	return time.Duration(last-first) * time.Second / 48000
}
