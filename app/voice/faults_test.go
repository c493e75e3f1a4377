// Faults: no sound server at all, a microphone that goes away while
// recording, and files that are cut, corrupt, lying about their length
// or not audio. Each gives a clear, typed error within the device
// deadline; nothing hangs and nothing half-made is kept.
package voice_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"parley/app/voice"
	"parley/app/voice/voicetest"
)

// The no-device case runs in a child process whose PULSE_SERVER leads
// nowhere: the audio library keeps one connection per process.
func TestNoSoundServer(t *testing.T) {
	if os.Getenv("VOICE_TEST_CHILD") == "no-device" {
		noDeviceChild(t)
		return
	}
	voicetest.Require(t, "ffmpeg")
	cmd := exec.Command(os.Args[0], "-test.run", "^TestNoSoundServer$", "-test.v")
	cmd.Env = append(os.Environ(), "VOICE_TEST_CHILD=no-device", "PULSE_SERVER=unix:/nonexistent/pulse",
		"ALSA_CONFIG_PATH=/nonexistent", "JACK_NO_START_SERVER=1")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	t.Logf("the child process had its errors in %v", time.Since(start).Round(time.Millisecond))
}

func noDeviceChild(t *testing.T) {
	_, err := voice.Record(voice.RecordOptions{Dir: t.TempDir()})
	var de *voice.DeviceError
	if !errors.As(err, &de) || de.Kind != "microphone" {
		t.Fatalf("Record with no sound server: %v, want a microphone DeviceError", err)
	}
	t.Logf("record: %v", err)
	src := filepath.Join("..", "media", "testdata", "audio", "conversations.m4a")
	clips := t.TempDir()
	evs := make(chan voice.PlayEvent, 64)
	p := voice.NewPlayer(voice.NewClips(clips), func(e voice.PlayEvent) { evs <- e })
	p.Play("x", src, 0, 1)
	deadline := time.After(2 * voice.DeviceTimeout)
	for {
		select {
		case e := <-evs:
			if e.State == voice.Playing {
				t.Fatal("playing with no sound server")
			}
			if e.Err != nil {
				if !errors.As(e.Err, &de) || de.Kind != "speaker" {
					t.Fatalf("play with no sound server: %v, want a speaker DeviceError", e.Err)
				}
				t.Logf("play: %v", e.Err)
				return
			}
		case <-deadline:
			t.Fatal("no error from the player in twice the device deadline")
		}
	}
}

func TestMicrophoneGoneMidRecording(t *testing.T) {
	pa := voicetest.Start(t)
	speech := voicetest.Speech(t, "This recording will be cut.")
	dir := t.TempDir()
	rec, err := voice.Record(voice.RecordOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := pa.Speak(speech[:len(speech)/2]); err != nil {
		t.Fatal(err)
	}
	// Pull the microphone out from under the recording: the server kills
	// its stream (unloading the source would only move the stream to
	// another one, as PulseAudio does when a USB microphone is unplugged).
	outs, err := pa.Pactl("list", "short", "source-outputs")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(outs, "\n") {
		// index, source, client, driver, spec: the remapped source's own
		// stream (client "-") stays, or the microphone would be broken for
		// the tests after this one.
		if f := strings.Fields(line); len(f) > 2 && f[2] != "-" {
			if _, err := pa.Pacmd("kill-source-output", f[0]); err != nil {
				t.Fatal(err)
			}
		}
	}
	select {
	case <-rec.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the recording did not notice the microphone was gone in 10 s")
	}
	take, err := rec.Stop()
	if err != nil {
		t.Fatal(err)
	}
	var de *voice.DeviceError
	if !errors.As(take.Ended, &de) || de.Kind != "microphone" {
		t.Errorf("the take ended with %v, want a microphone DeviceError", take.Ended)
	}
	// What was recorded before is kept, whole, for review.
	st, err := os.Stat(take.PCM)
	if err != nil || st.Size() < 48000 {
		t.Fatalf("the partial recording: %v, %v", st, err)
	}
	t.Logf("ended: %v; kept %v (%d bytes)", take.Ended, take.Duration, st.Size())
	if int64(take.Duration*48000/time.Second)*2 != st.Size() {
		t.Errorf("the take says %v but its file has %d bytes", take.Duration, st.Size())
	}
}

// TestMaxLengthStopsCleanly: a recording at its maximum length ends by
// itself with ErrMaxLength and exactly that much audio.
func TestMaxLengthStopsCleanly(t *testing.T) {
	voicetest.Start(t)
	rec, err := voice.Record(voice.RecordOptions{Dir: t.TempDir(), Max: 700 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-rec.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the recording did not stop at its maximum length")
	}
	take, err := rec.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(take.Ended, voice.ErrMaxLength) || take.Duration != 700*time.Millisecond {
		t.Errorf("got %v, %v; want 700ms ended by ErrMaxLength", take.Duration, take.Ended)
	}
}

func TestBadFilesGiveClearErrors(t *testing.T) {
	voicetest.Start(t)
	dir := t.TempDir()
	good, err := os.ReadFile(filepath.Join("..", "media", "testdata", "audio", "conversations.m4a"))
	if err != nil {
		t.Fatal(err)
	}
	corrupt := bytes.Clone(good)
	for i := 1200; i < len(corrupt); i += 7 {
		corrupt[i] ^= 0x5a
	}
	files := map[string][]byte{
		"truncated.m4a": good[:len(good)/4],
		"corrupt.m4a":   corrupt,
		"tenhours.m4a":  tenHours(good),
		"notaudio.m4a":  []byte("<html><body>not a voice message</body></html>"),
	}
	p, ev := newPlayer(t)
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			src := filepath.Join(dir, name)
			if err := os.WriteFile(src, data, 0o600); err != nil {
				t.Fatal(err)
			}
			p.Play(name, src, 0, 1)
			deadline := time.After(20 * time.Second)
			for {
				select {
				case e := <-ev:
					if e.Clip != name {
						continue
					}
					switch {
					case e.Err != nil:
						t.Logf("%s: %v", name, e.Err)
						checkBadFileError(t, name, e.Err)
						return
					case e.State == voice.Ended:
						// A cut or damaged file may still hold some sound: it
						// played what it had and ended.
						if name == "notaudio.m4a" || name == "tenhours.m4a" {
							t.Fatalf("%s played", name)
						}
						return
					}
				case <-deadline:
					t.Fatalf("%s: neither an error nor an end in 20 s", name)
				}
			}
		})
	}
}

