// Tests of full-text search: matching rules (all words, any order, case and
// accents folded, prefix on the last word), scope (all history or one chat),
// order and paging, snippets, and queries full of FTS5 syntax or odd
// Unicode that must neither error nor be interpreted. FuzzSearchQuery's
// seed corpus runs with the normal tests. BenchmarkSearchPages1M (opt-in
// like those of bench_test.go) times pages deep into a search.
package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// searchFixture stores a small multilingual history and returns the store
// and the row id of each body.
func searchFixture(t *testing.T) (*Store, map[string]int64) {
	s := openTest(t, Options{})
	ids := map[string]int64{}
	for i, m := range []Message{
		in(alice, "Shall we try the new café on Friday?", 1),
		out(alice, "Yes! The cafe near the station", 2),
		in(bob, "Friday works, see you at the station", 3),
		in(bob, "Привет, как дела?", 4),
		in(alice, "Καλημέρα κόσμε", 5),
		in(alice, "我喜欢你 ok", 6),
		in(alice, `she said "don't" (twice) AND left; body: c1 NEAR(x y)`, 7),
		in(bob, "stationery is not a station", 8),
		in(alice, "naïve Ünïcödé façade", 9),
	} {
		m.OriginID = fmt.Sprint("o", i)
		ids[m.Body] = mustSave(t, s, m).ID
	}
	return s, ids
}

func TestSearch(t *testing.T) {
	s, ids := searchFixture(t)
	const (
		cafe     = "Shall we try the new café on Friday?"
		cafe2    = "Yes! The cafe near the station"
		friday   = "Friday works, see you at the station"
		russian  = "Привет, как дела?"
		greek    = "Καλημέρα κόσμε"
		chinese  = "我喜欢你 ok"
		quoted   = `she said "don't" (twice) AND left; body: c1 NEAR(x y)`
		station2 = "stationery is not a station"
		accents  = "naïve Ünïcödé façade"
	)
	for _, c := range []struct {
		q    Query
		want []string // newest first
	}{
		{Query{Text: "friday"}, []string{friday, cafe}},
		{Query{Text: "FRIDAY"}, []string{friday, cafe}},
		{Query{Text: "cafe"}, []string{cafe2, cafe}}, // accents folded both ways
		{Query{Text: "café "}, []string{cafe2, cafe}},
		{Query{Text: "station friday"}, []string{friday}}, // all words, any order
		{Query{Text: "stat"}, []string{station2, friday, cafe2}},
		{Query{Text: "station "}, []string{station2, friday, cafe2}}, // exact word: not stationery alone
		{Query{Text: "stationery "}, []string{station2}},
		{Query{Text: "friday", Conversation: alice}, []string{cafe}},
		{Query{Text: "station", Conversation: bob}, []string{station2, friday}},
		{Query{Text: "station", Conversation: "nobody@example.org"}, nil},
		{Query{Text: "привет"}, []string{russian}},
		{Query{Text: "ДЕЛА"}, []string{russian}},
		{Query{Text: "καλημέρα"}, []string{greek}},
		{Query{Text: "ΚΌΣΜΕ"}, []string{greek}},
		// unicode61 removes diacritics of Latin letters only.
		{Query{Text: "καλημερα"}, nil},
		{Query{Text: "我喜"}, []string{chinese}}, // a prefix of the run of CJK characters
		{Query{Text: "naive unicode facade"}, []string{accents}},
		{Query{Text: `"don't"`}, []string{quoted}},
		{Query{Text: `don't`}, []string{quoted}},
		{Query{Text: `(twice)`}, []string{quoted}},
		{Query{Text: `AND`}, []string{quoted}}, // a word, not an operator
		{Query{Text: `NEAR(x`}, []string{quoted}},
		{Query{Text: `body: c1`}, []string{quoted}},
		// The conversation tag column is not searchable by users.
		{Query{Text: `c1 `, Conversation: alice}, []string{quoted}},
		{Query{Text: `c2 `}, nil},
		{Query{Text: `ctag:c1`}, nil},
		{Query{Text: ""}, nil},
		{Query{Text: "   "}, nil},
		{Query{Text: "?!"}, nil},
		{Query{Text: "the nosuchword"}, nil},
	} {
		var want []int64
		for _, b := range c.want {
			want = append(want, ids[b])
		}
		if got := searchIDs(t, s, c.q); !slices.Equal(got, want) {
			t.Errorf("Search(%q in %q) = %v, want %v", c.q.Text, c.q.Conversation, got, want)
		}
	}
}

