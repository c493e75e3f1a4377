// Integration tests of XEP-0313 archive queries against Prosody: a forged
// result that carries the REAL id of a query in flight (learnt through the
// test-only hook of export_test.go) is dropped by the sender check, for the
// own archive and for a room's; and queries by time (start/end) and by
// archive id (after-id/before-id of urn:xmpp:mam:2#extended), by contact
// and over the whole archive, paging forwards and backwards, in order.
package xmppclient_test

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"parley/xmppclient"
	"parley/xmppclient/xmpptest"
)

// logCapture is a slog handler that records the messages of the records
// it handles and passes them on.
type logCapture struct {
	next slog.Handler
	mu   *sync.Mutex
	msgs *[]string
}

// captureLogs makes cfg log to the test (as clientConfig does) and returns
// a function that lists the messages logged so far.
func captureLogs(cfg *xmppclient.Config) (logged func() []string) {
	h := logCapture{next: cfg.Logger.Handler(), mu: &sync.Mutex{}, msgs: new([]string)}
	cfg.Logger = slog.New(h)
	return func() []string {
		h.mu.Lock()
		defer h.mu.Unlock()
		return append([]string(nil), *h.msgs...)
	}
}

func (h logCapture) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h logCapture) Handle(ctx context.Context, r slog.Record) error {
	h.mu.Lock()
	*h.msgs = append(*h.msgs, r.Message)
	h.mu.Unlock()
	return h.next.Handle(ctx, r)
}

func (h logCapture) WithAttrs(as []slog.Attr) slog.Handler {
	return logCapture{next: h.next.WithAttrs(as), mu: h.mu, msgs: h.msgs}
}

func (h logCapture) WithGroup(name string) slog.Handler {
	return logCapture{next: h.next.WithGroup(name), mu: h.mu, msgs: h.msgs}
}

func countLogged(msgs []string, prefix string) int {
	n := 0
	for _, m := range msgs {
		if strings.HasPrefix(m, prefix) {
			n++
		}
	}
	return n
}

