// Tests that delivery states stay within their conversation, against a real
// Prosody with raw clients as the peers: a receipt, a displayed marker and
// an error reply from one peer that name the id of a message Parley sent to
// another peer change nothing, while the same from the right peer do.
package app_test

import (
	"fmt"
	"testing"

	"parley/app/apptest"
	"parley/app/store"
)

// TestStatesStayInTheirConversation: Parley writes to bob and to carol.
// Carol (who saw neither bob's message nor its id, but could guess or learn
// it) sends a receipt, a displayed marker and an error naming the message to
// bob: after each, handled before a plain message carol sends next, bob's
// message is still just sent, and carol's own message is untouched. Then
// bob's receipt makes it delivered, bob's marker read, and bob's error
// fails another message to bob.
func TestStatesStayInTheirConversation(t *testing.T) {
	srv := apptest.Shared(t)
	a := srv.NewChatAccount(t, "isol")
	a.Start(t)
	cs := a.Chats()
	ctx := chatCtx(t)
	bobJID, bobPass := srv.NewUser(t, "isolbob")
	carolJID, carolPass := srv.NewUser(t, "isolcarol")
	bob := srv.Raw(t, bobJID, bobPass, "raw")
	carol := srv.Raw(t, carolJID, carolPass, "raw")

	toBob, err := cs.Send(ctx, bobJID, "for bob only")
	if err != nil {
		t.Fatal(err)
	}
	toBob2, err := cs.Send(ctx, bobJID, "for bob, to be refused")
	if err != nil {
		t.Fatal(err)
	}
	// Carol has a conversation too: a lookup that ignored it would still
	// find bob's message by its id alone.
	toCarol, err := cs.Send(ctx, carolJID, "for carol")
	if err != nil {
		t.Fatal(err)
	}
	parley := rawMessageWithID(t, bob, toBob.MessageID).From // Parley's full JID
	rawMessageWithID(t, bob, toBob2.MessageID)
	rawMessageWithID(t, carol, toCarol.MessageID)
	for _, m := range []store.Message{toBob, toBob2, toCarol} {
		waitState(t, cs, m.ID, store.StateSent, "the server acked it")
	}

	// unchanged checks that none of Parley's messages moved.
	unchanged := func(after string) {
		t.Helper()
		for _, want := range []store.Message{toBob, toBob2, toCarol} {
			m, err := cs.Message(ctx, want.ID)
			if err != nil {
				t.Fatal(err)
			}
			if m.State != store.StateSent || m.Error != "" {
				t.Errorf("after %s, the message %q to %s is %s (error %q); want it still sent", after, m.Body, m.Conversation, m.State, m.Error)
			}
		}
	}
	// carolSync has carol send a plain message and waits until it is
	// stored: Parley handles one stream in order, so whatever carol sent
	// before has been handled by then.
	syncs := 0
	carolSync := func() {
		t.Helper()
		syncs++
		body := fmt.Sprintf("carol sync %d", syncs)
		if err := carol.SendMessage(parley, body, fmt.Sprintf("carol-sync-%d", syncs)); err != nil {
			t.Fatal(err)
		}
		waitHistory(t, cs, carolJID, body+" stored", hasBody(store.In, body))
	}

	forged := []struct{ what, stanza string }{
		{"carol's receipt for bob's message", fmt.Sprintf(`<message to='%s' id='c-rcpt'><received xmlns='urn:xmpp:receipts' id='%s'/></message>`,
			parley, toBob.MessageID)},
		{"carol's displayed marker for bob's message", fmt.Sprintf(`<message to='%s' id='c-mark' type='chat'><displayed xmlns='urn:xmpp:chat-markers:0' id='%s'/></message>`,
			parley, toBob.MessageID)},
		{"carol's error naming bob's message", errorReply(parley, toBob.MessageID, "not-acceptable", "carol says no")},
		{"carol's error naming bob's other message", errorReply(parley, toBob2.MessageID, "not-acceptable", "carol says no")},
	}
	for _, f := range forged {
		if err := carol.SendRaw(f.stanza); err != nil {
			t.Fatal(err)
		}
		carolSync()
		unchanged(f.what)
	}
	if t.Failed() {
		t.FailNow()
	}

	// The same from bob count.
	if err := bob.SendRaw(fmt.Sprintf(`<message to='%s' id='b-rcpt'><received xmlns='urn:xmpp:receipts' id='%s'/></message>`,
		parley, toBob.MessageID)); err != nil {
		t.Fatal(err)
	}
	waitState(t, cs, toBob.ID, store.StateDelivered, "bob's receipt")
	if err := bob.SendRaw(fmt.Sprintf(`<message to='%s' id='b-mark' type='chat'><displayed xmlns='urn:xmpp:chat-markers:0' id='%s'/></message>`,
		parley, toBob.MessageID)); err != nil {
		t.Fatal(err)
	}
	waitState(t, cs, toBob.ID, store.StateRead, "bob's displayed marker")
	if err := bob.SendRaw(errorReply(parley, toBob2.MessageID, "not-acceptable", "bob says no")); err != nil {
		t.Fatal(err)
	}
	m := waitFailed(t, cs, toBob2.ID, "bob's error", "not-acceptable", "bob says no")
	if m.Body != "for bob, to be refused" {
		t.Errorf("bob's error failed %+v", m)
	}
	if m, err := cs.Message(ctx, toCarol.ID); err != nil || m.State != store.StateSent {
		t.Errorf("bob's receipt, marker or error moved carol's message: %+v %v", m, err)
	}
}
