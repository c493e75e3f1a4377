// Values the history store hands in and out: messages with their delivery
// state, conversations, paging cursors, search results and archive sync state.
// They are plain Go values so app/ can pass them to views/ unchanged.
package store

import (
	"fmt"
	"time"
)

// Direction says who sent a message: the peer (In) or this account (Out).
type Direction int

// Directions.
const (
	In  Direction = 0
	Out Direction = 1
)

func (d Direction) String() string {
	if d == Out {
		return "out"
	}
	return "in"
}

// State is the delivery state of an outgoing message. It only moves forward
// along Queued -> Sent -> Delivered -> Read; Failed is a side exit (see
// CanTransition). Incoming messages have StateNone.
type State int

// Delivery states, in the order they are reached. The values are stored in
// the database: never renumber them.
const (
	StateNone      State = 0 // incoming message: no delivery state
	StateQueued    State = 1 // stored, not yet acknowledged by the server (the outbox)
	StateSent      State = 2 // acknowledged by the server (XEP-0198 ack, or seen in the archive)
	StateDelivered State = 3 // the peer's client confirmed receipt (XEP-0184)
	StateRead      State = 4 // the peer displayed it (XEP-0333 displayed marker)
	StateFailed    State = 5 // an error came back; Message.Error says which
)

func (s State) String() string {
	switch s {
	case StateNone:
		return "none"
	case StateQueued:
		return "queued"
	case StateSent:
		return "sent"
	case StateDelivered:
		return "delivered"
	case StateRead:
		return "read"
	case StateFailed:
		return "failed"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// CanTransition reports whether an outgoing message in state from may move to
// state to. Progress only goes forward (a late "sent" after "delivered" is
// ignored); Failed can be reached from Queued or Sent, and a receipt or marker
// still wins over Failed (the peer got it after all). Leaving Failed for
// Queued is not a transition but a user's retry: see Store.Requeue.
func CanTransition(from, to State) bool {
	switch to {
	case StateSent, StateDelivered, StateRead:
		if from == StateFailed {
			return to != StateSent
		}
		return from >= StateQueued && from < to
	case StateFailed:
		return from == StateQueued || from == StateSent
	}
	return false
}

// Message types as in the stanza's type attribute.
const (
	TypeChat   = "chat"
	TypeNormal = "normal"
	TypeError  = "error"
)

// Message is one stored message, or one to store.
//
// To store a correction (XEP-0308) or a retraction (XEP-0424) pass a Message
// with ReplaceID or RetractID set: it changes the earlier message of the same
// sender in the same conversation whose origin-id or id attribute is that
// value, and is not stored as a message of its own. If that message is not
// stored yet (it may come later from the archive) the change is kept and
// applied when it arrives.
type Message struct {
	ID           int64     // local row id, set by the store; ids ascend with Time (see Cursor)
	Conversation string    // the peer's bare JID
	Direction    Direction // In or Out
	Sender       string    // the sender's full JID
	Body         string    // "" when retracted
	Time         time.Time // XEP-0203 delay stamp when present, else the time received or sent; kept in ms
	Type         string    // the stanza's type attribute; "" means chat
	OriginID     string    // XEP-0359 origin-id
	StanzaID     string    // XEP-0359 stanza-id given by the own account's archive
	MessageID    string    // the stanza's id attribute
	Markable     bool      // incoming: the sender asked for chat markers (XEP-0333)

	State State  // delivery state of an outgoing message
	Error string // the error text when State is StateFailed

	Edited       bool      // corrected at least once (XEP-0308)
	EditedAt     time.Time // the time of the latest correction applied
	OriginalBody string    // the body before the first correction
	Retracted    bool      // retracted by its sender (XEP-0424): Body is cleared

	// Attachment is the file the message shares (nil: none); see
	// attachments.go.
	Attachment *Attachment

	// Set only on messages passed to Save/Put, never stored: this message
	// corrects (ReplaceID) or retracts (RetractID) an earlier one.
	ReplaceID string
	RetractID string
	// FilePreview, with an Attachment, is a small picture the sender sent
	// with the file (XEP-0264), kept with it (Store.AttachmentPreview).
	FilePreview []byte
}

// Cursor returns the message's position in its conversation's order.
func (m Message) Cursor() Cursor { return Cursor{Time: m.Time.UnixMilli(), ID: m.ID} }

// Cursor is a position in a conversation: messages are ordered by time (ms),
// then by row id, so equal timestamps still have one stable order (the order
// they were stored in). Row ids are allocated in time order, so for stored
// messages the two orders agree.
type Cursor struct {
	Time int64 // Unix milliseconds
	ID   int64 // row id
}

// Less reports whether c comes before d.
func (c Cursor) Less(d Cursor) bool {
	return c.Time < d.Time || (c.Time == d.Time && c.ID < d.ID)
}

// Outcome says what storing a message did.
type Outcome int

// Outcomes of Save and Put.
const (
	Inserted  Outcome = iota + 1 // a new message was stored
	Duplicate                    // already stored (matched on stanza-id or origin-id); missing fields filled in
	Corrected                    // an earlier message's body was replaced
	Retracted                    // an earlier message was retracted
	Pending                      // a correction or retraction whose target is not stored yet; kept for later
	Ignored                      // a correction or retraction that cannot apply (older than the last one, or already retracted)
)

func (o Outcome) String() string {
	switch o {
	case Inserted:
		return "inserted"
	case Duplicate:
		return "duplicate"
	case Corrected:
		return "corrected"
	case Retracted:
		return "retracted"
	case Pending:
		return "pending"
	case Ignored:
		return "ignored"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Saved reports what happened to one message passed to Save, SaveBatch or Put.
type Saved struct {
	ID           int64  // the row id of the message stored, matched or changed (0 for Pending)
	Conversation string // the peer's bare JID
	Outcome      Outcome
	// Direction and MessageID are those of the message passed in (its id
	// attribute, "" when it had none): what a receipt names (XEP-0184).
	Direction Direction
	MessageID string
}

// Conversation is one entry of the conversation list.
type Conversation struct {
	Peer         string    // the peer's bare JID
	LastActivity time.Time // time of the newest message, or when the conversation was started
	Unread       int       // incoming messages after the read marker (retracted ones not counted)
	Draft        string    // the composer text kept for this chat
	LastRead     Cursor    // the read marker (zero: nothing read yet)
	// Accepted: the user accepted the conversation (a request accepted, a
	// chat opened or written in); see requests.go.
	Accepted bool
	Last     *Message // the newest message (the preview), nil when there is none
}

// SearchResult is one message matching a search, with what the UI needs to
// show it and jump to it.
type SearchResult struct {
	ID           int64  // row id
	Conversation string // the peer's bare JID
	Time         time.Time
	Direction    Direction
	Sender       string
	// Snippet is a short excerpt of the body with each matched term between
	// HighlightStart and HighlightEnd.
	Snippet string
}

// Cursor returns the result's position in its conversation (for Before/After).
func (r SearchResult) Cursor() Cursor { return Cursor{Time: r.Time.UnixMilli(), ID: r.ID} }

// Markers around matched terms in SearchResult.Snippet (ASCII STX and ETX:
// control characters that message bodies do not carry).
const (
	HighlightStart = "\x02"
	HighlightEnd   = "\x03"
)

// SyncPosition is how far the archive (XEP-0313) has been read.
type SyncPosition struct {
	Archive string    // the archive's JID: the own bare JID for the account's archive
	LastID  string    // the archive id (stanza-id) of the newest message seen
	Time    time.Time // that message's time
}

// Gap is a stretch of the archive not fetched yet (a new profile's first
// sync reads only the newest pages; a catch-up was interrupted): the
// messages after AfterID and before BeforeID, between Start and End. A
// catch-up resumes the gaps it left; the rest are filled one conversation
// at a time when the user scrolls into them.
type Gap struct {
	ID           int64  // set by the store
	Archive      string // the archive's JID
	Conversation string // the peer's bare JID when the gap is in one conversation only, else ""
	AfterID      string // archive id of the last message before the gap ("" = from Start, or the archive's beginning)
	BeforeID     string // archive id of the first message after the gap ("" = up to now)
	Start, End   time.Time
	// Parent is the whole-archive gap a conversation's part was split
	// from (0: none).
	Parent int64
}

// Bounded reports whether the gap has a lower bound (it does not reach
// back to the archive's beginning).
func (g Gap) Bounded() bool { return g.AfterID != "" || !g.Start.IsZero() }
