// proxy.go: fault injection on the wire. Proxy is a loopback TCP proxy a client connects
// through: KillAll resets every connection (RST both ways), Pause silently stops forwarding
// (like a DROP rule: the bytes wait, TCP stays up, only timeouts/pings notice), Resume goes on.
// With StripStartTLS it is a STARTTLS-stripping man in the middle that removes <starttls/> from
// the server's stream features and records what the client sent. KillTCP uses `ss -K`.

package xmpptest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
)

// ProxyOptions configures StartProxyOpts.
type ProxyOptions struct {
	StripStartTLS bool // remove <starttls .../> or <starttls ...>...</starttls> from server data
	Record        bool // keep every byte each side sent (ClientBytes, ServerBytes)
}

// Proxy forwards loopback TCP connections to a target address.
type Proxy struct {
	target string
	opts   ProxyOptions
	ln     net.Listener

	mu       sync.Mutex
	pairs    map[*proxyPair]bool
	resumed  chan struct{} // closed while forwarding; open (blocking) while paused
	closed   bool
	accepted int
	client   bytes.Buffer
	server   bytes.Buffer
	wg       sync.WaitGroup
}

type proxyPair struct {
	c, s  *net.TCPConn
	dead  chan struct{}
	once  sync.Once
	pumps sync.WaitGroup // both directions; the pair leaves the table when both ended
}

func (pp *proxyPair) kill(rst bool) {
	pp.once.Do(func() {
		if rst {
			pp.c.SetLinger(0) // close sends RST instead of FIN
			pp.s.SetLinger(0)
		}
		pp.c.Close()
		pp.s.Close()
		close(pp.dead)
	})
}

// StartProxy listens on a free loopback port and forwards every connection to target.
func StartProxy(target string) (*Proxy, error) { return StartProxyOpts(target, ProxyOptions{}) }

// StartStripTLSProxy starts a STARTTLS-stripping, recording proxy to target.
func StartStripTLSProxy(target string) (*Proxy, error) {
	return StartProxyOpts(target, ProxyOptions{StripStartTLS: true, Record: true})
}

// StartProxyOpts is StartProxy with options.
func StartProxyOpts(target string, opts ProxyOptions) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{target: target, opts: opts, ln: ln, pairs: map[*proxyPair]bool{}, resumed: make(chan struct{})}
	close(p.resumed)
	p.wg.Add(1)
	go p.acceptLoop()
	return p, nil
}

// Addr is the address clients connect to ("127.0.0.1:PORT").
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Accepted returns how many connections the proxy has accepted so far.
func (p *Proxy) Accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// Active returns how many connections are open now.
func (p *Proxy) Active() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pairs)
}

func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
			continue
		}
		pp := &proxyPair{c: c.(*net.TCPConn), s: s.(*net.TCPConn), dead: make(chan struct{})}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			pp.kill(true)
			return
		}
		p.accepted++
		p.pairs[pp] = true
		p.mu.Unlock()
		p.wg.Add(3)
		pp.pumps.Add(2)
		go p.pump(pp, pp.c, pp.s, false)
		go p.pump(pp, pp.s, pp.c, true)
		go func() {
			defer p.wg.Done()
			pp.pumps.Wait()
			pp.kill(false)
			p.mu.Lock()
			delete(p.pairs, pp)
			p.mu.Unlock()
		}()
	}
}

// pump copies src to dst; fromServer selects the direction (and the STARTTLS filter).
func (p *Proxy) pump(pp *proxyPair, src, dst *net.TCPConn, fromServer bool) {
	defer p.wg.Done()
	defer pp.pumps.Done()
	var strip *tlsStripper
	if fromServer && p.opts.StripStartTLS {
		strip = &tlsStripper{}
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			data := buf[:n]
			if p.opts.Record {
				p.mu.Lock()
				if fromServer {
					p.server.Write(data)
				} else {
					p.client.Write(data)
				}
				p.mu.Unlock()
			}
			if strip != nil {
				data = strip.feed(data)
			}
			p.mu.Lock()
			gate := p.resumed
			p.mu.Unlock()
			select { // paused: hold the data (and stop reading) until Resume or death
			case <-gate:
			case <-pp.dead:
				return
			}
			if len(data) > 0 {
				if _, werr := dst.Write(data); werr != nil {
					pp.kill(false)
					return
				}
			}
		}
		if err != nil {
			select {
			case <-pp.dead:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) || !isEOF(err) {
				pp.kill(false)
				return
			}
			// orderly EOF: pass the half-close on, the other direction may go on
			if strip != nil {
				if rest := strip.flush(); len(rest) > 0 {
					dst.Write(rest)
				}
			}
			dst.CloseWrite()
			return
		}
	}
}

func isEOF(err error) bool { return errors.Is(err, io.EOF) }

// KillAll resets every current connection (RST to the client and to the server). The proxy
// keeps accepting new connections.
func (p *Proxy) KillAll() {
	p.mu.Lock()
	pairs := make([]*proxyPair, 0, len(p.pairs))
	for pp := range p.pairs {
		pairs = append(pairs, pp)
	}
	p.mu.Unlock()
	for _, pp := range pairs {
		pp.kill(true)
	}
}

