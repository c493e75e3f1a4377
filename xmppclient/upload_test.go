// Tests of the XEP-0363 parsers (what an upload service answers is
// network input): slots with good and bad URLs and headers, refusals
// turned into typed errors, service discovery forms, file names sent; and
// a fuzz target over slot answers and refusals whose seeds run in every
// `go test`.
package xmppclient

import (
	"strings"
	"testing"
	"time"
)

var slotSeeds = []string{
	`<iq type='result' id='s'><slot xmlns='urn:xmpp:http:upload:0'><put url='https://up.example.org/a/b.jpg'><header name='Authorization'>Basic Zm9v</header><header name='Cookie'>c=1</header><header name='X-Evil'>1</header><header name='Expires'>bad
value</header></put><get url='https://up.example.org/a/b.jpg'/></slot></iq>`,
	`<iq type='result' id='s'><slot xmlns='urn:xmpp:http:upload:0'><put url='file:///etc/passwd'/><get url='https://x/y'/></slot></iq>`,
	`<iq type='result' id='s'><slot xmlns='urn:xmpp:http:upload:0'><put url='https://x/y'/><get url='javascript:alert(1)'/></slot></iq>`,
	`<iq type='result' id='s'><slot xmlns='urn:xmpp:http:upload:0'><put url='https://u:p@x/y'/><get url='https://x/y'/></slot></iq>`,
	`<iq type='result' id='s'><slot xmlns='urn:xmpp:http:upload:old'><put url='https://x/y'/><get url='https://x/y'/></slot></iq>`,
	`<iq type='result' id='s'/>`,
	`<iq type='error' id='e'><error type='modify'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>File too large</text><file-too-large xmlns='urn:xmpp:http:upload:0'><max-file-size>20000</max-file-size></file-too-large></error></iq>`,
	`<iq type='error' id='e'><error type='wait'><resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><retry xmlns='urn:xmpp:http:upload:0' stamp='2017-12-03T23:42:05Z'/></error></iq>`,
	`<iq type='error' id='e'><error type='cancel'><not-allowed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
}

func TestParseSlot(t *testing.T) {
	slot, err := parseSlot([]byte(slotSeeds[0]))
	if err != nil {
		t.Fatal(err)
	}
	if slot.PutURL != "https://up.example.org/a/b.jpg" || slot.GetURL != slot.PutURL {
		t.Errorf("URLs %q %q", slot.PutURL, slot.GetURL)
	}
	want := map[string]string{"Authorization": "Basic Zm9v", "Cookie": "c=1"}
	if len(slot.PutHeaders) != len(want) || slot.PutHeaders["Authorization"] != want["Authorization"] || slot.PutHeaders["Cookie"] != want["Cookie"] {
		t.Errorf("headers %v, want %v (no other header, none with a line break)", slot.PutHeaders, want)
	}
	for i, s := range slotSeeds[1:6] {
		if slot, err := parseSlot([]byte(s)); err == nil {
			t.Errorf("seed %d: accepted %+v", i+1, slot)
		}
	}
}

func TestUploadRefusal(t *testing.T) {
	for _, tc := range []struct {
		raw     string
		se      StanzaError
		reason  UploadRefusal
		max     int64
		retryAt time.Time
	}{
		{slotSeeds[6], StanzaError{Type: "modify", Condition: "not-acceptable", Text: "File too large"}, UploadTooLarge, 20000, time.Time{}},
		{slotSeeds[7], StanzaError{Type: "wait", Condition: "resource-constraint"}, UploadQuota, 0, time.Date(2017, 12, 3, 23, 42, 5, 0, time.UTC)},
		{slotSeeds[8], StanzaError{Type: "cancel", Condition: "not-allowed"}, UploadNotAllowed, 0, time.Time{}},
		{`<iq type='error' id='e'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
			StanzaError{Type: "cancel", Condition: "item-not-found"}, UploadRefused, 0, time.Time{}},
	} {
		se := tc.se
		e := uploadRefusal(&se, []byte(tc.raw))
		if e.Reason != tc.reason || e.MaxFileSize != tc.max || !e.RetryAt.Equal(tc.retryAt) || e.Error() == "" {
			t.Errorf("%s: %+v", tc.se.Condition, e)
		}
	}
}

func TestUploadServiceInfo(t *testing.T) {
	info := &DiscoInfo{Features: []discoFeature{{Var: NSUpload}}, Forms: []DataForm{
		{Type: "result", Fields: []FormField{{Var: "FORM_TYPE", Values: []string{"urn:x:other"}}, {Var: "max-file-size", Values: []string{"1"}}}},
		{Type: "result", Fields: []FormField{{Var: "FORM_TYPE", Values: []string{NSUpload}}, {Var: "max-file-size", Values: []string{" 5242880 "}}}},
	}}
	if max, ok := uploadServiceInfo(info); !ok || max != 5242880 {
		t.Errorf("max %d ok %v, want 5242880 from the upload form", max, ok)
	}
	if _, ok := uploadServiceInfo(&DiscoInfo{}); ok {
		t.Error("an entity without the feature counts as an upload service")
	}
}

func TestUploadFilename(t *testing.T) {
	for in, want := range map[string]string{"a/b/c.jpg": "c.jpg", `C:\x\y.png`: "y.png", "..": "file", "a\nb\x00.txt": "ab.txt", "": "file"} {
		if got := SafeFilename(in); got != want {
			t.Errorf("SafeFilename(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzUploadAnswers: slot answers and refusals never panic, and a slot
// accepted has http(s) URLs and only allowed headers, without line breaks.
func FuzzUploadAnswers(f *testing.F) {
	for _, s := range slotSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if slot, err := parseSlot(data); err == nil {
			for _, u := range []string{slot.PutURL, slot.GetURL} {
				if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
					t.Fatalf("accepted URL %q", u)
				}
			}
			for k, v := range slot.PutHeaders {
				if k != "Authorization" && k != "Cookie" && k != "Expires" || strings.ContainsAny(v, "\r\n") {
					t.Fatalf("accepted header %q: %q", k, v)
				}
			}
		}
		_ = uploadRefusal(&StanzaError{Condition: "undefined-condition"}, data)
	})
}
