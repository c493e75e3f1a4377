// Attachments: the file a message shares (an image, a voice message, any
// file), kept with the message in the history: its URL (XEP-0066 OOB or
// XEP-0363 GET URL), media type, size, dimensions or duration when known,
// the local copy (the file picked to send, or the one downloaded) and
// where it is on its way. A message has at most one. A copy of a message
// that arrives again with an attachment the first copy lacked adds it.
package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// migrationAttachmentsSQL is schema version 11. The attachment is kept
// in columns of the message's row, NULL when it has none: reading a page
// costs no join (a LEFT JOIN on a table of their own made every page read
// 20% slower), and SQLite adds the columns without rewriting the rows.
const migrationAttachmentsSQL = `
ALTER TABLE messages ADD COLUMN att_url TEXT;         -- where it is fetched from ('' before an upload)
ALTER TABLE messages ADD COLUMN att_name TEXT;        -- the file's name, as shown and sent
ALTER TABLE messages ADD COLUMN att_type TEXT;        -- media type, e.g. image/jpeg, audio/mp4
ALTER TABLE messages ADD COLUMN att_size INTEGER;     -- bytes (0: not known)
ALTER TABLE messages ADD COLUMN att_width INTEGER;    -- pixels, for images and videos (0: not known)
ALTER TABLE messages ADD COLUMN att_height INTEGER;
ALTER TABLE messages ADD COLUMN att_duration INTEGER; -- ms, for audio and video (0: not known)
ALTER TABLE messages ADD COLUMN att_path TEXT;        -- the local copy, in the profile ('' none)
ALTER TABLE messages ADD COLUMN att_state INTEGER;    -- AttachmentState; NULL: no attachment
ALTER TABLE messages ADD COLUMN att_error TEXT;       -- why it failed (AttachmentFailed), for the user
ALTER TABLE messages ADD COLUMN att_preview BLOB;     -- a small picture the sender sent inline (XEP-0264), not read with pages
ALTER TABLE messages ADD COLUMN att_desc TEXT;        -- the sender's description of the file
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
	Name          string // the file's name ('' when not known: the URL's last part then)
	MediaType     string
	Size          int64
	Width, Height int
	Duration      time.Duration // kept in ms
	LocalPath     string
	State         AttachmentState
	Error         string // why it failed, in words for the user (State AttachmentFailed)
	Desc          string // the sender's description (XEP-0446)
	// HasPreview: a small picture the sender sent with the file is kept
	// (Message.FilePreview when stored; AttachmentPreview reads it).
	HasPreview bool
}

// attachmentCols is the attachment of a message row (alias m) as one
// value: NULL when it has none (most rows: one NULL costs next to nothing
// to read, where eight did cost a page read 12%), else a JSON object of
// its columns.
const attachmentCols = `CASE WHEN m.att_state IS NULL THEN NULL ELSE json_object('u', m.att_url, 'n', m.att_name, 't', m.att_type,
	's', m.att_size, 'w', m.att_width, 'h', m.att_height, 'd', m.att_duration, 'p', m.att_path, 'st', m.att_state, 'e', m.att_error, 'ds', m.att_desc,
	'pv', m.att_preview IS NOT NULL) END`

// attachmentScan receives attachmentCols (Scan into &raw).
type attachmentScan struct{ raw sql.RawBytes }

// attachmentJSON is the object attachmentCols makes.
type attachmentJSON struct {
	URL       string `json:"u"`
	Name      string `json:"n"`
	MediaType string `json:"t"`
	Size      int64  `json:"s"`
	Width     int    `json:"w"`
	Height    int    `json:"h"`
	Duration  int64  `json:"d"` // ms
	LocalPath string `json:"p"`
	State     int    `json:"st"`
	Error     string `json:"e"`
	Desc      string `json:"ds"`
	Preview   int    `json:"pv"` // 1: a preview is kept
}

// attachment is what was scanned (nil when the message has none, or when
// what was read does not decode, which only a damaged database gives).
func (a *attachmentScan) attachment() *Attachment {
	if a.raw == nil {
		return nil
	}
	var j attachmentJSON
	if err := json.Unmarshal(a.raw, &j); err != nil {
		return nil
	}
	return &Attachment{URL: j.URL, Name: j.Name, MediaType: j.MediaType, Size: j.Size, Width: j.Width, Height: j.Height,
		Duration: time.Duration(j.Duration) * time.Millisecond, LocalPath: j.LocalPath, State: AttachmentState(j.State), Error: j.Error, Desc: j.Desc, HasPreview: j.Preview != 0}
}

func init() {
	const set = `UPDATE messages SET att_url = ?2, att_type = ?3, att_size = ?4, att_width = ?5, att_height = ?6,
		att_duration = ?7, att_path = ?8, att_state = ?9, att_name = ?10, att_error = ?11, att_desc = ?12`
	// A message keeps the attachment it was stored with (a copy adds one
	// only where the first had none), with its preview.
	writeSQL["attachmentKeep"] = set + `, att_preview = ?13 WHERE id = ?1 AND att_state IS NULL`
	// SetAttachment leaves the preview as it is.
	writeSQL["attachmentSet"] = set + ` WHERE id = ?1`
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
	return []any{id, a.URL, a.MediaType, a.Size, a.Width, a.Height, a.Duration.Milliseconds(), a.LocalPath, int(a.State), a.Name,
		a.Error, a.Desc}
}

// keepAttachment stores m's attachment with message row id (if it has
// one, and the row has none yet). New rows are inserted without one (the
// batched insert stays as it was) and get it here, in the same
// transaction.
func (t *wtx) keepAttachment(id int64, m *Message) error {
	if m.Attachment == nil {
		return nil
	}
	var preview any
	if len(m.FilePreview) > 0 {
		preview = m.FilePreview
	}
	_, err := t.exec("attachmentKeep", append(attachmentArgs(id, m.Attachment), preview)...)
	return err
}

// maxPreview bounds a kept preview (bytes).
const maxPreview = 64 << 10

// AttachmentPreview returns the small picture kept with message id's
// attachment (nil when there is none).
func (s *Store) AttachmentPreview(ctx context.Context, id int64) ([]byte, error) {
	var b []byte
	err := s.rdb.QueryRowContext(ctx, `SELECT att_preview FROM messages WHERE id = ?`, id).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return b, err
}

// SetAttachment replaces the attachment of message id (its upload or
// download moved on), or adds it when the message has none.
func (s *Store) SetAttachment(ctx context.Context, id int64, a Attachment) error {
	if err := checkAttachment(&a); err != nil {
		return err
	}
	err := s.do(ctx, func(t *wtx) error {
		changed, err := t.execChanged("attachmentSet", attachmentArgs(id, &a)...)
		if err == nil && !changed {
			err = ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("attachment of message %d: %w", id, err)
	}
	return nil
}
