// Test of the typing hint's lifetime: a peer whose client sends
// "composing" and then nothing (it crashed, or lost the network) is shown
// paused after a while, not typing for ever.
package app_test

import (
	"fmt"
	"testing"
	"time"

	"parley/app"
	"parley/app/apptest"
	"parley/xmppclient"
)

func TestComposingWithoutFollowUpTurnsPaused(t *testing.T) {
	defer app.SetTypingTimeout(300 * time.Millisecond)()
	srv := apptest.Shared(t)
	a := srv.NewChatAccount(t, "typing")
	bobJID, bobPass := srv.NewUser(t, "typebob")
	bob := srv.Raw(t, bobJID, bobPass, "raw")
	a.Start(t)
	cs := a.Chats()
	if err := bob.SendRaw(fmt.Sprintf(`<message to='%s' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`, a.JID)); err != nil {
		t.Fatal(err)
	}
	apptest.WaitChats(t, cs, "bob shown composing", chatWait, func() (bool, string) {
		s := cs.Typing(bobJID)
		return s == xmppclient.StateComposing || s == xmppclient.StatePaused, s
	})
	apptest.WaitChats(t, cs, "bob's composing timed out to paused", chatWait, func() (bool, string) {
		s := cs.Typing(bobJID)
		return s == xmppclient.StatePaused, s
	})
}
