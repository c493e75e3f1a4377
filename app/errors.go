// Login and registration errors as the UI sees them: the session engine's
// typed errors are translated here into app-level types (views never import
// xmppclient), each with a message fit to show a person.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"parley/app/media"
	"parley/xmppclient"
)

var (
	// ErrWrongPassword: the server did not accept the user name or password.
	ErrWrongPassword = errors.New("wrong user name or password")
	// ErrInsecureServer: the server offered no encryption; the password was not sent.
	ErrInsecureServer = errors.New("the server does not offer encryption; the password was not sent")
	// ErrBusy: a login or registration is already running.
	ErrBusy = errors.New("a login is already in progress")
	// ErrNoPassword: a login was asked for without a password.
	ErrNoPassword = errors.New("enter your password")
	// ErrNothingToRetry: TrustCertificate was called with no failed login to retry.
	ErrNothingToRetry = errors.New("there is no login to retry")
	// ErrClosed: the service was closed.
	ErrClosed = errors.New("parley is shutting down")
	// ErrSessionReplaced: another client logged in to the account with the
	// same resource, and the server ended this session for it (stream
	// error conflict). Parley does not reconnect by itself, which would
	// throw the other client out in turn; Service.Reconnect logs in again
	// with a fresh resource.
	ErrSessionReplaced = errors.New("another client logged in with the same resource, so the server ended this session")
)

// InvalidJIDError: the address typed is not a valid account JID.
type InvalidJIDError struct {
	Input  string
	Reason string
}

func (e *InvalidJIDError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("%q is not a valid address", e.Input)
	}
	return "invalid address: " + e.Reason
}

