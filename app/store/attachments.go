// Attachments: the file a message shares (an image, a voice message, any
// file), kept beside the message in the history: its URL (XEP-0066 OOB or
// XEP-0363 GET URL), media type, size, dimensions or duration when known,
// the local copy (the file picked to send, or the one downloaded) and
// where it is on its way. A message has at most one. A copy of a message
// that arrives again with an attachment the first copy lacked adds it.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// migrationAttachmentsSQL is schema version 11.
const migrationAttachmentsSQL = `
CREATE TABLE attachments (
	message_id  INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
	url         TEXT NOT NULL DEFAULT '',   -- where it is fetched from ('' before an upload)
	media_type  TEXT NOT NULL DEFAULT '',   -- e.g. image/jpeg, audio/mp4
	size        INTEGER NOT NULL DEFAULT 0, -- bytes (0: not known)
	width       INTEGER NOT NULL DEFAULT 0, -- pixels, for images and videos (0: not known)
	height      INTEGER NOT NULL DEFAULT 0,
	duration_ms INTEGER NOT NULL DEFAULT 0, -- for audio and video (0: not known)
	local_path  TEXT NOT NULL DEFAULT '',   -- the local copy, in the profile ('' none)
	state       INTEGER NOT NULL DEFAULT 0  -- AttachmentState
) WITHOUT ROWID;
`

// AttachmentState is where an attachment is on its way. The values are
// stored in the database: never renumber them.
type AttachmentState int

const (
	AttachmentRemote     AttachmentState = 0 // known by its URL only (received, not fetched)
	AttachmentToUpload   AttachmentState = 1 // ours: the local file waits to be uploaded
	AttachmentUploaded   AttachmentState = 2 // ours: uploaded, URL set
	AttachmentDownloaded AttachmentState = 3 // received and fetched to LocalPath
	AttachmentFailed     AttachmentState = 4 // the upload or download failed
)

// Attachment is the file a message shares.
type Attachment struct {
	URL           string
	MediaType     string
	Size          int64
	Width, Height int
	Duration      time.Duration // kept in ms
	LocalPath     string
	State         AttachmentState
}

// attachmentCols are the columns of the attachment of a message row
// (alias a, LEFT JOINed: all NULL when it has none).
const attachmentCols = `a.url, a.media_type, a.size, a.width, a.height, a.duration_ms, a.local_path, a.state`

// messagesFrom is the FROM of the queries reading messages (alias m) with
// their attachments (alias a).
const messagesFrom = `messages m LEFT JOIN attachments a ON a.message_id = m.id`

// attachmentScan receives attachmentCols.
type attachmentScan struct {
	url, mediaType, localPath       sql.NullString
	size, width, height, durationMS sql.NullInt64
	state                           sql.NullInt64
}

func (a *attachmentScan) dest() []any {
	return []any{&a.url, &a.mediaType, &a.size, &a.width, &a.height, &a.durationMS, &a.localPath, &a.state}
}

// attachment is what was scanned (nil when the message has none).
func (a *attachmentScan) attachment() *Attachment {
	if !a.state.Valid {
		return nil
	}
	return &Attachment{URL: a.url.String, MediaType: a.mediaType.String, Size: a.size.Int64,
		Width: int(a.width.Int64), Height: int(a.height.Int64), Duration: time.Duration(a.durationMS.Int64) * time.Millisecond,
		LocalPath: a.localPath.String, State: AttachmentState(a.state.Int64)}
}

func init() {
	// OR IGNORE: a message keeps the attachment it was stored with (a copy
	// adds one only where the first had none).
	writeSQL["attachmentInsert"] = `INSERT OR IGNORE INTO attachments(message_id, url, media_type, size, width, height,
		duration_ms, local_path, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	writeSQL["attachmentUpdate"] = `UPDATE attachments SET url = ?2, media_type = ?3, size = ?4, width = ?5, height = ?6,
		duration_ms = ?7, local_path = ?8, state = ?9 WHERE message_id = ?1`
}

// ErrBadAttachment: an attachment without a URL or a local file.
var ErrBadAttachment = errors.New("an attachment needs a URL or a local file")

func checkAttachment(a *Attachment) error {
	if a == nil {
		return nil
	}
	if a.URL == "" && a.LocalPath == "" {
		return ErrBadAttachment
	}
	if a.Size < 0 || a.Width < 0 || a.Height < 0 || a.Duration < 0 {
		return fmt.Errorf("attachment %q: negative size, dimension or duration", a.URL)
	}
	return nil
}

func attachmentArgs(id int64, a *Attachment) []any {
	return []any{id, a.URL, a.MediaType, a.Size, a.Width, a.Height, a.Duration.Milliseconds(), a.LocalPath, int(a.State)}
}

// keepAttachment stores m's attachment with message row id (if it has
// one, and the row has none yet).
func (t *wtx) keepAttachment(id int64, m *Message) error {
	if m.Attachment == nil {
		return nil
	}
	_, err := t.exec("attachmentInsert", attachmentArgs(id, m.Attachment)...)
	return err
}

// SetAttachment replaces the attachment of message id (its upload or
// download moved on), or adds it when the message has none.
func (s *Store) SetAttachment(ctx context.Context, id int64, a Attachment) error {
	if err := checkAttachment(&a); err != nil {
		return err
	}
	err := s.do(ctx, func(t *wtx) error {
		changed, err := t.execChanged("attachmentUpdate", attachmentArgs(id, &a)...)
		if err != nil || changed {
			return err
		}
		var state State
		if err := t.queryRow("stateOf", id).Scan(&state, new(Direction), new(int64), new(int64)); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return err
		}
		_, err = t.exec("attachmentInsert", attachmentArgs(id, &a)...)
		return err
	})
	if err != nil {
		return fmt.Errorf("attachment of message %d: %w", id, err)
	}
	return nil
}
