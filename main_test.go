// Tests of the command line: --version, bad flags, and xmpp: URI parsing,
// including URIs whose address is not a valid JID (opening the chat a URI
// names is tested in main_uri_test.go).
package main

import (
	"io"
	"os"
	"strings"
	"testing"
)

func TestParseXMPPURI(t *testing.T) {
	for _, tc := range []struct {
		in, target string
		ok         bool
	}{
		{"xmpp:alice@example.org", "alice@example.org", true},
		{"xmpp:alice@example.org?message;body=hi", "alice@example.org", true},
		{"XMPP:room@conference.example.org?join", "room@conference.example.org", true},
		{"xmpp://me@example.org/bob@example.org", "bob@example.org", true},
		{"xmpp:caf%C3%A9@example.org", "café@example.org", true},
		{"https://example.org", "", false},
		{"xmpp:", "", false},
		{"alice@example.org", "", false},
		// Addresses that are not valid JIDs.
		{"xmpp:bob@@example.org?message;body=hi", "", false},
		{"xmpp:@example.org", "", false},
		{"xmpp:bob@", "", false},
		{"xmpp:bob@exa%20mple.org", "", false},
		{"xmpp:bob@example.org/", "", false},
	} {
		u, err := parseXMPPURI(tc.in)
		if !tc.ok {
			if err == nil {
				t.Errorf("parseXMPPURI(%q) accepted", tc.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseXMPPURI(%q): %v", tc.in, err)
			continue
		}
		if got := xmppURITarget(u); got != tc.target {
			t.Errorf("target of %q = %q, want %q", tc.in, got, tc.target)
		}
	}
}

func TestFlags(t *testing.T) {
	if rc := run([]string{"--version"}); rc != 0 {
		t.Errorf("--version exit %d", rc)
	}
	if rc := run([]string{"--no-such-flag"}); rc != 2 {
		t.Errorf("unknown flag exit %d, want 2", rc)
	}
	if rc := run([]string{"https://example.org"}); rc != 2 {
		t.Errorf("non-xmpp URI exit %d, want 2", rc)
	}
	if rc := run([]string{"xmpp:a@b", "xmpp:c@d"}); rc != 2 {
		t.Errorf("two URIs exit %d, want 2", rc)
	}
}

// stderrOf runs f and returns what it wrote to os.Stderr.
func stderrOf(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = w
	defer func() { os.Stderr = old }()
	got := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		got <- string(b)
	}()
	f()
	w.Close()
	return <-got
}

func TestBadAddressInURIExitsWithMessage(t *testing.T) {
	var rc int
	msg := stderrOf(t, func() { rc = run([]string{"xmpp:bob@@example.org?message;body=hi"}) })
	if rc != 2 {
		t.Errorf("exit %d, want 2", rc)
	}
	if !strings.Contains(msg, `"bob@@example.org" is not a valid address`) || !strings.Contains(msg, "server name") {
		t.Errorf("message %q does not say which address is wrong and why", msg)
	}
}
