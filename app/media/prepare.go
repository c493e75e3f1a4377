// Package media is the service layer's file handling: getting a picked
// file ready to send (prepare.go), uploading it to an XEP-0363 slot with
// progress and cancellation (upload.go), and the checks every file from
// the network goes through (sniff.go). It imports no Fyne.
//
// This file prepares an outgoing file: its type is sniffed from its bytes
// (never taken from its name); a photo is turned the way its EXIF
// orientation says, downscaled when larger than the longest side allowed
// (JPEG, quality 85), and every metadata segment that can hold a location
// or a camera's details is removed (EXIF, XMP, IPTC, comments; PNG text
// and eXIf chunks). What is kept is what the picture needs: JFIF, the
// colour profile (ICC), Adobe's colour transform. A PNG is not
// recompressed unless it is over the size limit. Other files go as they
// are.
package media

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	_ "image/gif" // DecodeConfig of GIF
	_ "image/png" // DecodeConfig of PNG
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"parley/xmppclient"

	_ "golang.org/x/image/webp" // DecodeConfig of WebP
)

// Defaults of the preparation (settings may change them).
const (
	DefaultMaxSide     = 2560
	DefaultJPEGQuality = 85
	// MaxPixels is the largest picture decoded: more is refused before
	// decoding (a few bytes of header can announce gigapixels).
	MaxPixels = 50_000_000
)

// PrepareOptions say how an outgoing file is prepared.
type PrepareOptions struct {
	// MaxSide is the longest side a photo keeps (0: DefaultMaxSide).
	MaxSide int
	// Original sends a photo at its size (metadata is still removed,
	// unless KeepMetadata).
	Original bool
	// KeepMetadata keeps location and camera metadata (a setting, off by
	// default).
	KeepMetadata bool
	// SizeLimit is the largest file the server takes (0: none known): a
	// PNG over it is recompressed as JPEG rather than refused.
	SizeLimit int64
}

// Prepared is a file ready to upload.
type Prepared struct {
	Path          string // the file to upload (written in the folder given to Prepare)
	Name          string // the name it goes by
	MediaType     string // sniffed from the bytes
	Size          int64
	Width, Height int           // for images (0 otherwise)
	Duration      time.Duration // for audio (0 otherwise)
}

// ErrImageTooLarge: a picture over MaxPixels.
var ErrImageTooLarge = errors.New("the picture is too large to open safely")

