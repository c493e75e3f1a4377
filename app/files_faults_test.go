// Faults while a file is uploading: the XMPP connection killed mid-way,
// and Parley killed (SIGKILL) mid-way. Either way the peer, another
// Parley, gets the file exactly once, whole, after the reconnect or the
// restart, and nothing half-sent ever shows as sent.
package app_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"parley/app"
	"parley/app/apptest"
	"parley/app/media"
	"parley/app/store"
)

// withFriend starts a chat account (users named prefix and prefix+"peer")
// with a new user on its roster, for a real peer client to log in as.
func withFriend(t *testing.T, srv *apptest.Server, prefix string) (me *apptest.ChatAccount, peer, peerPass string) {
	t.Helper()
	me = srv.NewChatAccount(t, prefix)
	me.Start(t)
	peer, peerPass = srv.NewUser(t, prefix+"peer")
	me.Befriend(t, peer)
	return me, peer, peerPass
}

// startedFriends starts two chat accounts, prefix and prefix+"peer", the
// second on the first's roster.
func startedFriends(t *testing.T, srv *apptest.Server, prefix string) (a, b *apptest.ChatAccount) {
	t.Helper()
	a = srv.NewChatAccount(t, prefix)
	b = srv.NewChatAccount(t, prefix+"peer")
	b.Start(t)
	a.Start(t)
	a.Befriend(t, b.JID)
	return a, b
}

// randomFile writes n random bytes (a file that is no picture: sent as it
// is) and returns its path and contents.
func randomFile(t *testing.T, n int) (string, []byte) {
	t.Helper()
	data := make([]byte, n)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "archive.bin")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, data
}

// transferUnderWay is told (once) when a file of cs (message id's, or any
// when id is 0) has moved on and not ended yet; it stops listening when t
// ends.
func transferUnderWay(t *testing.T, cs *app.ChatService, id int64) <-chan struct{} {
	started := make(chan struct{}, 1)
	unsub := cs.Subscribe(func(ch app.ChatChange) {
		for tid, tr := range ch.Transfers {
			if (id == 0 || tid == id) && tr.Done > 0 && tr.Done < tr.Total {
				select {
				case started <- struct{}{}:
				default:
				}
			}
		}
	})
	t.Cleanup(unsub)
	return started
}

// waitUnderWay waits for what transferUnderWay returned, failing t after
// chatWait.
func waitUnderWay(t *testing.T, started <-chan struct{}) {
	t.Helper()
	select {
	case <-started:
	case <-time.After(chatWait):
		t.Fatal("the file never went on its way")
	}
}

// receivedOnce waits until the peer's history holds the sentinel, then
// checks that it holds exactly one file, and that it fetches as want.
func receivedOnce(t *testing.T, peer *apptest.ChatAccount, from string, want []byte) {
	t.Helper()
	msgs := waitHistory(t, peer.Chats(), from, "the sentinel after the file", hasBody(store.In, "sentinel"))
	var files []store.Message
	for _, m := range msgs {
		if m.Attachment != nil {
			files = append(files, m)
		}
	}
	if len(files) != 1 {
		t.Fatalf("the peer got %d files (%s), want one", len(files), apptest.DescribeMessages(msgs))
	}
	a, err := peer.Chats().Fetch(chatCtx(t), files[0].ID, true)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(a.LocalPath)
	if !bytes.Equal(got, want) {
		t.Errorf("the file fetched has %d bytes, not the %d sent", len(got), len(want))
	}
}

func TestUploadSurvivesAKilledConnection(t *testing.T) {
	srv := apptest.StartPrivate(t)
	a := srv.NewChatAccount(t, "upkill")
	b := srv.NewChatAccount(t, "upkillpeer")
	b.Start(t)
	px, host, port := startProxy(t, srv)
	a.StartVia(t, host, port, nil)
	a.Befriend(t, b.JID)
	cs := a.Chats()
	path, data := randomFile(t, 6<<20)
	started := transferUnderWay(t, cs, 0)
	m, err := cs.SendFile(chatCtx(t), b.JID, path, media.PrepareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitUnderWay(t, started)
	px.KillAll() // the XMPP connection dies while the file goes up
	if got, _ := cs.Message(chatCtx(t), m.ID); got.State != store.StateQueued {
		t.Errorf("mid-upload the message is %s, want queued", got.State)
	}
	if _, err := cs.Send(chatCtx(t), b.JID, "sentinel"); err != nil {
		t.Fatal(err)
	}
	receivedOnce(t, b, a.JID, data)
}

func TestUploadSurvivesSIGKILL(t *testing.T) {
	srv := apptest.StartPrivate(t)
	a, b := startedFriends(t, srv, "upcrash")
	a.Stop(t)
	path, data := randomFile(t, 6<<20)
	child := startChatChild(t, chatChildConfig{Dir: a.Dir, JID: a.JID, Password: a.Password,
		Host: srv.Host, Port: srv.Port, Peer: b.JID})
	child.await(t, "online")
	child.do(t, fmt.Sprintf("file %s", path), "uploading")
	child.kill(t)
	// What the killed process left (read without logging in): the file
	// still to upload, nothing shown as sent. (On a machine fast enough to
	// upload 6 MB within the kill, it may have got further: logged.)
	offline := apptest.NewService(t, a.Dir, nil)
	left, err := apptest.History(chatCtx(t), offline.Chats(), b.JID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range left {
		if m.Attachment != nil {
			t.Logf("after the kill: message %s, attachment state %d", m.State, m.Attachment.State)
			if m.State != store.StateQueued {
				t.Errorf("the file shows as %s after a kill mid-upload", m.State)
			}
		}
	}
	if err := offline.Close(); err != nil {
		t.Fatal(err)
	}

	a.Start(t)
	if _, err := a.Chats().Send(chatCtx(t), b.JID, "sentinel"); err != nil {
		t.Fatal(err)
	}
	receivedOnce(t, b, a.JID, data)
}

// TestCancelAndRetryAFile: cancelling an upload under way marks the
// message failed as cancelled and sends nothing; Retry sends it once.
func TestCancelAndRetryAFile(t *testing.T) {
	srv := apptest.Shared(t)
	a, b := startedFriends(t, srv, "upcancel")
	cs := a.Chats()
	path, data := randomFile(t, 6<<20)
	started := transferUnderWay(t, cs, 0)
	m, err := cs.SendFile(chatCtx(t), b.JID, path, media.PrepareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitUnderWay(t, started)
	if err := cs.CancelFile(chatCtx(t), m.ID); err != nil {
		t.Fatal(err)
	}
	got := waitHistory(t, cs, b.JID, "the file failed as cancelled", func(msgs []store.Message) bool {
		return len(msgs) == 1 && msgs[0].State == store.StateFailed
	})
	if got[0].Error != app.UserMessage(app.ErrCancelled) {
		t.Errorf("the failure says %q", got[0].Error)
	}
	if err := cs.Retry(chatCtx(t), got[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Send(chatCtx(t), b.JID, "sentinel"); err != nil {
		t.Fatal(err)
	}
	receivedOnce(t, b, a.JID, data)
}
