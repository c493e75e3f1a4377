// floor.go: floorClient, the lean XMPP client behind the burst's and the catch-up's "floor"
// baselines: the least a client must do on a server. STARTTLS, SASL PLAIN and bind, then a
// reader that cuts the stream into top-level elements (xmpptest.Scanner, RawPeer's splitter;
// </stream:stream> ends it with xmpptest.ErrStreamEnd) and only counts <message>s; it pages an
// archive (XEP-0313 with XEP-0059 RSM, the next query after the previous page's <last/>) and,
// with XEP-0198 enabled, acknowledges as Parley does (every <r/> answered, and an unsolicited
// <a/> every 64 stanzas). Unlike xmpptest.RawPeer with CountOnly it sees the IQ results
// (needed to page) and acks. Its socket asks for TCP quick acks, as Parley's does.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"parley/xmppclient/xmpptest"
)

// floorAckEvery is how many stanzas the client lets in before an unsolicited <a/> (Parley's
// unsolicitedAckEvery).
const floorAckEvery = 64

// floorClient is a logged-in lean client; its reader runs in its own goroutine.
type floorClient struct {
	conn net.Conn
	sc   *xmpptest.Scanner

	wmu sync.Mutex
	w   *bufio.Writer

	sm      bool
	msgs    atomic.Int64  // <message> stanzas received
	kick    chan struct{} // a non-blocking signal after each message
	iqs     chan []byte   // IQ results and errors (copies), for the query waiting
	inbound uint32        // stanzas received since <enabled/> (the reader's only)
	acks    atomic.Int64  // <a/> sent
	rs      atomic.Int64  // <r/> received

	done chan struct{}
	err  error // why the reader ended; read after done is closed
	seq  int
}

// dialFloor logs user in on srv (bound to resource); with presence it sends initial presence
// (to receive messages sent to the bare JID), with sm it enables XEP-0198 as Parley does
// (resume='true'), before the reader starts.
func dialFloor(srv *xmpptest.Server, user, resource string, presence, sm bool) (*floorClient, error) {
	tcp, err := net.DialTimeout("tcp", srv.C2SAddr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	_ = tcp.SetDeadline(time.Now().Add(20 * time.Second))
	c := &floorClient{sm: sm, kick: make(chan struct{}, 1), iqs: make(chan []byte, 16), done: make(chan struct{})}
	fail := func(err error) (*floorClient, error) {
		tcp.Close()
		return nil, fmt.Errorf("floor client %s: %w", user, err)
	}
	c.setConn(withQuickAckConn(tcp))
	feats, err := c.openStream(srv.Domain)
	if err != nil {
		return fail(err)
	}
	if !bytes.Contains(feats, []byte("<starttls")) {
		return fail(errors.New("no STARTTLS offered"))
	}
	if _, err := c.request("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", "proceed"); err != nil {
		return fail(err)
	}
	tc := tls.Client(c.conn, srv.TLSConfig())
	if err := tc.Handshake(); err != nil {
		return fail(err)
	}
	c.setConn(tc)
	if _, err := c.openStream(srv.Domain); err != nil {
		return fail(err)
	}
	auth := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + benchPass))
	if _, err := c.request("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"+auth+"</auth>", "success"); err != nil {
		return fail(err)
	}
	if _, err := c.openStream(srv.Domain); err != nil {
		return fail(err)
	}
	if _, err := c.request("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>"+
		resource+"</resource></bind></iq>", "iq"); err != nil {
		return fail(err)
	}
	if presence {
		if err := c.write("<presence/>"); err != nil {
			return fail(err)
		}
	}
	if sm {
		// Stanzas that come before <enabled/> are not counted (the server counts from there).
		if _, err := c.request("<enable xmlns='urn:xmpp:sm:3' resume='true'/>", "enabled"); err != nil {
			return fail(err)
		}
	}
	_ = tcp.SetDeadline(time.Time{})
	go c.readLoop()
	return c, nil
}

func (c *floorClient) setConn(nc net.Conn) {
	c.conn = nc
	c.w = bufio.NewWriterSize(nc, 16<<10)
	c.sc = xmpptest.NewScanner(nc)
}

func (c *floorClient) write(s string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.w.WriteString(s)
	return c.w.Flush()
}

// openStream sends a stream header and returns the features that follow the server's.
func (c *floorClient) openStream(domain string) ([]byte, error) {
	err := c.write("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='" +
		domain + "' version='1.0'>")
	if err != nil {
		return nil, err
	}
	el, err := c.expect("stream:features")
	return bytes.Clone(el), err
}

// request writes s and waits for a top-level element named want (during login only).
func (c *floorClient) request(s, want string) ([]byte, error) {
	if err := c.write(s); err != nil {
		return nil, err
	}
	return c.expect(want)
}

