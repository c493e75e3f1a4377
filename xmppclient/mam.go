// XEP-0313 Message Archive Management with XEP-0059 result set paging:
// querying the own archive by contact and by time, page by page. Results
// are accepted only from the archive queried and with the query id sent
// (forged results are dropped, CVE-2020-26547), and delivered in order.
package xmppclient

import (
	"context"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"gosrc.io/xmpp/stanza"
)

const (
	nsMAM = "urn:xmpp:mam:2"
	nsRSM = "http://jabber.org/protocol/rsm"
)

// MAMQuery selects a page of the archive.
type MAMQuery struct {
	Archive JID // zero: the own account's archive
	With    JID // only messages with this contact (zero: all)
	Start   time.Time
	End     time.Time
	After   string // archive id: the page after this one
	Before  string // archive id: the page before this one
	// Last asks for the newest page (an empty <before/>) when Before is "".
	Last bool
	Max  int // page size (default 100)
	// AfterID and BeforeID bound the query by archive id (form fields of
	// urn:xmpp:mam:2#extended, which the server must announce; see
	// NSMAMExtended); they combine with After/Before paging.
	AfterID, BeforeID string
}

// NSMAMExtended is the feature of archives that take after-id and
// before-id in the query form.
const NSMAMExtended = "urn:xmpp:mam:2#extended"

// ArchivedMessage is one archive result.
type ArchivedMessage struct {
	ArchiveID string    // the archive's id of the message (its stanza-id)
	Stamp     time.Time // when the archive stored it
	Message   ChatMessage
	// Raw is the archived <message/>, its bytes as received, cut out of
	// the result (namespaces its ancestors declared are not repeated).
	Raw []byte
}

// MAMPage is one page of results, oldest first.
type MAMPage struct {
	Messages []ArchivedMessage
	First    string // archive id of the first result
	Last     string // archive id of the last result
	Count    int    // total matching, when the server says (-1 otherwise)
	Complete bool   // no more pages in the queried direction
}

type mamCollector struct {
	archive string // normalized JID; "" for the own archive
	msgs    []ArchivedMessage
}

type mamRouter struct {
	mu      sync.Mutex
	queries map[string]*mamCollector
	// registered, when set (by tests only, through export_test.go), is
	// called with each query id once the query is registered and before
	// the request is written.
	registered func(queryID string)
}

type mamQueryPayload struct {
	XMLName xml.Name `xml:"urn:xmpp:mam:2 query"`
	QueryID string   `xml:"queryid,attr"`
	Inner   string   `xml:",innerxml"`
}

func (*mamQueryPayload) Namespace() string         { return nsMAM }
func (*mamQueryPayload) GetSet() *stanza.ResultSet { return nil }

type mamFin struct {
	XMLName  xml.Name `xml:"urn:xmpp:mam:2 fin"`
	Complete string   `xml:"complete,attr"`
	Set      struct {
		First string `xml:"first"`
		Last  string `xml:"last"`
		Count *int   `xml:"count"`
	} `xml:"http://jabber.org/protocol/rsm set"`
}

func field(b *strings.Builder, name, value string) {
	b.WriteString("<field var='" + name + "'><value>" + xmlEscape(value) + "</value></field>")
}

