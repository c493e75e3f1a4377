// Sending files: a picked file is prepared (app/media: its type sniffed,
// a photo turned upright and downscaled, location and camera metadata
// removed) into the profile's outgoing folder, and a message sharing it is
// queued in the outbox, which uploads it and sends it (outbox_files.go):
// now when connected, else after the next login, exactly once.
package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	"parley/app/media"
	"parley/app/store"
	"parley/xmppclient"
)

// OutgoingDir is the folder of a profile holding the files being sent.
const OutgoingDir = "outgoing"

// SendFile prepares the file at path as opts say and queues a message
// sharing it to peer. It returns the stored message (state queued; its
// attachment waits for its upload). A file over the server's limit, when
// the limit is known, is refused before anything is queued
// (*xmppclient.UploadError, reason UploadTooLarge). Preparing a large photo
// takes a while: call it off the UI goroutine.
func (c *ChatService) SendFile(ctx context.Context, peer, path string, opts media.PrepareOptions) (store.Message, error) {
	p, st, err := c.peerHistory(peer)
	if err != nil {
		return store.Message{}, err
	}
	c.mu.Lock()
	dir, profile := c.dir, c.profile
	c.mu.Unlock()
	if profile != nil { // the account's settings, unless the caller chose
		fs := profile.Settings().Files
		opts.KeepMetadata = opts.KeepMetadata || fs.KeepMetadata
		if opts.MaxSide == 0 {
			opts.MaxSide = fs.MaxSide
		}
	}
	limit := int64(0)
	if client := c.currentClient(); client != nil {
		if svc, err := client.UploadService(ctx); err == nil {
			limit = svc.MaxFileSize
		} else if errors.Is(err, xmppclient.ErrNoUploadService) {
			return store.Message{}, err
		}
	}
	if opts.SizeLimit == 0 {
		opts.SizeLimit = limit
	}
	prep, err := media.Prepare(path, filepath.Join(dir, OutgoingDir), opts)
	if err != nil {
		return store.Message{}, err
	}
	if limit > 0 && prep.Size > limit {
		os.Remove(prep.Path)
		return store.Message{}, &xmppclient.UploadError{Reason: xmppclient.UploadTooLarge, MaxFileSize: limit,
			Err: &xmppclient.StanzaError{Type: "modify", Condition: "not-acceptable"}}
	}
	m := c.outgoingMessage(p, prep.Name)
	m.Attachment = &store.Attachment{Name: prep.Name, MediaType: prep.MediaType, Size: prep.Size, Width: prep.Width,
		Height: prep.Height, Duration: prep.Duration, LocalPath: prep.Path, State: store.AttachmentToUpload}
	m, err = c.queue(ctx, st, m, "file to send")
	if err != nil {
		os.Remove(prep.Path)
	}
	return m, err
}
