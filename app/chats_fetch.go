// Fetching the files others share (the view asks when it shows one): a
// file from a contact is fetched by itself up to a size (default 10 MB);
// a larger one, or one from someone not in the roster (fetching tells them
// the user's IP address), only when the user asks. The file goes through
// app/media's checks (http and https only, the size enforced while
// reading, the type sniffed, a picture's header read first) into the
// profile's cache, which keeps to a size cap (default 1 GiB). A refusal
// is kept with the message, in words, so the chat says why.
package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"

	"parley/app/media"
	"parley/app/store"
)

// Defaults of fetching.
const (
	DefaultAutoFetchLimit = 10_000_000 // fetched without asking, from contacts (10 MB)
	DefaultCacheSize      = 1 << 30    // the cache of fetched files
	maxFetches            = 3          // at once
)

// CacheDir is the folder of a profile holding fetched files.
var CacheDir = filepath.Join("cache", "files")

// ErrNotFromContact: the file comes from someone not in the roster, so it
// is fetched only when the user asks.
var ErrNotFromContact = errors.New("files from people who are not in your contacts are downloaded only when you ask")

// ErrAutoFetchOff: the account's settings fetch no file without asking.
var ErrAutoFetchOff = errors.New("automatic downloads are off: files are downloaded when you click")

// fetcher is the chat service's part for fetching: the limits, the files
// being fetched (one fetch per message at a time) and the slots.
type fetcher struct {
	autoLimit, cacheSize int64
	cache                media.Cache // without Dir: each fetch sets the profile's

	mu      sync.Mutex
	running map[int64]*fetchRun // by message row id
	slots   chan struct{}
}

// fetchRun is one message's fetch under way.
type fetchRun struct {
	done      chan struct{} // closed when it ends
	cancel    context.CancelFunc
	cancelled bool // by the user (CancelFile)
}

// stop cancels the fetch of message id, if one runs (CancelFile).
func (f *fetcher) stop(id int64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	run, ok := f.running[id]
	if ok {
		run.cancelled = true
		run.cancel()
	}
	return ok
}

func newFetcher(autoLimit, cacheSize int64) *fetcher {
	if autoLimit <= 0 {
		autoLimit = DefaultAutoFetchLimit
	}
	if cacheSize <= 0 {
		cacheSize = DefaultCacheSize
	}
	return &fetcher{autoLimit: autoLimit, cacheSize: cacheSize, running: map[int64]*fetchRun{},
		slots: make(chan struct{}, maxFetches), cache: media.Cache{MaxBytes: cacheSize, HTTP: media.NewHTTPClient()}}
}

// fileSettings are the account's file settings (zero without a profile).
func (c *ChatService) fileSettings() FileSettings {
	c.mu.Lock()
	p := c.profile
	c.mu.Unlock()
	if p == nil {
		return FileSettings{}
	}
	return p.Settings().Files
}

// limits are the automatic fetch limit and the cache's cap: the account's
// settings, else the service's options. An automatic limit of -1 fetches
// nothing without asking.
func (f *fetcher) limits(s FileSettings) (auto, cache int64) {
	auto, cache = f.autoLimit, f.cacheSize
	if s.AutoFetchLimit != 0 {
		auto = s.AutoFetchLimit
	}
	if s.CacheSize > 0 {
		cache = s.CacheSize
	}
	return auto, cache
}

// Fetch makes the file of message id local and returns its attachment as
// kept then. asked says the user asked for it (a click): without, only a
// contact's file up to the automatic limit is fetched, else it returns
// ErrNotFromContact or a *media.TooLargeError and changes nothing. Other
// refusals (not http(s), an encrypted file, a picture too large to open,
// the server's error) are kept with the message (AttachmentFailed, with
// the reason) and returned.
func (c *ChatService) Fetch(ctx context.Context, id int64, asked bool) (store.Attachment, error) {
	st, err := c.history()
	if err != nil {
		return store.Attachment{}, err
	}
	f := c.fetch
	for {
		m, err := st.Get(ctx, id)
		if err != nil {
			return store.Attachment{}, err
		}
		a := m.Attachment
		if a == nil {
			return store.Attachment{}, errors.New("this message shares no file")
		}
		if a.LocalPath != "" && (a.State == store.AttachmentDownloaded || m.Direction == store.Out) {
			if _, err := os.Stat(a.LocalPath); err == nil {
				return *a, nil
			}
		}
		if !asked && m.Direction == store.In && (c.inRoster == nil || !c.inRoster(m.Conversation)) {
			return *a, ErrNotFromContact
		}
		if auto, _ := f.limits(c.fileSettings()); !asked && auto < 0 {
			return *a, ErrAutoFetchOff
		}
		f.mu.Lock()
		other, busy := f.running[id]
		if !busy {
			runCtx, cancel := context.WithCancel(ctx)
			run := &fetchRun{done: make(chan struct{}), cancel: cancel}
			f.running[id] = run
			f.mu.Unlock()
			got, err := c.fetchNow(runCtx, st, m, asked)
			cancel()
			f.mu.Lock()
			delete(f.running, id)
			if run.cancelled && err != nil {
				err = ErrDownloadCancelled // nothing kept: a click fetches it again
			}
			f.mu.Unlock()
			close(run.done)
			return got, err
		}
		f.mu.Unlock()
		select { // another fetch of it runs: see what it did
		case <-other.done:
		case <-ctx.Done():
			return *a, ctx.Err()
		}
	}
}

// fetchNow fetches m's file (one of maxFetches at once) and keeps the
// outcome with m.
func (c *ChatService) fetchNow(ctx context.Context, st *store.Store, m store.Message, asked bool) (store.Attachment, error) {
	f := c.fetch
	a := *m.Attachment
	select {
	case f.slots <- struct{}{}:
		defer func() { <-f.slots }()
	case <-ctx.Done():
		return a, ctx.Err()
	}
	limit, cacheSize := f.limits(c.fileSettings())
	if asked {
		limit = cacheSize
	}
	cache := f.cache
	cache.MaxBytes = cacheSize
	c.mu.Lock()
	cache.Dir = filepath.Join(c.dir, CacheDir)
	c.mu.Unlock()
	got, err := cache.Fetch(ctx, a.URL, limit, func(done, total int64) {
		c.transferred(m.ID, m.Conversation, Transfer{Done: done, Total: total})
	})
	c.transferred(m.ID, m.Conversation, transferEnded)
	var tooLarge *media.TooLargeError
	switch {
	case err == nil:
		a.LocalPath, a.MediaType, a.Size, a.Width, a.Height = got.Path, got.MediaType, got.Size, got.Width, got.Height
		a.Duration = got.Duration
		a.State, a.Error = store.AttachmentDownloaded, ""
	case ctx.Err() != nil, !asked && errors.As(err, &tooLarge):
		return a, err // nothing to keep: it may be fetched later, or when asked
	default:
		a.State, a.Error = store.AttachmentFailed, UserMessage(err)
	}
	if serr := st.SetAttachment(context.WithoutCancel(ctx), m.ID, a); serr != nil {
		return a, errors.Join(err, serr)
	}
	c.notify(ChatChange{Peers: []string{m.Conversation}})
	return a, err
}
