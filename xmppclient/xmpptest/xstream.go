// xstream.go: the minimal client side of XMPP stream negotiation used by RawPeer and by
// ejabberd user registration: TCP or direct TLS, STARTTLS, SASL PLAIN / SCRAM-SHA-1, bind.
// It is independent of parley/xmppclient on purpose (no import cycle, and an independent
// implementation to test that package against).

package xmpptest

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

const (
	nsTLS  = "urn:ietf:params:xml:ns:xmpp-tls"
	nsSASL = "urn:ietf:params:xml:ns:xmpp-sasl"
	nsBind = "urn:ietf:params:xml:ns:xmpp-bind"
)

// xconn is a client connection during negotiation.
type xconn struct {
	tcp    net.Conn
	conn   net.Conn // tcp, or TLS over it
	sc     *Scanner
	domain string
}

// TLSConfig returns a TLS configuration that trusts only this server's test CA.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.CAPool, ServerName: s.Domain, MinVersion: tls.VersionTLS12}
}

// dialXMPP connects and returns a stream secured by STARTTLS (or direct TLS) with the
// post-TLS stream features. tlsCfg must not be nil.
func dialXMPP(addr, domain string, directTLS bool, tlsCfg *tls.Config, timeout time.Duration) (*xconn, []byte, error) {
	tcp, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, nil, err
	}
	x := &xconn{tcp: tcp, conn: tcp, domain: domain}
	tcp.SetDeadline(time.Now().Add(timeout))
	fail := func(err error) (*xconn, []byte, error) {
		tcp.Close()
		return nil, nil, err
	}
	if directTLS {
		cfg := tlsCfg.Clone()
		cfg.NextProtos = []string{"xmpp-client"}
		tc := tls.Client(tcp, cfg)
		if err := tc.Handshake(); err != nil {
			return fail(fmt.Errorf("xmpptest: direct TLS handshake: %w", err))
		}
		x.conn = tc
		x.sc = NewScanner(tc)
		feats, err := x.openStream()
		if err != nil {
			return fail(err)
		}
		return x, feats, nil
	}
	x.sc = NewScanner(tcp)
	feats, err := x.openStream()
	if err != nil {
		return fail(err)
	}
	if !bytes.Contains(feats, []byte("<starttls")) {
		return fail(fmt.Errorf("xmpptest: server offers no STARTTLS: %s", feats))
	}
	if err := x.write("<starttls xmlns='" + nsTLS + "'/>"); err != nil {
		return fail(err)
	}
	el, err := x.sc.Next()
	if err != nil {
		return fail(err)
	}
	if !nameIs(el, "proceed") {
		return fail(fmt.Errorf("xmpptest: STARTTLS refused: %s", el))
	}
	tc := tls.Client(tcp, tlsCfg)
	if err := tc.Handshake(); err != nil {
		return fail(fmt.Errorf("xmpptest: STARTTLS handshake: %w", err))
	}
	x.conn = tc
	x.sc.reset(tc)
	feats, err = x.openStream()
	if err != nil {
		return fail(err)
	}
	return x, feats, nil
}

func (x *xconn) write(s string) error {
	_, err := x.conn.Write([]byte(s))
	return err
}

// openStream sends a stream header and returns a copy of the <stream:features> element.
func (x *xconn) openStream() ([]byte, error) {
	err := x.write("<?xml version='1.0'?><stream:stream to='" + escapeText(x.domain) +
		"' version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>")
	if err != nil {
		return nil, err
	}
	for {
		el, err := x.sc.Next()
		if err != nil {
			return nil, err
		}
		switch {
		case bytes.HasPrefix(el, []byte("<?")), nameIs(el, "stream:stream"):
			continue
		case nameIs(el, "stream:features"):
			return append([]byte(nil), el...), nil
		default:
			return nil, fmt.Errorf("xmpptest: expected stream features, got %s", el)
		}
	}
}

// mechanisms lists the SASL mechanisms in a features element.
func mechanisms(feats []byte) []string {
	var out []string
	rest := feats
	for {
		i := bytes.Index(rest, []byte("<mechanism>"))
		if i < 0 {
			return out
		}
		rest = rest[i+len("<mechanism>"):]
		j := bytes.Index(rest, []byte("</mechanism>"))
		if j < 0 {
			return out
		}
		out = append(out, strings.TrimSpace(string(rest[:j])))
		rest = rest[j:]
	}
}

// saslError turns a <failure> element into an error naming its condition.
func saslError(el []byte) error {
	cond := "unknown"
	if gt, ok := tagEnd(el, 0); ok && el[gt-1] != '/' {
		if i := bytes.IndexByte(el[gt+1:], '<'); i >= 0 {
			inner := el[gt+1+i:]
			if !bytes.HasPrefix(inner, []byte("</")) {
				cond = ElementName(inner)
			}
		}
	}
	txt, _ := ChildText(el, "text")
	if txt != "" {
		cond += " (" + txt + ")"
	}
	return errors.New("xmpptest: SASL failure: " + cond)
}

// auth authenticates with mech ("PLAIN" or "SCRAM-SHA-1") and restarts the stream, returning
// the new features.
func (x *xconn) auth(user, pass, mech string) ([]byte, error) {
	switch mech {
	case "", "PLAIN":
		msg := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
		if err := x.write("<auth xmlns='" + nsSASL + "' mechanism='PLAIN'>" + msg + "</auth>"); err != nil {
			return nil, err
		}
		el, err := x.sc.Next()
		if err != nil {
			return nil, err
		}
		if !nameIs(el, "success") {
			return nil, saslError(el)
		}
	case "SCRAM-SHA-1":
		if err := x.scramSHA1(user, pass); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("xmpptest: unsupported SASL mechanism %q", mech)
	}
	return x.openStream()
}

