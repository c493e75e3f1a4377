// Client is one account's XMPP session: it connects, keeps the session
// alive (pings, XEP-0198 acks and resumption, reconnect with jittered
// exponential backoff), reads the stream in one goroutine and dispatches
// stanzas in arrival order, and writes stanzas for the app layer.
//
// What the server received is tracked on every session, with or without
// XEP-0198: AckEvent names the stanzas the server is known to have, and a
// fresh session's SessionEvent.Unacked those it may or may not have.
//   - With XEP-0198 the server's h says it (<a/>, <resumed/>, and the
//     <failed h='N'/> of a resumption the server refused but whose count it
//     still knew: XEP-0198 §5; Prosody 0.12 keeps it for expired sessions).
//   - Without it (the server lacks it or refused <enable/>) a barrier does:
//     after a burst of writes the client pings the server (XEP-0199); one
//     stream is processed in order, so the answer, result or error, means
//     every stanza written before the ping was received. Stanzas written
//     and not confirmed when the connection dies are reported as Unacked,
//     as XEP-0198 ones are.
//
// This file holds the lifecycle (connect, run, reconnect, restart, close)
// and the write side; sm.go the XEP-0198 bookkeeping, dispatch.go the read
// loop and routing.
package xmppclient

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"gosrc.io/xmpp/stanza"
)

// Client is safe for concurrent use.
type Client struct {
	cfg    Config
	log    *slog.Logger
	events *eventQueue
	iqs    *iqTracker
	disco  *discoResponder
	mam    mamRouter
	upload uploadCache // the XEP-0363 service found in this session

	handlersMu sync.RWMutex
	handlers   map[xml.Name]IQHandler

	mu      sync.Mutex // guards the fields below
	state   State
	cur     *conn
	jid     JID
	closed  bool
	running bool
	// stopped: run gave up after a fatal stream error (see Stopped).
	stopped bool

	// out serializes writing stanzas and the XEP-0198 bookkeeping, so the
	// unacked queue is always in wire order.
	out      sync.Mutex
	sm       smState
	csi      csiState // XEP-0352, written under out too (csi.go)
	barriers int      // barrier pings written (see writeBarrierLocked), for tests

	ctx          context.Context
	cancel       context.CancelFunc
	reconnectNow chan struct{}
	runDone      chan struct{}
}

// New checks cfg and returns an unconnected client.
func New(cfg Config) (*Client, error) {
	full, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Client{
		cfg:          full,
		log:          full.Logger,
		events:       newEventQueue(),
		iqs:          newIQTracker(),
		handlers:     map[xml.Name]IQHandler{},
		ctx:          ctx,
		cancel:       cancel,
		reconnectNow: make(chan struct{}, 1),
		runDone:      make(chan struct{}),
		mam:          mamRouter{queries: map[string]*mamCollector{}},
	}
	c.disco = newDiscoResponder(&c.cfg)
	c.HandleIQ(xml.Name{Space: nsDiscoInfo, Local: "query"}, c.disco.handleInfo)
	c.HandleIQ(xml.Name{Space: nsPing, Local: "ping"}, func(stanza.IQ, []byte) (any, error) { return nil, nil })
	c.HandleIQ(xml.Name{Space: nsRoster, Local: "query"}, c.handleRosterPush)
	c.HandleIQ(xml.Name{Space: nsBlocking, Local: "block"}, c.handleBlockPush)
	c.HandleIQ(xml.Name{Space: nsBlocking, Local: "unblock"}, c.handleBlockPush)
	return c, nil
}

// Events returns the event stream. It is closed after Close.
func (c *Client) Events() <-chan Event { return c.events.out }

// State returns the current connection state.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// JID returns the full JID bound by the server (zero before the first session).
func (c *Client) JID() JID {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.jid
}

// Config returns the client's configuration with defaults applied.
func (c *Client) Config() Config {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cfg
}

func (c *Client) setState(s State, err error, attempt int, retryIn time.Duration) {
	c.mu.Lock()
	c.state = s
	c.mu.Unlock()
	if err != nil {
		c.log.Info("connection state", "state", s.String(), "err", err, "attempt", attempt)
	} else {
		c.log.Info("connection state", "state", s.String(), "attempt", attempt)
	}
	c.events.push(StateEvent{State: s, Err: err, Attempt: attempt, RetryIn: retryIn, At: time.Now()})
}

