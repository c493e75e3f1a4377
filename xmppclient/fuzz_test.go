// Fuzz targets over the stream reader and stanza decoding: whatever the
// network sends, the reader must not panic, must not grow without bound,
// and a well-formed stanza after a bad one must still arrive intact. The
// seed corpus (f.Add below and testdata/fuzz) runs in every `go test`.
package xmppclient

import (
	"errors"
	"strings"
	"testing"

	"gosrc.io/xmpp/stanza"
)

var fuzzSeeds = []string{
	"<message from='a@b/c' type='chat' id='1'><body>hi</body></message>",
	"<message><body>x</body><unknown xmlns='urn:x:y'><nested><deeper a='1'/></nested></unknown></message>",
	"<message from='me@example.org'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message from='evil@x' to='me@example.org'><body>junk<b></b></body><x xmlns='jabber:x:oob'><url>javascript:1</url></x></message></forwarded></received></message>",
	"<iq type='get' id='q1' from='x@y'><query xmlns='jabber:iq:version'/></iq>",
	"<iq type='result' id='r1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>a@b/c</jid></bind></iq>",
	"<iq type='set' id='s' from='x'><query xmlns='jabber:iq:roster'><item jid='a@b' subscription='both'><group>g</group></item></query></iq>",
	"<iq type='error' id='e'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
	"<presence from='a@b/c'><show>away</show><priority>abc</priority></presence>",
	"<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='v'/><x xmlns='vcard-temp:x:update'><photo/></x></presence>",
	"<a xmlns='urn:xmpp:sm:3' h='4294967295'/>",
	"<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
	"<message><body>&amp;&lt;&#x1F600;</body></message>",
	"<message xml:lang='de'><subject>s</subject><thread>t</thread><body>b</body><error type='modify'><bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>",
	"<iq type='result' id='d'><query xmlns='http://jabber.org/protocol/disco#items'><item jid='upload.x'/></query></iq>",
	"<foo:bar xmlns:foo='urn:unknown'/>",
	"<message><event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:avatar:metadata'><item id='1'/></items></event></message>",
}

const sentinel = "<message from='peer@example.org/r' id='sentinel'><body>still here</body></message>"

func addSeeds(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
}

// FuzzStreamReader feeds arbitrary bytes after a stream header and checks
// that reading and decoding never panic.
func FuzzStreamReader(f *testing.F) {
	addSeeds(f)
	f.Add([]byte("<message><body>unterminated"))
	f.Add([]byte("</stream:stream>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		er := newElementReader(strings.NewReader(testHeader + string(data)))
		h, err := er.readHeader()
		if err != nil {
			t.Fatalf("readHeader: %v", err)
		}
		for i := 0; i < 1000; i++ {
			el, err := er.next()
			if err != nil {
				return
			}
			_, _ = decodeStanza(h, el.Raw)
			_ = firstChildName(h, el.Raw)
			var dc definedCondition
			_ = decodeElement(h, el.Raw, &dc)
			var f streamFeatures
			_ = decodeElement(h, el.Raw, &f)
			if len(er.rec.buf) > maxElementSize+128<<10 {
				t.Fatalf("reader buffer grew to %d bytes", len(er.rec.buf))
			}
		}
	})
}

// FuzzNextStanzaSurvives: if a fuzzed element is well-formed, the message
// after it arrives and decodes intact, whatever happened to the first one.
func FuzzNextStanzaSurvives(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		er := newElementReader(strings.NewReader(testHeader + string(data) + sentinel))
		h, err := er.readHeader()
		if err != nil {
			t.Fatalf("readHeader: %v", err)
		}
		var els []element
		for {
			el, err := er.next()
			if err != nil {
				var pe *ProtocolError
				if errors.As(err, &pe) || errors.Is(err, errStreamClosed) {
					return // not well-formed (or closes the stream): the stream legitimately ends
				}
				break
			}
			els = append(els, el)
		}
		if len(els) == 0 {
			return // an unclosed element in the fuzz data swallowed the sentinel
		}
		last := els[len(els)-1]
		if string(last.Raw) != sentinel {
			return // the fuzz data swallowed the sentinel as part of its own (unclosed) element
		}
		for _, el := range els[:len(els)-1] {
			_, _ = decodeStanza(h, el.Raw)
		}
		pkt, err := decodeStanza(h, last.Raw)
		if err != nil {
			t.Fatalf("sentinel did not decode after %q: %v", data, err)
		}
		m, ok := pkt.(stanza.Message)
		if !ok || m.Body != "still here" || m.Id != "sentinel" {
			t.Fatalf("sentinel decoded wrongly: %#v", pkt)
		}
	})
}

// FuzzPayloadParsers runs the extension parsers (messages, carbons,
// archive results, roster and block-list payloads, avatar events,
// presence) over arbitrary element bytes: they must fail cleanly, never panic.
func FuzzPayloadParsers(f *testing.F) {
	addSeeds(f)
	f.Add([]byte("<message from='a@b' id='1'><body>x</body><origin-id xmlns='urn:xmpp:sid:0' id='o'/><stanza-id xmlns='urn:xmpp:sid:0' by='a@b' id='s'/><delay xmlns='urn:xmpp:delay' stamp='2002-09-10T23:08:25Z'/><request xmlns='urn:xmpp:receipts'/><displayed xmlns='urn:xmpp:chat-markers:0' id='m'/><composing xmlns='http://jabber.org/protocol/chatstates'/><replace xmlns='urn:xmpp:message-correct:0' id='r'/><x xmlns='jabber:x:oob'><url>https://x/y</url></x></message>"))
	f.Add([]byte("<message from='me@x'><result xmlns='urn:xmpp:mam:2' queryid='q' id='1'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='bad'/><message xml:lang='en' from='a@b' xmlns='jabber:client'><body>y</body></message></forwarded></result></message>"))
	f.Add([]byte("<iq type='set'><block xmlns='urn:xmpp:blocking'><item jid='@@'/></block></iq>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ParseMessage(data)
		var cw carbonWire
		if decodeElement(streamHeader{}, data, &cw) == nil {
			if cw.Received != nil {
				if inner := cw.Received.Forwarded.rebuild(); inner != nil {
					_, _ = ParseMessage(inner)
				}
			}
		}
		var mw mamResultWire
		if decodeElement(streamHeader{}, data, &mw) == nil && mw.Result != nil {
			if inner := mw.Result.Forwarded.rebuild(); inner != nil {
				_, _ = ParseMessage(inner)
			}
		}
		var rq rosterQuery
		if DecodeIQPayload(data, &rq) == nil {
			for _, it := range rq.Items {
				_, _ = it.item()
			}
		}
		var bc blockCmd
		_ = DecodeIQPayload(data, &bc)
		var pe pepEvent
		_ = decodeElement(streamHeader{}, data, &pe)
		if pkt, err := decodeStanza(streamHeader{}, data); err == nil {
			if p, ok := pkt.(stanza.Presence); ok {
				_, _ = ParsePresence(p)
			}
		}
	})
}
