// Avatars in the contacts UI: a cache that decodes avatar bytes (from
// ContactsService.Avatar) off the UI goroutine into small square images and
// keeps the most recently used ones by hash, and the round avatar widget
// that shows either that image or the contact's initials on a circle in
// the contact's colour, with an optional presence dot.
package views

import (
	"bytes"
	"container/list"
	"context"
	"image"
	"image/color"
	"sync"

	// Avatar formats: PNG is mandatory in XEP-0084, JPEG and GIF are common.
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"parley/app"
	"parley/app/notify"
)

const (
	// avatarPixels is the edge of a decoded avatar: twice the largest size
	// shown, so it stays sharp on HiDPI screens.
	avatarPixels = 128
	// avatarMaxSource refuses images with more pixels on an edge (a
	// decompression bomb could otherwise eat the memory).
	avatarMaxSource = 4096
	// avatarCacheSize is how many decoded avatars are kept (~64 KiB each).
	avatarCacheSize = 512
	// avatarWorkers decode in parallel.
	avatarWorkers = 2
)

// avatarCache turns avatar hashes into decoded images. get is called on
// the UI goroutine; a miss queues the hash and returns nil, and when
// decoding finishes onLoaded runs on the UI goroutine (once per burst) so
// the visible rows can ask again.
type avatarCache struct {
	load func(hash string) ([]byte, bool)

	mu      sync.Mutex
	images  map[string]*list.Element // hash -> element of lru holding *avatarEntry
	lru     *list.List               // most recently used first
	bad     map[string]bool          // bytes that do not decode: initials for good
	missing map[string]bool          // no bytes yet: tried again after forget()
	queue   []string                 // hashes to decode, newest last (decoded first)
	queued  map[string]bool
	loaded  *notify.Coalescer[struct{}] // onLoaded on the UI goroutine, once per burst
	wake    chan struct{}
}

type avatarEntry struct {
	hash string
	img  image.Image
}

// newAvatarCache starts the decoding workers; they stop with ctx.
func newAvatarCache(ctx context.Context, load func(string) ([]byte, bool), do func(func()), onLoaded func()) *avatarCache {
	c := &avatarCache{
		load:    load,
		images:  map[string]*list.Element{},
		lru:     list.New(),
		bad:     map[string]bool{},
		missing: map[string]bool{},
		queued:  map[string]bool{},
		wake:    make(chan struct{}, avatarWorkers),
	}
	c.loaded = notify.NewCoalescer(do, nil, func(struct{}) { onLoaded() })
	for range avatarWorkers {
		go c.work(ctx)
	}
	return c
}

// get returns the decoded avatar for hash, or nil when there is none (yet).
func (c *avatarCache) get(hash string) image.Image {
	if hash == "" {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.images[hash]; ok {
		c.lru.MoveToFront(el)
		return el.Value.(*avatarEntry).img
	}
	if c.bad[hash] || c.missing[hash] {
		return nil
	}
	if !c.queued[hash] {
		c.queued[hash] = true
		c.queue = append(c.queue, hash)
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// forget lets hashes that had no bytes be tried again (called when the
// contacts change: the service may have fetched them since).
func (c *avatarCache) forget() {
	c.mu.Lock()
	clear(c.missing)
	c.mu.Unlock()
}

// next takes the most recently requested hash off the queue: those are the
// rows on screen now, while older requests may have scrolled away.
func (c *avatarCache) next() (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.queue)
	if n == 0 {
		return "", false
	}
	h := c.queue[n-1]
	c.queue = c.queue[:n-1]
	return h, true
}

func (c *avatarCache) work(ctx context.Context) {
	for {
		hash, ok := c.next()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-c.wake:
				continue
			}
		}
		if ctx.Err() != nil {
			return
		}
		data, found := c.load(hash)
		var img image.Image
		if found {
			img = decodeAvatar(data)
		}
		c.mu.Lock()
		delete(c.queued, hash)
		switch {
		case !found:
			c.missing[hash] = true
		case img == nil:
			c.bad[hash] = true
		default:
			c.images[hash] = c.lru.PushFront(&avatarEntry{hash: hash, img: img})
			for c.lru.Len() > avatarCacheSize {
				old := c.lru.Remove(c.lru.Back()).(*avatarEntry)
				delete(c.images, old.hash)
			}
		}
		c.mu.Unlock()
		if img != nil {
			c.loaded.Post(struct{}{})
		}
	}
}

// decodeAvatar decodes data and scales the centre square of it to
// avatarPixels (or less, for a smaller image). It returns nil for anything
// that is not a reasonable image.
func decodeAvatar(data []byte) image.Image {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > avatarMaxSource || cfg.Height > avatarMaxSource {
		return nil
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil
	}
	return squareThumbnail(src, avatarPixels)
}

// squareThumbnail crops the centre square of src and scales it down to at
// most size pixels by averaging the source pixels under each target pixel.
func squareThumbnail(src image.Image, size int) *image.NRGBA {
	b := src.Bounds()
	edge := min(b.Dx(), b.Dy())
	x0 := b.Min.X + (b.Dx()-edge)/2
	y0 := b.Min.Y + (b.Dy()-edge)/2
	n := min(size, edge)
	dst := image.NewNRGBA(image.Rect(0, 0, n, n))
	for ty := range n {
		sy0, sy1 := y0+ty*edge/n, y0+(ty+1)*edge/n
		for tx := range n {
			sx0, sx1 := x0+tx*edge/n, x0+(tx+1)*edge/n
			var r, g, bl, a, count uint64
			for sy := sy0; sy < sy1; sy++ {
				for sx := sx0; sx < sx1; sx++ {
					// Premultiplied 16-bit values average correctly.
					cr, cg, cb, ca := src.At(sx, sy).RGBA()
					r, g, bl, a = r+uint64(cr), g+uint64(cg), bl+uint64(cb), a+uint64(ca)
					count++
				}
			}
			c := color.RGBA64{R: uint16(r / count), G: uint16(g / count), B: uint16(bl / count), A: uint16(a / count)}
			dst.Set(tx, ty, c)
		}
	}
	return dst
}

