// Clips: the decoded PCM of voice messages, cached on disk per file and
// speed, and their waveforms. A file is checked before it decodes: its
// container must be audio (sniffed, not named) and say a length under
// MaxClip, so a file that declares ten hours is refused at once and
// nothing decodes without bound.
package voice

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"parley/app/media"
)

// MaxClip is the longest voice message Parley plays.
const MaxClip = 30 * time.Minute

// keepDecoded is how many decoded PCM files the cache keeps.
const keepDecoded = 24

// TooLongError: the file declares a length over MaxClip.
type TooLongError struct{ Declared time.Duration }

func (e *TooLongError) Error() string {
	return fmt.Sprintf("this voice message says it lasts %s; Parley plays up to %s",
		e.Declared.Round(time.Second), MaxClip)
}

// NotAudioError: the file is no audio Parley knows.
type NotAudioError struct {
	Name string
	Err  error
}

func (e *NotAudioError) Error() string {
	var ae *media.AudioError
	if errors.As(e.Err, &ae) {
		return fmt.Sprintf("%s cannot be played: %v", e.Name, e.Err)
	}
	return fmt.Sprintf("%s is not a sound file Parley can play", e.Name)
}

func (e *NotAudioError) Unwrap() error { return e.Err }

// Clips decodes voice messages into dir and remembers their lengths.
type Clips struct {
	dir string
	mu  sync.Mutex
	// decoding: one decode per file and speed at a time.
	decoding map[string]*decodeRun
}

type decodeRun struct {
	done chan struct{}
	err  error
}

// NewClips keeps decoded clips in dir.
func NewClips(dir string) *Clips {
	return &Clips{dir: dir, decoding: map[string]*decodeRun{}}
}

// Check reads the container of the file at path: its audio facts, or why
// it cannot be played.
func Check(path string) (media.AudioInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return media.AudioInfo{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return media.AudioInfo{}, err
	}
	info, err := media.ProbeAudio(f, st.Size())
	if err != nil {
		return media.AudioInfo{}, &NotAudioError{Name: filepath.Base(path), Err: err}
	}
	if info.Duration > MaxClip {
		return info, &TooLongError{Declared: info.Duration}
	}
	return info, nil
}

// key names a file's decoded PCM: its path, size and time, and the speed.
func (c *Clips) key(src string, speed float64) (string, error) {
	st, err := os.Stat(src)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256([]byte(src + "\x00" + strconv.FormatInt(st.Size(), 10) + "\x00" + st.ModTime().String()))
	return hex.EncodeToString(h[:12]) + "-" + strconv.FormatFloat(speed, 'f', 2, 64) + ".pcm", nil
}

// PCM is the decoded audio of src at speed (decoding it the first time).
func (c *Clips) PCM(ctx context.Context, src string, speed float64) (string, error) {
	if speed <= 0 {
		speed = 1
	}
	name, err := c.key(src, speed)
	if err != nil {
		return "", err
	}
	dst := filepath.Join(c.dir, name)
	if _, err := os.Stat(dst); err == nil {
		now := time.Now()
		_ = os.Chtimes(dst, now, now) // recently used: trimmed last
		return dst, nil
	}
	c.mu.Lock()
	run, busy := c.decoding[name]
	if !busy {
		run = &decodeRun{done: make(chan struct{})}
		c.decoding[name] = run
	}
	c.mu.Unlock()
	if busy {
		select {
		case <-run.done:
			return dst, run.err
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	run.err = c.decode(ctx, src, dst, speed)
	c.mu.Lock()
	delete(c.decoding, name)
	c.mu.Unlock()
	close(run.done)
	return dst, run.err
}

func (c *Clips) decode(ctx context.Context, src, dst string, speed float64) error {
	if _, err := Check(src); err != nil {
		return err
	}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return err
	}
	if err := Decode(ctx, src, dst, speed, time.Duration(float64(MaxClip)/speed)); err != nil {
		return err
	}
	c.trim()
	return nil
}

// trim keeps the keepDecoded most recently used PCM files.
func (c *Clips) trim() {
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return
	}
	type file struct {
		path string
		used time.Time
	}
	var files []file
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".pcm" {
			continue
		}
		if info, err := e.Info(); err == nil {
			files = append(files, file{filepath.Join(c.dir, e.Name()), info.ModTime()})
		}
	}
	if len(files) <= keepDecoded {
		return
	}
	slices.SortFunc(files, func(a, b file) int { return b.used.Compare(a.used) })
	for _, f := range files[keepDecoded:] {
		os.Remove(f.path)
	}
}

// Duration is the decoded length of src (at speed 1).
func (c *Clips) Duration(ctx context.Context, src string) (time.Duration, error) {
	_, d, err := c.Waveform(ctx, src, 0)
	return d, err
}

// Waveform is src's waveform in n bars and its length (see Waveform).
func (c *Clips) Waveform(ctx context.Context, src string, n int) ([]float32, time.Duration, error) {
	pcm, err := c.PCM(ctx, src, 1)
	if err != nil {
		return nil, 0, err
	}
	return Waveform(pcm, n)
}
