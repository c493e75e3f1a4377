// scan.go: a lean splitter for XMPP streams that cuts the byte stream into top-level elements
// without building a DOM, plus small helpers to read an attribute or a child's text. It is the
// hot path of RawPeer (a benchmark baseline), so it scans bytes and copies nothing it need not.
// Scanner, NewScanner, ErrStreamEnd, ElementName, Attr, Child and ChildText are exported for
// other lean clients (bench/chat's floor client).

package xmpptest

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"io"
)

// ErrStreamEnd is returned by Next when the peer closed the stream with </stream:stream>.
var ErrStreamEnd = errors.New("xmpptest: stream closed by peer (</stream:stream>)")

const maxElementSize = 16 << 20

// Scanner splits an XMPP stream into top-level elements. The XML declaration and the
// <stream:stream> open tag are returned as elements of their own (name "stream:stream").
// A top-level closing tag (</stream:stream>) ends the scan with ErrStreamEnd.
// It understands the subset of XML that XMPP allows (no DTD); comments, CDATA sections and
// processing instructions are skipped correctly anyway.
type Scanner struct {
	r    io.Reader
	buf  []byte
	head int // start of unread data
	tail int // end of valid data
}

// NewScanner returns a Scanner reading r with a 64 KiB buffer (grown up to 16 MiB for a
// large element).
func NewScanner(r io.Reader) *Scanner {
	return &Scanner{r: r, buf: make([]byte, 64<<10)}
}

// reset makes the scanner read from r with an empty buffer (after STARTTLS).
func (s *Scanner) reset(r io.Reader) {
	s.r = r
	s.head, s.tail = 0, 0
}

