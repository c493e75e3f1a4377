// The largest message Parley sends. A stanza over the server's limit does
// not bounce: the server closes the whole stream (policy-violation), and
// the outbox would send it again after every reconnect, blocking the
// account. So a body too large is refused before it enters the outbox,
// with an error the views show while the text stays in the composer.
package app

import (
	"errors"
	"fmt"

	"parley/xmppclient"
)

// MaxMessageBytes bounds a message body (and a correction's) as written
// in the stanza, escaped ('<' takes 4 bytes, a line break 5: see
// xmppclient.EncodedTextSize). The servers' limits on a client's stanza:
//   - Prosody 0.12 and later: c2s_stanza_size_limit, 256 KiB by default
//     (mod_c2s); s2s 512 KiB.
//   - ejabberd: max_stanza_size, no limit in the code, but the shipped
//     ejabberd.yml sets 256 KiB for c2s (512 KiB s2s), and older ones, which
//     many deployed configurations started from, set 64 KiB (128 KiB s2s).
//
// 60 KiB leaves 4 KiB under the tightest of these for the rest of our
// stanza: the addresses (up to 3 KiB for the longest JID), the id and
// origin-id, the receipt request, marker and chat state, a correction's
// <replace/>. What the servers add on the way (stanza-id, delay, a carbon's
// or the archive's wrapping) goes out to clients, which these limits do not
// bound, or over s2s, which allows twice as much.
const MaxMessageBytes = 60 << 10

// ErrMessageTooLarge: the message is over MaxMessageBytes (a
// *MessageTooLargeError says by how much).
var ErrMessageTooLarge = errors.New("this message is too long to send")

// MessageTooLargeError is a message refused for its size. errors.Is(err,
// ErrMessageTooLarge) holds for it.
type MessageTooLargeError struct {
	Size  int // the body's size in the stanza, bytes
	Limit int // MaxMessageBytes
}

func (e *MessageTooLargeError) Error() string {
	return fmt.Sprintf("this message is too long to send (%d KB; the limit is %d KB)", kb(e.Size), kb(e.Limit))
}

// Is makes errors.Is(err, ErrMessageTooLarge) hold.
func (e *MessageTooLargeError) Is(target error) bool { return target == ErrMessageTooLarge }

// kb rounds a size up to KiB, so a size just over the limit never shows as
// the limit itself.
func kb(n int) int { return (n + 1023) / 1024 }

// CheckMessageSize returns a *MessageTooLargeError when body is too large
// to send (Send and Correct refuse it), else nil. The views call it before
// taking the text out of the composer.
func CheckMessageSize(body string) error {
	if n := xmppclient.EncodedTextSize(body); n > MaxMessageBytes {
		return &MessageTooLargeError{Size: n, Limit: MaxMessageBytes}
	}
	return nil
}
