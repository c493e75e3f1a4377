// Command voice benchmarks voice messages, each figure beside its baseline
// in the same run: the size of a 10-second speech clip in each format
// (against ffmpeg's AAC at 32 kbit/s); encoding it (Parley's Encode
// against the ffmpeg command line on the same PCM) and its speed against
// real time; a recording from the moment it stops to "sent" on loopback
// (stop, encode, upload to Prosody's XEP-0363 service, message
// acknowledged); a click on a cached clip to its first sound at the
// (headless PulseAudio) speaker, against paplay of the same clip; the
// waveform of a five-minute clip (against ffmpeg decoding it); and the
// CPU and memory a 30-second recording costs, against parec recording the
// same microphone. Run it with `make bench` or `go run ./bench/voice`.
package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"parley/app"
	"parley/app/voice"
	"parley/app/voice/voicetest"
	"parley/bench/internal/benchkit"
	"parley/xmppclient/xmpptest"
)

func main() {
	rounds := flag.Int("rounds", 5, "timed rounds of the quick cases")
	sends := flag.Int("sends", 3, "recordings sent (each speaks 10 s into the microphone)")
	flag.Parse()
	if err := run(*rounds, *sends); err != nil {
		fmt.Fprintln(os.Stderr, "voice bench:", err)
		os.Exit(1)
	}
}

func run(rounds, sends int) error {
	work, err := os.MkdirTemp("", "parley-bench-voice-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	pa, err := voicetest.Shared()
	if err != nil {
		return fmt.Errorf("headless PulseAudio (make deps installs it): %w", err)
	}
	speech, err := speech10s(work)
	if err != nil {
		return err
	}
	pcm := filepath.Join(work, "speech.pcm")
	if err := os.WriteFile(pcm, int16Bytes(speech), 0o600); err != nil {
		return err
	}
	if err := benchEncode(work, pcm, rounds); err != nil {
		return err
	}
	if err := benchFirstSound(work, pa, pcm, rounds); err != nil {
		return err
	}
	long, err := fiveMinutes(work, pcm)
	if err != nil {
		return err
	}
	if err := benchWaveform(work, long, rounds); err != nil {
		return err
	}
	if err := benchRecordingCost(work, pa); err != nil {
		return err
	}
	return benchStopToSent(work, pa, speech, sends, long)
}

// fiveMinutes is the ten-second clip looped to five minutes (AAC .m4a).
func fiveMinutes(work, pcm string) (string, error) {
	ten := filepath.Join(work, "ten.m4a")
	if err := voice.Encode(context.Background(), pcm, ten, voice.FormatAAC); err != nil {
		return "", err
	}
	long := filepath.Join(work, "five-minutes.m4a")
	if out, err := exec.Command("ffmpeg", "-v", "error", "-y", "-stream_loop", "29", "-i", ten, "-c", "copy", long).CombinedOutput(); err != nil {
		return "", fmt.Errorf("ffmpeg: %v: %s", err, out)
	}
	return long, nil
}

// speech10s is ten seconds of espeak-ng speech (48 kHz mono).
func speech10s(work string) ([]int16, error) {
	wav := filepath.Join(work, "speech.wav")
	text := "Hello, this is a voice message from Parley. I am recording it to measure how large ten seconds of speech " +
		"are once encoded, and how fast it goes from the moment I stop to the moment it is sent. " +
		"One, two, three, four, five, six, seven, eight, nine, ten."
	if out, err := exec.Command("espeak-ng", "-w", wav, text).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("espeak-ng: %v: %s", err, out)
	}
	out, err := exec.Command("ffmpeg", "-v", "error", "-i", wav, "-t", "10", "-ac", "1", "-ar", "48000", "-f", "s16le", "-").Output()
	if err != nil {
		return nil, fmt.Errorf("ffmpeg: %v", err)
	}
	s := make([]int16, len(out)/2)
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(out[2*i:]))
	}
	if len(s) < 9*voice.Rate {
		return nil, fmt.Errorf("the speech is only %.1f s", float64(len(s))/voice.Rate)
	}
	return s, nil
}

