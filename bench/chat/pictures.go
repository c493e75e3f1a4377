// pictures.go: a chat with 200 pictures (thumbnails cached, as after they
// were first shown), in the real chat view rendered headless: from
// ChatsView.Open until the first page is listed and every picture on
// screen shows its thumbnail, then a scroll through the whole chat, one
// painted frame per step. Goals: the first screen under 50 ms, no frame
// over 50 ms. Its resident memory, in the real app, is a case of the
// memory benchmark (goal < 250 MB).
package main

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"slices"
	"time"

	"fyne.io/fyne/v2/widget"

	"parley/app"
	"parley/app/media"
	"parley/app/store"
)

const (
	picsPeer  = "pics@example.org"
	picsCount = 200
	picsVer   = 2 // bump when the generated profile changes
)

// picturesProfile returns a profile whose history holds picsCount
// pictures with picsPeer (half each way, a caption line every tenth),
// their files and thumbnails in place, generating it once into data.
func picturesProfile(ctx context.Context, data string) (string, error) {
	dir := filepath.Join(data, fmt.Sprintf("pictures-%d-v%d", picsCount, picsVer))
	marker := filepath.Join(dir, "generated")
	if _, err := os.Stat(marker); err == nil {
		return dir, nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if _, err := app.OpenProfile(dir); err != nil {
		return "", err
	}
	files := filepath.Join(dir, "files")
	if err := os.MkdirAll(files, 0o700); err != nil {
		return "", err
	}
	// One photo-like picture, 1200 × 900, and its thumbnail: copied for each
	// message (the view reads each file as its own).
	pic := filepath.Join(files, "source.jpg")
	img := image.NewRGBA(image.Rect(0, 0, 1200, 900))
	for y := range 900 {
		for x := range 1200 {
			img.SetRGBA(x, y, color.RGBA{uint8(x / 5), uint8(y / 4), uint8((x + y) / 9), 255})
		}
	}
	f, err := os.Create(pic)
	if err != nil {
		return "", err
	}
	err = jpeg.Encode(f, img, &jpeg.Options{Quality: 85})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	// The thumbnail as the chat view asks for it on a screen of scale 1:
	// the box of a 1200 × 900 picture, 240 × 180.
	const side = 240
	thumb := filepath.Join(files, "source-thumb.jpg")
	if _, _, err := media.Thumbnail(pic, thumb, side); err != nil {
		return "", err
	}
	st, err := store.Open(ctx, filepath.Join(dir, app.HistoryFile), store.Options{})
	if err != nil {
		return "", err
	}
	defer st.Close()
	base := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	var msgs []store.Message
	for i := range picsCount {
		path := filepath.Join(files, fmt.Sprintf("pic-%03d.jpg", i))
		if err := copyFile(pic, path); err != nil {
			return "", err
		}
		id := fmt.Sprintf("pic-%03d", i)
		url := "https://upload.example.org/pics/" + id + ".jpg"
		m := store.Message{Conversation: picsPeer, Body: url, Time: base.Add(time.Duration(i) * 7 * time.Minute),
			Type: store.TypeChat, OriginID: id, MessageID: id,
			Attachment: &store.Attachment{URL: url, Name: id + ".jpg", MediaType: "image/jpeg", Size: 200_000,
				Width: 1200, Height: 900, LocalPath: path, State: store.AttachmentDownloaded}}
		if i%2 == 0 {
			m.Direction, m.Sender = store.In, picsPeer+"/phone"
		} else {
			m.Direction, m.Sender, m.State = store.Out, "me@example.org/parley", store.StateRead
			m.Attachment.State = store.AttachmentUploaded
		}
		msgs = append(msgs, m)
		if i%10 == 0 {
			msgs = append(msgs, store.Message{Conversation: picsPeer, Direction: store.In, Sender: picsPeer + "/phone",
				Body: fmt.Sprintf("Here are the pictures from day %d", i/10+1), Time: m.Time.Add(time.Second), Type: store.TypeChat})
		}
	}
	saved, err := st.SaveBatch(ctx, msgs)
	if err != nil {
		return "", err
	}
	if _, err := st.AcceptConversation(ctx, picsPeer); err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Join(dir, app.ThumbDir), 0o700); err != nil {
		return "", err
	}
	for i, s := range saved {
		if msgs[i].Attachment == nil {
			continue
		}
		if err := copyFile(thumb, filepath.Join(dir, app.ThumbDir, fmt.Sprintf("%d-%d.jpg", s.ID, side))); err != nil {
			return "", err
		}
	}
	return dir, os.WriteFile(marker, []byte(fmt.Sprintf("v%d %d pictures\n", picsVer, picsCount)), 0o600)
}