// expect reads elements until one named want; a failure, an error IQ or a stream error ends it.
func (c *floorClient) expect(want string) ([]byte, error) {
	for {
		el, err := c.sc.Next()
		if err != nil {
			return nil, err
		}
		switch name := xmpptest.ElementName(el); {
		case name == want && !(name == "iq" && iqType(el) == "error"):
			return el, nil
		case name == "failure" || name == "failed" || name == "stream:error" || name == "iq" && iqType(el) == "error":
			return nil, fmt.Errorf("waiting for <%s>: %s", want, el)
		}
	}
}

func (c *floorClient) readLoop() {
	var err error
	for {
		var el []byte
		el, err = c.sc.Next()
		if err != nil {
			break
		}
		stanza := false
		switch xmpptest.ElementName(el) {
		case "message":
			stanza = true
			c.msgs.Add(1)
			select {
			case c.kick <- struct{}{}:
			default:
			}
		case "iq":
			stanza = true
			switch iqType(el) {
			case "result", "error":
				c.iqs <- bytes.Clone(el)
			default: // a request: not served here
				id, _ := xmpptest.Attr(el, "id")
				go c.write("<iq type='error' id='" + html.EscapeString(id) + "'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
			}
		case "presence":
			stanza = true
		case "r":
			c.rs.Add(1)
			err = c.ack()
		case "stream:error":
			err = fmt.Errorf("stream error: %s", el)
		}
		if err != nil {
			break
		}
		if stanza && c.sm {
			c.inbound++
			if c.inbound%floorAckEvery == 0 {
				if err = c.ack(); err != nil {
					break
				}
			}
		}
	}
	c.err = err
	close(c.done)
}

func (c *floorClient) ack() error {
	c.acks.Add(1)
	return c.write("<a xmlns='urn:xmpp:sm:3' h='" + strconv.FormatUint(uint64(c.inbound), 10) + "'/>")
}

// Count is the number of <message>s received so far.
func (c *floorClient) Count() int64 { return c.msgs.Load() }

// WaitCount waits until at least n messages have come.
func (c *floorClient) WaitCount(ctx context.Context, n int64) error {
	for c.msgs.Load() < n {
		select {
		case <-c.kick:
		case <-c.done:
			return fmt.Errorf("connection ended after %d of %d messages: %v", c.msgs.Load(), n, c.err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// pageArchive pages through the account's archive after the archive id after, max results a
// query, each query sent once the previous page's result came, until the server says the
// result set is complete. The results are only counted.
func (c *floorClient) pageArchive(ctx context.Context, max int, after string) (count, pages int, d time.Duration, err error) {
	base := c.msgs.Load()
	t0 := time.Now()
	for {
		c.seq++
		id := "mam" + strconv.Itoa(c.seq)
		q := "<iq type='set' id='" + id + "'><query xmlns='urn:xmpp:mam:2' queryid='" + id +
			"'><set xmlns='http://jabber.org/protocol/rsm'><max>" + strconv.Itoa(max) + "</max>"
		if after != "" {
			q += "<after>" + html.EscapeString(after) + "</after>" // after is unescaped text
		}
		if err := c.write(q + "</set></query></iq>"); err != nil {
			return 0, pages, 0, err
		}
		var res []byte
		for res == nil {
			select {
			case el := <-c.iqs:
				if v, _ := xmpptest.Attr(el, "id"); v == id {
					res = el
				}
			case <-c.done:
				return 0, pages, 0, fmt.Errorf("connection ended: %v", c.err)
			case <-ctx.Done():
				return 0, pages, 0, ctx.Err()
			}
		}
		if iqType(res) == "error" {
			return 0, pages, 0, fmt.Errorf("query %d: %s", pages+1, res)
		}
		pages++
		fin, _ := xmpptest.Child(res, "fin")
		set, _ := xmpptest.Child(fin, "set")
		last, _ := xmpptest.ChildText(set, "last")
		last = strings.TrimSpace(last)
		if complete, _ := xmpptest.Attr(fin, "complete"); last == "" || complete == "true" {
			break
		}
		after = last
	}
	return int(c.msgs.Load() - base), pages, time.Since(t0), nil
}

// Close ends the stream and waits for the reader.
func (c *floorClient) Close() {
	_ = c.conn.SetWriteDeadline(time.Now().Add(time.Second))
	_ = c.write("</stream:stream>")
	select {
	case <-c.done:
	case <-time.After(2 * time.Second):
	}
	c.conn.Close()
	<-c.done
}

func iqType(el []byte) string {
	t, _ := xmpptest.Attr(el, "type")
	return t
}

// --- TCP quick acks ------------------------------------------------------------------------------

// quickAckConn sets TCP_QUICKACK before every read, so that the kernel does not delay the ACK
// of a reply's last segment (a server without TCP_NODELAY would hold its next write for it).
type quickAckConn struct {
	net.Conn
	rc syscall.RawConn
}

func withQuickAckConn(nc net.Conn) net.Conn {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nc
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nc
	}
	return &quickAckConn{Conn: nc, rc: rc}
}

func (q *quickAckConn) Read(p []byte) (int, error) {
	_ = q.rc.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1) })
	return q.Conn.Read(p)
}
