// XEP-0447 Stateless file sharing, as Dino sends it beside the XEP-0066
// URL: the <file-sharing/> element's XEP-0446 file metadata (media type,
// name, size, dimensions, description), its XEP-0264 thumbnail when it is
// small enough to travel inline (a data: URI), and its http(s) sources
// (XEP-0103 url-data). It tells the receiver what a file is before any of
// it is fetched. Only reading is done here; Parley sends XEP-0066.
package xmppclient

import (
	"encoding/base64"
	"encoding/xml"
	"strconv"
	"strings"
)

const (
	nsSFS          = "urn:xmpp:sfs:0"
	nsFileMetadata = "urn:xmpp:file:metadata:0"
	nsThumbs       = "urn:xmpp:thumbs:1"
	nsURLData      = "http://jabber.org/protocol/url-data"
)

// Limits on what a file-sharing element may carry.
const (
	maxInlineThumb = 64 << 10 // bytes of an inline (data:) thumbnail kept
	maxSFSText     = 1024     // characters of a name, type or description kept
)

// SharedFile is what a XEP-0447 element says of a file.
type SharedFile struct {
	Disposition   string // inline, attachment or ""
	MediaType     string
	Name          string
	Size          int64
	Width, Height int
	Desc          string
	// Thumbnail is a small picture sent inline (data: URI), with its type.
	Thumbnail     []byte
	ThumbnailType string
	// URLs are the http and https sources, in order.
	URLs []string
}

// parseFileSharing reads a <file-sharing xmlns='urn:xmpp:sfs:0'/> whose
// start tag was just read.
func parseFileSharing(w *elementTokens, start xml.StartElement) (*SharedFile, error) {
	f := &SharedFile{Disposition: plainAttr(start, "disposition")}
	err := w.children(func(c xml.StartElement) error {
		switch {
		case c.Name.Space == nsFileMetadata && c.Name.Local == "file":
			return parseFileMetadata(w, f)
		case c.Name.Space == nsSFS && c.Name.Local == "sources":
			return w.children(func(s xml.StartElement) error {
				if s.Name.Space == nsURLData && s.Name.Local == "url-data" {
					if u := strings.TrimSpace(plainAttr(s, "target")); isHTTPURL(u) && len(f.URLs) < 8 {
						f.URLs = append(f.URLs, u)
					}
				}
				return nil
			})
		}
		return nil
	})
	return f, err
}

// parseFileMetadata reads a XEP-0446 <file/> into f.
func parseFileMetadata(w *elementTokens, f *SharedFile) error {
	return w.children(func(c xml.StartElement) error {
		if c.Name.Space == nsThumbs && c.Name.Local == "thumbnail" {
			f.Thumbnail, f.ThumbnailType = inlineThumbnail(c)
			return nil
		}
		if c.Name.Space != nsFileMetadata {
			return nil
		}
		switch c.Name.Local {
		case "media-type", "name", "desc", "size", "width", "height", "dimensions":
		default:
			return nil
		}
		s, err := w.text()
		s = clipText(strings.TrimSpace(s))
		switch c.Name.Local {
		case "media-type":
			f.MediaType = s
		case "name":
			f.Name = SafeFilename(s)
		case "desc":
			f.Desc = s
		case "size":
			if n, perr := strconv.ParseInt(s, 10, 64); perr == nil && n > 0 {
				f.Size = n
			}
		case "width":
			f.Width = positive(s)
		case "height":
			f.Height = positive(s)
		case "dimensions": // 0.1: "WxH"
			if ws, hs, ok := strings.Cut(s, "x"); ok {
				f.Width, f.Height = positive(ws), positive(hs)
			}
		}
		return err
	})
}

// inlineThumbnail is the picture of a XEP-0264 thumbnail sent as a data:
// URI (base64), when it is small; other URIs (cid:, http) are not fetched.
func inlineThumbnail(c xml.StartElement) ([]byte, string) {
	uri := plainAttr(c, "uri")
	head, data, ok := strings.Cut(uri, ",")
	if !ok || !strings.HasPrefix(head, "data:") || !strings.HasSuffix(head, ";base64") ||
		base64.StdEncoding.DecodedLen(len(data)) > maxInlineThumb {
		return nil, ""
	}
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, ""
	}
	return b, clipText(strings.TrimSuffix(strings.TrimPrefix(head, "data:"), ";base64"))
}

func isHTTPURL(u string) bool {
	return strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")
}

// positive parses a dimension (0 when it is not a sensible one).
func positive(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n <= 0 || n > 1_000_000 {
		return 0
	}
	return n
}

// clipText bounds a text the network sent.
func clipText(s string) string {
	if len(s) > maxSFSText {
		s = s[:maxSFSText]
		for len(s) > 0 && s[len(s)-1]&0xc0 == 0x80 { // not in the middle of a character
			s = s[:len(s)-1]
		}
	}
	return s
}
