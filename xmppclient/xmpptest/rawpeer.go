// rawpeer.go: RawPeer, a minimal independent XMPP client for tests and the "raw client"
// baseline of benchmarks: STARTTLS (or direct TLS), SASL, bind, optional initial presence, then
// a lean read loop that splits elements without a DOM and counts/records <message>s, and a
// buffered writer that flushes once per call (SendMessages writes a whole burst per flush).

package xmpptest

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// RawMessage is a received <message> stanza (direct attributes and direct <body> child).
type RawMessage struct {
	From, To, ID, Type string
	Body               string
	HasBody            bool
	Raw                string // the whole stanza as received
}

// RawElement is any other top-level element received after login (iq, presence, ...).
type RawElement struct {
	Name string // qualified name, e.g. "iq", "presence", "stream:error", "r"
	Raw  string
}

// RawOptions tunes DialRawOpts. The zero value means: STARTTLS to srv.C2SAddr, SASL PLAIN,
// initial presence sent, messages recorded.
type RawOptions struct {
	Addr       string        // dial this instead (a Proxy's Addr, say); default srv.C2SAddr or srv.DirectTLSAddr
	DirectTLS  bool          // XEP-0368: TLS from the first byte (default address srv.DirectTLSAddr)
	Mechanism  string        // "PLAIN" (default) or "SCRAM-SHA-1"
	NoPresence bool          // do not send initial presence (then bare-JID messages go offline)
	CountOnly  bool          // only count <message>s: no parsing, no history (benchmarks)
	TLSConfig  *tls.Config   // default srv.TLSConfig() (trusts only the server's test CA)
	Timeout    time.Duration // for connecting and logging in (default 10 s)
}

// RawPeer is a logged-in raw XMPP client. All methods are safe for concurrent use.
type RawPeer struct {
	jid      string
	features string
	mechs    []string
	conn     net.Conn
	tcp      net.Conn
	sc       *Scanner

	wmu sync.Mutex
	w   *bufio.Writer

	count     atomic.Int64
	pings     atomic.Int64 // ids of PingServer
	countOnly bool

	mu      sync.Mutex
	msgs    []RawMessage
	others  []RawElement
	notify  chan struct{} // closed and replaced whenever something arrives
	chOnce  sync.Once
	ch      chan RawMessage
	done    chan struct{}
	err     error
	closing atomic.Bool
}

// DialRaw logs user in with SASL PLAIN over STARTTLS (trusting srv.CAPool), binds resource
// and sends initial presence.
func DialRaw(srv *Server, user, pass, resource string) (*RawPeer, error) {
	return DialRawOpts(srv, user, pass, resource, RawOptions{})
}

// DialRawOpts is DialRaw with options.
func DialRawOpts(srv *Server, user, pass, resource string, o RawOptions) (*RawPeer, error) {
	addr := o.Addr
	if addr == "" {
		addr = srv.C2SAddr
		if o.DirectTLS {
			addr = srv.DirectTLSAddr
		}
	}
	if addr == "" {
		return nil, errors.New("xmpptest: no address to dial (direct TLS is Prosody only)")
	}
	cfg := o.TLSConfig
	if cfg == nil {
		cfg = srv.TLSConfig()
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	x, feats, err := dialXMPP(addr, srv.Domain, o.DirectTLS, cfg, timeout)
	if err != nil {
		return nil, err
	}
	p := &RawPeer{
		features:  string(feats),
		mechs:     mechanisms(feats),
		conn:      x.conn,
		tcp:       x.tcp,
		countOnly: o.CountOnly,
		notify:    make(chan struct{}),
		done:      make(chan struct{}),
	}
	fail := func(err error) (*RawPeer, error) {
		x.tcp.Close()
		return nil, err
	}
	feats, err = x.auth(user, pass, o.Mechanism)
	if err != nil {
		return fail(err)
	}
	if p.jid, err = x.bind(resource, feats); err != nil {
		return fail(err)
	}
	p.sc = x.sc
	p.w = bufio.NewWriterSize(x.conn, 64<<10)
	if !o.NoPresence {
		p.w.WriteString("<presence/>")
		if err := p.w.Flush(); err != nil {
			return fail(err)
		}
	}
	x.tcp.SetDeadline(time.Time{})
	go p.readLoop()
	return p, nil
}

// JID returns the bound full JID.
func (p *RawPeer) JID() string { return p.jid }

// Features returns the stream features the server offered after TLS (before auth).
func (p *RawPeer) Features() string { return p.features }

// Mechanisms returns the SASL mechanisms the server offered.
func (p *RawPeer) Mechanisms() []string { return append([]string(nil), p.mechs...) }

// LocalAddr returns the client side of the TCP connection ("127.0.0.1:PORT"), for KillTCP.
func (p *RawPeer) LocalAddr() string { return p.tcp.LocalAddr().String() }

// SendRaw writes s as is (any bytes: junk stanzas, bursts) and flushes.
func (p *RawPeer) SendRaw(s string) error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	p.w.WriteString(s)
	return p.w.Flush()
}

