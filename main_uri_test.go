// Tests of the xmpp: URI query (RFC 5122): the action and the message body
// an xmpp: link hands to the chat it opens.
package main

import "testing"

func TestXMPPURIQuery(t *testing.T) {
	for _, tc := range []struct {
		in, action, body string
	}{
		{"xmpp:bob@example.org", "", ""},
		{"xmpp:bob@example.org?message", "message", ""},
		{"xmpp:bob@example.org?message;body=hi", "message", "hi"},
		{"xmpp:bob@example.org?message;subject=x;body=hi%20there%21", "message", "hi there!"},
		{"xmpp:bob@example.org?Message;body=1+1%3D2", "message", "1+1=2"},
		{"xmpp:bob@example.org?message;body=caf%C3%A9;body=second", "message", "café"},
		{"xmpp:room@conference.example.org?join", "join", ""},
	} {
		u, err := parseXMPPURI(tc.in)
		if err != nil {
			t.Fatalf("parseXMPPURI(%q): %v", tc.in, err)
		}
		action, params := xmppURIQuery(u)
		if action != tc.action || params["body"] != tc.body {
			t.Errorf("%q: action %q body %q, want %q %q", tc.in, action, params["body"], tc.action, tc.body)
		}
	}
}