// UnreachableError: no server answered for the account.
type UnreachableError struct {
	Server string   // the domain, or host:port when given
	Tried  []string // the addresses tried
	Err    error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the server %s: %v", e.Server, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// UntrustedCertificateError: the server's certificate could not be verified.
// The user may trust exactly this certificate with Service.TrustCertificate.
type UntrustedCertificateError struct {
	Host string
	// Fingerprint is the SHA-256 fingerprint of the server certificate,
	// formatted for display ("AB:CD:..."). RawFingerprint is lower-case hex.
	Fingerprint    string
	RawFingerprint string
	Subject        string
	Issuer         string
	Reason         string // why verification failed
}

func (e *UntrustedCertificateError) Error() string {
	return fmt.Sprintf("the certificate of %s is not trusted (%s)", e.Host, e.Reason)
}

// RegistrationError: the server refused to create the account.
type RegistrationError struct {
	NameTaken  bool // the user name is already in use
	NotAllowed bool // the server does not allow creating accounts from the client
	NeedsForm  bool // the server wants more than a name and password (CAPTCHA, e-mail ...)
	// Instructions is the server's own explanation, if any.
	Instructions string
	Condition    string
	Text         string
}

func (e *RegistrationError) Error() string {
	switch {
	case e.NameTaken:
		return "that user name is already taken on this server"
	case e.NotAllowed:
		return "this server does not allow creating accounts from Parley"
	case e.NeedsForm:
		msg := "the server needs more information to create an account than Parley can give"
		if e.Instructions != "" {
			msg += ": " + e.Instructions
		}
		return msg
	}
	msg := "the server refused to create the account"
	if e.Condition != "" {
		msg += " (" + e.Condition + ")"
	}
	if e.Text != "" {
		msg += ": " + e.Text
	}
	return msg
}

// ConnectionError is any other failure to log in (a stream error, a
// protocol fault, a timeout), with the engine's description.
type ConnectionError struct {
	Err error
}

func (e *ConnectionError) Error() string { return "login failed: " + e.Err.Error() }
func (e *ConnectionError) Unwrap() error { return e.Err }

// FormatFingerprint writes a hex fingerprint as colon-separated upper-case
// pairs (AB:CD:...).
func FormatFingerprint(fp string) string { return xmppclient.FormatFingerprint(fp) }

// ValidateJID checks an account address as typed and returns its bare,
// normalized form, or an *InvalidJIDError.
func ValidateJID(s string) (string, error) {
	s = strings.TrimSpace(s)
	j, err := xmppclient.ParseJID(s)
	if err != nil {
		return "", translateJIDError(s, err)
	}
	if j.Local == "" {
		return "", &InvalidJIDError{Input: s, Reason: "an account address looks like name@server"}
	}
	return j.Bare().String(), nil
}

func translateJIDError(input string, err error) error {
	var je *xmppclient.JIDError
	if errors.As(err, &je) {
		return &InvalidJIDError{Input: input, Reason: je.Reason}
	}
	return &InvalidJIDError{Input: input, Reason: err.Error()}
}

// translate maps an error of the session engine to the app's types.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var (
		certErr   *xmppclient.CertificateError
		connErr   *xmppclient.ConnectError
		regErr    *xmppclient.RegistrationError
		jidErr    *xmppclient.JIDError
		authErr   *xmppclient.AuthError
		streamErr *xmppclient.StreamError
		appCert   *UntrustedCertificateError
		appUnr    *UnreachableError
		appReg    *RegistrationError
		appJID    *InvalidJIDError
		appConn   *ConnectionError
		alreadyT  = errors.As(err, &appCert) || errors.As(err, &appUnr) || errors.As(err, &appReg) ||
			errors.As(err, &appJID) || errors.As(err, &appConn)
	)
	switch {
	case alreadyT, errors.Is(err, ErrWrongPassword), errors.Is(err, ErrInsecureServer),
		errors.Is(err, ErrBusy), errors.Is(err, ErrClosed), errors.Is(err, ErrNoPassword),
		errors.Is(err, ErrSessionReplaced):
		return err
	case errors.As(err, &streamErr) && streamErr.Condition == "conflict":
		return ErrSessionReplaced
	case errors.Is(err, xmppclient.ErrWrongPassword):
		return ErrWrongPassword
	case errors.As(err, &authErr):
		// Refused for another reason (account disabled, ...): keep the server's words.
		return &ConnectionError{Err: err}
	case errors.As(err, &certErr):
		reason := "not signed by a trusted authority"
		if certErr.Err != nil {
			reason = certErr.Err.Error()
		}
		return &UntrustedCertificateError{
			Host:           certErr.Host,
			Fingerprint:    xmppclient.FormatFingerprint(certErr.Fingerprint),
			RawFingerprint: xmppclient.NormalizeFingerprint(certErr.Fingerprint),
			Subject:        certErr.Subject,
			Issuer:         certErr.Issuer,
			Reason:         reason,
		}
	case errors.Is(err, xmppclient.ErrInsecureServer):
		return ErrInsecureServer
	case errors.As(err, &connErr):
		server := connErr.Domain
		if len(connErr.Tried) == 1 {
			server = connErr.Tried[0]
		}
		return &UnreachableError{Server: server, Tried: connErr.Tried, Err: connErr.Err}
	case errors.As(err, &regErr):
		return &RegistrationError{
			NameTaken:    regErr.Condition == "conflict",
			NotAllowed:   regErr.Condition == "not-allowed" || regErr.Condition == "forbidden",
			NeedsForm:    regErr.NeedsForm,
			Instructions: regErr.Instructions,
			Condition:    regErr.Condition,
			Text:         regErr.Text,
		}
	case errors.Is(err, xmppclient.ErrRegistrationUnsupported):
		return &RegistrationError{NotAllowed: true, Condition: "service-unavailable"}
	case errors.As(err, &jidErr):
		return &InvalidJIDError{Input: jidErr.Input, Reason: jidErr.Reason}
	case errors.Is(err, context.Canceled):
		return err
	}
	return &ConnectionError{Err: err}
}

// UserMessage is the sentence the UI shows for err.
func UserMessage(err error) string {
	if err == nil {
		return ""
	}
	if msg, ok := fileMessage(err); ok {
		return msg
	}
	err = translate(err)
	var (
		cert *UntrustedCertificateError
		unr  *UnreachableError
		reg  *RegistrationError
		jid  *InvalidJIDError
		conn *ConnectionError
	)
	switch {
	case errors.Is(err, ErrWrongPassword):
		return "Wrong user name or password."
	case errors.Is(err, ErrInsecureServer):
		return "The server does not offer encryption. Parley did not send your password."
	case errors.Is(err, ErrSessionReplaced):
		return "Another client logged in to this account with the same resource, so the server ended this session. Reconnect to log in here again (as a new resource)."
	case errors.As(err, &cert):
		return fmt.Sprintf("The certificate of %s is not trusted (%s). Fingerprint: %s", cert.Host, cert.Reason, cert.Fingerprint)
	case errors.As(err, &unr):
		return fmt.Sprintf("Cannot reach the server %s. Check the address and your network.", unr.Server)
	case errors.As(err, &reg):
		return capitalize(reg.Error()) + "."
	case errors.As(err, &jid):
		return capitalize(jid.Error()) + "."
	case errors.Is(err, context.DeadlineExceeded):
		return "The server did not answer in time."
	case errors.Is(err, context.Canceled):
		return "Cancelled."
	case errors.As(err, &conn):
		return connectionMessage(conn.Err)
	}
	return capitalize(err.Error()) + "."
}

