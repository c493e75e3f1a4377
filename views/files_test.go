// Headless test of files in the chats tab, against the real server with
// another Parley as the peer: the attach button's picker (a stand-in that
// picks a file: the dialog itself is Fyne's) leads to a preview, Send
// uploads it and the peer gets it; our picture and the peer's show as
// thumbnails in boxes of their proportions; a stranger's picture waits
// behind "Click to download", and a click fetches it; the viewer moves,
// zooms, copies and closes. Pictures from real peers (slixmpp's OOB,
// go-sendxmpp's upload, a Dino-style XEP-0447 share) show too.
package views

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"

	"parley/app"
	"parley/app/apptest"
	"parley/app/media"
	"parley/app/store"
)

// writePicture writes a w × h JPEG and returns its path.
func writePicture(t *testing.T, w, h int) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 3)
	}
	img.Set(0, 0, color.Black)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "pic.jpg")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// filesFrom counts the files a has received from peer (-1 on an error).
func filesFrom(t *testing.T, a *apptest.Account, peer string) int {
	msgs, err := apptest.History(ctxFor(t), a.Svc.Chats(), peer)
	if err != nil {
		return -1
	}
	n := 0
	for _, m := range msgs {
		if m.Attachment != nil && m.Attachment.URL != "" && m.Direction == store.In {
			n++
		}
	}
	return n
}

// pictureRows are the rows on screen showing a picture box.
func (h *chatsHarness) pictureRows() []shownChatRow {
	var out []shownChatRow
	for _, r := range h.chatRows() {
		if r.kind == rowMsg && r.view.row.lay != nil && r.view.row.lay.media != nil {
			out = append(out, r)
		}
	}
	return out
}

// chatWithBob logs in two friends, me and Bob (users named prefix+"me"
// and prefix+"bob"), and opens Bob's chat in me's chats tab.
func chatWithBob(t *testing.T, srv *apptest.Server, prefix string) (h *chatsHarness, me, bob *apptest.Account) {
	me = srv.LogIn(t, prefix+"me")
	bob = srv.LogIn(t, prefix+"bob")
	apptest.Befriend(t, me, bob, "")
	h = openChats(t, me.Svc, fyne.NewSize(900, 700), false)
	h.ui.do(func() { h.v.Open(bob.JID, "") })
	h.wait("Bob's chat", func() bool { return h.v.chat.peer == bob.JID && h.v.chat.loaded })
	return h, me, bob
}

