// Test of a correction (XEP-0308) of a message Parley never received,
// sent by a real slixmpp peer that asks for a receipt: nothing is
// acknowledged while the correction waits for its message, then it is
// shown as a message of its own, marked edited and searchable, and only
// then does the receipt go back.
package app_test

import (
	"testing"
	"time"

	"parley/app"
	"parley/app/apptest"
	"parley/app/store"
)

func TestCorrectionOfAnUnseenMessageIsShownBeforeItsReceipt(t *testing.T) {
	srv := apptest.Shared(t)
	a := srv.NewChatAccount(t, "orphan")
	a.Adjust = func(o *app.Options) { o.PendingEditWait = time.Second }
	a.Start(t)
	cs := a.Chats()
	bobJID, bobPass := srv.NewUser(t, "slix")
	bob := srv.Slixmpp(t, bobJID, bobPass)
	ctx := chatCtx(t)
	letSeePresence(t, a, bobJID, func() error { return bob.Subscribe(a.JID, "", "") })

	if err := bob.SendRaw("<message to='" + a.JID + "' id='fix-1' type='chat'><body>the fixed text</body>" +
		"<replace xmlns='urn:xmpp:message-correct:0' id='never-sent'/><request xmlns='urn:xmpp:receipts'/></message>"); err != nil {
		t.Fatal(err)
	}
	// A message after it, answered: Parley has handled the correction by
	// then, and a receipt for it would have come first (one stream, in order).
	if err := bob.SendOpts(a.JID, "and another thing", "after-1", true, false); err != nil {
		t.Fatal(err)
	}
	waitSlix(t, bob, "the receipt of the message after the correction", receiptFor("after-1"))
	if n := slixReceipts(bob)["fix-1"]; n != 0 {
		t.Fatalf("a receipt for the waiting correction went out while it was not shown (%d)", n)
	}
	if msgs, err := apptest.History(ctx, cs, bobJID); err != nil || len(msgs) != 1 {
		t.Fatalf("history while the correction waits: %s (%v); want only the message after it", apptest.DescribeMessages(msgs), err)
	}

	msgs := waitHistory(t, cs, bobJID, "the correction shown alone", hasBody(store.In, "the fixed text"))
	var shown store.Message
	for _, m := range msgs {
		if m.Body == "the fixed text" {
			shown = m
		}
	}
	if !shown.Edited || shown.MessageID != "fix-1" {
		t.Errorf("shown as %+v; want it marked edited, with its own id", shown)
	}
	waitSlix(t, bob, "the receipt of the shown correction", receiptFor("fix-1"))
	res, err := cs.Search(ctx, store.Query{Text: "fixed"})
	if err != nil || len(res) != 1 || res[0].ID != shown.ID {
		t.Errorf("search for the correction's text: %+v, %v; want the shown message", res, err)
	}
}