// SendMessage sends a chat message; id may be empty.
func (p *RawPeer) SendMessage(to, body, id string) error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	p.writeMessage(to, body, id)
	return p.w.Flush()
}

func (p *RawPeer) writeMessage(to, body, id string) {
	p.w.WriteString("<message type='chat' to='")
	p.w.WriteString(escapeText(to))
	if id != "" {
		p.w.WriteString("' id='")
		p.w.WriteString(escapeText(id))
	}
	p.w.WriteString("'><body>")
	p.w.WriteString(escapeText(body))
	p.w.WriteString("</body></message>")
}

// SendMessages sends count chat messages as fast as possible, bodies and ids
// prefix-000001 ... prefix-NNNNNN, flushing only when the 64 KiB buffer fills and at the end.
func (p *RawPeer) SendMessages(to string, count int, prefix string) error {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	var num [24]byte
	for i := 1; i <= count; i++ {
		b := strconv.AppendInt(num[:0], int64(i), 10)
		id := prefix + "-" + zeroPad(b, 6)
		p.writeMessage(to, id, id)
	}
	return p.w.Flush()
}

func zeroPad(b []byte, n int) string {
	if len(b) >= n {
		return string(b)
	}
	out := make([]byte, n)
	for i := range out[:n-len(b)] {
		out[i] = '0'
	}
	copy(out[n-len(b):], b)
	return string(out)
}

func (p *RawPeer) readLoop() {
	var err error
	for {
		var el []byte
		el, err = p.sc.Next()
		if err != nil {
			break
		}
		if nameIs(el, "message") {
			p.count.Add(1)
			if p.countOnly {
				continue
			}
			m := RawMessage{Raw: string(el)}
			m.From, _ = Attr(el, "from")
			m.To, _ = Attr(el, "to")
			m.ID, _ = Attr(el, "id")
			m.Type, _ = Attr(el, "type")
			m.Body, m.HasBody = ChildText(el, "body")
			p.mu.Lock()
			p.msgs = append(p.msgs, m)
			p.wake()
			p.mu.Unlock()
			continue
		}
		if nameIs(el, "iq") {
			p.answerIQ(el)
		}
		if p.countOnly && !nameIs(el, "stream:error") {
			continue
		}
		e := RawElement{Name: ElementName(el), Raw: string(el)}
		p.mu.Lock()
		p.others = append(p.others, e)
		p.wake()
		p.mu.Unlock()
		if e.Name == "stream:error" {
			err = fmt.Errorf("xmpptest: stream error: %s", e.Raw)
			break
		}
	}
	if p.closing.Load() {
		err = nil
	}
	p.conn.Close()
	p.mu.Lock()
	p.err = err
	close(p.done)
	p.wake()
	p.mu.Unlock()
}

// answerIQ replies to pings and roster pushes with a result, to other get/set with an error.
func (p *RawPeer) answerIQ(el []byte) {
	typ, _ := Attr(el, "type")
	if typ != "get" && typ != "set" {
		return
	}
	id, _ := Attr(el, "id")
	from, _ := Attr(el, "from")
	to := ""
	if from != "" {
		to = " to='" + escapeText(from) + "'"
	}
	reply := "<iq type='result' id='" + escapeText(id) + "'" + to + "/>"
	if _, ok := Child(el, "ping"); !ok {
		if q, ok := Child(el, "query"); !ok || typ != "set" || !containsNS(q, "jabber:iq:roster") {
			reply = "<iq type='error' id='" + escapeText(id) + "'" + to +
				"><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
		}
	}
	go p.SendRaw(reply) // not from the reader: a full socket must not stall reading
}

func containsNS(el []byte, ns string) bool {
	v, _ := Attr(el, "xmlns")
	return v == ns
}

// wake must be called with p.mu held.
func (p *RawPeer) wake() {
	close(p.notify)
	p.notify = make(chan struct{})
}

