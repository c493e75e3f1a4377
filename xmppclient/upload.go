// XEP-0363 HTTP File Upload, the XMPP half: finding the account's upload
// service (disco#items of the server, then disco#info of each item, kept
// for the session) with the largest file it takes (max-file-size), and
// asking it for a slot: the URL to PUT the file to, with the headers to
// send (only Authorization, Cookie and Expires are allowed, §4), and the
// URL to GET it from, which is what a message shares. The refusals come
// back as an *UploadError the UI can word (too large, quota, not allowed);
// the HTTP transfer itself belongs to the media service.
package xmppclient

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"gosrc.io/xmpp/stanza"
)

// NSUpload is the XEP-0363 namespace.
const NSUpload = "urn:xmpp:http:upload:0"

// ErrNoUploadService: the server lists no XEP-0363 service.
var ErrNoUploadService = errors.New("the server offers no file upload (XEP-0363)")

// UploadService is the account's upload service.
type UploadService struct {
	JID JID
	// MaxFileSize is the largest file it takes, in bytes (0: it did not
	// say, and a slot request for too large a file is refused).
	MaxFileSize int64
}

// UploadSlot is where one file goes (PutURL, with PutHeaders) and where
// it can then be fetched (GetURL).
type UploadSlot struct {
	PutURL     string
	PutHeaders map[string]string
	GetURL     string
}

// UploadRefusal says why the service refused a slot.
type UploadRefusal int

const (
	UploadRefused    UploadRefusal = iota // another reason (see Err)
	UploadTooLarge                        // the file is over MaxFileSize
	UploadQuota                           // the account's quota is used up; try after RetryAt
	UploadNotAllowed                      // this account may not upload
)

// UploadError is a refused slot request.
type UploadError struct {
	Reason UploadRefusal
	// MaxFileSize, for UploadTooLarge, when the service said it.
	MaxFileSize int64
	// RetryAt, for UploadQuota, when the service said it.
	RetryAt time.Time
	Err     *StanzaError
}

func (e *UploadError) Error() string {
	switch e.Reason {
	case UploadTooLarge:
		if e.MaxFileSize > 0 {
			return fmt.Sprintf("the file is larger than the server takes (at most %d bytes)", e.MaxFileSize)
		}
		return "the file is larger than the server takes"
	case UploadQuota:
		return "the server's upload quota for this account is used up"
	case UploadNotAllowed:
		return "the server does not let this account upload files"
	}
	return "the server refused the upload: " + e.Err.Error()
}

func (e *UploadError) Unwrap() error { return e.Err }

// uploadCache keeps the upload service found in this session (a fresh
// session looks again: the server may have been reconfigured).
type uploadCache struct {
	mu    sync.Mutex
	found *UploadService
	err   error // ErrNoUploadService, when none was found
}

func (u *uploadCache) reset() {
	u.mu.Lock()
	u.found, u.err = nil, nil
	u.mu.Unlock()
}

// UploadService finds the account's upload service: the first item of the
// server's disco#items whose disco#info has the XEP-0363 feature (or the
// server itself). It returns ErrNoUploadService when there is none. The
// answer is kept for the session.
func (c *Client) UploadService(ctx context.Context) (UploadService, error) {
	c.upload.mu.Lock()
	found, ferr := c.upload.found, c.upload.err
	c.upload.mu.Unlock()
	if found != nil {
		return *found, nil
	}
	if ferr != nil {
		return UploadService{}, ferr
	}
	svc, err := c.findUploadService(ctx)
	if err != nil && !errors.Is(err, ErrNoUploadService) {
		return UploadService{}, err // not known: ask again next time
	}
	c.upload.mu.Lock()
	if err == nil {
		c.upload.found = &svc
	} else {
		c.upload.err = err
	}
	c.upload.mu.Unlock()
	return svc, err
}

func (c *Client) findUploadService(ctx context.Context) (UploadService, error) {
	items, err := c.DiscoItems(ctx, JID{}, "")
	if err != nil {
		return UploadService{}, fmt.Errorf("listing the server's services: %w", err)
	}
	var candidates []JID
	for _, it := range items {
		if j, err := ParseJID(it.JID); err == nil && it.Node == "" {
			candidates = append(candidates, j)
		}
	}
	candidates = append(candidates, JID{Domain: c.cfg.JID.Domain}) // a server may offer it itself
	for _, j := range candidates {
		info, err := c.DiscoInfo(ctx, j, "")
		if err != nil {
			var se *StanzaError
			if errors.As(err, &se) {
				continue // that item does not answer disco: not ours
			}
			return UploadService{}, fmt.Errorf("asking %s what it offers: %w", j, err)
		}
		if max, ok := uploadServiceInfo(info); ok {
			return UploadService{JID: j, MaxFileSize: max}, nil
		}
	}
	return UploadService{}, ErrNoUploadService
}

// uploadServiceInfo reports whether info is a XEP-0363 service and the
// max-file-size its extended form gives (§3, 0 when none).
func uploadServiceInfo(info *DiscoInfo) (maxSize int64, ok bool) {
	if !info.HasFeature(NSUpload) {
		return 0, false
	}
	for i := range info.Forms {
		f := &info.Forms[i]
		if f.Value("FORM_TYPE") != NSUpload {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(f.Value("max-file-size")), 10, 64); err == nil && n > 0 {
			return n, true
		}
	}
	return 0, true
}

// slotRequest is the XEP-0363 §4 request.
type slotRequest struct {
	XMLName     xml.Name `xml:"urn:xmpp:http:upload:0 request"`
	Filename    string   `xml:"filename,attr"`
	Size        int64    `xml:"size,attr"`
	ContentType string   `xml:"content-type,attr,omitempty"`
}