func TestSendAndShowPictures(t *testing.T) {
	srv := apptest.Shared(t)
	h, me, bob := chatWithBob(t, srv, "uifile")

	picked := writePicture(t, 300, 200)
	h.ui.do(func() {
		h.v.opts.PickFile = func(_ fyne.Window, pictures bool, done func(string)) {
			if !pictures {
				t.Error("Picture… opened the picker of all files")
			}
			done(picked)
		}
		test.Tap(h.v.attachBtn)
		if h.v.attachMenu == nil || len(h.v.attachMenu.Items) != 2 {
			t.Fatal("no Picture… / File… menu")
		}
		h.v.attachMenu.Items[0].Action()
	})
	h.wait("the preview", func() bool { return h.v.attachDlg != nil })
	h.ui.do(func() {
		test.Type(h.v.attachDlg.caption, "the view from the top")
		test.Tap(h.v.attachDlg.send)
	})
	waitCond(t, "Bob receiving the picture, then its caption", func() bool {
		m, ok := lastMessage(t, bob.Svc, me.JID)
		if !ok || m.Body != "the view from the top" {
			return false
		}
		msgs, _ := apptest.History(ctxFor(t), bob.Svc.Chats(), me.JID)
		return len(msgs) == 2 && msgs[0].Attachment != nil && msgs[0].Attachment.URL != ""
	})
	h.wait("our picture's thumbnail", func() bool {
		rows := h.pictureRows()
		return len(rows) == 1 && rows[0].view.pic.Visible() && rows[0].view.pic.Image != nil
	})
	h.ui.do(func() {
		m := h.pictureRows()[0].view.row.lay.media
		if m.w != 240 || m.h != 160 {
			t.Errorf("the picture's box is %v × %v, want 240 × 160 (300 × 200 fitted)", m.w, m.h)
		}
	})

	// Bob's picture (a contact's): fetched and shown by itself.
	if _, err := bob.Svc.Chats().SendFile(ctxFor(t), me.JID, writePicture(t, 100, 150), media.PrepareOptions{}); err != nil {
		t.Fatal(err)
	}
	h.wait("Bob's picture's thumbnail", func() bool {
		rows := h.pictureRows()
		return len(rows) == 2 && rows[1].view.pic.Visible() && rows[1].view.pic.Image != nil
	})

	// A click on a picture opens the viewer; the arrows move, Escape closes.
	h.ui.do(func() {
		rv := h.pictureRows()[0].view
		m := rv.row.lay.media
		o := rv.bubbleOrigin(rv.Size().Width)
		rv.Tapped(&fyne.PointEvent{Position: fyne.NewPos(o.X+m.x+m.w/2, o.Y+m.y+m.h/2)})
		pv := h.v.chat.viewer
		if pv == nil {
			t.Fatal("no viewer after a click on the picture")
		}
		key := h.w.Canvas().OnTypedKey()
		if got := pv.title.Text; got != "pic.jpg — 1 of 2" {
			t.Errorf("viewer title %q", got)
		}
		key(&fyne.KeyEvent{Name: fyne.KeyRight})
		if got := pv.title.Text; got != "pic.jpg — 2 of 2" {
			t.Errorf("after Right: %q", got)
		}
		key(&fyne.KeyEvent{Name: fyne.KeyPlus})
		if pv.zoom <= 0 {
			t.Error("+ did not zoom")
		}
	})
	// Copy hands the shown picture's file to the clipboard (media.CopyImage,
	// tested on a real X clipboard in app/media).
	copiedPic := make(chan string, 1)
	h.ui.do(func() {
		h.v.opts.CopyImage = func(_ context.Context, path string) error { copiedPic <- path; return nil }
		h.v.chat.viewer.copy()
	})
	select {
	case path := <-copiedPic:
		if want := h.v.chat.viewer.pics[1].Attachment.LocalPath; path != want || want == "" {
			t.Errorf("copied %q, want the shown picture %q", path, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Copy did not copy")
	}
	h.wait("the viewer saying it copied", func() bool { return strings.HasSuffix(h.v.chat.viewer.title.Text, " — copied") })
	h.ui.do(func() {
		pv := h.v.chat.viewer
		pv.v.c.win.Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
		if h.v.chat.viewer != nil || pv.pop.Visible() {
			t.Error("Escape did not close the viewer")
		}
	})

	// Two files dropped on the window: one preview, both sent in order.
	h.ui.do(func() {
		h.v.attachDlg = nil
		h.v.dropped(fyne.NewPos(10, 10), []fyne.URI{storage.NewFileURI(writePicture(t, 20, 20)), storage.NewFileURI(writePicture(t, 30, 30))})
	})
	h.wait("the preview of two files", func() bool { return h.v.attachDlg != nil })
	h.ui.do(func() { test.Tap(h.v.attachDlg.send) })
	waitCond(t, "Bob receiving the two dropped pictures", func() bool { return filesFrom(t, bob, me.JID) == 3 })

	// Pasting a copied file, then a picture (the clipboard's picture is read
	// by media.ClipboardImage, tested on a real X clipboard in app/media;
	// here a stand-in hands over the PNG it would read).
	copied := writePicture(t, 40, 40)
	var shot bytes.Buffer
	if err := png.Encode(&shot, image.NewRGBA(image.Rect(0, 0, 50, 30))); err != nil {
		t.Fatal(err)
	}
	for i, setup := range []func(){
		func() { fyne.CurrentApp().Clipboard().SetContent("file://" + copied) },
		func() {
			fyne.CurrentApp().Clipboard().SetContent("")
			h.v.opts.ClipboardImage = func(context.Context) ([]byte, error) { return shot.Bytes(), nil }
		},
	} {
		h.ui.do(func() {
			setup()
			h.v.attachDlg = nil
			h.v.composer.TypedShortcut(&fyne.ShortcutPaste{Clipboard: fyne.CurrentApp().Clipboard()})
		})
		h.wait("the preview of what was pasted", func() bool { return h.v.attachDlg != nil })
		h.ui.do(func() {
			if h.v.composer.Text != "" {
				t.Errorf("the paste put %q into the composer", h.v.composer.Text)
			}
			test.Tap(h.v.attachDlg.send)
		})
		want := 4 + i
		waitCond(t, "Bob receiving what was pasted", func() bool { return filesFrom(t, bob, me.JID) == want })
	}
	// Text is still pasted as text.
	h.ui.do(func() {
		fyne.CurrentApp().Clipboard().SetContent("plain words")
		h.v.composer.TypedShortcut(&fyne.ShortcutPaste{Clipboard: fyne.CurrentApp().Clipboard()})
		if h.v.composer.Text != "plain words" {
			t.Errorf("pasting text gave the composer %q", h.v.composer.Text)
		}
		h.v.composer.SetText("")
	})

	// A stranger's: behind a click.
	cid := srv.LogIn(t, "uifilecid")
	if _, err := cid.Svc.Chats().SendFile(ctxFor(t), me.JID, writePicture(t, 80, 80), media.PrepareOptions{}); err != nil {
		t.Fatal(err)
	}
	waitCond(t, "the stranger's picture stored", func() bool {
		m, ok := lastMessage(t, me.Svc, cid.JID)
		return ok && m.Attachment != nil
	})
	h.ui.do(func() { h.v.Open(cid.JID, "") })
	h.wait("the stranger's picture waiting for a click", func() bool {
		rows := h.pictureRows()
		return h.v.chat.peer == cid.JID && len(rows) == 1 && !rows[0].view.pic.Visible() &&
			rows[0].view.picNote.Text == "Click to download"
	})
	h.ui.do(func() {
		rv := h.pictureRows()[0].view
		m := rv.row.lay.media
		o := rv.bubbleOrigin(rv.Size().Width)
		rv.Tapped(&fyne.PointEvent{Position: fyne.NewPos(o.X+m.x+m.w/2, o.Y+m.y+m.h/2)})
	})
	h.wait("the stranger's picture after the click", func() bool {
		rows := h.pictureRows()
		return len(rows) == 1 && rows[0].view.pic.Visible() && rows[0].view.pic.Image != nil
	})
}

// TestDinoFileShowsBeforeDownload: a file shared the way Dino shares it
// (XEP-0447 with XEP-0446 metadata and an inline XEP-0264 thumbnail, from
// a real slixmpp peer who is not a contact) shows its announced size and
// proportions and the sender's small picture before anything is fetched.
func TestDinoFileShowsBeforeDownload(t *testing.T) {
	srv := apptest.Shared(t)
	me := srv.LogIn(t, "uisfsme")
	slixJID, slixPass := srv.NewUser(t, "uisfsdino")
	dino := srv.Slixmpp(t, slixJID, slixPass)
	var thumb bytes.Buffer
	small := image.NewRGBA(image.Rect(0, 0, 32, 24))
	for i := range small.Pix {
		small.Pix[i] = 200
	}
	if err := png.Encode(&thumb, small); err != nil {
		t.Fatal(err)
	}
	url := "https://upload.example.org/dino/summit.jpg"
	raw := `<message to='` + me.JID + `' type='chat' id='sfs1'><body>` + url + `</body>` +
		`<x xmlns='jabber:x:oob'><url>` + url + `</url></x>` +
		`<file-sharing xmlns='urn:xmpp:sfs:0' disposition='inline'><file xmlns='urn:xmpp:file:metadata:0'>` +
		`<media-type>image/jpeg</media-type><name>summit.jpg</name><size>3032449</size><width>4096</width><height>3072</height>` +
		`<thumbnail xmlns='urn:xmpp:thumbs:1' uri='data:image/png;base64,` + base64.StdEncoding.EncodeToString(thumb.Bytes()) +
		`' media-type='image/png' width='32' height='24'/></file>` +
		`<sources><url-data xmlns='http://jabber.org/protocol/url-data' target='` + url + `'/></sources></file-sharing></message>`
	if err := dino.SendRaw(raw); err != nil {
		t.Fatal(err)
	}
	waitCond(t, "the file stored with its metadata", func() bool {
		m, ok := lastMessage(t, me.Svc, slixJID)
		return ok && m.Attachment != nil && m.Attachment.Size == 3032449 && m.Attachment.Width == 4096 &&
			m.Attachment.Name == "summit.jpg" && m.Attachment.HasPreview && m.Attachment.State == store.AttachmentRemote
	})
	h := openChats(t, me.Svc, fyne.NewSize(900, 700), false)
	h.ui.do(func() { h.v.Open(slixJID, "") })
	h.wait("the sender's preview, and the click it waits for", func() bool {
		rows := h.pictureRows()
		return len(rows) == 1 && rows[0].view.pic.Visible() && rows[0].view.pic.Image != nil &&
			rows[0].view.picNote.Visible() && rows[0].view.picNote.Text == "Click to download"
	})
	h.ui.do(func() {
		m := h.pictureRows()[0].view.row.lay.media
		if m.w != 240 || m.h != 180 {
			t.Errorf("the box is %v × %v, want 240 × 180 (4096 × 3072 fitted)", m.w, m.h)
		}
	})
}

// TestPeerPicturesShowInline: pictures from real peers who are contacts,
// one sent by slixmpp as XEP-0066 OOB (body == URL, served over HTTP on
// loopback) and one shared by go-sendxmpp through the server's HTTP
// upload, show as thumbnails in their chats by themselves.
func TestPeerPicturesShowInline(t *testing.T) {
	srv := apptest.Shared(t)
	me := srv.LogIn(t, "uipeerpics")
	slixJID, slixPass := srv.NewUser(t, "uipicslix")
	gosxJID, gosxPass := srv.NewUser(t, "uipicgosx")
	ctx := ctxFor(t)
	for _, peer := range []string{slixJID, gosxJID} {
		if err := me.Contacts().Add(ctx, peer, "", "", ""); err != nil {
			t.Fatal(err)
		}
	}
	apptest.WaitContacts(t, me.Contacts(), "both peers on the roster", waitFor, func(s app.ContactsSnapshot) bool {
		_, a := apptest.FindContact(s, slixJID)
		_, b := apptest.FindContact(s, gosxJID)
		return a && b
	})

	beach, err := os.ReadFile(writePicture(t, 480, 270))
	if err != nil {
		t.Fatal(err)
	}
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/beach.jpg" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = w.Write(beach)
	}))
	t.Cleanup(files.Close)
	url := files.URL + "/beach.jpg"
	if err := srv.Slixmpp(t, slixJID, slixPass).SendFile(me.JID, url, url, ""); err != nil {
		t.Fatal(err)
	}
	srv.GoSendxmppFile(t, gosxJID, gosxPass, me.JID, writePicture(t, 200, 400))

	h := openChats(t, me.Svc, fyne.NewSize(900, 700), false)
	for _, c := range []struct {
		peer string
		w, h float32
	}{{slixJID, 240, 135}, {gosxJID, 120, 240}} {
		h.ui.do(func() { h.v.Open(c.peer, "") })
		h.wait("the thumbnail of "+c.peer+"'s picture", func() bool {
			rows := h.pictureRows()
			return h.v.chat.peer == c.peer && len(rows) == 1 && rows[0].view.pic.Visible() && rows[0].view.pic.Image != nil
		})
		h.ui.do(func() {
			if m := h.pictureRows()[0].view.row.lay.media; math.Abs(float64(m.w-c.w)) > 0.5 || math.Abs(float64(m.h-c.h)) > 0.5 {
				t.Errorf("%s's picture's box is %v × %v, want %v × %v", c.peer, m.w, m.h, c.w, c.h)
			}
		})
	}
}

