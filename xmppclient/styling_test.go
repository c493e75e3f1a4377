// Tests of XEP-0393 styling, with examples from the XEP's business rules.
package xmppclient

import (
	"strings"
	"testing"
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

func FuzzParseStyling(f *testing.F) {
	for _, s := range []string{"*a*", "> q\n```\nx\n```", "_*~`x`~*_", "* _ ~ `", "\xff*\xfe*"} {
		f.Add(s)
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
			}
		}
	})
}
