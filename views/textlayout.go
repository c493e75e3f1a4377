// Text layout for chat bubbles: a message body, parsed into XEP-0393
// styled blocks (app.ParseStyling), is broken into lines at a given width
// and measured with fyne.MeasureText; http and https links are found in the
// plain text. The same layout gives a list row its height and places the
// text objects of the bubble, so what is measured is exactly what is drawn
// (wrapped labels report wrong heights: fyne#5585). The layout also keeps
// the text it shows as one string, each run and line placed in it, so a
// selection (selection.go) can go from a point to a character and back. It
// runs on the UI goroutine (Fyne's text shaper is not safe for concurrent
// use), so its cost grows about linearly with the text, even for one very
// long word, and bubbles cap what they lay out (bubble.go).
package views

import (
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"fyne.io/fyne/v2"

	"parley/app"
)

// runStyle is how a run of text is drawn (a set of flags).
type runStyle uint8

const (
	runBold runStyle = 1 << iota
	runItalic
	runMono
	runStrike
	runSubdued // styling directives and other secondary text
	runLink
)

// textStyle is the Fyne style that draws s.
func (s runStyle) textStyle() fyne.TextStyle {
	return fyne.TextStyle{Bold: s&runBold != 0, Italic: s&runItalic != 0, Monospace: s&runMono != 0,
		Strikethrough: s&runStrike != 0, Underline: s&runLink != 0}
}

// measureStyle is the part of s that changes the width of the text.
func (s runStyle) measureStyle() fyne.TextStyle {
	return fyne.TextStyle{Bold: s&runBold != 0, Italic: s&runItalic != 0, Monospace: s&runMono != 0}
}

// Geometry of styled blocks.
const (
	quoteIndent = 12 // per quotation level
	quoteBarW   = 3
	codePad     = 6 // inside a preformatted block, left and right
	tabSpaces   = "    "
)

// textRun is a piece of laid-out text: one style, one line.
type textRun struct {
	text    string
	style   runStyle
	url     string // the link it is part of, if any
	at      int    // where text starts in the layout's text; -1: not part of it
	x, y, w float32
}

// textLine is a drawn line of a layout's text.
type textLine struct {
	y, x0      float32 // its top, and where its text starts
	start, end int     // its text is text[start:end] (without spaces dropped at a wrap)
	r0, r1     int     // its runs are runs[r0:r1]
}

// decoKind is what a decoration rectangle is.
type decoKind int

const (
	decoQuoteBar decoKind = iota // the bar left of a quotation
	decoCode                     // the background of a preformatted block
)

// textDeco is a rectangle drawn behind the text.
type textDeco struct {
	kind       decoKind
	x, y, w, h float32
}

// textLayout is laid-out text, relative to its top left corner.
type textLayout struct {
	runs  []textRun
	decos []textDeco
	w, h  float32 // the space it takes (the widest line, all lines)
	lastW float32 // right end of the last line
	lastY float32 // top of the last line
	lineH float32

	// text is what the layout shows, as the characters drawn: the source
	// lines (quotation markers dropped, tabs as spaces) joined by "\n";
	// tabs are where the spaces of a tab start in it; lines are its drawn
	// lines, top to bottom. A line added by appendLine is not part of it.
	text  string
	tabs  []int
	lines []textLine
}

// textMeasurer lays text out at one text size.
type textMeasurer struct {
	size  float32
	lineH float32
	space map[runStyle]float32 // width of a space, by measure style
}

func newTextMeasurer(size float32) *textMeasurer {
	h := fyne.MeasureText("Mg", size, fyne.TextStyle{}).Height
	hm := fyne.MeasureText("Mg", size, fyne.TextStyle{Monospace: true}).Height
	return &textMeasurer{size: size, lineH: max(h, hm), space: map[runStyle]float32{}}
}

func (m *textMeasurer) width(s string, st runStyle) float32 {
	if s == "" {
		return 0
	}
	return fyne.MeasureText(s, m.size, st.measureStyle()).Width
}

func (m *textMeasurer) spaceWidth(st runStyle) float32 {
	key := st & (runBold | runItalic | runMono)
	w, ok := m.space[key]
	if !ok {
		w = m.width(" ", key)
		m.space[key] = w
	}
	return w
}

// piece is a run of text before layout.
type piece struct {
	text  string
	style runStyle
	url   string
}

