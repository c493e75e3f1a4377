// The outbox's files: a message sharing a file (outFile) is uploaded
// before it is written (XEP-0363: the service found for the session, a
// slot, the HTTP PUT streamed from the profile's copy of the file), and
// the URL it got is kept in the history before the message goes out with
// that URL as its body and as its XEP-0066 OOB URL, which is what every
// client shows as a file. So a file is uploaded once and sent once: a
// restart before the URL was kept uploads it again (from the start), one
// after it only sends the message. A refusal (too large, no upload
// service, the server's error) marks the message failed with the reason;
// the session ending mid-way leaves it queued for the next one.
package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"

	"parley/app/media"
	"parley/app/store"
	"parley/xmppclient"
)

// Transfer is how far a file is on its way (bytes).
type Transfer struct {
	Done, Total int64
}

// transferEnded is told when a transfer is over, whichever way it ended.
var transferEnded = Transfer{Done: 1, Total: 1}

// fileUploads is the outbox's part for files: the HTTP client and the
// uploads under way.
type fileUploads struct {
	http *http.Client
	// progressed is told of every step of an upload (message row id,
	// conversation): the chat service notifies the views.
	progressed func(id int64, peer string, t Transfer)

	mu      sync.Mutex
	running map[int64]context.CancelFunc // uploads under way, by message row id
}

func newFileUploads() *fileUploads {
	return &fileUploads{http: media.NewHTTPClient(), running: map[int64]context.CancelFunc{}}
}

// ErrCancelled: the user cancelled the file's upload.
var ErrCancelled = errors.New("you cancelled sending this file")

// ErrDownloadCancelled: the user cancelled the file's download.
var ErrDownloadCancelled = errors.New("you cancelled the download")

// cancel stops message id's upload if it runs (true), else false.
func (f *fileUploads) cancel(id int64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	stop, ok := f.running[id]
	if ok {
		stop()
	}
	return ok
}

// readyFile makes an outFile item ready to write: read again from the
// history (ready is false when it is gone or no longer queued), and
// uploaded if it was not yet. A refusal marks the message failed and is
// not an error (the flush goes on with what follows).
func (o *outbox) readyFile(ctx context.Context, client *xmppclient.Client, st *store.Store, it outItem) (cur outItem, ready bool, err error) {
	cur, queued, err := o.current(st, it)
	if err != nil || !queued {
		return it, false, err
	}
	a := cur.msg.Attachment
	if cur.msg.Retracted || a == nil || (a.URL != "" && a.State != store.AttachmentToUpload) {
		return cur, true, nil // retracted while queued, or uploaded already
	}
	url, err := o.upload(ctx, client, cur)
	if err != nil {
		if ctx.Err() != nil {
			return cur, false, err // the session ended: the next one uploads it
		}
		if errors.Is(err, context.Canceled) {
			err = ErrCancelled // by the user: the session goes on
		}
		o.log.Warn("file not sent", "id", cur.id(), "err", err)
		o.stateChanged(st, cur.msg.Conversation, cur.msg.MessageID, store.StateFailed, UserMessage(err))
		return cur, false, nil
	}
	up := *a
	up.URL, up.State = url, store.AttachmentUploaded
	if err := st.SetAttachment(ctx, cur.msg.ID, up); err != nil {
		return cur, false, fmt.Errorf("keep the uploaded file's address: %w", err)
	}
	cur.msg.Attachment = &up
	return cur, true, nil
}

// upload puts the item's file on the account's upload service and
// returns the URL it can be fetched from.
func (o *outbox) upload(ctx context.Context, client *xmppclient.Client, it outItem) (string, error) {
	a := it.msg.Attachment
	if a.LocalPath == "" {
		return "", errors.New("the file to send is no longer there")
	}
	svc, err := client.UploadService(ctx)
	if err != nil {
		return "", err
	}
	name := a.Name
	if name == "" {
		name = filepath.Base(a.LocalPath)
	}
	slot, err := client.RequestUploadSlot(ctx, svc, name, a.Size, a.MediaType)
	if err != nil {
		return "", err
	}
	id, peer := it.msg.ID, it.msg.Conversation
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	o.files.mu.Lock()
	o.files.running[id] = stop
	o.files.mu.Unlock()
	defer func() {
		o.files.mu.Lock()
		delete(o.files.running, id)
		o.files.mu.Unlock()
	}()
	progress := func(done, total int64) {
		if o.files.progressed != nil {
			o.files.progressed(id, peer, Transfer{Done: done, Total: total})
		}
	}
	// However it ends (sent, failed, cancelled), it is no longer on its way.
	defer progress(transferEnded.Done, transferEnded.Total)
	if err := media.Put(ctx, o.files.http, slot.PutURL, slot.PutHeaders, a.LocalPath, a.MediaType, progress); err != nil {
		return "", err
	}
	return slot.GetURL, nil
}

// fileStanza is a message sharing a file as it goes out: the body is the
// URL and so is the XEP-0066 OOB URL (clients show a file only when the
// two are equal), with a receipt request, markers and <active/>.
func fileStanza(m store.Message) xmppclient.OutgoingMessage {
	o := textStanza(m)
	o.Body, o.OOBURL = m.Attachment.URL, m.Attachment.URL
	return o
}

// CancelFile stops sending message id's file: an upload under way ends,
// and the message (ours, queued) is marked failed ("cancelled"); Retry
// sends it again. A download under way of a received file ends too (its
// Fetch returns ErrDownloadCancelled), keeping nothing: it can be fetched again.
func (c *ChatService) CancelFile(ctx context.Context, id int64) error {
	st, err := c.history()
	if err != nil {
		return err
	}
	if c.out.files.cancel(id) {
		return nil // the upload ends and marks it failed
	}
	if c.fetch.stop(id) {
		return nil // the download ends, the file waits for a click again
	}
	m, err := st.Get(ctx, id)
	if err != nil {
		return err
	}
	if m.Direction != store.Out || m.Attachment == nil || m.State != store.StateQueued {
		return errors.New("this file is not waiting to be sent")
	}
	c.setState(st, m.Conversation, m.MessageID, store.StateFailed, UserMessage(ErrCancelled))
	return nil
}

// transfers are the files on their way, by message row id, for the views
// (ChatService.Transfer).
type transfers struct {
	mu sync.Mutex
	m  map[int64]Transfer
}

// transferred notes an upload's progress and tells the subscribers (the
// coalescer keeps only the latest of each).
func (c *ChatService) transferred(id int64, peer string, t Transfer) {
	c.transfers.mu.Lock()
	if c.transfers.m == nil {
		c.transfers.m = map[int64]Transfer{}
	}
	if t.Total > 0 && t.Done >= t.Total {
		delete(c.transfers.m, id)
	} else {
		c.transfers.m[id] = t
	}
	c.transfers.mu.Unlock()
	c.notify(ChatChange{Transfers: map[int64]Transfer{id: t}})
}

// Transfer is how far the file of message id is on its way (ok is false
// when it is not being uploaded now).
func (c *ChatService) Transfer(id int64) (t Transfer, ok bool) {
	c.transfers.mu.Lock()
	defer c.transfers.mu.Unlock()
	t, ok = c.transfers.m[id]
	return t, ok
}
