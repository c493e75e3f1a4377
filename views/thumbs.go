// The thumbnails of the open chat's pictures: asked for by the rows as
// they show (get never blocks), made or read by the chat service off the
// UI goroutine, decoded there too, and handed back to the row through do.
// What is not fetched yet shows the small picture its sender sent with it
// when there is one (Dino does), and says why in a few words ("Click to
// download").
package views

import (
	"errors"
	"image"
	_ "image/jpeg" // thumbnails are JPEG
	"os"

	"parley/app"
	"parley/app/media"
)

// thumbState is one message's thumbnail.
type thumbState struct {
	img     image.Image
	why     string // when there is no image: what the box says
	loading bool
}

// thumbCache holds the open chat's thumbnails, by message id; it runs on
// the UI goroutine.
type thumbCache struct {
	v     *chatView
	items map[int64]*thumbState
}

func newThumbCache(v *chatView) *thumbCache { return &thumbCache{v: v, items: map[int64]*thumbState{}} }

// get returns the thumbnail of message id, or nil and what the box shows
// meanwhile (a load starts if none ran).
func (c *thumbCache) get(id int64) (image.Image, string) {
	if s, ok := c.items[id]; ok {
		return s.img, s.why
	}
	s := &thumbState{loading: true, why: "Loading…"}
	c.items[id] = s
	svc, ctx, v := c.v.c.svc, c.v.c.ctx, c.v
	type loaded struct {
		img image.Image
		err error // why the picture itself is not shown
	}
	inBackground(v.c.do, func() (loaded, error) {
		path, err := svc.Thumbnail(ctx, id)
		if err != nil {
			// Not fetched: the sender's preview, if any, meanwhile.
			if p, perr := svc.Preview(ctx, id); perr == nil {
				img, _ := decodeFile(p)
				return loaded{img, err}, nil
			}
			return loaded{nil, err}, nil
		}
		img, err := decodeFile(path)
		return loaded{img, err}, nil
	}, func(l loaded, _ error) {
		if c.items[id] != s {
			return // forgotten meanwhile
		}
		s.loading, s.img, s.why = false, l.img, thumbNote(l.err)
		v.refreshMessage(id)
	})
	return nil, s.why
}

// decodeFile decodes the (small) picture at path.
func decodeFile(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	return img, err
}

// forget drops what is known of message id's thumbnail (its file moved
// on: it is asked for again).
func (c *thumbCache) forget(id int64) { delete(c.items, id) }

// clear forgets every thumbnail (another chat).
func (c *thumbCache) clear() { clear(c.items) }

// thumbNote is what a picture's box says when it cannot show it.
func thumbNote(err error) string {
	var tl *media.TooLargeError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, app.ErrNotFromContact):
		return "Click to download"
	case errors.As(err, &tl):
		if tl.Size > 0 {
			return app.FormatSize(tl.Size) + ": click to download"
		}
		return "Large file: click to download"
	}
	return "Cannot be shown"
}
