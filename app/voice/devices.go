// Audio devices through miniaudio (github.com/gen2brain/malgo): listing
// microphones and speakers, and opening one. Every device call runs off
// the caller's goroutine with a deadline: miniaudio's calls can block for
// good on a stalled device (an Uninit after a device vanished did, see
// docs/voice.md), and the UI must never wait on one.
package voice

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/gen2brain/malgo"
)

// DeviceTimeout bounds each device call.
const DeviceTimeout = 3 * time.Second

// ErrNoDevice: there is no microphone or speaker to use (no sound server,
// no card, or the chosen one is gone).
var ErrNoDevice = errors.New("no audio device")

// ErrDeviceTimeout: the sound system did not answer in DeviceTimeout.
var ErrDeviceTimeout = errors.New("the sound system did not answer")

// DeviceError says which device failed and how, for the user.
type DeviceError struct {
	Kind string // "microphone" or "speaker"
	Op   string // "open", "start", ...
	Err  error
}

func (e *DeviceError) Error() string {
	switch {
	case errors.Is(e.Err, ErrNoDevice):
		return fmt.Sprintf("no %s found: connect one or choose another in Settings", e.Kind)
	case errors.Is(e.Err, ErrDeviceTimeout):
		return fmt.Sprintf("the %s did not answer (busy or stalled): try again or choose another", e.Kind)
	}
	return fmt.Sprintf("cannot %s the %s: %v", e.Op, e.Kind, e.Err)
}

func (e *DeviceError) Unwrap() error { return e.Err }

// Device is a microphone or speaker the user may choose.
type Device struct {
	ID        string // stable for the session; "" is the system's default
	Name      string
	IsDefault bool
}

// backends are the sound systems tried, in order: never miniaudio's null
// backend, which would play into nothing without an error.
func backends() []malgo.Backend {
	switch runtime.GOOS {
	case "windows":
		return []malgo.Backend{malgo.BackendWasapi, malgo.BackendDsound, malgo.BackendWinmm}
	case "darwin":
		return []malgo.Backend{malgo.BackendCoreaudio}
	}
	return []malgo.Backend{malgo.BackendPulseaudio, malgo.BackendAlsa, malgo.BackendJack}
}

// withDeadline runs fn on its own goroutine and waits at most
// DeviceTimeout for it. A call that never returns is left behind (nothing
// can stop it) and reported as ErrDeviceTimeout.
func withDeadline(fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(DeviceTimeout):
		return ErrDeviceTimeout
	}
}

// audioContext is one miniaudio context, opened on first use and shared.
type audioContext struct {
	mu  sync.Mutex
	ctx *malgo.AllocatedContext
}

var sharedContext audioContext

// get opens the context once (again after a failure).
func (a *audioContext) get() (*malgo.AllocatedContext, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ctx != nil {
		return a.ctx, nil
	}
	var ctx *malgo.AllocatedContext
	err := withDeadline(func() error {
		var err error
		ctx, err = malgo.InitContext(backends(), malgo.ContextConfig{}, nil)
		return err
	})
	if err != nil {
		if !errors.Is(err, ErrDeviceTimeout) {
			err = fmt.Errorf("%w (%v)", ErrNoDevice, err)
		}
		return nil, err
	}
	a.ctx = ctx
	return ctx, nil
}

// deviceInfos is the sound system's list of devices of a kind, asked
// with a deadline.
func deviceInfos(ctx *malgo.AllocatedContext, kind malgo.DeviceType) ([]malgo.DeviceInfo, error) {
	var infos []malgo.DeviceInfo
	err := withDeadline(func() error {
		var err error
		infos, err = ctx.Devices(kind)
		return err
	})
	return infos, err
}

// Devices lists the microphones (capture true) or speakers.
func Devices(capture bool) ([]Device, error) {
	ctx, err := sharedContext.get()
	if err != nil {
		return nil, err
	}
	kind := malgo.Playback
	if capture {
		kind = malgo.Capture
	}
	infos, err := deviceInfos(ctx, kind)
	if err != nil {
		return nil, err
	}
	out := make([]Device, 0, len(infos))
	for _, in := range infos {
		out = append(out, Device{ID: in.ID.String(), Name: in.Name(), IsDefault: in.IsDefault != 0})
	}
	return out, nil
}

// openDevice opens a capture or playback device (id "" for the
// default) at Rate, mono, s16, with the callbacks. onStop is told when the
// device stops by itself (unplugged, sound server gone).
func openDevice(capture bool, id string, data malgo.DataProc, onStop func()) (*malgo.Device, error) {
	kindName := "speaker"
	kind := malgo.Playback
	if capture {
		kindName, kind = "microphone", malgo.Capture
	}
	ctx, err := sharedContext.get()
	if err != nil {
		return nil, &DeviceError{Kind: kindName, Op: "open", Err: err}
	}
	cfg := malgo.DefaultDeviceConfig(kind)
	cfg.SampleRate = Rate
	cfg.PeriodSizeInMilliseconds = 20
	sub := &cfg.Playback
	if capture {
		sub = &cfg.Capture
	}
	sub.Format, sub.Channels = malgo.FormatS16, 1
	if id != "" {
		infos, err := deviceInfos(ctx, kind)
		if err != nil {
			return nil, &DeviceError{Kind: kindName, Op: "open", Err: err}
		}
		for i := range infos {
			if infos[i].ID.String() == id {
				sub.DeviceID = infos[i].ID.Pointer()
			}
		}
		if sub.DeviceID == nil {
			return nil, &DeviceError{Kind: kindName, Op: "open", Err: ErrNoDevice}
		}
	}
	var dev *malgo.Device
	err = withDeadline(func() error {
		var err error
		dev, err = malgo.InitDevice(ctx.Context, cfg, malgo.DeviceCallbacks{Data: data, Stop: onStop})
		return err
	})
	if err != nil {
		if !errors.Is(err, ErrDeviceTimeout) {
			err = fmt.Errorf("%w (%v)", ErrNoDevice, err)
		}
		return nil, &DeviceError{Kind: kindName, Op: "open", Err: err}
	}
	if err := withDeadline(dev.Start); err != nil {
		closeDevice(dev)
		return nil, &DeviceError{Kind: kindName, Op: "start", Err: err}
	}
	return dev, nil
}

// closeDevice stops and frees a device off the caller's goroutine (Stop
// before Uninit, always: an Uninit of a running stalled device hangs).
func closeDevice(dev *malgo.Device) {
	go func() {
		if err := withDeadline(dev.Stop); err != nil {
			return // stalled: leave it rather than hang in Uninit
		}
		dev.Uninit()
	}()
}
