// demo-setup prepares `make demo` (scripts/demo.sh): on the sandbox server it
// creates two accounts (in-band registration; an existing account is kept),
// makes them subscribed to each other with the real presence handshake
// (RFC 6121 §3) through Parley's own engine, and writes one Parley profile
// per account that trusts the sandbox CA and remembers the password in the
// profile folder (the no-keyring fallback), so each window logs in by itself.
package main

import (
	"context"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gosrc.io/xmpp/stanza"

	"parley/app"
	"parley/xmppclient"
)

type account struct {
	user, pass string
	jid        xmppclient.JID
	client     *xmppclient.Client
}

func main() {
	host := flag.String("host", "127.0.0.1", "server host")
	port := flag.Int("port", 5222, "server STARTTLS port")
	domain := flag.String("domain", "localhost", "XMPP domain")
	caFile := flag.String("ca", "", "PEM file of the sandbox CA")
	profiles := flag.String("profiles", "", "folder for the profiles (one sub-folder per user)")
	users := flag.String("users", "alice:alice-pass,bob:bob-pass", "two user:password pairs")
	timeout := flag.Duration("timeout", 30*time.Second, "give up after this long")
	flag.Parse()
	if *caFile == "" || *profiles == "" {
		fmt.Fprintln(os.Stderr, "demo-setup: -ca and -profiles are required")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, *host, *port, *domain, *caFile, *profiles, *users); err != nil {
		fmt.Fprintln(os.Stderr, "demo-setup:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, host string, port int, domain, caFile, profiles, users string) error {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return fmt.Errorf("%s holds no certificate", caFile)
	}
	var accts []*account
	for _, pair := range strings.Split(users, ",") {
		u, p, ok := strings.Cut(pair, ":")
		if !ok || u == "" || p == "" {
			return fmt.Errorf("bad user:password pair %q", pair)
		}
		j, err := xmppclient.ParseJID(u + "@" + domain)
		if err != nil {
			return err
		}
		accts = append(accts, &account{user: u, pass: p, jid: j})
	}
	if len(accts) != 2 {
		return errors.New("exactly two users are needed")
	}
	cfg := func(a *account) xmppclient.Config {
		return xmppclient.Config{JID: a.jid.WithResource("demo-setup"), Password: a.pass, Host: host, Port: port, RootCAs: pool}
	}

	// 1. Accounts.
	for _, a := range accts {
		err := xmppclient.Register(ctx, cfg(a), a.pass)
		var re *xmppclient.RegistrationError
		switch {
		case err == nil:
			fmt.Printf("demo-setup: created %s\n", a.jid)
		case errors.As(err, &re) && re.Condition == "conflict":
			fmt.Printf("demo-setup: %s exists already\n", a.jid)
		default:
			return fmt.Errorf("create %s: %w", a.jid, err)
		}
	}

	// 2. Log both in (this also checks the passwords) and subscribe.
	for _, a := range accts {
		c, err := xmppclient.New(cfg(a))
		if err != nil {
			return err
		}
		defer c.Close()
		if err := c.Connect(ctx); err != nil {
			return fmt.Errorf("log in %s: %w", a.jid, err)
		}
		if err := c.SendPresence(stanza.NewPresence(stanza.Attrs{})); err != nil {
			return err
		}
		a.client = c
	}
	if err := subscribe(ctx, accts[0], accts[1]); err != nil {
		return err
	}
	if err := subscribe(ctx, accts[1], accts[0]); err != nil {
		return err
	}
	for _, a := range accts {
		other := accts[0]
		if a == accts[0] {
			other = accts[1]
		}
		if err := waitBoth(ctx, a, other); err != nil {
			return err
		}
	}
	fmt.Printf("demo-setup: %s and %s are subscribed to each other\n", accts[0].jid, accts[1].jid)

	// 3. Profiles.
	for _, a := range accts {
		dir := filepath.Join(profiles, a.user)
		p, err := app.OpenProfile(dir)
		if err != nil {
			return err
		}
		absCA, _ := filepath.Abs(caFile)
		if err := p.Update(func(s *app.AccountSettings) {
			s.JID = a.jid.String()
			s.Host = host
			s.Port = port
			s.DirectTLS = false
			s.CAFile = absCA
			s.RememberPassword = true
			s.PasswordStore = app.PasswordInFile
			s.LoggedOut = false
		}); err != nil {
			return err
		}
		if err := (app.FileSecretStore{Path: filepath.Join(p.Dir(), app.PasswordFile)}).Set(a.jid.String(), a.pass); err != nil {
			return err
		}
		fmt.Printf("demo-setup: profile %s for %s\n", p.Dir(), a.jid)
	}
	return nil
}

// subscribe makes from subscribed to to's presence: from asks, to approves.
func subscribe(ctx context.Context, from, to *account) error {
	ask := stanza.NewPresence(stanza.Attrs{Type: stanza.PresenceTypeSubscribe, To: to.jid.String()})
	if err := from.client.Send(&ask); err != nil {
		return err
	}
	// Wait for the request to reach to (or for it to be approved already).
	for {
		items, err := roster(ctx, to.client)
		if err != nil {
			return err
		}
		if sub := items[from.jid.String()]; sub == "from" || sub == "both" {
			return nil
		}
		select {
		case ev, ok := <-to.client.Events():
			if !ok {
				return errors.New("connection closed")
			}
			pe, isPres := ev.(xmppclient.PresenceEvent)
			if !isPres || pe.Presence.Type != stanza.PresenceTypeSubscribe || bare(pe.Presence.From) != from.jid.String() {
				continue
			}
			ok2 := stanza.NewPresence(stanza.Attrs{Type: stanza.PresenceTypeSubscribed, To: from.jid.String()})
			return to.client.Send(&ok2)
		case <-ctx.Done():
			return fmt.Errorf("%s never saw the subscription request of %s: %w", to.jid, from.jid, ctx.Err())
		}
	}
}

// waitBoth waits until a's roster has other with subscription "both".
func waitBoth(ctx context.Context, a, other *account) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		items, err := roster(ctx, a.client)
		if err != nil {
			return err
		}
		if items[other.jid.String()] == "both" {
			return nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return fmt.Errorf("the roster of %s never showed %s with subscription both (now %q): %w", a.jid, other.jid, items[other.jid.String()], ctx.Err())
		}
	}
}

// roster fetches the roster as JID -> subscription.
func roster(ctx context.Context, c *xmppclient.Client) (map[string]string, error) {
	iq, err := stanza.NewIQ(stanza.Attrs{Type: stanza.IQTypeGet})
	if err != nil {
		return nil, err
	}
	iq.RosterIQ()
	_, raw, err := c.SendIQRaw(ctx, *iq)
	if err != nil {
		return nil, fmt.Errorf("roster: %w", err)
	}
	var reply struct {
		Items []struct {
			JID          string `xml:"jid,attr"`
			Subscription string `xml:"subscription,attr"`
		} `xml:"query>item"`
	}
	if err := xml.Unmarshal(raw, &reply); err != nil {
		return nil, fmt.Errorf("roster: %w", err)
	}
	out := map[string]string{}
	for _, it := range reply.Items {
		out[it.JID] = it.Subscription
	}
	return out, nil
}

func bare(jid string) string {
	if i := strings.IndexByte(jid, '/'); i >= 0 {
		return jid[:i]
	}
	return jid
}
