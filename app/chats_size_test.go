// Tests of the message size limit against a Prosody that allows stanzas of
// 64 KiB only (the tightest limit common servers use): a message, and a
// correction, of exactly app.MaxMessageBytes escaped (markup and line
// breaks, which escaping grows most) go through without the server closing
// the stream; one byte more is refused with a typed error before it enters
// the outbox, and the account goes on sending.
package app_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"parley/app"
	"parley/app/apptest"
	"parley/app/store"
	"parley/xmppclient"
	"parley/xmppclient/xmpptest"
)

// bodyOfSize is a body that takes exactly n bytes escaped in a stanza,
// mostly '<' and line breaks (4 and 5 bytes each).
func bodyOfSize(t *testing.T, n int) string {
	t.Helper()
	pairs := (n - 1) / 9 // "x", then "<\n" pairs of 9 bytes, then letters
	body := "x" + strings.Repeat("<\n", pairs) + strings.Repeat("y", n-1-9*pairs)
	if got := xmppclient.EncodedTextSize(body); got != n {
		t.Fatalf("bodyOfSize(%d) takes %d bytes", n, got)
	}
	return body
}

func TestMessageSizeLimit(t *testing.T) {
	srv := apptest.Start(t, xmpptest.ProsodyOptions{ExtraConfig: "c2s_stanza_size_limit = 64 * 1024"})
	a := srv.NewChatAccount(t, "big")
	bobJID, bobPass := srv.NewUser(t, "bigbob")
	bob := srv.Raw(t, bobJID, bobPass, "raw")
	ctx := chatCtx(t)
	a.Start(t)
	cs := a.Chats()

	// Any status but Online after this point: the server closed the stream.
	var (
		mu       sync.Mutex
		statuses []app.Phase
	)
	unsub := a.Svc.Subscribe(func(s app.Status) {
		mu.Lock()
		statuses = append(statuses, s.Phase)
		mu.Unlock()
	})
	defer unsub()

	atLimit := bodyOfSize(t, app.MaxMessageBytes)
	sent, err := cs.Send(ctx, bobJID, atLimit)
	if err != nil {
		t.Fatalf("a message of exactly the limit: %v", err)
	}
	waitRawBody(t, bob, "the message of exactly the limit", atLimit)
	waitState(t, cs, sent.ID, store.StateSent, "the server acked the message of the limit")
	corrected := bodyOfSize(t, app.MaxMessageBytes-1) + "z"
	if err := cs.Correct(ctx, bobJID, sent, corrected); err != nil {
		t.Fatalf("a correction of exactly the limit: %v", err)
	}
	waitRawBody(t, bob, "the correction of exactly the limit", corrected)

	// One byte over, as a message and as a correction: refused, typed,
	// nothing queued, nothing changed.
	over := bodyOfSize(t, app.MaxMessageBytes+1)
	_, err = cs.Send(ctx, bobJID, over)
	var tooLarge *app.MessageTooLargeError
	if !errors.Is(err, app.ErrMessageTooLarge) || !errors.As(err, &tooLarge) ||
		tooLarge.Limit != app.MaxMessageBytes || tooLarge.Size != app.MaxMessageBytes+1 {
		t.Fatalf("sending a message one byte over the limit: %v; want a *MessageTooLargeError of %d bytes, limit %d",
			err, app.MaxMessageBytes+1, app.MaxMessageBytes)
	}
	if want := "This message is too long to send (61 KB; the limit is 60 KB)."; app.UserMessage(err) != want {
		t.Errorf("shown as %q, want %q", app.UserMessage(err), want)
	}
	if err := cs.Correct(ctx, bobJID, sent, over); !errors.Is(err, app.ErrMessageTooLarge) {
		t.Fatalf("a correction one byte over the limit: %v; want ErrMessageTooLarge", err)
	}
	msgs, err := apptest.History(ctx, cs, bobJID)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].ID != sent.ID || msgs[0].Body != corrected || msgs[0].State == store.StateQueued {
		t.Fatalf("history after the refusals: %s; want only the first message, corrected, not queued", apptest.DescribeMessages(msgs))
	}
	edits, err := cs.QueuedEdits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range edits {
		if e.Body == over {
			t.Fatalf("the refused correction is queued: %s", e.ID)
		}
	}

	// The account goes on: the next message arrives, on the same stream.
	after, err := cs.Send(ctx, bobJID, "after")
	if err != nil {
		t.Fatal(err)
	}
	waitRawBody(t, bob, "the message after", "after")
	waitState(t, cs, after.ID, store.StateSent, "the server acked the message after")
	mu.Lock()
	defer mu.Unlock()
	for _, p := range statuses {
		if p != app.Online {
			t.Fatalf("the session went %v on the way (statuses %v): the server closed the stream", p, statuses)
		}
	}
}

// waitRawBody waits until the raw peer got a message with body.
func waitRawBody(t *testing.T, p *xmpptest.RawPeer, what, body string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), chatWait)
	defer cancel()
	if _, err := p.WaitFor(ctx, func(m xmpptest.RawMessage) bool { return m.HasBody && m.Body == body }); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}
