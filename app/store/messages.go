// Storing messages: insert, deduplicate copies of one message (live, carbon,
// archive), apply corrections (XEP-0308) and retractions (XEP-0424), and keep
// the conversation's last message and unread count in step.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"parley/app/clock"
)

// writeSQL holds the writer's statements, prepared once at Open.
var writeSQL = map[string]string{
	"convByPeer": `SELECT id FROM conversations WHERE peer = ?`,
	"convInsert": `INSERT INTO conversations(peer, last_activity) VALUES (?, ?)`,
	// Starting a chat dates only one that was never listed.
	"convStart": `UPDATE conversations SET last_activity = ?2
		WHERE id = ?1 AND last_activity = 0 AND last_message_id IS NULL`,
	// A new message: it becomes the last one unless older (its id is larger
	// than any other of the same millisecond, so only the time decides), and
	// is unread if it is after the read marker.
	"convAfterInsert": `UPDATE conversations SET
		last_message_id = CASE WHEN last_message_id IS NULL OR ?2 >= last_ts THEN ?3 ELSE last_message_id END,
		last_ts = CASE WHEN last_message_id IS NULL OR ?2 >= last_ts THEN ?2 ELSE last_ts END,
		last_activity = max(last_activity, ?2),
		unread = unread + (?4 AND ?2 >= read_ts),
		accepted = accepted OR ?5
		WHERE id = ?1`,
	"convUnreadDown": `UPDATE conversations SET unread = max(unread - 1, 0)
		WHERE id = ?1 AND (?2, ?3) > (read_ts, read_id)`,

	// The archive id is unique in the history; a copy is in the same conversation.
	"byStanzaID":  `SELECT id, state, conversation_id FROM messages WHERE stanza_id = ?`,
	"byOriginID":  `SELECT id, state FROM messages WHERE conversation_id = ? AND direction = ? AND origin_id = ?`,
	"byMessageID": `SELECT id, state FROM messages WHERE conversation_id = ? AND direction = ? AND message_id = ? ORDER BY id DESC LIMIT 1`,
	// The last resort for copies without origin-id: same id attribute and same text.
	"byMessageIDBody": `SELECT id, state FROM messages
		WHERE conversation_id = ?1 AND direction = ?2 AND message_id = ?3 AND origin_id IS NULL
		  AND (stanza_id IS NULL OR ?5 = '') AND (body = ?4 OR original_body = ?4)
		ORDER BY id DESC LIMIT 1`,
	"lastInSlot": `SELECT id FROM messages WHERE id BETWEEN ?1 AND ?2 ORDER BY id DESC LIMIT 1`,
	"slotsIn":    `SELECT id FROM messages WHERE id BETWEEN ?1 AND ?2 LIMIT ?3`,
	// A later copy fills in what the first one lacked; OR IGNORE: if the id
	// to fill in is already another row's, leave this row as it is.
	"fillIn": `UPDATE OR IGNORE messages SET
		stanza_id = coalesce(stanza_id, nullif(?2, '')),
		origin_id = coalesce(origin_id, nullif(?3, '')),
		message_id = coalesce(message_id, nullif(?4, '')),
		sender = CASE WHEN sender = '' THEN ?5 ELSE sender END
		WHERE id = ?1`,

	"editTarget": `SELECT ts, body, retracted, edited_at, direction FROM messages WHERE id = ?`,
	"correct": `UPDATE messages SET original_body = coalesce(original_body, body), body = ?2, edited_at = ?3
		WHERE id = ?1`,
	"retract": `UPDATE messages SET body = '', original_body = NULL, retracted = 1 WHERE id = ?1`,
	// stored_at: when it was stored here, what it expires by (see pending.go).
	"pendingInsert": `INSERT INTO pending_edits(conversation_id, direction, target, retract, body, ts, stored_at,
		origin_id, message_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	"pendingExpire": `DELETE FROM pending_edits WHERE stored_at < ?`,
	"pendingFor": `SELECT id, retract, body, ts, origin_id, message_id FROM pending_edits
		WHERE conversation_id = ?1 AND direction = ?2 AND target IN (?3, ?4) ORDER BY ts, id`,
	"pendingDelete": `DELETE FROM pending_edits WHERE id = ?`,

	"stateOf":  `SELECT state, direction, conversation_id, ts FROM messages WHERE id = ?`,
	"setState": `UPDATE messages SET state = ?2, error = ?3 WHERE id = ?1`,
	// A displayed marker means everything before it was displayed too
	// (XEP-0333); the partial index messages_unconfirmed holds the candidates.
	"readBefore": `UPDATE messages SET state = 4, error = ''
		WHERE conversation_id = ?1 AND state BETWEEN 1 AND 3 AND state >= 2 AND direction = 1
		  AND (ts, id) < (?2, ?3)`,
	"requeue": `UPDATE messages SET state = 1, error = '' WHERE id = ? AND state = 5`,

	"markerOf": `SELECT ts FROM messages WHERE id = ?1 AND conversation_id = ?2`,
	"newest":   `SELECT id, ts FROM messages WHERE conversation_id = ? ORDER BY ts DESC, id DESC LIMIT 1`,
	"setMarker": `UPDATE conversations SET read_ts = ?2, read_id = ?3
		WHERE id = ?1 AND (?2, ?3) > (read_ts, read_id)`,
	"countUnread": `SELECT count(*) FROM messages, conversations c
		WHERE c.id = ?1 AND conversation_id = ?1 AND (ts, messages.id) > (c.read_ts, c.read_id)
		  AND direction = 0 AND retracted = 0 AND body != ''`,
	"setUnread": `UPDATE conversations SET unread = ?2 WHERE id = ?1`,
	"setDraft":  `UPDATE conversations SET draft = ?2 WHERE id = ?1`,
}

// Save stores m (or applies it, for a correction or retraction) and waits
// until it is committed. Use it for outgoing messages (State StateQueued)
// before sending them, so they survive a crash in the outbox.
func (s *Store) Save(ctx context.Context, m Message) (Saved, error) {
	var res Saved
	err := s.doOp(&op{ctx: ctx, buffered: true, run: func(t *wtx) error {
		var err error
		res, err = t.save(m)
		return err
	}})
	return res, err
}

// SaveBatch stores msgs in one transaction: all of them or, on error, none.
func (s *Store) SaveBatch(ctx context.Context, msgs []Message) ([]Saved, error) {
	var res []Saved
	err := s.doOp(&op{ctx: ctx, buffered: true, run: func(t *wtx) error {
		res = make([]Saved, 0, len(msgs))
		if err := t.knowSlots(msgs); err != nil {
			return err
		}
		for _, m := range msgs {
			r, err := t.save(m)
			if err != nil {
				return err
			}
			res = append(res, r)
		}
		return nil
	}})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// Put queues m to be stored and returns at once (blocking only while the
// queue is full): the way to store incoming messages. Messages are stored in
// the order they were put; Options.OnCommit reports them, Flush waits for
// them. ErrClosed is the only error; storing errors go to Options.OnError.
func (s *Store) Put(m Message) error {
	o := &op{msg: &m, buffered: true, run: func(t *wtx) error {
		_, err := t.save(m)
		return err
	}}
	return s.enqueue(o)
}

// msgRow is what the writer needs to know about a stored message.
type msgRow struct {
	id    int64
	state State
}

// save stores or applies one message inside the writer's transaction.
func (t *wtx) save(m Message) (Saved, error) {
	if err := normalize(&m, t.w.now); err != nil {
		return Saved{}, err
	}
	ts := clampTime(m.Time.UnixMilli())
	// An edit alone does not make a conversation show in the list (a
	// retraction from a stranger, say): its activity time stays 0.
	activity := ts
	if m.RetractID != "" || m.ReplaceID != "" {
		activity = 0
	}
	conv, err := t.conversation(m.Conversation, activity)
	if err != nil {
		return Saved{}, err
	}
	res := Saved{Conversation: m.Conversation, Direction: m.Direction, MessageID: m.MessageID}
	switch {
	case m.RetractID != "" || m.ReplaceID != "":
		// Its target may be in the insert buffer.
		if err = t.flushInserts(); err != nil {
			break
		}
		// One of our own edits that came back from the server (the
		// archive): the server has it, so it leaves the outbox of edits.
		if m.Direction == Out && m.State != StateQueued {
			if err = t.ownEditCopy(conv, &m); err != nil {
				break
			}
		}
		ids := editIDs{origin: m.OriginID, msg: m.MessageID}
		if m.RetractID != "" {
			res.ID, res.Outcome, err = t.edit(conv, m.Conversation, m.Direction, m.RetractID, true, "", ts, ids)
		} else {
			res.ID, res.Outcome, err = t.edit(conv, m.Conversation, m.Direction, m.ReplaceID, false, m.Body, ts, ids)
		}
	default:
		res.ID, res.Outcome, err = t.insert(conv, m, ts)
	}
	if err != nil {
		return Saved{}, fmt.Errorf("store message %s in %s: %w", firstOf(m.OriginID, m.MessageID, m.StanzaID), m.Conversation, err)
	}
	t.saved = append(t.saved, res)
	return res, nil
}

// normalize checks m and fills in defaults.
func normalize(m *Message, now clock.Func) error {
	if m.Conversation == "" {
		return errors.New("store message: no conversation")
	}
	if m.Direction != In && m.Direction != Out {
		return fmt.Errorf("store message: bad direction %d", m.Direction)
	}
	if m.Type == "" {
		m.Type = TypeChat
	}
	if err := checkAttachment(m.Attachment); err != nil {
		return err
	}
	if len(m.FilePreview) > maxPreview {
		return fmt.Errorf("store message: a file preview of %d bytes (at most %d)", len(m.FilePreview), maxPreview)
	}
	if m.Time.IsZero() {
		m.Time = now()
	}
	switch {
	case m.Direction == In:
		m.State = StateNone
	case m.State == StateNone:
		// An outgoing message we did not send from here (a carbon, an
		// archive copy) is on the server already.
		m.State = StateSent
	case m.State < StateNone || m.State > StateFailed:
		return fmt.Errorf("store message: bad state %d", m.State)
	}
	if m.State != StateFailed {
		m.Error = ""
	}
	return nil
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return "(no id)"
}

// conversation returns the row id of peer's conversation, creating it.
func (t *wtx) conversation(peer string, ts int64) (int64, error) {
	if id, ok := t.w.convIDs[peer]; ok {
		return id, nil
	}
	var id int64
	err := t.queryRow("convByPeer", peer).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		var res sql.Result
		if res, err = t.exec("convInsert", peer, ts); err == nil {
			id, err = res.LastInsertId()
		}
	}
	if err != nil {
		return 0, fmt.Errorf("conversation %s: %w", peer, err)
	}
	t.w.convIDs[peer] = id
	return id, nil
}

// findCopy looks for an earlier copy of m in its conversation: same archive
// id, or same origin-id from the same sender, or (for clients without
// origin-id) same id attribute and text.
func (t *wtx) findCopy(conv int64, m *Message) (msgRow, bool, error) {
	var r msgRow
	try := func(name string, args ...any) (bool, error) {
		err := t.queryRow(name, args...).Scan(&r.id, &r.state)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("%s: %w", name, err)
		}
		return true, nil
	}
	if m.StanzaID != "" {
		var itsConv int64
		err := t.queryRow("byStanzaID", m.StanzaID).Scan(&r.id, &r.state, &itsConv)
		switch {
		case err == nil && itsConv == conv:
			return r, true, nil
		case err == nil:
			// Another conversation's message has this archive id: m is
			// no copy of it (the id was forged or reused). It is stored
			// without it, as an archive id names one message.
			m.StanzaID = ""
		case !errors.Is(err, sql.ErrNoRows):
			return r, false, fmt.Errorf("byStanzaID: %w", err)
		}
	}
	if m.OriginID != "" {
		ok, err := try("byOriginID", conv, m.Direction, m.OriginID)
		return r, ok, err
	}
	if m.MessageID != "" {
		ok, err := try("byMessageIDBody", conv, m.Direction, m.MessageID, m.Body, m.StanzaID)
		return r, ok, err
	}
	return r, false, nil
}

// insert stores m unless a copy is stored already, in which case the copy
// gets what it lacked (the archive id of a message first seen live, or the
// state an outgoing message has reached). A new message goes into the
// transaction's insert buffer; a copy of a buffered one flushes it first.
func (t *wtx) insert(conv int64, m Message, ts int64) (int64, Outcome, error) {
	if t.buf.mayHold(conv, &m) {
		if err := t.flushInserts(); err != nil {
			return 0, 0, err
		}
	}
	old, found, err := t.findCopy(conv, &m)
	if err == nil && !found && t.w.shownEdits {
		old, found, err = t.shownCopy(conv, &m)
	}
	if err != nil {
		return 0, 0, err
	}
	if !found {
		id, err := t.newID(ts)
		if err != nil {
			return 0, 0, err
		}
		t.buf.add(pendingRow{id: id, conv: conv, ts: ts, m: m})
		return id, Inserted, nil
	}
	if _, err := t.exec("fillIn", old.id, m.StanzaID, m.OriginID, m.MessageID, m.Sender); err != nil {
		return 0, 0, err
	}
	if err := t.keepAttachment(old.id, &m); err != nil {
		return 0, 0, err
	}
	if m.Direction == Out && m.State != old.state && CanTransition(old.state, m.State) {
		if _, err := t.setStateRow(old.id, m.State, m.Error); err != nil {
			return 0, 0, err
		}
	}
	return old.id, Duplicate, nil
}

// Row ids are allocated in time order: a message at Unix millisecond ts gets
// the next free id of [ts<<idSeqBits, (ts+1)<<idSeqBits). Ordering by id is
// then ordering by (time, arrival), the conversation order, so the FTS
// index (which walks rowids) yields the newest matches first and stops
// after a page, however many messages match.
const (
	idSeqBits = 20                    // up to a million messages per millisecond
	maxIDTime = 1<<(63-idSeqBits) - 1 // ms; the year 2248
)

// clampTime keeps a (peer-supplied) timestamp inside what ids can encode.
func clampTime(ts int64) int64 {
	return min(max(ts, 0), maxIDTime)
}

// maxKnownSlots bounds the ids knowSlots reads at once; a batch whose
// time span holds more rows than that asks per millisecond instead.
const maxKnownSlots = 4096

// knowSlots reads, in one query, the row ids already taken in the time
// span of msgs, so newID need not ask once per millisecond: archive stamps
// with sub-second precision (ejabberd's) put nearly every message of a page
// in a millisecond of its own, and a query per message was half of a
// catch-up's client time there.
func (t *wtx) knowSlots(msgs []Message) error {
	if len(msgs) < 2 {
		return nil
	}
	lo, hi := int64(maxIDTime), int64(0)
	for i := range msgs {
		ts := clampTime(msgs[i].Time.UnixMilli())
		lo, hi = min(lo, ts), max(hi, ts)
	}
	if lo >= t.buf.knownFrom && hi <= t.buf.knownTo {
		return nil
	}
	rows, err := t.query("slotsIn", lo<<idSeqBits, hi<<idSeqBits|(1<<idSeqBits-1), maxKnownSlots+1)
	if err != nil {
		return fmt.Errorf("slotsIn: %w", err)
	}
	defer rows.Close()
	found := map[int64]int64{}
	n := 0
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("slotsIn: %w", err)
		}
		if n++; n > maxKnownSlots {
			return nil // too many: newID asks per millisecond
		}
		slot := id >> idSeqBits
		found[slot] = max(found[slot], id)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("slotsIn: %w", err)
	}
	for slot, id := range found {
		if cur, ok := t.buf.slotLast[slot]; !ok || id > cur {
			t.buf.slotLast[slot] = id
		}
	}
	t.buf.knownFrom, t.buf.knownTo = lo, hi
	return nil
}

// newID returns the next free row id for a message at ts, counting the
// ids given to buffered rows.
func (t *wtx) newID(ts int64) (int64, error) {
	first := ts << idSeqBits
	last := first | (1<<idSeqBits - 1)
	id, ok := t.buf.slotLast[ts]
	if !ok && ts >= t.buf.knownFrom && ts <= t.buf.knownTo {
		id, ok = first-1, true // knowSlots found no row in this millisecond
	}
	if !ok {
		err := t.queryRow("lastInSlot", first, last).Scan(&id)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			id = first - 1
		case err != nil:
			return 0, fmt.Errorf("lastInSlot: %w", err)
		}
	}
	if id == last {
		return 0, fmt.Errorf("more than %d messages at %d ms", 1<<idSeqBits, ts)
	}
	t.buf.slotLast[ts] = id + 1
	return id + 1, nil
}

// inserted updates the conversation for a new message and applies edits
// that were waiting for it.
func (t *wtx) inserted(conv, id int64, m *Message, ts int64) error {
	unread := m.Direction == In && m.Body != ""
	// Writing in a conversation accepts it (see requests.go).
	if _, err := t.exec("convAfterInsert", conv, ts, id, unread, m.Direction == Out); err != nil {
		return err
	}
	if err := t.keepAttachment(id, m); err != nil {
		return err
	}
	if t.w.pendingEdits == 0 {
		return nil
	}
	return t.applyPending(conv, m.Conversation, m.Direction, id, editIDs{origin: m.OriginID, msg: m.MessageID})
}

// edit applies a correction or retraction to the message of the same sender
// (direction) in conv whose origin-id or id attribute is target (or that a
// correction with that id changed: see edit_aliases.go), or keeps it for
// later when that message is not stored yet. ids are the edit's own.
func (t *wtx) edit(conv int64, peer string, dir Direction, target string, retract bool, body string, ts int64, ids editIDs) (int64, Outcome, error) {
	id, found, err := t.editTarget(conv, dir, target)
	if err != nil {
		return 0, 0, fmt.Errorf("find %s: %w", target, err)
	}
	if !found {
		if err := t.keepPendingEdit(conv, dir, target, retract, body, ts, ids); err != nil {
			return 0, 0, err
		}
		return 0, Pending, nil
	}
	out, err := t.applyEdit(conv, id, retract, body, ts)
	if err == nil && !retract {
		err = t.corrected(conv, peer, dir, id, ids)
	}
	return id, out, err
}

// applyEdit corrects or retracts message id. A retracted message stays
// retracted; a correction older than the one applied last is ignored (the
// archive may replay them).
func (t *wtx) applyEdit(conv, id int64, retract bool, body string, ts int64) (Outcome, error) {
	var (
		msgTS, editedAt int64
		oldBody         string
		retracted       bool
		dir             Direction
	)
	if err := t.queryRow("editTarget", id).Scan(&msgTS, &oldBody, &retracted, &editedAt, &dir); err != nil {
		return 0, fmt.Errorf("editTarget: %w", err)
	}
	if retracted {
		return Ignored, nil
	}
	if retract {
		if _, err := t.exec("retract", id); err != nil {
			return 0, err
		}
		// It counted as unread if it was incoming, had a body and is after
		// the read marker (convUnreadDown checks that).
		if dir == In && oldBody != "" {
			if _, err := t.exec("convUnreadDown", conv, msgTS, id); err != nil {
				return 0, err
			}
		}
		return Retracted, nil
	}
	if ts < editedAt {
		return Ignored, nil
	}
	if _, err := t.exec("correct", id, body, ts); err != nil {
		return 0, err
	}
	return Corrected, nil
}