// Prepare reads the file at src, prepares it as opts say and writes the
// result into dir (the profile's outgoing folder, so that the original
// may be moved or deleted before the upload). The original is never
// changed.
func Prepare(src, dir string, opts PrepareOptions) (Prepared, error) {
	if opts.MaxSide <= 0 {
		opts.MaxSide = DefaultMaxSide
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return Prepared{}, fmt.Errorf("read %s: %w", filepath.Base(src), err)
	}
	p := Prepared{Name: xmppclient.SafeFilename(src), MediaType: Sniff(data)}
	out := data
	switch p.MediaType {
	case "image/jpeg":
		out, p.Width, p.Height, err = prepareJPEG(src, data, opts)
	case "image/png":
		out, p.Width, p.Height, err = preparePNG(src, data, opts)
		if err == nil && len(out) != len(data) && bytes.HasPrefix(out, []byte{0xff, 0xd8}) {
			p.MediaType = "image/jpeg"
			p.Name = strings.TrimSuffix(p.Name, filepath.Ext(p.Name)) + ".jpg"
		}
	case "image/gif":
		if p.Width, p.Height, err = imageSize(data); err == nil {
			err = checkAnimation(bytes.NewReader(data), p.Width, p.Height)
		}
	case "image/webp":
		p.Width, p.Height, err = imageSize(data)
	default:
		// An audio file (a voice message is one) keeps its bytes; its
		// type and length come from its container.
		if info, aerr := ProbeAudio(bytes.NewReader(data), int64(len(data))); aerr == nil {
			p.MediaType, p.Duration = info.MediaType, info.Duration
		}
	}
	if err != nil {
		return Prepared{}, fmt.Errorf("prepare %s: %w", p.Name, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Prepared{}, err
	}
	f, err := os.CreateTemp(dir, "out-*"+filepath.Ext(p.Name))
	if err != nil {
		return Prepared{}, err
	}
	if _, err := f.Write(out); err != nil {
		f.Close()
		os.Remove(f.Name())
		return Prepared{}, fmt.Errorf("write the file to send: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return Prepared{}, fmt.Errorf("write the file to send: %w", err)
	}
	p.Path, p.Size = f.Name(), int64(len(out))
	return p, nil
}

// imageSize reads the dimensions from the header, refusing more than
// MaxPixels.
func imageSize(data []byte) (w, h int, err error) { return imageSizeFrom(bytes.NewReader(data)) }

// imageSizeFrom is imageSize for a picture read from r (only its header
// is read).
func imageSizeFrom(r io.Reader) (w, h int, err error) {
	cfg, _, err := image.DecodeConfig(r)
	if err != nil {
		return 0, 0, fmt.Errorf("not a readable picture: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return 0, 0, fmt.Errorf("%w (%d × %d)", ErrImageTooLarge, cfg.Width, cfg.Height)
	}
	return cfg.Width, cfg.Height, nil
}

// prepareJPEG turns and downscales a JPEG when needed (re-encoding drops
// all metadata), else removes the metadata segments without re-encoding.
func prepareJPEG(src string, data []byte, opts PrepareOptions) ([]byte, int, int, error) {
	w, h, err := imageSize(data)
	if err != nil {
		return nil, 0, 0, err
	}
	orientation := jpegOrientation(data)
	tooBig := !opts.Original && max(w, h) > opts.MaxSide
	if !tooBig && (orientation <= 1 || opts.KeepMetadata) {
		if opts.KeepMetadata {
			return data, w, h, nil
		}
		out, err := stripJPEG(data)
		return out, w, h, err
	}
	side := opts.MaxSide
	if !tooBig {
		side = max(w, h) // only turned upright
	}
	return reencode(src, side)
}

// reencode writes the picture at src as a JPEG (shrinkJPEG: upright, at
// most side pixels, no metadata) and returns it with its size.
func reencode(src string, side int) ([]byte, int, int, error) {
	dir, err := os.MkdirTemp("", "parley-prepare-")
	if err != nil {
		return nil, 0, 0, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "out.jpg")
	if err := shrinkJPEG(src, out, side, DefaultJPEGQuality); err != nil {
		return nil, 0, 0, err
	}
	w, h, err := jpegSize(out)
	if err != nil {
		return nil, 0, 0, err
	}
	b, err := os.ReadFile(out)
	return b, w, h, err
}

// preparePNG removes a PNG's metadata chunks; one over the server's limit
// is recompressed as a JPEG (downscaled as a photo would be).
func preparePNG(src string, data []byte, opts PrepareOptions) ([]byte, int, int, error) {
	w, h, err := imageSize(data)
	if err != nil {
		return nil, 0, 0, err
	}
	out := data
	if !opts.KeepMetadata {
		if out, err = stripPNG(data); err != nil {
			return nil, 0, 0, err
		}
	}
	if opts.SizeLimit <= 0 || int64(len(out)) <= opts.SizeLimit {
		return out, w, h, nil
	}
	return reencode(src, min(max(w, h), opts.MaxSide))
}

// JPEG markers (ITU T.81 Annex B).
const (
	markerSOI  = 0xd8
	markerSOS  = 0xda
	markerEOI  = 0xd9
	markerAPP0 = 0xe0
	markerAPP1 = 0xe1
	markerAPP2 = 0xe2 // ICC profile: kept
	markerCOM  = 0xfe
	markerAP14 = 0xee // Adobe: kept
)

// jpegSegments calls fn for each marker segment before the scan data
// (marker, the whole segment with its marker bytes); it returns the
// offset where the scan starts.
func jpegSegments(data []byte, fn func(marker byte, seg []byte)) (int, error) {
	if len(data) < 4 || data[0] != 0xff || data[1] != markerSOI {
		return 0, errors.New("not a JPEG file")
	}
	i := 2
	for i+4 <= len(data) {
		if data[i] != 0xff {
			return 0, errors.New("damaged JPEG: a segment does not start with a marker")
		}
		m := data[i+1]
		if m == 0xff { // fill byte
			i++
			continue
		}
		if m == markerSOS || m == markerEOI {
			return i, nil
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return 0, errors.New("damaged JPEG: a segment runs past the end")
		}
		fn(m, data[i:i+2+n])
		i += 2 + n
	}
	return 0, errors.New("damaged JPEG: no image data")
}

// stripJPEG removes every APPn segment but JFIF (APP0), ICC (APP2) and
// Adobe (APP14), and comments: EXIF and XMP (APP1) hold the location and
// the camera, IPTC (APP13) the rest.
func stripJPEG(data []byte) ([]byte, error) {
	out := make([]byte, 0, len(data))
	out = append(out, 0xff, markerSOI)
	scan, err := jpegSegments(data, func(m byte, seg []byte) {
		isApp := m >= markerAPP0 && m <= 0xef
		if (isApp && m != markerAPP0 && m != markerAPP2 && m != markerAP14) || m == markerCOM {
			return
		}
		out = append(out, seg...)
	})
	if err != nil {
		return nil, err
	}
	return append(out, data[scan:]...), nil
}

// jpegOrientation is the EXIF orientation (1-8; 0 when there is none).
func jpegOrientation(data []byte) int {
	o := 0
	_, _ = jpegSegments(data, func(m byte, seg []byte) {
		if m != markerAPP1 || o != 0 || !bytes.HasPrefix(seg[4:], []byte("Exif\x00\x00")) {
			return
		}
		o = tiffOrientation(seg[10:])
	})
	return o
}

// tiffOrientation reads tag 0x0112 of IFD0 of an EXIF TIFF block.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	off := int(bo.Uint32(t[4:]))
	if off < 8 || off+2 > len(t) {
		return 0
	}
	n := int(bo.Uint16(t[off:]))
	for k := 0; k < n; k++ {
		e := off + 2 + 12*k
		if e+12 > len(t) {
			return 0
		}
		if bo.Uint16(t[e:]) == 0x0112 {
			if v := int(bo.Uint16(t[e+8:])); v >= 1 && v <= 8 {
				return v
			}
			return 0
		}
	}
	return 0
}

// pngKept are the ancillary chunks a PNG keeps: how to show its colours
// and pixels, nothing about where or by what it was made.
var pngKept = map[string]bool{"PLTE": true, "tRNS": true, "gAMA": true, "cHRM": true, "sRGB": true,
	"iCCP": true, "sBIT": true, "pHYs": true, "bKGD": true, "acTL": true, "fcTL": true, "fdAT": true}

// stripPNG removes a PNG's text (tEXt, zTXt, iTXt), time and eXIf chunks,
// and any other ancillary chunk not in pngKept, checking each chunk's CRC.
func stripPNG(data []byte) ([]byte, error) {
	const sig = "\x89PNG\r\n\x1a\n"
	if !bytes.HasPrefix(data, []byte(sig)) {
		return nil, errors.New("not a PNG file")
	}
	out := make([]byte, 0, len(data))
	out = append(out, sig...)
	r := bufio.NewReader(bytes.NewReader(data[len(sig):]))
	for {
		var head [8]byte
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return nil, errors.New("damaged PNG: it ends before IEND")
		}
		n := binary.BigEndian.Uint32(head[:4])
		if n > uint32(len(data)) {
			return nil, errors.New("damaged PNG: a chunk runs past the end")
		}
		body := make([]byte, int(n)+4)
		if _, err := io.ReadFull(r, body); err != nil {
			return nil, errors.New("damaged PNG: a chunk runs past the end")
		}
		typ := string(head[4:8])
		if crc32.ChecksumIEEE(append([]byte(typ), body[:n]...)) != binary.BigEndian.Uint32(body[n:]) {
			return nil, fmt.Errorf("damaged PNG: bad checksum in %q", typ)
		}
		critical := typ[0] >= 'A' && typ[0] <= 'Z'
		if critical || pngKept[typ] {
			out = append(out, head[:]...)
			out = append(out, body...)
		}
		if typ == "IEND" {
			return out, nil
		}
	}
}

// Sniff is the media type of data, from its bytes: the WHATWG sniffing
// of net/http, with the types it does not know that chats share (MP4 and
// M4A audio, Ogg Opus, HEIC).
func Sniff(data []byte) string {
	if len(data) >= 12 && string(data[4:8]) == "ftyp" {
		switch string(data[8:12]) {
		case "M4A ", "M4B ":
			return "audio/mp4"
		case "heic", "heix", "mif1", "msf1":
			return "image/heic"
		}
		return "video/mp4"
	}
	if bytes.HasPrefix(data, []byte("OggS")) {
		return "audio/ogg"
	}
	t := http.DetectContentType(data)
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = t[:i]
	}
	return strings.TrimSpace(t)
}
