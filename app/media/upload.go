// Uploading a prepared file to an XEP-0363 slot: an HTTP PUT streamed
// from disk (never held in memory whole), with the slot's headers and the
// file's length and type, progress as it goes, and cancellation through
// its context. The server's refusals are typed for the UI.
package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sync/atomic"
	"time"
)

// ErrSlotRefused: the upload server refused the slot's URL (expired,
// already used, or not ours): a new slot is needed.
var ErrSlotRefused = errors.New("the upload server refused the upload slot")

// HTTPError is an upload or download answered with an HTTP error.
type HTTPError struct {
	Op     string // "upload" or "download"
	Status int
	Text   string // the status line's text
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("%s: the server answered %d %s", e.Op, e.Status, e.Text)
}

// Is makes a refused slot (401, 403, 404, 410) an ErrSlotRefused.
func (e *HTTPError) Is(target error) bool {
	if target != ErrSlotRefused || e.Op != "upload" {
		return false
	}
	switch e.Status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusGone:
		return true
	}
	return false
}

// NewHTTPClient is the HTTP client of uploads and downloads: no overall
// timeout (a large file takes its time; the context cancels), but bounded
// waits to connect and for the server's answer.
func NewHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = 2 * time.Minute
	t.TLSHandshakeTimeout = 30 * time.Second
	return &http.Client{Transport: t, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != "https" && req.URL.Scheme != "http" {
			return fmt.Errorf("redirected to %s: only http and https are followed", req.URL.Scheme)
		}
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		return nil
	}}
}

// Progress is told how many bytes went out of how many.
type Progress func(done, total int64)

// Put uploads the file at path to putURL with the slot's headers. It
// returns when the server has the whole file (2xx), or with why not.
func Put(ctx context.Context, hc *http.Client, putURL string, headers map[string]string, path, mediaType string, progress Progress) error {
	u, err := url.Parse(putURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("upload: %q is not an http(s) URL", putURL)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	total := st.Size()
	body := &countingReader{r: f, total: total, progress: progress}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, putURL, body)
	if err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	req.ContentLength = total
	req.GetBody = nil // a redirect may not replay the file
	if mediaType != "" {
		req.Header.Set("Content-Type", mediaType)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("upload: %w", ctx.Err())
		}
		return fmt.Errorf("upload: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return &HTTPError{Op: "upload", Status: res.StatusCode, Text: http.StatusText(res.StatusCode)}
	}
	if progress != nil {
		progress(total, total)
	}
	return nil
}

// countingReader reports progress as the HTTP client reads the file, at
// most every progressStep bytes.
type countingReader struct {
	r        io.Reader
	total    int64
	done     atomic.Int64
	told     int64
	progress Progress
}

const progressStep = 64 << 10

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	done := c.done.Add(int64(n))
	if c.progress != nil && (done-c.told >= progressStep || err == io.EOF) {
		c.told = done
		c.progress(done, c.total)
	}
	return n, err
}
