// Package voice records, encodes, decodes and plays voice messages.
//
// This file is the codec side: FFmpeg's command-line tool (Debian package
// ffmpeg: its own AAC encoder and decoder, libopus, mp3 and vorbis through
// libavcodec) turns what other clients send into 16-bit mono PCM at 48 kHz
// for playback and waveforms, and a recording into AAC-LC in MP4 (what
// Conversations and Monal send, and the only one Monal plays) or Ogg
// Opus. No codec is written here.
package voice

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Rate is the sample rate of every PCM stream here (device, decoded and
// recorded audio): 48 kHz mono, 16-bit little-endian samples.
const Rate = 48000

// Format is how a voice message is encoded for the wire.
type Format string

const (
	// FormatAAC is AAC-LC in MP4 (.m4a, audio/mp4), mono, 24 kbit/s, its
	// index (moov) first: it plays in Conversations, Monal, Gajim and
	// browsers. The default.
	FormatAAC Format = "aac"
	// FormatOpus is Ogg Opus (.ogg, audio/ogg), 24 kbit/s: smaller, but
	// Monal cannot play it.
	FormatOpus Format = "opus"
)

// Ext is the file extension of the format.
func (f Format) Ext() string {
	if f == FormatOpus {
		return ".ogg"
	}
	return ".m4a"
}

// MediaType is the format's Content-Type.
func (f Format) MediaType() string {
	if f == FormatOpus {
		return "audio/ogg"
	}
	return "audio/mp4"
}

// CodecMissingError: a tool that encoding or decoding needs is not
// installed. The UI says what to install (Install).
type CodecMissingError struct {
	Tool    string // the program looked for
	Install string // what the user installs, in words
}

func (e *CodecMissingError) Error() string {
	return fmt.Sprintf("%s is not installed: %s", e.Tool, e.Install)
}

// ErrCodecMissing matches every *CodecMissingError with errors.Is.
var ErrCodecMissing = errors.New("a codec is missing")

// Is makes errors.Is(err, ErrCodecMissing) true.
func (e *CodecMissingError) Is(target error) bool { return target == ErrCodecMissing }

// DecodeError: ffmpeg could not read the file (corrupt, cut short, not
// audio). Detail is ffmpeg's own first line, for the log.
type DecodeError struct {
	Name   string
	Detail string
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("cannot play %s: the file is damaged or cut short", e.Name)
}

// ffmpegPath finds the ffmpeg program (PARLEY_FFMPEG overrides, for tests
// of a machine without it).
func ffmpegPath() (string, error) {
	name := "ffmpeg"
	if p := os.Getenv("PARLEY_FFMPEG"); p != "" {
		name = p
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", &CodecMissingError{Tool: "ffmpeg",
			Install: "install FFmpeg to play and record voice messages (Debian and Ubuntu: sudo apt install ffmpeg)"}
	}
	return p, nil
}

// CheckCodecs says whether what encoding and decoding need is installed
// (a *CodecMissingError if not): checked before recording, so that no one
// speaks into a recording that cannot be sent.
func CheckCodecs() error {
	_, err := ffmpegPath()
	return err
}

// runFFmpeg runs ffmpeg with args; its error output's first line
// becomes the error.
func runFFmpeg(ctx context.Context, args ...string) error {
	bin, err := ffmpegPath()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{"-nostdin", "-hide_banner", "-v", "error", "-y"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		line, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n")
		if line == "" {
			line = err.Error()
		}
		return errors.New(line)
	}
	return nil
}

// Decode writes the audio of src as PCM (Rate, mono, s16le) to dst, at
// most max long, sped up by speed (1, 1.5, 2: FFmpeg's atempo keeps the
// pitch). It writes to a temporary file renamed at the end, so dst is
// whole or absent.
func Decode(ctx context.Context, src, dst string, speed float64, max time.Duration) error {
	tmp := dst + ".part"
	args := []string{"-i", src, "-map", "0:a:0", "-vn", "-ac", "1", "-ar", strconv.Itoa(Rate)}
	if max > 0 {
		args = append(args, "-t", strconv.FormatFloat(max.Seconds(), 'f', 3, 64))
	}
	if speed > 0 && speed != 1 {
		args = append(args, "-af", "atempo="+strconv.FormatFloat(speed, 'f', 2, 64))
	}
	args = append(args, "-f", "s16le", "-c:a", "pcm_s16le", tmp)
	if err := runFFmpeg(ctx, args...); err != nil {
		os.Remove(tmp)
		if errors.Is(err, ErrCodecMissing) || ctx.Err() != nil {
			return err
		}
		return &DecodeError{Name: filepath.Base(src), Detail: err.Error()}
	}
	st, err := os.Stat(tmp)
	if err == nil && st.Size() < 2 {
		err = &DecodeError{Name: filepath.Base(src), Detail: "it holds no sound"}
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, dst)
}

// Encode turns the PCM file pcm (Rate, mono, s16le) into a voice message
// of the format at dst (whole or absent, as Decode).
func Encode(ctx context.Context, pcm, dst string, format Format) error {
	tmp := dst + ".part"
	args := []string{"-f", "s16le", "-ar", strconv.Itoa(Rate), "-ac", "1", "-i", pcm}
	switch format {
	case FormatOpus:
		args = append(args, "-c:a", "libopus", "-b:a", "24k", "-application", "voip", "-f", "ogg", tmp)
	default:
		// AAC-LC at 24 kHz: at 24 kbit/s that is what speech needs. FFmpeg's
		// default coder (twoloop) overshoots the rate by half (10 s of
		// speech: 47.7 KB) and takes 2.5 times longer; the fast coder keeps
		// to it (35.6 KB). faststart puts the index first so players start
		// before the whole file is there.
		args = append(args, "-c:a", "aac", "-aac_coder", "fast", "-b:a", "24k", "-ar", "24000", "-movflags", "+faststart",
			"-f", "ipod", tmp)
	}
	if err := runFFmpeg(ctx, args...); err != nil {
		os.Remove(tmp)
		if errors.Is(err, ErrCodecMissing) || ctx.Err() != nil {
			return err
		}
		return fmt.Errorf("encode the voice message: %w", err)
	}
	return os.Rename(tmp, dst)
}
