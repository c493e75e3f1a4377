// Tests of error replies to Parley's messages against a real Prosody: a
// <message type='error'> that answers one of our messages (by its id) marks
// that message failed and keeps the error's condition and text as the
// reason the chat view shows, whether the server bounces the message (the
// recipient does not exist) or the peer's client refuses it.
package app_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"parley/app"
	"parley/app/apptest"
	"parley/app/store"
	"parley/xmppclient/xmpptest"
)

// waitFailed waits until stored message id is failed with a reason that
// holds every one of parts, and returns it.
func waitFailed(t *testing.T, cs *app.ChatService, id int64, why string, parts ...string) store.Message {
	t.Helper()
	return waitMessage(t, cs, id, "message failed ("+why+")", func(m store.Message) bool {
		if m.State != store.StateFailed {
			return false
		}
		for _, p := range parts {
			if !strings.Contains(m.Error, p) {
				return false
			}
		}
		return true
	})
}

// rawMessageWithID waits until p has received a message whose id is id.
func rawMessageWithID(t *testing.T, p *xmpptest.RawPeer, id string) xmpptest.RawMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), chatWait)
	defer cancel()
	m, err := p.WaitFor(ctx, func(m xmpptest.RawMessage) bool { return m.ID == id })
	if err != nil {
		t.Fatalf("waiting for message %s at %s: %v", id, p.JID(), err)
	}
	return m
}

// errorReply is the <message type='error'/> a client sends back for the
// message id it got from to, with a defined condition and a text.
func errorReply(to, id, condition, text string) string {
	return fmt.Sprintf(`<message type='error' to='%s' id='%s'><error type='cancel'>`+
		`<%s xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>`+
		`<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>%s</text></error></message>`, to, id, condition, text)
}

// TestErrorReplyMarksMessageFailed: Prosody bounces a message to a user
// that does not exist (service-unavailable), and a peer's client answers
// another message with an error of its own; each message is marked failed
// with the error as its reason, a change is reported for the conversation
// (the view refreshes its state and reason), and a message of the same
// conversation that no error names stays as it was.
func TestErrorReplyMarksMessageFailed(t *testing.T) {
	srv := apptest.Shared(t)
	a := srv.NewChatAccount(t, "errrep")
	a.Start(t)
	cs := a.Chats()
	ctx := chatCtx(t)

	// The server's bounce: nobody has this name (a fresh user's name with
	// a suffix no account was made for).
	bobJID, bobPass := srv.NewUser(t, "errbob")
	nobody := strings.Replace(bobJID, "@", "-nobody@", 1)
	lost, err := cs.Send(ctx, nobody, "to nobody")
	if err != nil {
		t.Fatal(err)
	}
	m := waitFailed(t, cs, lost.ID, "the server bounced it", "service-unavailable")
	if m.Body != "to nobody" || m.Direction != store.Out {
		t.Errorf("the bounced message: %+v", m)
	}
	msgs, err := apptest.History(ctx, cs, nobody)
	if err != nil || len(msgs) != 1 || msgs[0].ID != lost.ID || msgs[0].State != store.StateFailed {
		t.Errorf("the conversation with %s: %v %s; want the one failed message (an error is not a message)", nobody, err, apptest.DescribeMessages(msgs))
	}

	// The peer's refusal: bob's client answers the second of two messages
	// with an error naming its id.
	bob := srv.Raw(t, bobJID, bobPass, "raw")
	kept, err := cs.Send(ctx, bobJID, "this one is fine")
	if err != nil {
		t.Fatal(err)
	}
	refused, err := cs.Send(ctx, bobJID, "this one is refused")
	if err != nil {
		t.Fatal(err)
	}
	rawMessageWithID(t, bob, kept.MessageID)
	in := rawMessageWithID(t, bob, refused.MessageID)
	if bareOf(in.From) != a.JID {
		t.Fatalf("bob got %s from %s, want it from %s", refused.MessageID, in.From, a.JID)
	}
	// Sent first (the server acked it): the error moves it on from there.
	waitState(t, cs, refused.ID, store.StateSent, "the server acked it")
	waitState(t, cs, kept.ID, store.StateSent, "the server acked it")
	told := make(chan struct{}, 1)
	unsub := cs.Subscribe(func(ch app.ChatChange) {
		if slices.Contains(ch.Peers, bobJID) {
			select {
			case told <- struct{}{}:
			default:
			}
		}
	})
	defer unsub()
	if err := bob.SendRaw(errorReply(in.From, refused.MessageID, "not-acceptable", "no thanks")); err != nil {
		t.Fatal(err)
	}
	m = waitFailed(t, cs, refused.ID, "bob's client refused it", "not-acceptable", "no thanks")
	if m.Body != "this one is refused" {
		t.Errorf("the refused message: %+v", m)
	}
	// Nothing else was under way in bob's conversation: a change reported
	// for it now is the error's, the one the view refreshes on.
	select {
	case <-told:
	case <-time.After(chatWait):
		t.Errorf("the message failed, but no change was reported for %s within %v: the view would still show it sent", bobJID, chatWait)
	}
	if m, err := cs.Message(ctx, kept.ID); err != nil || m.State != store.StateSent || m.Error != "" {
		t.Errorf("the message no error names: %+v %v; want it sent, without an error", m, err)
	}
	msgs = waitHistory(t, cs, bobJID, "both messages, one failed", func(msgs []store.Message) bool { return len(msgs) == 2 })
	for _, m := range msgs {
		if m.Direction != store.Out {
			t.Errorf("the error reply was stored as a message: %s", apptest.DescribeMessages(msgs))
		}
	}
}