// TestPictureBubbleStates: a picture being sent says "Sending… n%" over
// its thumbnail with a progress bar under it; cancelled, its bubble says
// it was not sent and offers Retry; retried, it goes and the bar is gone.
func TestPictureBubbleStates(t *testing.T) {
	srv := apptest.Shared(t)
	h, me, bob := chatWithBob(t, srv, "uistates")

	// Noise does not compress: a PNG of some 6 MB, which the loopback
	// upload takes a few seconds over (docs/benchmarks.md).
	noise := image.NewNRGBA(image.Rect(0, 0, 1600, 1000))
	r := rand.New(rand.NewPCG(7, 11))
	for i := range noise.Pix {
		noise.Pix[i] = byte(r.Uint32())
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.NoCompression}).Encode(&buf, noise); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "noise.png")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := me.Svc.Chats().SendFile(ctxFor(t), bob.JID, path, media.PrepareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h.wait("the picture sending, with its progress", func() bool {
		rows := h.pictureRows()
		return len(rows) == 1 && rows[0].view.picNote.Visible() && strings.HasPrefix(rows[0].view.picNote.Text, "Sending… ") &&
			rows[0].view.bar.Visible() && rows[0].view.barFill.Visible()
	})
	h.ui.do(func() { h.v.chat.cancelFile(m) })
	h.wait("the cancelled picture offering Retry", func() bool {
		rows := h.pictureRows()
		return len(rows) == 1 && strings.Contains(rows[0].meta, "Not sent: ") && strings.HasSuffix(rows[0].meta, retryWord) &&
			!rows[0].view.bar.Visible()
	})
	h.ui.do(func() { h.v.chat.retry(h.pictureRows()[0].view.msg) })
	waitCond(t, "Bob receiving the picture", func() bool { return filesFrom(t, bob, me.JID) == 1 })
	h.wait("the picture sent, its bar gone", func() bool {
		rows := h.pictureRows()
		return len(rows) == 1 && !strings.Contains(rows[0].meta, "Not sent") && !rows[0].view.bar.Visible() &&
			!rows[0].view.picNote.Visible() && rows[0].view.pic.Visible()
	})
}

