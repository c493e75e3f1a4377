// ejabberd.go: StartEjabberd and ejabberd-specific user management. Users are created by
// in-band registration (XEP-0077) from loopback, many per stream (about 8 ms each), because
// every ejabberdctl call boots an Erlang node (0.3-0.5 s); ejabberdctl is the fallback.

package xmpptest

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// EjabberdOptions configures StartEjabberd. The zero value: MAM on, SQLite storage,
// registration allowed from loopback, stream resumption timeout 60 s.
type EjabberdOptions struct {
	DisableMAM          bool
	SmacksHibernation   time.Duration // mod_stream_mgmt resume_timeout (default 60 s)
	MaxAckQueue         int           // mod_stream_mgmt max_ack_queue: 0 ejabberd's default (5000), < 0 infinity
	DisableRegistration bool          // no in-band registration (CreateUser then uses ejabberdctl)
	LogLevel            string        // "debug", "info" (default), "warning", "error"
	Storage             string        // "sql" (SQLite, default) or "mnesia"
	StartTimeout        time.Duration // default 60 s
	KeepDir             bool
}

// StartEjabberd starts an isolated ejabberd 23.01 for domain "localhost" on a free loopback
// port block (base c2s STARTTLS, +1 HTTP upload, +9 Erlang distribution), its own directory,
// Erlang cookie (HOME=dir), test CA and SQLite database. It offers SASL PLAIN and SCRAM-SHA-1.
func StartEjabberd(opts EjabberdOptions) (*Server, error) {
	if m := missingEjabberd(); m != "" {
		return nil, errors.New("xmpptest: " + m)
	}
	script, err := scriptPath("start-ejabberd.sh")
	if err != nil {
		return nil, err
	}
	return startWithRetry(func() (*Server, error) { return startEjabberdOnce(script, opts) }, "did not listen", "eaddrinuse")
}

func startEjabberdOnce(script string, opts EjabberdOptions) (*Server, error) {
	block, err := reservePorts(0, 1, 9)
	if err != nil {
		return nil, err
	}
	dir, err := newInstanceDir(KindEjabberd)
	if err != nil {
		block.release()
		return nil, err
	}
	const domain = "localhost"
	pb := block.Base
	cd := filepath.Join(dir, "certs")
	certs := certFiles{
		CACert: filepath.Join(cd, "ca.crt"), CAKey: filepath.Join(cd, "ca.key"),
		Cert: filepath.Join(cd, "server.crt"), Key: filepath.Join(cd, "server.key"),
		Bundle: filepath.Join(cd, "server.pem"),
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
		"SMACKS_HIBERNATION": seconds(opts.SmacksHibernation, 60*time.Second),
		"ALLOW_REGISTRATION": boolStr(!opts.DisableRegistration),
		"LOG_LEVEL":          logLevel,
	}
	switch {
	case opts.MaxAckQueue < 0:
		vars["MAX_ACK_QUEUE"] = "infinity"
	case opts.MaxAckQueue > 0:
		vars["MAX_ACK_QUEUE"] = strconv.Itoa(opts.MaxAckQueue)
	}
	timeout := opts.StartTimeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	s := &Server{
		Kind:          KindEjabberd,
		Dir:           dir,
		Domain:        domain,
		C2SAddr:       "127.0.0.1:" + strconv.Itoa(pb),
		HTTPAddr:      "127.0.0.1:" + strconv.Itoa(pb+1),
		UploadService: "upload." + domain,
		MUCService:    "conference." + domain,
		PortBase:      pb,
		CAFile:        certs.CACert,
		CertFile:      certs.Cert,
		KeyFile:       certs.Key,
		script:        script,
		env:           scriptEnv(vars),
		readyPorts:    []int{pb, pb + 1},
		startTimeout:  timeout,
		keepDir:       opts.KeepDir,
		logFiles:      []string{"logs/console.log", "logs/error.log", "logs/ejabberd.log"},
		block:         block,
	}
	return s.launch(certs.Cert)
}

// ejabberdctl runs DIR/ejabberdctl (the instance's own wrapper).
func (s *Server) ejabberdctl(args ...string) error {
	cmd := exec.Command(filepath.Join(s.Dir, "ejabberdctl"), args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("xmpptest: ejabberdctl %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// ejabberdCreateUsers registers all names over one stream with pipelined XEP-0077 requests.
func (s *Server) ejabberdCreateUsers(names []string, pass string) error {
	x, _, err := dialXMPP(s.C2SAddr, s.Domain, false, s.TLSConfig(), 10*time.Second)
	if err != nil {
		return err
	}
	defer x.tcp.Close()
	x.tcp.SetDeadline(time.Now().Add(10*time.Second + time.Duration(len(names))*20*time.Millisecond))
	var req strings.Builder
	for i, n := range names {
		fmt.Fprintf(&req, "<iq type='set' id='reg_%d'><query xmlns='jabber:iq:register'><username>%s</username><password>%s</password></query></iq>",
			i, escapeText(n), escapeText(pass))
	}
	if err := x.write(req.String()); err != nil {
		return err
	}
	// replies may come in any order: collect them by id
	pending := map[string]int{}
	for i := range names {
		pending["reg_"+strconv.Itoa(i)] = i
	}
	var fallback []string
	for len(pending) > 0 {
		el, err := x.sc.Next()
		if err != nil {
			return fmt.Errorf("xmpptest: registering users: %w", err)
		}
		if nameIs(el, "stream:error") {
			return fmt.Errorf("xmpptest: registering users: %s", el)
		}
		id, _ := Attr(el, "id")
		i, ok := pending[id]
		if !nameIs(el, "iq") || !ok {
			continue
		}
		delete(pending, id)
		if typ, _ := Attr(el, "type"); typ != "error" {
			continue
		}
		if cond := errorCondition(el); cond == "conflict" {
			return fmt.Errorf("xmpptest: create %s: user exists", s.JID(names[i]))
		}
		fallback = append(fallback, names[i]) // registration not allowed: use ejabberdctl
	}
	for _, n := range fallback {
		if err := s.ejabberdctl("register", n, s.Domain, pass); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) ejabberdDeleteUser(user string) error {
	return s.ejabberdctl("unregister", user, s.Domain)
}
