// Typed errors of the session engine. The app layer reacts to these with
// errors.As / errors.Is: a wrong password, an untrusted certificate, a server
// that would not encrypt, an unreachable server, a refused registration.
package xmppclient

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrWrongPassword matches (errors.Is) an AuthError whose condition says
	// the credentials were not accepted.
	ErrWrongPassword = errors.New("wrong user name or password")
	// ErrInsecureServer: the server offered no way to encrypt the stream
	// (no STARTTLS, or the feature was stripped on the way). No credential
	// was sent.
	ErrInsecureServer = errors.New("the server does not offer encryption (STARTTLS); refusing to send the password in clear text")
	// ErrNoMechanism: the server offered no SASL mechanism Parley supports.
	ErrNoMechanism = errors.New("the server offers no supported login mechanism (SCRAM-SHA-256, SCRAM-SHA-1 or PLAIN)")
	// ErrClosed is returned by calls on a client after Close.
	ErrClosed = errors.New("xmpp client closed")
	// ErrNotConnected is returned when a stanza cannot be written because
	// there is no session at the moment.
	ErrNotConnected = errors.New("not connected")
	// ErrRegistrationUnsupported: the server does not offer in-band registration.
	ErrRegistrationUnsupported = errors.New("the server does not allow creating accounts from the client")
)

// AuthError is a refused SASL login, with the server's condition and text.
type AuthError struct {
	Mechanism string
	Condition string // e.g. "not-authorized", "account-disabled"
	Text      string
}

func (e *AuthError) Error() string {
	msg := "login refused"
	if e.Condition != "" {
		msg += ": " + e.Condition
	}
	if e.Text != "" {
		msg += " (" + e.Text + ")"
	}
	return msg
}

// Is makes errors.Is(err, ErrWrongPassword) true for not-authorized.
func (e *AuthError) Is(target error) bool {
	return target == ErrWrongPassword && e.Condition == "not-authorized"
}

// CertificateError is a server certificate that could not be verified. It
// carries the SHA-256 fingerprint of the leaf so the UI can offer to trust
// (pin) exactly that certificate for this account.
type CertificateError struct {
	Host        string
	Fingerprint string // lower-case hex SHA-256 of the leaf certificate (DER)
	Subject     string
	Issuer      string
	Err         error
}

func (e *CertificateError) Error() string {
	return fmt.Sprintf("the certificate of %s cannot be verified (%v); SHA-256 fingerprint %s", e.Host, e.Err, FormatFingerprint(e.Fingerprint))
}

func (e *CertificateError) Unwrap() error { return e.Err }

// FormatFingerprint writes a hex fingerprint in colon-separated upper-case pairs.
func FormatFingerprint(hexFP string) string {
	hexFP = strings.ToUpper(strings.ReplaceAll(hexFP, ":", ""))
	var b strings.Builder
	for i := 0; i < len(hexFP); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		end := min(i+2, len(hexFP))
		b.WriteString(hexFP[i:end])
	}
	return b.String()
}

// NormalizeFingerprint turns "AB:CD:..." into "abcd...".
func NormalizeFingerprint(fp string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(fp), ":", ""))
}

// ConnectError: no server could be reached at any address tried.
type ConnectError struct {
	Domain string
	Tried  []string // host:port tried, in order
	Err    error    // the last dial error
}

func (e *ConnectError) Error() string {
	return fmt.Sprintf("cannot reach the server for %s (tried %s): %v", e.Domain, strings.Join(e.Tried, ", "), e.Err)
}

func (e *ConnectError) Unwrap() error { return e.Err }

// StreamError is a <stream:error> sent by the server (conflict,
// system-shutdown, policy-violation ...). The stream is over after it.
type StreamError struct {
	Condition string
	Text      string
}

func (e *StreamError) Error() string {
	if e.Text != "" {
		return "stream error: " + e.Condition + " (" + e.Text + ")"
	}
	return "stream error: " + e.Condition
}

// StanzaError is an <error/> in an IQ reply (RFC 6120 §8.3).
type StanzaError struct {
	Type      string // cancel, continue, modify, auth, wait
	Condition string // e.g. service-unavailable, item-not-found
	Text      string
}

func (e *StanzaError) Error() string {
	s := "server replied with an error: " + e.Condition
	if e.Text != "" {
		s += " (" + e.Text + ")"
	}
	return s
}

// RegistrationError is a refused in-band registration (XEP-0077).
type RegistrationError struct {
	Condition string // conflict (name taken), not-acceptable, not-allowed ...
	Text      string
	// NeedsForm: the server asks for fields Parley cannot fill here (a
	// CAPTCHA, an e-mail address ...); Instructions says what it wants.
	NeedsForm    bool
	Instructions string
}

func (e *RegistrationError) Error() string {
	switch {
	case e.NeedsForm:
		msg := "the server needs more information to create an account than Parley can give"
		if e.Instructions != "" {
			msg += ": " + e.Instructions
		}
		return msg
	case e.Condition == "conflict":
		return "that user name is already taken"
	}
	s := "the server refused to create the account: " + e.Condition
	if e.Text != "" {
		s += " (" + e.Text + ")"
	}
	return s
}

// ProtocolError: the server broke the protocol (unexpected element, bad
// SCRAM proof ...). Kept apart so it is not confused with a network fault.
type ProtocolError struct {
	Step string
	Err  error
}

func (e *ProtocolError) Error() string {
	return "protocol error during " + e.Step + ": " + e.Err.Error()
}
func (e *ProtocolError) Unwrap() error { return e.Err }

// IsPermanent reports whether retrying a connection cannot help without a
// change by the user (credentials, certificate trust, a server that will not
// encrypt). Reconnect stops on these.
func IsPermanent(err error) bool {
	var ae *AuthError
	var ce *CertificateError
	var je *JIDError
	return errors.As(err, &ae) || errors.As(err, &ce) || errors.As(err, &je) ||
		errors.Is(err, ErrInsecureServer) || errors.Is(err, ErrNoMechanism) || errors.Is(err, ErrClosed)
}
