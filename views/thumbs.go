// The thumbnails of the open chat's pictures: asked for by the rows as
// they show (get never blocks), made or read by the chat service off the
// UI goroutine, decoded there too, and handed back to the row through do.
// What is not fetched yet shows the small picture its sender sent with it
// when there is one (Dino does), and says why in a few words ("Click to
// download"). A thumbnail is scaled once, off the UI goroutine, to the
// pixels its box covers: the painter then draws it as it is, frame after
// frame, instead of scaling a JPEG's colours on every paint (measured:
// that scaling was most of a scroll frame).
package views

import (
	"errors"
	"image"
	_ "image/jpeg" // thumbnails are JPEG
	"os"

	xdraw "golang.org/x/image/draw"

	"parley/app"
	"parley/app/media"
)

// thumbState is one message's thumbnail.
type thumbState struct {
	img     image.Image
	why     string // when there is no image: what the box says
	loading bool
	w, h    int // the pixels it was scaled to
}

// thumbCache holds the open chat's thumbnails, by message id; it runs on
// the UI goroutine.
type thumbCache struct {
	v     *chatView
	items map[int64]*thumbState
}

func newThumbCache(v *chatView) *thumbCache { return &thumbCache{v: v, items: map[int64]*thumbState{}} }

// get returns the thumbnail of message id scaled to w × h pixels, or nil
// and what the box shows meanwhile (a load starts if none ran, or if the
// one loaded was for another size).
func (c *thumbCache) get(id int64, w, h int) (image.Image, string) {
	if s, ok := c.items[id]; ok && (s.loading || s.img == nil || (s.w == w && s.h == h)) {
		return s.img, s.why
	}
	s := &thumbState{loading: true, why: "Loading…", w: w, h: h}
	c.items[id] = s
	svc, ctx, v := c.v.c.svc, c.v.c.ctx, c.v
	type loaded struct {
		img image.Image
		err error // why the picture itself is not shown
	}
	inBackground(v.c.do, func() (loaded, error) {
		path, err := svc.Thumbnail(ctx, id, max(w, h))
		if err != nil {
			// Not fetched: the sender's preview, if any, meanwhile.
			if p, perr := svc.Preview(ctx, id); perr == nil {
				img, _ := decodeFile(p, w, h)
				return loaded{img, err}, nil
			}
			return loaded{nil, err}, nil
		}
		img, err := decodeFile(path, w, h)
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

// decodeFile decodes the (small) picture at path, scaled to fit w × h
// pixels (0: as it is).
func decodeFile(path string, w, h int) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil || w <= 0 || h <= 0 {
		return img, err
	}
	b := img.Bounds()
	if max(b.Dx()-w, w-b.Dx()) <= 1 && max(b.Dy()-h, h-b.Dy()) <= 1 {
		return img, nil // made at this size: drawn as it is
	}
	scale := min(float64(w)/float64(b.Dx()), float64(h)/float64(b.Dy()))
	dst := image.NewNRGBA(image.Rect(0, 0, max(int(float64(b.Dx())*scale+0.5), 1), max(int(float64(b.Dy())*scale+0.5), 1)))
	xdraw.CatmullRom.Scale(dst, dst.Bounds(), img, b, xdraw.Src, nil)
	return dst, nil
}

// preloadThumbs asks for the thumbnails of the pictures the list will
// show first (around a), before its rows are drawn: they load while the
// first frame is laid out and painted.
func (v *chatView) preloadThumbs(a anchor) {
	if v.width <= 0 || len(v.rows) == 0 {
		return
	}
	end := len(v.rows) - 1
	if r, ok := v.rowByID[a.msgID]; ok && !a.bottom {
		end = min(r+4, end)
	}
	scale := v.c.win.Canvas().Scale()
	budget := 2 * v.c.win.Canvas().Size().Height // a screen and more
	for i := end; i >= 0 && budget > 0; i-- {
		r := &v.rows[i]
		budget -= r.h
		if r.kind == rowMsg && r.lay != nil && r.lay.media != nil {
			m := r.lay.media
			v.thumbs.get(v.msgs[r.msg].ID, int(m.w*scale+0.5), int(m.h*scale+0.5))
		}
	}
}

// loading counts the thumbnails asked for and not loaded yet.
func (c *thumbCache) loading() int {
	n := 0
	for _, s := range c.items {
		if s.loading {
			n++
		}
	}
	return n
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
	case errors.Is(err, app.ErrNotFromContact), errors.Is(err, app.ErrAutoFetchOff):
		return "Click to download"
	case errors.As(err, &tl):
		if tl.Size > 0 {
			return app.FormatSize(tl.Size) + ": click to download"
		}
		return "Large file: click to download"
	}
	return "Cannot be shown"
}
