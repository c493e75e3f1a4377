// Fuzz targets over the stream reader and stanza decoding: whatever the
// network sends, the reader must not panic, must not grow without bound,
// and a well-formed stanza after a bad one must still arrive intact. The
// seed corpus (f.Add below and testdata/fuzz) runs in every `go test`.
package xmppclient

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"reflect"
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
	"<message from='a@b/c' type='chat'><body>fallback</body><apply-to xmlns='urn:xmpp:fasten:0' id='m1'><retract xmlns='urn:xmpp:message-retract:0'/><apply-to id='x'/></apply-to></message>",
	"<message from='a@b/c'><file-sharing xmlns='urn:xmpp:sfs:0' disposition='inline'><file xmlns='urn:xmpp:file:metadata:0'><size>-1</size><dimensions>9x</dimensions><name>a/../b</name><thumbnail xmlns='urn:xmpp:thumbs:1' uri='data:image/png;base64,!!'/></file><sources><url-data xmlns='http://jabber.org/protocol/url-data' target='https://x/y'/></sources></file-sharing></message>",
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
			_, _ = parseMessageBytes(h, el.Raw, true)
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
		if last.msg == nil || last.msg.bad != nil {
			t.Fatalf("sentinel not parsed after %q: %#v", data, last.msg)
		}
		if m := last.msg.msg; m.Body != "still here" || m.ID != "sentinel" || m.From.String() != "peer@example.org/r" {
			t.Fatalf("sentinel parsed wrongly after %q: %#v", data, m)
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
		if im, err := parseMessageBytes(streamHeader{}, data, true); err == nil {
			checkForwardedRaw(t, data, im)
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

// FuzzMessageParser: a message parsed by the stream reader as it reads it
// (one pass over the stream's tokens) and the same bytes parsed on their
// own agree exactly, forwarded messages' bytes included; neither panics.
func FuzzMessageParser(f *testing.F) {
	addSeeds(f)
	for _, s := range messageSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		er := newElementReader(strings.NewReader(testHeader + string(data)))
		h, err := er.readHeader()
		if err != nil {
			t.Fatalf("readHeader: %v", err)
		}
		for i := 0; i < 100; i++ {
			el, err := er.next()
			if err != nil {
				return
			}
			isMessage := el.Start.Name.Space == nsClient && el.Start.Name.Local == "message"
			if isMessage != (el.msg != nil) {
				t.Fatalf("<%s xmlns='%s'> parsed as a message: %v", el.Start.Name.Local, el.Start.Name.Space, el.msg != nil)
			}
			if !isMessage {
				continue
			}
			again, err := parseMessageBytes(h, el.Raw, true)
			if err != nil {
				t.Fatalf("the reader parsed %q, alone it fails: %v", el.Raw, err)
			}
			if !reflect.DeepEqual(el.msg, again) {
				t.Fatalf("the reader and the bytes parser differ on %q:\n%#v\n%#v", el.Raw, el.msg, again)
			}
			checkForwardedRaw(t, el.Raw, el.msg)
		}
	})
}

// checkForwardedRaw: a forwarded message's bytes are one element cut out
// of the stanza, and parse to the message found in the stanza when it
// declares its own namespace.
func checkForwardedRaw(t *testing.T, outer []byte, im *incomingMessage) {
	for _, f := range []*forwarded{im.result.forwarded(), im.carbon.forwarded()} {
		if f == nil || f.msg == nil {
			continue
		}
		if !bytes.HasPrefix(f.raw, []byte("<")) || !bytes.HasSuffix(f.raw, []byte(">")) || !bytes.Contains(outer, f.raw) {
			t.Fatalf("forwarded bytes %q are not an element of %q", f.raw, outer)
		}
		if !standalone(f.raw) {
			continue // it uses a namespace declared by its ancestors
		}
		alone, err := parseMessageBytes(streamHeader{}, f.raw, false)
		if err != nil || !reflect.DeepEqual(alone, f.msg) {
			t.Fatalf("forwarded bytes %q alone: %v\n%#v\nin the stanza:\n%#v", f.raw, err, alone, f.msg)
		}
	}
}

// standalone: raw declares the client namespace on its start tag and uses
// no prefix but xml:, so it means the same on its own.
func standalone(raw []byte) bool {
	dec := xml.NewDecoder(bytes.NewReader(raw))
	for i := 0; ; i++ {
		tok, err := dec.RawToken()
		if err != nil {
			return err == io.EOF
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			if ee, ok := tok.(xml.EndElement); ok && ee.Name.Space != "" {
				return false
			}
			continue
		}
		if se.Name.Space != "" {
			return false
		}
		declared := false
		for _, a := range se.Attr {
			switch {
			case a.Name.Space == "" && a.Name.Local == "xmlns":
				declared = a.Value == nsClient
			case a.Name.Space != "" && a.Name.Space != "xml" && a.Name.Space != "xmlns":
				return false
			}
		}
		if i == 0 && !declared {
			return false
		}
	}
}

// messageSeeds are stanzas for the message parser: archive results,
// carbons, forwarded messages with prefixes, nested and repeated payloads.
var messageSeeds = []string{
	"<message from='me@example.org'><result xmlns='urn:xmpp:mam:2' queryid='q1' id='A1'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2020-01-02T03:04:05.678Z'/><message xmlns='jabber:client' from='bob@example.org/x' to='me@example.org' type='chat' id='m1'><body>archived</body><stanza-id xmlns='urn:xmpp:sid:0' by='me@example.org' id='A1'/></message></forwarded></result></message>",
	"<message from='me@example.org'><result xmlns='urn:xmpp:mam:2' queryid='q1' id='A2'><forwarded xmlns='urn:xmpp:forward:0'>\n <message xmlns='jabber:client' from='bob@example.org'><body>a</body></message><message xmlns='jabber:client'><body>second</body></message></forwarded></result></message>",
	"<message from='me@example.org' xmlns:c='jabber:client' xmlns:f='urn:xmpp:forward:0'><result xmlns='urn:xmpp:mam:2' queryid='q' id='1'><f:forwarded><c:message from='bob@example.org'><c:body>prefixed</c:body></c:message></f:forwarded></result></message>",
	"<message from='me@example.org'><result xmlns='urn:xmpp:mam:2' queryid='q' id='1'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='@@'><body>bad jid</body></message></forwarded></result></message>",
	"<message from='me@example.org'><result xmlns='urn:xmpp:mam:2' queryid='q' id='1'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client'/></forwarded></result></message>",
	"<message from='me@example.org'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' to='bob@example.org'><body>s</body></message></forwarded></sent><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='bob@example.org'><body>r</body><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client'><body>nested carbon</body></message></forwarded></received></message></forwarded></received></message>",
	"<message from='bob@example.org/x'><body>outer</body><x xmlns='urn:unknown'><body xmlns='jabber:client'>inner</body><message xmlns='jabber:client'><body>deeper</body></message></x></message>",
	"<message><body><![CDATA[<b>]]> &amp; text<!-- c --> more<i>skip</i></body><body xml:lang='en'>en</body></message>",
	"<message><error type='wait'><resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>busy</text><app xmlns='urn:x'/></error><thread>t</thread><subject>s1</subject><subject>s2</subject></message>",
	"<message from='a@b'><event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:avatar:metadata'/></event><markable xmlns='urn:xmpp:chat-markers:0'/><x xmlns='jabber:x:oob'><url> https://e/f </url><desc>d</desc></x><retract xmlns='urn:xmpp:message-retract:1' id='z'/><gone xmlns='http://jabber.org/protocol/chatstates'/></message>",
	"<message to='not a jid@@'><body>x</body></message>",
}
