// Integration tests of login against real servers: Prosody (SCRAM-SHA-1),
// ejabberd (SCRAM-SHA-1 and PLAIN), wrong passwords, unknown CAs and pinned
// certificates, direct TLS and STARTTLS, a stripped STARTTLS, and in-band
// registration with password change.
package xmppclient_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"parley/xmppclient"
	"parley/xmppclient/xmpptest"
)

func tryConnect(t *testing.T, cfg xmppclient.Config) (*xmppclient.Client, error) {
	t.Helper()
	c, err := xmppclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = c.Connect(ctx)
	t.Cleanup(func() { c.Close() })
	return c, err
}

func TestLoginProsodySCRAM(t *testing.T) {
	srv := xmpptest.Shared(t)
	user, pass := srv.NewUser(t, "login")
	c, _ := connect(t, clientConfig(t, srv, user, pass))
	info, ok := c.ConnInfo()
	if !ok {
		t.Fatal("no connection info while online")
	}
	if info.Mechanism != "SCRAM-SHA-1" {
		t.Errorf("mechanism = %s, want SCRAM-SHA-1 (Prosody's strongest)", info.Mechanism)
	}
	if info.TLSVersion != "TLS 1.3" && info.TLSVersion != "TLS 1.2" {
		t.Errorf("TLS version = %q", info.TLSVersion)
	}
	if !info.StreamManagement || !info.Resumable {
		t.Errorf("stream management not enabled with resumption: %+v", info)
	}
	if got := c.JID(); got.Bare().String() != srv.JID(user) || got.Resource == "" {
		t.Errorf("bound JID = %s", got)
	}
}

func TestLoginWithStableResource(t *testing.T) {
	srv := xmpptest.Shared(t)
	user, pass := srv.NewUser(t, "res")
	cfg := clientConfig(t, srv, user, pass)
	cfg.JID = cfg.JID.WithResource("parley-desk")
	c, _ := connect(t, cfg)
	if c.JID().Resource != "parley-desk" {
		t.Errorf("resource = %q, want parley-desk", c.JID().Resource)
	}
}

func TestWrongPasswordIsTyped(t *testing.T) {
	srv := xmpptest.Shared(t)
	user, _ := srv.NewUser(t, "wrongpw")
	c, err := tryConnect(t, clientConfig(t, srv, user, "not-the-password"))
	if !errors.Is(err, xmppclient.ErrWrongPassword) {
		t.Fatalf("want ErrWrongPassword, got %v", err)
	}
	var ae *xmppclient.AuthError
	if !errors.As(err, &ae) || ae.Condition != "not-authorized" {
		t.Fatalf("want AuthError not-authorized, got %#v", err)
	}
	if c.State() != xmppclient.StateOffline {
		t.Errorf("state after a refused login = %v", c.State())
	}
}

func TestUnknownCAGivesFingerprintAndPinningWorks(t *testing.T) {
	srv := xmpptest.Shared(t)
	user, pass := srv.NewUser(t, "pin")
	cfg := clientConfig(t, srv, user, pass)
	cfg.RootCAs = nil // the system roots do not know the test CA
	_, err := tryConnect(t, cfg)
	var ce *xmppclient.CertificateError
	if !errors.As(err, &ce) {
		t.Fatalf("want CertificateError, got %v", err)
	}
	if ce.Fingerprint != srv.LeafFingerprintSHA256 {
		t.Fatalf("fingerprint = %s, want %s", ce.Fingerprint, srv.LeafFingerprintSHA256)
	}
	if !xmppclient.IsPermanent(err) {
		t.Error("a certificate error must not be retried")
	}

	cfg.PinnedFingerprints = []string{xmppclient.FormatFingerprint(ce.Fingerprint)}
	connect(t, cfg)

	// Another fingerprint: the first byte changed (one that was 00 made
	// this pin the right one in 1 run of 256, as the test CA is new each run).
	wrong := "00"
	if strings.HasPrefix(strings.ToLower(ce.Fingerprint), "00") {
		wrong = "11"
	}
	cfg.PinnedFingerprints = []string{wrong + ce.Fingerprint[2:]}
	if _, err := tryConnect(t, cfg); !errors.As(err, &ce) {
		t.Fatalf("a wrong pin was accepted: %v", err)
	}
}

