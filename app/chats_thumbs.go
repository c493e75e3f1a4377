// Thumbnails of the pictures in the chats, for the bubbles: the picture
// is fetched if needed (the same rules as Fetch without asking: a
// contact's, up to the automatic limit) and its thumbnail made once and
// kept in the profile's cache.
package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"parley/app/media"
)

// ThumbSide is the longest side of a thumbnail when the caller names none,
// in pixels (what a bubble shows on a screen of scale 2).
const ThumbSide = 480

// ThumbDir is the folder of a profile holding thumbnails.
var ThumbDir = filepath.Join("cache", "thumbs")

// ErrNotAPicture: the file is no picture Parley can show.
var ErrNotAPicture = errors.New("this file is not a picture Parley can show")

// ErrNoPreview: the sender sent no preview of the file.
var ErrNoPreview = errors.New("no preview came with this file")

// Preview returns the path of a thumbnail made from the small picture the
// sender sent with message id's file (XEP-0264, as Dino sends): what a
// picture looks like before it is fetched.
func (c *ChatService) Preview(ctx context.Context, id int64) (string, error) {
	st, err := c.history()
	if err != nil {
		return "", err
	}
	b, err := st.AttachmentPreview(ctx, id)
	if err != nil {
		return "", err
	}
	if len(b) == 0 {
		return "", ErrNoPreview
	}
	c.mu.Lock()
	dir := filepath.Join(c.dir, ThumbDir)
	c.mu.Unlock()
	dst := filepath.Join(dir, fmt.Sprintf("%d-preview.jpg", id))
	if _, err := os.Stat(dst); err == nil {
		return dst, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	src, err := os.CreateTemp(dir, "preview-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(src.Name())
	_, err = src.Write(b)
	if cerr := src.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	if _, _, err := media.Thumbnail(src.Name(), dst, ThumbSide); err != nil {
		return "", err
	}
	return dst, nil
}

// Thumbnail returns the path of the thumbnail of message id's picture, at
// most side pixels on its longest side (0: ThumbSide; one file is kept per
// size asked for, so a bubble's thumbnail is drawn as it is), fetching the
// picture first when it may be fetched without asking (see Fetch for the
// refusals).
func (c *ChatService) Thumbnail(ctx context.Context, id int64, side int) (string, error) {
	if side <= 0 {
		side = ThumbSide
	}
	a, err := c.Fetch(ctx, id, false)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(a.MediaType, "image/") || a.MediaType == "image/heic" || a.MediaType == "image/svg+xml" {
		return "", ErrNotAPicture
	}
	c.mu.Lock()
	dst := filepath.Join(c.dir, ThumbDir, fmt.Sprintf("%d-%d.jpg", id, side))
	c.mu.Unlock()
	if _, _, err := media.Thumbnail(a.LocalPath, dst, side); err != nil {
		return "", err
	}
	return dst, nil
}
