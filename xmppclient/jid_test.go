// Unit tests of JID parsing and normalization (RFC 7622).
package xmppclient

import (
	"errors"
	"testing"
)

func TestParseJID(t *testing.T) {
	tests := []struct {
		in   string
		want string
		bare string
	}{
		{"alice@example.org", "alice@example.org", "alice@example.org"},
		{"Alice@Example.ORG/Phone", "alice@example.org/Phone", "alice@example.org"},
		{"example.org", "example.org", "example.org"},
		{"example.org.", "example.org", "example.org"},
		{"a@b/c/d", "a@b/c/d", "a@b"},
		{"a@b/c@d", "a@b/c@d", "a@b"},
		{"ÄLICE@ÉXAMPLE.org", "älice@éxample.org", "älice@éxample.org"},
		{"u@[::1]", "u@[::1]", "u@[::1]"},
		{"u@127.0.0.1/r", "u@127.0.0.1/r", "u@127.0.0.1"},
	}
	for _, tt := range tests {
		j, err := ParseJID(tt.in)
		if err != nil {
			t.Errorf("ParseJID(%q): %v", tt.in, err)
			continue
		}
		if j.String() != tt.want {
			t.Errorf("ParseJID(%q) = %q, want %q", tt.in, j.String(), tt.want)
		}
		if j.Bare().String() != tt.bare {
			t.Errorf("ParseJID(%q).Bare() = %q, want %q", tt.in, j.Bare().String(), tt.bare)
		}
	}
}

func TestParseJIDInvalid(t *testing.T) {
	for _, in := range []string{"", "@example.org", "alice@", "alice@example.org/", "a b@example.org", "a@exa mple.org",
		"a\"b@x", "a<b@x", "a@b..c", "a@[zz]", "\xff@x", "a@/r", string(make([]byte, 1100)) + "@x"} {
		_, err := ParseJID(in)
		if err == nil {
			t.Errorf("ParseJID(%q) accepted an invalid JID", in)
			continue
		}
		if !errors.Is(err, ErrInvalidJID) {
			t.Errorf("ParseJID(%q) error %v does not wrap ErrInvalidJID", in, err)
		}
		var je *JIDError
		if !errors.As(err, &je) || je.Reason == "" {
			t.Errorf("ParseJID(%q): want a *JIDError with a reason, got %v", in, err)
		}
	}
}

func TestFingerprintFormatting(t *testing.T) {
	if got := FormatFingerprint("ab01ff"); got != "AB:01:FF" {
		t.Errorf("FormatFingerprint = %q", got)
	}
	if got := NormalizeFingerprint(" AB:01:FF "); got != "ab01ff" {
		t.Errorf("NormalizeFingerprint = %q", got)
	}
}
