// doc.go: package documentation of xmpptest, the real-server test harness.

// Package xmpptest runs real XMPP servers and peers for Parley's integration tests:
// isolated Prosody 0.12 and ejabberd 23.01 instances on loopback, a raw XMPP client
// independent of parley/xmppclient, a slixmpp peer, and fault injection (TCP proxy with
// reset/pause, STARTTLS stripping, `ss -K`).
//
// # Servers
//
//	func StartProsody(opts ProsodyOptions) (*Server, error)
//	func StartEjabberd(opts EjabberdOptions) (*Server, error)
//	func NewProsody(t testing.TB, opts ProsodyOptions) *Server   // per test, closed by t.Cleanup
//	func NewEjabberd(t testing.TB, opts EjabberdOptions) *Server
//	func Shared(t testing.TB) *Server                              // one Prosody per test binary
//	func SharedEjabberd(t testing.TB) *Server                      // one ejabberd per test binary
//	func Main(m *testing.M) int                                    // m.Run, then Cleanup
//	func Cleanup()                                                 // stop and remove all servers/peers
//	func RequireProsody(t testing.TB); RequireEjabberd(t); RequireSlixmpp(t)
//
// A Server has Kind, Dir, Domain ("localhost"), C2SAddr (STARTTLS), DirectTLSAddr (XEP-0368,
// Prosody only), HTTPAddr, UploadService, MUCService, PortBase, CAFile, CAPool,
// LeafFingerprintSHA256 (lowercase hex SHA-256 of the leaf DER) and StartupTime, and methods:
//
//	JID(user) string; PID() int; Running() bool; Exited() <-chan struct{}
//	Stop() error      // SIGTERM by PID, wait (SIGKILL after 15 s); data and ports kept
//	Kill() error      // SIGKILL: a crash
//	Restart() error   // Stop if running, start again on the same ports and dir; returns when ready
//	Close() error     // Stop, release ports, remove Dir (kept with KeepDir or XMPPTEST_KEEP=1)
//	CreateUser(user, pass) error; CreateUsers(n, prefix, pass) ([]string, error) // prefix1..prefixN
//	NewUser(t, prefix) (user, pass string)  // unique name; for shared servers
//	DeleteUser(user) error; TLSConfig() *tls.Config; LogTail(n) string
//
// Every test binary that starts servers should have
//
//	func TestMain(m *testing.M) { os.Exit(xmpptest.Main(m)) }
//
// Without it the servers still die with the binary (they get a parent-death signal), but
// their directories stay until the next run's garbage collection. SIGINT/SIGTERM stop all
// servers before the binary exits. Shared servers must not be stopped or killed by tests
// (use NewProsody for that), and users on them need unique names (NewUser).
//
// Readiness is exact: a server is ready when every port it must serve is in LISTEN state on a
// socket owned by the server's PID (read from /proc), and for ejabberd after one warm-up
// connection (its first connection otherwise costs 0.4-0.8 s of lazy code loading).
// Instances live under /dev/shm/parley-xmpptest (tmpfs: SQLite fsync is free) or
// $TMPDIR/parley-xmpptest; XMPPTEST_DIR overrides. Port blocks of 10 between 20000 and 32760
// (below the ephemeral range) are reserved with flock'ed files shared by concurrent test
// binaries, checked free by binding, and held until Close. The servers are started by
// scripts/start-prosody.sh and scripts/start-ejabberd.sh with FOREGROUND=1 (the scripts exec
// the server, so the harness holds its PID); `make demo` uses the same scripts daemonized.
//
// Missing components: when prosody, ejabberd or slixmpp is not installed, tests skip with a
// message that `make deps` installs it; with CI=true they fail instead.
//
// # Raw peer
//
//	func DialRaw(srv *Server, user, pass, resource string) (*RawPeer, error)   // STARTTLS, PLAIN, bind, presence
//	func DialRawOpts(srv *Server, user, pass, resource string, o RawOptions) (*RawPeer, error)
//
// RawOptions: Addr (e.g. a Proxy), DirectTLS, Mechanism ("PLAIN" or "SCRAM-SHA-1"),
// NoPresence, CountOnly (benchmarks: count messages only), TLSConfig, Timeout. Methods:
//
//	JID() string; Features() string; Mechanisms() []string; LocalAddr() string
//	SendRaw(xml) error; SendMessage(to, body, id) error
//	SendMessages(to, count, prefix) error   // burst; bodies and ids prefix-000001...
//	Messages() <-chan RawMessage            // every message from the first, in order
//	WaitFor(ctx, func(RawMessage) bool) (RawMessage, error)   // searches history too
//	WaitElement(ctx, func(RawElement) bool) (RawElement, error) // iq, presence, stream:error...
//	WaitCount(ctx, n) error; Count() int64; Received() []RawMessage
//	Done() <-chan struct{}; Err() error; Close() error
//
// The raw peer answers pings and roster pushes. Its reader splits elements without a DOM.
//
// # Stream scanner
//
// The raw peer's splitter is exported for other lean clients (bench/chat's floor client):
//
//	func NewScanner(r io.Reader) *Scanner
//	(*Scanner) Next() ([]byte, error)   // next top-level element; valid until the next call
//	var ErrStreamEnd error              // Next's error after </stream:stream>
//	func ElementName(el []byte) string  // "message", "iq", "stream:features"...
//	func Attr(el []byte, name string) (string, bool)       // of the start tag, unescaped
//	func Child(el []byte, name string) ([]byte, bool)      // first direct child, whole
//	func ChildText(el []byte, name string) (string, bool)  // its unescaped text
//
// The XML declaration and the <stream:stream> open tag come out of Next as elements of their
// own; whitespace keepalives between elements are skipped. Elements are limited to 16 MiB.
//
// # slixmpp peer
//
//	func StartSlixmpp(t testing.TB, srv *Server, user, pass string) (*SlixPeer, error)
//
// runs the embedded peer.py with /usr/bin/python3 (JSON lines on stdin/stdout) and returns
// after session start. Methods: Send(to, body, id), SendMany(to, count, prefix),
// SendRaw(xml), SetPresence(show, status) (each waits for the peer's acknowledgement),
// Messages() <-chan PeerMessage, WaitFor, WaitEvent, Count, Stderr, Close. Its stderr is
// logged when the test fails; XMPPTEST_SLIX_DEBUG=1 turns on slixmpp debug logging.
//
// # Faults
//
//	func StartProxy(target string) (*Proxy, error)
//	func StartStripTLSProxy(target string) (*Proxy, error)  // STARTTLS stripping MITM, recording
//	func StartProxyOpts(target string, o ProxyOptions) (*Proxy, error)
//	(*Proxy) Addr() string; KillAll(); Pause(); Resume(); Close() error
//	(*Proxy) ClientBytes() []byte; ServerBytes() []byte; Accepted() int; Active() int
//	func KillTCP(addrOrPort string) (int, error)   // ss -K on that port (root; works here)
//
// KillAll sends RST both ways; Pause holds all data without closing anything (a silent break,
// like a DROP rule); KillTCP(peer.LocalAddr()) kills one client connection, KillTCP(srv.C2SAddr)
// all client connections to a server.
package xmpptest
