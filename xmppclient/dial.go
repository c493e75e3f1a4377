// Finding and reaching the server: DNS SRV lookup (XEP-0368 direct TLS
// records first, then STARTTLS records), TCP connect, and TLS with
// certificate verification against the system or configured roots, or a
// fingerprint the user pinned.
package xmppclient

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"net"
	"strconv"
	"time"
)

// endpoint is one place to try: host:port, and whether TLS starts at once.
type endpoint struct {
	Host      string
	Port      int
	DirectTLS bool
}

func (e endpoint) addr() string { return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) }

type srvResolver interface {
	LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
}

type netResolver struct{}

func (netResolver) LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error) {
	return net.DefaultResolver.LookupSRV(ctx, service, proto, name)
}

// endpoints lists where to connect, in the order to try.
func endpoints(ctx context.Context, cfg *Config) []endpoint {
	if cfg.Host != "" {
		port := cfg.Port
		if port == 0 {
			port = 5222
			if cfg.DirectTLS {
				port = 5223
			}
		}
		return []endpoint{{Host: cfg.Host, Port: port, DirectTLS: cfg.DirectTLS}}
	}
	domain := cfg.JID.Domain
	var eps []endpoint
	lookup := func(service string, direct bool) {
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, srvs, err := cfg.resolver.LookupSRV(lctx, service, "tcp", domain)
		if err != nil {
			return
		}
		for _, s := range srvs {
			target := trimDot(s.Target)
			if target == "" { // "." means the service is not offered here
				continue
			}
			eps = append(eps, endpoint{Host: target, Port: int(s.Port), DirectTLS: direct})
		}
	}
	lookup("xmpps-client", true)
	lookup("xmpp-client", false)
	if len(eps) == 0 {
		port := 5222
		if cfg.Port != 0 {
			port = cfg.Port
		}
		eps = append(eps, endpoint{Host: domain, Port: port})
	}
	return eps
}

func trimDot(s string) string {
	if len(s) > 0 && s[len(s)-1] == '.' {
		return s[:len(s)-1]
	}
	return s
}

// tlsConfig verifies the chain for the account's domain itself, so a
// failure can report the leaf's fingerprint, and accepts a pinned leaf.
func tlsConfig(cfg *Config) *tls.Config {
	domain := cfg.JID.Domain
	pins := map[string]bool{}
	for _, p := range cfg.PinnedFingerprints {
		pins[NormalizeFingerprint(p)] = true
	}
	roots := cfg.RootCAs
	return &tls.Config{
		ServerName:         domain,
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // verified in VerifyConnection below, which never skips
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return &CertificateError{Host: domain, Err: errors.New("the server sent no certificate")}
			}
			leaf := cs.PeerCertificates[0]
			fp := Fingerprint(leaf)
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := leaf.Verify(x509.VerifyOptions{DNSName: domain, Roots: roots, Intermediates: inter})
			if err == nil {
				return nil
			}
			if pins[fp] {
				return nil
			}
			return &CertificateError{Host: domain, Fingerprint: fp, Subject: leaf.Subject.String(), Issuer: leaf.Issuer.String(), Err: err}
		},
	}
}

// Fingerprint is the lower-case hex SHA-256 of a certificate's DER bytes.
func Fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// dialEndpoint connects TCP and, for direct TLS, completes the handshake.
func dialEndpoint(ctx context.Context, cfg *Config, ep endpoint) (net.Conn, error) {
	d := net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}
	tcp, err := d.DialContext(ctx, "tcp", ep.addr())
	if err != nil {
		return nil, err
	}
	conn := withQuickAck(tcp)
	if !ep.DirectTLS {
		return conn, nil
	}
	tc, err := handshakeTLS(ctx, cfg, conn, true)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return tc, nil
}

func handshakeTLS(ctx context.Context, cfg *Config, conn net.Conn, direct bool) (*tls.Conn, error) {
	tcfg := tlsConfig(cfg)
	if direct {
		tcfg.NextProtos = []string{"xmpp-client"} // XEP-0368 ALPN
	}
	tc := tls.Client(conn, tcfg)
	hctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		var ce *CertificateError
		if errors.As(err, &ce) {
			return nil, ce
		}
		return nil, err
	}
	return tc, nil
}
