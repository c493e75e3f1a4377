// Tests of the HTTP PUT of uploads against a local HTTP server standing
// in for the upload service's error cases (the real services are
// exercised end to end in app/files_test.go): the file arrives whole with
// the slot's headers, the length and the type; progress reaches the
// total; a refused slot is ErrSlotRefused; cancelling stops a transfer
// under way; only http(s) URLs are used.
package media

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func tempFile(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f.bin")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPutSendsTheFileWithTheSlotHeaders(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 40_000) // 640 KB
	var got []byte
	var hdr http.Header
	var length int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr, length = r.Header.Clone(), r.ContentLength
		got, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	var mu sync.Mutex
	var steps []int64
	err := Put(context.Background(), NewHTTPClient(), srv.URL+"/slot/f.bin", map[string]string{"Authorization": "Basic eA=="},
		tempFile(t, data), "application/octet-stream", func(done, total int64) {
			mu.Lock()
			steps = append(steps, done)
			mu.Unlock()
			if total != int64(len(data)) {
				t.Errorf("total %d, want %d", total, len(data))
			}
		})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) || length != int64(len(data)) {
		t.Errorf("the server got %d bytes (Content-Length %d), want %d", len(got), length, len(data))
	}
	if hdr.Get("Authorization") != "Basic eA==" || hdr.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("headers %v", hdr)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(steps) < 3 || steps[len(steps)-1] != int64(len(data)) {
		t.Errorf("progress %v: want several steps ending at the total", steps)
	}
}

func TestPutRefusalsAndCancel(t *testing.T) {
	path := tempFile(t, bytes.Repeat([]byte{1}, 1<<20))
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusForbidden)
	}))
	defer refusing.Close()
	err := Put(context.Background(), NewHTTPClient(), refusing.URL, nil, path, "", nil)
	var he *HTTPError
	if !errors.Is(err, ErrSlotRefused) || !errors.As(err, &he) || he.Status != http.StatusForbidden {
		t.Errorf("a refused slot: %v", err)
	}
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer failing.Close()
	if err := Put(context.Background(), NewHTTPClient(), failing.URL, nil, path, "", nil); errors.Is(err, ErrSlotRefused) || !errors.As(err, &he) {
		t.Errorf("a server error: %v, want an HTTPError that is no refused slot", err)
	}

	// A server that stops reading and answering: cancelling ends the
	// upload (the handler is let go afterwards).
	started, release := make(chan struct{}), make(chan struct{})
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 1024)
		_, _ = r.Body.Read(buf)
		close(started)
		<-release
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer stuck.Close()
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Put(ctx, NewHTTPClient(), stuck.URL, nil, path, "", nil) }()
	<-started
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled upload: %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the cancelled upload did not end")
	}

	for _, u := range []string{"file:///etc/passwd", "javascript:alert(1)", "ftp://x/y"} {
		if err := Put(context.Background(), NewHTTPClient(), u, nil, path, "", nil); err == nil {
			t.Errorf("Put to %s: no error", u)
		}
	}
}
