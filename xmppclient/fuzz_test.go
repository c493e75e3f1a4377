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
