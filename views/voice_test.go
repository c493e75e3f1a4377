// Headless Fyne tests of voice messages in the chat, against a real
// server, a real peer and the headless PulseAudio: the recorder's states
// (a click records, Stop reviews with a waveform, Send sends; a held
// button released reviews; Escape and dragging away cancel), and the
// voice bubble (its waveform, play and pause, a click on the waveform
// seeking, the speed), judged where it matters by what the speaker's
// monitor hears.
package views

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"

	"parley/app"
	"parley/app/apptest"
	"parley/app/store"
	"parley/app/voice"
	"parley/app/voice/voicetest"
)

// testClock is a clock a test moves by hand (hold-to-talk is timed).
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// voiceChat logs in me and Bob and opens Bob's chat with the voice
// service wired in, on a clock the test moves.
func voiceChat(t *testing.T, prefix string) (h *chatsHarness, me, bob *apptest.Account, clock *testClock) {
	t.Helper()
	srv := apptest.Shared(t)
	me = srv.LogIn(t, prefix+"me")
	bob = srv.LogIn(t, prefix+"bob")
	apptest.Befriend(t, me, bob, "")
	clock = &testClock{t: time.Now()}
	h = openChats(t, me.Svc, fyne.NewSize(900, 700), false, func(o *ChatsOptions) {
		o.Voice = me.Svc.Voice()
		o.Now = clock.now
	})
	h.ui.do(func() { h.v.Open(bob.JID, "") })
	h.wait("Bob's chat", func() bool { return h.v.chat.peer == bob.JID && h.v.chat.loaded })
	return h, me, bob, clock
}

var primary = &desktop.MouseEvent{Button: desktop.MouseButtonPrimary}

// voiceRows are the rows on screen showing a voice strip.
func (h *chatsHarness) voiceRows() []shownChatRow {
	var out []shownChatRow
	for _, r := range h.chatRows() {
		if r.kind == rowMsg && r.view.row.lay != nil && r.view.row.lay.media != nil && r.view.row.lay.media.voice {
			out = append(out, r)
		}
	}
	return out
}

func TestRecordReviewAndSendAVoiceMessage(t *testing.T) {
	pa := voicetest.Start(t)
	h, me, bob, _ := voiceChat(t, "uivoice")
	r := h.v.recorder
	speech := voicetest.Speech(t, "A voice message recorded in the chat window.")

	// A click (press and release at once) starts recording.
	h.ui.do(func() {
		r.mic.MouseDown(primary)
		r.mic.MouseUp(primary)
	})
	h.wait("recording, with the time, the meter, Cancel and Send, the microphone now a stop button", func() bool {
		return r.state == recRecording && r.bar.Visible() && !h.v.composerRow.Visible() && r.elapsed.Visible() &&
			r.meterBox.Visible() && r.cancelBtn.Visible() && r.sendBtn.Visible() && !r.playBtn.Visible() &&
			r.mic.Visible() && r.mic.Icon == theme.MediaStopIcon() && !h.v.sendBtn.Visible()
	})
	if err := pa.Speak(speech); err != nil {
		t.Fatal(err)
	}
	h.wait("the elapsed time counting", func() bool { return strings.HasPrefix(r.elapsed.Text, "0:0") && r.elapsed.Text != "0:00 / 5:00" })
	h.ui.do(func() { // a click on the microphone (a stop button now) stops
		r.mic.MouseDown(primary)
		r.mic.MouseUp(primary)
	})
	h.wait("the review: play, waveform, length, Discard, Send", func() bool {
		return r.state == recReview && r.playBtn.Visible() && r.wave.Visible() && r.wave.Image != nil &&
			r.length.Text != "" && r.discard.Visible() && !r.cancelBtn.Visible() && r.mic.Icon == theme.MediaRecordIcon()
	})
	// Listening to it before sending.
	l, err := pa.Listen()
	if err != nil {
		t.Fatal(err)
	}
	h.ui.do(func() { r.playBtn.OnTapped() })
	h.wait("the review playing", func() bool { return r.playing.State == voice.Playing })
	h.wait("the review played to its end", func() bool { return r.playing.State == voice.Ended })
	if c, _ := voicetest.Correlation(speech, l.Stop()); c < 0.7 {
		t.Errorf("the review played something that correlates %.3f with what was said", c)
	}
	h.ui.do(func() { r.sendBtn.OnTapped() })
	h.wait("the composer back, and a voice bubble with its waveform and length", func() bool {
		rows := h.voiceRows()
		if r.state != recIdle || !h.v.composerRow.Visible() || len(rows) != 1 {
			return false
		}
		rv := rows[0].view
		return rv.voiceWave.Visible() && rv.voiceBtn.Visible() && strings.HasPrefix(rv.voiceTime.Text, "0:0")
	})
	waitCond(t, "Bob receiving the voice message", func() bool { return filesFrom(t, bob, me.JID) == 1 })
	if entries, _ := os.ReadDir(filepath.Join(me.Svc.Profile().Dir(), "recordings")); len(entries) != 0 {
		t.Errorf("recordings left behind: %v", entries)
	}
}

