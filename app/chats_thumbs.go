// Thumbnails of the pictures in the chats, for the bubbles: the picture
// is fetched if needed (the same rules as Fetch without asking: a
// contact's, up to the automatic limit) and its thumbnail made once and
// kept in the profile's cache.
package app

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"parley/app/media"
)

// ThumbSide is the longest side of a thumbnail, in pixels (twice what a
// bubble shows, for high-density screens).
const ThumbSide = 480

// ThumbDir is the folder of a profile holding thumbnails.
var ThumbDir = filepath.Join("cache", "thumbs")

// ErrNotAPicture: the file is no picture Parley can show.
var ErrNotAPicture = errors.New("this file is not a picture Parley can show")

// Thumbnail returns the path of the thumbnail of message id's picture,
// fetching the picture first when it may be fetched without asking (see
// Fetch for the refusals).
func (c *ChatService) Thumbnail(ctx context.Context, id int64) (string, error) {
	a, err := c.Fetch(ctx, id, false)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(a.MediaType, "image/") || a.MediaType == "image/heic" || a.MediaType == "image/svg+xml" {
		return "", ErrNotAPicture
	}
	c.mu.Lock()
	dst := filepath.Join(c.dir, ThumbDir, fmt.Sprintf("%d.jpg", id))
	c.mu.Unlock()
	if _, _, err := media.Thumbnail(a.LocalPath, dst, ThumbSide); err != nil {
		return "", err
	}
	return dst, nil
}
