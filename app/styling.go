// XEP-0393 message styling for the views: the parser lives in the protocol
// layer (xmppclient.ParseStyling), which views may not import, so this file
// re-exports it and its types unchanged.
package app

import "parley/xmppclient"

// Styled text as the parser hands it out: blocks of lines of spans.
type (
	StyledBlock = xmppclient.StyledBlock
	StyledLine  = xmppclient.StyledLine
	StyledSpan  = xmppclient.StyledSpan
	SpanStyle   = xmppclient.Style
	BlockKind   = xmppclient.BlockKind
)

// Span styles (a span may have several).
const (
	StyleStrong    = xmppclient.Strong
	StyleEmphasis  = xmppclient.Emphasis
	StyleStrike    = xmppclient.Strike
	StyleCode      = xmppclient.Code
	StyleDirective = xmppclient.Directive // the styling characters themselves
)

// Block kinds.
const (
	BlockPlain = xmppclient.BlockPlain
	BlockQuote = xmppclient.BlockQuote
	BlockPre   = xmppclient.BlockPre
)

// ParseStyling splits a message body into styled blocks for display.
func ParseStyling(body string) []StyledBlock { return xmppclient.ParseStyling(body) }
