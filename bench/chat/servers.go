// servers.go: the XMPP servers the burst and the catch-up run against (-server prosody,
// ejabberd or both): each an isolated instance started by xmpptest (SQLite on tmpfs), its
// name with the installed version for the tables, and its CPU time read from /proc (Prosody's
// Lua process; ejabberd's Erlang VM, beam.smp, which the start script execs in place).
package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"

	"parley/xmppclient/xmpptest"
)

// serverKinds parses -server.
func serverKinds(s string) ([]string, error) {
	switch s {
	case "both", "":
		return []string{xmpptest.KindProsody, xmpptest.KindEjabberd}, nil
	case xmpptest.KindProsody, xmpptest.KindEjabberd:
		return []string{s}, nil
	}
	return nil, fmt.Errorf("-server %q: want prosody, ejabberd or both", s)
}

// startServer starts an isolated server of the kind, with or without MAM; ejabberd with
// mod_stream_mgmt's max_ack_queue set to ackQueue (-1 infinity, 0 ejabberd's default, 5000).
func startServer(kind string, mam bool, ackQueue int) (*xmpptest.Server, error) {
	var srv *xmpptest.Server
	var err error
	switch kind {
	case xmpptest.KindProsody:
		srv, err = xmpptest.StartProsody(xmpptest.ProsodyOptions{DisableMAM: !mam})
	case xmpptest.KindEjabberd:
		srv, err = xmpptest.StartEjabberd(xmpptest.EjabberdOptions{DisableMAM: !mam, MaxAckQueue: ackQueue})
	default:
		return nil, fmt.Errorf("unknown server %q", kind)
	}
	if err != nil {
		return nil, fmt.Errorf("start %s (make deps installs it): %w", kind, err)
	}
	if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", srv.PID())); len(comm) > 0 {
		fmt.Fprintf(os.Stderr, "chat bench: %s: pid %d (%s)\n", serverName(kind), srv.PID(), strings.TrimSpace(string(comm)))
	}
	return srv, nil
}

// serverName is the server's name and Debian package version ("Prosody 0.12.3").
func serverName(kind string) string {
	name := map[string]string{xmpptest.KindProsody: "Prosody", xmpptest.KindEjabberd: "ejabberd"}[kind]
	out, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", kind).Output()
	if err != nil || len(out) == 0 {
		return name
	}
	v, _, _ := strings.Cut(string(out), "-") // the upstream part of 0.12.3-1+deb12u1
	return name + " " + v
}

// ackQueueName describes -ejabberd-max-ack-queue.
func ackQueueName(q int) string {
	switch {
	case q < 0:
		return "infinity"
	case q == 0:
		return "5000 (default)"
	}
	return thousands(q)
}
