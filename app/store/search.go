// Full-text search over the history with FTS5. What the user types is never
// handed to FTS5's query syntax: every word becomes a quoted phrase (so
// quotes, operators, column filters and parentheses are plain text), and the
// last word matches as a prefix while the user is still typing it.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Query is a search.
type Query struct {
	Text         string // what the user typed
	Conversation string // the peer's bare JID to search one chat, "" for all history
	Limit        int    // results per page; 0 means DefaultPage
	// Before continues a search: pass the last (oldest) result's Cursor to
	// get the next page (only its ID is used). Zero: start from the newest.
	// The pages, end to end, hold each match once, even while messages are
	// stored (newer ones are not part of the search; older ones take their
	// place), and a page deep down costs what the first one does.
	Before Cursor
}

// Limits on what a query may ask of FTS5, so a pasted novel cannot make a
// search take seconds.
const (
	maxQueryTerms = 16
	maxTermRunes  = 64
)

// The search query: matches newest first. Row ids are in time order (see
// newID), so the FTS index's own rowid order is the order wanted: it walks
// the matches from the newest and stops after a page, instead of sorting
// every match (seconds for a word found in half of a million messages).
const searchSQL = `SELECT m.id, c.peer, m.ts, m.direction, m.sender,
		snippet(messages_fts, 0, char(2), char(3), '…', 12)
	FROM messages_fts
	JOIN messages m ON m.id = messages_fts.rowid
	JOIN conversations c ON c.id = m.conversation_id
	WHERE messages_fts MATCH ?1 AND messages_fts.rowid < ?2
	ORDER BY messages_fts.rowid DESC LIMIT ?3`

// Search returns the messages matching q.Text, newest first: every word must
// occur (in any order, case and accents ignored), the last one possibly as
// the start of a longer word. Any text is a valid query; one with no
// searchable word returns no results.
func (s *Store) Search(ctx context.Context, q Query) ([]SearchResult, error) {
	expr := matchExpr(q.Text)
	if expr == "" {
		return nil, nil
	}
	// Only the body column: the ctag column is not for user queries.
	expr = "body : (" + expr + ")"
	if q.Conversation != "" {
		var conv int64
		err := s.rdb.QueryRowContext(ctx, `SELECT id FROM conversations WHERE peer = ?`, q.Conversation).Scan(&conv)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("search %q in %s: %w", q.Text, q.Conversation, err)
		}
		expr = fmt.Sprintf(`ctag : "c%d" AND %s`, conv, expr)
	}
	before := q.Before.ID
	if before == 0 {
		before = math.MaxInt64
	}
	rows, err := s.reads.search.QueryContext(ctx, expr, before, pageLimit(q.Limit))
	if err != nil {
		return nil, fmt.Errorf("search %q: %w", q.Text, err)
	}
	defer rows.Close()
	var out []SearchResult
	for rows.Next() {
		var r SearchResult
		var ts int64
		if err := rows.Scan(&r.ID, &r.Conversation, &ts, &r.Direction, &r.Sender, &r.Snippet); err != nil {
			return nil, fmt.Errorf("search %q: %w", q.Text, err)
		}
		r.Time = time.UnixMilli(ts)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search %q: %w", q.Text, err)
	}
	return out, nil
}

// matchExpr turns what a user typed into a safe FTS5 MATCH expression:
// each whitespace-separated word becomes a phrase in double quotes (quotes
// inside doubled), so FTS5 sees no operators, and the phrases are ANDed.
// Invalid UTF-8 and control characters become spaces. The last word gets a
// prefix match (*) unless the text ends with a space, which is how one asks
// for the exact word, or it is a single ASCII character (a one-letter prefix
// matches a large share of the index, for little use; one CJK character is
// a meaningful prefix). A word without letters or digits becomes an empty
// phrase, which FTS5 ignores in an implicit AND. It returns "" when nothing
// is left to search for.
func matchExpr(text string) string {
	text = strings.ToValidUTF8(text, " ")
	words := strings.FieldsFunc(text, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError
	})
	if len(words) == 0 {
		return ""
	}
	if len(words) > maxQueryTerms {
		words = words[:maxQueryTerms]
	}
	last, _ := utf8.DecodeLastRuneInString(text)
	// The last word is matched as a prefix (the user may still be typing),
	// except a word of one or two ASCII characters: the index keeps 3-letter
	// prefixes, and a shorter prefix of a frequent word scans a large part
	// of it (60 ms over a million messages for "no*", 0.3 ms for "no").
	// Scripts without spaces (Chinese, Japanese) keep the prefix: a short
	// run of their characters is a real search.
	lastWord := words[len(words)-1]
	shortASCII := len(lastWord) < 3
	for _, r := range lastWord {
		if r >= utf8.RuneSelf {
			shortASCII = false
		}
	}
	prefix := !unicode.IsSpace(last) && !shortASCII
	var b strings.Builder
	for i, w := range words {
		if n := 0; utf8.RuneCountInString(w) > maxTermRunes {
			for j := range w {
				if n == maxTermRunes {
					w = w[:j]
					break
				}
				n++
			}
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('"')
		b.WriteString(strings.ReplaceAll(w, `"`, `""`))
		b.WriteByte('"')
		if i == len(words)-1 && prefix {
			b.WriteByte('*')
		}
	}
	return b.String()
}
