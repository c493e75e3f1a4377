// Tests of preparing outgoing files: a photo with GPS EXIF and a rotated
// orientation is sent upright and without any EXIF, XMP or comment; a
// large one is downscaled, a small one keeps its pixels (no re-encoding);
// "keep metadata" keeps it; PNG text and eXIf chunks go, its pixels stay,
// one over the server's limit becomes a JPEG; a header announcing 60,000
// × 60,000 pixels is refused unread; the type comes from the bytes; and a
// fuzz target over the JPEG and PNG metadata walkers.
package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// testJPEG is a w × h JPEG (left half red, right half blue) with an EXIF
// block holding orientation o and a GPS latitude, an XMP block and a
// comment.
func testJPEG(t testing.TB, w, h, o int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{255, 0, 0, 255}
			if x >= w/2 {
				c = color.RGBA{0, 0, 255, 255}
			}
			img.Set(x, y, c)
		}
	}
	var enc bytes.Buffer
	if err := jpeg.Encode(&enc, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	plain := enc.Bytes()
	var out bytes.Buffer
	out.Write(plain[:2]) // SOI
	out.Write(segment(0xe1, append([]byte("Exif\x00\x00"), exifTIFF(o)...)))
	out.Write(segment(0xe1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>GPS 48.8584</x:xmpmeta>")))
	out.Write(segment(0xfe, []byte("shot on a Model X at home")))
	out.Write(plain[2:])
	return out.Bytes()
}

func segment(marker byte, body []byte) []byte {
	s := []byte{0xff, marker, 0, 0}
	binary.BigEndian.PutUint16(s[2:], uint16(len(body)+2))
	return append(s, body...)
}

// exifTIFF is a little-endian TIFF block: IFD0 with Orientation and a
// GPS IFD pointer; the GPS IFD with GPSLatitudeRef "N".
func exifTIFF(o int) []byte {
	b := []byte("II*\x00\x08\x00\x00\x00")
	le := binary.LittleEndian
	entry := func(tag, typ uint16, count, value uint32) []byte {
		e := make([]byte, 12)
		le.PutUint16(e, tag)
		le.PutUint16(e[2:], typ)
		le.PutUint32(e[4:], count)
		le.PutUint32(e[8:], value)
		return e
	}
	ifd0 := []byte{2, 0}
	ifd0 = append(ifd0, entry(0x0112, 3, 1, uint32(o))...)
	gpsOff := uint32(8 + 2 + 2*12 + 4)
	ifd0 = append(ifd0, entry(0x8825, 4, 1, gpsOff)...)
	ifd0 = append(ifd0, 0, 0, 0, 0)
	gps := []byte{1, 0}
	gps = append(gps, entry(0x0001, 2, 2, uint32('N'))...)
	gps = append(gps, 0, 0, 0, 0)
	return append(append(b, ifd0...), gps...)
}

func prepareBytes(t *testing.T, data []byte, name string, opts PrepareOptions) (Prepared, []byte) {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, name)
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := Prepare(src, filepath.Join(dir, "outgoing"), opts)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(p.Path)
	if err != nil {
		t.Fatal(err)
	}
	if orig, _ := os.ReadFile(src); !bytes.Equal(orig, data) {
		t.Fatal("the original file was changed")
	}
	return p, out
}

// metadataIn lists what of EXIF, XMP and comments a JPEG still holds.
func metadataIn(t *testing.T, data []byte) []string {
	t.Helper()
	var found []string
	if _, err := jpegSegments(data, func(m byte, seg []byte) {
		switch {
		case m == markerAPP1:
			found = append(found, "APP1")
		case m == markerCOM:
			found = append(found, "COM")
		}
	}); err != nil {
		t.Fatalf("the prepared JPEG does not parse: %v", err)
	}
	for _, s := range []string{"GPS", "Model X", "Exif"} {
		if bytes.Contains(data, []byte(s)) {
			found = append(found, s)
		}
	}
	return found
}

func TestPrepareRotatedPhotoWithGPS(t *testing.T) {
	eachShrinker(t, func(t *testing.T) {
		// Orientation 6: the camera was turned; the stored 40 × 20 shows as 20 × 40.
		p, out := prepareBytes(t, testJPEG(t, 40, 20, 6), "IMG_0001.JPG", PrepareOptions{})
		if m := metadataIn(t, out); len(m) > 0 {
			t.Errorf("metadata left: %v", m)
		}
		if p.MediaType != "image/jpeg" || p.Width != 20 || p.Height != 40 || p.Size != int64(len(out)) || p.Name != "IMG_0001.JPG" {
			t.Errorf("prepared %+v", p)
		}
		img, err := jpeg.Decode(bytes.NewReader(out))
		if err != nil || img.Bounds().Dx() != 20 || img.Bounds().Dy() != 40 {
			t.Fatalf("decoded %v, %v; want 20 × 40", img.Bounds(), err)
		}
		// Turned clockwise: the red left half is now the top.
		if r, _, b, _ := img.At(10, 5).RGBA(); r < b {
			t.Errorf("the top is not red: the picture was not turned upright")
		}
	})
}

func TestPrepareSmallPhotoKeepsItsPixels(t *testing.T) {
	in := testJPEG(t, 64, 48, 1)
	_, out := prepareBytes(t, in, "a.jpg", PrepareOptions{})
	if m := metadataIn(t, out); len(m) > 0 {
		t.Errorf("metadata left: %v", m)
	}
	// Only segments removed: the scan data is the original's, byte for byte.
	scanIn, _ := jpegSegments(in, func(byte, []byte) {})
	scanOut, _ := jpegSegments(out, func(byte, []byte) {})
	if !bytes.Equal(in[scanIn:], out[scanOut:]) {
		t.Error("the picture was re-encoded to remove its metadata")
	}
	_, kept := prepareBytes(t, in, "a.jpg", PrepareOptions{KeepMetadata: true})
	if !bytes.Equal(kept, in) {
		t.Error("with KeepMetadata the file changed")
	}
}

func TestPrepareDownscalesALargePhoto(t *testing.T) {
	eachShrinker(t, func(t *testing.T) {
		p, out := prepareBytes(t, testJPEG(t, 3000, 1500, 1), "big.jpg", PrepareOptions{MaxSide: 1000})
		if p.Width != 1000 || p.Height != 500 {
			t.Errorf("downscaled to %d × %d, want 1000 × 500", p.Width, p.Height)
		}
		if m := metadataIn(t, out); len(m) > 0 {
			t.Errorf("metadata left: %v", m)
		}
		o, _ := prepareBytes(t, testJPEG(t, 3000, 1500, 1), "big.jpg", PrepareOptions{MaxSide: 1000, Original: true})
		if o.Width != 3000 {
			t.Errorf("Original: %d wide, want 3000", o.Width)
		}
	})
}

// pngWith is a w × h PNG with a text chunk and an eXIf chunk before IEND.
func pngWith(t testing.TB, w, h int, noisy bool) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = 255
		if noisy && i%4 != 3 {
			img.Pix[i] = byte(r.IntN(256)) // a photo-like PNG: it does not compress
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	iend := bytes.LastIndex(data, []byte("IEND")) - 4
	var out bytes.Buffer
	out.Write(data[:iend])
	out.Write(pngChunk("tEXt", []byte("Location\x00Paris, home")))
	out.Write(pngChunk("eXIf", exifTIFF(1)))
	out.Write(data[iend:])
	return out.Bytes()
}

func pngChunk(typ string, body []byte) []byte {
	c := make([]byte, 8, 12+len(body))
	binary.BigEndian.PutUint32(c, uint32(len(body)))
	copy(c[4:], typ)
	c = append(c, body...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

func TestPreparePNG(t *testing.T) {
	in := pngWith(t, 30, 20, false)
	p, out := prepareBytes(t, in, "shot.png", PrepareOptions{})
	if p.MediaType != "image/png" || p.Width != 30 || bytes.Contains(out, []byte("Paris")) || bytes.Contains(out, []byte("eXIf")) {
		t.Errorf("prepared %+v; text or eXIf left: %v %v", p, bytes.Contains(out, []byte("Paris")), bytes.Contains(out, []byte("eXIf")))
	}
	if _, err := png.Decode(bytes.NewReader(out)); err != nil {
		t.Errorf("the stripped PNG does not decode: %v", err)
	}
	// Over the server's limit: a JPEG instead.
	big := pngWith(t, 400, 300, true)
	p, out = prepareBytes(t, big, "shot.png", PrepareOptions{SizeLimit: int64(len(big) / 2)})
	if p.MediaType != "image/jpeg" || p.Name != "shot.jpg" || int64(len(out)) > int64(len(big)/2) {
		t.Errorf("over the limit: %+v (%d bytes of %d)", p, len(out), len(big))
	}
}

func TestPrepareRefusesAPictureTooLargeToOpen(t *testing.T) {
	// A PNG header announcing 60,000 × 60,000 pixels, and nothing else.
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, 60000)
	binary.BigEndian.PutUint32(ihdr[4:], 60000)
	ihdr[8], ihdr[9] = 8, 6
	data := append([]byte("\x89PNG\r\n\x1a\n"), pngChunk("IHDR", ihdr)...)
	dir := t.TempDir()
	src := filepath.Join(dir, "bomb.png")
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Prepare(src, dir, PrepareOptions{}); !errors.Is(err, ErrImageTooLarge) {
		t.Errorf("Prepare: %v, want ErrImageTooLarge", err)
	}
}

func TestSniff(t *testing.T) {
	for want, data := range map[string][]byte{
		"image/jpeg": testJPEG(t, 8, 8, 1),
		"image/png":  pngWith(t, 2, 2, false),
		"audio/mp4":  []byte("\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00"),
		"video/mp4":  []byte("\x00\x00\x00\x20ftypisom\x00\x00\x00\x00"),
		"image/heic": []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00"),
		"audio/ogg":  []byte("OggS\x00\x02"),
		"text/plain": []byte("hello"),
	} {
		if got := Sniff(data); got != want {
			t.Errorf("Sniff = %q, want %q", got, want)
		}
	}
}

// FuzzMetadataWalkers: the JPEG and PNG walkers never panic, and what
// they let through has no EXIF segment or text chunk left.
func FuzzMetadataWalkers(f *testing.F) {
	f.Add(testJPEG(f, 8, 8, 6))
	f.Add(pngWith(f, 4, 4, false))
	f.Add([]byte{0xff, 0xd8, 0xff, 0xe1, 0x00, 0x01})
	f.Add([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x00IEND"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = jpegOrientation(data)
		if out, err := stripJPEG(data); err == nil {
			_, _ = jpegSegments(out, func(m byte, seg []byte) {
				if m == markerAPP1 || m == markerCOM {
					t.Fatalf("APP1 or COM left in %x", out)
				}
			})
		}
		if out, err := stripPNG(data); err == nil {
			for _, typ := range pngChunkTypes(out) {
				if typ[0] >= 'a' && typ[0] <= 'z' && !pngKept[typ] {
					t.Fatalf("ancillary chunk %q left in %x", typ, out)
				}
			}
		}
	})
}

// pngChunkTypes lists the chunk types of a PNG, in order.
func pngChunkTypes(data []byte) []string {
	var types []string
	for i := 8; i+8 <= len(data); {
		n := int(binary.BigEndian.Uint32(data[i:]))
		types = append(types, string(data[i+4:i+8]))
		i += 12 + n
	}
	return types
}

func TestThumbnail(t *testing.T) {
	eachShrinker(t, func(t *testing.T) {
		t.Chdir(t.TempDir()) // relative paths too (vipsthumbnail took them from the input's folder)
		dir := "rel"
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		src := filepath.Join(dir, "p.jpg")
		if err := os.WriteFile(src, testJPEG(t, 1200, 600, 6), 0o600); err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, "thumbs", "1.jpg")
		w, h, err := Thumbnail(src, dst, 480)
		if err != nil || w != 240 || h != 480 {
			t.Fatalf("thumbnail %d × %d, %v; want 240 × 480 (turned upright, fitted)", w, h, err)
		}
		before, _ := os.Stat(dst)
		if w2, h2, err := Thumbnail(src, dst, 480); err != nil || w2 != w || h2 != h {
			t.Errorf("second call: %d × %d, %v", w2, h2, err)
		}
		if after, _ := os.Stat(dst); !after.ModTime().Equal(before.ModTime()) {
			t.Error("the thumbnail was made again")
		}
	})
}

// eachShrinker runs fn with libvips' vipsthumbnail (required under
// CI=true: make deps installs it) and with the Go fallback.
func eachShrinker(t *testing.T, fn func(t *testing.T)) {
	installed := vipsthumbnailPath
	t.Run("vipsthumbnail", func(t *testing.T) {
		if installed == "" {
			if os.Getenv("CI") == "true" {
				t.Fatal("vipsthumbnail is not installed (Debian package libvips-tools); make deps installs it")
			}
			t.Skip("vipsthumbnail is not installed (make deps installs it)")
		}
		fn(t)
	})
	t.Run("go", func(t *testing.T) {
		vipsthumbnailPath = ""
		defer func() { vipsthumbnailPath = installed }()
		fn(t)
	})
}
