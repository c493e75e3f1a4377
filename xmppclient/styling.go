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
func parseSpans(line string) []StyledSpan {
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
		for i := 0; i < len(s); i++ {
			st, ok := spanDirective[s[i]]
			if !ok || !canOpen(s, i) {
				continue
			}
			end := findClose(s, i)
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

// findClose finds the matching closing directive after the opening at i.
func findClose(s string, i int) int {
	d := s[i]
	for j := i + 2; j < len(s); j++ {
		if s[j] != d {
			continue
		}
		prev, _ := utf8.DecodeLastRuneInString(s[:j])
		if unicode.IsSpace(prev) {
			continue
		}
		return j
	}
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
