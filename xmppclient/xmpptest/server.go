// server.go: the Server type shared by Prosody and ejabberd instances: process start through
// the scripts in scripts/, exact readiness, Stop/Kill/Restart by PID, logs, and the registry
// that Cleanup/Main (and a SIGINT/SIGTERM handler) use to stop everything this binary started.

package xmpptest

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Kinds of server.
const (
	KindProsody  = "prosody"
	KindEjabberd = "ejabberd"
)

// Server is one isolated XMPP server instance on loopback, with its own directory, ports and
// test CA. All exported fields are set by the Start function and do not change afterwards
// (Restart keeps ports, directory, certificates and data).
type Server struct {
	Kind   string // KindProsody or KindEjabberd
	Dir    string // instance directory (config, certs, data, logs)
	Domain string // "localhost"

	C2SAddr       string // "127.0.0.1:PORT": client-to-server, STARTTLS
	DirectTLSAddr string // XEP-0368 direct TLS c2s (Prosody only; "" for ejabberd)
	HTTPAddr      string // plain HTTP: upload PUT/GET URLs point here
	UploadService string // XEP-0363 service JID, "upload.localhost"
	MUCService    string // MUC service JID, "conference.localhost"
	PortBase      int    // first port of the reserved block

	CAFile                string         // PEM of the test CA that signed the server certificate
	CertFile, KeyFile     string         // PEM of the server's certificate and key (a test may present them, e.g. a TLS-terminating recorder)
	CAPool                *x509.CertPool // the same CA, ready for tls.Config.RootCAs
	LeafFingerprintSHA256 string         // lowercase hex SHA-256 of the leaf certificate's DER

	StartupTime time.Duration // last (re)start: from exec to every port listening

	script       string   // scripts/start-*.sh
	env          []string // environment for the script (options)
	readyPorts   []int    // ports that must be listening (owned by our PID) for "ready"
	startTimeout time.Duration
	keepDir      bool
	logFiles     []string // for LogTail, relative to Dir
	block        *portBlock

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	closed bool

	adminMu sync.Mutex
	admin   *adminConn // Prosody admin socket, opened on first use
	userSeq atomic.Int64
}

// JID returns user@domain.
func (s *Server) JID(user string) string { return user + "@" + s.Domain }

// PID returns the server's process ID, or 0 when it is not running.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	select {
	case <-s.exited:
		return 0
	default:
		return s.cmd.Process.Pid
	}
}

// Running reports whether the server process is alive.
func (s *Server) Running() bool { return s.PID() != 0 }

// Exited returns a channel closed when the current server process exits (nil if none).
func (s *Server) Exited() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exited
}