func TestHoldToTalkAndCancelling(t *testing.T) {
	pa := voicetest.Start(t)
	h, me, _, clock := voiceChat(t, "uihold")
	r := h.v.recorder
	speech := voicetest.Speech(t, "Hold to talk.")

	// Held, released: the review.
	h.ui.do(func() { r.mic.MouseDown(primary) })
	h.wait("recording while held", func() bool { return r.state == recRecording })
	if err := pa.Speak(speech); err != nil {
		t.Fatal(err)
	}
	clock.advance(2 * time.Second)
	h.ui.do(func() { r.mic.MouseUp(primary) })
	h.wait("the review after the release", func() bool { return r.state == recReview && r.wave.Image != nil })
	// Escape in the review discards.
	h.ui.do(func() { h.v.escape() })
	h.wait("the composer back", func() bool { return r.state == recIdle && h.v.composerRow.Visible() })

	// Held, dragged away, released: cancelled.
	h.ui.do(func() { r.mic.MouseDown(primary) })
	h.wait("recording while held", func() bool { return r.state == recRecording })
	h.ui.do(func() { r.mic.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: fyne.NewPos(-200, -100)}}) })
	h.wait("the hint to release", func() bool { return r.hint.Text == "Release to cancel" })
	clock.advance(2 * time.Second)
	h.ui.do(func() { r.mic.MouseUp(primary) })
	h.wait("cancelled", func() bool { return r.state == recIdle && strings.Contains(h.v.status.Text, "cancelled") })

	// Clicked, then Escape: cancelled.
	h.ui.do(func() {
		r.mic.MouseDown(primary)
		r.mic.MouseUp(primary)
	})
	h.wait("recording", func() bool { return r.state == recRecording })
	h.ui.do(func() { h.v.escape() })
	h.wait("cancelled by Escape", func() bool { return r.state == recIdle })

	// Nothing was sent, nothing is left.
	if m, ok := lastMessage(t, me.Svc, h.v.chat.peer); ok {
		t.Errorf("a message was sent: %+v", m)
	}
	dir := filepath.Join(me.Svc.Profile().Dir(), "recordings")
	waitCond(t, "the cancelled recordings deleted", func() bool {
		entries, _ := os.ReadDir(dir)
		return len(entries) == 0
	})
}

