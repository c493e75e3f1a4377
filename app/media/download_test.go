// Tests of fetching shared files, with a local HTTP server for what real
// upload services do not do (lie about the length, send a bomb): only
// http(s) URLs are fetched; a Content-Length over the limit is refused
// before reading, and a server that sends more than it announced (or
// announces nothing) is cut at the limit; a picture announcing 60,000 ×
// 60,000 pixels is refused; the type is sniffed from the bytes whatever
// the header says; nothing half-written is left; a second fetch reads the
// cache; the cache keeps to its cap.
package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"
)

func TestCheckURL(t *testing.T) {
	for u, want := range map[string]error{
		"https://up.example.org/a.jpg":                 nil,
		"http://127.0.0.1:8080/upload/x.png":           nil,
		"aesgcm://up.example.org/a.jpg#00112233445566": ErrEncryptedFile,
		"file:///etc/passwd":                           ErrNotFetchable,
		"javascript:alert(1)":                          ErrNotFetchable,
		"data:image/png;base64,AAAA":                   ErrNotFetchable,
		"https:///nohost":                              ErrNotFetchable,
	} {
		if err := CheckURL(u); !errors.Is(err, want) && !(want == nil && err == nil) {
			t.Errorf("CheckURL(%q) = %v, want %v", u, err, want)
		}
	}
}

// serve answers path with body, Content-Type typ and, when length >= 0,
// that Content-Length (whatever the body's real length).
func serve(t *testing.T, routes map[string]func(w http.ResponseWriter)) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fn, ok := routes[r.URL.Path]; ok {
			fn(w)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestFetchLimitsAndLies(t *testing.T) {
	photo := testJPEG(t, 40, 30, 1)
	big := bytes.Repeat([]byte("x"), 5000)
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, 60000)
	binary.BigEndian.PutUint32(ihdr[4:], 60000)
	ihdr[8], ihdr[9] = 8, 6
	bomb := append([]byte("\x89PNG\r\n\x1a\n"), pngChunk("IHDR", ihdr)...)
	srv := serve(t, map[string]func(w http.ResponseWriter){
		"/photo.txt": func(w http.ResponseWriter) { // a JPEG said to be text
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write(photo)
		},
		"/announced-big": func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", strconv.Itoa(len(big)))
			_, _ = w.Write(big)
		},
		"/lies": func(w http.ResponseWriter) { // chunked: no length, then too much
			w.(http.Flusher).Flush()
			_, _ = w.Write(big)
		},
		"/bomb.png": func(w http.ResponseWriter) { _, _ = w.Write(bomb) },
	})
	c := &Cache{Dir: t.TempDir(), HTTP: NewHTTPClient()}
	ctx := context.Background()

	f, err := c.Fetch(ctx, srv.URL+"/photo.txt", 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f.MediaType != "image/jpeg" || f.Width != 40 || f.Height != 30 || f.Size != int64(len(photo)) {
		t.Errorf("fetched %+v", f)
	}
	if data, _ := os.ReadFile(f.Path); !bytes.Equal(data, photo) {
		t.Error("the cached file is not the one served")
	}
	again, err := c.Fetch(ctx, srv.URL+"/photo.txt", 1<<20, nil)
	if err != nil || again.Path != f.Path {
		t.Errorf("second fetch: %+v, %v; want the cached file", again, err)
	}

	var tl *TooLargeError
	if _, err := c.Fetch(ctx, srv.URL+"/announced-big", 1000, nil); !errors.As(err, &tl) || tl.Size != 5000 {
		t.Errorf("announced over the limit: %v", err)
	}
	if _, err := c.Fetch(ctx, srv.URL+"/lies", 1000, nil); !errors.As(err, &tl) || tl.Size != -1 {
		t.Errorf("more than the limit without a length: %v", err)
	}
	if _, err := c.Fetch(ctx, srv.URL+"/bomb.png", 1<<20, nil); !errors.Is(err, ErrImageTooLarge) {
		t.Errorf("a 60,000 × 60,000 PNG: %v, want ErrImageTooLarge", err)
	}
	var he *HTTPError
	if _, err := c.Fetch(ctx, srv.URL+"/missing", 1<<20, nil); !errors.As(err, &he) || he.Status != 404 {
		t.Errorf("a missing file: %v", err)
	}
	if _, err := c.Fetch(ctx, "file:///etc/passwd", 1<<20, nil); !errors.Is(err, ErrNotFetchable) {
		t.Errorf("file URL: %v", err)
	}
	entries, _ := os.ReadDir(c.Dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("the cache holds %v; want the one photo (nothing half-written, nothing refused)", names)
	}
}

func TestCacheCap(t *testing.T) {
	blob := bytes.Repeat([]byte{7}, 1000)
	routes := map[string]func(w http.ResponseWriter){}
	for _, p := range []string{"/a", "/b", "/c"} {
		routes[p] = func(w http.ResponseWriter) { _, _ = w.Write(blob) }
	}
	srv := serve(t, routes)
	c := &Cache{Dir: t.TempDir(), MaxBytes: 2500, HTTP: NewHTTPClient()}
	ctx := context.Background()
	for _, p := range []string{"/a", "/b"} {
		if _, err := c.Fetch(ctx, srv.URL+p, 0, nil); err != nil {
			t.Fatal(err)
		}
	}
	// a is used again: b is now the least recently used.
	if _, err := c.Fetch(ctx, srv.URL+"/a", 0, nil); err != nil {
		t.Fatal(err)
	}
	old := c.PathFor(srv.URL + "/b")
	if err := os.Chtimes(old, epoch, epoch); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Fetch(ctx, srv.URL+"/c", 0, nil); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{"/a": true, "/b": false, "/c": true} {
		_, err := os.Stat(c.PathFor(srv.URL + p))
		if (err == nil) != want {
			t.Errorf("%s in the cache: %v, want %v", p, err == nil, want)
		}
	}
}

// epoch is a time long before any file of the test was used.
var epoch = time.Unix(1_000_000_000, 0)