// start runs the start script in FOREGROUND mode (it execs the server) and waits until every
// ready port is listening on a socket owned by the server's PID.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("xmpptest: server is closed")
	}
	if s.cmd != nil {
		select {
		case <-s.exited:
		default:
			return errors.New("xmpptest: server already running")
		}
	}
	// the previous process (if any) is dead and reaped: a stale pidfile whose PID was reused
	// by another process would make the script refuse to start
	os.Remove(filepath.Join(s.Dir, "prosody.pid"))
	os.Remove(filepath.Join(s.Dir, "ejabberd.pid"))
	logf, err := os.OpenFile(filepath.Join(s.Dir, "console.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command("/bin/bash", s.script, s.Dir, strconv.Itoa(s.PortBase), s.Domain)
	cmd.Env = s.env
	cmd.Dir = s.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	t0 := time.Now()
	err = startChild(cmd, syscall.SIGTERM)
	logf.Close() // the child has its own descriptor
	if err != nil {
		return fmt.Errorf("xmpptest: start %s: %w", s.Kind, err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	s.cmd, s.exited = cmd, exited
	pid := cmd.Process.Pid
	deadline := t0.Add(s.startTimeout)
	for {
		select {
		case <-exited:
			return fmt.Errorf("xmpptest: %s exited during start-up (%v); logs in %s:\n%s",
				s.Kind, cmd.ProcessState, s.Dir, s.LogTail(25))
		default:
		}
		ports, _ := listeningPorts(pid)
		ready := true
		for _, p := range s.readyPorts {
			if !ports[p] {
				ready = false
				break
			}
		}
		if ready {
			break
		}
		if s.Kind == KindProsody && time.Since(t0) > 100*time.Millisecond {
			// Prosody logs a port it cannot bind and runs on without it: fail fast
			if data, _ := os.ReadFile(filepath.Join(s.Dir, "prosody.err")); bytes.Contains(data, []byte(" on 127.0.0.1,")) && bytes.Contains(data, []byte("Failed to open server port")) {
				cmd.Process.Kill()
				<-exited
				return fmt.Errorf("xmpptest: prosody: port in use (%s):\n%s", fmtPorts(s.readyPorts), s.LogTail(10))
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			return fmt.Errorf("xmpptest: %s did not listen on %s within %v; logs in %s:\n%s",
				s.Kind, fmtPorts(s.readyPorts), s.startTimeout, s.Dir, s.LogTail(25))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if s.Kind == KindEjabberd {
		// ejabberd loads its Erlang modules lazily: the first client connection would take
		// 0.4-0.8 s. Make one now so that "ready" means ready for timing-sensitive tests.
		x, _, err := dialXMPP(s.C2SAddr, s.Domain, false, s.TLSConfig(), s.startTimeout)
		if err != nil {
			return fmt.Errorf("xmpptest: ejabberd warm-up connection: %w", err)
		}
		x.write("</stream:stream>")
		x.tcp.Close()
	}
	s.StartupTime = time.Since(t0)
	return nil
}

// Stop stops the server gracefully: SIGTERM to its PID, wait (SIGKILL after 15 s). Data,
// ports and directory are kept, so Restart can start it again. Stop is idempotent.
// Clients get <system-shutdown/> at once; the process itself takes about 1 ms to exit when
// no client is connected, but about 0.9 s for Prosody (its shutdown re-checks open
// connections on a 1 s timer) and about 1 s for ejabberd when clients are connected.
func (s *Server) Stop() error { return s.signalAndWait(syscall.SIGTERM, 15*time.Second) }

// Kill sends SIGKILL (a crash: no stream close, in-memory state such as stream management
// sessions lost; SQLite data survives) and waits for the process to be gone.
func (s *Server) Kill() error { return s.signalAndWait(syscall.SIGKILL, 10*time.Second) }

func (s *Server) signalAndWait(sig syscall.Signal, grace time.Duration) error {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	s.closeAdmin()
	if cmd == nil {
		return nil
	}
	select {
	case <-exited:
		return nil
	default:
	}
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-exited:
		return nil
	case <-time.After(grace):
	}
	cmd.Process.Kill()
	select {
	case <-exited:
		return fmt.Errorf("xmpptest: %s pid %d ignored %v for %v; killed", s.Kind, cmd.Process.Pid, sig, grace)
	case <-time.After(10 * time.Second):
		return fmt.Errorf("xmpptest: %s pid %d does not die", s.Kind, cmd.Process.Pid)
	}
}

// Restart stops the server if it runs and starts it again on the same ports and directory,
// keeping users and archives. It returns once the c2s (and other) ports listen again.
func (s *Server) Restart() error {
	if err := s.Stop(); err != nil {
		return err
	}
	return s.start()
}

// Close stops the server, releases its ports and removes its directory (kept when the
// server was started with KeepDir or when XMPPTEST_KEEP=1). Close is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	err := s.Stop()
	s.block.release()
	if !s.keepDir && os.Getenv("XMPPTEST_KEEP") == "" {
		os.RemoveAll(s.Dir)
	}
	unregister(s)
	return err
}

// LogTail returns the last n lines of each of the server's log files, for test failures.
func (s *Server) LogTail(n int) string {
	var b strings.Builder
	for _, name := range s.logFiles {
		data, err := os.ReadFile(filepath.Join(s.Dir, name))
		if err != nil || len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		fmt.Fprintf(&b, "--- %s (last %d lines)\n%s\n", name, len(lines), strings.Join(lines, "\n"))
	}
	return b.String()
}

// NewUser creates a user with a name unique within this server (prefix + sequence number)
// and the password "pass-"+name, failing t on error. Handy on shared servers.
func (s *Server) NewUser(t testing.TB, prefix string) (user, pass string) {
	t.Helper()
	if prefix == "" {
		prefix = "user"
	}
	user = fmt.Sprintf("%s%d", strings.ToLower(prefix), s.userSeq.Add(1))
	pass = "pass-" + user
	if err := s.CreateUser(user, pass); err != nil {
		t.Fatalf("xmpptest: create user %s: %v", user, err)
	}
	return user, pass
}

// CreateUser registers user with password pass. Prosody: through the admin socket (about
// 3 ms), falling back to prosodyctl. ejabberd: in-band registration (XEP-0077) from loopback
// (about 8-15 ms), falling back to ejabberdctl (0.3-0.5 s) when registration is disabled.
func (s *Server) CreateUser(user, pass string) error {
	_, err := s.createUsers([]string{user}, pass)
	return err
}

// CreateUsers creates n users named prefix1..prefixN with password pass in one batch and
// returns their names.
func (s *Server) CreateUsers(n int, prefix, pass string) ([]string, error) {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%s%d", prefix, i+1)
	}
	return s.createUsers(names, pass)
}

func (s *Server) createUsers(names []string, pass string) ([]string, error) {
	var err error
	switch s.Kind {
	case KindProsody:
		err = s.prosodyCreateUsers(names, pass)
	case KindEjabberd:
		err = s.ejabberdCreateUsers(names, pass)
	default:
		err = fmt.Errorf("xmpptest: unknown server kind %q", s.Kind)
	}
	if err != nil {
		return nil, err
	}
	return names, nil
}

// DeleteUser removes an account.
func (s *Server) DeleteUser(user string) error {
	switch s.Kind {
	case KindProsody:
		return s.prosodyDeleteUser(user)
	case KindEjabberd:
		return s.ejabberdDeleteUser(user)
	}
	return fmt.Errorf("xmpptest: unknown server kind %q", s.Kind)
}

// --- construction helpers shared by both kinds

// scriptPath finds scripts/NAME: $PARLEY_SCRIPTS_DIR, else relative to this source file, else
// by walking up from the working directory to the module root (go.mod of module parley).
func scriptPath(name string) (string, error) {
	var dirs []string
	if d := os.Getenv("PARLEY_SCRIPTS_DIR"); d != "" {
		dirs = append(dirs, d)
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		dirs = append(dirs, filepath.Join(filepath.Dir(file), "..", "..", "scripts"))
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			if data, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && bytes.HasPrefix(data, []byte("module parley")) {
				dirs = append(dirs, filepath.Join(d, "scripts"))
				break
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return filepath.Abs(p)
		}
	}
	return "", fmt.Errorf("xmpptest: cannot find scripts/%s (looked in %v; set PARLEY_SCRIPTS_DIR)", name, dirs)
}

// scriptEnv is the process environment minus the variables the start scripts read, plus vars.
func scriptEnv(vars map[string]string) []string {
	drop := map[string]bool{"FOREGROUND": true, "MAM": true, "STORAGE": true, "READ_TIMEOUT": true,
		"SMACKS_HIBERNATION": true, "ALLOW_REGISTRATION": true, "REQUIRE_TLS": true, "UPLOAD_LIMIT": true,
		"LOG_LEVEL": true, "EXTRA_CONFIG": true, "START_TIMEOUT": true, "MAX_ACK_QUEUE": true}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] {
			env = append(env, kv)
		}
	}
	env = append(env, "FOREGROUND=1")
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

func seconds(d, def time.Duration) string {
	if d <= 0 {
		d = def
	}
	sec := int((d + time.Second - 1) / time.Second)
	if sec < 1 {
		sec = 1
	}
	return strconv.Itoa(sec)
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// launch is the common tail of StartProsody/StartEjabberd: register, start, load trust.
func (s *Server) launch(leafFile string) (*Server, error) {
	pool, fp, err := loadTrust(s.CAFile, leafFile)
	if err != nil {
		s.block.release()
		return nil, err
	}
	s.CAPool, s.LeafFingerprintSHA256 = pool, fp
	register(s)
	if err := s.start(); err != nil {
		s.keepDir = true // keep the logs of a failed start for inspection
		s.Close()
		return nil, err
	}
	return s, nil
}

// --- registry of live servers and other processes, for Cleanup, Main and signals

var registry struct {
	sync.Mutex
	servers map[*Server]bool
	closers map[any]func()
}

func register(s *Server) {
	installSignals()
	registry.Lock()
	defer registry.Unlock()
	if registry.servers == nil {
		registry.servers = map[*Server]bool{}
	}
	registry.servers[s] = true
}

func unregister(s *Server) {
	registry.Lock()
	defer registry.Unlock()
	delete(registry.servers, s)
}

// registerCloser adds a function that Cleanup calls (slixmpp peers use it).
func registerCloser(key any, f func()) {
	installSignals()
	registry.Lock()
	defer registry.Unlock()
	if registry.closers == nil {
		registry.closers = map[any]func(){}
	}
	registry.closers[key] = f
}

func unregisterCloser(key any) {
	registry.Lock()
	defer registry.Unlock()
	delete(registry.closers, key)
}

// Cleanup stops every server and peer process this test binary started (in parallel) and
// removes their directories. Call it from TestMain (or use Main). Safe to call more than once.
func Cleanup() {
	registry.Lock()
	var servers []*Server
	for s := range registry.servers {
		servers = append(servers, s)
	}
	var closers []func()
	for _, f := range registry.closers {
		closers = append(closers, f)
	}
	registry.Unlock()
	var wg sync.WaitGroup
	for _, f := range closers {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	for _, s := range servers {
		wg.Add(1)
		go func() { defer wg.Done(); s.Close() }()
	}
	wg.Wait()
	resetShared()
}

// Main runs the tests and then Cleanup; use it as
//
//	func TestMain(m *testing.M) { os.Exit(xmpptest.Main(m)) }
func Main(m *testing.M) int {
	installSignals()
	code := m.Run()
	Cleanup()
	return code
}

var sigOnce sync.Once

// installSignals makes SIGINT/SIGTERM stop all servers before the binary exits (a second
// signal exits at once). Servers also get a parent-death signal if the binary dies otherwise.
func installSignals() {
	sigOnce.Do(func() {
		ch := make(chan os.Signal, 2)
		signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
		go func() {
			sig := <-ch
			fmt.Fprintf(os.Stderr, "xmpptest: %v: stopping test servers\n", sig)
			go func() {
				<-ch
				os.Exit(2)
			}()
			Cleanup()
			code := 1
			if s, ok := sig.(syscall.Signal); ok {
				code = 128 + int(s)
			}
			os.Exit(code)
		}()
	})
}

// startWithRetry runs start up to three times while it fails with port
// trouble (an error containing one of portErrs): only that is worth another
// port block; any other failure is returned at once.
func startWithRetry(start func() (*Server, error), portErrs ...string) (*Server, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := start()
		if err == nil {
			return s, nil
		}
		lastErr = err
		portTrouble := false
		for _, e := range portErrs {
			portTrouble = portTrouble || strings.Contains(err.Error(), e)
		}
		if !portTrouble {
			break
		}
	}
	return nil, lastErr
}
