// Audio probing: what a shared audio file is (MP4/M4A with AAC or Opus,
// Ogg Opus or Vorbis, MP3, WAV) and how long it says it is, read from its
// container headers, never from its name. Voice messages from Conversations
// and Monal are AAC in MP4, Gajim's are Opus in MP4, others Ogg Opus or
// MP3. Only the headers are read: a file that declares ten hours is
// refused by its declared length before anything decodes it.
package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// AudioInfo is what an audio file's container says about it.
type AudioInfo struct {
	Container  string // "mp4", "ogg", "mp3", "wav"
	Codec      string // "aac", "opus", "vorbis", "mp3", "pcm", or the container's own code
	MediaType  string // audio/mp4, audio/ogg, audio/mpeg, audio/wav
	Duration   time.Duration
	SampleRate int
	Channels   int
}

// ErrNotAudio: the bytes are not an audio file Parley knows.
var ErrNotAudio = errors.New("not an audio file")

// AudioError says why an audio file could not be read (its container is
// cut short or broken).
type AudioError struct {
	Container string
	Reason    string
}

func (e *AudioError) Error() string {
	return fmt.Sprintf("broken %s audio file: %s", e.Container, e.Reason)
}

// maxMoovSize bounds what is read of an MP4's metadata box: a voice
// message's is a few kilobytes (its sample tables), a lie is refused.
const maxMoovSize = 16 << 20

// ProbeAudio reads the container of the audio file r (size bytes long).
func ProbeAudio(r io.ReaderAt, size int64) (AudioInfo, error) {
	head := make([]byte, 64)
	n, _ := r.ReadAt(head, 0)
	head = head[:n]
	switch {
	case len(head) >= 8 && string(head[4:8]) == "ftyp":
		return probeMP4(r, size)
	case bytes.HasPrefix(head, []byte("OggS")):
		return probeOgg(r, size)
	case len(head) >= 12 && string(head[0:4]) == "RIFF" && string(head[8:12]) == "WAVE":
		return probeWAV(r, size)
	case bytes.HasPrefix(head, []byte("ID3")) || (len(head) >= 2 && head[0] == 0xFF && head[1]&0xE0 == 0xE0):
		return probeMP3(r, size)
	}
	return AudioInfo{}, ErrNotAudio
}

// mp4Box is one box of an MP4 file: its type and where its payload lies.
type mp4Box struct {
	typ        string
	start, end int64 // payload
}

// mp4Boxes lists the boxes between start and end.
func mp4Boxes(r io.ReaderAt, start, end int64) ([]mp4Box, error) {
	var boxes []mp4Box
	hdr := make([]byte, 16)
	for pos := start; pos+8 <= end; {
		if _, err := r.ReadAt(hdr[:8], pos); err != nil {
			return boxes, &AudioError{"MP4", "cut short"}
		}
		size := int64(binary.BigEndian.Uint32(hdr[:4]))
		typ := string(hdr[4:8])
		payload := pos + 8
		switch size {
		case 0:
			size = end - pos
		case 1:
			if _, err := r.ReadAt(hdr[8:16], pos+8); err != nil {
				return boxes, &AudioError{"MP4", "cut short"}
			}
			large := binary.BigEndian.Uint64(hdr[8:16])
			if large > uint64(end-pos) {
				return boxes, &AudioError{"MP4", "a box runs past the end"}
			}
			size = int64(large)
			payload = pos + 16
		}
		if size < payload-pos || pos+size > end {
			return boxes, &AudioError{"MP4", "a box runs past the end"}
		}
		boxes = append(boxes, mp4Box{typ: typ, start: payload, end: pos + size})
		pos += size
	}
	return boxes, nil
}

// child is the first box of type typ in boxes.
func child(boxes []mp4Box, typ string) (mp4Box, bool) {
	for _, b := range boxes {
		if b.typ == typ {
			return b, true
		}
	}
	return mp4Box{}, false
}