// pingSync makes a round trip on p, so the server has handled (and
// archived) everything p sent before.
func pingSync(t *testing.T, ctx context.Context, p *xmpptest.RawPeer) {
	t.Helper()
	id := fmt.Sprintf("sync-%d", time.Now().UnixNano())
	if err := p.SendRaw("<iq type='get' id='" + id + "'><ping xmlns='urn:xmpp:ping'/></iq>"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.WaitElement(ctx, func(e xmpptest.RawElement) bool {
		return e.Name == "iq" && strings.Contains(e.Raw, id)
	}); err != nil {
		t.Fatalf("ping round trip of %s: %v", p.JID(), err)
	}
}

func dialRaw(t *testing.T, srv *xmpptest.Server, user, pass string) *xmpptest.RawPeer {
	t.Helper()
	p, err := xmpptest.DialRaw(srv, user, pass, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func bodies(msgs []xmppclient.ArchivedMessage) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Message.Body
	}
	return out
}

// forgeDuringQuery makes every archive query of c, once registered and
// before its request is written, wait until forger has sent c a result
// carrying the query's real id (wrapping a message from claimedFrom with
// body "forged archive") and c has handled it: a plain message the forger
// sends right after it arrives on the same ordered stream, and the test
// waits for that one. The real results come after.
func forgeDuringQuery(t *testing.T, c *xmppclient.Client, rec *recorder, forger *xmpptest.RawPeer, claimedFrom string) (forged *int) {
	forged = new(int)
	xmppclient.OnMAMQueryRegistered(c, func(queryID string) {
		*forged++
		own := c.JID()
		marker := fmt.Sprintf("after-forgery-%d", *forged)
		result := "<message to='" + own.String() + "' id='forged-" + marker + "'>" +
			"<result xmlns='urn:xmpp:mam:2' queryid='" + queryID + "' id='forged-id'>" +
			"<forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2020-01-01T00:00:00Z'/>" +
			"<message xmlns='jabber:client' from='" + claimedFrom + "' to='" + own.Bare().String() + "' type='chat' id='forged-msg'>" +
			"<body>forged archive</body></message></forwarded></result></message>"
		if err := forger.SendRaw(result); err != nil {
			t.Fatal(err)
		}
		if err := forger.SendMessage(own.String(), "plain", marker); err != nil {
			t.Fatal(err)
		}
		rec.waitFor(t, 10*time.Second, "the message sent after the forged result", func(evs []xmppclient.Event) bool {
			for _, m := range messages(evs) {
				if m.Message.ID == marker {
					return true
				}
			}
			return false
		})
	})
	return forged
}

// checkForgeryDropped fails t if the page holds the forged result, or if
// the forgery was not dropped by the sender check (the query id was right,
// so no earlier check may have caught it).
func checkForgeryDropped(t *testing.T, page xmppclient.MAMPage, logged []string, forged int) {
	t.Helper()
	for _, m := range page.Messages {
		if m.ArchiveID == "forged-id" || strings.Contains(m.Message.Body, "forged") {
			t.Errorf("a forged result with the real query id is among the page's results: id %q from %s body %q", m.ArchiveID, m.Message.From, m.Message.Body)
		}
	}
	if forged != 1 {
		t.Fatalf("the hook ran %d times, want once", forged)
	}
	if n := countLogged(logged, "dropping a forged archive result"); n != 1 {
		t.Errorf("the sender check dropped %d results, want 1 (the forgery); logged: %q", n, logged)
	}
	if n := countLogged(logged, "dropping an archive result for no query"); n != 0 {
		t.Errorf("a result was dropped for its query id although the forgery carried the real one; logged: %q", logged)
	}
}

func TestForgedArchiveResultWithTheRealQueryIDIsDropped(t *testing.T) {
	srv := xmpptest.Shared(t)
	user, pass := srv.NewUser(t, "mamvictim")
	peerUser, peerPass := srv.NewUser(t, "mampeer")
	evilUser, evilPass := srv.NewUser(t, "mamforger")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	peer := dialRaw(t, srv, peerUser, peerPass)
	if err := peer.SendMessages(srv.JID(user), 3, "real"); err != nil {
		t.Fatal(err)
	}
	pingSync(t, ctx, peer)
	evil := dialRaw(t, srv, evilUser, evilPass)

	cfg := clientConfig(t, srv, user, pass)
	logged := captureLogs(&cfg)
	c, rec := connect(t, cfg)
	peerBare := xmppclient.MustParseJID(peer.JID()).Bare()
	forged := forgeDuringQuery(t, c, rec, evil, peerBare.String())
	page, err := c.QueryArchive(ctx, xmppclient.MAMQuery{With: peerBare, Max: 10})
	if err != nil {
		t.Fatal(err)
	}
	checkForgeryDropped(t, page, logged(), *forged)
	if want := []string{"real-000001", "real-000002", "real-000003"}; !reflect.DeepEqual(bodies(page.Messages), want) || !page.Complete {
		t.Errorf("the page: %q (complete %v), want %q complete", bodies(page.Messages), page.Complete, want)
	}
}

func TestForgedRoomArchiveResultWithTheRealQueryIDIsDropped(t *testing.T) {
	srv := xmpptest.Shared(t)
	user, pass := srv.NewUser(t, "roomreader")
	ownerUser, ownerPass := srv.NewUser(t, "roomowner")
	evilUser, evilPass := srv.NewUser(t, "roomforger")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// The owner makes a public room (an instant room: the default
	// configuration, archived) and says three things in it.
	owner := dialRaw(t, srv, ownerUser, ownerPass)
	room := "mamroom-" + ownerUser + "@" + srv.MUCService
	if err := owner.SendRaw("<presence to='" + room + "/owner'><x xmlns='http://jabber.org/protocol/muc'/></presence>"); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.WaitElement(ctx, func(e xmpptest.RawElement) bool {
		return e.Name == "presence" && (strings.Contains(e.Raw, "code='110'") || strings.Contains(e.Raw, `code="110"`))
	}); err != nil {
		t.Fatalf("joining the room: %v", err)
	}
	if err := owner.SendRaw("<iq type='set' id='roomcfg' to='" + room + "'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>"); err != nil {
		t.Fatal(err)
	}
	cfgReply, err := owner.WaitElement(ctx, func(e xmpptest.RawElement) bool {
		return e.Name == "iq" && strings.Contains(e.Raw, "roomcfg")
	})
	if err != nil || strings.Contains(cfgReply.Raw, "type='error'") || strings.Contains(cfgReply.Raw, `type="error"`) {
		t.Fatalf("configuring the room: %v %s", err, cfgReply.Raw)
	}
	for i := 1; i <= 3; i++ {
		if err := owner.SendRaw(fmt.Sprintf("<message type='groupchat' to='%s' id='room-%d'><body>room-%d</body></message>", room, i, i)); err != nil {
			t.Fatal(err)
		}
	}
	// The room archives a message before it sends it to the occupants.
	if _, err := owner.WaitFor(ctx, func(m xmpptest.RawMessage) bool { return m.Body == "room-3" }); err != nil {
		t.Fatalf("the room's echo of the last message: %v", err)
	}

	evil := dialRaw(t, srv, evilUser, evilPass)
	cfg := clientConfig(t, srv, user, pass)
	logged := captureLogs(&cfg)
	c, rec := connect(t, cfg)
	// The forgery claims to be the room's own archive talking.
	forged := forgeDuringQuery(t, c, rec, evil, room+"/owner")
	page, err := c.QueryArchive(ctx, xmppclient.MAMQuery{Archive: xmppclient.MustParseJID(room), Max: 10})
	if err != nil {
		t.Fatal(err)
	}
	checkForgeryDropped(t, page, logged(), *forged)
	if want := []string{"room-1", "room-2", "room-3"}; !reflect.DeepEqual(bodies(page.Messages), want) {
		t.Errorf("the room's archive: %q, want %q", bodies(page.Messages), want)
	}
}

// waitForNextSecond waits until the wall clock has entered the next whole
// second, and a little more. The server stamps archive entries with whole
// seconds of the same clock (it runs on this machine), so whatever is
// archived after this returns has a later stamp than whatever was archived
// before it was called. The margin: Prosody reads the time with time(2),
// the kernel's coarse clock, which lags the precise one by up to a tick
// (4 ms was seen). This waits for the clock itself (about a second), not
// for something to happen elsewhere.
func waitForNextSecond(t *testing.T) {
	t.Helper()
	next := time.Now().Truncate(time.Second).Add(time.Second + 100*time.Millisecond)
	deadline := time.Now().Add(3 * time.Second)
	for now := time.Now(); now.Before(next); now = time.Now() {
		if now.After(deadline) {
			t.Fatal("the wall clock did not reach the next second")
		}
		timer := time.NewTimer(next.Sub(now))
		<-timer.C
	}
}

// archiveQuery runs q and checks the page against want (bodies in order),
// that its First and Last are its results' archive ids, and complete.
func archiveQuery(t *testing.T, ctx context.Context, c *xmppclient.Client, what string, q xmppclient.MAMQuery, want []string, complete bool) xmppclient.MAMPage {
	t.Helper()
	page, err := c.QueryArchive(ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if got := bodies(page.Messages); !slices.Equal(got, want) {
		t.Fatalf("%s: got %q, want %q", what, got, want)
	}
	if page.Complete != complete {
		t.Errorf("%s: complete = %v, want %v", what, page.Complete, complete)
	}
	if n := len(page.Messages); n > 0 && (page.First != page.Messages[0].ArchiveID || page.Last != page.Messages[n-1].ArchiveID) {
		t.Errorf("%s: first/last %q/%q, but the results run from %q to %q", what, page.First, page.Last, page.Messages[0].ArchiveID, page.Messages[n-1].ArchiveID)
	}
	return page
}

func TestArchiveByTimeAndByID(t *testing.T) {
	srv := xmpptest.Shared(t)
	user, pass := srv.NewUser(t, "mamtime")
	pUser, pPass := srv.NewUser(t, "mamtimep")
	qUser, qPass := srv.NewUser(t, "mamtimeq")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p := dialRaw(t, srv, pUser, pPass)
	q := dialRaw(t, srv, qUser, qPass)

	// Three rounds, each in a later second than the one before: p writes
	// two messages, then q one (each archived before the next is sent).
	var want []string
	for round := 1; round <= 3; round++ {
		if round > 1 {
			waitForNextSecond(t)
		}
		for _, s := range []struct {
			peer *xmpptest.RawPeer
			n    int
			name string
		}{{p, 2, "p"}, {q, 1, "q"}} {
			prefix := fmt.Sprintf("t%d%s", round, s.name)
			if err := s.peer.SendMessages(srv.JID(user), s.n, prefix); err != nil {
				t.Fatal(err)
			}
			pingSync(t, ctx, s.peer)
			for i := 1; i <= s.n; i++ {
				want = append(want, fmt.Sprintf("%s-%06d", prefix, i))
			}
		}
	}

	c, _ := connect(t, clientConfig(t, srv, user, pass))
	info, err := c.DiscoInfo(ctx, c.JID().Bare(), "")
	if err != nil {
		t.Fatal(err)
	}
	if !info.HasFeature(xmppclient.NSMAMExtended) {
		t.Fatalf("the account's archive does not announce %s: %+v", xmppclient.NSMAMExtended, info)
	}
	all := archiveQuery(t, ctx, c, "the whole archive", xmppclient.MAMQuery{}, want, true).Messages
	// all: t1p-1 t1p-2 t1q-1 | t2p-1 t2p-2 t2q-1 | t3p-1 t3p-2 t3q-1
	round := func(r int) []xmppclient.ArchivedMessage { return all[3*(r-1) : 3*r] }
	for r := 1; r <= 3; r++ {
		for _, m := range round(r) {
			if m.Stamp.IsZero() || m.Stamp.Nanosecond() != 0 {
				t.Fatalf("stamp of %q: %v; want whole seconds", m.Message.Body, m.Stamp)
			}
		}
		if r > 1 && !round(r - 1)[2].Stamp.Before(round(r)[0].Stamp) {
			t.Fatalf("round %d (%v) is not stamped after round %d (%v)", r, round(r)[0].Stamp, r-1, round(r - 1)[2].Stamp)
		}
	}
	pJID, qJID := xmppclient.MustParseJID(p.JID()).Bare(), xmppclient.MustParseJID(q.JID()).Bare()
	start2, end2 := round(2)[0].Stamp, round(2)[2].Stamp // round 2 may straddle a second
	w := func(ms ...[]string) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m...)
		}
		return out
	}
	r1, r2, r3 := want[0:3], want[3:6], want[6:9]

	// By time: start and end are inclusive. (Bounds are whole seconds here:
	// Prosody 0.12 drops the fraction of a start or end, util.datetime.parse,
	// so a start of 12:00:00.5 would select from 12:00:00.)
	archiveQuery(t, ctx, c, "start", xmppclient.MAMQuery{Start: start2}, w(r2, r3), true)
	archiveQuery(t, ctx, c, "end", xmppclient.MAMQuery{End: end2}, w(r1, r2), true)
	archiveQuery(t, ctx, c, "start and end", xmppclient.MAMQuery{Start: start2, End: end2}, r2, true)
	archiveQuery(t, ctx, c, "start and end in another zone", xmppclient.MAMQuery{
		Start: start2.In(time.FixedZone("UTC+5:30", 5*3600+1800)), End: end2.In(time.FixedZone("UTC-7", -7*3600))}, r2, true)
	archiveQuery(t, ctx, c, "start after everything", xmppclient.MAMQuery{Start: round(3)[2].Stamp.Add(time.Second)}, nil, true)
	archiveQuery(t, ctx, c, "by contact, start and end", xmppclient.MAMQuery{With: pJID, Start: start2, End: end2}, r2[:2], true)
	archiveQuery(t, ctx, c, "by contact, start", xmppclient.MAMQuery{With: qJID, Start: start2}, []string{r2[2], r3[2]}, true)
	archiveQuery(t, ctx, c, "by contact, end", xmppclient.MAMQuery{With: qJID, End: end2}, []string{r1[2], r2[2]}, true)
	// Paging forwards through a time range.
	var got []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("too many pages from start")
		}
		page := archiveQuery(t, ctx, c, fmt.Sprintf("page %d from start", pages+1), xmppclient.MAMQuery{Start: start2, After: after, Max: 4},
			w(r2, r3)[4*pages:min(4*pages+4, 6)], pages == 1)
		got = append(got, bodies(page.Messages)...)
		if page.Complete {
			break
		}
		after = page.Last
	}
	if !reflect.DeepEqual(got, w(r2, r3)) {
		t.Fatalf("paged from start: %q", got)
	}

	// By archive id: after-id and before-id are exclusive bounds.
	afterID := round(1)[2].ArchiveID
	beforeID := round(3)[0].ArchiveID
	archiveQuery(t, ctx, c, "after-id", xmppclient.MAMQuery{AfterID: afterID}, w(r2, r3), true)
	archiveQuery(t, ctx, c, "before-id", xmppclient.MAMQuery{BeforeID: beforeID}, w(r1, r2), true)
	archiveQuery(t, ctx, c, "after-id and before-id", xmppclient.MAMQuery{AfterID: afterID, BeforeID: beforeID}, r2, true)
	archiveQuery(t, ctx, c, "by contact, after-id", xmppclient.MAMQuery{With: pJID, AfterID: afterID}, []string{r2[0], r2[1], r3[0], r3[1]}, true)
	archiveQuery(t, ctx, c, "after-id and end", xmppclient.MAMQuery{AfterID: afterID, End: end2}, r2, true)

	// Paging backwards from the newest with after-id: the newest page
	// first, then the pages before it, down to the bound and not past it.
	var pages [][]string
	before := ""
	for n := 0; ; n++ {
		if n > 5 {
			t.Fatal("too many pages backwards")
		}
		want := w(r2, r3)[max(0, 6-2*(n+1)) : 6-2*n]
		page := archiveQuery(t, ctx, c, fmt.Sprintf("page %d backwards after-id", n+1),
			xmppclient.MAMQuery{AfterID: afterID, Before: before, Last: before == "", Max: 2}, want, n == 2)
		pages = append(pages, bodies(page.Messages))
		if page.Complete {
			break
		}
		before = page.First
	}
	got = nil
	for i := len(pages) - 1; i >= 0; i-- {
		got = append(got, pages[i]...)
	}
	if !reflect.DeepEqual(got, w(r2, r3)) {
		t.Fatalf("paged backwards after %s: %q", afterID, got)
	}
	// The same by contact: p's messages after round 1, newest page first.
	page := archiveQuery(t, ctx, c, "by contact, newest page after-id", xmppclient.MAMQuery{With: pJID, AfterID: afterID, Last: true, Max: 3},
		[]string{r2[1], r3[0], r3[1]}, false)
	archiveQuery(t, ctx, c, "by contact, the page before it", xmppclient.MAMQuery{With: pJID, AfterID: afterID, Before: page.First, Max: 3},
		[]string{r2[0]}, true)
}
