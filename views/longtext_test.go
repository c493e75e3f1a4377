// Tests and benchmarks of long message bodies: very long words still wrap
// exactly as before (each line as full as it can be), a bubble lays out
// only the start of a huge body and shows the rest on demand, and previews
// parse only the start. The benchmarks show the layout scaling about
// linearly; the tests assert no timings (the machine is shared).
package views

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"parley/app"
	"parley/app/store"
)

// randomWord is n letters without spaces from seed: every benchmark round
// lays out new text, so Fyne's cache of measured strings does not help.
func randomWord(n int, seed uint64) string {
	r := rand.New(rand.NewPCG(seed, 4))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + r.IntN(26))
	}
	return string(b)
}

// layoutLines is the text of each line of a layout.
func layoutLines(l textLayout) []string {
	var out []string
	var y float32 = -1
	for _, r := range l.runs {
		if r.y != y {
			out = append(out, "")
			y = r.y
		}
		out[len(out)-1] += r.text
	}
	return out
}

// TestFitIsTheLongestPrefix checks fit against a plain scan over every
// prefix, whatever guess the previous line left.
func TestFitIsTheLongestPrefix(t *testing.T) {
	test.NewTempApp(t)
	tm := newTextMeasurer(14)
	for _, s := range []string{randomWord(300, 1), strings.Repeat("é漢🙂i", 60), strings.Repeat("W", 200), "x"} {
		for _, room := range []float32{0, 0.5, 5, 37.3, 120, 600, 5000} {
			want := 0
			for i := range s {
				if i > 0 && tm.width(s[:i], runBold) > room {
					break
				}
				want = i
			}
			if tm.width(s, runBold) <= room {
				want = len(s)
			}
			for _, guess := range []int{0, 1, 3, 17, 40, 1000} {
				b := &lineBuilder{m: tm, lastFit: guess}
				if got := b.fit(s, runBold, room); got != want {
					t.Errorf("fit(%.12q…, room %v, guess %d) = %d bytes, want %d", s, room, guess, got, want)
				}
			}
		}
	}
}

// TestVeryLongWordWraps lays out 20 KB words: every line but the word's
// last is full (one more character would overflow), none overflows, and
// nothing is lost or split inside a character.
func TestVeryLongWordWraps(t *testing.T) {
	test.NewTempApp(t)
	tm := newTextMeasurer(14)
	for _, word := range []string{randomWord(20<<10, 7), strings.Repeat("é漢字🙂", 1700)} {
		for _, maxW := range []float32{600, 137.5} {
			l := tm.layoutBlocks(app.ParseStyling("start "+word+" end"), maxW)
			lines := layoutLines(l)
			if len(lines) < 3 || lines[0] != "start" ||
				strings.ReplaceAll(strings.Join(lines[1:], ""), " ", "") != word+"end" {
				t.Fatalf("width %v: %d lines, first %.20q, the text changed", maxW, len(lines), lines[0])
			}
			for _, r := range l.runs {
				if r.x+r.w > maxW+0.5 || !utf8.ValidString(r.text) {
					t.Fatalf("width %v: run %.20q at %v+%v overflows or splits a character", maxW, r.text, r.x, r.w)
				}
			}
			for i := 1; i < len(lines)-1; i++ {
				next, _ := utf8.DecodeRuneInString(lines[i+1])
				if strings.HasPrefix(lines[i+1], "end") || strings.HasSuffix(lines[i], "end") {
					continue
				}
				if tm.width(lines[i]+string(next), 0) <= maxW {
					t.Fatalf("width %v: line %d (%.20q…) has room for %q", maxW, i, lines[i], next)
				}
			}
			if l.h != float32(len(lines))*tm.lineH {
				t.Errorf("width %v: height %v for %d lines", maxW, l.h, len(lines))
			}
		}
	}
}