func (x *xconn) scramSHA1(user, pass string) error {
	nb := make([]byte, 18)
	rand.Read(nb)
	cnonce := base64.RawStdEncoding.EncodeToString(nb)
	name := strings.NewReplacer("=", "=3D", ",", "=2C").Replace(user)
	clientFirstBare := "n=" + name + ",r=" + cnonce
	if err := x.write("<auth xmlns='" + nsSASL + "' mechanism='SCRAM-SHA-1'>" +
		base64.StdEncoding.EncodeToString([]byte("n,,"+clientFirstBare)) + "</auth>"); err != nil {
		return err
	}
	el, err := x.sc.Next()
	if err != nil {
		return err
	}
	if !nameIs(el, "challenge") {
		return saslError(el)
	}
	serverFirst, err := base64.StdEncoding.DecodeString(text(el))
	if err != nil {
		return fmt.Errorf("xmpptest: SCRAM challenge: %w", err)
	}
	var nonce, salt64 string
	iter := 0
	for _, kv := range strings.Split(string(serverFirst), ",") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "r":
			nonce = v
		case "s":
			salt64 = v
		case "i":
			iter, _ = strconv.Atoi(v)
		}
	}
	salt, err := base64.StdEncoding.DecodeString(salt64)
	if err != nil || !strings.HasPrefix(nonce, cnonce) || iter <= 0 {
		return fmt.Errorf("xmpptest: bad SCRAM server-first-message %q", serverFirst)
	}
	salted, err := pbkdf2.Key(sha1.New, pass, salt, iter, sha1.Size)
	if err != nil {
		return err
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha1.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	clientKey := mac(salted, "Client Key")
	stored := sha1.Sum(clientKey)
	finalNoProof := "c=biws,r=" + nonce
	authMsg := clientFirstBare + "," + string(serverFirst) + "," + finalNoProof
	sig := mac(stored[:], authMsg)
	proof := make([]byte, len(clientKey))
	for i := range proof {
		proof[i] = clientKey[i] ^ sig[i]
	}
	final := finalNoProof + ",p=" + base64.StdEncoding.EncodeToString(proof)
	if err := x.write("<response xmlns='" + nsSASL + "'>" + base64.StdEncoding.EncodeToString([]byte(final)) + "</response>"); err != nil {
		return err
	}
	el, err = x.sc.Next()
	if err != nil {
		return err
	}
	if !nameIs(el, "success") {
		return saslError(el)
	}
	serverFinal, _ := base64.StdEncoding.DecodeString(text(el))
	want := "v=" + base64.StdEncoding.EncodeToString(mac(mac(salted, "Server Key"), authMsg))
	if string(serverFinal) != want {
		return fmt.Errorf("xmpptest: SCRAM server signature mismatch (%q)", serverFinal)
	}
	return nil
}

// bind binds resource and returns the full JID; it also opens a session when required.
func (x *xconn) bind(resource string, feats []byte) (string, error) {
	req := "<iq type='set' id='bind_1'><bind xmlns='" + nsBind + "'>"
	if resource != "" {
		req += "<resource>" + escapeText(resource) + "</resource>"
	}
	if err := x.write(req + "</bind></iq>"); err != nil {
		return "", err
	}
	el, err := x.waitIQ("bind_1")
	if err != nil {
		return "", err
	}
	b, _ := Child(el, "bind")
	jid, _ := ChildText(b, "jid")
	if jid == "" {
		return "", fmt.Errorf("xmpptest: bind: no JID in %s", el)
	}
	if sess, ok := Child(feats, "session"); ok && !bytes.Contains(sess, []byte("<optional")) {
		if err := x.write("<iq type='set' id='sess_1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>"); err != nil {
			return "", err
		}
		if _, err := x.waitIQ("sess_1"); err != nil {
			return "", err
		}
	}
	return jid, nil
}

// waitIQ reads until the IQ reply with id arrives; an error reply becomes an error.
func (x *xconn) waitIQ(id string) ([]byte, error) {
	for {
		el, err := x.sc.Next()
		if err != nil {
			return nil, err
		}
		if nameIs(el, "stream:error") {
			return nil, fmt.Errorf("xmpptest: stream error: %s", el)
		}
		if !nameIs(el, "iq") {
			continue
		}
		if v, _ := Attr(el, "id"); v != id {
			continue
		}
		el = append([]byte(nil), el...)
		if t, _ := Attr(el, "type"); t == "error" {
			return el, &IQError{Condition: errorCondition(el), Raw: string(el)}
		}
		return el, nil
	}
}

// IQError is an <iq type='error'> reply.
type IQError struct {
	Condition string // e.g. "conflict", "not-allowed"
	Raw       string
}

func (e *IQError) Error() string { return "xmpptest: iq error: " + e.Condition + ": " + e.Raw }

// errorCondition returns the defined condition inside a stanza's <error> child.
func errorCondition(el []byte) string {
	e, ok := Child(el, "error")
	if !ok {
		return ""
	}
	gt, ok := tagEnd(e, 0)
	if !ok {
		return ""
	}
	rest := e[gt+1:]
	for {
		i := bytes.IndexByte(rest, '<')
		if i < 0 || i+1 >= len(rest) || rest[i+1] == '/' {
			return ""
		}
		rest = rest[i:]
		name := ElementName(rest)
		if name != "text" {
			return name
		}
		j := bytes.Index(rest, []byte("</text>"))
		if j < 0 {
			return ""
		}
		rest = rest[j+7:]
	}
}