// probeMP4 finds the movie header (duration) and the first sound track's
// sample description (codec, rate, channels). A file with a video track
// is a video, not a voice message.
func probeMP4(r io.ReaderAt, size int64) (AudioInfo, error) {
	top, err := mp4Boxes(r, 0, size)
	moovBox, ok := child(top, "moov")
	if !ok {
		if err != nil {
			return AudioInfo{}, err
		}
		return AudioInfo{}, &AudioError{"MP4", "no movie header (moov)"}
	}
	if moovBox.end-moovBox.start > maxMoovSize {
		return AudioInfo{}, &AudioError{"MP4", "its header is too large"}
	}
	moov := make([]byte, moovBox.end-moovBox.start)
	if _, err := r.ReadAt(moov, moovBox.start); err != nil {
		return AudioInfo{}, &AudioError{"MP4", "cut short"}
	}
	mr := bytes.NewReader(moov)
	boxes, err := mp4Boxes(mr, 0, int64(len(moov)))
	if err != nil {
		return AudioInfo{}, err
	}
	info := AudioInfo{Container: "mp4", MediaType: "audio/mp4"}
	if mvhd, ok := child(boxes, "mvhd"); ok {
		info.Duration = mp4Duration(moov[mvhd.start:mvhd.end])
	}
	sound := false
	for _, trak := range boxes {
		if trak.typ != "trak" {
			continue
		}
		kind, entry, dur := mp4Track(mr, trak)
		switch kind {
		case "vide":
			return AudioInfo{}, ErrNotAudio
		case "soun":
			if sound {
				continue
			}
			sound = true
			if info.Duration == 0 {
				info.Duration = dur
			}
			if len(entry) >= 36 {
				info.Codec = mp4Codec(string(entry[4:8]))
				info.Channels = int(binary.BigEndian.Uint16(entry[24:26]))
				info.SampleRate = int(binary.BigEndian.Uint32(entry[32:36]) >> 16)
				if ch := aacChannels(entry); info.Codec == "aac" && ch > 0 {
					info.Channels = ch
				}
			}
		}
	}
	if !sound {
		return AudioInfo{}, ErrNotAudio
	}
	return info, nil
}

// mp4Track reads a track's handler type, the first entry of its sample
// description (with its 8-byte header) and its media duration.
func mp4Track(r io.ReaderAt, trak mp4Box) (kind string, entry []byte, dur time.Duration) {
	tb, _ := mp4Boxes(r, trak.start, trak.end)
	mdia, ok := child(tb, "mdia")
	if !ok {
		return "", nil, 0
	}
	mb, _ := mp4Boxes(r, mdia.start, mdia.end)
	if hdlr, ok := child(mb, "hdlr"); ok && hdlr.end-hdlr.start >= 12 {
		b := make([]byte, 12)
		if _, err := r.ReadAt(b, hdlr.start); err == nil {
			kind = string(b[8:12])
		}
	}
	if mdhd, ok := child(mb, "mdhd"); ok && mdhd.end-mdhd.start <= 64 {
		b := make([]byte, mdhd.end-mdhd.start)
		if _, err := r.ReadAt(b, mdhd.start); err == nil {
			dur = mp4Duration(b)
		}
	}
	minf, ok := child(mb, "minf")
	if !ok {
		return kind, nil, dur
	}
	nb, _ := mp4Boxes(r, minf.start, minf.end)
	stbl, ok := child(nb, "stbl")
	if !ok {
		return kind, nil, dur
	}
	sb, _ := mp4Boxes(r, stbl.start, stbl.end)
	stsd, ok := child(sb, "stsd")
	if !ok || stsd.end-stsd.start < 8+36 {
		return kind, nil, dur
	}
	entry = make([]byte, min(stsd.end-stsd.start-8, 4096))
	if _, err := r.ReadAt(entry, stsd.start+8); err != nil {
		return kind, nil, dur
	}
	if n := int64(binary.BigEndian.Uint32(entry[:4])); n >= 36 && n < int64(len(entry)) {
		entry = entry[:n]
	}
	return kind, entry, dur
}

// aacChannels reads the channel configuration of an mp4a sample entry's
// AudioSpecificConfig (in its esds box): the entry's own channel count is
// 2 in the files ffmpeg and phones write, whatever the stream has. 0 when
// it cannot be read.
func aacChannels(entry []byte) int {
	boxes, _ := mp4Boxes(bytes.NewReader(entry), 36, int64(len(entry)))
	esds, ok := child(boxes, "esds")
	if !ok || esds.end-esds.start < 4 {
		return 0
	}
	d := entry[esds.start+4 : esds.end] // after version and flags
	// Walk the descriptors: ES (3) holds DecoderConfig (4) holds
	// DecoderSpecificInfo (5), the AudioSpecificConfig.
	for len(d) >= 2 {
		tag := d[0]
		n, i := 0, 1
		for ; i < len(d) && i <= 4; i++ {
			n = n<<7 | int(d[i]&0x7f)
			if d[i]&0x80 == 0 {
				break
			}
		}
		i++
		if i > len(d) {
			return 0
		}
		body := d[i:]
		switch tag {
		case 3: // ES_ID (2), flags (1) and the optional fields they announce
			if len(body) < 3 {
				return 0
			}
			skip := 3
			if body[2]&0x80 != 0 {
				skip += 2
			}
			if body[2]&0x40 != 0 && len(body) > skip {
				skip += 1 + int(body[skip])
			}
			if body[2]&0x20 != 0 {
				skip += 2
			}
			if skip > len(body) {
				return 0
			}
			d = body[skip:]
		case 4: // object type, stream type, buffer size, max and average bitrate
			if len(body) < 13 {
				return 0
			}
			d = body[13:]
		case 5:
			if len(body) < 2 {
				return 0
			}
			objectType := int(body[0] >> 3)
			bits := uint(16 - 5 - 4 - 4) // channel config after type (5) and frequency index (4)
			if objectType == 31 || body[0]&0x07<<1|body[1]>>7 == 15 {
				return 0 // escaped type or explicit frequency: rare, left alone
			}
			return int(binary.BigEndian.Uint16(body[:2])>>bits) & 0x0f
		default:
			return 0
		}
	}
	return 0
}

