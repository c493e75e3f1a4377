// Integration test of XEP-0363 discovery and slot requests against both
// real servers (Prosody's http_file_share, ejabberd's mod_http_upload): the
// service and its size limit are found, a slot is granted with http(s)
// URLs, the PUT URL takes the file and the GET URL gives it back (so the
// slot is real, not only well formed), and a file over the limit is
// refused as too large, by the client before asking when the limit is
// known and by the server when asked anyway.
package xmppclient_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"parley/xmppclient"
	"parley/xmppclient/xmpptest"
)

func TestUploadServiceAndSlot(t *testing.T) {
	for _, tc := range []struct {
		name string
		srv  func(testing.TB) *xmpptest.Server
	}{
		{"prosody", func(t testing.TB) *xmpptest.Server { return xmpptest.Shared(t) }},
		{"ejabberd", func(t testing.TB) *xmpptest.Server { return xmpptest.SharedEjabberd(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := tc.srv(t)
			user, pass := srv.NewUser(t, "upload")
			c, _ := connect(t, clientConfig(t, srv, user, pass))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()

			svc, err := c.UploadService(ctx)
			if err != nil {
				t.Fatalf("upload service: %v", err)
			}
			if svc.JID.String() != srv.UploadService {
				t.Errorf("upload service %s, want %s", svc.JID, srv.UploadService)
			}
			const limit = 10 << 20 // both test servers' configured limit
			if svc.MaxFileSize != limit {
				t.Errorf("max-file-size %d, want %d", svc.MaxFileSize, limit)
			}
			again, err := c.UploadService(ctx)
			if err != nil || again != svc {
				t.Errorf("the second lookup gave %+v, %v; want the same service", again, err)
			}

			body := []byte("a small file for the upload test\n")
			slot, err := c.RequestUploadSlot(ctx, svc, "dir/../notes.txt", int64(len(body)), "text/plain")
			if err != nil {
				t.Fatalf("slot: %v", err)
			}
			put, err := http.NewRequestWithContext(ctx, http.MethodPut, slot.PutURL, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			put.Header.Set("Content-Type", "text/plain")
			for k, v := range slot.PutHeaders {
				put.Header.Set(k, v)
			}
			res, err := http.DefaultClient.Do(put)
			if err != nil {
				t.Fatalf("PUT %s: %v", slot.PutURL, err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusCreated && res.StatusCode != http.StatusOK {
				t.Fatalf("PUT %s: %s", slot.PutURL, res.Status)
			}
			get, err := http.NewRequestWithContext(ctx, http.MethodGet, slot.GetURL, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err = http.DefaultClient.Do(get)
			if err != nil {
				t.Fatalf("GET %s: %v", slot.GetURL, err)
			}
			got, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil || !bytes.Equal(got, body) {
				t.Errorf("GET %s gave %q (%v), want the file put", slot.GetURL, got, err)
			}

			// Too large: refused before asking when the limit is known ...
			_, err = c.RequestUploadSlot(ctx, svc, "big.bin", limit+1, "")
			var ue *xmppclient.UploadError
			if !errors.As(err, &ue) || ue.Reason != xmppclient.UploadTooLarge || ue.MaxFileSize != limit {
				t.Errorf("a file over the limit: %v, want UploadTooLarge with the limit", err)
			}
			// ... and by the server when asked anyway.
			unknown := xmppclient.UploadService{JID: svc.JID}
			_, err = c.RequestUploadSlot(ctx, unknown, "big.bin", limit+1, "")
			if !errors.As(err, &ue) || ue.Reason != xmppclient.UploadTooLarge {
				t.Errorf("the server's answer to a file over the limit: %v, want UploadTooLarge", err)
			}
		})
	}
}
