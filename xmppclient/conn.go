// One connection to the server and its negotiation: stream start, STARTTLS
// (required: a server without it is refused before any credential is sent),
// SASL, then either resumption of the previous session (XEP-0198) or
// resource binding and enabling stream management.
package xmppclient

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// writeTimeout bounds one write on an established stream; a peer that stops
// reading is treated as a broken connection.
const writeTimeout = 30 * time.Second

// conn is one TCP (and TLS) connection with its current stream.
type conn struct {
	nc        net.Conn
	encrypted bool
	er        *elementReader
	features  streamFeatures
	early     []element // stanzas read during negotiation, delivered first
	mechanism string    // the SASL mechanism that logged in

	wmu sync.Mutex
	bw  *bufio.Writer

	lastRead atomic.Int64 // unix nanoseconds of the last element read
	failure  atomic.Pointer[error]
	closed   sync.Once
}

func newConn(nc net.Conn, encrypted bool) *conn {
	c := &conn{nc: nc, encrypted: encrypted, bw: bufio.NewWriterSize(nc, 16<<10)}
	c.lastRead.Store(time.Now().UnixNano())
	return c
}

// writeString writes and flushes s, bounded by writeTimeout.
func (c *conn) writeString(s string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeLocked([]byte(s))
}

func (c *conn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeLocked(b)
}

func (c *conn) writeLocked(b []byte) error {
	_ = c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := c.bw.Write(b); err != nil {
		return err
	}
	return c.bw.Flush()
}

// next reads the next top-level element, honouring ctx's deadline.
func (c *conn) next(ctx context.Context) (element, error) {
	if len(c.early) > 0 {
		el := c.early[0]
		c.early = c.early[1:]
		return el, nil
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.nc.SetReadDeadline(dl)
	} else {
		_ = c.nc.SetReadDeadline(time.Time{})
	}
	el, err := c.er.next()
	if err == nil {
		c.lastRead.Store(time.Now().UnixNano())
	}
	return el, err
}

// fail closes the connection, remembering why, so the reader reports the
// real cause (a ping timeout, say) rather than "use of closed connection".
func (c *conn) fail(reason error) {
	c.failure.CompareAndSwap(nil, &reason)
	c.close()
}

func (c *conn) close() {
	c.closed.Do(func() { _ = c.nc.Close() })
}

// cause returns the reason given to fail, or err.
func (c *conn) cause(err error) error {
	if p := c.failure.Load(); p != nil {
		return *p
	}
	return err
}

// openStream sends our stream header and reads the server's header and features.
func (c *conn) openStream(ctx context.Context, domain string) error {
	c.er = newElementReader(c.nc)
	if err := c.writeString(streamOpen(domain)); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.nc.SetReadDeadline(dl)
	}
	if _, err := c.er.readHeader(); err != nil {
		return err
	}
	el, err := c.next(ctx)
	if err != nil {
		return err
	}
	if el.Start.Name.Space == nsStream && el.Start.Name.Local == "error" {
		return streamErrorOf(c.er.header, el)
	}
	if el.Start.Name.Space != nsStream || el.Start.Name.Local != "features" {
		return &ProtocolError{Step: "stream start", Err: fmt.Errorf("expected <stream:features>, got <%s>", el.Start.Name.Local)}
	}
	c.features = streamFeatures{}
	if err := decodeElement(c.er.header, el.Raw, &c.features); err != nil {
		return &ProtocolError{Step: "stream features", Err: err}
	}
	return nil
}

func streamErrorOf(h streamHeader, el element) error {
	var dc definedCondition
	if err := decodeElement(h, el.Raw, &dc); err != nil {
		return &StreamError{Condition: "undefined-condition", Text: err.Error()}
	}
	return &StreamError{Condition: dc.Condition, Text: dc.Text}
}

// startTLS upgrades a plain stream; without STARTTLS it refuses to go on.
func (c *conn) startTLS(ctx context.Context, cfg *Config) error {
	if c.features.StartTLS == nil {
		return ErrInsecureServer
	}
	t0 := time.Now()
	defer func() { cfg.Logger.Debug("TLS upgrade", "took", time.Since(t0)) }()
	if err := c.writeString("<starttls xmlns='" + nsTLS + "'/>"); err != nil {
		return err
	}
	el, err := c.next(ctx)
	if err != nil {
		return err
	}
	if el.Start.Name.Space != nsTLS || el.Start.Name.Local != "proceed" {
		return &ProtocolError{Step: "STARTTLS", Err: fmt.Errorf("the server answered <%s> to STARTTLS", el.Start.Name.Local)}
	}
	_ = c.nc.SetDeadline(time.Time{})
	tc, err := handshakeTLS(ctx, cfg, c.nc, false)
	if err != nil {
		return err
	}
	c.nc = tc
	c.bw = bufio.NewWriterSize(tc, 16<<10)
	c.encrypted = true
	return nil
}

// dialAndLogin connects to the first reachable endpoint and runs the
// stream, TLS and SASL steps. It returns a stream ready for resume or bind.
func dialAndLogin(ctx context.Context, cfg *Config) (*conn, error) {
	return dialFirst(ctx, cfg, func(c *conn) error { return c.login(ctx, cfg) })
}

