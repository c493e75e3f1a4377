// Unit tests of the element reader, stanza decoding, caps, backoff and the
// IQ sender check — the parts of the engine that need no server.
package xmppclient

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const testHeader = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='example.org' version='1.0'>"

func readElements(t *testing.T, body string) ([]element, error) {
	t.Helper()
	er := newElementReader(strings.NewReader(testHeader + body))
	h, err := er.readHeader()
	if err != nil {
		t.Fatalf("readHeader: %v", err)
	}
	if h.ID != "s1" || h.From != "example.org" {
		t.Fatalf("header = %+v", h)
	}
	var out []element
	for {
		el, err := er.next()
		if err != nil {
			return out, err
		}
		out = append(out, el)
	}
}

func TestElementReaderSplitsTopLevelElements(t *testing.T) {
	body := " \n<message from='a@b/c' id='1'><body>one</body></message> " +
		"<presence/>\n\n<iq type='get' id='x'><ping xmlns='urn:xmpp:ping'/></iq></stream:stream>"
	els, err := readElements(t, body)
	if !errors.Is(err, errStreamClosed) {
		t.Fatalf("want errStreamClosed at the end, got %v", err)
	}
	if len(els) != 3 {
		t.Fatalf("got %d elements, want 3", len(els))
	}
	if string(els[0].Raw) != "<message from='a@b/c' id='1'><body>one</body></message>" {
		t.Errorf("raw of the first element = %q", els[0].Raw)
	}
	if els[1].Start.Name.Local != "presence" || els[1].Start.Name.Space != nsClient {
		t.Errorf("second element = %v", els[1].Start.Name)
	}
	if els[2].attr("id") != "x" {
		t.Errorf("iq id = %q", els[2].attr("id"))
	}
}

func TestStanzaThatDoesNotDecodeIsSkippedAndTheNextArrives(t *testing.T) {
	// The first message has a nested payload stanza's Message decoder
	// cannot take (a non-integer where an int is expected); the reader
	// must still hand over the next message whole.
	body := "<presence><priority>not-a-number</priority></presence>" +
		"<message id='2'><body>next</body></message>"
	els, err := readElements(t, body)
	if err == nil || len(els) != 2 {
		t.Fatalf("want 2 elements then EOF, got %d, %v", len(els), err)
	}
	h := streamHeader{}
	if _, err := decodeStanza(h, els[0].Raw); err == nil {
		t.Fatalf("the broken presence decoded; the test needs an undecodable stanza")
	}
	if m := els[1].msg; m == nil || m.bad != nil || m.msg.Body != "next" {
		t.Fatalf("next = %#v", m)
	}
}

func TestElementReaderRejectsMalformedXML(t *testing.T) {
	_, err := readElements(t, "<message><body>x</message>")
	var pe *ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("want a ProtocolError for malformed XML, got %v", err)
	}
}

func TestStreamFeaturesAndErrors(t *testing.T) {
	body := "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>" +
		"<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms>" +
		"<sm xmlns='urn:xmpp:sm:3'/></stream:features>" +
		"<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Replaced</text></stream:error>"
	els, _ := readElements(t, body)
	if len(els) != 2 {
		t.Fatalf("got %d elements", len(els))
	}
	var f streamFeatures
	if err := decodeElement(streamHeader{}, els[0].Raw, &f); err != nil {
		t.Fatal(err)
	}
	if f.StartTLS == nil || f.StartTLS.Required == nil || f.SM == nil || len(f.Mechanisms) != 2 || f.Bind != nil {
		t.Errorf("features = %+v", f)
	}
	err := streamErrorOf(streamHeader{}, els[1])
	var se *StreamError
	if !errors.As(err, &se) || se.Condition != "conflict" || se.Text != "Replaced" {
		t.Errorf("stream error = %#v", err)
	}
	if !isFatalStreamError(err) {
		t.Errorf("conflict should stop reconnecting")
	}
}

