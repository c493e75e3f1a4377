// Tests of fetching shared files against the real server, Parley to
// Parley: a contact's photo is fetched by itself, whole, into the cache;
// a stranger's only when asked; a link that is not http(s) (sent by
// slixmpp) is refused with its reason kept in the chat.
package app_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"parley/app"
	"parley/app/apptest"
	"parley/app/media"
	"parley/app/store"
)

func TestFetchSharedFiles(t *testing.T) {
	srv := apptest.Shared(t)
	me := srv.NewChatAccount(t, "fetchme")
	me.Start(t)
	bob := srv.NewChatAccount(t, "fetchbob")
	bob.Start(t)
	me.Befriend(t, bob.JID)
	bob.Befriend(t, me.JID)
	ctx := chatCtx(t)

	sent, err := bob.Chats().SendFile(ctx, me.JID, photoWithGPS(t, t.TempDir(), 120, 80), media.PrepareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	msgs := waitHistory(t, me.Chats(), bob.JID, "bob's photo", func(msgs []store.Message) bool {
		return len(msgs) == 1 && msgs[0].Attachment != nil
	})
	got, err := me.Chats().Fetch(ctx, msgs[0].ID, false)
	if err != nil {
		t.Fatalf("fetching a contact's photo without asking: %v", err)
	}
	want, _ := os.ReadFile(sent.Attachment.LocalPath)
	data, _ := os.ReadFile(got.LocalPath)
	if !bytes.Equal(data, want) || got.State != store.AttachmentDownloaded || got.MediaType != "image/jpeg" || got.Width != 120 {
		t.Errorf("fetched %+v (%d bytes, want the %d bytes bob sent)", got, len(data), len(want))
	}
	if m, _ := me.Chats().Message(ctx, msgs[0].ID); m.Attachment == nil || m.Attachment.LocalPath != got.LocalPath {
		t.Errorf("the history does not keep the fetched file: %+v", m.Attachment)
	}

	// A stranger's file: only when asked.
	cid := srv.NewChatAccount(t, "fetchcid")
	cid.Start(t)
	cid.Befriend(t, me.JID)
	if _, err := cid.Chats().SendFile(ctx, me.JID, photoWithGPS(t, t.TempDir(), 50, 50), media.PrepareOptions{}); err != nil {
		t.Fatal(err)
	}
	var strangers []store.Message
	apptest.WaitChats(t, me.Chats(), "cid's photo", chatWait, func() (bool, string) {
		var err error
		strangers, err = apptest.History(ctx, me.Chats(), cid.JID)
		return err == nil && len(strangers) == 1, ""
	})
	if _, err := me.Chats().Fetch(ctx, strangers[0].ID, false); !errors.Is(err, app.ErrNotFromContact) {
		t.Errorf("a stranger's file fetched without asking: %v", err)
	}
	if m, _ := me.Chats().Message(ctx, strangers[0].ID); m.Attachment.State != store.AttachmentRemote || m.Attachment.LocalPath != "" {
		t.Errorf("after the refusal: %+v", m.Attachment)
	}
	if a, err := me.Chats().Fetch(ctx, strangers[0].ID, true); err != nil || a.Width != 50 {
		t.Errorf("a stranger's file, asked for: %+v, %v", a, err)
	}

	// Not http(s): refused, and the chat keeps why.
	slixJID, slixPass := srv.NewUser(t, "fetchslix")
	me.Befriend(t, slixJID)
	slix := srv.Slixmpp(t, slixJID, slixPass)
	for _, u := range []string{"file:///etc/passwd", "aesgcm://up.example.org/x.jpg#0011223344556677889900112233445566778899001122334455667788990011223344556677889900112233"} {
		if err := slix.SendFile(me.JID, u, u, ""); err != nil {
			t.Fatal(err)
		}
	}
	bad := waitHistory(t, me.Chats(), slixJID, "the two links", func(msgs []store.Message) bool { return len(msgs) == 2 })
	for i, want := range []error{media.ErrNotFetchable, media.ErrEncryptedFile} {
		if _, err := me.Chats().Fetch(ctx, bad[i].ID, true); !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", bad[i].Attachment.URL, err, want)
		}
		m, _ := me.Chats().Message(ctx, bad[i].ID)
		if m.Attachment.State != store.AttachmentFailed || m.Attachment.Error != app.UserMessage(want) {
			t.Errorf("%s kept as %+v", m.Attachment.URL, m.Attachment)
		}
	}
}

// TestFileFromGoSendxmpp: a file go-sendxmpp shares through its own HTTP
// upload arrives as a file and fetches whole.
func TestFileFromGoSendxmpp(t *testing.T) {
	srv := apptest.Shared(t)
	me, user, pass := withFriend(t, srv, "gosx")
	photo := photoWithGPS(t, t.TempDir(), 90, 60)
	srv.GoSendxmppFile(t, user, pass, me.JID, photo)
	msgs := waitHistory(t, me.Chats(), user, "go-sendxmpp's file", func(msgs []store.Message) bool {
		return len(msgs) == 1 && msgs[0].Attachment != nil
	})
	got, err := me.Chats().Fetch(chatCtx(t), msgs[0].ID, false)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(photo)
	data, _ := os.ReadFile(got.LocalPath)
	if !bytes.Equal(data, want) || got.Width != 90 {
		t.Errorf("fetched %+v: %d bytes, want the %d go-sendxmpp sent", got, len(data), len(want))
	}
}

