// Tests of reading XEP-0447 file sharing as Dino sends it: metadata in
// both forms (0446 0.1 "dimensions", 0.2 width and height), an inline
// thumbnail, http(s) sources only, bounded sizes.
package xmppclient

import (
	"encoding/base64"
	"strings"
	"testing"
)

const dinoSFS = `<message xmlns='jabber:client' from='romeo@montague.lit/dino' to='juliet@shakespeare.lit' type='chat' id='f1'>
<body>https://up.montague.lit/a/summit.jpg</body>
<x xmlns='jabber:x:oob'><url>https://up.montague.lit/a/summit.jpg</url></x>
<file-sharing xmlns='urn:xmpp:sfs:0' disposition='inline'>
 <file xmlns='urn:xmpp:file:metadata:0'>
  <media-type>image/jpeg</media-type><name>../summit.jpg</name><size>3032449</size>
  <width>4096</width><height>2160</height><desc>Photo from the summit.</desc>
  <hash xmlns='urn:xmpp:hashes:2' algo='sha-256'>2XarmwTlNxDAMkvymloX3S5+VbylNrJt/l5QyPa+YoU=</hash>
  <thumbnail xmlns='urn:xmpp:thumbs:1' uri='data:image/png;base64,` + "iVBORw0KGgo=" + `' media-type='image/png' width='32' height='17'/>
 </file>
 <sources>
  <url-data xmlns='http://jabber.org/protocol/url-data' target='javascript:alert(1)'/>
  <url-data xmlns='http://jabber.org/protocol/url-data' target='https://up.montague.lit/a/summit.jpg'/>
 </sources>
</file-sharing></message>`

func TestParseFileSharing(t *testing.T) {
	m, err := ParseMessage([]byte(dinoSFS))
	if err != nil {
		t.Fatal(err)
	}
	f := m.File
	if f == nil {
		t.Fatal("no file-sharing read")
	}
	if f.Disposition != "inline" || f.MediaType != "image/jpeg" || f.Name != "summit.jpg" || f.Size != 3032449 ||
		f.Width != 4096 || f.Height != 2160 || f.Desc != "Photo from the summit." {
		t.Errorf("metadata %+v", f)
	}
	if f.ThumbnailType != "image/png" || len(f.Thumbnail) != 8 {
		t.Errorf("thumbnail %q (%d bytes)", f.ThumbnailType, len(f.Thumbnail))
	}
	if len(f.URLs) != 1 || f.URLs[0] != "https://up.montague.lit/a/summit.jpg" {
		t.Errorf("sources %q, want the https one only", f.URLs)
	}
	old := strings.Replace(strings.Replace(dinoSFS, "<width>4096</width><height>2160</height>", "<dimensions>640x480</dimensions>", 1),
		"base64,iVBORw0KGgo=", "base64,"+base64.StdEncoding.EncodeToString(make([]byte, maxInlineThumb+1)), 1)
	m, err = ParseMessage([]byte(old))
	if err != nil || m.File.Width != 640 || m.File.Height != 480 || m.File.Thumbnail != nil {
		t.Errorf("0.1 dimensions and an oversized thumbnail: %+v, %v", m.File, err)
	}
}
