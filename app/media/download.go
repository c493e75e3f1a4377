// Fetching a shared file, safely: only http and https URLs are fetched
// (an OMEMO aesgcm:// file is recognised and refused as not supported
// yet; file:, javascript:, data: and the rest never); the size is checked
// from Content-Length before reading and enforced while reading (a server
// that lies is cut at the limit); the type is sniffed from the bytes, not
// taken from the name or the header; a picture's header is read before
// anything decodes it (more than MaxPixels is refused). The file lands in
// the cache folder under a name made from its URL, written to a temporary
// file first and renamed when whole, so a half-written file is never
// taken for the file. The cache keeps to a size cap, dropping what was
// used least recently.
package media

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Refusals of a fetch.
var (
	// ErrEncryptedFile: an OMEMO file (aesgcm://), which Parley cannot
	// decrypt yet.
	ErrEncryptedFile = errors.New("this is an encrypted file, which Parley cannot open yet")
	// ErrNotFetchable: a URL that is not http or https.
	ErrNotFetchable = errors.New("only http and https links are fetched")
)

// TooLargeError: the file is over the limit of this fetch.
type TooLargeError struct {
	Size  int64 // as announced, or at least this much when cut (-1: not known)
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the file is larger than %d bytes", e.Limit)
}

// CheckURL says whether a shared file's URL may be fetched.
func CheckURL(raw string) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNotFetchable, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "https", "http":
		if u.Host == "" {
			return fmt.Errorf("%w: no host in %q", ErrNotFetchable, raw)
		}
		return nil
	case "aesgcm":
		return ErrEncryptedFile
	}
	return fmt.Errorf("%w (%q)", ErrNotFetchable, u.Scheme+":")
}

// Fetched is a file in the cache.
type Fetched struct {
	Path          string
	MediaType     string // sniffed
	Size          int64
	Width, Height int           // for pictures
	Duration      time.Duration // for audio, as its container says
}

// Cache is the folder of fetched files, kept under a size cap.
type Cache struct {
	Dir      string
	MaxBytes int64 // 0: no cap
	HTTP     *http.Client
}

// PathFor is where the file of url is kept (it may not be there yet).
func (c *Cache) PathFor(rawURL string) string {
	sum := sha256.Sum256([]byte(rawURL))
	return filepath.Join(c.Dir, hex.EncodeToString(sum[:16]))
}

// Fetch gets the file at rawURL into the cache, at most limit bytes (it
// is refused above that, before or while reading). A file fetched before
// is not fetched again.
func (c *Cache) Fetch(ctx context.Context, rawURL string, limit int64, progress Progress) (Fetched, error) {
	if err := CheckURL(rawURL); err != nil {
		return Fetched{}, err
	}
	dst := c.PathFor(rawURL)
	if f, err := describe(dst); err == nil {
		now := time.Now()
		_ = os.Chtimes(dst, now, now) // used now: the cap drops it last
		return f, nil
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return Fetched{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return Fetched{}, fmt.Errorf("%w: %v", ErrNotFetchable, err)
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		return Fetched{}, fmt.Errorf("download: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return Fetched{}, &HTTPError{Op: "download", Status: res.StatusCode, Text: http.StatusText(res.StatusCode)}
	}
	if limit > 0 && res.ContentLength > limit {
		return Fetched{}, &TooLargeError{Size: res.ContentLength, Limit: limit}
	}
	tmp, err := os.CreateTemp(c.Dir, "part-*")
	if err != nil {
		return Fetched{}, err
	}
	defer os.Remove(tmp.Name()) // gone once renamed, or on any failure
	body := &countingReader{r: res.Body, total: res.ContentLength, progress: progress}
	src := io.Reader(body)
	if limit > 0 {
		src = io.LimitReader(body, limit+1)
	}
	n, err := io.Copy(tmp, src)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Fetched{}, fmt.Errorf("download: %w", err)
	}
	if limit > 0 && n > limit {
		return Fetched{}, &TooLargeError{Size: -1, Limit: limit}
	}
	if res.ContentLength >= 0 && n != res.ContentLength {
		return Fetched{}, fmt.Errorf("download: the server sent %d bytes of %d", n, res.ContentLength)
	}
	f, err := describe(tmp.Name())
	if err != nil {
		return Fetched{}, err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return Fetched{}, err
	}
	f.Path = dst
	c.trim(dst)
	return f, nil
}

// describe sniffs the file at path and reads a picture's size (refusing
// one over MaxPixels, or whose header does not read).
func describe(path string) (Fetched, error) {
	file, err := os.Open(path)
	if err != nil {
		return Fetched{}, err
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return Fetched{}, err
	}
	head := make([]byte, 512)
	n, _ := io.ReadFull(file, head)
	f := Fetched{Path: path, Size: st.Size(), MediaType: Sniff(head[:n])}
	if strings.HasPrefix(f.MediaType, "audio/") || f.MediaType == "video/mp4" || f.MediaType == "application/octet-stream" {
		// An MP4 with only a sound track is audio (Gajim's voice messages
		// say "isom" like a video); the length is the container's.
		if info, err := ProbeAudio(file, f.Size); err == nil {
			f.MediaType, f.Duration = info.MediaType, info.Duration
		}
	}
	if strings.HasPrefix(f.MediaType, "image/") && f.MediaType != "image/heic" && f.MediaType != "image/svg+xml" {
		if _, err := file.Seek(0, io.SeekStart); err != nil {
			return Fetched{}, err
		}
		w, h, err := imageSizeFrom(file)
		if err != nil {
			return Fetched{}, err
		}
		f.Width, f.Height = w, h
		if f.MediaType == "image/gif" {
			if _, err := file.Seek(0, io.SeekStart); err != nil {
				return Fetched{}, err
			}
			if err := checkAnimation(file, w, h); err != nil {
				return Fetched{}, err
			}
		}
	}
	return f, nil
}

// trim deletes the least recently used files until the cache is under
// its cap (keep, the file just fetched, stays).
func (c *Cache) trim(keep string) {
	if c.MaxBytes <= 0 {
		return
	}
	entries, err := os.ReadDir(c.Dir)
	if err != nil {
		return
	}
	type file struct {
		path string
		size int64
		used time.Time
	}
	var files []file
	var total int64
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() || strings.HasPrefix(e.Name(), "part-") {
			continue
		}
		files = append(files, file{filepath.Join(c.Dir, e.Name()), info.Size(), info.ModTime()})
		total += info.Size()
	}
	slices.SortFunc(files, func(a, b file) int { return a.used.Compare(b.used) })
	for _, f := range files {
		if total <= c.MaxBytes {
			return
		}
		if f.path == keep {
			continue
		}
		if os.Remove(f.path) == nil {
			total -= f.size
		}
	}
}