// mp4Duration reads a movie or media header (mvhd, mdhd) full box.
func mp4Duration(b []byte) time.Duration {
	var scale, units uint64
	switch {
	case len(b) >= 20 && b[0] == 0:
		scale, units = uint64(binary.BigEndian.Uint32(b[12:16])), uint64(binary.BigEndian.Uint32(b[16:20]))
	case len(b) >= 32 && b[0] == 1:
		scale, units = uint64(binary.BigEndian.Uint32(b[20:24])), binary.BigEndian.Uint64(b[24:32])
	default:
		return 0
	}
	if scale == 0 || units == 0xFFFFFFFF || units == 1<<64-1 {
		return 0
	}
	return durationOf(units, scale)
}

// durationOf is units/scale seconds, saturating instead of overflowing.
func durationOf(units, scale uint64) time.Duration {
	secs := units / scale
	if secs > uint64(1<<62)/uint64(time.Second) {
		return time.Duration(1 << 62)
	}
	rest := units % scale
	return time.Duration(secs)*time.Second + time.Duration(rest*uint64(time.Second)/scale)
}

// mp4Codec names an MP4 audio sample entry's codec.
func mp4Codec(fourcc string) string {
	switch fourcc {
	case "mp4a":
		return "aac"
	case "Opus":
		return "opus"
	case ".mp3":
		return "mp3"
	case "fLaC":
		return "flac"
	}
	return fourcc
}

// oggPage is an Ogg page's header fields that matter here.
type oggPage struct {
	granule uint64
	serial  uint32
	payload int64 // where its payload starts
	size    int64 // payload length
}

// readOggPage reads the page header at pos.
func readOggPage(r io.ReaderAt, pos int64) (oggPage, error) {
	h := make([]byte, 27+255)
	if _, err := r.ReadAt(h[:27], pos); err != nil || string(h[:4]) != "OggS" {
		return oggPage{}, &AudioError{"Ogg", "no page where one should be"}
	}
	nseg := int(h[26])
	if _, err := r.ReadAt(h[27:27+nseg], pos+27); err != nil {
		return oggPage{}, &AudioError{"Ogg", "cut short"}
	}
	var size int64
	for _, s := range h[27 : 27+nseg] {
		size += int64(s)
	}
	return oggPage{granule: binary.LittleEndian.Uint64(h[6:14]), serial: binary.LittleEndian.Uint32(h[14:18]),
		payload: pos + 27 + int64(nseg), size: size}, nil
}

// probeOgg reads the first packet (Opus or Vorbis identification header)
// and the granule position of the stream's last page, its length.
func probeOgg(r io.ReaderAt, size int64) (AudioInfo, error) {
	first, err := readOggPage(r, 0)
	if err != nil {
		return AudioInfo{}, err
	}
	id := make([]byte, 30)
	n, _ := r.ReadAt(id, first.payload)
	id = id[:min(int64(n), first.size)]
	info := AudioInfo{Container: "ogg", MediaType: "audio/ogg"}
	var preskip, rate uint64
	switch {
	case len(id) >= 19 && string(id[:8]) == "OpusHead":
		info.Codec, info.Channels, info.SampleRate = "opus", int(id[9]), 48000
		preskip, rate = uint64(binary.LittleEndian.Uint16(id[10:12])), 48000
	case len(id) >= 16 && string(id[:7]) == "\x01vorbis":
		info.Codec, info.Channels = "vorbis", int(id[11])
		info.SampleRate = int(binary.LittleEndian.Uint32(id[12:16]))
		rate = uint64(info.SampleRate)
	default:
		return AudioInfo{}, ErrNotAudio
	}
	if rate == 0 {
		return AudioInfo{}, &AudioError{"Ogg", "a sample rate of zero"}
	}
	// The last page of the stream: search the tail backwards for a header.
	tailLen := min(size, 65536+27+255)
	tail := make([]byte, tailLen)
	if _, err := r.ReadAt(tail, size-tailLen); err != nil && !errors.Is(err, io.EOF) {
		return AudioInfo{}, &AudioError{"Ogg", "cut short"}
	}
	for i := bytes.LastIndex(tail, []byte("OggS")); i >= 0; i = bytes.LastIndex(tail[:i], []byte("OggS")) {
		p, err := readOggPage(r, size-tailLen+int64(i))
		if err != nil || p.serial != first.serial || p.granule == 1<<64-1 {
			continue
		}
		if p.granule > preskip {
			info.Duration = durationOf(p.granule-preskip, rate)
		}
		break
	}
	return info, nil
}

