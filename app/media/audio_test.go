// Tests of ProbeAudio: the voice messages other clients send (made with
// ffmpeg and espeak-ng into testdata/audio) are read right, and broken,
// cut or lying files are refused without reading past their headers.
package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestProbeAudioOfEveryClient(t *testing.T) {
	cases := []struct {
		file, container, codec, mediaType string
		rate, channels                    int
	}{
		{"conversations.m4a", "mp4", "aac", "audio/mp4", 24000, 1},
		{"moovlast.m4a", "mp4", "aac", "audio/mp4", 24000, 1},
		{"gajim.m4a", "mp4", "opus", "audio/mp4", 48000, 1},
		{"clip.ogg", "ogg", "opus", "audio/ogg", 48000, 1},
		{"clip.mp3", "mp3", "mp3", "audio/mpeg", 22050, 1},
		{"clip.wav", "wav", "pcm", "audio/wav", 8000, 1},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "audio", c.file))
			if err != nil {
				t.Fatal(err)
			}
			info, err := ProbeAudio(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatalf("ProbeAudio: %v", err)
			}
			if info.Container != c.container || info.Codec != c.codec || info.MediaType != c.mediaType ||
				info.SampleRate != c.rate || info.Channels != c.channels {
				t.Errorf("got %+v, want %s/%s %s %d Hz %d ch", info, c.container, c.codec, c.mediaType, c.rate, c.channels)
			}
			// ffprobe says each clip lasts 2.13-2.19 s.
			if info.Duration < 2050*time.Millisecond || info.Duration > 2250*time.Millisecond {
				t.Errorf("duration %v, want about 2.13 s", info.Duration)
			}
		})
	}
}

func TestProbeAudioRefusesWhatIsNotAudio(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	if _, err := ProbeAudio(bytes.NewReader(png), int64(len(png))); !errors.Is(err, ErrNotAudio) {
		t.Errorf("a PNG: %v, want ErrNotAudio", err)
	}
	// An MP4 with a video track is a video.
	video := mp4File(box("moov", box("mvhd", mvhd(1000, 5000)), box("trak", box("mdia", box("hdlr", hdlr("vide"))))))
	if _, err := ProbeAudio(bytes.NewReader(video), int64(len(video))); !errors.Is(err, ErrNotAudio) {
		t.Errorf("a video: %v, want ErrNotAudio", err)
	}
}

func TestProbeAudioCutShort(t *testing.T) {
	for _, name := range []string{"conversations.m4a", "gajim.m4a", "clip.ogg"} {
		data, err := os.ReadFile(filepath.Join("testdata", "audio", name))
		if err != nil {
			t.Fatal(err)
		}
		cut := data[:200]
		info, err := ProbeAudio(bytes.NewReader(cut), int64(len(cut)))
		var ae *AudioError
		switch {
		case errors.As(err, &ae) || errors.Is(err, ErrNotAudio):
		case err == nil && info.Container == "ogg" && info.Duration < time.Second:
			// Ogg has no index: a cut stream is a shorter one.
		default:
			t.Errorf("%s cut to 200 bytes: %+v, %v, want an AudioError", name, info, err)
		}
	}
}

// A voice message that declares ten hours says so in its header; the
// probe reports it (the player refuses it) without reading the rest.
func TestProbeAudioDeclaredTenHours(t *testing.T) {
	entry := make([]byte, 28) // audio sample entry after its 8-byte header
	binary.BigEndian.PutUint16(entry[16:18], 1)
	binary.BigEndian.PutUint32(entry[24:28], 24000<<16)
	stsd := append([]byte{0, 0, 0, 0, 0, 0, 0, 1}, box("mp4a", entry)...)
	file := mp4File(box("moov", box("mvhd", mvhd(1000, 10*3600*1000)),
		box("trak", box("mdia", box("hdlr", hdlr("soun")), box("minf", box("stbl", box("stsd", stsd)))))))
	info, err := ProbeAudio(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	if info.Duration != 10*time.Hour || info.Codec != "aac" || info.SampleRate != 24000 {
		t.Errorf("got %+v, want 10 h of AAC at 24 kHz", info)
	}
}

func FuzzProbeAudio(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "audio", "*"))
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
			f.Add(data[:len(data)/3])
		}
	}
	f.Add([]byte("OggS"))
	f.Add([]byte("ID3\x04\x00\x00\x7f\x7f\x7f\x7f"))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := ProbeAudio(bytes.NewReader(data), int64(len(data)))
		if err == nil && info.Duration < 0 {
			t.Errorf("negative duration %v", info.Duration)
		}
	})
}

// box makes an MP4 box of type typ around the payloads.
func box(typ string, payloads ...[]byte) []byte {
	body := bytes.Join(payloads, nil)
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(body)))
	return append(append(b, typ...), body...)
}

// mp4File is an ftyp box followed by the boxes.
func mp4File(boxes ...[]byte) []byte {
	return append(box("ftyp", []byte("isom\x00\x00\x02\x00isom")), bytes.Join(boxes, nil)...)
}

// mvhd is a version 0 movie header payload with the given timescale and duration.
func mvhd(scale, units uint32) []byte {
	b := make([]byte, 100)
	binary.BigEndian.PutUint32(b[12:16], scale)
	binary.BigEndian.PutUint32(b[16:20], units)
	return b
}

// hdlr is a handler box payload of the given kind.
func hdlr(kind string) []byte {
	b := make([]byte, 24)
	copy(b[8:12], kind)
	return b
}
