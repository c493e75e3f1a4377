// Tests of the command line: --version, bad flags, and xmpp: URI parsing
// (opening the chat it names is tested in main_uri_test.go).
package main

import "testing"

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
