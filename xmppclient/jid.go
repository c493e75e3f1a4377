// Package xmppclient is Parley's XMPP protocol layer: it owns the stream
// (dial, TLS, SASL, bind, stream management, reconnect) and exposes typed
// events to the app layer. This file parses and normalizes JIDs (RFC 7622).
package xmppclient

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/norm"
)

// JID is a normalized XMPP address: local@domain/resource. The zero value is
// an empty JID. Local and Domain are lower-case after ParseJID.
type JID struct {
	Local    string
	Domain   string
	Resource string
}

// ErrInvalidJID is wrapped by every JID parsing error.
var ErrInvalidJID = errors.New("invalid JID")

// JIDError says which part of an address is wrong and why.
type JIDError struct {
	Input  string
	Reason string
}

func (e *JIDError) Error() string {
	return fmt.Sprintf("invalid JID %q: %s", e.Input, e.Reason)
}

// Unwrap lets errors.Is(err, ErrInvalidJID) match.
func (e *JIDError) Unwrap() error { return ErrInvalidJID }

const maxJIDPart = 1023

// ParseJID parses and normalizes s. Domain and local part are lower-cased
// (the local part with the PRECIS UsernameCaseMapped profile); the resource
// is kept as given (OpaqueString profile).
func ParseJID(s string) (JID, error) {
	bad := func(reason string) (JID, error) { return JID{}, &JIDError{Input: s, Reason: reason} }
	if s == "" {
		return bad("empty address")
	}
	if !utf8.ValidString(s) {
		return bad("not valid UTF-8")
	}
	rest := s
	var j JID
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		j.Resource = rest[i+1:]
		rest = rest[:i]
		if j.Resource == "" {
			return bad("empty resource after '/'")
		}
	}
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		j.Local = rest[:i]
		rest = rest[i+1:]
		if j.Local == "" {
			return bad("empty name before '@'")
		}
	}
	j.Domain = rest
	if j.Domain == "" {
		return bad("missing server (domain) part")
	}

	if j.Local != "" {
		if strings.ContainsAny(j.Local, "\"&'/:<>@") {
			return bad("the name part may not contain \" & ' / : < > @")
		}
		local, err := precis.UsernameCaseMapped.String(j.Local)
		if err != nil {
			return bad("the name part has characters that are not allowed")
		}
		j.Local = local
	}
	domain, err := normalizeDomain(j.Domain)
	if err != nil {
		return bad(err.Error())
	}
	j.Domain = domain
	if j.Resource != "" {
		res, err := precis.OpaqueString.String(j.Resource)
		if err != nil {
			return bad("the resource has characters that are not allowed")
		}
		j.Resource = res
	}
	if len(j.Local) > maxJIDPart || len(j.Domain) > maxJIDPart || len(j.Resource) > maxJIDPart {
		return bad("a part is longer than 1023 bytes")
	}
	return j, nil
}

// MustParseJID is ParseJID for constants in tests and examples; it panics on error.
func MustParseJID(s string) JID {
	j, err := ParseJID(s)
	if err != nil {
		panic(err)
	}
	return j
}

func normalizeDomain(d string) (string, error) {
	d = strings.TrimSuffix(d, ".")
	if d == "" {
		return "", errors.New("missing server (domain) part")
	}
	if strings.HasPrefix(d, "[") {
		if !strings.HasSuffix(d, "]") || net.ParseIP(d[1:len(d)-1]) == nil {
			return "", errors.New("malformed IPv6 address")
		}
		return strings.ToLower(d), nil
	}
	d = strings.ToLower(norm.NFC.String(d))
	for _, label := range strings.Split(d, ".") {
		if label == "" {
			return "", errors.New("the server name has an empty label")
		}
		if len(label) > 63 {
			return "", errors.New("a label of the server name is longer than 63 bytes")
		}
		for _, r := range label {
			if unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune("@/:<>\"'&[]\\", r) {
				return "", fmt.Errorf("the server name contains %q", r)
			}
		}
	}
	return d, nil
}

// Bare returns the JID without resource.
func (j JID) Bare() JID { return JID{Local: j.Local, Domain: j.Domain} }

// IsZero reports whether j is the empty JID.
func (j JID) IsZero() bool { return j.Domain == "" }

// IsBare reports whether j has no resource.
func (j JID) IsBare() bool { return j.Resource == "" }

// String formats j as local@domain/resource, leaving out empty parts.
func (j JID) String() string {
	var b strings.Builder
	if j.Local != "" {
		b.WriteString(j.Local)
		b.WriteByte('@')
	}
	b.WriteString(j.Domain)
	if j.Resource != "" {
		b.WriteByte('/')
		b.WriteString(j.Resource)
	}
	return b.String()
}

// Equal compares two JIDs exactly (all three parts).
func (j JID) Equal(o JID) bool { return j == o }

// WithResource returns a copy of j with the resource replaced.
func (j JID) WithResource(r string) JID { j.Resource = r; return j }