func (*slotRequest) Namespace() string         { return NSUpload }
func (*slotRequest) GetSet() *stanza.ResultSet { return nil }

// RequestUploadSlot asks svc for a slot for a file of size bytes named
// filename (a name only, no path) with the given media type (may be
// empty). A refusal is an *UploadError.
func (c *Client) RequestUploadSlot(ctx context.Context, svc UploadService, filename string, size int64, contentType string) (UploadSlot, error) {
	if size <= 0 {
		return UploadSlot{}, fmt.Errorf("upload slot for %q: the file is empty", filename)
	}
	if svc.MaxFileSize > 0 && size > svc.MaxFileSize {
		return UploadSlot{}, &UploadError{Reason: UploadTooLarge, MaxFileSize: svc.MaxFileSize,
			Err: &StanzaError{Type: "modify", Condition: "not-acceptable"}}
	}
	req := &slotRequest{Filename: SafeFilename(filename), Size: size, ContentType: contentType}
	_, raw, err := c.SendIQRaw(ctx, stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeGet, To: svc.JID.String()}, Payload: req})
	if err != nil {
		var se *StanzaError
		if errors.As(err, &se) {
			return UploadSlot{}, uploadRefusal(se, raw)
		}
		return UploadSlot{}, fmt.Errorf("upload slot for %q: %w", filename, err)
	}
	slot, err := parseSlot(raw)
	if err != nil {
		return UploadSlot{}, &ProtocolError{Step: "upload slot", Err: err}
	}
	return slot, nil
}

// SafeFilename is a file's name as it may be sent and shown: the last
// element of a path, without control characters, never empty.
func SafeFilename(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, name)
	if strings.Trim(name, ". ") == "" {
		return "file"
	}
	return name
}

// slotPayload is the XEP-0363 §4 answer.
type slotPayload struct {
	XMLName xml.Name `xml:"urn:xmpp:http:upload:0 slot"`
	Put     struct {
		URL     string `xml:"url,attr"`
		Headers []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:",chardata"`
		} `xml:"header"`
	} `xml:"put"`
	Get struct {
		URL string `xml:"url,attr"`
	} `xml:"get"`
}

// allowedPutHeaders are the headers a slot may ask for (§4); others are
// dropped.
var allowedPutHeaders = map[string]string{"authorization": "Authorization", "cookie": "Cookie", "expires": "Expires"}

// parseSlot reads the slot of an IQ result: both URLs must be absolute
// http or https URLs (XEP-0363 wants https; the test servers serve http on
// loopback), and only the allowed headers are kept, without line breaks.
func parseSlot(raw []byte) (UploadSlot, error) {
	var p slotPayload
	if err := DecodeIQPayload(raw, &p); err != nil {
		return UploadSlot{}, err
	}
	if p.XMLName.Space != NSUpload || p.XMLName.Local != "slot" {
		return UploadSlot{}, errors.New("the answer holds no slot")
	}
	slot := UploadSlot{PutURL: strings.TrimSpace(p.Put.URL), GetURL: strings.TrimSpace(p.Get.URL)}
	for _, u := range []string{slot.PutURL, slot.GetURL} {
		if err := checkHTTPURL(u); err != nil {
			return UploadSlot{}, err
		}
	}
	for _, h := range p.Put.Headers {
		name, ok := allowedPutHeaders[strings.ToLower(strings.TrimSpace(h.Name))]
		value := strings.TrimSpace(h.Value)
		if !ok || strings.ContainsAny(value, "\r\n") {
			continue
		}
		if slot.PutHeaders == nil {
			slot.PutHeaders = map[string]string{}
		}
		slot.PutHeaders[name] = value
	}
	return slot, nil
}

// checkHTTPURL accepts an absolute http or https URL with a host.
func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("slot URL %q: %w", s, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return fmt.Errorf("slot URL %q is not an http(s) URL", s)
	}
	return nil
}

// uploadErrorDetail is what XEP-0363 §5 puts in the error of a refusal.
type uploadErrorDetail struct {
	TooLarge *struct {
		MaxFileSize string `xml:"max-file-size"`
	} `xml:"urn:xmpp:http:upload:0 file-too-large"`
	Retry *struct {
		Stamp string `xml:"stamp,attr"`
	} `xml:"urn:xmpp:http:upload:0 retry"`
}

// uploadRefusal turns the error answering a slot request into an
// *UploadError.
func uploadRefusal(se *StanzaError, raw []byte) *UploadError {
	e := &UploadError{Reason: UploadRefused, Err: se}
	var d uploadErrorDetail
	_ = decodeErrorChild(raw, &d)
	switch {
	case d.TooLarge != nil:
		e.Reason = UploadTooLarge
		e.MaxFileSize, _ = strconv.ParseInt(strings.TrimSpace(d.TooLarge.MaxFileSize), 10, 64)
	case d.Retry != nil || se.Condition == "resource-constraint":
		e.Reason = UploadQuota
		if d.Retry != nil {
			e.RetryAt, _ = time.Parse(time.RFC3339, strings.TrimSpace(d.Retry.Stamp))
		}
	case se.Condition == "not-acceptable" && strings.Contains(strings.ToLower(se.Text), "large"):
		e.Reason = UploadTooLarge
	case se.Condition == "forbidden" || se.Condition == "not-allowed" || se.Condition == "not-authorized":
		e.Reason = UploadNotAllowed
	}
	return e
}