func int16Bytes(s []int16) []byte {
	b := make([]byte, 2*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

func kb(path string) float64 {
	st, err := os.Stat(path)
	if err != nil {
		return -1
	}
	return float64(st.Size()) / 1000
}

func seconds(pcm string) float64 {
	st, _ := os.Stat(pcm)
	return float64(st.Size()) / 2 / voice.Rate
}

// benchEncode: sizes of the clip in each format and the time to encode it.
func benchEncode(work, pcm string, rounds int) error {
	ctx := context.Background()
	aac := filepath.Join(work, "parley.m4a")
	opus := filepath.Join(work, "parley.ogg")
	ref := filepath.Join(work, "ffmpeg.m4a")
	ref32 := filepath.Join(work, "ffmpeg32.m4a")
	parley := func() error { return voice.Encode(ctx, pcm, aac, voice.FormatAAC) }
	ffmpeg := func(out, rate string) func() error {
		return func() error {
			cmd := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "s16le", "-ar", "48000", "-ac", "1", "-i", pcm,
				"-c:a", "aac", "-aac_coder", "fast", "-b:a", rate, "-ar", "24000", "-movflags", "+faststart", "-f", "ipod", out)
			if b, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("ffmpeg: %v: %s", err, b)
			}
			return nil
		}
	}
	dp, err := benchkit.Time(rounds, parley)
	if err != nil {
		return err
	}
	df, err := benchkit.Time(rounds, ffmpeg(ref, "24k"))
	if err != nil {
		return err
	}
	if err := ffmpeg(ref32, "32k")(); err != nil {
		return err
	}
	do, err := benchkit.Time(rounds, func() error { return voice.Encode(ctx, pcm, opus, voice.FormatOpus) })
	if err != nil {
		return err
	}
	secs := seconds(pcm)
	fmt.Printf("### Size and encoding of a %.1f s speech clip (espeak-ng)\n\n", secs)
	fmt.Printf("**Goal:** at most 40 KB; encoding at least 20 × real time. **%s**, **%s**.\n\n",
		benchkit.Verdict(kb(aac) <= 40), benchkit.Verdict(secs/benchkit.Median(dp).Seconds() >= 20))
	fmt.Println("| | size | encode (median of", rounds, ") | × real time |")
	fmt.Println("|---|---|---|---|")
	fmt.Printf("| Parley, AAC-LC 24 kbit/s .m4a (the default) | %.1f KB | %s | %.0f × |\n", kb(aac), benchkit.Ms(benchkit.Median(dp)), secs/benchkit.Median(dp).Seconds())
	fmt.Printf("| ffmpeg command line, same PCM, same settings | %.1f KB | %s | %.0f × |\n", kb(ref), benchkit.Ms(benchkit.Median(df)), secs/benchkit.Median(df).Seconds())
	fmt.Printf("| Parley, Ogg Opus 24 kbit/s (setting) | %.1f KB | %s | %.0f × |\n", kb(opus), benchkit.Ms(benchkit.Median(do)), secs/benchkit.Median(do).Seconds())
	fmt.Printf("| ffmpeg AAC-LC 32 kbit/s, same coder (for scale) | %.1f KB | | |\n\n", kb(ref32))
	fmt.Printf("Parley / ffmpeg encode time: %.2f ×.\n\n", benchkit.Median(dp).Seconds()/benchkit.Median(df).Seconds())
	return nil
}

// monitor records the speaker's monitor through the voice package's own
// recorder (its level is read as it goes).
func monitor(work string) (*voice.Recorder, error) {
	devs, err := voice.Devices(true)
	if err != nil {
		return nil, err
	}
	for _, d := range devs {
		if strings.Contains(d.Name, "Monitor of VirtualSpeaker") {
			return voice.Record(voice.RecordOptions{Device: d.ID, Dir: work, Max: time.Hour})
		}
	}
	return nil, fmt.Errorf("no monitor of the virtual speaker among %v", devs)
}

// firstSound is how long after t0 the monitor's level rises.
func firstSound(mon *voice.Recorder, t0 time.Time) (time.Duration, error) {
	for time.Since(t0) < 5*time.Second {
		if mon.Level() > 0.02 {
			return time.Since(t0), nil
		}
		time.Sleep(time.Millisecond) // the level moves once per 20 ms audio period
	}
	return 0, fmt.Errorf("no sound in 5 s")
}