// layoutBlocks lays styled blocks out in at most maxW.
func (m *textMeasurer) layoutBlocks(blocks []app.StyledBlock, maxW float32) textLayout {
	b := &lineBuilder{m: m}
	b.out.lineH = m.lineH
	for _, blk := range blocks {
		var indent, rightPad float32
		switch blk.Kind {
		case app.BlockQuote:
			indent = float32(blk.Depth) * quoteIndent
		case app.BlockPre:
			indent, rightPad = codePad, codePad
		}
		avail := max(maxW-indent-rightPad, m.lineH)
		top := b.y
		for _, line := range blk.Lines {
			b.line(piecesOf(line, blk.Kind), indent, avail, rightPad)
			b.noteTabs(line)
		}
		switch blk.Kind {
		case app.BlockQuote:
			for d := range blk.Depth {
				b.out.decos = append(b.out.decos, textDeco{kind: decoQuoteBar, x: float32(d) * quoteIndent, y: top, w: quoteBarW, h: b.y - top})
			}
		case app.BlockPre:
			b.out.decos = append(b.out.decos, textDeco{kind: decoCode, y: top, h: b.y - top})
		}
	}
	if len(blocks) == 0 {
		b.line(nil, 0, maxW, 0)
	}
	b.out.h = b.y
	b.out.text = b.text.String()
	// Code backgrounds span the whole text width.
	for i := range b.out.decos {
		if b.out.decos[i].kind == decoCode {
			b.out.decos[i].w = b.out.w
		}
	}
	return b.out
}

// appendLine adds a paragraph of one piece below l (the "Show all…" under
// a cut message), wrapped like the rest; it is not part of l's text (it
// cannot be selected).
func (m *textMeasurer) appendLine(l *textLayout, p piece, maxW float32) {
	b := &lineBuilder{m: m, out: *l, y: l.h, noText: true}
	b.line([]piece{p}, 0, maxW, 0)
	b.out.h = b.y
	for i := range b.out.decos {
		if b.out.decos[i].kind == decoCode {
			b.out.decos[i].w = b.out.w
		}
	}
	*l = b.out
}

// layoutPlain lays out one paragraph of pieces (no styling parsed).
func (m *textMeasurer) layoutPlain(pieces []piece, maxW float32) textLayout {
	b := &lineBuilder{m: m}
	b.out.lineH = m.lineH
	b.line(pieces, 0, maxW, 0)
	b.out.h = b.y
	b.out.text = b.text.String()
	return b.out
}

// piecesOf turns a parsed line into pieces, finding links in plain text.
func piecesOf(line app.StyledLine, kind app.BlockKind) []piece {
	var out []piece
	for _, sp := range line.Spans {
		st := spanRunStyle(sp.Style, kind)
		text := strings.ReplaceAll(sp.Text, "\t", tabSpaces)
		if kind == app.BlockPre || sp.Style&(app.StyleCode|app.StyleDirective) != 0 {
			out = append(out, piece{text: text, style: st})
			continue
		}
		out = appendLinks(out, text, st)
	}
	return out
}

func spanRunStyle(s app.SpanStyle, kind app.BlockKind) runStyle {
	var r runStyle
	if kind == app.BlockPre || s&app.StyleCode != 0 {
		r |= runMono
	}
	if s&app.StyleStrong != 0 {
		r |= runBold
	}
	if s&app.StyleEmphasis != 0 {
		r |= runItalic
	}
	if s&app.StyleStrike != 0 {
		r |= runStrike
	}
	if s&app.StyleDirective != 0 {
		r |= runSubdued
	}
	return r
}

// linkRE finds candidate links; validLink decides.
var linkRE = regexp.MustCompile("(?i)\\bhttps?://[^\\s<>\"'`]+")

// appendLinks splits text into plain pieces and link pieces.
func appendLinks(out []piece, text string, st runStyle) []piece {
	last := 0
	for _, loc := range linkRE.FindAllStringIndex(text, -1) {
		s := loc[0]
		u := trimLinkEnd(text[s:loc[1]])
		if !validLink(u) {
			continue
		}
		if s > last {
			out = append(out, piece{text: text[last:s], style: st})
		}
		out = append(out, piece{text: u, style: st | runLink, url: u})
		last = s + len(u)
	}
	if last < len(text) {
		out = append(out, piece{text: text[last:], style: st})
	}
	return out
}

