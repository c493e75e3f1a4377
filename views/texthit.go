// Positions in laid-out text, for selecting it: the x of a text offset on
// its line, the text offset under a point (hit testing, run by run), and
// the word around an offset (a double click selects it).
package views

import (
	"sort"
	"unicode"
	"unicode/utf8"
)

// xAt is where the character boundary at off (within ln) is drawn.
func (m *textMeasurer) xAt(l *textLayout, ln *textLine, off int) float32 {
	x := ln.x0
	for _, r := range l.runs[ln.r0:ln.r1] {
		end := r.at + len(r.text)
		switch {
		case off <= r.at:
			return r.x
		case off < end:
			return r.x + m.width(r.text[:off-r.at], r.style)
		}
		x = r.x + r.w
	}
	return x
}

// hit finds where the point (x, y), relative to the text's top left corner,
// falls in l's text: the character boundary nearest to it, and the start
// of the character under it (at a line's end, of the line's last
// character). Above the text is its start, below it its end.
func (m *textMeasurer) hit(l *textLayout, x, y float32) (boundary, char int) {
	n := len(l.lines)
	if n == 0 || y < 0 {
		return 0, 0
	}
	i := sort.Search(n, func(i int) bool { return l.lines[i].y+l.lineH > y })
	if i == n {
		end := len(l.text)
		_, size := utf8.DecodeLastRuneInString(l.text)
		return end, end - size
	}
	ln := &l.lines[i]
	for _, r := range l.runs[ln.r0:ln.r1] {
		if x < r.x {
			return r.at, r.at
		}
		if x < r.x+r.w {
			b, c := m.hitRun(r, x-r.x)
			return r.at + b, r.at + c
		}
	}
	char = ln.end
	if ln.end > ln.start {
		_, size := utf8.DecodeLastRuneInString(l.text[ln.start:ln.end])
		char -= size
	}
	return ln.end, char
}

// hitRun finds dx (0 <= dx < r.w) in run r: the boundary nearest to it and
// the start of the character it is on, as offsets in r.text.
func (m *textMeasurer) hitRun(r textRun, dx float32) (boundary, char int) {
	p := runePrefixes{s: r.text}
	w := func(k int) float32 {
		if k == 0 {
			return 0
		}
		return m.width(r.text[:p.end(k)], r.style)
	}
	// The most runes whose width is at most dx: lo (hi runes are wider).
	lo, hi := 0, utf8.RuneCountInString(r.text)+1
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if w(mid) <= dx {
			lo = mid
		} else {
			hi = mid
		}
	}
	start := 0
	if lo > 0 {
		start = p.end(lo)
	}
	if start == len(r.text) {
		return start, start - utf8RuneLenBefore(r.text, start)
	}
	next := p.end(lo + 1)
	if dx-w(lo) > w(lo+1)-dx {
		return next, start
	}
	return start, start
}

func utf8RuneLenBefore(s string, i int) int {
	_, n := utf8.DecodeLastRuneInString(s[:i])
	return n
}

func charClass(r rune) int {
	switch {
	case r == '\n':
		return classBreak
	case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
		return classWord
	case unicode.IsSpace(r):
		return classSpace
	}
	return classOther
}

// wordAround is the word, run of spaces or run of other marks that holds
// the character starting at i in text; an apostrophe between two letters
// is part of a word ("don't"). At a line break or the end it is empty.
func wordAround(text string, i int) (a, b int) {
	if i < 0 || i >= len(text) {
		return i, i
	}
	classAt := func(j int) (int, int) { // the class of the rune at j, and its size
		r, n := utf8.DecodeRuneInString(text[j:])
		c := charClass(r)
		if (r == '\'' || r == '’') && j > 0 && j+n < len(text) {
			before, _ := utf8.DecodeLastRuneInString(text[:j])
			after, _ := utf8.DecodeRuneInString(text[j+n:])
			if unicode.IsLetter(before) && unicode.IsLetter(after) {
				c = classWord
			}
		}
		return c, n
	}
	cls, _ := classAt(i)
	if cls == classBreak {
		return i, i
	}
	a = i
	for a > 0 {
		_, n := utf8.DecodeLastRuneInString(text[:a])
		if c, _ := classAt(a - n); c != cls {
			break
		}
		a -= n
	}
	b = i
	for b < len(text) {
		c, n := classAt(b)
		if c != cls {
			break
		}
		b += n
	}
	return a, b
}

// Character classes for word selection.
const (
	classWord  = iota // letters, digits, marks
	classSpace        // spaces and tabs
	classOther        // punctuation, symbols
	classBreak        // a line break: never part of a word
)
