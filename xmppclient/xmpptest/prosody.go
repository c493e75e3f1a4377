// prosody.go: StartProsody and Prosody-specific user management through Prosody's admin
// socket (mod_admin_shell), which creates a user in about 3 ms over one persistent connection;
// prosodyctl (about 50 ms per call) is the fallback.

package xmpptest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ProsodyOptions configures StartProsody. The zero value is the usual test server: MAM on
// (SQLite), registration allowed from loopback, read timeout and smacks hibernation 60 s.
type ProsodyOptions struct {
	DisableMAM          bool          // no "mam" module
	ReadTimeout         time.Duration // network_settings.read_timeout (default 60 s; Prosody's own is 840 s)
	SmacksHibernation   time.Duration // smacks_hibernation_time (default 60 s)
	DisableSMacks       bool          // no "smacks" module: a server without XEP-0198
	StanzaSizeLimit     int           // c2s_stanza_size_limit in bytes (0: Prosody's default)
	DisableRegistration bool          // allow_registration = false (CreateUser still works)
	AllowPlaintext      bool          // c2s_require_encryption = false
	LogLevel            string        // "debug", "info" (default), "warn", "error"
	Storage             string        // "sql" (SQLite, default) or "internal"
	UploadLimit         int64         // http_file_share_size_limit in bytes (default 10 MiB)
	ExtraConfig         string        // Lua lines added to the global section of the config
	StartTimeout        time.Duration // default 20 s
	KeepDir             bool          // keep the instance directory after Close
}

// StartProsody starts an isolated Prosody 0.12 for domain "localhost" on a free loopback port
// block (base c2s STARTTLS, +1 HTTP, +2 HTTPS, +3 direct TLS), with its own directory (under
// /dev/shm when it exists), test CA and SQLite storage. Close it (or use Cleanup/Main) when done.
func StartProsody(opts ProsodyOptions) (*Server, error) {
	if m := missingProsody(); m != "" {
		return nil, errors.New("xmpptest: " + m)
	}
	script, err := scriptPath("start-prosody.sh")
	if err != nil {
		return nil, err
	}
	return startWithRetry(func() (*Server, error) { return startProsodyOnce(script, opts) }, "did not listen", "in use")
}

func startProsodyOnce(script string, opts ProsodyOptions) (*Server, error) {
	block, err := reservePorts(0, 1, 2, 3)
	if err != nil {
		return nil, err
	}
	dir, err := newInstanceDir(KindProsody)
	if err != nil {
		block.release()
		return nil, err
	}
	const domain = "localhost"
	pb := block.Base
	certs := certFiles{
		CACert: filepath.Join(dir, "certs", "ca.crt"), CAKey: filepath.Join(dir, "certs", "ca.key"),
		Cert: filepath.Join(dir, "certs", domain+".crt"), Key: filepath.Join(dir, "certs", domain+".key"),
	}
	if err := writeTestCerts(certs, domain); err != nil {
		block.release()
		return nil, err
	}
	storage := opts.Storage
	if storage == "" {
		storage = "sql"
	}
	logLevel := opts.LogLevel
	if logLevel == "" {
		logLevel = "info"
	}
	vars := map[string]string{
		"MAM":                boolStr(!opts.DisableMAM),
		"STORAGE":            storage,
		"READ_TIMEOUT":       seconds(opts.ReadTimeout, 60*time.Second),
		"SMACKS_HIBERNATION": seconds(opts.SmacksHibernation, 60*time.Second),
		"ALLOW_REGISTRATION": boolStr(!opts.DisableRegistration),
		"REQUIRE_TLS":        boolStr(!opts.AllowPlaintext),
		"LOG_LEVEL":          logLevel,
	}
	if opts.DisableSMacks {
		vars["SMACKS"] = "false"
	}
	if opts.StanzaSizeLimit > 0 {
		vars["STANZA_LIMIT"] = strconv.Itoa(opts.StanzaSizeLimit)
	}
	if opts.UploadLimit > 0 {
		vars["UPLOAD_LIMIT"] = strconv.FormatInt(opts.UploadLimit, 10)
	}
	if opts.ExtraConfig != "" {
		vars["EXTRA_CONFIG"] = opts.ExtraConfig
	}
	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	s := &Server{
		Kind:          KindProsody,
		Dir:           dir,
		Domain:        domain,
		C2SAddr:       "127.0.0.1:" + strconv.Itoa(pb),
		HTTPAddr:      "127.0.0.1:" + strconv.Itoa(pb+1),
		DirectTLSAddr: "127.0.0.1:" + strconv.Itoa(pb+3),
		UploadService: "upload." + domain,
		MUCService:    "conference." + domain,
		PortBase:      pb,
		CAFile:        certs.CACert,
		CertFile:      certs.Cert,
		KeyFile:       certs.Key,
		script:        script,
		env:           scriptEnv(vars),
		readyPorts:    []int{pb, pb + 1, pb + 2, pb + 3},
		startTimeout:  timeout,
		keepDir:       opts.KeepDir,
		logFiles:      []string{"console.log", "prosody.err", "prosody.log"},
		block:         block,
	}
	return s.launch(certs.Cert)
}