func TestBubbleBodyCut(t *testing.T) {
	short := strings.Repeat("a", bubbleMaxRunes)
	if got, cut := bubbleBody(short); cut || got != short {
		t.Errorf("a body of %d characters was cut", bubbleMaxRunes)
	}
	word := strings.Repeat("漢", bubbleMaxRunes+1)
	if got, cut := bubbleBody(word); !cut || got != strings.Repeat("漢", bubbleMaxRunes)+"…" {
		t.Errorf("a word one character too long: cut %v, %d characters", cut, utf8.RuneCountInString(got))
	}
	words := strings.Repeat("word ", bubbleMaxRunes)
	got, cut := bubbleBody(words)
	if !cut || !strings.HasSuffix(got, "word…") || utf8.RuneCountInString(got) > bubbleMaxRunes+1 {
		t.Errorf("words: cut %v, ends %q, %d characters", cut, got[len(got)-10:], utf8.RuneCountInString(got))
	}
}

func TestTextPages(t *testing.T) {
	for _, text := range []string{"", "short", randomWord(50000, 3), strings.Repeat("é漢🙂 line\n", 9000)} {
		pages := textPages(text, wholeTextPage)
		if strings.Join(pages, "") != text {
			t.Errorf("pages of %d bytes do not add up to the text", len(text))
		}
		for i, p := range pages {
			if len(p) > wholeTextPage || !utf8.ValidString(p) || (p == "" && len(pages) > 1) {
				t.Errorf("page %d of %d: %d bytes, valid %v", i, len(pages), len(p), utf8.ValidString(p))
			}
		}
	}
}

// TestHugeMessageShowsItsStart opens a chat with a 256 KB word and a
// 100 KB message of words: each bubble shows about the first 4,000
// characters and "Show all…", which opens the text page by page.
func TestHugeMessageShowsItsStart(t *testing.T) {
	word := randomWord(256<<10, 11)
	words := strings.Repeat("many *short* words ", 100<<10/19)
	msgs := []store.Message{
		inMsg(bobJID, word, testNow.Add(-3*time0), "huge1"),
		outMsg(bobJID, words, testNow.Add(-2*time0), "huge2", store.StateSent),
		inMsg(bobJID, "after", testNow.Add(-time0), "huge3"),
	}
	svc := seedService(t, meJID, msgs)
	h := openChats(t, svc, fyne.NewSize(820, 700), true)
	h.openPeer(bobJID)
	for _, body := range []string{word, words} {
		body := body
		h.ui.do(func() {
			v := h.v.chat
			var m *store.Message
			for i := range v.msgs {
				if v.msgs[i].Body == body {
					m = &v.msgs[i]
				}
			}
			if m == nil {
				t.Fatal("message not loaded")
			}
			lay := v.layoutBubble(m, v.width)
			runs := lay.text.runs
			last := runs[len(runs)-1]
			if last.url != showAllLink || last.text != showAllLabel(body) {
				t.Errorf("last run %q (link %q), want %q", last.text, last.url, showAllLabel(body))
			}
			var shown strings.Builder
			for _, r := range runs[:len(runs)-1] {
				shown.WriteString(r.text)
			}
			n := utf8.RuneCountInString(shown.String())
			if n > bubbleMaxRunes+1 || n < bubbleMaxRunes/2 {
				t.Errorf("the bubble shows %d characters", n)
			}
			if lay.w > bubbleMaxW(v.width)+0.5 {
				t.Errorf("bubble %v wider than %v", lay.w, bubbleMaxW(v.width))
			}
		})
	}
	// The word's bubble: tap "Show all…".
	h.ui.do(func() { h.v.chat.list.ScrollToTop() })
	var rv *chatRowView
	h.wait("the huge word on screen", func() bool {
		r, ok := h.rowFor(word[:40])
		rv = r.view
		return ok
	})
	h.ui.do(func() {
		var at fyne.Position
		lay := rv.row.lay
		last := lay.text.runs[len(lay.text.runs)-1]
		o := rv.bubbleOrigin(rv.Size().Width)
		at = fyne.NewPos(o.X+bubblePadX+last.x+2, o.Y+bubblePadY+last.y+2)
		if rv.linkAt(at) != showAllLink {
			t.Fatalf("no Show all under %v", at)
		}
		rv.Tapped(&fyne.PointEvent{Position: at})
		pages := textPages(word, wholeTextPage)
		if !dialogShowsText(h.w.Canvas(), fmt.Sprintf("Part 1 of %d", len(pages))) {
			t.Fatal("Show all opened no dialog with the first part")
		}
		var entry *widget.Entry
		for _, o := range test.LaidOutObjects(h.w.Canvas().Overlays().Top()) {
			if e, ok := o.(*widget.Entry); ok {
				entry = e
			}
		}
		if entry == nil || entry.Text != pages[0] {
			t.Fatal("the dialog does not hold the first part")
		}
		// The bar: previous, "Part 1 of n", next, "Copy all".
		afterPart := false
		for _, o := range test.LaidOutObjects(h.w.Canvas().Overlays().Top()) {
			switch x := o.(type) {
			case *widget.Label:
				afterPart = afterPart || strings.HasPrefix(x.Text, "Part 1 of")
			case *widget.Button:
				if afterPart {
					test.Tap(x)
					afterPart = false
				}
			}
		}
		if entry.Text != pages[1] || !dialogShowsText(h.w.Canvas(), fmt.Sprintf("Part 2 of %d", len(pages))) {
			t.Error("Next did not show the second part")
		}
		// Typing does not change the text: it is there to select from.
		test.Type(entry, "x")
		if entry.Text != pages[1] {
			t.Error("the text can be edited")
		}
		h.w.Canvas().Overlays().Top().Hide()
	})
}