// fill reads more data, compacting or growing the buffer. It keeps data from head on.
func (s *Scanner) fill() error {
	if s.head > 0 && (s.tail == len(s.buf) || s.head == s.tail) {
		n := copy(s.buf, s.buf[s.head:s.tail])
		s.head, s.tail = 0, n
	}
	if s.tail == len(s.buf) {
		if len(s.buf) >= maxElementSize {
			return fmt.Errorf("xmpptest: element larger than %d bytes", maxElementSize)
		}
		nb := make([]byte, 2*len(s.buf))
		copy(nb, s.buf[s.head:s.tail])
		s.head, s.tail, s.buf = 0, s.tail-s.head, nb
	}
	n, err := s.r.Read(s.buf[s.tail:])
	s.tail += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// Next returns the next top-level element. The slice points into the scanner's buffer and is
// valid only until the next call (copy it to keep it).
func (s *Scanner) Next() ([]byte, error) {
	// skip whitespace (keepalives) and stray text at stream level
	for {
		i := bytes.IndexByte(s.buf[s.head:s.tail], '<')
		if i >= 0 {
			s.head += i
			break
		}
		s.head = s.tail
		if err := s.fill(); err != nil {
			return nil, err
		}
	}
	// s.buf[s.head] == '<'; scan one element, resuming after each fill.
	pos, depth := s.head, 0
	for {
		end, d, done, err := scanElement(s.buf[:s.tail], pos, depth)
		if err != nil {
			return nil, err
		}
		if done {
			el := s.buf[s.head:end]
			s.head = end
			if len(el) > 1 && el[1] == '/' { // a closing tag at top level: </stream:stream>
				return nil, ErrStreamEnd
			}
			return el, nil
		}
		pos, depth = end, d
		off := s.head
		if err := s.fill(); err != nil {
			if err == io.EOF && s.tail > s.head {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		pos -= off - s.head // the buffer may have moved
	}
}

// scanElement scans b from pos (at depth) and reports where the top-level element ends.
// When the data runs out it returns done=false with the position of the first markup it
// could not finish, so the scan can resume there after more data arrives.
func scanElement(b []byte, pos, depth int) (end, newDepth int, done bool, err error) {
	for {
		i := bytes.IndexByte(b[pos:], '<')
		if i < 0 {
			return len(b), depth, false, nil
		}
		pos += i
		if pos+1 >= len(b) {
			return pos, depth, false, nil
		}
		switch b[pos+1] {
		case '?': // XML declaration or processing instruction
			j := bytes.Index(b[pos:], []byte("?>"))
			if j < 0 {
				return pos, depth, false, nil
			}
			pos += j + 2
			if depth == 0 {
				return pos, 0, true, nil
			}
		case '!':
			var term []byte
			switch {
			case bytes.HasPrefix(b[pos:], []byte("<!--")):
				term = []byte("-->")
			case bytes.HasPrefix(b[pos:], []byte("<![CDATA[")):
				term = []byte("]]>")
			case len(b)-pos < 9:
				return pos, depth, false, nil
			default:
				return 0, 0, false, errors.New("xmpptest: unsupported markup <! in stream")
			}
			j := bytes.Index(b[pos:], term)
			if j < 0 {
				return pos, depth, false, nil
			}
			pos += j + len(term)
		case '/': // end tag
			j := bytes.IndexByte(b[pos:], '>')
			if j < 0 {
				return pos, depth, false, nil
			}
			pos += j + 1
			depth--
			if depth <= 0 {
				return pos, 0, true, nil
			}
		default: // start tag; '>' may appear inside quoted attribute values
			j, ok := tagEnd(b, pos)
			if !ok {
				return pos, depth, false, nil
			}
			start := pos
			pos = j + 1
			if b[j-1] == '/' { // self-closing
				if depth == 0 {
					return pos, 0, true, nil
				}
				continue
			}
			if depth == 0 && (nameIs(b[start:], "stream:stream") || nameIs(b[start:], "stream")) {
				return pos, 0, true, nil // the stream header never closes: return its open tag
			}
			depth++
		}
	}
}

// tagEnd finds the '>' that ends the tag starting at b[pos]=='<', honouring quotes.
func tagEnd(b []byte, pos int) (int, bool) {
	var quote byte
	for k := pos + 1; k < len(b); k++ {
		c := b[k]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '>':
			return k, true
		}
	}
	return 0, false
}

// ElementName returns the qualified name of the element whose start tag begins el.
func ElementName(el []byte) string {
	if len(el) < 2 || el[0] != '<' {
		return ""
	}
	i := 1
	for i < len(el) {
		switch el[i] {
		case ' ', '\t', '\r', '\n', '/', '>':
			return string(el[1:i])
		}
		i++
	}
	return string(el[1:i])
}

// nameIs reports whether el starts with the start tag of an element named name, cheaply.
func nameIs(el []byte, name string) bool {
	if len(el) < len(name)+2 || el[0] != '<' || string(el[1:1+len(name)]) != name {
		return false
	}
	switch el[1+len(name)] {
	case ' ', '\t', '\r', '\n', '/', '>':
		return true
	}
	return false
}

// Attr returns the unescaped value of attribute name in the start tag that begins el.
// Attributes are walked in order, so text inside other attributes' values never matches.
func Attr(el []byte, name string) (string, bool) {
	i := 1
	for i < len(el) && !isSpace(el[i]) && el[i] != '>' && el[i] != '/' {
		i++ // element name
	}
	for i < len(el) {
		for i < len(el) && isSpace(el[i]) {
			i++
		}
		if i >= len(el) || el[i] == '>' || el[i] == '/' {
			return "", false
		}
		ns := i
		for i < len(el) && el[i] != '=' && !isSpace(el[i]) && el[i] != '>' {
			i++
		}
		an := el[ns:i]
		for i < len(el) && isSpace(el[i]) {
			i++
		}
		if i >= len(el) || el[i] != '=' {
			return "", false // not well-formed
		}
		i++
		for i < len(el) && isSpace(el[i]) {
			i++
		}
		if i >= len(el) || (el[i] != '\'' && el[i] != '"') {
			return "", false
		}
		q := el[i]
		e := bytes.IndexByte(el[i+1:], q)
		if e < 0 {
			return "", false
		}
		if string(an) == name {
			return unescape(el[i+1 : i+1+e]), true
		}
		i += e + 2
	}
	return "", false
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func unescape(b []byte) string {
	if bytes.IndexByte(b, '&') < 0 {
		return string(b)
	}
	return html.UnescapeString(string(b)) // XML's five entities and &#...; are a subset of HTML's
}

// Child returns the first direct child of el named name (the whole child element), if any.
func Child(el []byte, name string) ([]byte, bool) {
	gt, ok := tagEnd(el, 0)
	if !ok || el[gt-1] == '/' {
		return nil, false
	}
	pos, depth := gt+1, 1
	for {
		i := bytes.IndexByte(el[pos:], '<')
		if i < 0 {
			return nil, false
		}
		pos += i
		if pos+1 >= len(el) {
			return nil, false
		}
		switch el[pos+1] {
		case '/':
			depth--
			j := bytes.IndexByte(el[pos:], '>')
			if j < 0 || depth == 0 {
				return nil, false
			}
			pos += j + 1
		case '!', '?':
			j := bytes.IndexByte(el[pos:], '>')
			if j < 0 {
				return nil, false
			}
			pos += j + 1
		default:
			j, ok := tagEnd(el, pos)
			if !ok {
				return nil, false
			}
			self := el[j-1] == '/'
			if depth == 1 && nameIs(el[pos:], name) {
				if self {
					return el[pos : j+1], true
				}
				end, _, done, err := scanElement(el, pos, 0)
				if err != nil || !done {
					return nil, false
				}
				return el[pos:end], true
			}
			if !self {
				depth++
			}
			pos = j + 1
		}
	}
}

// text returns the unescaped character data directly inside el (for leaf elements such as
// <body>; markup of nested children is dropped, CDATA is kept).
func text(el []byte) string {
	gt, ok := tagEnd(el, 0)
	if !ok || el[gt-1] == '/' {
		return ""
	}
	inner := el[gt+1:]
	if k := bytes.LastIndexByte(inner, '<'); k >= 0 {
		inner = inner[:k]
	}
	if bytes.IndexByte(inner, '<') < 0 {
		return unescape(inner)
	}
	var out bytes.Buffer
	for len(inner) > 0 {
		i := bytes.IndexByte(inner, '<')
		if i < 0 {
			out.WriteString(unescape(inner))
			break
		}
		out.WriteString(unescape(inner[:i]))
		inner = inner[i:]
		if bytes.HasPrefix(inner, []byte("<![CDATA[")) {
			j := bytes.Index(inner, []byte("]]>"))
			if j < 0 {
				break
			}
			out.Write(inner[9:j])
			inner = inner[j+3:]
			continue
		}
		j := bytes.IndexByte(inner, '>')
		if j < 0 {
			break
		}
		inner = inner[j+1:]
	}
	return out.String()
}

// ChildText returns the unescaped text of the first direct child named name.
func ChildText(el []byte, name string) (string, bool) {
	c, ok := Child(el, name)
	if !ok {
		return "", false
	}
	return text(c), true
}

// escapeText escapes s for use as XML character data or an attribute value.
func escapeText(s string) string {
	need := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<', '>', '&', '\'', '"':
			need = true
		}
	}
	if !need {
		return s
	}
	var b bytes.Buffer
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '\'':
			b.WriteString("&apos;")
		case '"':
			b.WriteString("&quot;")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
