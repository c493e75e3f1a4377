// Package voicetest runs a headless PulseAudio for the voice tests: no
// sound card, no D-Bus. A null sink "spk" is the default speaker (what
// Parley plays is recorded from its monitor), a null sink "micfeed" with a
// source "vmic" remapped from its monitor is the default microphone (a
// WAV played into micfeed is "spoken into the microphone"). Two silent
// keep-alive streams make the null sinks render in real time instead of
// 2-second blocks. One server serves a whole test binary (the audio
// library keeps one connection per process); it dies with the process.
//
// Needs the Debian packages pulseaudio and pulseaudio-utils (and
// espeak-ng, sox for the clips): `make deps` installs them. Missing, the
// tests skip, or fail when CI=true.
package voicetest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"parley/xmppclient/xmpptest"
)

// Pulse is the running headless server.
type Pulse struct {
	Dir    string
	Server string // the PULSE_SERVER value
	procs  []*exec.Cmd
}

var (
	once    sync.Once
	shared  *Pulse
	started error
)

// missing applies the policy for an absent component.
func missing(t testing.TB, what string) {
	t.Helper()
	msg := what + " is not installed (run `make deps`)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Require checks the programs a test needs.
func Require(t testing.TB, programs ...string) {
	t.Helper()
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			missing(t, p)
		}
	}
}

// Start starts the shared server (once) and points this process's
// PULSE_SERVER at it.
func Start(t testing.TB) *Pulse {
	t.Helper()
	Require(t, "pulseaudio", "pactl", "pacat", "parec", "paplay")
	p, err := Shared()
	if err != nil {
		t.Fatalf("headless PulseAudio: %v", err)
	}
	return p
}

// Shared starts the process's server once (for programs that are not
// tests: the benchmarks).
func Shared() (*Pulse, error) {
	once.Do(func() { shared, started = start() })
	return shared, started
}

func start() (*Pulse, error) {
	dir, err := os.MkdirTemp("", "parley-pa-")
	if err != nil {
		return nil, err
	}
	runtime := filepath.Join(dir, "runtime")
	if err := os.MkdirAll(runtime, 0o700); err != nil {
		return nil, err
	}
	p := &Pulse{Dir: dir, Server: "unix:" + filepath.Join(runtime, "pulse", "native")}
	script := `load-module module-native-protocol-unix auth-anonymous=1
load-module module-cli-protocol-unix
load-module module-null-sink sink_name=spk rate=48000 channels=2 sink_properties=device.description=VirtualSpeaker
load-module module-null-sink sink_name=micfeed rate=48000 channels=1 sink_properties=device.description=MicFeed
load-module module-remap-source source_name=vmic master=micfeed.monitor source_properties=device.description=VirtualMic
set-default-sink spk
set-default-source vmic
`
	if err := os.WriteFile(filepath.Join(dir, "headless.pa"), []byte(script), 0o600); err != nil {
		return nil, err
	}
	os.Setenv("PULSE_SERVER", p.Server)
	daemon := p.command("pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "-n", "-F",
		filepath.Join(dir, "headless.pa"), "--log-target=file:"+filepath.Join(dir, "pa.log"))
	if err := p.spawn(daemon); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(10 * time.Second)
	for p.command("pactl", "info").Run() != nil {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "pa.log"))
			return nil, fmt.Errorf("did not start in 10 s: %s", lastLines(string(log), 5))
		}
		time.Sleep(50 * time.Millisecond) // polling a starting daemon: there is no event to wait on
	}
	for _, sink := range []string{"micfeed", "spk"} {
		ch := "1"
		if sink == "spk" {
			ch = "2"
		}
		keep := p.command("pacat", "-p", "--latency-msec=10", "-d", sink, "--raw", "--format=s16le",
			"--rate=48000", "--channels="+ch, "/dev/zero")
		if err := p.spawn(keep); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// command is a PulseAudio tool run against this server.
func (p *Pulse) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "PULSE_SERVER="+p.Server, "XDG_RUNTIME_DIR="+filepath.Join(p.Dir, "runtime"),
		"HOME="+p.Dir)
	return cmd
}

// spawn starts a child that dies with the test process.
func (p *Pulse) spawn(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	p.procs = append(p.procs, cmd)
	return nil
}

// Pactl runs a pactl command.
func (p *Pulse) Pactl(args ...string) (string, error) {
	out, err := p.command("pactl", args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("pactl %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// Pacmd runs a pacmd command (kill-source-output, which pactl lacks).
func (p *Pulse) Pacmd(args ...string) (string, error) {
	out, err := p.command("pacmd", args...).CombinedOutput()
	if err != nil || strings.Contains(string(out), "failed") {
		return string(out), fmt.Errorf("pacmd %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// SinkInputs lists the playback streams now (pactl's short list), for
// KillSinkInputsSince.
func (p *Pulse) SinkInputs() (string, error) { return p.Pactl("list", "short", "sink-inputs") }

// KillSinkInputsSince kills the playback streams that were not in before
// (a SinkInputs list): the player's speaker "unplugged".
func (p *Pulse) KillSinkInputsSince(before string) error {
	after, err := p.SinkInputs()
	if err != nil {
		return err
	}
	for _, line := range strings.Split(after, "\n") {
		if f := strings.Fields(line); len(f) > 0 && !strings.Contains(before, line) {
			if _, err := p.Pacmd("kill-sink-input", f[0]); err != nil {
				return err
			}
		}
	}
	return nil
}

// Speak plays the PCM (48 kHz mono s16le) into the microphone; it returns
// when it has been played. Its stream asks for 100 ms of buffer: with 10
// ms, a busy machine let it run dry now and then, and the silence the
// server filled in shifted the rest of the speech by a few milliseconds
// (measured: one recording in ten then correlated 0.5-0.66 with what was
// said instead of 0.93-1.0).
func (p *Pulse) Speak(pcm []int16) error {
	cmd := p.command("pacat", "-p", "--latency-msec=100", "-d", "micfeed", "--raw", "--format=s16le",
		"--rate=48000", "--channels=1")
	cmd.Stdin = bytes.NewReader(int16Bytes(pcm))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pacat into the microphone: %v: %s", err, out)
	}
	return nil
}

// Listener records what the speaker plays.
type Listener struct {
	cmd *exec.Cmd
	out xmpptest.SyncBuffer // written by exec's copying goroutine, read by the test
}

// Listen starts recording the speaker's monitor (48 kHz mono).
func (p *Pulse) Listen() (*Listener, error) {
	l := &Listener{}
	// 50 ms of buffer: an overrun would drop samples and shift what was
	// heard against the source (see Speak).
	l.cmd = p.command("parec", "-d", "spk.monitor", "--latency-msec=50", "--raw", "--format=s16le",
		"--rate=48000", "--channels=1")
	l.cmd.Stdout = &l.out
	if err := p.spawn(l.cmd); err != nil {
		return nil, err
	}
	return l, nil
}

// Stop ends the recording and returns what was heard.
func (l *Listener) Stop() []int16 {
	_ = l.cmd.Process.Signal(syscall.SIGTERM)
	_ = l.cmd.Wait()
	return BytesInt16(l.out.Bytes())
}

// Heard is what has been recorded so far (a copy).
func (l *Listener) Heard() []int16 { return BytesInt16(l.out.Bytes()) }

func int16Bytes(s []int16) []byte {
	b := make([]byte, 2*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}

// BytesInt16 reads s16le samples.
func BytesInt16(b []byte) []int16 {
	s := make([]int16, len(b)/2)
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return s
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
