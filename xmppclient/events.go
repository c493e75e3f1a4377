// The typed event stream the session engine hands to the app layer:
// connection state changes with their reasons, session starts (fresh or
// resumed), acknowledgements of sent stanzas, and received stanzas in
// arrival order.
package xmppclient

import (
	"time"

	"gosrc.io/xmpp/stanza"
)

// State is the connection state of a Client.
type State int

const (
	// StateOffline: not connected and not trying (before Connect, after
	// Close, or after a permanent error such as a wrong password).
	StateOffline State = iota
	// StateConnecting: dialing, negotiating TLS, authenticating, binding or
	// resuming.
	StateConnecting
	// StateOnline: a session is established; stanzas flow.
	StateOnline
	// StateWaiting: the connection was lost; the next attempt is scheduled.
	StateWaiting
)

func (s State) String() string {
	switch s {
	case StateOffline:
		return "offline"
	case StateConnecting:
		return "connecting"
	case StateOnline:
		return "online"
	case StateWaiting:
		return "waiting to reconnect"
	}
	return "unknown"
}

// Event is one item of the stream returned by Client.Events.
type Event interface{ isEvent() }

// StateEvent reports a change of connection state. Err is the reason the
// connection was lost or could not be made (nil for planned changes).
type StateEvent struct {
	State   State
	Err     error
	Attempt int           // reconnect attempt number (0 for the first connect)
	RetryIn time.Duration // for StateWaiting: when the next attempt starts
	At      time.Time
}

// SessionEvent is sent each time the client becomes online. When Resumed is
// false the server kept nothing of an earlier session: the app must send its
// initial presence again, enable carbons again and refetch what it needs.
// Resent (resumed sessions) lists the ids of stanzas the server had not
// acknowledged, written again on the resumed stream. Unacked (fresh
// sessions) lists the ids of messages written on the lost session that the
// server never acknowledged (by XEP-0198, or by a barrier ping without it)
// and that were NOT sent again: the server may have received some before
// the break, so the app decides (e.g. after checking its archive) which to
// send again. Those a refused resumption's <failed h='N'/> counted come in
// an AckEvent before this event instead.
type SessionEvent struct {
	JID     JID // the full bound JID
	Resumed bool
	Resent  []string
	Unacked []string
	// EndedBy is the stream error the server closed the previous
	// connection with (nil when it ended otherwise). A stanza the server
	// cannot take (too big for its limit, say) ends the stream with one,
	// before it is acknowledged.
	EndedBy *StreamError
}

// AckEvent reports that the server received stanzas this client wrote
// (XEP-0198 acks, or a barrier ping's answer without XEP-0198); IDs are
// their id attributes, in the order they were sent.
type AckEvent struct {
	IDs []string
}

// MessageEvent is a received <message/>, parsed once by the engine. Carbons
// (CarbonEvent), archive results (QueryArchive) and PEP notifications are
// delivered otherwise; a message whose from or to is no JID is dropped.
type MessageEvent struct {
	Message ChatMessage
	Raw     []byte // the stanza as received, for payloads the caller decodes itself
}

// PresenceEvent is a received <presence/>.
type PresenceEvent struct {
	Presence stanza.Presence
	Raw      []byte
}

func (StateEvent) isEvent()    {}
func (SessionEvent) isEvent()  {}
func (AckEvent) isEvent()      {}
func (MessageEvent) isEvent()  {}
func (PresenceEvent) isEvent() {}
