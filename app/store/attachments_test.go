// Tests of attachments in the history: one stored with its message is
// read back with it (pages, single messages, the conversation list, the
// outbox), a copy of the message adds the attachment the first copy
// lacked but never replaces one, SetAttachment moves it on, bad ones are
// refused, and a database from version 10 opens with its messages intact
// and without attachments.
package store

import (
	"errors"
	"testing"
	"time"
)

func TestAttachmentRoundTrip(t *testing.T) {
	s := openTest(t, Options{})
	ctx := testCtx(t)
	att := &Attachment{URL: "https://up.example.org/a/cat.jpg", Name: "cat.jpg", MediaType: "image/jpeg", Size: 123456,
		Width: 640, Height: 480, State: AttachmentRemote}
	m := in(alice, "https://up.example.org/a/cat.jpg", 1)
	m.Attachment = att
	saved := mustSave(t, s, m)
	mustSave(t, s, in(alice, "no file here", 2))

	got := mustGet(t, s, saved.ID)
	if got.Attachment == nil || *got.Attachment != *att {
		t.Fatalf("read back %+v, want %+v", got.Attachment, att)
	}
	page, err := s.Latest(ctx, alice, 10)
	if err != nil || len(page) != 2 {
		t.Fatalf("latest: %v %v", page, err)
	}
	if page[0].Attachment == nil || page[0].Attachment.URL != att.URL || page[1].Attachment != nil {
		t.Errorf("page attachments %+v, %+v; want the first message's only", page[0].Attachment, page[1].Attachment)
	}

	// Ours, waiting for its upload: in the outbox with its local file.
	o := out(bob, "", 3)
	o.Body = "photo"
	o.Attachment = &Attachment{LocalPath: "/profile/outgoing/1.jpg", MediaType: "image/jpeg", Size: 99, State: AttachmentToUpload}
	ours := mustSave(t, s, o)
	box, err := s.Outbox(ctx)
	if err != nil || len(box) != 1 || box[0].Attachment == nil || box[0].Attachment.State != AttachmentToUpload {
		t.Fatalf("outbox %+v, %v; want the message with its attachment waiting for upload", box, err)
	}
	convs, err := s.Conversations(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range convs {
		if c.Peer == bob && (c.Last == nil || c.Last.Attachment == nil || c.Last.Attachment.LocalPath != o.Attachment.LocalPath) {
			t.Errorf("bob's list entry %+v lacks the attachment", c.Last)
		}
	}

	// The upload moves it on.
	up := *o.Attachment
	up.URL, up.State, up.Duration = "https://up.example.org/b/1.jpg", AttachmentUploaded, 1500*time.Millisecond
	if err := s.SetAttachment(ctx, ours.ID, up); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, ours.ID); got.Attachment == nil || *got.Attachment != up {
		t.Errorf("after SetAttachment: %+v, want %+v", got.Attachment, up)
	}
	// A message without one gets one; a missing message is an error.
	plain := page[1].ID
	if err := s.SetAttachment(ctx, plain, Attachment{URL: "https://x/y.pdf"}); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, plain); got.Attachment == nil || got.Attachment.URL != "https://x/y.pdf" {
		t.Errorf("the added attachment: %+v", got.Attachment)
	}
	if err := s.SetAttachment(ctx, 12345, Attachment{URL: "https://x/y"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetAttachment of a missing message: %v, want ErrNotFound", err)
	}
	if err := s.SetAttachment(ctx, plain, Attachment{}); !errors.Is(err, ErrBadAttachment) {
		t.Errorf("an empty attachment: %v, want ErrBadAttachment", err)
	}
	bad := in(alice, "x", 9)
	bad.Attachment = &Attachment{URL: "https://x", Size: -1}
	if _, err := s.Save(ctx, bad); err == nil {
		t.Error("an attachment with a negative size was stored")
	}
}

func TestAttachmentFromACopy(t *testing.T) {
	s := openTest(t, Options{})
	first := in(alice, "https://x/a.png", 1)
	first.OriginID = "o1"
	saved := mustSave(t, s, first)
	if mustGet(t, s, saved.ID).Attachment != nil {
		t.Fatal("an attachment out of nowhere")
	}
	again := first
	again.Attachment = &Attachment{URL: "https://x/a.png", MediaType: "image/png"}
	if r := mustSave(t, s, again); r.Outcome != Duplicate || r.ID != saved.ID {
		t.Fatalf("the copy: %+v", r)
	}
	if got := mustGet(t, s, saved.ID).Attachment; got == nil || got.MediaType != "image/png" {
		t.Errorf("the copy's attachment was not added: %+v", got)
	}
	third := first
	third.Attachment = &Attachment{URL: "https://evil/other.png"}
	mustSave(t, s, third)
	if got := mustGet(t, s, saved.ID).Attachment; got == nil || got.URL != "https://x/a.png" {
		t.Errorf("a later copy replaced the attachment: %+v", got)
	}
}

func TestAttachmentPreview(t *testing.T) {
	s := openTest(t, Options{})
	m := in(alice, "https://x/summit.jpg", 1)
	m.Attachment = &Attachment{URL: "https://x/summit.jpg", Desc: "Photo from the summit."}
	m.FilePreview = []byte("\x89PNG small")
	saved := mustSave(t, s, m)
	got := mustGet(t, s, saved.ID).Attachment
	if got == nil || !got.HasPreview || got.Desc != "Photo from the summit." {
		t.Fatalf("read back %+v; want HasPreview and the description", got)
	}
	b, err := s.AttachmentPreview(testCtx(t), saved.ID)
	if err != nil || string(b) != "\x89PNG small" {
		t.Errorf("preview %q, %v", b, err)
	}
	// SetAttachment keeps it.
	up := *got
	up.State, up.LocalPath = AttachmentDownloaded, "/cache/x"
	if err := s.SetAttachment(testCtx(t), saved.ID, up); err != nil {
		t.Fatal(err)
	}
	if b, _ := s.AttachmentPreview(testCtx(t), saved.ID); string(b) != "\x89PNG small" {
		t.Errorf("preview after SetAttachment: %q", b)
	}
	big := in(alice, "x", 2)
	big.Attachment = &Attachment{URL: "https://x/y"}
	big.FilePreview = make([]byte, maxPreview+1)
	if _, err := s.Save(testCtx(t), big); err == nil {
		t.Error("an oversized preview was kept")
	}
}

func TestMigrateToAttachments(t *testing.T) {
	path := oldDatabase(t, 10,
		`INSERT INTO conversations(id, peer, last_activity, accepted) VALUES (1, 'alice@example.org', 0, 1)`,
		`INSERT INTO messages(id, conversation_id, direction, sender, body, ts, message_id, state)
			VALUES (?1 << 20, 1, 0, 'alice@example.org/x', 'from before', ?1, 'm1', 0)`,
		`UPDATE conversations SET last_message_id = ?1 << 20, last_ts = ?1, last_activity = ?1`)
	s := openAt(t, path, Options{})
	msgs, err := s.Latest(testCtx(t), alice, 10)
	if err != nil || len(msgs) != 1 || msgs[0].Body != "from before" || msgs[0].Attachment != nil {
		t.Fatalf("after the migration: %+v, %v", msgs, err)
	}
	if err := s.SetAttachment(testCtx(t), msgs[0].ID, Attachment{URL: "https://x/old.jpg"}); err != nil {
		t.Errorf("an old message cannot take an attachment: %v", err)
	}
}
