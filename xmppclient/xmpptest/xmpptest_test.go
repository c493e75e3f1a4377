// xmpptest_test.go: tests of the harness itself against real Prosody, ejabberd and slixmpp:
// start, users, raw logins and messages, restart, proxy faults, ss -K, STARTTLS stripping.

package xmpptest

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func dial(t *testing.T, srv *Server, user, pass string) *RawPeer {
	t.Helper()
	p, err := DialRaw(srv, user, pass, "") // server-assigned resource: no conflicts
	if err != nil {
		t.Fatalf("DialRaw %s: %v", user, err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func byID(id string) func(RawMessage) bool { return func(m RawMessage) bool { return m.ID == id } }

func TestProsodyLoginAndMessages(t *testing.T) {
	t0 := time.Now()
	srv := Shared(t)
	t.Logf("prosody started in %v (ready after %v), dir %s", time.Since(t0), srv.StartupTime, srv.Dir)
	if srv.DirectTLSAddr == "" || srv.CAPool == nil || len(srv.LeafFingerprintSHA256) != 64 {
		t.Fatalf("incomplete server: %+v", srv)
	}
	t1 := time.Now()
	alice, apass := srv.NewUser(t, "alice")
	t.Logf("one user created in %v", time.Since(t1))
	bob, bpass := srv.NewUser(t, "bob")

	a := dial(t, srv, alice, apass)
	b := dial(t, srv, bob, bpass)
	if !strings.HasPrefix(a.JID(), srv.JID(alice)+"/") {
		t.Fatalf("bound JID %q", a.JID())
	}
	mechs := strings.Join(a.Mechanisms(), " ")
	if !strings.Contains(mechs, "PLAIN") || !strings.Contains(mechs, "SCRAM-SHA-1") {
		t.Errorf("prosody mechanisms %q", mechs)
	}
	// to self (full JID) and to another user (bare JID), with characters that need escaping
	if err := a.SendMessage(a.JID(), "note to self", "self-1"); err != nil {
		t.Fatal(err)
	}
	body := `<hi & "bye"> ünï`
	if err := a.SendMessage(srv.JID(bob), body, "ab-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.WaitFor(ctxT(t, 5*time.Second), byID("self-1")); err != nil {
		t.Fatal(err)
	}
	m, err := b.WaitFor(ctxT(t, 5*time.Second), byID("ab-1"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Body != body || !strings.HasPrefix(m.From, srv.JID(alice)+"/") || m.Type != "chat" {
		t.Errorf("got %+v", m)
	}
	select {
	case got := <-b.Messages():
		if got.ID != "ab-1" {
			t.Errorf("Messages() first = %+v", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Messages() delivered nothing")
	}
	// a burst, counted
	const n = 2000
	t2 := time.Now()
	if err := a.SendMessages(srv.JID(bob), n, "burst"); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitCount(ctxT(t, 20*time.Second), n+1); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d messages routed in %v", n, time.Since(t2))
	if last, err := b.WaitFor(ctxT(t, time.Second), byID("burst-002000")); err != nil || last.Body != "burst-002000" {
		t.Errorf("last burst message: %+v %v", last, err)
	}
	// junk is a stream error for the sender only
	if err := a.SendRaw("<message><unclosed></message>"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.Done():
		t.Logf("junk closed the stream: %v", a.Err())
	case <-time.After(5 * time.Second):
		t.Error("server accepted ill-formed XML")
	}
	if err := b.SendMessage(b.JID(), "still here", "b-self"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.WaitFor(ctxT(t, 5*time.Second), byID("b-self")); err != nil {
		t.Fatal(err)
	}
}

func TestProsodyDirectTLSAndSCRAM(t *testing.T) {
	srv := Shared(t)
	u, p := srv.NewUser(t, "tls")
	peer, err := DialRawOpts(srv, u, p, "d", RawOptions{DirectTLS: true, Mechanism: "SCRAM-SHA-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	if _, err := DialRawOpts(srv, u, "wrong", "d", RawOptions{}); err == nil || !strings.Contains(err.Error(), "not-authorized") {
		t.Errorf("wrong password: %v", err)
	}
	// without the test CA the certificate must not verify
	_, err = DialRawOpts(srv, u, p, "d", RawOptions{TLSConfig: &tls.Config{ServerName: srv.Domain}})
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted CA: %v", err)
	}
}

func TestCreateUsersBulkAndDelete(t *testing.T) {
	srv := Shared(t)
	t0 := time.Now()
	names, err := srv.CreateUsers(100, "bulk", "pw")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("100 users created in %v", time.Since(t0))
	if err := srv.CreateUser(names[0], "pw"); err == nil {
		t.Error("creating an existing user succeeded")
	}
	p, err := DialRaw(srv, names[99], "pw", "x")
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	if err := srv.DeleteUser(names[99]); err != nil {
		t.Fatal(err)
	}
	if _, err := DialRaw(srv, names[99], "pw", "x"); err == nil {
		t.Error("deleted user could log in")
	}
	// prosodyctl fallback path still works
	t1 := time.Now()
	if err := srv.prosodyctl("register", "ctluser", srv.Domain, "pw"); err != nil {
		t.Fatal(err)
	}
	t.Logf("prosodyctl register took %v", time.Since(t1))
}

func TestRestartKeepsUsers(t *testing.T) {
	srv := NewProsody(t, ProsodyOptions{DisableMAM: true, ReadTimeout: 5 * time.Second})
	if err := srv.CreateUser("keep", "pw"); err != nil {
		t.Fatal(err)
	}
	peer := dial(t, srv, "keep", "pw")
	pid, addr := srv.PID(), srv.C2SAddr

	t0 := time.Now()
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	t.Logf("prosody graceful restart %v (start %v)", time.Since(t0), srv.StartupTime)
	select {
	case <-peer.Done():
	case <-time.After(5 * time.Second):
		t.Error("client not disconnected by the server's shutdown")
	}
	if srv.PID() == pid || srv.C2SAddr != addr {
		t.Fatalf("pid %d->%d addr %s->%s", pid, srv.PID(), addr, srv.C2SAddr)
	}
	dial(t, srv, "keep", "pw").Close()

	peer2 := dial(t, srv, "keep", "pw")
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	if srv.Running() {
		t.Fatal("still running after Kill")
	}
	select {
	case <-peer2.Done():
	case <-time.After(5 * time.Second):
		t.Error("client did not see the crash")
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := srv.CreateUser("after", "pw"); err != nil { // admin socket reconnects
		t.Fatal(err)
	}
	dial(t, srv, "keep", "pw")
	dial(t, srv, "after", "pw")
}

func TestEjabberd(t *testing.T) {
	t0 := time.Now()
	srv := SharedEjabberd(t)
	t.Logf("ejabberd started in %v (ready after %v)", time.Since(t0), srv.StartupTime)
	if srv.DirectTLSAddr != "" {
		t.Errorf("DirectTLSAddr %q", srv.DirectTLSAddr)
	}
	t1 := time.Now()
	alice, apass := srv.NewUser(t, "alice")
	t.Logf("one ejabberd user created in %v", time.Since(t1))
	bob, bpass := srv.NewUser(t, "bob")
	t2 := time.Now()
	if _, err := srv.CreateUsers(50, "ebulk", "pw"); err != nil {
		t.Fatal(err)
	}
	t.Logf("50 ejabberd users created in %v", time.Since(t2))

	a, err := DialRawOpts(srv, alice, apass, "r", RawOptions{Mechanism: "PLAIN"})
	if err != nil {
		t.Fatalf("PLAIN login against scram-stored password: %v", err)
	}
	defer a.Close()
	mechs := strings.Join(a.Mechanisms(), " ")
	if !strings.Contains(mechs, "PLAIN") || !strings.Contains(mechs, "SCRAM-SHA-1") {
		t.Errorf("ejabberd mechanisms %q", mechs)
	}
	b, err := DialRawOpts(srv, bob, bpass, "r", RawOptions{Mechanism: "SCRAM-SHA-1"})
	if err != nil {
		t.Fatalf("SCRAM-SHA-1 login: %v", err)
	}
	defer b.Close()
	if _, err := DialRawOpts(srv, bob, "nope", "r", RawOptions{Mechanism: "PLAIN"}); err == nil {
		t.Error("PLAIN with a wrong password succeeded")
	}
	if err := a.SendMessage(srv.JID(bob), "hello ejabberd", "e1"); err != nil {
		t.Fatal(err)
	}
	if m, err := b.WaitFor(ctxT(t, 5*time.Second), byID("e1")); err != nil || m.Body != "hello ejabberd" {
		t.Fatalf("%+v %v", m, err)
	}
	if err := srv.CreateUser(alice, "x"); err == nil {
		t.Error("creating an existing ejabberd user succeeded")
	}
	// slixmpp logs in to ejabberd too (it picks SCRAM)
	su, sp := srv.NewUser(t, "slix")
	s, err := StartSlixmpp(t, srv, su, sp)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(srv.JID(bob), "from slixmpp", "es1"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.WaitFor(ctxT(t, 5*time.Second), byID("es1")); err != nil {
		t.Fatal(err)
	}
}

func TestEjabberdRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	srv := NewEjabberd(t, EjabberdOptions{DisableMAM: true, DisableRegistration: true})
	t0 := time.Now()
	if err := srv.CreateUser("carol", "pw"); err != nil { // IBR refused: ejabberdctl path
		t.Fatal(err)
	}
	t.Logf("ejabberdctl register (registration disabled) took %v", time.Since(t0))
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	t1 := time.Now()
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	t.Logf("ejabberd restart after SIGKILL: %v", time.Since(t1))
	dial(t, srv, "carol", "pw")
	t2 := time.Now()
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("ejabberd SIGTERM stop took %v", time.Since(t2))
}

func TestSlixmppPeer(t *testing.T) {
	srv := Shared(t)
	su, sp := srv.NewUser(t, "slix")
	ru, rp := srv.NewUser(t, "raw")
	r := dial(t, srv, ru, rp)
	t0 := time.Now()
	s, err := StartSlixmpp(t, srv, su, sp)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("slixmpp peer ready in %v as %s", time.Since(t0), s.JID)
	if err := s.Send(srv.JID(ru), "from slixmpp", "s1"); err != nil {
		t.Fatal(err)
	}
	if m, err := r.WaitFor(ctxT(t, 5*time.Second), byID("s1")); err != nil || m.Body != "from slixmpp" {
		t.Fatalf("%+v %v", m, err)
	}
	if err := s.SendMany(srv.JID(ru), 300, "many"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.WaitFor(ctxT(t, 10*time.Second), byID("many-000300")); err != nil {
		t.Fatal(err)
	}
	next := 1
	for _, m := range r.Received() {
		if strings.HasPrefix(m.ID, "many-") {
			if want := fmt.Sprintf("many-%06d", next); m.ID != want || m.Body != want {
				t.Fatalf("order: got %s, want %s", m.ID, want)
			}
			next++
		}
	}
	if err := s.SendRaw("<message to='" + srv.JID(ru) + "' id='rawx' type='chat'><body>raw</body></message>"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.WaitFor(ctxT(t, 5*time.Second), byID("rawx")); err != nil {
		t.Fatal(err)
	}
	if err := r.SendMessage(s.JID, "to slixmpp", "r1"); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-s.Messages():
		if m.ID != "r1" || m.Body != "to slixmpp" {
			t.Errorf("%+v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("slixmpp got nothing")
	}
	if err := s.SetPresence("away", "testing"); err != nil {
		t.Fatal(err)
	}
}

func TestProxyKillAllAndPause(t *testing.T) {
	srv := Shared(t)
	u, p := srv.NewUser(t, "px")
	v, vp := srv.NewUser(t, "pv")
	px, err := StartProxy(srv.C2SAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	sender := dial(t, srv, v, vp)
	peer, err := DialRawOpts(srv, u, p, "px", RawOptions{Addr: px.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()

	px.Pause()
	if err := sender.SendMessage(srv.JID(u), "held", "held-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := peer.WaitFor(ctxT(t, 300*time.Millisecond), byID("held-1")); err == nil {
		t.Fatal("message crossed a paused proxy")
	}
	px.Resume()
	if _, err := peer.WaitFor(ctxT(t, 5*time.Second), byID("held-1")); err != nil {
		t.Fatalf("after Resume: %v", err)
	}

	t0 := time.Now()
	px.KillAll()
	select {
	case <-peer.Done():
		t.Logf("KillAll: client saw %v after %v", peer.Err(), time.Since(t0))
	case <-time.After(5 * time.Second):
		t.Fatal("client connection survived KillAll")
	}
	// the proxy still accepts new connections
	again, err := DialRawOpts(srv, u, p, "px2", RawOptions{Addr: px.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	again.Close()
	if px.Accepted() != 2 {
		t.Errorf("accepted %d", px.Accepted())
	}
}

func TestKillTCP(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("ss -K needs root")
	}
	if _, err := exec.LookPath("ss"); err != nil {
		missing(t, "ss is not installed (Debian package iproute2)")
	}
	srv := Shared(t)
	u, p := srv.NewUser(t, "kt")
	victim := dial(t, srv, u, p)
	other := dial(t, srv, u, p)
	t0 := time.Now()
	n, err := KillTCP(victim.LocalAddr())
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-victim.Done():
		t.Logf("ss -K killed %d socket(s); client saw %v after %v", n, victim.Err(), time.Since(t0))
	case <-time.After(5 * time.Second):
		t.Fatal("connection survived ss -K")
	}
	if err := other.SendMessage(other.JID(), "alive", "alive-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := other.WaitFor(ctxT(t, 5*time.Second), byID("alive-1")); err != nil {
		t.Fatalf("the other connection was hit too: %v", err)
	}
}

func TestStripTLSProxy(t *testing.T) {
	srv := Shared(t)
	u, p := srv.NewUser(t, "strip")
	px, err := StartStripTLSProxy(srv.C2SAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	// a careful client refuses to go on without STARTTLS
	_, err = DialRawOpts(srv, u, p, "s", RawOptions{Addr: px.Addr(), Timeout: 5 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "no STARTTLS") {
		t.Fatalf("dial through stripper: %v", err)
	}
	if !bytes.Contains(px.ServerBytes(), []byte("<starttls")) {
		t.Fatalf("server did not offer STARTTLS: %s", px.ServerBytes())
	}
	// what a client sees: features without starttls
	c, err := net.Dial("tcp", px.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "<?xml version='1.0'?><stream:stream to='%s' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>", srv.Domain)
	sc := NewScanner(c)
	var feats []byte
	for feats == nil {
		el, err := sc.Next()
		if err != nil {
			t.Fatal(err)
		}
		if nameIs(el, "stream:features") {
			feats = append([]byte(nil), el...)
		}
	}
	if bytes.Contains(feats, []byte("starttls")) {
		t.Fatalf("starttls not stripped: %s", feats)
	}
	// a careless client that sends credentials anyway: the recording shows it
	fmt.Fprintf(c, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>%s</auth>",
		base64.StdEncoding.EncodeToString([]byte("\x00"+u+"\x00"+p)))
	deadline := time.Now().Add(5 * time.Second)
	for !bytes.Contains(px.ClientBytes(), []byte("<auth")) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if !bytes.Contains(px.ClientBytes(), []byte(base64.StdEncoding.EncodeToString([]byte("\x00"+u+"\x00"+p)))) {
		t.Fatal("ClientBytes did not record the credentials")
	}
}

func TestStripperChunks(t *testing.T) {
	in := "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>" +
		"<mechanisms><mechanism>PLAIN</mechanism></mechanisms><starttls xmlns='x'/><starttlsx/></stream:features>"
	want := "<stream:features><mechanisms><mechanism>PLAIN</mechanism></mechanisms><starttlsx/></stream:features>"
	for size := 1; size <= len(in); size++ {
		var f tlsStripper
		var out []byte
		for i := 0; i < len(in); i += size {
			out = append(out, f.feed([]byte(in[i:min(i+size, len(in))]))...)
		}
		out = append(out, f.flush()...)
		if string(out) != want {
			t.Fatalf("chunk %d: %s", size, out)
		}
	}
}

func TestScannerChunks(t *testing.T) {
	in := "<?xml version='1.0'?><stream:stream xmlns='jabber:client' id='x'> " +
		"<message from='a@b/c' id='1' a='x>y'><body>a &lt;&amp;&gt; b</body><x><body>inner</body></x></message>" +
		"<presence/>\n<iq type=\"result\" id='i&apos;d'><!-- c --><q><![CDATA[<no>]]></q></iq></stream:stream>"
	for size := 1; size <= 40; size++ {
		sc := NewScanner(&chunkReader{data: []byte(in), size: size})
		sc.buf = make([]byte, 16) // force growth and compaction
		var names []string
		for {
			el, err := sc.Next()
			if err == ErrStreamEnd {
				break
			}
			if err != nil {
				t.Fatalf("chunk %d: %v after %v", size, err, names)
			}
			names = append(names, ElementName(el))
			if nameIs(el, "message") {
				if b, _ := ChildText(el, "body"); b != "a <&> b" {
					t.Fatalf("body %q", b)
				}
				if v, _ := Attr(el, "a"); v != "x>y" {
					t.Fatalf("attr %q", v)
				}
			}
			if nameIs(el, "iq") {
				if v, _ := Attr(el, "id"); v != "i'd" {
					t.Fatalf("id %q", v)
				}
			}
		}
		if got := strings.Join(names, ","); got != "?xml,stream:stream,message,presence,iq" {
			t.Fatalf("chunk %d: %s", size, got)
		}
	}
}

type chunkReader struct {
	data []byte
	size int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(c.size, len(c.data), len(p))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

func TestScripts(t *testing.T) {
	RequireProsody(t)
	block, err := reservePorts(0, 1, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer block.release()
	dir := t.TempDir()
	start, _ := scriptPath("start-prosody.sh")
	stop, _ := scriptPath("stop-prosody.sh")
	cmd := exec.Command(start, dir, strconv.Itoa(block.Base))
	for _, kv := range scriptEnv(map[string]string{"MAM": "false"}) {
		if kv != "FOREGROUND=1" { // the demo path: the script daemonizes and waits for the ports
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("READY c2s=127.0.0.1:"+strconv.Itoa(block.Base))) {
		t.Fatalf("start-prosody.sh: %v\n%s", err, out)
	}
	t.Logf("%s", bytes.TrimSpace(out))
	defer exec.Command(stop, dir, "--kill").Run()
	if out, err := exec.Command("prosodyctl", "--config", filepath.Join(dir, "prosody.cfg.lua"),
		"register", "demo", "localhost", "pw").CombinedOutput(); err != nil {
		t.Fatalf("prosodyctl register: %v %s", err, out)
	}
	srv := &Server{Domain: "localhost", C2SAddr: "127.0.0.1:" + strconv.Itoa(block.Base)}
	pool, _, err := loadTrust(filepath.Join(dir, "certs", "ca.crt"), filepath.Join(dir, "certs", "localhost.crt"))
	if err != nil {
		t.Fatal(err)
	}
	srv.CAPool = pool
	p, err := DialRaw(srv, "demo", "pw", "x")
	if err != nil {
		t.Fatalf("login to the script-started prosody: %v", err)
	}
	p.Close()
	out, err = exec.Command(stop, dir).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("stopped")) {
		t.Fatalf("stop-prosody.sh: %v %s", err, out)
	}
}

func TestAttr(t *testing.T) {
	el := []byte(`<message xmlns:from='n' a='x from="evil"' from = "real&amp;" id='1'><body from='no'/></message>`)
	for name, want := range map[string]string{"from": "real&", "id": "1", "a": `x from="evil"`, "xmlns:from": "n"} {
		if got, ok := Attr(el, name); !ok || got != want {
			t.Errorf("attr %s = %q %v, want %q", name, got, ok, want)
		}
	}
	if _, ok := Attr(el, "to"); ok {
		t.Error("found missing attribute")
	}
	if got, ok := ChildText(el, "body"); !ok || got != "" {
		t.Errorf("self-closing body: %q %v", got, ok)
	}
}