func (s *Server) prosodyCfg() string { return filepath.Join(s.Dir, "prosody.cfg.lua") }

// adminConn is a connection to Prosody's admin socket (DIR/data/prosody.sock). The protocol is
// an XML stream in namespace xmpp:prosody.im/admin: <repl-input>LUA</repl-input> in,
// <repl-output>* and one <repl-result [type='error']>TEXT</repl-result> out per input.
type adminConn struct {
	c  net.Conn
	sc *Scanner
}

func dialAdmin(dir string) (*adminConn, error) {
	c, err := net.DialTimeout("unix", filepath.Join(dir, "data", "prosody.sock"), 5*time.Second)
	if err != nil {
		return nil, err
	}
	a := &adminConn{c: c, sc: NewScanner(c)}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = c.Write([]byte("<?xml version='1.0'?><stream:stream xmlns='xmpp:prosody.im/admin' " +
		"xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"))
	for err == nil {
		var el []byte
		el, err = a.sc.Next()
		if err == nil && (nameIs(el, "stream:stream") || nameIs(el, "stream")) {
			return a, nil
		}
	}
	c.Close()
	return nil, err
}

// run sends each Lua line and returns one result per line (error results as errors).
func (a *adminConn) run(lines []string) ([]error, error) {
	a.c.SetDeadline(time.Now().Add(10*time.Second + time.Duration(len(lines))*20*time.Millisecond))
	var out bytes.Buffer
	for _, l := range lines {
		out.WriteString("<repl-input>")
		out.WriteString(escapeText(l))
		out.WriteString("</repl-input>")
	}
	if _, err := a.c.Write(out.Bytes()); err != nil {
		return nil, err
	}
	results := make([]error, 0, len(lines))
	for len(results) < len(lines) {
		el, err := a.sc.Next()
		if err != nil {
			return nil, err
		}
		if !nameIs(el, "repl-result") {
			continue
		}
		if typ, _ := Attr(el, "type"); typ == "error" {
			results = append(results, errors.New(text(el)))
		} else {
			results = append(results, nil)
		}
	}
	return results, nil
}

func (a *adminConn) close() { a.c.Close() }

func (s *Server) closeAdmin() {
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	if s.admin != nil {
		s.admin.close()
		s.admin = nil
	}
}

// adminRun runs Lua lines on the admin socket, reconnecting once (after a restart, say).
func (s *Server) adminRun(lines []string) ([]error, error) {
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		if s.admin == nil {
			if s.admin, err = dialAdmin(s.Dir); err != nil {
				s.admin = nil
				continue
			}
		}
		var res []error
		if res, err = s.admin.run(lines); err == nil {
			return res, nil
		}
		s.admin.close()
		s.admin = nil
	}
	return nil, err
}

// luaString quotes s as a Lua string literal using only [A-Za-z0-9@._-] and \ddd escapes.
func luaString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("@._-", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "\\%03d", c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func (s *Server) prosodyCreateUsers(names []string, pass string) error {
	lines := make([]string, len(names))
	for i, n := range names {
		lines[i] = "user:create(" + luaString(s.JID(n)) + ", " + luaString(pass) + ")"
	}
	res, adminErr := s.adminRun(lines)
	if adminErr != nil { // admin socket unusable: one prosodyctl call per user
		for _, n := range names {
			if err := s.prosodyctl("register", n, s.Domain, pass); err != nil {
				return fmt.Errorf("%w (after the admin socket failed: %v)", err, adminErr)
			}
		}
		return nil
	}
	for i, e := range res {
		if e != nil {
			return fmt.Errorf("xmpptest: create %s: %v", s.JID(names[i]), e)
		}
	}
	return nil
}

func (s *Server) prosodyDeleteUser(user string) error {
	res, err := s.adminRun([]string{"user:delete(" + luaString(s.JID(user)) + ")"})
	if err != nil {
		return s.prosodyctl("deluser", s.JID(user))
	}
	if res[0] != nil {
		return fmt.Errorf("xmpptest: delete %s: %v", s.JID(user), res[0])
	}
	return nil
}

func (s *Server) prosodyctl(args ...string) error {
	cmd := exec.Command("prosodyctl", append([]string{"--config", s.prosodyCfg()}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("xmpptest: prosodyctl %s: %v: %s", args[0], err, out)
	}
	return nil
}