// fileMessage words what went wrong with a file (ok is false for other
// errors).
func fileMessage(err error) (string, bool) {
	var up *xmppclient.UploadError
	switch {
	case errors.As(err, &up):
		return uploadMessage(up), true
	case errors.Is(err, xmppclient.ErrNoUploadService):
		return "Your server does not offer file sharing (XEP-0363 HTTP upload), so files cannot be sent.", true
	case errors.Is(err, media.ErrImageTooLarge):
		return "The picture is too large to open safely (over 50 megapixels).", true
	case errors.Is(err, ErrCancelled):
		return "You cancelled sending this file.", true
	case errors.Is(err, ErrDownloadCancelled):
		return "You cancelled the download. Click the file to download it again.", true
	case errors.Is(err, media.ErrTooManyFrames):
		return "The animation has too many frames to show safely.", true
	case errors.Is(err, media.ErrSlotRefused):
		return "The upload server refused the file. Retry to ask for a new upload.", true
	case errors.Is(err, media.ErrEncryptedFile):
		return "This is an encrypted file (OMEMO), which Parley cannot open yet.", true
	case errors.Is(err, media.ErrNotFetchable):
		return "Parley downloads only http and https links; this file's link is neither, so it was not fetched.", true
	case errors.Is(err, ErrAutoFetchOff):
		return "Automatic downloads are off: click to download.", true
	case errors.Is(err, ErrNotFromContact):
		return "The sender is not in your contacts: their files are downloaded only when you click.", true
	}
	var tl *media.TooLargeError
	if errors.As(err, &tl) {
		if tl.Size > 0 {
			return "This file is " + FormatSize(tl.Size) + ", more than " + FormatSize(tl.Limit) + ": it is downloaded only when you click.", true
		}
		return "This file is larger than " + FormatSize(tl.Limit) + ", so its download was stopped.", true
	}
	return "", false
}

// uploadMessage words a refused upload.
func uploadMessage(e *xmppclient.UploadError) string {
	switch e.Reason {
	case xmppclient.UploadTooLarge:
		if e.MaxFileSize > 0 {
			return "The file is larger than your server accepts (at most " + FormatSize(e.MaxFileSize) + ")."
		}
		return "The file is larger than your server accepts."
	case xmppclient.UploadQuota:
		if !e.RetryAt.IsZero() {
			return "Your upload quota on the server is used up until " + e.RetryAt.Local().Format("15:04") + "."
		}
		return "Your upload quota on the server is used up. Try again later."
	case xmppclient.UploadNotAllowed:
		return "Your server does not let this account share files."
	}
	return "The server refused the upload: " + e.Err.Condition + "."
}

// FormatSize is a file size as people read it: 980 bytes, 12 KB, 3.4 MB,
// 1.2 GB (decimal units, as file managers show them).
func FormatSize(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d bytes", n)
	case n < 1_000_000:
		return fmt.Sprintf("%d KB", (n+500)/1000)
	case n < 1_000_000_000:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/1e6), ".0") + " MB"
	}
	return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/1e9), ".0") + " GB"
}

func capitalize(s string) string {
	s = strings.TrimSuffix(s, ".")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// connectionMessage explains a lost or failed connection.
func connectionMessage(err error) string {
	var (
		se   *xmppclient.StreamError
		nerr net.Error
	)
	switch {
	case errors.As(err, &se):
		switch se.Condition {
		case "system-shutdown":
			return "The server is shutting down."
		case "policy-violation", "not-authorized":
			return "The server closed the session (" + se.Condition + ")."
		}
		msg := "The server closed the session: " + se.Condition
		if se.Text != "" {
			msg += " (" + se.Text + ")"
		}
		return msg + "."
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "The server closed the connection."
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE):
		return "The connection was broken."
	case errors.As(err, &nerr) && nerr.Timeout(), errors.Is(err, context.DeadlineExceeded):
		return "The server stopped answering (timeout)."
	}
	return capitalize(err.Error()) + "."
}