// placeholderColor is the circle's colour when the contact has none.
var placeholderColor = color.RGBA{R: 0x9e, G: 0x9e, B: 0x9e, A: 0xff}

// avatarView is a round avatar: the image when there is one, else the
// initials on a circle in the contact's colour; with an optional presence
// dot at its lower right.
type avatarView struct {
	widget.BaseWidget
	size float32

	circle   *canvas.Circle
	initials *canvas.Text
	image    *canvas.Image
	dotRing  *canvas.Circle
	dot      *canvas.Circle
	showDot  bool
}

func newAvatarView(size float32, showDot bool) *avatarView {
	a := &avatarView{size: size, showDot: showDot}
	a.circle = canvas.NewCircle(colorOffline)
	a.initials = canvas.NewText("", color.White)
	a.initials.TextStyle = fyne.TextStyle{Bold: true}
	a.initials.Alignment = fyne.TextAlignCenter
	a.initials.TextSize = size * 0.4
	a.image = canvas.NewImageFromImage(nil)
	a.image.FillMode = canvas.ImageFillStretch
	a.image.ScaleMode = canvas.ImageScaleSmooth
	a.image.CornerRadius = size / 2
	a.image.Hide()
	a.dotRing = canvas.NewCircle(theme.Color(theme.ColorNameBackground))
	a.dot = canvas.NewCircle(colorOffline)
	if !showDot {
		a.dotRing.Hide()
		a.dot.Hide()
	}
	a.ExtendBaseWidget(a)
	return a
}

// set shows c: its image when img is not nil, else its initials.
func (a *avatarView) set(c *app.Contact, img image.Image) {
	a.setLook(c.Initials, c.Color, img)
	if a.showDot {
		a.dot.FillColor = presenceColor(c.Show)
		a.dot.Refresh()
	}
}

func (a *avatarView) setLook(initials string, col color.RGBA, img image.Image) {
	if img != nil {
		if a.image.Image != img {
			a.image.Image = img
			a.image.Refresh()
		}
		a.image.Show()
		a.circle.Hide()
		a.initials.Hide()
		return
	}
	a.image.Hide()
	a.image.Image = nil
	if col.A == 0 {
		col = placeholderColor
	}
	a.circle.FillColor = col
	a.circle.Show()
	a.circle.Refresh()
	a.initials.Text = initials
	a.initials.Color = textColorOn(col)
	a.initials.Show()
	a.initials.Refresh()
}

// showsImage reports whether the avatar shows an image (not initials).
func (a *avatarView) showsImage() bool { return a.image.Visible() && a.image.Image != nil }

// textColorOn is black or white, whichever reads better on bg.
func textColorOn(bg color.RGBA) color.Color {
	// Rec. 601 luma, good enough to pick black or white.
	if 299*int(bg.R)+587*int(bg.G)+114*int(bg.B) > 150_000 {
		return color.Black
	}
	return color.White
}

// CreateRenderer implements fyne.Widget.
func (a *avatarView) CreateRenderer() fyne.WidgetRenderer {
	return &avatarRenderer{a: a, objects: []fyne.CanvasObject{a.circle, a.initials, a.image, a.dotRing, a.dot}}
}

type avatarRenderer struct {
	a       *avatarView
	objects []fyne.CanvasObject
}

func (r *avatarRenderer) Layout(size fyne.Size) {
	edge := min(size.Width, size.Height, r.a.size)
	pos := fyne.NewPos((size.Width-edge)/2, (size.Height-edge)/2)
	sq := fyne.NewSquareSize(edge)
	for _, o := range []fyne.CanvasObject{r.a.circle, r.a.image} {
		o.Move(pos)
		o.Resize(sq)
	}
	r.a.initials.TextSize = edge * 0.4
	r.a.initials.Move(pos)
	r.a.initials.Resize(sq)
	d := edge * 0.34
	ring := d + 3
	r.a.dotRing.Move(pos.Add(fyne.NewPos(edge-ring+1, edge-ring+1)))
	r.a.dotRing.Resize(fyne.NewSquareSize(ring))
	r.a.dot.Move(pos.Add(fyne.NewPos(edge-d-0.5, edge-d-0.5)))
	r.a.dot.Resize(fyne.NewSquareSize(d))
}

func (r *avatarRenderer) MinSize() fyne.Size { return fyne.NewSquareSize(r.a.size) }

func (r *avatarRenderer) Refresh() {
	r.a.dotRing.FillColor = r.a.Theme().Color(theme.ColorNameBackground, fyne.CurrentApp().Settings().ThemeVariant())
	r.Layout(r.a.Size())
	for _, o := range r.objects {
		o.Refresh()
	}
}

func (r *avatarRenderer) Objects() []fyne.CanvasObject { return r.objects }
func (r *avatarRenderer) Destroy()                     {}