// probeWAV reads a RIFF WAVE file's format and data chunks.
func probeWAV(r io.ReaderAt, size int64) (AudioInfo, error) {
	info := AudioInfo{Container: "wav", Codec: "pcm", MediaType: "audio/wav"}
	var byteRate uint64
	h := make([]byte, 16)
	for pos := int64(12); pos+8 <= size; {
		if _, err := r.ReadAt(h[:8], pos); err != nil {
			return AudioInfo{}, &AudioError{"WAV", "cut short"}
		}
		n := int64(binary.LittleEndian.Uint32(h[4:8]))
		switch string(h[:4]) {
		case "fmt ":
			if n < 16 {
				return AudioInfo{}, &AudioError{"WAV", "a short format chunk"}
			}
			if _, err := r.ReadAt(h[:16], pos+8); err != nil {
				return AudioInfo{}, &AudioError{"WAV", "cut short"}
			}
			info.Channels = int(binary.LittleEndian.Uint16(h[2:4]))
			info.SampleRate = int(binary.LittleEndian.Uint32(h[4:8]))
			byteRate = uint64(binary.LittleEndian.Uint32(h[8:12]))
		case "data":
			if byteRate == 0 {
				return AudioInfo{}, &AudioError{"WAV", "data before its format"}
			}
			info.Duration = durationOf(uint64(min(n, size-pos-8)), byteRate)
			return info, nil
		}
		pos += 8 + n + n%2
	}
	return AudioInfo{}, &AudioError{"WAV", "no data chunk"}
}

// mp3Bitrates (kbit/s) of MPEG-1 and MPEG-2/2.5 Layer III, by index.
var mp3Bitrates = [2][16]int{
	{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0},
	{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0},
}

// mp3Rates are the sample rates of MPEG-1, by index (MPEG-2 halves them,
// MPEG-2.5 quarters them).
var mp3Rates = [3]int{44100, 48000, 32000}

// probeMP3 skips an ID3v2 tag and reads the first Layer III frame header;
// the duration comes from a Xing/Info frame count when there is one, else
// from the size at the first frame's bitrate.
func probeMP3(r io.ReaderAt, size int64) (AudioInfo, error) {
	var pos int64
	h := make([]byte, 10)
	if _, err := r.ReadAt(h, 0); err != nil {
		return AudioInfo{}, &AudioError{"MP3", "cut short"}
	}
	if string(h[:3]) == "ID3" {
		pos = 10 + (int64(h[6]&0x7f)<<21 | int64(h[7]&0x7f)<<14 | int64(h[8]&0x7f)<<7 | int64(h[9]&0x7f))
	}
	frame := make([]byte, 4+32+12)
	n, _ := r.ReadAt(frame, pos)
	frame = frame[:n]
	if len(frame) < 4 || frame[0] != 0xFF || frame[1]&0xE0 != 0xE0 {
		return AudioInfo{}, ErrNotAudio
	}
	version := (frame[1] >> 3) & 3 // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
	layer := (frame[1] >> 1) & 3   // 1: Layer III
	bri, sri := frame[2]>>4, (frame[2]>>2)&3
	if version == 1 || layer != 1 || bri == 0 || bri == 15 || sri == 3 {
		return AudioInfo{}, ErrNotAudio
	}
	info := AudioInfo{Container: "mp3", Codec: "mp3", MediaType: "audio/mpeg", Channels: 2}
	if frame[3]>>6 == 3 {
		info.Channels = 1
	}
	info.SampleRate = mp3Rates[sri]
	table, samples := 0, uint64(1152)
	switch version {
	case 2:
		info.SampleRate /= 2
		table, samples = 1, 576
	case 0:
		info.SampleRate /= 4
		table, samples = 1, 576
	}
	// The Xing/Info tag sits after the side information.
	side := 32
	switch {
	case version == 3 && info.Channels == 1:
		side = 17
	case version != 3 && info.Channels == 2:
		side = 17
	case version != 3:
		side = 9
	}
	if len(frame) >= 4+side+12 {
		tag := frame[4+side:]
		if (string(tag[:4]) == "Xing" || string(tag[:4]) == "Info") && tag[7]&1 == 1 {
			frames := uint64(binary.BigEndian.Uint32(tag[8:12]))
			info.Duration = durationOf(frames*samples, uint64(info.SampleRate))
			return info, nil
		}
	}
	bitrate := uint64(mp3Bitrates[table][bri]) * 1000
	info.Duration = durationOf(uint64(size-pos)*8, bitrate)
	return info, nil
}