func TestVoiceBubblePlaysSeeksAndChangesSpeed(t *testing.T) {
	pa := voicetest.Start(t)
	srv := apptest.Shared(t)
	h, me, _, _ := voiceChat(t, "uibubble")
	slixJID, slixPass := srv.NewUser(t, "uibubbleslix")
	// On the roster: a contact's voice message is fetched when it shows.
	if err := me.Contacts().Add(ctxFor(t), slixJID, "", "", ""); err != nil {
		t.Fatal(err)
	}
	apptest.WaitContacts(t, me.Contacts(), "the peer on the roster", waitFor, func(s app.ContactsSnapshot) bool {
		_, ok := apptest.FindContact(s, slixJID)
		return ok
	})
	speech := voicetest.Speech(t, "Voice message from Conversations, one two three four five.")
	clip := filepath.Join(t.TempDir(), "conversations.m4a")
	voicetest.EncodeAs(t, speech, clip, "-c:a", "aac", "-b:a", "24k", "-ar", "24000", "-movflags", "+faststart", "-f", "ipod")
	if _, err := srv.Slixmpp(t, slixJID, slixPass).UploadFile(me.JID, clip, srv.Harness().UploadService, "audio/mp4"); err != nil {
		t.Fatal(err)
	}
	h.ui.do(func() { h.v.Open(slixJID, "") })
	h.wait("the voice bubble with its waveform and length", func() bool {
		rows := h.voiceRows()
		if len(rows) != 1 {
			return false
		}
		s := h.v.chat.voice.waves[rows[0].view.msg.ID]
		return s != nil && !s.loading && len(s.bars) == voiceBars && rows[0].view.voiceTime.Text == formatClock(s.length)
	})
	msg := func() store.Message { return h.voiceRows()[0].view.msg }

	l, err := pa.Listen()
	if err != nil {
		t.Fatal(err)
	}
	h.ui.do(func() { h.v.chat.tapVoice(msg(), voicePlay, 0) })
	h.wait("playing, with the pause button and the position", func() bool {
		rv := h.voiceRows()[0].view
		return h.v.chat.voice.now.State == voice.Playing && h.v.chat.voice.now.Position > 300*time.Millisecond &&
			strings.Contains(rv.voiceTime.Text, " / ")
	})
	h.ui.do(func() { h.v.chat.tapVoice(msg(), voicePlay, 0) })
	h.wait("paused", func() bool { return h.v.chat.voice.now.State == voice.Paused })
	// A click on the waveform's middle seeks there.
	h.ui.do(func() { h.v.chat.tapVoice(msg(), voiceWave, 0.5) })
	h.wait("moved to the middle", func() bool {
		now := h.v.chat.voice.now
		return now.Position >= now.Duration*45/100 && now.Position < now.Duration*60/100
	})
	// A drag along the waveform seeks as it goes: from a fifth to four fifths.
	h.ui.do(func() {
		rv := h.voiceRows()[0].view
		o := rv.bubbleOrigin(rv.Size().Width)
		m := rv.row.lay.media
		waveW := m.w - voiceBtn - 4 - voiceInfoW
		y := o.Y + m.y + m.h/2
		from := fyne.NewPos(o.X+m.x+voiceBtn+4+waveW/5, y)
		to := fyne.NewPos(o.X+m.x+voiceBtn+4+waveW*4/5, y)
		rv.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: from.Add(fyne.NewDelta(2, 0))}, Dragged: fyne.NewDelta(2, 0)})
		rv.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: to}, Dragged: fyne.NewDelta(to.X-from.X-2, 0)})
		rv.DragEnd()
	})
	h.wait("moved to four fifths by the drag", func() bool {
		now := h.v.chat.voice.now
		return now.Position >= now.Duration*75/100 && now.Position < now.Duration*85/100
	})
	h.ui.do(func() { h.v.chat.tapVoice(msg(), voiceWave, 0.5) }) // back to the middle
	h.wait("back in the middle", func() bool {
		now := h.v.chat.voice.now
		return now.Position >= now.Duration*45/100 && now.Position < now.Duration*60/100
	})
	h.ui.do(func() { h.v.chat.tapVoice(msg(), voicePlay, 0) })
	h.wait("played to its end", func() bool { return h.v.chat.voice.now.State == voice.Ended })
	heard := l.Stop()
	first, second := speech[:len(speech)/2], speech[len(speech)/2:]
	c1, _ := voicetest.Correlation(first[len(first)/3:], heard)
	c2, _ := voicetest.Correlation(second, heard)
	t.Logf("heard: the first half correlates %.3f, the second %.3f", c1, c2)
	if c2 < 0.7 {
		t.Errorf("the second half, after the seek, correlates %.3f with what the speaker played", c2)
	}

	// Speed: 1× → 1.5× → 2×, shown on the bubble.
	for _, want := range []string{"1.5×", "2×", "1×"} {
		h.ui.do(func() { h.v.chat.tapVoice(msg(), voiceSpeedPart, 0) })
		h.wait("speed "+want, func() bool { return h.voiceRows()[0].view.voiceSpeed.Text == want })
	}

	// An answer: text, then a voice message of our own (a draft made
	// from a file, as the recorder makes them).
	if _, err := me.Svc.Chats().Send(ctxFor(t), slixJID, "Thanks! Here is my answer:"); err != nil {
		t.Fatal(err)
	}
	answer := filepath.Join(t.TempDir(), "voice-answer.m4a")
	voicetest.EncodeAs(t, voicetest.Speech(t, "Sure, see you at eight. Bring the maps please."), answer,
		"-c:a", "aac", "-b:a", "24k", "-ar", "24000", "-f", "ipod")
	if _, err := me.Svc.Voice().Send(ctxFor(t), slixJID, app.VoiceDraft{Path: answer}); err != nil {
		t.Fatal(err)
	}
	h.wait("two voice bubbles", func() bool {
		rows := h.voiceRows()
		return len(rows) == 2 && rows[1].view.msg.State >= store.StateSent && h.v.chat.voice.waves[rows[1].view.msg.ID] != nil &&
			len(h.v.chat.voice.waves[rows[1].view.msg.ID].bars) == voiceBars
	})
	// The first one playing at 1.5×, paused two fifths in.
	h.ui.do(func() { h.v.chat.tapVoice(msg(), voiceSpeedPart, 0) })
	h.ui.do(func() { h.v.chat.tapVoice(msg(), voiceWave, 0.4) })
	h.wait("playing from two fifths", func() bool { return h.v.chat.voice.now.State == voice.Playing })
	h.ui.do(func() { h.v.chat.tapVoice(msg(), voicePlay, 0) })
	h.wait("paused", func() bool {
		rv := h.voiceRows()[0].view
		return h.v.chat.voice.now.State == voice.Paused && rv.voiceSpeed.Text == "1.5×" && strings.Contains(rv.voiceTime.Text, " / ")
	})
	shot := os.Getenv("PARLEY_SCREENSHOT_DIR")
	if shot != "" {
		// For the README: `PARLEY_SCREENSHOT_DIR=docs go test -tags migrated_fynedo -run TestVoiceBubble ./views`.
		var img bytes.Buffer
		h.ui.do(func() { _ = png.Encode(&img, h.w.Canvas().Capture()) })
		if err := os.WriteFile(filepath.Join(shot, "screenshot-voice.png"), img.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Resumed, it plays to its end, and our answer follows by itself.
	h.ui.do(func() { h.v.chat.tapVoice(msg(), voicePlay, 0) })
	answerClip := clipID(h.voiceRows()[1].view.msg.ID)
	h.wait("the next voice message playing after the first ended", func() bool {
		now := h.v.chat.voice.now
		return now.Clip == answerClip && now.State == voice.Playing
	})
}

// The voice settings list the sound server's devices, and what is saved
// is what the next recording uses: the chosen microphone, Ogg Opus, the
// maximum length.
func TestVoiceSettings(t *testing.T) {
	pa := voicetest.Start(t)
	h, me, bob, clock := voiceChat(t, "uisettings")
	var f *voiceSettingsForm
	h.ui.do(func() { f = showVoiceSettings(h.w, me.Svc.Voice(), h.ui.do, "") })
	h.wait("the devices listed", func() bool {
		return slices.Contains(f.mic.Options, "VirtualMic") && slices.Contains(f.speaker.Options, "VirtualSpeaker")
	})
	h.ui.do(func() {
		f.mic.SetSelected("VirtualMic")
		f.format.SetSelected(formatOpusTxt)
		f.maxLen.SetSelected("1 minute")
		f.sendNow.SetChecked(true)
		f.save()
	})
	waitCond(t, "the settings saved", func() bool {
		s := me.Svc.Voice().Settings()
		return s.Microphone != "" && s.Format == "opus" && s.MaxSeconds == 60 && s.SendAtOnce
	})
	// Hold-to-talk now sends at once, as Ogg Opus.
	r := h.v.recorder
	h.ui.do(func() { r.mic.MouseDown(primary) })
	h.wait("recording, up to a minute", func() bool { return r.state == recRecording && strings.HasSuffix(r.elapsed.Text, "/ 1:00") })
	if err := pa.Speak(voicetest.Speech(t, "Sent at once.")); err != nil {
		t.Fatal(err)
	}
	clock.advance(2 * time.Second)
	h.ui.do(func() { r.mic.MouseUp(primary) })
	h.wait("sent without a review", func() bool { return r.state == recIdle && len(h.voiceRows()) == 1 })
	m := h.voiceRows()[0].view.msg
	if m.Attachment.MediaType != "audio/ogg" || filepath.Ext(m.Body) != ".ogg" {
		t.Errorf("sent as %s (%s), want Ogg Opus", m.Attachment.MediaType, m.Body)
	}
	waitCond(t, "Bob receiving it", func() bool { return filesFrom(t, bob, me.JID) == 1 })
}

// Without FFmpeg a voice message says what to install, and offers Save as….
func TestVoiceBubbleWithoutFFmpeg(t *testing.T) {
	voicetest.Start(t)
	t.Setenv("PARLEY_FFMPEG", "/nonexistent/ffmpeg")
	h, me, bob, _ := voiceChat(t, "uinoffmpeg")
	clip, err := filepath.Abs(filepath.Join("..", "app", "media", "testdata", "audio", "gajim.m4a"))
	if err != nil {
		t.Fatal(err)
	}
	draft := filepath.Join(t.TempDir(), "voice.m4a")
	data, err := os.ReadFile(clip)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(draft, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := me.Svc.Voice().Send(ctxFor(t), bob.JID, app.VoiceDraft{Path: draft}); err != nil {
		t.Fatal(err)
	}
	h.wait("the bubble saying what to install, with Save as…", func() bool {
		rows := h.voiceRows()
		return len(rows) == 1 && strings.Contains(rows[0].text, "Install FFmpeg to play and record") && strings.Contains(rows[0].text, "Save as…")
	})
	// Recording says so before anyone speaks.
	r := h.v.recorder
	h.ui.do(func() {
		r.mic.MouseDown(primary)
		r.mic.MouseUp(primary)
	})
	h.wait("the recorder saying what to install", func() bool {
		return r.state == recIdle && h.v.composerRow.Visible() && strings.Contains(h.v.status.Text, "Could not record: Install FFmpeg")
	})
}

// The speaker's stream killed while a bubble plays: the chat says so in
// its status line, and the next click plays again.
func TestVoiceBubbleSpeakerGone(t *testing.T) {
	pa := voicetest.Start(t)
	h, me, bob, _ := voiceChat(t, "uispeaker")
	long := filepath.Join(t.TempDir(), "voice-long.m4a")
	voicetest.EncodeAs(t, voicetest.Speech(t, "A voice message long enough to be cut in the middle of its sentence, for the test."), long,
		"-c:a", "aac", "-b:a", "24k", "-f", "ipod")
	if _, err := me.Svc.Voice().Send(ctxFor(t), bob.JID, app.VoiceDraft{Path: long}); err != nil {
		t.Fatal(err)
	}
	h.wait("the voice bubble", func() bool { return len(h.voiceRows()) == 1 })
	msg := h.voiceRows()[0].view.msg
	before, err := pa.SinkInputs()
	if err != nil {
		t.Fatal(err)
	}
	h.ui.do(func() { h.v.chat.tapVoice(msg, voicePlay, 0) })
	h.wait("playing", func() bool {
		return h.v.chat.voice.now.State == voice.Playing && h.v.chat.voice.now.Position > 200*time.Millisecond
	})
	if err := pa.KillSinkInputsSince(before); err != nil {
		t.Fatal(err)
	}
	h.wait("the status saying the speaker stopped, the bubble ready to play again", func() bool {
		return strings.Contains(h.v.status.Text, "Could not play the voice message: Cannot use the speaker") &&
			h.v.chat.voice.now.State == voice.Stopped && h.voiceRows()[0].view.voiceBtn.Resource != nil &&
			!strings.Contains(h.voiceRows()[0].text, "speaker")
	})
	h.ui.do(func() { h.v.chat.tapVoice(msg, voicePlay, 0) })
	h.wait("playing again", func() bool { return h.v.chat.voice.now.State == voice.Playing })
}
