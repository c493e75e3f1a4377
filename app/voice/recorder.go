// The recorder: the microphone (miniaudio capture, see devices.go) is
// written as PCM to a file while it records, so a five-minute message
// costs a file, not memory; the audio callback only copies bytes to a
// writer goroutine and keeps the level for the meter. A recording ends
// by Stop, Cancel, its maximum length, or the microphone going away;
// whatever was recorded before an ending by itself is kept for review.
package voice

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxRecording is the longest recording unless the settings say.
const DefaultMaxRecording = 5 * time.Minute

// ErrMaxLength: the recording reached its maximum length and stopped.
var ErrMaxLength = errors.New("the recording reached its maximum length")

// silentFor: no samples for this long while recording means the
// microphone is gone (some backends never call the stop callback).
const silentFor = 2 * time.Second

// RecordOptions say where and how long to record.
type RecordOptions struct {
	Device string        // microphone id, "" for the default
	Dir    string        // folder of the PCM file
	Max    time.Duration // 0: DefaultMaxRecording
}

// Take is a finished recording: PCM at Rate, mono, s16le.
type Take struct {
	PCM      string
	Duration time.Duration
	// Ended says why the recording ended by itself (ErrMaxLength, a
	// *DeviceError); nil when stopped by the user.
	Ended error
}

// Recorder is one recording under way.
type Recorder struct {
	dev    interface{ Stop() error }
	closer func()
	file   *os.File
	chunks chan []byte
	wrote  chan error // the writer's outcome
	max    int

	frames atomic.Int64
	level  atomic.Uint32 // float32 bits of the last period's peak
	last   atomic.Int64  // unix nanos of the last samples

	sendMu sync.Mutex // the callback's sends against the close of chunks
	closed bool

	mu       sync.Mutex
	ended    error
	done     chan struct{} // closed when the recording ended (any way)
	finished bool
}

// Record opens the microphone and starts recording. It blocks for at most
// DeviceTimeout (call it off the UI goroutine).
func Record(opts RecordOptions) (*Recorder, error) {
	if opts.Max <= 0 {
		opts.Max = DefaultMaxRecording
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(opts.Dir, "rec-*.pcm")
	if err != nil {
		return nil, fmt.Errorf("start a recording: %w", err)
	}
	r := &Recorder{file: f, chunks: make(chan []byte, 256), wrote: make(chan error, 1),
		max: framesOf(opts.Max), done: make(chan struct{})}
	r.last.Store(time.Now().UnixNano())
	go r.write()
	dev, err := openDevice(true, opts.Device, r.capture, func() {
		r.end(&DeviceError{Kind: "microphone", Op: "use", Err: errors.New("it stopped while recording")})
	})
	if err != nil {
		close(r.chunks)
		<-r.wrote
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	r.dev = dev
	r.closer = func() { closeDevice(dev) }
	go r.watch()
	return r, nil
}

// capture is the device's data callback (the audio thread).
func (r *Recorder) capture(_, in []byte, frames uint32) {
	select {
	case <-r.done:
		return
	default:
	}
	n := int(frames)
	room := r.max - int(r.frames.Load())
	if n > room {
		n = max(room, 0)
	}
	var peak float64
	for i := 0; i+1 < 2*n && i+1 < len(in); i += 2 {
		peak = math.Max(peak, math.Abs(float64(int16(binary.LittleEndian.Uint16(in[i:])))/32768))
	}
	r.level.Store(math.Float32bits(float32(peak)))
	r.last.Store(time.Now().UnixNano())
	if n > 0 {
		chunk := make([]byte, 2*n)
		copy(chunk, in)
		r.sendMu.Lock()
		if !r.closed {
			select {
			case r.chunks <- chunk:
				r.frames.Add(int64(n))
			default: // the disk is stalled: a gap rather than a blocked audio thread
			}
		}
		r.sendMu.Unlock()
	}
	if int(r.frames.Load()) >= r.max {
		go r.end(ErrMaxLength)
	}
}

// write appends the chunks to the file.
func (r *Recorder) write() {
	w := bufio.NewWriterSize(r.file, 64<<10)
	var err error
	for chunk := range r.chunks {
		if err == nil {
			_, err = w.Write(chunk)
		}
	}
	if err == nil {
		err = w.Flush()
	}
	r.wrote <- err
}

// watch ends the recording when the microphone falls silent for good.
func (r *Recorder) watch() {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-r.done:
			return
		case <-t.C:
			if time.Since(time.Unix(0, r.last.Load())) > silentFor {
				r.end(&DeviceError{Kind: "microphone", Op: "use", Err: errors.New("it stopped sending sound")})
				return
			}
		}
	}
}

// end ends the recording by itself (once).
func (r *Recorder) end(why error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case <-r.done:
		return
	default:
	}
	r.ended = why
	close(r.done)
}

// Done is closed when the recording ends (by itself or by Stop/Cancel).
func (r *Recorder) Done() <-chan struct{} { return r.done }

// Level is the microphone's last peak, 0..1.
func (r *Recorder) Level() float32 { return math.Float32frombits(r.level.Load()) }

// Elapsed is how much has been recorded.
func (r *Recorder) Elapsed() time.Duration { return durationOf(int(r.frames.Load())) }

// finish ends the recording, closes the device and the file.
func (r *Recorder) finish() (Take, error) {
	r.end(nil)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return Take{}, errors.New("the recording is already finished")
	}
	r.finished = true
	r.closer()
	r.sendMu.Lock()
	r.closed = true
	close(r.chunks)
	r.sendMu.Unlock()
	werr := <-r.wrote
	if cerr := r.file.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(r.file.Name())
		return Take{}, fmt.Errorf("write the recording: %w", werr)
	}
	return Take{PCM: r.file.Name(), Duration: r.Elapsed(), Ended: r.ended}, nil
}

// Stop ends the recording and returns it for review or sending.
func (r *Recorder) Stop() (Take, error) { return r.finish() }

// Cancel ends the recording and deletes it.
func (r *Recorder) Cancel() {
	if t, err := r.finish(); err == nil {
		os.Remove(t.PCM)
	}
}
