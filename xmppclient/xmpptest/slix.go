// slix.go: SlixPeer, a second, independent real XMPP client (slixmpp, run from the embedded
// peer.py with /usr/bin/python3) driven by JSON lines over stdin/stdout. Its stderr goes to
// the test log when the test fails.

package xmpptest

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

//go:embed peer.py
var peerPy string

// PeerMessage is a message received by a SlixPeer.
type PeerMessage struct {
	From, To, ID, Type, Body string
}

// PeerEvent is any event line printed by peer.py.
type PeerEvent struct {
	Event  string `json:"event"` // ready, message, presence, ok, error, disconnected
	JID    string `json:"jid"`
	From   string `json:"from"`
	To     string `json:"to"`
	ID     string `json:"id"`
	Type   string `json:"type"`
	Body   string `json:"body"`
	Show   string `json:"show"`
	Status string `json:"status"`
	Seq    int64  `json:"seq"`
	Cmd    string `json:"cmd"`
	Error  string `json:"error"`
	// Nick is the XEP-0172 nickname of a presence (subscription requests).
	Nick string `json:"nick"`
	// Roster is the answer of get_roster, by bare JID.
	Roster map[string]PeerRosterItem `json:"roster"`
	// Data is the base64 image of an avatar event.
	Data string `json:"data"`
	// URL is the GET URL of an "uploaded" event (UploadFile).
	URL string `json:"url"`

	// Message extensions (see slix_chats.go): XEP-0359 ids, XEP-0308
	// correction and XEP-0424 retraction targets, XEP-0184 receipts,
	// XEP-0333 markers, the XEP-0203 delay stamp.
	OriginID       string `json:"origin_id"`
	StanzaID       string `json:"stanza_id"`
	Replace        string `json:"replace"`
	Retract        string `json:"retract"`
	ReceiptRequest bool   `json:"receipt_request"`
	ReceiptFor     string `json:"receipt_for"`
	Markable       bool   `json:"markable"`
	Marker         string `json:"marker"`
	// OOB is the XEP-0066 URL of a shared file ("" when none).
	OOB       string `json:"oob"`
	MarkerFor string `json:"marker_for"`
	Stamp     string `json:"stamp"`
	// ChatState is the XEP-0085 state a message carries ("" for none).
	ChatState string `json:"chat_state"`
}

// SlixPeer is a running slixmpp client.
type SlixPeer struct {
	JID string // bound full JID (after ready)

	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr SyncBuffer
	wmu    sync.Mutex
	exited chan struct{}

	mu     sync.Mutex
	seq    int64
	msgs   []PeerMessage
	events []PeerEvent
	notify chan struct{}
	done   chan struct{} // stdout closed: the process is ending
	chOnce sync.Once
	ch     chan PeerMessage
	closed bool
}

// SyncBuffer is a bytes.Buffer safe to write from one goroutine (a child
// process's output, copied by os/exec) while another reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Bytes is a copy of what was written so far.
func (s *SyncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

// StartSlixmpp logs user in with slixmpp (STARTTLS to srv.C2SAddr, trusting srv.CAFile) and
// returns once the session started and initial presence was sent. It skips or fails t per the
// missing-component policy, and stops the peer when t ends.
func StartSlixmpp(t testing.TB, srv *Server, user, pass string) (*SlixPeer, error) {
	t.Helper()
	RequireSlixmpp(t)
	host, port, err := net.SplitHostPort(srv.C2SAddr)
	if err != nil {
		return nil, err
	}
	cfg, _ := json.Marshal(map[string]string{
		"jid": srv.JID(user) + "/slix", "password": pass, "host": host, "port": port, "ca_file": srv.CAFile,
	})
	p := &SlixPeer{notify: make(chan struct{}), done: make(chan struct{}), exited: make(chan struct{})}
	cmd := exec.Command(Python, "-c", peerPy)
	cmd.Env = append(cleanEnv(), "XMPPTEST_PEER="+string(cfg), "PYTHONUNBUFFERED=1")
	cmd.Stderr = &p.stderr
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := startChild(cmd, syscall.SIGKILL); err != nil {
		return nil, fmt.Errorf("xmpptest: start slixmpp: %w", err)
	}
	p.cmd = cmd
	go p.readLoop(stdout)
	go func() {
		<-p.done
		cmd.Wait()
		close(p.exited)
	}()
	registerCloser(p, func() { p.Close() })
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("slixmpp peer %s stderr:\n%s", p.JID, p.Stderr())
		}
		p.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ev, err := p.WaitEvent(ctx, func(e PeerEvent) bool { return e.Event == "ready" || e.Event == "error" })
	if err == nil && ev.Event == "error" {
		err = errors.New(ev.Error)
	}
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("xmpptest: slixmpp login as %s: %v; stderr:\n%s", srv.JID(user), err, p.Stderr())
	}
	p.JID = ev.JID
	return p, nil
}