// Pause stops forwarding in both directions without closing anything: a silent break.
func (p *Proxy) Pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.resumed:
		p.resumed = make(chan struct{})
	default: // already paused
	}
}

// Resume forwards again, delivering what was held.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.resumed:
	default:
		close(p.resumed)
	}
}

// ClientBytes returns a copy of everything clients sent (needs Record).
func (p *Proxy) ClientBytes() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]byte(nil), p.client.Bytes()...)
}

// ServerBytes returns a copy of everything the server sent, before filtering (needs Record).
func (p *Proxy) ServerBytes() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]byte(nil), p.server.Bytes()...)
}

// Close stops listening and resets all connections.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	err := p.ln.Close()
	p.KillAll()
	p.wg.Wait()
	return err
}

// tlsStripper removes the <starttls> element from a server-to-client XML byte stream fed in
// arbitrary chunks. After the server's <proceed/> (a client that ignored the missing feature
// and asked anyway) it passes everything through untouched, since TLS records follow.
type tlsStripper struct {
	pending     []byte
	passthrough bool
}

var (
	startTLSOpen  = []byte("<starttls")
	startTLSClose = []byte("</starttls>")
	proceedTag    = []byte("<proceed")
)

func (f *tlsStripper) feed(data []byte) []byte {
	if f.passthrough {
		return data
	}
	f.pending = append(f.pending, data...)
	var out []byte
	for {
		if i := bytes.Index(f.pending, proceedTag); i >= 0 && !bytes.Contains(f.pending[:i], startTLSOpen) {
			out = append(out, f.pending...)
			f.pending = nil
			f.passthrough = true
			return out
		}
		i := bytes.Index(f.pending, startTLSOpen)
		if i < 0 {
			// keep a tail that may be the start of "<starttls" or "<proceed"
			keep := 0
			for k := len(f.pending) - 1; k >= 0 && k >= len(f.pending)-len(startTLSOpen); k-- {
				if f.pending[k] == '<' {
					tail := f.pending[k:]
					if bytes.HasPrefix(startTLSOpen, tail) || bytes.HasPrefix(proceedTag, tail) {
						keep = len(tail)
					}
					break
				}
			}
			out = append(out, f.pending[:len(f.pending)-keep]...)
			f.pending = append([]byte(nil), f.pending[len(f.pending)-keep:]...)
			return out
		}
		after := i + len(startTLSOpen)
		if after >= len(f.pending) {
			out = append(out, f.pending[:i]...)
			f.pending = append([]byte(nil), f.pending[i:]...)
			return out
		}
		if c := f.pending[after]; c != ' ' && c != '/' && c != '>' && c != '\t' && c != '\n' && c != '\r' {
			// some other element whose name starts with "starttls": emit it and go on
			out = append(out, f.pending[:after]...)
			f.pending = f.pending[after:]
			continue
		}
		gt, ok := tagEnd(f.pending, i)
		if !ok {
			out = append(out, f.pending[:i]...)
			f.pending = append([]byte(nil), f.pending[i:]...)
			return out
		}
		end := gt + 1
		if f.pending[gt-1] != '/' {
			j := bytes.Index(f.pending[gt:], startTLSClose)
			if j < 0 {
				out = append(out, f.pending[:i]...)
				f.pending = append([]byte(nil), f.pending[i:]...)
				return out
			}
			end = gt + j + len(startTLSClose)
		}
		out = append(out, f.pending[:i]...)
		f.pending = f.pending[end:]
	}
}

func (f *tlsStripper) flush() []byte {
	out := f.pending
	f.pending = nil
	return out
}

// KillTCP destroys TCP sockets on this machine with `ss -K` (needs root or CAP_NET_ADMIN and a
// kernel with CONFIG_INET_DIAG_DESTROY; it works on the project's machines). addr is
// "host:port" or just a port: every non-listening socket whose source or destination port is
// that port is destroyed (the owner gets ECONNABORTED, its peer a RST). So
//   - KillTCP(peer.LocalAddr()) kills one client's connection (both ends), and
//   - KillTCP(srv.C2SAddr) kills every client connection to the server (its listener stays).
//
// It returns how many sockets were destroyed.
func KillTCP(addr string) (int, error) {
	portStr := addr
	if _, p, err := net.SplitHostPort(addr); err == nil {
		portStr = p
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port <= 0 || port > 65535 {
		return 0, fmt.Errorf("xmpptest: KillTCP: bad address or port %q", addr)
	}
	p := ":" + strconv.Itoa(port)
	args := []string{"-K", "-t", "-n", "-H", "exclude", "listening", "(", "sport", "=", p, "or", "dport", "=", p, ")"}
	cmd := exec.Command("ss", args...)
	if os.Geteuid() != 0 {
		// Killing sockets needs CAP_NET_ADMIN: as a normal user go through
		// sudo without a prompt (as make deps does); a refusal is an error.
		cmd = exec.Command("sudo", append([]string{"-n", "ss"}, args...)...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("xmpptest: ss -K: %v: %s", err, out)
	}
	n := 0
	for _, line := range strings.Split(string(out), "\n") {
		if strings.TrimSpace(line) != "" {
			n++
		}
	}
	return n, nil
}