func benchPictures(ctx context.Context, o options) error {
	generated, err := picturesProfile(ctx, o.data)
	if err != nil {
		return err
	}
	dir, remove, err := scratchCopy(generated, "pictures")
	if err != nil {
		return err
	}
	defer remove()
	svc, err := openService(dir)
	if err != nil {
		return err
	}
	defer svc.Close()
	r := newChatRendered(svc)
	defer r.cv.Stop()
	if err := r.waitList("the conversation list", "", func(n int) bool { return n == 1 }); err != nil {
		return err
	}
	r.win.Canvas().Capture()
	var prof profiler
	prof.prefix = o.cpuprofile
	prof.start("pictures")
	defer prof.stop()
	t0 := time.Now()
	r.cv.Open(picsPeer, "")
	if err := r.waitList("the chat", picsPeer, func(n int) bool { return n > 10 }); err != nil {
		return err
	}
	listed := time.Since(t0)
	// The list asks for the thumbnails it shows first as it is built; the
	// first screen is painted once they are here.
	if err := r.ui.Pump(time.Minute, func() bool { return r.cv.PicturesLoading() == 0 }); err != nil {
		return fmt.Errorf("the thumbnails on screen: %w", err)
	}
	loaded := time.Since(t0)
	r.win.Canvas().Capture()
	first := time.Since(t0)
	if err := r.ui.Pump(time.Minute, func() bool { return r.cv.PicturesLoading() == 0 }); err != nil {
		return fmt.Errorf("the thumbnails on screen: %w", err)
	}
	missed := r.cv.PicturesLoading() // asked for only as the rows were drawn (none, if the preload saw them all)

	// Scroll from the end to the start, a third of the window per step,
	// then back: each step is one frame (the scroll, then the paint).
	var chat *listOf
	for _, l := range lists(r.win.Content()) {
		if l.Length() > 10 {
			chat = &listOf{l}
		}
	}
	if chat == nil {
		return fmt.Errorf("no chat list on screen")
	}
	var frames []time.Duration
	step := winSize.Height / 3
	top := chat.l.GetScrollOffset()
	for off := top; off > 0; off -= step {
		frames = append(frames, r.frame(chat, max(off-step, 0)))
	}
	for off := float32(0); off < top; off += step {
		frames = append(frames, r.frame(chat, min(off+step, top)))
	}
	if err := r.ui.Pump(time.Minute, func() bool { return r.cv.PicturesLoading() == 0 }); err != nil {
		return fmt.Errorf("the thumbnails after the scroll: %w", err)
	}
	slices.Sort(frames)
	worst := frames[len(frames)-1]
	fmt.Printf("### A chat of %d pictures (thumbnails cached), in the chat view\n\n", picsCount)
	fmt.Printf("**Goals:** first screen under 50 ms; no scroll frame over 50 ms. **%s, %s:** first screen with its pictures %s (first page listed in %s, its thumbnails in %s, then one paint); %d scroll frames, median %s, worst %s.\n\n",
		verdict(first < 50*time.Millisecond), verdict(worst < 50*time.Millisecond), fmtDur(first), fmtDur(listed), fmtDur(loaded),
		len(frames), fmtDur(frames[len(frames)/2]), fmtDur(worst))
	if missed > 0 {
		fmt.Printf("(%d thumbnails of the first screen were asked for only when drawn.)\n\n", missed)
	}
	fmt.Printf("Fyne's test driver (software painter), 900x650 window; a frame is one scroll of a third of the window and its paint (Capture); the thumbnails (JPEGs of the boxes' size, 240 × 180, cached on disk) are read and decoded off the UI goroutine. %d picture messages each way alternating, with a text every tenth. Machine: %s.\n\n", picsCount, machine())
	return nil
}

// listOf is the chat's list.
type listOf struct{ l *widget.List }

// frame scrolls the chat to off and paints the window, and returns how
// long that took; then (untimed) it lets the thumbnails asked for arrive,
// as the next frames would show them.
func (r *chatRendered) frame(chat *listOf, off float32) time.Duration {
	t0 := time.Now()
	chat.l.ScrollToOffset(off)
	r.win.Canvas().Capture()
	d := time.Since(t0)
	r.ui.Drain(5 * time.Millisecond)
	return d
}