// cleanEnv drops Python variables that could make /usr/bin/python3 load another site.
func cleanEnv() []string {
	var env []string
	for _, kv := range syscall.Environ() {
		if strings.HasPrefix(kv, "PYTHONPATH=") || strings.HasPrefix(kv, "PYTHONHOME=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func (p *SlixPeer) readLoop(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var ev PeerEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			p.stderr.Write([]byte("xmpptest: bad line from peer.py: " + sc.Text() + "\n"))
			continue
		}
		p.mu.Lock()
		if ev.Event == "message" {
			p.msgs = append(p.msgs, PeerMessage{From: ev.From, To: ev.To, ID: ev.ID, Type: ev.Type, Body: ev.Body})
		}
		p.events = append(p.events, ev)
		close(p.notify)
		p.notify = make(chan struct{})
		p.mu.Unlock()
	}
	p.mu.Lock()
	close(p.done)
	close(p.notify)
	p.notify = make(chan struct{})
	p.mu.Unlock()
}

// Stderr returns what the Python process wrote to stderr so far.
func (p *SlixPeer) Stderr() string { return p.stderr.String() }

// command sends one command and waits for its "ok".
func (p *SlixPeer) command(c map[string]any, timeout time.Duration) error {
	p.mu.Lock()
	p.seq++
	seq := p.seq
	p.mu.Unlock()
	c["seq"] = seq
	line, err := json.Marshal(c)
	if err != nil {
		return err
	}
	p.wmu.Lock()
	_, err = p.stdin.Write(append(line, '\n'))
	p.wmu.Unlock()
	if err != nil {
		return fmt.Errorf("xmpptest: slixmpp peer: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ev, err := p.WaitEvent(ctx, func(e PeerEvent) bool { return (e.Event == "ok" || e.Event == "error") && e.Seq == seq })
	if err != nil {
		return fmt.Errorf("xmpptest: slixmpp %v: %w", c["cmd"], err)
	}
	if ev.Event == "error" {
		return fmt.Errorf("xmpptest: slixmpp %v: %s", c["cmd"], ev.Error)
	}
	return nil
}

// Send sends a chat message (id may be empty).
func (p *SlixPeer) Send(to, body, id string) error {
	return p.command(map[string]any{"cmd": "send", "to": to, "body": body, "id": id}, 10*time.Second)
}

// SendMany sends count chat messages as fast as slixmpp can, bodies and ids
// prefix-000001 ... prefix-NNNNNN.
func (p *SlixPeer) SendMany(to string, count int, prefix string) error {
	return p.command(map[string]any{"cmd": "send_many", "to": to, "count": count, "prefix": prefix},
		10*time.Second+time.Duration(count)*time.Millisecond)
}

// SendRaw sends raw XML through slixmpp's send_raw.
func (p *SlixPeer) SendRaw(xml string) error {
	return p.command(map[string]any{"cmd": "raw", "xml": xml}, 10*time.Second)
}

// SetPresence broadcasts presence with show ("", "away", "chat", "dnd", "xa") and status.
func (p *SlixPeer) SetPresence(show, status string) error {
	return p.command(map[string]any{"cmd": "presence", "show": show, "status": status}, 10*time.Second)
}

// Messages delivers every message received, from the first on, in order; closed at exit.
func (p *SlixPeer) Messages() <-chan PeerMessage {
	p.chOnce.Do(func() {
		p.ch = make(chan PeerMessage, 256)
		go follow(&p.mu, &p.msgs, &p.notify, p.done, p.ch)
	})
	return p.ch
}

// WaitFor returns the first message (received before or after the call) matching pred.
func (p *SlixPeer) WaitFor(ctx context.Context, pred func(PeerMessage) bool) (PeerMessage, error) {
	ev, err := p.WaitEvent(ctx, func(e PeerEvent) bool {
		return e.Event == "message" && pred(PeerMessage{From: e.From, To: e.To, ID: e.ID, Type: e.Type, Body: e.Body})
	})
	return PeerMessage{From: ev.From, To: ev.To, ID: ev.ID, Type: ev.Type, Body: ev.Body}, err
}

// WaitEvent returns the first event (before or after the call) matching pred.
func (p *SlixPeer) WaitEvent(ctx context.Context, pred func(PeerEvent) bool) (PeerEvent, error) {
	return waitIn(ctx, &p.mu, &p.events, &p.notify, p.done,
		func() error { return errors.New("xmpptest: slixmpp peer exited") }, pred)
}

// Events returns the events received so far, in order.
func (p *SlixPeer) Events() []PeerEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]PeerEvent(nil), p.events...)
}

// Count returns how many messages arrived so far.
func (p *SlixPeer) Count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.msgs)
}

// Close disconnects politely (quit), waits up to 5 s, then kills the process.
func (p *SlixPeer) Close() error {
	p.mu.Lock()
	already := p.closed
	p.closed = true
	p.mu.Unlock()
	if !already {
		unregisterCloser(p)
		p.wmu.Lock()
		p.stdin.Write([]byte(`{"cmd":"quit"}` + "\n"))
		p.stdin.Close()
		p.wmu.Unlock()
	}
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
	return nil
}
