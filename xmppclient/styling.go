// XEP-0393 Message Styling: parsing a message body into blocks (plain,
// quotation, preformatted) and styled spans (*strong*, _emphasis_,
// ~strike~, `preformatted`) for display. The text is never changed: the
// styling directives stay in the spans, marked, so a view can show them
// subdued as the XEP recommends.
package xmppclient

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Style is a set of span styles.
type Style uint8

// Span styles.
const (
	Strong Style = 1 << iota
	Emphasis
	Strike
	Code
	// Directive marks the styling characters themselves (* _ ~ `).
	Directive
)

// BlockKind is the kind of a block.
type BlockKind int

// Block kinds.
const (
	BlockPlain BlockKind = iota
	BlockQuote
	BlockPre // preformatted code block: no span styling inside
)

// StyledSpan is a run of text with one set of styles.
type StyledSpan struct {
	Text  string
	Style Style
}

// StyledLine is one line of a block, as spans.
type StyledLine struct {
	Spans []StyledSpan
}

// StyledBlock is a block of lines; quotes nest (Depth) and hold the quoted
// text without the leading '>' markers.
type StyledBlock struct {
	Kind  BlockKind
	Depth int // quotation depth for BlockQuote
	Lines []StyledLine
}

// ParseStyling splits body into blocks of styled lines.
func ParseStyling(body string) []StyledBlock {
	lines := strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n")
	var blocks []StyledBlock
	add := func(kind BlockKind, depth int, line StyledLine) {
		if n := len(blocks); n > 0 && blocks[n-1].Kind == kind && blocks[n-1].Depth == depth {
			blocks[n-1].Lines = append(blocks[n-1].Lines, line)
			return
		}
		blocks = append(blocks, StyledBlock{Kind: kind, Depth: depth, Lines: []StyledLine{line}})
	}
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if strings.HasPrefix(line, "```") {
			// A preformatted block runs to a line that is exactly ``` or the end.
			add(BlockPre, 0, StyledLine{Spans: []StyledSpan{{Text: line, Style: Directive}}})
			closed := false
			for i++; i < len(lines); i++ {
				if lines[i] == "```" {
					add(BlockPre, 0, StyledLine{Spans: []StyledSpan{{Text: lines[i], Style: Directive}}})
					closed = true
					break
				}
				var l StyledLine
				if lines[i] != "" {
					l.Spans = []StyledSpan{{Text: lines[i], Style: Code}}
				}
				add(BlockPre, 0, l)
			}
			if !closed {
				i = len(lines)
			}
			continue
		}
		depth := 0
		rest := line
		for strings.HasPrefix(rest, ">") {
			depth++
			rest = strings.TrimPrefix(rest[1:], " ")
		}
		if depth > 0 {
			add(BlockQuote, depth, StyledLine{Spans: parseSpans(rest)})
			continue
		}
		add(BlockPlain, 0, StyledLine{Spans: parseSpans(line)})
	}
	return blocks
}

var spanDirective = map[byte]Style{'*': Strong, '_': Emphasis, '~': Strike, '`': Code}

// parseSpans styles one line. An opening directive starts the line or
// follows whitespace or another opening directive and is not followed by
// whitespace; the closing one is not preceded by whitespace; spans hold at
// least one character and do not cross lines; nothing is styled inside `code`.
func parseSpans(line string) []StyledSpan { return spansWith(line, newCloseFinder) }

// spansWith is parseSpans with the closer search given: closers(s) answers,
// for an opening directive at i in s, where it closes (tests check
// closeFinder against a plain search this way).
func spansWith(line string, closers func(s string) func(i int) int) []StyledSpan {
	var out []StyledSpan
	emit := func(text string, st Style) {
		if text == "" {
			return
		}
		if n := len(out); n > 0 && out[n-1].Style == st {
			out[n-1].Text += text
			return
		}
		out = append(out, StyledSpan{Text: text, Style: st})
	}
	var walk func(s string, base Style)
	walk = func(s string, base Style) {
		plainStart := 0
		var findClose func(i int) int // made at the first opener
		for i := 0; i < len(s); i++ {
			st, ok := spanDirective[s[i]]
			if !ok || !canOpen(s, i) {
				continue
			}
			if findClose == nil {
				findClose = closers(s)
			}
			end := findClose(i)
			if end < 0 {
				continue
			}
			emit(s[plainStart:i], base)
			emit(s[i:i+1], base|st|Directive)
			inner := s[i+1 : end]
			if st == Code {
				emit(inner, base|st)
			} else {
				walk(inner, base|st)
			}
			emit(s[end:end+1], base|st|Directive)
			i = end
			plainStart = end + 1
		}
		emit(s[plainStart:], base)
	}
	walk(line, 0)
	return out
}

func canOpen(s string, i int) bool {
	if i+1 >= len(s) {
		return false
	}
	next, _ := utf8.DecodeRuneInString(s[i+1:])
	if unicode.IsSpace(next) {
		return false
	}
	if i == 0 {
		return true
	}
	prev, _ := utf8.DecodeLastRuneInString(s[:i])
	_, prevIsDirective := spanDirective[s[i-1]]
	return unicode.IsSpace(prev) || prevIsDirective
}

// closeFinder finds the closing directive of an opening one in s. The
// closer is the first same directive at least two bytes on that does not
// follow whitespace. The walk asks with openers at growing positions, so
// the closer found last for a directive still answers while it lies ahead,
// and "none to the end" stays true: each byte is looked at at most once per
// directive, and a line full of openers that never close costs one pass,
// not one pass per opener.
type closeFinder struct {
	s     string
	found [4]int // per directive: the closer found last, or -1: none to the end
	known [4]bool
}

func newCloseFinder(s string) func(i int) int { return (&closeFinder{s: s}).find }

// directiveSlot numbers the four span directives for closeFinder.
func directiveSlot(d byte) int {
	switch d {
	case '*':
		return 0
	case '_':
		return 1
	case '~':
		return 2
	}
	return 3 // '`'
}

// find returns the closer of the opening directive at i, or -1. Calls must
// come with i growing.
func (c *closeFinder) find(i int) int {
	d := c.s[i]
	k := directiveSlot(d)
	from := i + 2
	if c.known[k] {
		switch f := c.found[k]; {
		case f < 0:
			return -1
		case f >= from:
			return f
		}
	}
	c.known[k] = true
	for j := from; j < len(c.s); j++ {
		if c.s[j] != d {
			continue
		}
		if prev, _ := utf8.DecodeLastRuneInString(c.s[:j]); unicode.IsSpace(prev) {
			continue
		}
		c.found[k] = j
		return j
	}
	c.found[k] = -1
	return -1
}

// PlainText returns the line's text with the directives left in.
func (l StyledLine) PlainText() string {
	var b strings.Builder
	for _, s := range l.Spans {
		b.WriteString(s.Text)
	}
	return b.String()
}
