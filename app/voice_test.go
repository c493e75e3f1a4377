// Voice messages end to end: spoken into the (headless PulseAudio)
// microphone while Parley records, sent through the real server's upload
// service to a real slixmpp peer, whose download ffprobe reads as AAC,
// mono, of the spoken length, and whose sound correlates with what was
// spoken; recorded while logged out, sent once after the next login; and
// the voice messages other clients send (Conversations' AAC .m4a, Gajim's
// Opus in MP4, Ogg Opus), uploaded by slixmpp, fetched and played by
// Parley to the speaker, judged by what its monitor hears.
package app_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"parley/app"
	"parley/app/apptest"
	"parley/app/store"
	"parley/app/voice"
	"parley/app/voice/voicetest"
)

// probe is what ffprobe says of an audio file.
type probe struct {
	Codec    string
	Channels int
	Duration time.Duration
}

func ffprobe(t *testing.T, path string) probe {
	t.Helper()
	voicetest.Require(t, "ffprobe")
	out, err := exec.Command("ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var r struct {
		Streams []struct {
			CodecName string `json:"codec_name"`
			Channels  int    `json:"channels"`
		} `json:"streams"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &r); err != nil || len(r.Streams) != 1 {
		t.Fatalf("ffprobe %s: %s, %v", path, out, err)
	}
	secs, _ := strconv.ParseFloat(r.Format.Duration, 64)
	return probe{Codec: r.Streams[0].CodecName, Channels: r.Streams[0].Channels,
		Duration: time.Duration(secs * float64(time.Second))}
}

// recordSpeech records speech spoken into the microphone and returns the
// encoded draft.
func recordSpeech(t *testing.T, pa *voicetest.Pulse, v *app.VoiceService, speech []int16) app.VoiceDraft {
	t.Helper()
	rec, err := v.Record()
	if err != nil {
		t.Fatal(err)
	}
	if err := pa.Speak(speech); err != nil {
		rec.Cancel()
		t.Fatal(err)
	}
	d, err := rec.Finish(chatCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestVoiceMessageToSlixmpp(t *testing.T) {
	for _, tc := range []struct {
		name string
		srv  func(testing.TB) *apptest.Server
	}{{"prosody", apptest.Shared}, {"ejabberd", apptest.SharedEjabberd}} {
		t.Run(tc.name, func(t *testing.T) { voiceMessageToSlixmpp(t, tc.srv(t)) })
	}
}

func voiceMessageToSlixmpp(t *testing.T, srv *apptest.Server) {
	pa := voicetest.Start(t)
	a, bobJID, bobPass := withFriend(t, srv, "voice")
	bob := srv.Slixmpp(t, bobJID, bobPass)
	speech := voicetest.Speech(t, "Hello Bob, this is a voice message from Parley.")
	spoken := time.Duration(len(speech)) * time.Second / 48000

	d := recordSpeech(t, pa, a.Svc.Voice(), speech)
	if filepath.Ext(d.Path) != ".m4a" || d.Size == 0 {
		t.Fatalf("the draft: %+v", d)
	}
	m, err := a.Svc.Voice().Send(chatCtx(t), bobJID, d)
	if err != nil {
		t.Fatal(err)
	}
	if m.Attachment == nil || m.Attachment.MediaType != "audio/mp4" || m.Attachment.Duration < spoken-300*time.Millisecond {
		t.Errorf("the message as queued: %+v", m.Attachment)
	}
	if _, err := os.Stat(d.Path); !os.IsNotExist(err) {
		t.Errorf("the draft is still there after sending: %v", err)
	}
	got := waitSlix(t, bob, "the voice message", slixFile)
	if got.Body != got.OOB {
		t.Errorf("body %q and OOB URL %q differ", got.Body, got.OOB)
	}
	file := filepath.Join(t.TempDir(), "received.m4a")
	data := fetch(t, got.OOB)
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	// The index first: players start before the whole file is there.
	if moov, mdat := bytes.Index(data, []byte("moov")), bytes.Index(data, []byte("mdat")); moov < 0 || mdat < 0 || moov > mdat {
		t.Errorf("moov at %d, mdat at %d: want the moov atom first", moov, mdat)
	}
	p := ffprobe(t, file)
	t.Logf("spoken %v; ffprobe: %+v", spoken, p)
	if p.Codec != "aac" || p.Channels != 1 {
		t.Errorf("received %s with %d channels, want AAC mono", p.Codec, p.Channels)
	}
	if diff := p.Duration - spoken; diff < -300*time.Millisecond || diff > 300*time.Millisecond {
		t.Errorf("received %v of audio for %v spoken", p.Duration, spoken)
	}
	c, lag := voicetest.Correlation(speech, voicetest.DecodeFile(t, file))
	t.Logf("correlation with the spoken clip %.3f at %.3f s", c, lag)
	if c < 0.7 {
		t.Errorf("the received voice message correlates %.3f with what was spoken", c)
	}
}

func TestVoiceRecordedOfflineGoesOnce(t *testing.T) {
	pa := voicetest.Start(t)
	srv := apptest.Shared(t)
	a, bobJID, bobPass := withFriend(t, srv, "voiceoff")
	a.Stop(t)
	bob := srv.Slixmpp(t, bobJID, bobPass)

	offline := apptest.NewService(t, a.Dir, nil)
	d := recordSpeech(t, pa, offline.Voice(), voicetest.Speech(t, "Recorded on a train."))
	if _, err := offline.Voice().Send(chatCtx(t), bobJID, d); err != nil {
		t.Fatal(err)
	}
	if _, err := offline.Chats().Send(chatCtx(t), bobJID, "after the voice message"); err != nil {
		t.Fatal(err)
	}
	if err := offline.Close(); err != nil {
		t.Fatal(err)
	}
	a.Start(t)
	waitSlix(t, bob, "the text after it", slixMessage("after the voice message"))
	files := 0
	for _, e := range bob.Events() {
		if e.Event == "message" && e.OOB != "" {
			files++
		}
	}
	if files != 1 {
		t.Errorf("slixmpp got %d voice messages, want 1", files)
	}
}

func TestPlayVoiceMessagesOfOtherClients(t *testing.T) {
	pa := voicetest.Start(t)
	srv := apptest.Shared(t)
	a, bobJID, bobPass := withFriend(t, srv, "voicein")
	bob := srv.Slixmpp(t, bobJID, bobPass)
	speech := voicetest.Speech(t, "A voice message from another client.")
	dir := t.TempDir()
	clips := []struct {
		name, mediaType string
		args            []string
	}{
		{"conversations.m4a", "audio/mp4", []string{"-c:a", "aac", "-b:a", "24k", "-ar", "24000", "-movflags", "+faststart", "-f", "ipod"}},
		{"gajim.m4a", "audio/mp4", []string{"-c:a", "libopus", "-b:a", "32k", "-f", "mp4"}},
		{"voice.ogg", "audio/ogg", []string{"-c:a", "libopus", "-b:a", "24k", "-f", "ogg"}},
	}
	events := make(chan voice.PlayEvent, 1024)
	defer a.Svc.Voice().Subscribe(func(e voice.PlayEvent) {
		select {
		case events <- e:
		default:
		}
	})()
	for i, c := range clips {
		t.Run(c.name, func(t *testing.T) {
			src := filepath.Join(dir, c.name)
			voicetest.EncodeAs(t, speech, src, c.args...)
			if _, err := bob.UploadFile(a.JID, src, srv.Harness().UploadService, c.mediaType); err != nil {
				t.Fatal(err)
			}
			msgs := waitHistory(t, a.Chats(), bobJID, "the voice message", func(msgs []store.Message) bool {
				return len(msgs) == i+1 && msgs[i].Attachment != nil
			})
			// As the chat view does when the message shows: a contact's
			// file fetches without asking.
			att, err := a.Chats().Fetch(chatCtx(t), msgs[i].ID, false)
			if err != nil {
				t.Fatal(err)
			}
			if att.MediaType != c.mediaType || att.Duration < time.Second {
				t.Errorf("stored as %s of %v, want %s of about %v", att.MediaType, att.Duration, c.mediaType,
					time.Duration(len(speech))*time.Second/48000)
			}
			l, err := pa.Listen()
			if err != nil {
				t.Fatal(err)
			}
			clip := strconv.FormatInt(msgs[i].ID, 10)
			a.Svc.Voice().Play(clip, att.LocalPath, 0, 1)
			waitPlay(t, events, clip, voice.Ended)
			heard := l.Stop()
			corr, _ := voicetest.Correlation(speech, heard)
			t.Logf("%s: the speaker's monitor correlates %.3f with the clip", c.name, corr)
			if corr < 0.7 {
				t.Errorf("what Parley played correlates %.3f with the voice message", corr)
			}
		})
	}
}

// waitPlay waits for the player to tell state for clip.
func waitPlay(t *testing.T, events <-chan voice.PlayEvent, clip string, state voice.PlayState) voice.PlayEvent {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case e := <-events:
			if e.Clip == clip && e.Err != nil {
				t.Fatalf("playing %s: %v", clip, e.Err)
			}
			if e.Clip == clip && e.State == state {
				return e
			}
		case <-deadline:
			t.Fatalf("%s: no %v in 30 s", clip, state)
		}
	}
}

// A draft playing in its review stops when it is discarded (its file goes).
func TestDiscardStopsThePlayingDraft(t *testing.T) {
	voicetest.Start(t)
	svc := apptest.NewService(t, t.TempDir(), nil)
	path := filepath.Join(t.TempDir(), "voice-draft.m4a")
	voicetest.EncodeAs(t, voicetest.Speech(t, "A draft long enough to be discarded while it plays, one two three four five six."),
		path, "-c:a", "aac", "-b:a", "24k", "-f", "ipod")
	d := app.VoiceDraft{Path: path}
	events := make(chan voice.PlayEvent, 1024)
	defer svc.Voice().Subscribe(func(e voice.PlayEvent) {
		select {
		case events <- e:
		default:
		}
	})()
	svc.Voice().Play(d.Clip(), d.Path, 0, 1)
	waitPlay(t, events, d.Clip(), voice.Playing)
	svc.Voice().Discard(d)
	waitPlay(t, events, d.Clip(), voice.Stopped)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the discarded draft is still there: %v", err)
	}
}