// dialFirst tries the account's endpoints in order (endpoints) and runs
// steps on the first connection made: a failure of the network (dialling,
// or steps failing with one) moves on to the next endpoint; a permanent
// one or a protocol answer ends the attempt. Errors after all endpoints
// failed are a *ConnectError naming what was tried.
func dialFirst(ctx context.Context, cfg *Config, steps func(*conn) error) (*conn, error) {
	var tried []string
	var lastErr error
	for _, ep := range endpoints(ctx, cfg) {
		tried = append(tried, ep.addr())
		nc, err := dialEndpoint(ctx, cfg, ep)
		if err != nil {
			if IsPermanent(err) {
				return nil, err
			}
			lastErr = err
			cfg.Logger.Debug("dial failed", "addr", ep.addr(), "err", err)
			continue
		}
		c := newConn(nc, ep.DirectTLS)
		if err := steps(c); err != nil {
			c.close()
			if IsPermanent(err) || !isNetworkError(err) {
				return nil, err
			}
			lastErr = err
			continue
		}
		return c, nil
	}
	if lastErr == nil {
		lastErr = errors.New("no address to connect to")
	}
	return nil, &ConnectError{Domain: cfg.JID.Domain, Tried: tried, Err: lastErr}
}

// isNetworkError tells connection-level failures (worth trying the next
// address) from protocol answers.
func isNetworkError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errStreamClosed)
}

func (c *conn) login(ctx context.Context, cfg *Config) error {
	domain := cfg.JID.Domain
	t0 := time.Now()
	step := func(name string) { cfg.Logger.Debug("login step done", "step", name, "elapsed", time.Since(t0)) }
	if err := c.openStream(ctx, domain); err != nil {
		return err
	}
	step("stream")
	if !c.encrypted {
		if err := c.startTLS(ctx, cfg); err != nil {
			return err
		}
		step("starttls+handshake")
		if err := c.openStream(ctx, domain); err != nil {
			return err
		}
		step("stream after TLS")
	}
	if err := c.authenticate(ctx, cfg); err != nil {
		return err
	}
	step("sasl " + c.mechanism)
	err := c.openStream(ctx, domain)
	step("stream after SASL")
	return err
}

// openForRegistration connects and secures a stream without logging in.
func openForRegistration(ctx context.Context, cfg *Config) (*conn, error) {
	return dialFirst(ctx, cfg, func(c *conn) error {
		err := c.openStream(ctx, cfg.JID.Domain)
		if err == nil && !c.encrypted {
			if err = c.startTLS(ctx, cfg); err == nil {
				err = c.openStream(ctx, cfg.JID.Domain)
			}
		}
		return err
	})
}

// bind asks for a resource (RFC 6120 §7) and returns the full JID.
func (c *conn) bind(ctx context.Context, resource string) (JID, error) {
	if c.features.Bind == nil {
		return JID{}, &ProtocolError{Step: "bind", Err: errors.New("the server offers no resource binding")}
	}
	id := newID()
	req := "<iq type='set' id='" + id + "'><bind xmlns='" + nsBind + "'>"
	if resource != "" {
		req += "<resource>" + xmlEscape(resource) + "</resource>"
	}
	req += "</bind></iq>"
	if err := c.writeString(req); err != nil {
		return JID{}, err
	}
	var res struct {
		Type  string           `xml:"type,attr"`
		ID    string           `xml:"id,attr"`
		JID   string           `xml:"urn:ietf:params:xml:ns:xmpp-bind bind>jid"`
		Error definedCondition `xml:"error"`
	}
	el, err := c.awaitIQ(ctx, id)
	if err != nil {
		return JID{}, err
	}
	if err := decodeElement(c.er.header, el.Raw, &res); err != nil {
		return JID{}, &ProtocolError{Step: "bind", Err: err}
	}
	if res.Type != "result" {
		return JID{}, &ProtocolError{Step: "bind", Err: &StanzaError{Condition: res.Error.Condition, Text: res.Error.Text}}
	}
	j, err := ParseJID(res.JID)
	if err != nil {
		return JID{}, &ProtocolError{Step: "bind", Err: err}
	}
	// RFC 6120 §4.3.7 legacy session establishment, only where required.
	if c.features.Session != nil && c.features.Session.Optional == nil {
		sid := newID()
		if err := c.writeString("<iq type='set' id='" + sid + "'><session xmlns='" + nsSession + "'/></iq>"); err != nil {
			return JID{}, err
		}
		if _, err := c.awaitIQ(ctx, sid); err != nil {
			return JID{}, err
		}
	}
	return j, nil
}

// awaitIQ reads until the IQ reply with id arrives; other stanzas are kept
// for the reader.
func (c *conn) awaitIQ(ctx context.Context, id string) (element, error) {
	return c.await(ctx, func(el element) bool {
		return el.Start.Name.Local == "iq" && el.Start.Name.Space == nsClient && el.attr("id") == id
	})
}

// await reads elements until match returns true. Stanzas that arrive in
// between are queued in c.early; a stream error ends the wait.
func (c *conn) await(ctx context.Context, match func(element) bool) (element, error) {
	var held []element
	defer func() { c.early = append(held, c.early...) }()
	for {
		if dl, ok := ctx.Deadline(); ok {
			_ = c.nc.SetReadDeadline(dl)
		}
		el, err := c.er.next()
		if err != nil {
			return element{}, err
		}
		if match(el) {
			return el, nil
		}
		if el.Start.Name.Space == nsStream && el.Start.Name.Local == "error" {
			return element{}, streamErrorOf(c.er.header, el)
		}
		if el.Start.Name.Space == nsClient {
			held = append(held, el)
		}
	}
}

// newID returns 128 random bits (crypto/rand), base64url without padding:
// an id nobody else can guess. IQ ids and MAM query ids are what replies
// and archive results are matched by, so a predictable one would let
// another entity aim a forgery at a request in flight.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (it crashes the program instead)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// smEnabled is the server's answer to <enable/>.
type smEnabled struct {
	XMLName  xml.Name
	ID       string `xml:"id,attr"`
	Resume   string `xml:"resume,attr"`
	Max      int    `xml:"max,attr"`
	Location string `xml:"location,attr"`
	H        string `xml:"h,attr"`
	Previd   string `xml:"previd,attr"`
}