// Connect logs in once, synchronously, and returns a typed error if that
// fails. After it succeeds the client stays connected by itself until Close.
func (c *Client) Connect(ctx context.Context) error {
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return ErrClosed
	case c.running:
		c.mu.Unlock()
		return errors.New("xmpp client: already connected")
	}
	c.mu.Unlock()
	c.setState(StateConnecting, nil, 0, 0)
	cn, err := c.establish(ctx)
	if err != nil {
		c.setState(StateOffline, err, 0, 0)
		return err
	}
	c.mu.Lock()
	if c.closed { // Close ran meanwhile and found no connection to end
		c.mu.Unlock()
		cn.close()
		return ErrClosed
	}
	c.running = true
	c.mu.Unlock()
	go c.run(cn)
	return nil
}

// establish makes a connection and a session: resumed when the previous
// one can be, fresh otherwise. On success the session is current.
func (c *Client) establish(ctx context.Context) (*conn, error) {
	hctx, cancel := context.WithTimeout(ctx, c.cfg.HandshakeTimeout)
	defer cancel()
	stop := context.AfterFunc(c.ctx, cancel) // Close aborts a login in progress
	defer stop()
	c.mu.Lock()
	cfg := c.cfg // ChangePassword may update the password
	c.mu.Unlock()
	cn, err := dialAndLogin(hctx, &cfg)
	if err != nil {
		return nil, err
	}
	if err := c.startSession(hctx, cn); err != nil {
		cn.close()
		if hctx.Err() != nil && c.ctx.Err() != nil {
			return nil, ErrClosed
		}
		return nil, err
	}
	_ = cn.nc.SetDeadline(time.Time{})
	return cn, nil
}

// startSession resumes or binds on an authenticated stream.
func (c *Client) startSession(ctx context.Context, cn *conn) error {
	c.out.Lock()
	canResume := c.sm.id != "" && cn.features.SM != nil && !c.cfg.DisableStreamManagement
	prevID, h := c.sm.id, c.sm.inbound
	c.out.Unlock()

	if canResume {
		if err := cn.writeString("<resume xmlns='" + nsSM + "' h='" + strconv.FormatUint(uint64(h), 10) + "' previd='" + xmlEscape(prevID) + "'/>"); err != nil {
			return err
		}
		el, err := cn.await(ctx, func(el element) bool {
			return el.Start.Name.Space == nsSM && (el.Start.Name.Local == "resumed" || el.Start.Name.Local == "failed")
		})
		if err != nil {
			return err
		}
		var ans smEnabled
		_ = decodeElement(cn.er.header, el.Raw, &ans)
		if el.Start.Name.Local == "resumed" {
			return c.resumed(cn, ans)
		}
		c.log.Info("stream resumption refused; starting a fresh session", "h", ans.H)
		c.out.Lock()
		if ans.H != "" {
			if n, err := strconv.ParseUint(ans.H, 10, 32); err == nil {
				c.ackUpTo(uint32(n))
			}
		}
		c.sm.id = ""
		c.out.Unlock()
	}

	jid, err := cn.bind(ctx, c.cfg.JID.Resource)
	if err != nil {
		return err
	}
	smOn := false
	var en smEnabled
	if cn.features.SM != nil && !c.cfg.DisableStreamManagement {
		if err := cn.writeString("<enable xmlns='" + nsSM + "' resume='true'/>"); err != nil {
			return err
		}
		el, err := cn.await(ctx, func(el element) bool {
			return el.Start.Name.Space == nsSM && (el.Start.Name.Local == "enabled" || el.Start.Name.Local == "failed")
		})
		if err != nil {
			return err
		}
		if el.Start.Name.Local == "enabled" {
			smOn = true
			_ = decodeElement(cn.er.header, el.Raw, &en)
		} else {
			c.log.Warn("the server refused stream management")
		}
	}
	return c.freshSession(cn, jid, smOn, en)
}