func TestDirectTLSAndSTARTTLS(t *testing.T) {
	srv := xmpptest.Shared(t)
	user, pass := srv.NewUser(t, "tls")
	cfg := clientConfig(t, srv, user, pass)
	connect(t, cfg) // STARTTLS on the c2s port

	dialVia(t, &cfg, srv.DirectTLSAddr)
	cfg.DirectTLS = true
	c, _ := connect(t, cfg)
	if info, _ := c.ConnInfo(); info.TLSVersion == "" {
		t.Error("direct TLS connection without TLS state")
	}
}

func TestStrippedSTARTTLSIsRefusedBeforeCredentials(t *testing.T) {
	srv := xmpptest.Shared(t)
	user, pass := srv.NewUser(t, "strip")
	proxy, err := xmpptest.StartStripTLSProxy(srv.C2SAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	cfg := clientConfig(t, srv, user, pass)
	dialVia(t, &cfg, proxy.Addr())
	_, err = tryConnect(t, cfg)
	if !errors.Is(err, xmppclient.ErrInsecureServer) {
		t.Fatalf("want ErrInsecureServer, got %v", err)
	}
	sent := proxy.ClientBytes()
	if len(sent) == 0 {
		t.Fatal("the proxy saw nothing: the test did not exercise the stripped path")
	}
	plain := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
	for _, secret := range []string{"<auth", pass, plain, "starttls"} {
		if bytes.Contains(sent, []byte(secret)) {
			t.Errorf("the client sent %q over the unencrypted stream: %s", secret, sent)
		}
	}
}

func TestLoginEjabberdSCRAMAndPLAIN(t *testing.T) {
	srv := xmpptest.SharedEjabberd(t)
	user, pass := srv.NewUser(t, "ej")
	for _, mech := range []string{"SCRAM-SHA-1", "PLAIN"} {
		t.Run(mech, func(t *testing.T) {
			cfg := clientConfig(t, srv, user, pass)
			cfg.Mechanisms = []string{mech}
			c, _ := connect(t, cfg)
			if info, _ := c.ConnInfo(); info.Mechanism != mech {
				t.Errorf("mechanism = %s, want %s", info.Mechanism, mech)
			}
			if err := c.Ping(context.Background(), xmppclient.JID{}); err != nil {
				t.Errorf("ping: %v", err)
			}
			cfg.Password = "wrong"
			if _, err := tryConnect(t, cfg); !errors.Is(err, xmppclient.ErrWrongPassword) {
				t.Errorf("wrong password on ejabberd with %s: %v", mech, err)
			}
		})
	}
}

func TestRegistrationAndPasswordChange(t *testing.T) {
	srv := xmpptest.Shared(t)
	user := "newcomer" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	cfg := clientConfig(t, srv, user, "first-pass")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := xmppclient.Register(ctx, cfg, "first-pass"); err != nil {
		t.Fatalf("register: %v", err)
	}
	err := xmppclient.Register(ctx, cfg, "other")
	var re *xmppclient.RegistrationError
	if !errors.As(err, &re) || re.Condition != "conflict" {
		t.Fatalf("registering a taken name: want conflict, got %v", err)
	}
	c, _ := connect(t, cfg)
	if err := c.ChangePassword(ctx, "second-pass"); err != nil {
		t.Fatalf("change password: %v", err)
	}
	if _, err := tryConnect(t, cfg); !errors.Is(err, xmppclient.ErrWrongPassword) {
		t.Fatalf("the old password still works: %v", err)
	}
	cfg.Password = "second-pass"
	connect(t, cfg)
}

func TestRegistrationRefusedWhenDisabled(t *testing.T) {
	srv := xmpptest.NewProsody(t, xmpptest.ProsodyOptions{DisableRegistration: true})
	cfg := clientConfig(t, srv, "nobody", "pw")
	err := xmppclient.Register(context.Background(), cfg, "pw")
	if !errors.Is(err, xmppclient.ErrRegistrationUnsupported) {
		var re *xmppclient.RegistrationError
		if !errors.As(err, &re) {
			t.Fatalf("want a typed registration refusal, got %v", err)
		}
	}
}

func TestUnreachableServerIsTyped(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close() // nothing listens there now
	c, err := xmppclient.New(xmppclient.Config{JID: xmppclient.MustParseJID("a@localhost"), Password: "x", Host: "127.0.0.1", Port: addr.Port})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Connect(context.Background())
	var ce *xmppclient.ConnectError
	if !errors.As(err, &ce) || len(ce.Tried) != 1 {
		t.Fatalf("want ConnectError, got %v", err)
	}
}