func checkBadFileError(t *testing.T, name string, err error) {
	t.Helper()
	var tooLong *voice.TooLongError
	var notAudio *voice.NotAudioError
	var decode *voice.DecodeError
	switch name {
	case "tenhours.m4a":
		if !errors.As(err, &tooLong) || tooLong.Declared != 10*time.Hour {
			t.Errorf("got %v, want a TooLongError of 10 h", err)
		}
	case "notaudio.m4a":
		if !errors.As(err, &notAudio) {
			t.Errorf("got %v, want a NotAudioError", err)
		}
	default:
		if !errors.As(err, &notAudio) && !errors.As(err, &decode) {
			t.Errorf("got %T %v, want a NotAudioError or a DecodeError", err, err)
		}
	}
}

// tenHours is the clip with its movie header saying ten hours.
func tenHours(m4a []byte) []byte {
	out := bytes.Clone(m4a)
	i := bytes.Index(out, []byte("mvhd"))
	if i < 0 {
		panic("no mvhd")
	}
	b := out[i+4:] // version 0: flags, created, modified, timescale, duration
	scale := binary.BigEndian.Uint32(b[12:16])
	binary.BigEndian.PutUint32(b[16:20], scale*36000)
	return out
}

// The speaker's stream killed while a clip plays: the player stops with
// a speaker DeviceError instead of showing it playing for ever, and the
// next clip plays on a new stream.
func TestSpeakerGoneWhilePlaying(t *testing.T) {
	pa := voicetest.Start(t)
	before, err := pa.SinkInputs()
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join("..", "media", "testdata", "audio", "conversations.m4a")
	long := filepath.Join(t.TempDir(), "long.m4a")
	voicetest.EncodeAs(t, voicetest.DecodeFile(t, src, "-af", "aloop=loop=4:size=100000"), long, "-c:a", "aac", "-f", "ipod")
	p, ev := newPlayer(t)
	p.Play("long", long, 0, 1)
	ev.waitPast(t, "long", 300*time.Millisecond)
	if err := pa.KillSinkInputsSince(before); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-ev:
			if e.Clip != "long" || e.Err == nil {
				continue
			}
			var de *voice.DeviceError
			if !errors.As(e.Err, &de) || de.Kind != "speaker" {
				t.Fatalf("got %v, want a speaker DeviceError", e.Err)
			}
			t.Logf("told: %v", e.Err)
			p.Play("again", src, 0, 1)
			ev.waitFor(t, "again", voice.Ended, 20*time.Second)
			return
		case <-deadline:
			t.Fatal("the player did not notice its stream was killed in 10 s")
		}
	}
}
