// Scale tests and benchmarks of the contacts service with 5,000 contacts:
// fed synthetic engine events (no server), every roster push and presence
// is O(1) work on the event loop, notifications are coalesced, and a
// snapshot is built in O(n log n), rebuilding only the contacts that
// changed; and a real 5,000-item roster from Prosody, fetched, kept locally
// and reconciled.
package app_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gosrc.io/xmpp/stanza"

	"parley/app"
	"parley/app/apptest"
	"parley/xmppclient"
	"parley/xmppclient/xmpptest"
)

const scaleN = 5000

func scaleJID(i int) string { return fmt.Sprintf("contact%05d@example.org", i) }

// feedRoster gives c n roster pushes, one contact each.
func feedRoster(c *app.ContactsService, n int) {
	for i := range n {
		c.Feed(xmppclient.RosterPushEvent{Item: xmppclient.RosterItem{
			JID: xmppclient.MustParseJID(scaleJID(i)), Name: fmt.Sprintf("Contact %d", n-i),
			Subscription: "both", Groups: []string{fmt.Sprintf("Group %d", i%25)},
		}, Ver: fmt.Sprint(i + 1)})
	}
}

func presence(from, show, status string, prio int8) xmppclient.PresenceEvent {
	p := stanza.NewPresence(stanza.Attrs{From: from})
	p.Show = stanza.PresenceShow(show)
	p.Status = status
	p.Priority = prio
	return xmppclient.PresenceEvent{Presence: p}
}

func TestContactsScale5000(t *testing.T) {
	c := app.NewDetachedContacts()
	defer c.Close()
	var calls atomic.Int64
	last := make(chan app.ContactsSnapshot, 1)
	defer c.Subscribe(func(s app.ContactsSnapshot) {
		calls.Add(1)
		select {
		case <-last:
		default:
		}
		last <- s
	})()

	start := time.Now()
	feedRoster(c, scaleN)
	rosterTime := time.Since(start)
	start = time.Now()
	for i := range scaleN {
		c.Feed(presence(scaleJID(i)+"/phone", "away", "on the phone", 0))
		c.Feed(presence(scaleJID(i)+"/laptop", "", "at work", 5))
	}
	presenceTime := time.Since(start)
	start = time.Now()
	snap := c.Snapshot()
	fullBuild := time.Since(start)

	if len(snap.Contacts) != scaleN {
		t.Fatalf("%d contacts, want %d", len(snap.Contacts), scaleN)
	}
	first := snap.Contacts[0]
	if first.Name != "Contact 1" || first.Show != app.ShowOnline || first.Status != "at work" ||
		len(first.Resources) != 2 || first.Resources[0].Name != "laptop" {
		t.Errorf("first contact: %+v", first)
	}
	if !slices.IsSortedFunc(snap.Contacts, func(a, b app.Contact) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), strings.Compare(a.JID, b.JID))
	}) {
		t.Error("contacts not sorted by name, then JID")
	}

	// One more presence: only that contact is rebuilt.
	c.Feed(presence(scaleJID(42)+"/laptop", "dnd", "busy", 5))
	start = time.Now()
	snap = c.Snapshot()
	oneBuild := time.Since(start)
	deadline := time.After(10 * time.Second)
	for {
		select {
		case s := <-last:
			if s.Version == snap.Version {
				goto done
			}
		case <-deadline:
			t.Fatal("the last change was never notified")
		}
	}
done:
	events := 3*scaleN + 1
	t.Logf("%d roster pushes in %v (%v each), %d presences in %v (%v each)", scaleN, rosterTime,
		rosterTime/scaleN, 2*scaleN, presenceTime, presenceTime/(2*scaleN))
	t.Logf("snapshot of %d contacts: full build %v, after one change %v; %d notifications for %d events",
		scaleN, fullBuild, oneBuild, calls.Load(), events)
	// Coalesced: at most one notification per 50 ms of feeding, plus a few.
	if limit := int64((rosterTime+presenceTime)/(50*time.Millisecond)) + 5; calls.Load() > limit {
		t.Errorf("%d notifications for %d events (limit %d): not coalesced", calls.Load(), events, limit)
	}
	// No O(n^2): 15,000 events on 5,000 contacts take well under a second
	// even with -race (quadratic work would be ~10^8 operations).
	if rosterTime+presenceTime > 5*time.Second {
		t.Errorf("feeding %d events took %v", events, rosterTime+presenceTime)
	}
}

