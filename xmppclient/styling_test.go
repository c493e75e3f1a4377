// Tests of XEP-0393 styling, with examples from the XEP's business rules.
package xmppclient

import (
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func spanString(spans []StyledSpan) string {
	var b strings.Builder
	for _, s := range spans {
		tag := ""
		if s.Style&Strong != 0 {
			tag += "B"
		}
		if s.Style&Emphasis != 0 {
			tag += "I"
		}
		if s.Style&Strike != 0 {
			tag += "S"
		}
		if s.Style&Code != 0 {
			tag += "C"
		}
		if s.Style&Directive != 0 {
			tag += "d"
		}
		if tag == "" {
			b.WriteString(s.Text)
		} else {
			b.WriteString("[" + tag + ":" + s.Text + "]")
		}
	}
	return b.String()
}

func TestParseSpans(t *testing.T) {
	tests := map[string]string{
		"plain":                      "plain",
		"*bold*":                     "[Bd:*][B:bold][Bd:*]",
		"a *b* c":                    "a [Bd:*][B:b][Bd:*] c",
		"*not bold *":                "*not bold *",
		"* not bold*":                "* not bold*",
		"_*both*_":                   "[Id:_][BId:*][BI:both][BId:*][Id:_]",
		"`*code*`":                   "[Cd:`][C:*code*][Cd:`]",
		"~gone~ and _it_":            "[Sd:~][S:gone][Sd:~] and [Id:_][I:it][Id:_]",
		"snake_case_name":            "snake_case_name",
		"**":                         "**",
		"x*y*":                       "x*y*",
		"émoji *ünïcode* ok":         "émoji [Bd:*][B:ünïcode][Bd:*] ok",
		"*unclosed and more * text*": "[Bd:*][B:unclosed and more * text][Bd:*]",
	}
	for in, want := range tests {
		if got := spanString(parseSpans(in)); got != want {
			t.Errorf("parseSpans(%q) = %s, want %s", in, got, want)
		}
		if got := (StyledLine{Spans: parseSpans(in)}).PlainText(); got != in {
			t.Errorf("text changed: %q -> %q", in, got)
		}
	}
}

func TestParseBlocks(t *testing.T) {
	body := "hi\n> quoted *b*\n>> deeper\n```go\nx := *y*\n```\nafter"
	blocks := ParseStyling(body)
	kinds := []BlockKind{BlockPlain, BlockQuote, BlockQuote, BlockPre, BlockPlain}
	if len(blocks) != len(kinds) {
		t.Fatalf("got %d blocks: %+v", len(blocks), blocks)
	}
	for i, k := range kinds {
		if blocks[i].Kind != k {
			t.Errorf("block %d kind %v, want %v", i, blocks[i].Kind, k)
		}
	}
	if blocks[2].Depth != 2 || blocks[2].Lines[0].PlainText() != "deeper" {
		t.Errorf("nested quote = %+v", blocks[2])
	}
	if got := spanString(blocks[1].Lines[0].Spans); got != "quoted [Bd:*][B:b][Bd:*]" {
		t.Errorf("quote spans = %s", got)
	}
	if got := spanString(blocks[3].Lines[1].Spans); got != "[C:x := *y*]" {
		t.Errorf("code line = %s", got)
	}
	// An unclosed code block runs to the end.
	if b := ParseStyling("```\na\nb"); len(b) != 1 || len(b[0].Lines) != 3 {
		t.Errorf("unclosed pre block = %+v", b)
	}
}

// plainCloser is the closer search closeFinder replaces: for each opener,
// look from two bytes on for the first same directive not after whitespace.
func plainCloser(s string) func(i int) int {
	return func(i int) int {
		for j := i + 2; j < len(s); j++ {
			if s[j] != s[i] {
				continue
			}
			if prev, _ := utf8.DecodeLastRuneInString(s[:j]); !unicode.IsSpace(prev) {
				return j
			}
		}
		return -1
	}
}

func FuzzParseStyling(f *testing.F) {
	for _, s := range []string{"*a*", "> q\n```\nx\n```", "_*~`x`~*_", "* _ ~ `", "\xff*\xfe*",
		"*a *b* c*", "*a_ _b* c_", "`a *b` c*", "_a *b_ c* d_", "**a** *b*"} {
		f.Add(s)
	}
	// Openers that never close, which once took quadratic time.
	for _, c := range pathologicalStyling(600) {
		f.Add(c[1])
	}
	f.Fuzz(func(t *testing.T, body string) {
		blocks := ParseStyling(body)
		for _, b := range blocks {
			for _, l := range b.Lines {
				for _, s := range l.Spans {
					if s.Text == "" {
						t.Fatalf("empty span in %q", body)
					}
				}
				if len(body) > 4096 {
					continue
				}
				text := l.PlainText()
				if got, want := spanString(l.Spans), spanString(spansWith(text, plainCloser)); b.Kind != BlockPre && got != want {
					t.Fatalf("line %q: spans %s, a plain closer search gives %s", text, got, want)
				}
			}
		}
	})
}

// pathologicalStyling are bodies of about n bytes that make a naive parser
// slow: openers that never close, on one long line.
func pathologicalStyling(n int) [][2]string {
	return [][2]string{
		{"unclosed", strings.Repeat("*a ", n/3)},
		{"mixed", strings.Repeat("*a _b ~c `d ", n/12)},
		{"nested", strings.Repeat("*_~a ", n/5)},
		{"closedEach", strings.Repeat("*a* ", n/4)},
	}
}

// BenchmarkStylingPathological parses the pathological bodies at growing
// sizes; the time per byte should stay about the same.
func BenchmarkStylingPathological(b *testing.B) {
	for _, n := range []int{1 << 10, 10 << 10, 100 << 10} {
		for _, c := range pathologicalStyling(n) {
			body := c[1]
			b.Run(fmt.Sprintf("%s/%dKB", c[0], n>>10), func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				for b.Loop() {
					ParseStyling(body)
				}
			})
		}
	}
}
