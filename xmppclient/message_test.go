// Unit tests of message details that need no server: the type of a
// message without one (RFC 6121: normal), on the stream and forwarded, and
// the size a body takes escaped in a stanza.
package xmppclient

import (
	"strings"
	"testing"
)

func TestMessageTypeDefaultsToNormal(t *testing.T) {
	for _, c := range []struct{ attr, want string }{
		{"", "normal"},
		{" type=''", "normal"},
		{" type='bogus'", "normal"},
		{" type='normal'", "normal"},
		{" type='chat'", "chat"},
		{" type='headline'", "headline"},
		{" type='groupchat'", "groupchat"},
		{" type='error'", "error"},
	} {
		raw := "<message xmlns='jabber:client' from='bob@example.org/x' to='me@example.org/r' id='m1'" + c.attr + "><body>hi</body></message>"
		m, err := ParseMessage([]byte(raw))
		if err != nil || m.Type != c.want {
			t.Errorf("ParseMessage(%s): type %q (%v), want %q", raw, m.Type, err, c.want)
		}
		// As read on the stream, and as a carbon's forwarded message.
		els, _ := readElements(t, raw)
		if len(els) != 1 || els[0].msg == nil || els[0].msg.msg.Type != c.want {
			t.Errorf("on the stream, %s: %#v, want type %q", raw, els, c.want)
		}
		carbon := "<message from='me@example.org' to='me@example.org/r'><received xmlns='urn:xmpp:carbons:2'>" +
			"<forwarded xmlns='urn:xmpp:forward:0'>" + raw + "</forwarded></received></message>"
		els, _ = readElements(t, carbon)
		if len(els) != 1 || els[0].msg == nil || els[0].msg.carbon == nil || els[0].msg.carbon.forwarded() == nil ||
			els[0].msg.carbon.forwarded().msg == nil || els[0].msg.carbon.forwarded().msg.msg.Type != c.want {
			t.Errorf("forwarded in a carbon, %s: want type %q", raw, c.want)
		}
	}
}

func TestEncodedTextSize(t *testing.T) {
	for _, s := range []string{"", "plain", "a < b && c > d", "line\nbreak\r\ttab", `'quotes' "too"`,
		"é漢🙂", "bad \xff utf-8", strings.Repeat("<&>\n", 1000)} {
		want := len(xmlEscape(s))
		if got := EncodedTextSize(s); got != want {
			t.Errorf("EncodedTextSize(%q) = %d, want %d", s, got, want)
		}
		// The body's bytes in the stanza Encode writes.
		if s == "" {
			continue
		}
		o := OutgoingMessage{To: JID{Local: "bob", Domain: "example.org"}, ID: "x", Body: s}
		enc := string(o.Encode())
		start, end := strings.Index(enc, "<body>")+len("<body>"), strings.Index(enc, "</body>")
		if end-start != EncodedTextSize(s) {
			t.Errorf("Encode wrote a body of %d bytes for %q, EncodedTextSize says %d", end-start, s, EncodedTextSize(s))
		}
	}
	if n := EncodedTextSize(strings.Repeat("<", 100)); n != 400 {
		t.Errorf("100 '<' take %d bytes, want 400", n)
	}
}

// TestLegacyRetractionIsParsed: the older form of XEP-0424 (a XEP-0422
// <apply-to> naming the message, wrapping the old namespace's <retract/>)
// reads as a retraction of that message, like the current form; an
// <apply-to> wrapping something else retracts nothing.
func TestLegacyRetractionIsParsed(t *testing.T) {
	const head = "<message xmlns='jabber:client' from='bob@example.org/x' to='me@example.org/r' id='r1' type='chat'>" +
		"<body>This person attempted to retract a previous message, but it's unsupported by your client.</body>"
	for _, c := range []struct{ name, payload, want string }{
		{"current", "<retract xmlns='urn:xmpp:message-retract:1' id='m1'/><fallback xmlns='urn:xmpp:fallback:0' for='urn:xmpp:message-retract:1'/>", "m1"},
		{"legacy", "<apply-to xmlns='urn:xmpp:fasten:0' id='m2'><retract xmlns='urn:xmpp:message-retract:0'/></apply-to><fallback xmlns='urn:xmpp:fallback:0'/>", "m2"},
		{"legacy, prefixed", "<f:apply-to xmlns:f='urn:xmpp:fasten:0' id='m3'><r:retract xmlns:r='urn:xmpp:message-retract:0'/></f:apply-to>", "m3"},
		{"apply-to of something else", "<apply-to xmlns='urn:xmpp:fasten:0' id='m4'><external xmlns='urn:xmpp:fasten:0' name='body'/></apply-to>", ""},
		{"legacy without an id", "<apply-to xmlns='urn:xmpp:fasten:0'><retract xmlns='urn:xmpp:message-retract:0'/></apply-to>", ""},
	} {
		raw := head + c.payload + "</message>"
		m, err := ParseMessage([]byte(raw))
		if err != nil || m.Retracts != c.want {
			t.Errorf("%s: Retracts = %q (%v), want %q", c.name, m.Retracts, err, c.want)
		}
		els, _ := readElements(t, raw)
		if len(els) != 1 || els[0].msg == nil || els[0].msg.msg.Retracts != c.want {
			t.Errorf("%s, on the stream: want Retracts %q", c.name, c.want)
		}
	}
}