func BenchmarkContactsSnapshotFull5000(b *testing.B) {
	c := app.NewDetachedContacts()
	defer c.Close()
	feedRoster(c, scaleN)
	for i := range scaleN {
		c.Feed(presence(scaleJID(i)+"/r", "", "", 0))
	}
	b.ResetTimer()
	for i := range b.N {
		// A change of every contact's presence forces a full rebuild.
		b.StopTimer()
		for j := range scaleN {
			c.Feed(presence(scaleJID(j)+"/r", "away", fmt.Sprint(i), 0))
		}
		b.StartTimer()
		if s := c.Snapshot(); len(s.Contacts) != scaleN {
			b.Fatal(len(s.Contacts))
		}
	}
}

func BenchmarkContactsSnapshotOneChange5000(b *testing.B) {
	c := app.NewDetachedContacts()
	defer c.Close()
	feedRoster(c, scaleN)
	b.ResetTimer()
	for i := range b.N {
		c.Feed(presence(scaleJID(i%scaleN)+"/r", "away", fmt.Sprint(i), 0))
		if s := c.Snapshot(); len(s.Contacts) != scaleN {
			b.Fatal(len(s.Contacts))
		}
	}
}

func BenchmarkContactsPresenceEvent5000(b *testing.B) {
	c := app.NewDetachedContacts()
	defer c.Close()
	feedRoster(c, scaleN)
	b.ResetTimer()
	for i := range b.N {
		c.Feed(presence(scaleJID(i%scaleN)+"/r", "away", "x", 0))
	}
}

// TestContactsRealRoster5000 loads a 5,000-item roster from Prosody: the
// fetch is applied at once (few notifications), the local copy shows all
// of it on the next start, and the next login is answered "unchanged".
func TestContactsRealRoster5000(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	srv := apptest.Shared(t)
	jid, pass := srv.NewUser(t, "big")
	user := strings.SplitN(jid, "@", 2)[0]
	filler, err := xmpptest.DialRawOpts(srv.Harness(), user, pass, "filler", xmpptest.RawOptions{NoPresence: true})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var b strings.Builder
	for i := range scaleN {
		fmt.Fprintf(&b, "<iq type='set' id='fill%d'><query xmlns='jabber:iq:roster'><item jid='%s' name='Contact %d'><group>Group %d</group></item></query></iq>",
			i, scaleJID(i), i, i%25)
	}
	if err := filler.SendRaw(b.String()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	last := fmt.Sprintf("'fill%d'", scaleN-1)
	if _, err := filler.WaitElement(ctx, func(e xmpptest.RawElement) bool {
		return e.Name == "iq" && strings.Contains(e.Raw, last)
	}); err != nil {
		t.Fatal(err)
	}
	filler.Close()
	t.Logf("Prosody stored %d roster items in %v", scaleN, time.Since(start))

	dir := srv.Profile(t, true)
	svc := apptest.NewService(t, dir, nil)
	var calls atomic.Int64
	defer svc.Contacts().Subscribe(func(app.ContactsSnapshot) { calls.Add(1) })()
	start = time.Now()
	if err := svc.Login(ctx, srv.Request(jid, pass)); err != nil {
		t.Fatal(err)
	}
	snap := waitSnap(t, svc.Contacts(), "5,000 contacts loaded", func(s app.ContactsSnapshot) bool { return s.Loaded })
	loadTime := time.Since(start)
	if len(snap.Contacts) != scaleN {
		t.Fatalf("%d contacts, want %d", len(snap.Contacts), scaleN)
	}
	t.Logf("login to a loaded 5,000-contact list: %v, %d notifications", loadTime, calls.Load())
	if calls.Load() > 10 {
		t.Errorf("%d notifications for one roster fetch", calls.Load())
	}
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}

	start = time.Now()
	svc2 := apptest.NewService(t, dir, nil)
	snap = svc2.Contacts().Snapshot()
	t.Logf("restart: local copy of %d contacts shown %v after NewService", len(snap.Contacts), time.Since(start))
	if len(snap.Contacts) != scaleN || snap.Loaded {
		t.Fatalf("local copy: %d contacts, loaded %v", len(snap.Contacts), snap.Loaded)
	}
	if err := svc2.Login(ctx, srv.Request(jid, pass)); err != nil {
		t.Fatal(err)
	}
	waitSnap(t, svc2.Contacts(), "loaded again", func(s app.ContactsSnapshot) bool { return s.Loaded })
	if !svc2.Contacts().LastFetchUnchanged() {
		t.Error("the second login fetched the whole roster again")
	}
}