func TestSearchResultFields(t *testing.T) {
	ctx := testCtx(t)
	s, ids := searchFixture(t)
	res, err := s.Search(ctx, Query{Text: "new café"})
	if err != nil || len(res) != 1 {
		t.Fatalf("Search = %v, %v", res, err)
	}
	r := res[0]
	if r.ID != ids["Shall we try the new café on Friday?"] || r.Conversation != alice || r.Direction != In ||
		r.Sender != alice+"/phone" || !r.Time.Equal(base.Add(1e9)) {
		t.Fatalf("result %+v", r)
	}
	want := "Shall we try the " + HighlightStart + "new" + HighlightEnd + " " + HighlightStart + "café" + HighlightEnd + " on Friday?"
	if r.Snippet != want {
		t.Fatalf("snippet %q, want %q", r.Snippet, want)
	}
	// Enough to jump there: the page around the result.
	before, err := s.Before(ctx, r.Conversation, r.Cursor(), 10)
	if err != nil || len(before) != 0 {
		t.Fatalf("Before(result) = %v, %v", before, err)
	}
	after, err := s.After(ctx, r.Conversation, r.Cursor(), 1)
	if err != nil || len(after) != 1 || after[0].Body != "Yes! The cafe near the station" {
		t.Fatalf("After(result) = %v, %v", bodies(after), err)
	}
}

func TestSearchPaging(t *testing.T) {
	ctx := testCtx(t)
	s := openTest(t, Options{})
	var msgs []Message
	for i := range 25 {
		// Stored newest first (like an archive read backwards), and
		// several per millisecond.
		m := in(alice, fmt.Sprintf("needle %d", 24-i), (24-i)/3)
		m.OriginID = fmt.Sprint(24 - i)
		msgs = append(msgs, m)
	}
	if _, err := s.SaveBatch(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	var got []string
	q := Query{Text: "needle", Limit: 10}
	for {
		res, err := s.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) == 0 {
			break
		}
		for _, r := range res {
			got = append(got, strings.Trim(r.Snippet, HighlightStart+HighlightEnd))
		}
		q.Before = res[len(res)-1].Cursor()
	}
	if len(got) != 25 {
		t.Fatalf("%d results over all pages: %v", len(got), got)
	}
	// Newest first by time; within one millisecond the later stored first.
	for i := 1; i < len(got); i++ {
		var a, b int
		fmt.Sscanf(got[i-1], "needle"+HighlightEnd+" %d", &a)
		fmt.Sscanf(got[i], "needle"+HighlightEnd+" %d", &b)
		if a/3 < b/3 {
			t.Fatalf("results out of time order: %q before %q", got[i-1], got[i])
		}
	}
}

// pageThrough runs q page by page (keyset on the last result, as the search
// pane does) until a short page, checking each page's size, and returns the
// ids of all results in order. between, if set, runs after each page.
func pageThrough(t *testing.T, s *Store, q Query, between func(page int)) []int64 {
	t.Helper()
	var ids []int64
	for page := 0; ; page++ {
		res, err := s.Search(testCtx(t), q)
		if err != nil {
			t.Fatalf("page %d of %q: %v", page, q.Text, err)
		}
		if len(res) > q.Limit {
			t.Fatalf("page %d of %q has %d results, limit %d", page, q.Text, len(res), q.Limit)
		}
		for _, r := range res {
			ids = append(ids, r.ID)
		}
		if len(res) < q.Limit {
			return ids
		}
		q.Before = res[len(res)-1].Cursor()
		if between != nil {
			between(page)
		}
	}
}

