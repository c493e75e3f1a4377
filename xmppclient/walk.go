// Token walking for single-pass stanza parsing: elementTokens reads the
// tokens of one element from an xml.Decoder (the stream reader's own, or
// one over an element's bytes), counting how deep it is, so that a parser
// can always be brought to the end of the element it is reading whatever
// it made of the content, and remembering where each token began, so the
// bytes of a nested element (a forwarded message) can be cut out of the
// input rather than serialised again.
package xmppclient

import (
	"encoding/xml"
	"errors"
)

// errElementEnded is returned when a parser reads past its element.
var errElementEnded = errors.New("read past the end of the element")

// elementTokens walks the content of one element whose start tag has been
// read. Depth 0 is inside that element; a child's start tag makes it 1,
// and so on; the element's own end tag makes it -1, after which no more
// tokens are read.
type elementTokens struct {
	dec   *xml.Decoder
	depth int
	base  int64 // input offset of the walked element's start tag
	at    int64 // input offset where the last token returned began
}

// next returns the next token of the element. Token errors (syntax, a
// broken connection) are the only errors: they end the whole stream.
func (w *elementTokens) next() (xml.Token, error) {
	if w.depth < 0 {
		return nil, errElementEnded
	}
	w.at = w.dec.InputOffset()
	tok, err := w.dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok.(type) {
	case xml.StartElement:
		w.depth++
	case xml.EndElement:
		w.depth--
	}
	return tok, nil
}

// close reads on until the element open at depth d has ended; it does
// nothing if it already has. close(0) finishes the walked element.
func (w *elementTokens) close(d int) error {
	for w.depth >= d {
		if _, err := w.next(); err != nil {
			return err
		}
	}
	return nil
}

// children calls fn with each child element of the element whose start
// tag was just read (or of the walked element, at depth 0), then reads
// through that element's end tag. fn may read as much of the child as it
// likes, none, part or all: the rest is skipped before the next child.
func (w *elementTokens) children(fn func(child xml.StartElement) error) error {
	d := w.depth
	for {
		tok, err := w.next()
		if err != nil {
			return err
		}
		if w.depth < d {
			return nil
		}
		if c, ok := tok.(xml.StartElement); ok {
			if err := fn(c); err != nil {
				return err
			}
			if err := w.close(d + 1); err != nil {
				return err
			}
		}
	}
}

// text returns the character data directly inside the element whose start
// tag was just read, reading through its end tag; text inside nested
// elements is left out (as encoding/xml does when decoding into a string).
func (w *elementTokens) text() (string, error) {
	d := w.depth
	var b []byte
	for w.depth >= d {
		tok, err := w.next()
		if err != nil {
			return "", err
		}
		if cd, ok := tok.(xml.CharData); ok && w.depth == d {
			b = append(b, cd...)
		}
	}
	return string(b), nil
}

// offset is where the last token returned began, relative to the start of
// the walked element.
func (w *elementTokens) offset() int {
	return int(w.at - w.base)
}

// end is where the input read so far ends, relative to the start of the
// walked element.
func (w *elementTokens) end() int {
	return int(w.dec.InputOffset() - w.base)
}

// plainAttr returns the value of the attribute local without a namespace.
func plainAttr(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}
