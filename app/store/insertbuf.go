// The insert buffer: new messages of a write transaction are inserted with
// multi-row INSERT statements rather than one statement each. FTS5 writes
// its pending terms to disk as a new index segment at every statement that
// opens a savepoint, so one INSERT per message meant one tiny segment (and
// merge work) per message: half of the time spent storing a burst. The
// triggers still keep the index in step; they just fire inside fewer
// statements. Anything that must see the buffered rows (an edit, a copy of
// a buffered message, any other write) flushes the buffer first, so the
// buffer never changes what a transaction does, only how many statements
// it takes.
package store

import (
	"fmt"
	"strings"
)

// insertChunks are the row counts of the prepared multi-row INSERTs; a
// buffer is written with the largest that fit (13 parameters a row, far
// below SQLite's limit of 32766).
var insertChunks = []int{256, 64, 16, 4, 1}

const insertCols = `INSERT INTO messages(id, conversation_id, direction, sender, body, ts, type,
	origin_id, stanza_id, message_id, state, error, markable) VALUES `

func init() {
	for _, n := range insertChunks {
		writeSQL[fmt.Sprint("insert", n)] = insertCols +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?),", n), ",")
	}
}

// pendingRow is a new message waiting in the buffer, its id allocated.
type pendingRow struct {
	id, conv, ts int64
	m            Message
}

// rowKey identifies a message by an id within a conversation and direction.
type rowKey struct {
	conv int64
	dir  Direction
	id   string
}

// insertBuffer holds one transaction's new messages not yet inserted.
type insertBuffer struct {
	rows   []pendingRow
	stanza map[string]bool
	origin map[rowKey]bool
	msgID  map[rowKey]bool
	// slotLast is the last row id given out per millisecond (see newID).
	slotLast map[int64]int64
	// knownFrom..knownTo (ms) is a span whose taken ids knowSlots put in
	// slotLast: a millisecond of it missing there has no row.
	knownFrom, knownTo int64
}

func newInsertBuffer() insertBuffer {
	return insertBuffer{stanza: map[string]bool{}, origin: map[rowKey]bool{}, msgID: map[rowKey]bool{},
		slotLast: map[int64]int64{}, knownFrom: 1, knownTo: 0}
}

func (b *insertBuffer) add(r pendingRow) {
	b.rows = append(b.rows, r)
	if r.m.StanzaID != "" {
		b.stanza[r.m.StanzaID] = true
	}
	if r.m.OriginID != "" {
		b.origin[rowKey{r.conv, r.m.Direction, r.m.OriginID}] = true
	}
	if r.m.MessageID != "" {
		b.msgID[rowKey{r.conv, r.m.Direction, r.m.MessageID}] = true
	}
}

// mayHold reports whether m could be a copy of a buffered message: it
// shares one of the ids findCopy matches on.
func (b *insertBuffer) mayHold(conv int64, m *Message) bool {
	return (m.StanzaID != "" && b.stanza[m.StanzaID]) ||
		(m.OriginID != "" && b.origin[rowKey{conv, m.Direction, m.OriginID}]) ||
		(m.MessageID != "" && b.msgID[rowKey{conv, m.Direction, m.MessageID}])
}

func (b *insertBuffer) reset() {
	b.rows = b.rows[:0]
	clear(b.stanza)
	clear(b.origin)
	clear(b.msgID)
	clear(b.slotLast)
	b.knownFrom, b.knownTo = 1, 0 // empty
}

// nullIfEmpty stores "" as NULL (the unique indexes skip NULLs).
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// flushInserts inserts the buffered messages, then updates their
// conversations and applies edits waiting for them, in buffer order.
func (t *wtx) flushInserts() error {
	rows := t.buf.rows
	if len(rows) == 0 {
		return nil
	}
	args := make([]any, 0, 13*insertChunks[0])
	for rest := rows; len(rest) > 0; {
		n := insertChunks[len(insertChunks)-1]
		for _, c := range insertChunks {
			if c <= len(rest) {
				n = c
				break
			}
		}
		args = args[:0]
		for _, r := range rest[:n] {
			m := &r.m
			args = append(args, r.id, r.conv, m.Direction, m.Sender, m.Body, r.ts, m.Type,
				nullIfEmpty(m.OriginID), nullIfEmpty(m.StanzaID), nullIfEmpty(m.MessageID), m.State, m.Error, m.Markable)
		}
		if _, err := t.exec(fmt.Sprint("insert", n), args...); err != nil {
			return err
		}
		rest = rest[n:]
	}
	for i := range rows {
		if err := t.inserted(rows[i].conv, rows[i].id, &rows[i].m, rows[i].ts); err != nil {
			return err
		}
	}
	t.buf.reset()
	return nil
}