// run owns the connection after the first login: it reads until the
// connection breaks, then reconnects with backoff until Close or a
// permanent error.
func (c *Client) run(cn *conn) {
	c.mu.Lock()
	done := c.runDone // Restart makes a new one for the next run
	c.mu.Unlock()
	defer close(done)
	for {
		stopPing := c.startPinger(cn)
		err := c.readLoop(cn)
		stopPing()
		cn.close()
		c.mu.Lock()
		if c.cur == cn {
			c.cur = nil
		}
		closed := c.closed
		c.mu.Unlock()
		if closed {
			return
		}
		c.out.Lock()
		resumable := c.sm.id != ""
		var se *StreamError
		if !errors.As(err, &se) {
			se = nil
		}
		c.sm.endedBy = se
		c.out.Unlock()
		if !resumable {
			c.iqs.failAll(fmt.Errorf("connection lost: %w", err))
		}
		if isFatalStreamError(err) {
			// Stopped before the event, so that whoever reads it can
			// Restart at once.
			c.mu.Lock()
			c.stopped = true
			c.mu.Unlock()
			c.setState(StateOffline, err, 0, 0)
			return
		}
		next, ok := c.reconnect(err)
		if !ok {
			return
		}
		cn = next
	}
}

// unsolicitedAckEvery: the client acknowledges received stanzas by itself
// after this many (see handleElement).
const unsolicitedAckEvery = 64

// isFatalStreamError: stream errors after which reconnecting would only
// fight another client or be refused again. Not policy-violation: servers
// use it for passing limits (ejabberd closes a stream that falls too far
// behind in acknowledging a burst, "Too many unacked stanzas"; rate
// limits), after which the backoff brings the account back.
func isFatalStreamError(err error) bool {
	var se *StreamError
	if errors.As(err, &se) {
		switch se.Condition {
		case "conflict", "not-authorized", "host-unknown", "invalid-from", "improper-addressing":
			return true
		}
	}
	return false
}

// reconnect retries with jittered exponential backoff.
func (c *Client) reconnect(cause error) (*conn, bool) {
	for attempt := 1; ; attempt++ {
		delay := backoff(attempt, c.cfg.ReconnectMin, c.cfg.ReconnectMax)
		c.setState(StateWaiting, cause, attempt, delay)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-c.reconnectNow:
			t.Stop()
		case <-c.ctx.Done():
			t.Stop()
			return nil, false
		}
		c.setState(StateConnecting, nil, attempt, 0)
		cn, err := c.establish(c.ctx)
		if err == nil {
			c.mu.Lock()
			closed := c.closed
			c.mu.Unlock()
			if closed {
				// Close ran while the session was being made and saw no
				// current connection to end: end it here, or run would
				// read from it forever and Close would wait for run.
				cn.close()
				return nil, false
			}
			return cn, true
		}
		if c.ctx.Err() != nil {
			return nil, false
		}
		if IsPermanent(err) || isFatalStreamError(err) {
			c.setState(StateOffline, err, attempt, 0)
			return nil, false
		}
		cause = err
	}
}

// backoff: the first retry comes almost at once (a dropped connection can
// often be resumed immediately); then min·2^(n-1) capped at max, each
// scattered over [d/2, d] so many clients do not retry in step.
func backoff(attempt int, minD, maxD time.Duration) time.Duration {
	if attempt <= 1 {
		return time.Duration(rand.Int64N(int64(minD)/4 + 1))
	}
	d := minD
	for i := 1; i < attempt && d < maxD; i++ {
		d *= 2
	}
	d = min(d, maxD)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// Reconnect drops the current connection and connects again at once, for
// when the app knows the network changed or the machine woke from sleep.
func (c *Client) Reconnect() {
	c.mu.Lock()
	cn := c.cur
	c.mu.Unlock()
	select {
	case c.reconnectNow <- struct{}{}:
	default:
	}
	if cn != nil {
		cn.fail(errors.New("reconnect requested"))
	}
}

// ErrStillRunning: Restart was called while the client is still
// connected or reconnecting by itself (Reconnect is for that case).
var ErrStillRunning = errors.New("xmpp client: still connected or reconnecting")

// Stopped reports whether the client has given up after its first login:
// a stream error after which reconnecting would fight another client or
// be refused again (see isFatalStreamError) ended its session, and it
// waits for Restart or Close.
func (c *Client) Stopped() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopped && !c.closed
}