// trimLinkEnd drops punctuation that ends a sentence rather than the link,
// and a closing bracket that has no opening one in the link.
func trimLinkEnd(u string) string {
	for u != "" {
		c := u[len(u)-1]
		switch {
		case strings.IndexByte(".,;:!?'\"*_~", c) >= 0:
		case c == ')' && strings.Count(u, "(") < strings.Count(u, ")"):
		case c == ']' && strings.Count(u, "[") < strings.Count(u, "]"):
		default:
			return u
		}
		u = u[:len(u)-1]
	}
	return u
}

// validLink accepts absolute http and https URLs with a host.
func validLink(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	scheme := strings.ToLower(u.Scheme)
	return scheme == "http" || scheme == "https"
}

// lineBuilder places words on lines.
type lineBuilder struct {
	m       *textMeasurer
	out     textLayout
	y       float32
	lastFit int // runes of a long word that fitted on the line before

	// The layout's text: what is written so far, where the next run starts
	// in it, where the current source and drawn lines start (and the drawn
	// line's x), and whether the lines go into the text at all.
	text    strings.Builder
	off     int
	srcAt   int
	lineAt  int
	lineX0  float32
	started bool
	noText  bool
}

// segment is the part of a word in one piece.
type segment = piece

// splitWords cuts pieces into words: each word is its text up to and
// including the spaces after it, possibly across pieces.
func splitWords(pieces []piece) [][]segment {
	var words [][]segment
	var cur []segment
	for _, p := range pieces {
		s := p.text
		for s != "" {
			i := 0
			for i < len(s) && s[i] != ' ' {
				i++
			}
			j := i
			for j < len(s) && s[j] == ' ' {
				j++
			}
			cur = append(cur, segment{text: s[:j], style: p.style, url: p.url})
			s = s[j:]
			if j > i {
				words = append(words, cur)
				cur = nil
			}
		}
	}
	if cur != nil {
		words = append(words, cur)
	}
	return words
}

// line lays out one source line from x0 in avail width, wrapping words to
// new lines as needed; it always takes at least one line.
func (b *lineBuilder) line(pieces []piece, x0, avail, rightPad float32) {
	if !b.noText {
		if b.started {
			b.text.WriteByte('\n')
			b.off++
		}
		b.started = true
		b.srcAt = b.off
		for _, p := range pieces {
			b.text.WriteString(p.text)
		}
	}
	x := x0
	visEnd := x0 // right end of the visible text on the current line
	limit := x0 + avail
	b.startLine(x0)
	newLine := func() {
		b.endLine(visEnd, rightPad)
		x, visEnd = x0, x0
		b.startLine(x0)
	}
	for _, word := range splitWords(pieces) {
		widths := make([]float32, len(word))
		var total float32
		for i, s := range word {
			widths[i] = b.m.width(s.text, s.style)
			total += widths[i]
		}
		last := word[len(word)-1]
		trailing := len(last.text) - len(strings.TrimRight(last.text, " "))
		visible := total - float32(trailing)*b.m.spaceWidth(last.style)
		if x > x0 && x+visible > limit {
			newLine()
		}
		if visible > avail {
			// Longer than a line: break it between characters.
			for _, s := range word {
				rest := s.text
				for rest != "" {
					n := b.fit(rest, s.style, limit-x)
					if n == 0 {
						if x > x0 {
							newLine()
							continue
						}
						_, n = utf8.DecodeRuneInString(rest)
					}
					part := rest[:n]
					w := b.m.width(part, s.style)
					b.add(part, s.style, s.url, x, w)
					b.off += n
					x += w
					if strings.TrimRight(part, " ") != "" {
						visEnd = x
					}
					rest = rest[n:]
					if rest != "" {
						newLine()
					}
				}
			}
			continue
		}
		for i, s := range word {
			b.add(s.text, s.style, s.url, x, widths[i])
			b.off += len(s.text)
			x += widths[i]
		}
		if visible > 0 {
			visEnd = x - (total - visible)
		}
	}
	b.endLine(visEnd, rightPad)
}

