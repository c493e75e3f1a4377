// Configuration of a Client: the account, where and how to connect, trust
// settings, timings, and what the client announces about itself (disco/caps).
package xmppclient

import (
	"crypto/x509"
	"errors"
	"log/slog"
	"time"
)

// Config describes one account's connection. Only JID and Password are
// required; everything else has defaults suitable for a desktop client.
type Config struct {
	// JID is the account. If it has a resource, that resource is requested
	// at bind (a stable per-install resource); otherwise the server picks.
	JID      JID
	Password string

	// Host and Port override DNS SRV lookup. With DirectTLS the connection
	// starts with TLS (XEP-0368); otherwise STARTTLS is required.
	Host      string
	Port      int
	DirectTLS bool

	// RootCAs verifies the server certificate; nil means the system roots.
	RootCAs *x509.CertPool
	// PinnedFingerprints are SHA-256 fingerprints (hex, colons optional) of
	// leaf certificates the user chose to trust although they do not verify.
	PinnedFingerprints []string

	// Mechanisms restricts SASL to these mechanisms (default: SCRAM-SHA-256,
	// SCRAM-SHA-1, PLAIN — strongest offered first; PLAIN only inside TLS).
	Mechanisms []string

	// DisableStreamManagement turns XEP-0198 off (it is on by default).
	DisableStreamManagement bool

	// DialTimeout bounds each TCP connect plus TLS handshake (default 15 s).
	DialTimeout time.Duration
	// HandshakeTimeout bounds the whole login: stream, TLS, SASL, bind (default 30 s).
	HandshakeTimeout time.Duration
	// PingInterval is the idle time after which the client pings the server
	// (XEP-0199) to detect a silent break (default 60 s); PingTimeout is how
	// long it waits for the answer before declaring the connection dead
	// (default 20 s).
	PingInterval time.Duration
	PingTimeout  time.Duration
	// ReconnectMin and ReconnectMax bound the jittered exponential backoff
	// between reconnect attempts (defaults 1 s and 60 s).
	ReconnectMin time.Duration
	ReconnectMax time.Duration
	// AckInterval: after writing stanzas the client asks the server for an
	// ack once this much time passed or AckEvery stanzas were written
	// (defaults 250 ms, 20 stanzas).
	AckInterval time.Duration
	AckEvery    int

	// ClientName, ClientVersion and CapsNode describe Parley in disco and caps.
	ClientName    string
	ClientVersion string
	CapsNode      string
	// Features are extra disco#info features announced by the app layer
	// (e.g. urn:xmpp:receipts); the engine adds its own.
	Features []string

	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger

	// resolver is replaced in tests.
	resolver srvResolver
}

func (c *Config) withDefaults() (Config, error) {
	cfg := *c
	if cfg.JID.IsZero() {
		return cfg, errors.New("config: no account JID")
	}
	if cfg.JID.Local == "" {
		return cfg, &JIDError{Input: cfg.JID.String(), Reason: "an account needs a user name (name@server)"}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.DialTimeout, 15*time.Second)
	def(&cfg.HandshakeTimeout, 30*time.Second)
	def(&cfg.PingInterval, 60*time.Second)
	def(&cfg.PingTimeout, 20*time.Second)
	def(&cfg.ReconnectMin, time.Second)
	def(&cfg.ReconnectMax, 60*time.Second)
	def(&cfg.AckInterval, 250*time.Millisecond)
	if cfg.AckEvery <= 0 {
		cfg.AckEvery = 20
	}
	if cfg.ClientName == "" {
		cfg.ClientName = "Parley"
	}
	if cfg.CapsNode == "" {
		cfg.CapsNode = "https://parley.chat/caps"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.resolver == nil {
		cfg.resolver = netResolver{}
	}
	return cfg, nil
}
