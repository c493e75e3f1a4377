// PCM files: decoded and recorded audio lives on disk as 16-bit mono
// samples at Rate, never whole in memory. pcmStream plays one through beep
// (a beep.StreamSeekCloser reading the file as it goes) and Waveform
// reduces one to the peaks a voice bubble draws.
package voice

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sync"
	"time"
)

// pcmStream is a PCM file as a beep stream. Its methods are called with
// the speaker's lock held (or from the audio callback); mu guards its
// own state against the position readers.
type pcmStream struct {
	mu     sync.Mutex
	f      *os.File
	frames int // length in samples
	pos    int // next sample to play
	buf    []byte
	err    error
}

// openPCM opens a PCM file for playing.
func openPCM(path string) (*pcmStream, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &pcmStream{f: f, frames: int(st.Size() / 2)}, nil
}

// Stream fills samples from the file (mono to both channels).
func (s *pcmStream) Stream(samples [][2]float64) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pos >= s.frames || s.err != nil {
		return 0, false
	}
	n := min(len(samples), s.frames-s.pos)
	if cap(s.buf) < 2*n {
		s.buf = make([]byte, 2*n)
	}
	b := s.buf[:2*n]
	got, err := s.f.ReadAt(b, int64(s.pos)*2)
	if err != nil && !errors.Is(err, io.EOF) {
		s.err = fmt.Errorf("read the clip: %w", err)
	}
	n = got / 2
	for i := range n {
		v := float64(int16(binary.LittleEndian.Uint16(b[2*i:]))) / 32768
		samples[i] = [2]float64{v, v}
	}
	s.pos += n
	return n, n > 0
}

func (s *pcmStream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *pcmStream) Len() int { return s.frames }

func (s *pcmStream) Position() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pos
}

func (s *pcmStream) Seek(p int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pos = max(0, min(p, s.frames))
	return nil
}

func (s *pcmStream) Close() error { return s.f.Close() }

// framesOf is a duration in samples at Rate.
func framesOf(d time.Duration) int { return int(d * Rate / time.Second) }

// durationOf is a number of samples at Rate as a duration.
func durationOf(frames int) time.Duration { return time.Duration(frames) * time.Second / Rate }

// Waveform reduces the PCM file at path to n bars, each the loudest
// sample of its part of the clip (0..1), scaled so the loudest bar is 1
// (a quiet recording still shows its shape), and says how long the clip
// is. It reads the file in chunks: a five-minute clip is 28 MB.
func Waveform(path string, n int) ([]float32, time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	total := st.Size() / 2
	length := durationOf(int(total))
	if n <= 0 {
		return nil, length, nil
	}
	bars := make([]float32, n)
	if total == 0 {
		return bars, length, nil
	}
	buf := make([]byte, 1<<16)
	var idx int64
	for {
		got, err := io.ReadFull(f, buf)
		for i := 0; i+1 < got; i += 2 {
			v := int16(binary.LittleEndian.Uint16(buf[i:]))
			a := float32(math.Abs(float64(v))) / 32768
			bar := idx * int64(n) / total
			if a > bars[bar] {
				bars[bar] = a
			}
			idx++
		}
		if err != nil {
			break
		}
	}
	var peak float32
	for _, b := range bars {
		peak = max(peak, b)
	}
	if peak > 0 {
		for i := range bars {
			bars[i] /= peak
		}
	}
	return bars, length, nil
}