// fit returns how many bytes of the start of s fit in room (0 if not one
// rune). It measures prefixes forward only: from a guess (the count that
// fitted last, as the lines of a long word hold about the same), in steps
// that double until one prefix fits and a longer one does not, then by
// bisection between the two. So a line costs a few measurements of about a
// line of text, however long s is (measuring the whole rest of a long word
// for every line made the layout quadratic).
func (b *lineBuilder) fit(s string, st runStyle, room float32) int {
	if room <= 0 || s == "" {
		return 0
	}
	p := runePrefixes{s: s}
	fits := func(k int) bool { return b.m.width(s[:p.end(k)], st) <= room }
	lo, hi := 0, 0 // lo runes fit (0: none known); hi do not (0: not known yet)
	guess := max(b.lastFit, 1)
	if fits(guess) {
		lo = guess
		for step := 1; hi == 0; step *= 2 {
			if p.end(lo) == len(s) {
				b.lastFit = lo
				return len(s)
			}
			if k := lo + step; fits(k) {
				lo = k
			} else {
				hi = k
			}
		}
	} else {
		hi = guess
		for step := 1; lo == 0 && hi > 1; step *= 2 {
			if k := max(hi-step, 1); fits(k) {
				lo = k
			} else {
				hi = k
			}
		}
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if fits(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	if lo == 0 {
		return 0
	}
	b.lastFit = lo
	return p.end(lo)
}

// runePrefixes finds where the first k runes of s end, decoding s only as
// far as asked.
type runePrefixes struct {
	s    string
	ends []int // ends[k-1]: the end of the first k runes
}

// end is the byte length of the first k runes of s (all of s if it has
// fewer; k > 0).
func (p *runePrefixes) end(k int) int {
	for len(p.ends) < k {
		at := 0
		if n := len(p.ends); n > 0 {
			at = p.ends[n-1]
		}
		if at == len(p.s) {
			return at
		}
		_, size := utf8.DecodeRuneInString(p.s[at:])
		p.ends = append(p.ends, at+size)
	}
	return p.ends[k-1]
}

// add places text at x on the current line (from b.off in the layout's
// text), merging it into the previous run when that one has the same style
// and ends where this starts.
func (b *lineBuilder) add(text string, st runStyle, link string, x, w float32) {
	if text == "" {
		return
	}
	at := b.off
	if b.noText {
		at = -1
	}
	if n := len(b.out.runs); n > 0 {
		r := &b.out.runs[n-1]
		follows := (at < 0 && r.at < 0) || (at >= 0 && r.at >= 0 && r.at+len(r.text) == at)
		if r.y == b.y && r.style == st && r.url == link && r.x+r.w == x && follows {
			r.text += text
			r.w += w
			return
		}
	}
	b.out.runs = append(b.out.runs, textRun{text: text, style: st, url: link, at: at, x: x, y: b.y, w: w})
}

// startLine begins a drawn line whose text starts at b.off and x0.
func (b *lineBuilder) startLine(x0 float32) {
	b.lineAt, b.lineX0 = b.off, x0
}

// noteTabs notes where the tabs of a source line, just laid out, went in
// the layout's text (each is tabSpaces there).
func (b *lineBuilder) noteTabs(line app.StyledLine) {
	at := b.srcAt
	for _, sp := range line.Spans {
		s := sp.Text
		for {
			i := strings.IndexByte(s, '\t')
			if i < 0 {
				at += len(s)
				break
			}
			at += i
			b.out.tabs = append(b.out.tabs, at)
			at += len(tabSpaces)
			s = s[i+1:]
		}
	}
}

// endLine closes the current line whose visible text ends at right.
func (b *lineBuilder) endLine(right, rightPad float32) {
	// Trailing spaces are not drawn: trim them from the line's runs.
	start := len(b.out.runs)
	for start > 0 && b.out.runs[start-1].y == b.y {
		start--
	}
	kept := start
	for i := start; i < len(b.out.runs); i++ {
		r := b.out.runs[i]
		if r.x >= right {
			continue
		}
		if r.x+r.w > right {
			r.text = strings.TrimRight(r.text, " ")
			r.w = right - r.x
		}
		if r.text != "" {
			b.out.runs[kept] = r
			kept++
		}
	}
	b.out.runs = b.out.runs[:kept]
	if !b.noText {
		end := b.lineAt
		if kept > start {
			r := b.out.runs[kept-1]
			end = r.at + len(r.text)
		}
		b.out.lines = append(b.out.lines, textLine{y: b.y, x0: b.lineX0, start: b.lineAt, end: end, r0: start, r1: kept})
	}
	b.out.w = max(b.out.w, right+rightPad)
	b.out.lastW = right
	b.out.lastY = b.y
	b.y += b.m.lineH
}