// Count returns how many <message> stanzas arrived so far.
func (p *RawPeer) Count() int64 { return p.count.Load() }

// Received returns a copy of all messages received so far (nil with CountOnly).
func (p *RawPeer) Received() []RawMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]RawMessage(nil), p.msgs...)
}

// Messages returns a channel that delivers every received message, from the first one on,
// in order; it is closed when the connection ends. Nothing is lost if it is read late, and an
// unread channel never stalls the connection (messages are queued in memory).
func (p *RawPeer) Messages() <-chan RawMessage {
	p.chOnce.Do(func() {
		p.ch = make(chan RawMessage, 256)
		go follow(&p.mu, &p.msgs, &p.notify, p.done, p.ch)
	})
	return p.ch
}

// WaitFor returns the first message received (before or after the call) for which pred is
// true, or an error when ctx ends or the connection closes first.
func (p *RawPeer) WaitFor(ctx context.Context, pred func(RawMessage) bool) (RawMessage, error) {
	return waitIn(ctx, &p.mu, &p.msgs, &p.notify, p.done, p.closedErr, pred)
}

// WaitElement is WaitFor for elements other than <message> (iq, presence, stream:error...).
func (p *RawPeer) WaitElement(ctx context.Context, pred func(RawElement) bool) (RawElement, error) {
	return waitIn(ctx, &p.mu, &p.others, &p.notify, p.done, p.closedErr, pred)
}

// closedErr is the error of a wait that ended with the connection; p.mu is held.
// PingServer sends an XEP-0199 ping to the peer's server (domain) and
// waits for the answer: a server handles a client's stanzas in order, so
// everything the peer sent before has been routed (and archived) by then,
// and the peer is still connected.
func (p *RawPeer) PingServer(ctx context.Context, domain string) error {
	id := fmt.Sprintf("ping-%d", p.pings.Add(1))
	if err := p.SendRaw("<iq type='get' id='" + id + "' to='" + domain + "'><ping xmlns='urn:xmpp:ping'/></iq>"); err != nil {
		return err
	}
	_, err := p.WaitElement(ctx, func(el RawElement) bool {
		return el.Name == "iq" && (strings.Contains(el.Raw, "id='"+id+"'") || strings.Contains(el.Raw, `id="`+id+`"`))
	})
	return err
}

func (p *RawPeer) closedErr() error {
	return fmt.Errorf("xmpptest: connection closed while waiting (%v)", p.err)
}

// WaitCount waits until at least n messages have arrived (works with CountOnly).
func (p *RawPeer) WaitCount(ctx context.Context, n int64) error {
	for {
		p.mu.Lock()
		notify, done := p.notify, p.done
		p.mu.Unlock()
		if p.count.Load() >= n {
			return nil
		}
		if p.countOnly {
			// no per-message wake-ups in the lean path: poll
			select {
			case <-done:
				if p.count.Load() >= n {
					return nil
				}
				return fmt.Errorf("xmpptest: connection closed after %d of %d messages (%v)", p.count.Load(), n, p.Err())
			case <-ctx.Done():
				return fmt.Errorf("xmpptest: %d of %d messages: %w", p.count.Load(), n, ctx.Err())
			case <-time.After(time.Millisecond):
			}
			continue
		}
		select {
		case <-notify:
		case <-done:
			if p.count.Load() >= n {
				return nil
			}
			return fmt.Errorf("xmpptest: connection closed after %d of %d messages (%v)", p.count.Load(), n, p.Err())
		case <-ctx.Done():
			return fmt.Errorf("xmpptest: %d of %d messages: %w", p.count.Load(), n, ctx.Err())
		}
	}
}

// Done is closed when the connection has ended (closed by either side, or broken).
func (p *RawPeer) Done() <-chan struct{} { return p.done }

// Err returns why the connection ended (nil while open, and after Close).
func (p *RawPeer) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Close ends the stream politely and closes the connection.
func (p *RawPeer) Close() error {
	if p.closing.Swap(true) {
		<-p.done
		return nil
	}
	p.wmu.Lock()
	p.conn.SetWriteDeadline(time.Now().Add(time.Second))
	p.w.WriteString("</stream:stream>")
	p.w.Flush()
	p.wmu.Unlock()
	select {
	case <-p.done:
	case <-time.After(2 * time.Second):
	}
	p.conn.Close()
	<-p.done
	return nil
}
