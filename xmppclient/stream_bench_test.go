// Benchmarks of the stream reader on the two stanzas that come in bulk: a
// live chat message and an archive (XEP-0313) result. One op reads one
// stanza off the stream and parses it into what the engine delivers.
package xmppclient

import "testing"

const (
	benchLive = "<message from='sender@example.org/bench' to='me@example.org' type='chat' id='b-000123'>" +
		"<body>burst message 000123: some words of an ordinary length</body>" +
		"<origin-id xmlns='urn:xmpp:sid:0' id='b-000123'/><request xmlns='urn:xmpp:receipts'/>" +
		"<markable xmlns='urn:xmpp:chat-markers:0'/><active xmlns='http://jabber.org/protocol/chatstates'/></message>"
	benchArchived = "<message to='me@example.org/parley' from='me@example.org'>" +
		"<result xmlns='urn:xmpp:mam:2' queryid='q-42' id='8c0b7a3e-5f2d-4d0e-9a61-3b2f0c1d7e55'>" +
		"<forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2024-05-06T07:08:09.123456Z'/>" +
		"<message xmlns='jabber:client' from='sender@example.org/bench' to='me@example.org' type='chat' id='b-000123'>" +
		"<body>archived message 000123: some words of an ordinary length</body>" +
		"<origin-id xmlns='urn:xmpp:sid:0' id='b-000123'/><markable xmlns='urn:xmpp:chat-markers:0'/>" +
		"</message></forwarded></result></message>"
)

// repeatReader is a stream header followed by one stanza over and over.
type repeatReader struct {
	pending string
	stanza  string
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.pending == "" {
		r.pending = r.stanza
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	return n, nil
}

func benchmarkReader(b *testing.B, stanza string, check func(*testing.B, element)) {
	er := newElementReader(&repeatReader{pending: testHeader, stanza: stanza})
	if _, err := er.readHeader(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(stanza)))
	b.ReportAllocs()
	for b.Loop() {
		el, err := er.next()
		if err != nil {
			b.Fatal(err)
		}
		check(b, el)
	}
}

func BenchmarkReadLiveMessage(b *testing.B) {
	benchmarkReader(b, benchLive, func(b *testing.B, el element) {
		if el.msg == nil || el.msg.bad != nil || el.msg.msg.Body == "" {
			b.Fatalf("not parsed: %#v", el.msg)
		}
	})
}

func BenchmarkReadArchiveResult(b *testing.B) {
	benchmarkReader(b, benchArchived, func(b *testing.B, el element) {
		if f := el.msg.result.forwarded(); f == nil || f.msg == nil || f.msg.msg.Body == "" || len(f.raw) == 0 {
			b.Fatalf("not parsed: %#v", el.msg)
		}
	})
}
