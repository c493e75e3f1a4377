// Tests of sending files against both real servers' upload services
// (Prosody's http_file_share, ejabberd's mod_http_upload) to a real peer
// (slixmpp): a photo with location metadata arrives as every client
// expects it (body equal to the OOB URL), downloads, decodes to its size,
// and carries no EXIF; a file sent while logged out goes once after the
// next login; one over the server's limit is refused before anything is
// queued.
package app_test

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"parley/app"
	"parley/app/apptest"
	"parley/app/media"
	"parley/app/store"
	"parley/xmppclient"
	"parley/xmppclient/xmpptest"
)

// photoWithGPS writes a w × h JPEG whose EXIF block names a place.
func photoWithGPS(t *testing.T, dir string, w, h int) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i)
	}
	img.Set(0, 0, color.White)
	var enc bytes.Buffer
	if err := jpeg.Encode(&enc, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	exif := append([]byte("Exif\x00\x00II*\x00\x08\x00\x00\x00"), []byte("GPSLatitude 48.8584 N, GPSLongitude 2.2945 E")...)
	seg := []byte{0xff, 0xe1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(exif)+2))
	data := append(append(append([]byte{}, enc.Bytes()[:2]...), append(seg, exif...)...), enc.Bytes()[2:]...)
	path := filepath.Join(dir, "holiday.jpg")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func fetch(t *testing.T, url string) []byte {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, %v", url, res.Status, err)
	}
	return data
}

func slixFile(e xmpptest.PeerEvent) bool { return e.Event == "message" && e.OOB != "" }

func TestSendPhotoToPeer(t *testing.T) {
	for _, tc := range []struct {
		name string
		srv  func(testing.TB) *apptest.Server
	}{{"prosody", apptest.Shared}, {"ejabberd", apptest.SharedEjabberd}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := tc.srv(t)
			a, bobJID, bobPass := withFriend(t, srv, "photo")
			cs := a.Chats()
			bob := srv.Slixmpp(t, bobJID, bobPass)
			ctx := chatCtx(t)

			m, err := cs.SendFile(ctx, bobJID, photoWithGPS(t, t.TempDir(), 320, 200), media.PrepareOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if m.State != store.StateQueued || m.Attachment == nil || m.Attachment.MediaType != "image/jpeg" || m.Body != "holiday.jpg" {
				t.Errorf("the message as queued: %+v (%+v)", m, m.Attachment)
			}
			got := waitSlix(t, bob, "the photo", slixFile)
			if got.Body != got.OOB {
				t.Errorf("body %q and OOB URL %q differ: other clients show no image then", got.Body, got.OOB)
			}
			data := fetch(t, got.OOB)
			cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
			if err != nil || cfg.Width != 320 || cfg.Height != 200 {
				t.Errorf("the photo downloaded: %d × %d, %v; want 320 × 200", cfg.Width, cfg.Height, err)
			}
			if bytes.Contains(data, []byte("GPS")) || bytes.Contains(data, []byte("Exif")) {
				t.Error("the photo arrived with its location metadata")
			}
			waitHistory(t, cs, bobJID, "the photo sent, its address kept", func(msgs []store.Message) bool {
				for _, x := range msgs {
					if x.ID == m.ID {
						return x.State >= store.StateSent && x.Attachment != nil && x.Attachment.URL == got.OOB &&
							x.Attachment.State == store.AttachmentUploaded
					}
				}
				return false
			})

			// Over the server's limit: refused before anything is queued.
			big := filepath.Join(t.TempDir(), "big.bin")
			blob := make([]byte, 10<<20+1)
			if _, err := rand.Read(blob); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(big, blob, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err = cs.SendFile(ctx, bobJID, big, media.PrepareOptions{})
			var ue *xmppclient.UploadError
			if !errors.As(err, &ue) || ue.Reason != xmppclient.UploadTooLarge {
				t.Errorf("a file over the limit: %v, want UploadTooLarge", err)
			} else if msg := app.UserMessage(err); msg != "The file is larger than your server accepts (at most 10.5 MB)." {
				t.Errorf("the refusal says %q", msg)
			}
			msgs, err := apptest.History(ctx, cs, bobJID)
			if err != nil || len(msgs) != 1 {
				t.Errorf("history after the refusal: %q, %v; want the photo only", apptest.Bodies(msgs), err)
			}
		})
	}
}

// TestFileSentOfflineGoesOnceAfterLogin: a file queued while logged out
// is uploaded and sent once after the next login, in order with the text
// around it.
func TestFileSentOfflineGoesOnceAfterLogin(t *testing.T) {
	srv := apptest.Shared(t)
	a, bobJID, bobPass := withFriend(t, srv, "photooff")
	a.Stop(t)
	bob := srv.Slixmpp(t, bobJID, bobPass)

	offline := apptest.NewService(t, a.Dir, nil)
	ctx := chatCtx(t)
	if _, err := offline.Chats().Send(ctx, bobJID, "before the photo"); err != nil {
		t.Fatal(err)
	}
	if _, err := offline.Chats().SendFile(ctx, bobJID, photoWithGPS(t, t.TempDir(), 64, 64), media.PrepareOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := offline.Chats().Send(ctx, bobJID, "after the photo"); err != nil {
		t.Fatal(err)
	}
	if err := offline.Close(); err != nil {
		t.Fatal(err)
	}
	a.Start(t)
	waitSlix(t, bob, "the text after the photo", slixMessage("after the photo"))
	var order []string
	files := 0
	for _, e := range bob.Events() {
		if e.Event != "message" || e.Body == "" {
			continue
		}
		if e.OOB != "" {
			files++
			order = append(order, "photo")
		} else {
			order = append(order, e.Body)
		}
	}
	if files != 1 || len(order) != 3 || order[0] != "before the photo" || order[1] != "photo" || order[2] != "after the photo" {
		t.Errorf("slixmpp got %q (%d files), want the text, the photo once, the text", order, files)
	}
}