// time0 spaces the test messages.
const time0 = 3 * time.Minute

// TestPreviewParsesOnlyTheStart: the list preview and notifications take
// only the start of a body, keep its styling, and say more follows.
func TestPreviewParsesOnlyTheStart(t *testing.T) {
	huge := "*hello* there " + strings.Repeat("*a ", 100<<10)
	got := unstyled(huge)
	if !strings.HasPrefix(got, "hello there *a *a") || !strings.HasSuffix(got, "…") || len(got) > 2*previewBytes {
		t.Errorf("preview of a huge body: %q", got)
	}
	if got := unstyled("*bold* and _it_"); got != "bold and it " {
		t.Errorf("short body: %q", got)
	}
	// A first line a little over the limit is kept whole, with its styling.
	line := strings.Repeat("x", previewBytes-10) + " *end of line*"
	if got := unstyled(line + "\nsecond"); got != strings.Repeat("x", previewBytes-10)+" end of line …" {
		t.Errorf("long first line: %q", got)
	}
	// Cut inside a multi-byte character: the cut moves before it.
	if got := unstyled(strings.Repeat("é", previewBytes)); !utf8.ValidString(got) {
		t.Errorf("preview not valid UTF-8: %q", got)
	}
}

// BenchmarkLayoutLongWord lays out one word without spaces at 600 px, the
// whole of it (no bubble cap): the time per KB should stay about the same.
func BenchmarkLayoutLongWord(b *testing.B) {
	test.NewTempApp(b)
	for _, n := range []int{1 << 10, 5 << 10, 20 << 10, 64 << 10, 256 << 10} {
		b.Run(fmt.Sprintf("%dKB", n>>10), func(b *testing.B) {
			tm := newTextMeasurer(14)
			b.SetBytes(int64(n))
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				blocks := app.ParseStyling(randomWord(n, uint64(i)))
				b.StartTimer()
				tm.layoutBlocks(blocks, 600)
			}
		})
	}
}

// BenchmarkBubbleHugeBody lays out the bubble of a 256 KB body (one word,
// or words of 1 to 8 letters), as the chat view does on every width change:
// the cap keeps it short.
func BenchmarkBubbleHugeBody(b *testing.B) {
	test.NewTempApp(b)
	c := &ChatsView{loc: time.UTC}
	words := func(seed uint64) string {
		r := rand.New(rand.NewPCG(seed, 5))
		w := []byte(randomWord(256<<10, seed))
		for i := r.IntN(8) + 1; i < len(w); i += r.IntN(8) + 2 {
			w[i] = ' '
		}
		return string(w)
	}
	for _, kind := range []struct {
		name string
		body func(seed uint64) string
	}{
		{"word", func(seed uint64) string { return randomWord(256<<10, seed) }},
		{"words", words},
	} {
		b.Run(kind.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				v := &chatView{c: c, layouts: map[int64]*bubbleLayout{}}
				m := store.Message{ID: 1, Body: kind.body(uint64(i)), Direction: store.In}
				b.StartTimer()
				v.layoutBubble(&m, 800)
			}
		})
	}
}