// TestPictureDownloadStates: a stranger's picture clicked for shows its
// download's progress bar; the download cancelled, it waits for a click
// again with no error said.
func TestPictureDownloadStates(t *testing.T) {
	srv := apptest.Shared(t)
	me := srv.LogIn(t, "uidlstates")
	slixJID, slixPass := srv.NewUser(t, "uidlslix")
	stalled := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5000000")
		_, _ = w.Write(make([]byte, 256<<10)) // progress, then nothing until the client goes
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	t.Cleanup(stalled.Close)
	url := stalled.URL + "/far.jpg"
	if err := srv.Slixmpp(t, slixJID, slixPass).SendFile(me.JID, url, url, ""); err != nil {
		t.Fatal(err)
	}
	h := openChats(t, me.Svc, fyne.NewSize(900, 700), false)
	h.ui.do(func() { h.v.Open(slixJID, "") })
	h.wait("the stranger's picture waiting for a click", func() bool {
		rows := h.pictureRows()
		return h.v.chat.peer == slixJID && len(rows) == 1 && rows[0].view.picNote.Text == "Click to download"
	})
	h.ui.do(func() { h.v.chat.tapFile(h.pictureRows()[0].view.msg, "") })
	h.wait("the download's progress bar", func() bool {
		rows := h.pictureRows()
		return len(rows) == 1 && rows[0].view.bar.Visible() && rows[0].view.barFill.Visible()
	})
	h.ui.do(func() { h.v.chat.cancelFile(h.pictureRows()[0].view.msg) })
	h.wait("the picture waiting for a click again", func() bool {
		rows := h.pictureRows()
		return len(rows) == 1 && !rows[0].view.bar.Visible() && rows[0].view.picNote.Text == "Click to download"
	})
	h.ui.do(func() {
		if h.v.status.Text != "" {
			t.Errorf("after the cancel the status says %q", h.v.status.Text)
		}
	})
}

// TestChatFollowsAPictureThatArrives: with the end of a long chat on
// screen, a contact's picture that arrives (its size known only once it
// is fetched, so its row grows) keeps the end on screen.
func TestChatFollowsAPictureThatArrives(t *testing.T) {
	srv := apptest.Shared(t)
	h, me, bob := chatWithBob(t, srv, "uifollow")
	for i := range 30 {
		if _, err := bob.Svc.Chats().Send(ctxFor(t), me.JID, fmt.Sprintf("line %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	h.wait("the thirty lines, the end on screen", func() bool {
		return len(h.v.chat.msgs) == 30 && h.v.chat.atBottom() && !h.v.chat.jumpBtn.Visible()
	})
	if _, err := bob.Svc.Chats().SendFile(ctxFor(t), me.JID, writePicture(t, 300, 500), media.PrepareOptions{}); err != nil {
		t.Fatal(err)
	}
	h.wait("the picture's thumbnail, the end still on screen", func() bool {
		rows := h.pictureRows()
		return len(rows) == 1 && rows[0].view.pic.Visible() && rows[0].view.pic.Image != nil && h.v.chat.atBottom()
	})
}