// Restart logs in again after the client stopped (Stopped), as the
// resource given (empty: the same one): after a conflict, the other
// client keeps the old resource and this one takes a fresh one instead of
// throwing it out. It blocks like Connect; events go on in the same
// stream. The previous session is resumed if the server still allows it
// (it does not after a conflict: then a fresh one starts).
func (c *Client) Restart(ctx context.Context, resource string) error {
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return ErrClosed
	case !c.stopped:
		c.mu.Unlock()
		return ErrStillRunning
	}
	runDone := c.runDone
	c.mu.Unlock()
	<-runDone // run is returning (it set stopped just before)
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return ErrClosed
	case !c.stopped: // another Restart came first
		c.mu.Unlock()
		return ErrStillRunning
	}
	c.stopped, c.running = false, false
	c.runDone = make(chan struct{})
	if resource != "" {
		// Only the resource field: the domain is read without the lock.
		c.cfg.JID.Resource = c.cfg.JID.WithResource(resource).Resource
	}
	c.mu.Unlock()
	return c.Connect(ctx)
}

// Close ends the session cleanly and stops reconnecting.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	cn := c.cur
	running, runDone := c.running, c.runDone
	c.mu.Unlock()
	c.cancel()
	if cn != nil {
		_ = cn.writeString("</stream:stream>")
		cn.fail(ErrClosed)
	}
	if running {
		<-runDone
	}
	c.iqs.failAll(ErrClosed)
	c.setState(StateOffline, nil, 0, 0)
	c.events.close()
	go func() { // stop delivering if nobody reads any more
		time.Sleep(5 * time.Second)
		c.events.abandon()
	}()
	return nil
}

// Send writes a stanza (message, presence or IQ). With stream management,
// a stanza sent while the connection is down is queued and written when the
// session resumes (or, for messages, reported in the next fresh session's
// Unacked).
func (c *Client) Send(p stanza.Packet) error {
	raw, err := xml.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode %s: %w", p.Name(), err)
	}
	return c.sendRaw(raw, packetID(p), p.Name())
}

func packetID(p stanza.Packet) string {
	switch v := p.(type) {
	case stanza.Message:
		return v.Id
	case *stanza.Message:
		return v.Id
	case stanza.Presence:
		return v.Id
	case *stanza.Presence:
		return v.Id
	case *stanza.IQ:
		return v.Id
	}
	return ""
}

// sendRaw writes one stanza's bytes with the XEP-0198 bookkeeping.
func (c *Client) sendRaw(raw []byte, id, kind string) error {
	c.out.Lock()
	defer c.out.Unlock()
	c.mu.Lock()
	closed, cn := c.closed, c.cur
	c.mu.Unlock()
	if closed {
		return ErrClosed
	}
	s := sentStanza{raw: raw, id: id, kind: kind}
	if cn == nil {
		if c.sm.id != "" {
			c.sm.unacked = append(c.sm.unacked, s) // written on resume
			return nil
		}
		return ErrNotConnected
	}
	return c.writeStanzaLocked(cn, s)
}

// SendPresence sends a presence stanza with our XEP-0115 capabilities.
func (c *Client) SendPresence(p stanza.Presence) error {
	if p.XMLName.Local == "" {
		p.XMLName = xml.Name{Local: "presence"}
	}
	p.Extensions = append(p.Extensions, c.disco.capsElement())
	return c.Send(p)
}

// startPinger pings the server when the stream has been quiet for
// PingInterval, and fails the connection if no answer comes within
// PingTimeout (a silent break: the TCP connection looks alive but is not).
func (c *Client) startPinger(cn *conn) (stop func()) {
	ctx, cancel := context.WithCancel(c.ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := max(c.cfg.PingInterval/4, 50*time.Millisecond)
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			idle := time.Since(time.Unix(0, cn.lastRead.Load()))
			if idle < c.cfg.PingInterval {
				continue
			}
			pctx, pcancel := context.WithTimeout(ctx, c.cfg.PingTimeout)
			err := c.pingOn(pctx, cn)
			pcancel()
			if err != nil && ctx.Err() == nil {
				var se *StanzaError
				if errors.As(err, &se) {
					continue // an error reply is still a reply: the link is alive
				}
				cn.fail(fmt.Errorf("the server stopped answering (no ping reply in %s)", c.cfg.PingTimeout))
				return
			}
		}
	}()
	return func() { cancel(); <-done }
}

// pingOn pings the server over a specific connection.
func (c *Client) pingOn(ctx context.Context, cn *conn) error {
	c.mu.Lock()
	cur := c.cur
	c.mu.Unlock()
	if cur != cn {
		return nil
	}
	_, err := c.SendIQ(ctx, stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeGet, To: c.cfg.JID.Domain}, Payload: &pingPayload{}})
	return err
}
