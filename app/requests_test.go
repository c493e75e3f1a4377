// Tests of message requests against the real Prosody, with slixmpp
// peers that are not in the roster: their conversations stay out of the
// list and the unread count, nothing tells them we read or type until the
// request is accepted, Dismiss deletes a request (a new message brings it
// back), and a contact's conversation is never a request.
package app_test

import (
	"context"
	"testing"

	"parley/app"
	"parley/app/apptest"
	"parley/app/store"
	"parley/xmppclient"
	"parley/xmppclient/xmpptest"
)

// listedPeers are the peers of convs.
func listedPeers(convs []store.Conversation) map[string]bool {
	m := map[string]bool{}
	for _, c := range convs {
		m[c.Peer] = true
	}
	return m
}

// waitRequest waits until peer's conversation is a message request.
func waitRequest(t *testing.T, cs *app.ChatService, peer string) {
	t.Helper()
	ctx := chatCtx(t)
	apptest.WaitChats(t, cs, "a message request from "+peer, chatWait, func() (bool, string) {
		reqs, err := cs.MessageRequests(ctx)
		if err != nil {
			return false, err.Error()
		}
		return listedPeers(reqs)[peer], apptest.DescribeConversations(reqs)
	})
}

func TestMessageRequestFromAStranger(t *testing.T) {
	srv := apptest.Shared(t)
	a := srv.NewChatAccount(t, "requests")
	a.Start(t)
	cs := a.Chats()
	ctx := chatCtx(t)
	spamJID, spamPass := srv.NewUser(t, "stranger")
	spam := srv.Slixmpp(t, spamJID, spamPass)
	friendJID, friendPass := srv.NewUser(t, "friend")
	friend := srv.Slixmpp(t, friendJID, friendPass)
	letSeePresence(t, a, friendJID, func() error { return friend.Subscribe(a.JID, "", "") })

	if err := spam.SendOpts(a.JID, "cheap watches, click here", "spam-1", true, true); err != nil {
		t.Fatal(err)
	}
	if err := friend.Send(a.JID, "hi, it's me", "friend-1"); err != nil {
		t.Fatal(err)
	}
	waitRequest(t, cs, spamJID)
	waitHistory(t, cs, friendJID, "the friend's message", hasBody(store.In, "hi, it's me"))
	convs, err := cs.Conversations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if listed := listedPeers(convs); listed[spamJID] || !listed[friendJID] {
		t.Errorf("conversation list %v: want the friend's, not the stranger's", listed)
	}
	if n, err := cs.UnreadTotal(ctx); err != nil || n != 1 {
		t.Errorf("unread total %d (%v), want 1: the request is not counted", n, err)
	}
	if req, err := cs.IsRequest(ctx, friendJID); err != nil || req {
		t.Errorf("the friend's conversation is a request (%v)", err)
	}

	// Reading and typing before accepting: the stranger learns nothing.
	msgs := waitHistory(t, cs, spamJID, "the stranger's message", hasBody(store.In, "cheap watches, click here"))
	if err := cs.MarkRead(ctx, spamJID, msgs[len(msgs)-1]); err != nil {
		t.Fatal(err)
	}
	if err := cs.SendChatState(spamJID, xmppclient.StateComposing); err != nil {
		t.Fatal(err)
	}
	if err := cs.AcceptRequest(ctx, spamJID); err != nil {
		t.Fatal(err)
	}
	if convs, err = cs.Conversations(ctx); err != nil || !listedPeers(convs)[spamJID] {
		t.Errorf("after Accept, the list %v (%v) lacks the conversation", listedPeers(convs), err)
	}
	// One stream, in order: a chat state sent before this one would
	// have arrived first.
	if err := cs.SendChatState(spamJID, xmppclient.StatePaused); err != nil {
		t.Fatal(err)
	}
	waitSlix(t, spam, "the chat state after Accept", func(e xmpptest.PeerEvent) bool { return e.ChatState == xmppclient.StatePaused })
	if ev, ok := slixHas(spam, func(e xmpptest.PeerEvent) bool {
		return e.Event == "message" && (e.ChatState == xmppclient.StateComposing || e.ReceiptFor != "" || e.Marker != "")
	}); ok {
		t.Errorf("the stranger learned something before Accept: %+v", ev)
	}
}

func TestDismissedRequestComesBackWithANewMessage(t *testing.T) {
	srv := apptest.Shared(t)
	a := srv.NewChatAccount(t, "dismiss")
	a.Start(t)
	cs := a.Chats()
	ctx := chatCtx(t)
	spamJID, spamPass := srv.NewUser(t, "stranger")
	spam := srv.Slixmpp(t, spamJID, spamPass)

	if err := spam.Send(a.JID, "first wave", "w-1"); err != nil {
		t.Fatal(err)
	}
	waitRequest(t, cs, spamJID)
	if err := cs.DismissRequest(ctx, spamJID); err != nil {
		t.Fatal(err)
	}
	reqs, err := cs.MessageRequests(ctx)
	if err != nil || listedPeers(reqs)[spamJID] {
		t.Fatalf("after Dismiss, requests %s (%v)", apptest.DescribeConversations(reqs), err)
	}
	if msgs, err := apptest.History(ctx, cs, spamJID); err != nil || len(msgs) != 0 {
		t.Errorf("after Dismiss, the history holds %s (%v)", apptest.DescribeMessages(msgs), err)
	}
	if err := spam.Send(a.JID, "second wave", "w-2"); err != nil {
		t.Fatal(err)
	}
	waitRequest(t, cs, spamJID)
	// A conversation is not a request: Dismiss refuses it.
	if _, err := cs.StartConversation(context.Background(), spamJID); err != nil {
		t.Fatal(err)
	}
	if err := cs.DismissRequest(ctx, spamJID); err == nil {
		t.Error("Dismiss deleted an accepted conversation")
	}
}
