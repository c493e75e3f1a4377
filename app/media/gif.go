// Animated GIFs: their frames are counted from the file's block structure
// (no frame is decoded), so that one with an absurd number of frames, or
// frames that add up to too many pixels, is refused before anything tries
// to show it.
package media

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// Limits of an animated picture.
const (
	MaxFrames      = 1000
	MaxFramePixels = 1_000_000_000 // frames × width × height
)

// ErrTooManyFrames: an animation over MaxFrames or MaxFramePixels.
var ErrTooManyFrames = errors.New("the animation has too many frames to show safely")

// gifFrames counts the frames of the GIF read from r, stopping as soon as
// there are more than limit.
func gifFrames(r io.Reader, limit int) (int, error) {
	br := bufio.NewReader(r)
	head := make([]byte, 13)
	if _, err := io.ReadFull(br, head); err != nil {
		return 0, err
	}
	if string(head[:3]) != "GIF" {
		return 0, errors.New("not a GIF file")
	}
	if head[10]&0x80 != 0 { // global colour table
		if _, err := br.Discard(3 << (head[10]&7 + 1)); err != nil {
			return 0, err
		}
	}
	frames := 0
	for {
		b, err := br.ReadByte()
		if err != nil {
			return frames, err
		}
		switch b {
		case 0x3b: // trailer
			return frames, nil
		case 0x21: // extension: label, then sub-blocks
			if _, err := br.ReadByte(); err != nil {
				return frames, err
			}
		case 0x2c: // image descriptor, local colour table, LZW code size, sub-blocks
			desc := make([]byte, 9)
			if _, err := io.ReadFull(br, desc); err != nil {
				return frames, err
			}
			if desc[8]&0x80 != 0 {
				if _, err := br.Discard(3 << (desc[8]&7 + 1)); err != nil {
					return frames, err
				}
			}
			if _, err := br.ReadByte(); err != nil {
				return frames, err
			}
			if frames++; frames > limit {
				return frames, nil
			}
		default:
			return frames, fmt.Errorf("damaged GIF: block 0x%02x", b)
		}
		if err := skipSubBlocks(br); err != nil {
			return frames, err
		}
	}
}

func skipSubBlocks(br *bufio.Reader) error {
	for {
		n, err := br.ReadByte()
		if err != nil || n == 0 {
			return err
		}
		if _, err := br.Discard(int(n)); err != nil {
			return err
		}
	}
}

// checkAnimation refuses a GIF with too many frames for its size.
func checkAnimation(r io.Reader, w, h int) error {
	limit := MaxFrames
	if per := int64(w) * int64(h); per > 0 {
		limit = int(min(int64(MaxFrames), MaxFramePixels/per))
	}
	n, err := gifFrames(r, limit)
	if err != nil {
		return fmt.Errorf("not a readable animation: %w", err)
	}
	if n > limit {
		return fmt.Errorf("%w (more than %d)", ErrTooManyFrames, limit)
	}
	return nil
}