// QueryArchive fetches one page of the archive.
func (c *Client) QueryArchive(ctx context.Context, q MAMQuery) (MAMPage, error) {
	max := q.Max
	if max <= 0 {
		max = 100
	}
	var form strings.Builder
	form.WriteString("<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>" + nsMAM + "</value></field>")
	if !q.With.IsZero() {
		field(&form, "with", q.With.String())
	}
	if !q.Start.IsZero() {
		field(&form, "start", q.Start.UTC().Format(time.RFC3339Nano))
	}
	if !q.End.IsZero() {
		field(&form, "end", q.End.UTC().Format(time.RFC3339Nano))
	}
	if q.AfterID != "" {
		field(&form, "after-id", q.AfterID)
	}
	if q.BeforeID != "" {
		field(&form, "before-id", q.BeforeID)
	}
	form.WriteString("</x><set xmlns='" + nsRSM + "'><max>" + strconv.Itoa(max) + "</max>")
	switch {
	case q.After != "":
		form.WriteString("<after>" + xmlEscape(q.After) + "</after>")
	case q.Before != "":
		form.WriteString("<before>" + xmlEscape(q.Before) + "</before>")
	case q.Last:
		form.WriteString("<before/>")
	}
	form.WriteString("</set>")

	queryID := newID()
	col := &mamCollector{}
	to := ""
	if !q.Archive.IsZero() && q.Archive != c.JID().Bare() {
		col.archive = q.Archive.String()
		to = col.archive
	}
	c.mam.mu.Lock()
	c.mam.queries[queryID] = col
	registered := c.mam.registered
	c.mam.mu.Unlock()
	defer func() {
		c.mam.mu.Lock()
		delete(c.mam.queries, queryID)
		c.mam.mu.Unlock()
	}()
	if registered != nil {
		registered(queryID)
	}

	_, raw, err := c.SendIQRaw(ctx, stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeSet, To: to},
		Payload: &mamQueryPayload{QueryID: queryID, Inner: form.String()}})
	if err != nil {
		return MAMPage{}, fmt.Errorf("archive query: %w", err)
	}
	var fin mamFin
	if err := DecodeIQPayload(raw, &fin); err != nil {
		return MAMPage{}, &ProtocolError{Step: "archive query", Err: err}
	}
	c.mam.mu.Lock()
	msgs := col.msgs
	c.mam.mu.Unlock()
	page := MAMPage{Messages: msgs, First: fin.Set.First, Last: fin.Set.Last, Count: -1,
		Complete: fin.Complete == "true" || fin.Complete == "1"}
	if fin.Set.Count != nil {
		page.Count = *fin.Set.Count
	}
	return page, nil
}

// mamResult is an archive result: the archive's id of the message and
// the forwarded message.
type mamResult struct {
	queryID, id string
	fwd         *forwarded // nil without a <forwarded/>
}

func (r *mamResult) forwarded() *forwarded {
	if r == nil {
		return nil
	}
	return r.fwd
}

// parseMAMResult reads a <result/> whose start tag was just read (part of
// parseMessage's single pass over the stanza).
func parseMAMResult(w *elementTokens, start xml.StartElement) (*mamResult, error) {
	r := &mamResult{queryID: plainAttr(start, "queryid"), id: plainAttr(start, "id")}
	err := w.children(func(c xml.StartElement) error {
		if c.Name.Space != nsForward || c.Name.Local != "forwarded" || r.fwd != nil {
			return nil
		}
		var err error
		r.fwd, err = parseForwarded(w)
		return err
	})
	return r, err
}

// handleMAMResult routes an archive result, sent by from, to its query,
// or drops it as forged or unsolicited.
func (c *Client) handleMAMResult(from string, r *mamResult) {
	c.mam.mu.Lock()
	col := c.mam.queries[r.queryID]
	c.mam.mu.Unlock()
	if col == nil {
		c.log.Warn("dropping an archive result for no query of ours", "from", from, "queryid", r.queryID)
		return
	}
	ok := false
	if col.archive == "" {
		ok = from == "" || c.fromOwnAccountStrict(from)
	} else if j, err := ParseJID(from); err == nil {
		ok = j.String() == col.archive
	}
	if !ok {
		c.log.Warn("dropping a forged archive result", "from", from)
		return
	}
	f := r.forwarded()
	if f == nil || f.msg == nil {
		c.log.Warn("dropping an archive result without a message")
		return
	}
	if f.msg.bad != nil {
		c.log.Warn("dropping an archive result whose message does not parse", "err", f.msg.bad)
		return
	}
	am := ArchivedMessage{ArchiveID: r.id, Stamp: f.stamp, Message: f.msg.msg, Raw: f.raw}
	if am.Message.Delay.IsZero() {
		am.Message.Delay = f.stamp
	}
	c.mam.mu.Lock()
	col.msgs = append(col.msgs, am)
	c.mam.mu.Unlock()
}