// TestSearchPagesJoinUp: the pages of a search, put end to end, are exactly
// the results of one big page (no result twice, none skipped, the same
// order, newest first) whatever the page size, in all history and in one
// chat; and messages stored while the user pages (newer ones, and older ones
// from the archive) neither shift nor repeat the results.
func TestSearchPagesJoinUp(t *testing.T) {
	s := openTest(t, Options{})
	r := rand.New(rand.NewPCG(1, 2))
	var msgs []Message
	for i := range 150 {
		body := fmt.Sprintf("needle %d", i)
		if i%4 == 3 {
			body = fmt.Sprintf("hay %d", i)
		}
		// Several per millisecond, over three chats, stored out of time order.
		m := in([]string{alice, bob, "carol@example.com"}[r.IntN(3)], body, i/5)
		m.OriginID = fmt.Sprint("p", i)
		msgs = append(msgs, m)
	}
	r.Shuffle(len(msgs), func(i, j int) { msgs[i], msgs[j] = msgs[j], msgs[i] })
	if _, err := s.SaveBatch(testCtx(t), msgs); err != nil {
		t.Fatal(err)
	}
	for _, conv := range []string{"", alice} {
		all := searchIDs(t, s, Query{Text: "needle", Conversation: conv, Limit: 1000})
		if len(all) < 30 {
			t.Fatalf("only %d results in %q", len(all), conv)
		}
		for i := 1; i < len(all); i++ {
			if all[i] >= all[i-1] {
				t.Fatalf("results in %q not newest first: %d after %d", conv, all[i], all[i-1])
			}
		}
		for _, limit := range []int{1, 7, 10, len(all), len(all) + 1} {
			got := pageThrough(t, s, Query{Text: "needle", Conversation: conv, Limit: limit}, nil)
			if !slices.Equal(got, all) {
				t.Errorf("pages of %d in %q: %d results %v, want the %d of one page %v", limit, conv, len(got), got, len(all), all)
			}
		}
	}

	// Paging while messages arrive: a newer match does not push results
	// into the next page (it is not in this search); an older one from
	// the archive shows up where it belongs.
	var top int64
	q := Query{Text: "needle", Limit: 10}
	got := pageThrough(t, s, q, func(page int) {
		if page == 0 {
			top = mustSave(t, s, in(alice, "needle newest", 1000)).ID
			mustSave(t, s, in(bob, "needle from the archive", -10))
		}
	})
	var want []int64
	for _, id := range searchIDs(t, s, Query{Text: "needle", Limit: 1000}) {
		if id != top {
			want = append(want, id)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged while storing: %v, want %v", got, want)
	}
}

// nastyQueries are inputs that break naive FTS5 query building.
var nastyQueries = []string{
	`"`, `""`, `"""`, `"unclosed`, `'`, `''`, `\`, `\"`,
	`AND`, `OR`, `NOT`, `a AND`, `AND a`, `a OR NOT b`, `NOT NOT`, `NEAR`, `NEAR(a b, 2)`, `NEAR(`,
	`(`, `)`, `((a)`, `a)`, `{`, `}`, `{body}:`, `{body ctag}: x`, `body:`, `:`, `body : x`, `ctag:c1`, `-body:x`,
	`*`, `a*`, `*a`, `**`, `a**`, `"a"*`, `^`, `^a`, `a^`, `+`, `-`, `a-b`, `a+b`, `a:b:c`, `.`, `,`, `;`, `%`,
	`'); DROP TABLE messages; --`, `" OR 1=1 --`, `a" OR "b`, `a""b`,
	"\x00", "a\x00b", "\xff\xfe", "a\xffb", "\u200b", "\ufeff", "\u0301", "e\u0301", "\U0001F600", "👍🏽 ok",
	"日本語", "我喜欢你", "עברית", "مرحبا", "हिन्दी", "ไทย", "Ωμέγα", "İstanbul", "straße", "ﬁ",
	"   lead and trail   ", "tab\tsep\nnew", strings.Repeat("word ", 100), strings.Repeat("x", 5000),
	strings.Repeat(`"(`, 300), strings.Repeat("a OR ", 50) + "b",
}

func TestSearchNastyQueries(t *testing.T) {
	ctx := testCtx(t)
	s, _ := searchFixture(t)
	for _, q := range nastyQueries {
		for _, conv := range []string{"", alice} {
			if _, err := s.Search(ctx, Query{Text: q, Conversation: conv}); err != nil {
				t.Errorf("Search(%q in %q): %v", q, conv, err)
			}
		}
	}
}

func TestMatchExpr(t *testing.T) {
	for q, want := range map[string]string{
		"hello":            `body : ("hello"*)`,
		"hello ":           `body : ("hello")`,
		"two words":        `body : ("two" "words"*)`,
		`say "hi"`:         `body : ("say" """hi"""*)`,
		"a":                `body : ("a")`,  // one ASCII letter: no prefix
		"no":               `body : ("no")`, // two: no prefix either (too broad to be fast)
		"bri":              `body : ("bri"*)`,
		"我":                `body : ("我"*)`,
		"xx\x00yyy":        `body : ("xx" "yyy"*)`,
		"\xffbad":          `body : ("bad"*)`,
		"":                 ``,
		" \t\n":            ``,
		"AND OR NOT NEAR(": `body : ("AND" "OR" "NOT" "NEAR("*)`,
	} {
		got := matchExpr(q)
		if got != "" {
			got = "body : (" + got + ")"
		}
		if got != want {
			t.Errorf("matchExpr(%q) = %s, want %s", q, got, want)
		}
	}
	long := matchExpr(strings.Repeat("w ", 40))
	if n := strings.Count(long, `"w"`); n != maxQueryTerms {
		t.Errorf("%d terms kept, want %d", n, maxQueryTerms)
	}
}

// FuzzSearchQuery: any text is a valid query, in all history and in one
// chat; and a message whose body is the query (within the limits on
// terms) is found by it.
func FuzzSearchQuery(f *testing.F) {
	for _, q := range nastyQueries {
		f.Add(q)
	}
	f.Add("hello world")
	f.Add("Grüße aus Köln")
	s := openTest(f, Options{})
	ctx := context.Background() // fuzzing runs longer than testCtx allows
	n := 0
	f.Fuzz(func(t *testing.T, q string) {
		for _, conv := range []string{"", alice} {
			if _, err := s.Search(ctx, Query{Text: q, Conversation: conv}); err != nil {
				t.Fatalf("Search(%q in %q): %v", q, conv, err)
			}
		}
		if !searchable(q) {
			return
		}
		n++
		m := in(alice, q, n)
		m.OriginID = fmt.Sprint("fuzz", n)
		id, err := s.Save(ctx, m)
		if err != nil {
			t.Fatalf("Save(%q): %v", q, err)
		}
		for _, conv := range []string{"", alice} {
			res, err := s.Search(ctx, Query{Text: q, Conversation: conv, Limit: 1000})
			if err != nil {
				t.Fatalf("Search(%q): %v", q, err)
			}
			if !slices.ContainsFunc(res, func(r SearchResult) bool { return r.ID == id.ID }) {
				t.Fatalf("a message with body %q is not found by searching for it (in %q); expr %s", q, conv, matchExpr(q))
			}
		}
	})
}

// searchable reports whether searching for q must find a message whose
// body is q: valid UTF-8 with a letter or digit, and within the limits on
// the number and length of words (longer words are cut, and a cut word no
// longer matches as a whole).
func searchable(q string) bool {
	if !utf8.ValidString(q) || !strings.ContainsFunc(q, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
		return false
	}
	words := strings.FieldsFunc(q, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
	if len(words) > maxQueryTerms {
		return false
	}
	for _, w := range words {
		if utf8.RuneCountInString(w) > maxTermRunes {
			return false
		}
	}
	return true
}

// BenchmarkSearchPages1M: the next page of a search (50 results, keyset on
// the last result's id, the way the search pane scrolls) at several depths
// over 1,000,000 messages, for a very frequent word, a common one, and one
// in the big chat only. A page deep down must cost what the first one does.
func BenchmarkSearchPages1M(b *testing.B) {
	s := openAt(b, bigDB(b), Options{})
	ctx := context.Background()
	w := vocabulary()
	const page = 50
	for _, q := range []Query{{Text: w[0] + " "}, {Text: w[40] + " "}, {Text: w[40] + " ", Conversation: bigPeer}} {
		// The cursors where pages 1, 10, 100 and 1000 start.
		q.Limit = page
		starts := map[int]Cursor{}
		for p := 1; p <= 1000; p++ {
			if p == 1 || p == 10 || p == 100 || p == 1000 {
				starts[p] = q.Before
			}
			res, err := s.Search(ctx, q)
			if err != nil {
				b.Fatal(err)
			}
			if len(res) < page {
				break
			}
			q.Before = res[len(res)-1].Cursor()
		}
		for _, p := range []int{1, 10, 100, 1000} {
			at, ok := starts[p]
			if !ok {
				continue
			}
			name := fmt.Sprintf("%s-page%d", strings.TrimSpace(q.Text), p)
			if q.Conversation != "" {
				name += "-in-" + strings.Split(q.Conversation, "@")[0]
			}
			b.Run(name, func(b *testing.B) {
				pq := q
				pq.Before = at
				timed(b, func(int) error {
					res, err := s.Search(ctx, pq)
					if err == nil && len(res) != page {
						err = fmt.Errorf("page %d has %d results", p, len(res))
					}
					return err
				})
			})
		}
	}
}