func TestCapsVerMatchesXEP0115Example(t *testing.T) {
	// XEP-0115 §5.2 simple generation example.
	ids := []DiscoIdentity{{Category: "client", Type: "pc", Name: "Exodus 0.9.1"}}
	feats := []string{"http://jabber.org/protocol/disco#info", "http://jabber.org/protocol/disco#items",
		"http://jabber.org/protocol/muc", "http://jabber.org/protocol/caps"}
	if got := capsVer(ids, feats); got != "QgayPKawpkPSDYmwT/WM94uAlu0=" {
		t.Errorf("capsVer = %q", got)
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	minD, maxD := time.Second, 60*time.Second
	for i := 0; i < 50; i++ {
		if d := backoff(1, minD, maxD); d > minD/4 {
			t.Fatalf("first retry waits %v", d)
		}
		if d := backoff(3, minD, maxD); d < 2*time.Second || d > 4*time.Second {
			t.Fatalf("third attempt waits %v, want 2-4 s", d)
		}
		if d := backoff(30, minD, maxD); d < 30*time.Second || d > maxD {
			t.Fatalf("attempt 30 waits %v, want 30-60 s", d)
		}
	}
}

func TestChooseMechanismPrefersStrongest(t *testing.T) {
	for offered, want := range map[string]string{
		"PLAIN SCRAM-SHA-1":               "SCRAM-SHA-1",
		"PLAIN SCRAM-SHA-1 SCRAM-SHA-256": "SCRAM-SHA-256",
		"PLAIN":                           "PLAIN",
		"DIGEST-MD5 X-OAUTH2":             "",
	} {
		got, _ := chooseMechanism(strings.Fields(offered))
		if got != want {
			t.Errorf("chooseMechanism(%s) = %q, want %q", offered, got, want)
		}
	}
}

func TestReplyFromExpected(t *testing.T) {
	c := &Client{cfg: Config{JID: MustParseJID("me@example.org")}, jid: MustParseJID("me@example.org/r")}
	cases := []struct {
		to, from string
		ok       bool
	}{
		{"", "", true},
		{"", "example.org", true},
		{"", "me@example.org", true},
		{"", "me@example.org/r", true},
		{"", "evil@example.org", false},
		{"bob@example.org/x", "bob@example.org/x", true},
		{"bob@example.org/x", "Bob@Example.org/x", true},
		{"bob@example.org/x", "bob@example.org/y", false},
		{"bob@example.org/x", "", false},
		{"me@example.org", "", true},
		{"upload.example.org", "evil.example.org", false},
	}
	for _, tc := range cases {
		if got := c.replyFromExpected(tc.to, tc.from); got != tc.ok {
			t.Errorf("replyFromExpected(to=%q, from=%q) = %v, want %v", tc.to, tc.from, got, tc.ok)
		}
	}
}

func TestNestedBodyDoesNotLeakOntoOuterMessage(t *testing.T) {
	raw := "<message from='evil@example.org/x' to='me@example.org'><received xmlns='urn:xmpp:carbons:2'>" +
		"<forwarded xmlns='urn:xmpp:forward:0'><message from='me@example.org/y' to='bob@example.org'>" +
		"<body>forged</body></message></forwarded></received>" +
		"<x xmlns='urn:unknown'><body xmlns='jabber:client'>hidden</body></x></message>"
	im, err := parseMessageBytes(streamHeader{}, []byte(raw), true)
	if err != nil {
		t.Fatal(err)
	}
	if im.msg.Body != "" {
		t.Fatalf("a nested body leaked onto the outer message: %q", im.msg.Body)
	}
	// The inner message is in the carbons namespace here (no xmlns of its
	// own): not a forwarded message at all.
	if im.carbon == nil || im.carbon.forwarded() == nil || im.carbon.fwd.msg != nil {
		t.Fatalf("carbon = %#v", im.carbon)
	}
	im, err = parseMessageBytes(streamHeader{}, []byte("<message><body xmlns='urn:not:client'>no</body><body>yes</body><body xml:lang='de'>ja</body></message>"), true)
	if err != nil {
		t.Fatal(err)
	}
	if im.msg.Body != "yes" {
		t.Fatalf("body = %q, want the first client-namespace body", im.msg.Body)
	}
}

func TestArchiveResultParsedInOnePass(t *testing.T) {
	inner := "<message xmlns='jabber:client' from='bob@example.org/x' to='me@example.org' id='m1' type='chat'>" +
		"<body>hi &amp; bye</body><origin-id xmlns='urn:xmpp:sid:0' id='o1'/></message>"
	body := "<message from='me@example.org' to='me@example.org/r'><result xmlns='urn:xmpp:mam:2' queryid='q1' id='A1'>" +
		"<forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2020-01-02T03:04:05Z'/>" + inner +
		"</forwarded></result></message><presence/>"
	els, _ := readElements(t, body)
	if len(els) != 2 || els[0].msg == nil || els[1].msg != nil {
		t.Fatalf("elements = %#v", els)
	}
	r := els[0].msg.result
	if r == nil || r.queryID != "q1" || r.id != "A1" || r.forwarded() == nil || r.fwd.msg == nil {
		t.Fatalf("result = %#v", r)
	}
	f := r.fwd
	if string(f.raw) != inner {
		t.Errorf("forwarded bytes = %q, want %q", f.raw, inner)
	}
	if want := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC); !f.stamp.Equal(want) {
		t.Errorf("stamp = %v", f.stamp)
	}
	m := f.msg.msg
	if m.Body != "hi & bye" || m.ID != "m1" || m.OriginID != "o1" || m.From.String() != "bob@example.org/x" || m.Type != "chat" {
		t.Errorf("message = %#v", m)
	}
	if again, err := ParseMessage(f.raw); err != nil || again.Body != m.Body || again.OriginID != "o1" {
		t.Errorf("the forwarded bytes alone: %#v, %v", again, err)
	}
}
