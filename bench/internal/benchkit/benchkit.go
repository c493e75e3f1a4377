// Package benchkit holds what the media and voice benchmarks share: timing
// a case over rounds after a warm-up, the median, how figures are printed
// and judged, and a password store that keeps nothing.
package benchkit

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	"parley/app"
	"parley/app/store"
	"parley/xmppclient/xmpptest"
)

// Time runs fn once untimed, then n times, and returns the sorted durations.
func Time(n int, fn func() error) ([]time.Duration, error) {
	if err := fn(); err != nil {
		return nil, err
	}
	ds := make([]time.Duration, 0, n)
	for range n {
		t0 := time.Now()
		if err := fn(); err != nil {
			return nil, err
		}
		ds = append(ds, time.Since(t0))
	}
	slices.Sort(ds)
	return ds, nil
}

// Median of sorted durations.
func Median(ds []time.Duration) time.Duration { return ds[len(ds)/2] }

// Ms prints a duration in milliseconds with one decimal.
func Ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) + " ms"
}

// Verdict is "Met" or "MISSED".
func Verdict(ok bool) string {
	if ok {
		return "Met"
	}
	return "MISSED"
}

// NoSecrets keeps no password (the benchmarks log in with it each time).
type NoSecrets struct{}

func (NoSecrets) Get(string) (string, error) { return "", app.ErrNoSecret }
func (NoSecrets) Set(string, string) error   { return nil }
func (NoSecrets) Delete(string) error        { return nil }

// Pass is the password of the benchmarks' users.
const Pass = "bench-pass"

// Sender creates the users "sender" and "receiver" on srv and returns a
// service logged in as the sender, its profile in dir (trusting the
// server's CA), and a function that waits until a message it sent is
// acknowledged by the server.
func Sender(ctx context.Context, srv *xmpptest.Server, dir string) (svc *app.Service, waitSent func(id int64) error, err error) {
	for _, u := range []string{"sender", "receiver"} {
		if err := srv.CreateUser(u, Pass); err != nil {
			return nil, nil, err
		}
	}
	p, err := app.OpenProfile(dir)
	if err != nil {
		return nil, nil, err
	}
	if err := p.Update(func(st *app.AccountSettings) { st.CAFile = srv.CAFile }); err != nil {
		return nil, nil, err
	}
	svc, err = app.NewService(app.Options{ProfileDir: dir, Keyring: NoSecrets{}, Version: "bench"})
	if err != nil {
		return nil, nil, err
	}
	host, port, _ := net.SplitHostPort(srv.C2SAddr)
	portN, _ := strconv.Atoi(port)
	if err := svc.Login(ctx, app.LoginRequest{JID: srv.JID("sender"), Password: Pass, Host: host, Port: portN}); err != nil {
		svc.Close()
		return nil, nil, err
	}
	cs := svc.Chats()
	changed := make(chan struct{}, 16)
	cs.Subscribe(func(app.ChatChange) {
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	waitSent = func(id int64) error {
		for {
			cur, err := cs.Message(ctx, id)
			if err != nil {
				return err
			}
			switch cur.State {
			case store.StateSent, store.StateDelivered, store.StateRead:
				return nil
			case store.StateFailed:
				return fmt.Errorf("the message failed: %s", cur.Error)
			}
			select {
			case <-changed:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return svc, waitSent, nil
}