// TestLargeFileNotFetchedByItself: a contact's 50 MB file (its server
// announces the size) is not fetched without asking, and nothing of it is
// read; with automatic downloads off in the account's settings, not even
// a small one is.
func TestLargeFileNotFetchedByItself(t *testing.T) {
	srv := apptest.Shared(t)
	me, slixJID, slixPass := withFriend(t, srv, "bigfetch")
	slix := srv.Slixmpp(t, slixJID, slixPass)
	var sent atomic.Int64
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big.jpg" {
			w.Header().Set("Content-Length", strconv.Itoa(50_000_000))
			n, _ := w.Write(make([]byte, 64<<10)) // what a server sends before the client stops it
			sent.Add(int64(n))
			return
		}
		_, _ = w.Write(photoBytes(t))
	}))
	defer files.Close()
	for _, u := range []string{files.URL + "/big.jpg", files.URL + "/small.jpg"} {
		if err := slix.SendFile(me.JID, u, u, ""); err != nil {
			t.Fatal(err)
		}
	}
	msgs := waitHistory(t, me.Chats(), slixJID, "the two files", func(msgs []store.Message) bool { return len(msgs) == 2 })
	ctx := chatCtx(t)
	_, err := me.Chats().Fetch(ctx, msgs[0].ID, false)
	var tl *media.TooLargeError
	if !errors.As(err, &tl) || tl.Size != 50_000_000 {
		t.Errorf("the 50 MB file fetched without asking: %v", err)
	}
	if m, _ := me.Chats().Message(ctx, msgs[0].ID); m.Attachment.LocalPath != "" || m.Attachment.State != store.AttachmentRemote {
		t.Errorf("after the refusal: %+v", m.Attachment)
	}
	if got := app.UserMessage(err); got != "This file is 50 MB, more than 10 MB: it is downloaded only when you click." {
		t.Errorf("the refusal says %q", got)
	}
	// Off in the settings: the small one waits for a click too.
	if err := me.Svc.Profile().Update(func(s *app.AccountSettings) { s.Files.AutoFetchLimit = -1 }); err != nil {
		t.Fatal(err)
	}
	if _, err := me.Chats().Fetch(ctx, msgs[1].ID, false); !errors.Is(err, app.ErrAutoFetchOff) {
		t.Errorf("with automatic downloads off: %v", err)
	}
	if a, err := me.Chats().Fetch(ctx, msgs[1].ID, true); err != nil || a.State != store.AttachmentDownloaded {
		t.Errorf("asked for: %+v, %v", a, err)
	}
}

// photoBytes is a small JPEG.
func photoBytes(t *testing.T) []byte {
	data, err := os.ReadFile(photoWithGPS(t, t.TempDir(), 32, 32))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestCancelADownload: a download under way (a slow server's 5 MB file)
// ends on CancelFile: Fetch says it was cancelled, nothing of it is kept
// and the file waits for a click again; clicked again, it comes whole.
func TestCancelADownload(t *testing.T) {
	srv := apptest.Shared(t)
	me := srv.NewChatAccount(t, "dlcancel")
	me.Start(t)
	slixJID, slixPass := srv.NewUser(t, "dlcancelslix")
	slix := srv.Slixmpp(t, slixJID, slixPass)
	photo := photoBytes(t)
	var requests atomic.Int32
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) > 1 { // the second time, the whole file
			_, _ = w.Write(photo)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(5_000_000))
		// The first 128 kB (progress is told every 64 kB), then nothing
		// until the client goes.
		_, _ = w.Write(append(slices.Clone(photo), make([]byte, 128<<10)...))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer files.Close()
	url := files.URL + "/slow.jpg"
	if err := slix.SendFile(me.JID, url, url, ""); err != nil {
		t.Fatal(err)
	}
	msgs := waitHistory(t, me.Chats(), slixJID, "the file", func(msgs []store.Message) bool { return len(msgs) == 1 })
	cs, id := me.Chats(), msgs[0].ID
	started := transferUnderWay(t, cs, id)
	fetched := make(chan error, 1)
	go func() {
		_, err := cs.Fetch(chatCtx(t), id, true)
		fetched <- err
	}()
	select {
	case <-started:
	case err := <-fetched:
		t.Fatalf("the download ended before it was cancelled: %v", err)
	case <-time.After(chatWait):
		t.Fatal("the download never started")
	}
	if err := cs.CancelFile(chatCtx(t), id); err != nil {
		t.Fatal(err)
	}
	if err := <-fetched; !errors.Is(err, app.ErrDownloadCancelled) {
		t.Fatalf("the cancelled download returned %v", err)
	}
	if m, _ := cs.Message(chatCtx(t), id); m.Attachment.LocalPath != "" || m.Attachment.State != store.AttachmentRemote {
		t.Errorf("after the cancel: %+v", m.Attachment)
	}
	if tr, ok := cs.Transfer(id); ok {
		t.Errorf("the cancelled download is still on its way: %+v", tr)
	}
	a, err := cs.Fetch(chatCtx(t), id, true)
	if data, _ := os.ReadFile(a.LocalPath); err != nil || !bytes.Equal(data, photo) {
		t.Errorf("fetched again: %+v, %v (%d bytes, want %d)", a, err, len(data), len(photo))
	}
}