// quiet waits until the monitor is silent.
func quiet(mon *voice.Recorder) {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && mon.Level() > 0.005 {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
}

// benchFirstSound: a click on a cached clip to its first sound at the
// speaker, with the speaker closed (the first clip after a while) and
// open (the next one), against paplay of the same sound.
func benchFirstSound(work string, pa *voicetest.Pulse, pcm string, rounds int) error {
	ctx := context.Background()
	clip := filepath.Join(work, "clip.m4a")
	if err := voice.Encode(ctx, pcm, clip, voice.FormatAAC); err != nil {
		return err
	}
	wav := filepath.Join(work, "clip.wav")
	if out, err := exec.Command("ffmpeg", "-v", "error", "-y", "-i", clip, wav).CombinedOutput(); err != nil {
		return fmt.Errorf("ffmpeg: %v: %s", err, out)
	}
	clips := voice.NewClips(filepath.Join(work, "decoded"))
	if _, err := clips.PCM(ctx, clip, 1); err != nil { // cached
		return err
	}
	mon, err := monitor(work)
	if err != nil {
		return err
	}
	defer mon.Cancel()
	measure := func(play func(), stop func()) ([]time.Duration, error) {
		var ds []time.Duration
		for i := 0; i <= rounds; i++ {
			quiet(mon)
			t0 := time.Now()
			play()
			d, err := firstSound(mon, t0)
			stop()
			if err != nil {
				return nil, err
			}
			if i > 0 {
				ds = append(ds, d)
			}
		}
		slices.Sort(ds)
		return ds, nil
	}
	var player *voice.Player
	cold, err := measure(func() {
		player = voice.NewPlayer(clips, nil)
		player.Play("c", clip, 0, 1)
	}, func() { player.Close() })
	if err != nil {
		return fmt.Errorf("parley, speaker closed: %w", err)
	}
	player = voice.NewPlayer(clips, nil)
	defer player.Close()
	warm, err := measure(func() { player.Play("c", clip, 0, 1) }, func() { player.Stop() })
	if err != nil {
		return fmt.Errorf("parley, speaker open: %w", err)
	}
	var cmd *exec.Cmd
	pap, err := measure(func() {
		cmd = exec.Command("paplay", wav)
		cmd.Env = append(os.Environ(), "PULSE_SERVER="+pa.Server)
		_ = cmd.Start()
	}, func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	if err != nil {
		return fmt.Errorf("paplay: %w", err)
	}
	fmt.Printf("### A click on a cached voice message to its first sound at the speaker (headless PulseAudio)\n\n")
	fmt.Printf("**Goal:** under 150 ms. **%s:** median %s with the speaker closed, %s with it open; paplay of the same clip %s (Parley / paplay %.2f ×). Measured on the speaker's monitor (20 ms periods), %d rounds each.\n\n",
		benchkit.Verdict(benchkit.Median(cold) < 150*time.Millisecond), benchkit.Ms(benchkit.Median(cold)), benchkit.Ms(benchkit.Median(warm)), benchkit.Ms(benchkit.Median(pap)),
		benchkit.Median(cold).Seconds()/benchkit.Median(pap).Seconds(), rounds)
	return nil
}

// benchWaveform: the waveform of a five-minute clip.
func benchWaveform(work, long string, rounds int) error {
	ctx := context.Background()
	var first []time.Duration
	for i := range rounds {
		clips := voice.NewClips(filepath.Join(work, "wave"+strconv.Itoa(i)))
		t0 := time.Now()
		if _, _, err := clips.Waveform(ctx, long, 48); err != nil {
			return err
		}
		first = append(first, time.Since(t0))
	}
	slices.Sort(first)
	clips := voice.NewClips(filepath.Join(work, "wave0"))
	cached, err := benchkit.Time(rounds, func() error { _, _, err := clips.Waveform(ctx, long, 48); return err })
	if err != nil {
		return err
	}
	dec, err := benchkit.Time(rounds, func() error {
		return exec.Command("ffmpeg", "-v", "error", "-i", long, "-ac", "1", "-ar", "48000", "-f", "s16le", "-y", filepath.Join(work, "x.pcm")).Run()
	})
	if err != nil {
		return err
	}
	dur, _ := clips.Duration(ctx, long)
	fmt.Printf("### The waveform of a %s voice message\n\n", dur.Round(time.Second))
	fmt.Printf("**Goal:** under 100 ms. **%s:** %s from its decoded sound (kept after the first time); the first time, decoding included, %s, where ffmpeg alone decodes it in %s (%.2f ×). Drawing it: see the chat view below.\n\n",
		benchkit.Verdict(benchkit.Median(cached) < 100*time.Millisecond), benchkit.Ms(benchkit.Median(cached)), benchkit.Ms(benchkit.Median(first)), benchkit.Ms(benchkit.Median(dec)),
		benchkit.Median(first).Seconds()/benchkit.Median(dec).Seconds())
	return nil
}

// cpuTime is this process's user+system time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rss is this process's resident memory in MB.
func rss() float64 {
	data, _ := os.ReadFile("/proc/self/statm")
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.Atoi(f[1])
	return float64(pages*os.Getpagesize()) / 1e6
}

// procCPU is a child process's user+system time from /proc.
func procCPU(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return time.Duration(ut+st) * time.Second / 100 // clock ticks (USER_HZ 100)
}

// benchRecordingCost: CPU and memory of a 30-second recording.
func benchRecordingCost(work string, pa *voicetest.Pulse) error {
	const length = 30 * time.Second
	runtime.GC()
	rss0, cpu0, t0 := rss(), cpuTime(), time.Now()
	rec, err := voice.Record(voice.RecordOptions{Dir: work, Max: time.Hour})
	if err != nil {
		return err
	}
	peak := rss0
	for time.Since(t0) < length {
		time.Sleep(500 * time.Millisecond)
		peak = max(peak, rss())
	}
	take, err := rec.Stop()
	if err != nil {
		return err
	}
	cpu, wall := cpuTime()-cpu0, time.Since(t0)
	pcmMB := kb(take.PCM) / 1000
	os.Remove(take.PCM)
	parec := exec.Command("parec", "--raw", "--format=s16le", "--rate=48000", "--channels=1", "--latency-msec=20",
		filepath.Join(work, "parec.pcm"))
	parec.Env = append(os.Environ(), "PULSE_SERVER="+pa.Server)
	parec.Args = []string{"parec", "--raw", "--format=s16le", "--rate=48000", "--channels=1", "--latency-msec=20"}
	out, err := os.Create(filepath.Join(work, "parec.pcm"))
	if err != nil {
		return err
	}
	parec.Stdout = out
	if err := parec.Start(); err != nil {
		return err
	}
	time.Sleep(length)
	pcpu := procCPU(parec.Process.Pid)
	_ = parec.Process.Kill()
	_ = parec.Wait()
	out.Close()
	fmt.Printf("### Recording %v from the microphone\n\n", length)
	share := cpu.Seconds() / wall.Seconds() * 100
	fmt.Printf("**Goal:** under 10 %% of one core, memory bounded. **%s:** %.1f %% of one core (the whole process: capture, level meter, writing); parec recording the same microphone %.1f %%. Resident memory %.1f MB before, at most %.1f MB during (+%.1f MB) while %.1f MB of sound went to the file.\n\n",
		benchkit.Verdict(share < 10), share, pcpu.Seconds()/length.Seconds()*100, rss0, peak, peak-rss0, pcmMB)
	return nil
}

// benchStopToSent: 10 s spoken into the microphone, then the time from
// the stop to "sent".
func benchStopToSent(work string, pa *voicetest.Pulse, speech []int16, sends int, long string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	srv, err := xmpptest.StartProsody(xmpptest.ProsodyOptions{})
	if err != nil {
		return fmt.Errorf("start Prosody (make deps installs it): %w", err)
	}
	defer srv.Close()
	svc, waitSent, err := benchkit.Sender(ctx, srv, filepath.Join(work, "profile"))
	if err != nil {
		return err
	}
	defer svc.Close()
	peer := srv.JID("receiver")
	var total, encode, queue []time.Duration
	var size float64
	for i := 0; i <= sends; i++ {
		rec, err := svc.Voice().Record()
		if err != nil {
			return err
		}
		if err := pa.Speak(speech); err != nil {
			return err
		}
		t0 := time.Now()
		d, err := rec.Finish(ctx)
		if err != nil {
			return err
		}
		t1 := time.Now()
		m, err := svc.Voice().Send(ctx, peer, d)
		if err != nil {
			return err
		}
		t2 := time.Now()
		if err := waitSent(m.ID); err != nil {
			return err
		}
		if i > 0 {
			total = append(total, time.Since(t0))
			encode = append(encode, t1.Sub(t0))
			queue = append(queue, t2.Sub(t1))
			size = float64(d.Size) / 1000
		}
	}
	slices.Sort(total)
	slices.Sort(encode)
	slices.Sort(queue)
	fmt.Printf("### A 10-second recording from Stop to \"sent\" (Prosody, loopback)\n\n")
	fmt.Printf("**Goal:** under 500 ms. **%s:** median %s (min %s, max %s, %d recordings of %.1f KB): stop and encode %s, queued (prepared, stored) %s, then the slot, the upload and the message acknowledged.\n\n",
		benchkit.Verdict(benchkit.Median(total) < 500*time.Millisecond), benchkit.Ms(benchkit.Median(total)), benchkit.Ms(total[0]), benchkit.Ms(total[len(total)-1]), sends, size, benchkit.Ms(benchkit.Median(encode)), benchkit.Ms(benchkit.Median(queue)))
	// The five-minute message, sent as a draft, then played in the chat view.
	draft := filepath.Join(work, "voice-five-minutes.m4a")
	data, err := os.ReadFile(long)
	if err != nil {
		return err
	}
	if err := os.WriteFile(draft, data, 0o600); err != nil {
		return err
	}
	m, err := svc.Voice().Send(ctx, peer, app.VoiceDraft{Path: draft})
	if err != nil {
		return err
	}
	if err := waitSent(m.ID); err != nil {
		return err
	}
	return benchPlayingFrames(ctx, svc, peer, m.ID)
}