// TestErrorReplyToACorrectionIsReported: the peer's client answers a
// correction with an error. The history keeps the corrected text (the
// user made it), and the user is told that the peer did not get it: a
// ChatChange.Problem naming the correction and the peer.
func TestErrorReplyToACorrectionIsReported(t *testing.T) {
	srv := apptest.Shared(t)
	a := srv.NewChatAccount(t, "errfix")
	a.Start(t)
	cs := a.Chats()
	ctx := chatCtx(t)
	bobJID, bobPass := srv.NewUser(t, "errfixbob")
	bob := srv.Raw(t, bobJID, bobPass, "raw")

	sent, err := cs.Send(ctx, bobJID, "teh plan")
	if err != nil {
		t.Fatal(err)
	}
	in := rawMessageWithID(t, bob, sent.MessageID)
	waitState(t, cs, sent.ID, store.StateSent, "the server acked it")
	problems := make(chan string, 4)
	unsub := cs.Subscribe(func(ch app.ChatChange) {
		if ch.Problem != "" {
			problems <- ch.Problem
		}
	})
	defer unsub()
	if err := cs.Correct(ctx, bobJID, sent, "the plan"); err != nil {
		t.Fatal(err)
	}
	ctxWait, cancel := context.WithTimeout(ctx, chatWait)
	defer cancel()
	fix, err := bob.WaitFor(ctxWait, func(m xmpptest.RawMessage) bool { return strings.Contains(m.Raw, "urn:xmpp:message-correct:0") })
	if err != nil {
		t.Fatalf("bob did not get the correction: %v", err)
	}
	if err := bob.SendRaw(errorReply(in.From, fix.ID, "not-acceptable", "no corrections here")); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-problems:
		if !strings.Contains(p, "correction") || !strings.Contains(p, bobJID) || !strings.Contains(p, "no corrections here") {
			t.Errorf("the problem reported: %q; want it to name the correction, %s and the peer's words", p, bobJID)
		}
	case <-ctxWait.Done():
		t.Fatal("bob's client refused the correction, but the user was not told")
	}
	if m, err := cs.Message(ctx, sent.ID); err != nil || m.Body != "the plan" || m.State == store.StateFailed {
		t.Errorf("the corrected message: %+v %v; want the corrected text kept, not failed", m, err)
	}
}
