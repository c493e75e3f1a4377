// Test of files shared by other clients (XEP-0066 out-of-band data, as
// Conversations, Gajim, Dino and Monal send them: the body is the URL):
// the URL is kept as the message's attachment, not thrown away, also
// when the message has no body of its own; a message without one has no
// attachment.
package app_test

import (
	"testing"

	"parley/app/apptest"
	"parley/app/store"
)

func TestSharedFileURLIsKept(t *testing.T) {
	srv := apptest.Shared(t)
	a, bobJID, bobPass := withFriend(t, srv, "oobkeep")
	cs := a.Chats()
	bob := srv.Slixmpp(t, bobJID, bobPass)

	const photo = "https://upload.example.org/abc/IMG_0001.jpg"
	const voice = "https://upload.example.org/def/voice.m4a"
	if err := bob.SendFile(a.JID, photo, photo, "f1"); err != nil {
		t.Fatal(err)
	}
	if err := bob.SendFile(a.JID, voice, "", "f2"); err != nil { // no body of its own
		t.Fatal(err)
	}
	if err := bob.Send(a.JID, "just text", "f3"); err != nil {
		t.Fatal(err)
	}
	msgs := waitHistory(t, cs, bobJID, "the three messages", hasBody(store.In, "just text"))
	want := map[string]string{"f1": photo, "f2": voice, "f3": ""}
	for _, m := range msgs {
		url, ok := want[m.MessageID]
		if !ok {
			continue
		}
		delete(want, m.MessageID)
		switch {
		case url == "" && m.Attachment != nil:
			t.Errorf("%s: an attachment %+v on a message that shares none", m.MessageID, m.Attachment)
		case url != "" && (m.Attachment == nil || m.Attachment.URL != url || m.Attachment.State != store.AttachmentRemote):
			t.Errorf("%s: attachment %+v, want %s (not fetched yet)", m.MessageID, m.Attachment, url)
		case url != "" && m.Body != url:
			t.Errorf("%s: body %q, want the URL", m.MessageID, m.Body)
		}
	}
	if len(want) > 0 {
		t.Errorf("messages not stored: %v", want)
	}
}
