// Chat bubbles: the geometry of a message's bubble, whatever it holds: its
// content (the text today, bubble_text.go; an image or a voice message
// beside it later) and the meta line (the time, "edited", the delivery
// ticks) in the bubble's lower right corner, on the last text line when it
// fits. The row widget that draws it is in chatrow.go.
package views

import (
	"image/color"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"parley/app/store"
)

// Bubble geometry.
const (
	bubblePadX    = 10
	bubblePadY    = 6
	bubbleRadius  = 10
	sideMargin    = 12  // between a bubble and the list's edge
	otherSideGap  = 56  // kept free on the other side of a bubble
	maxBubbleW    = 620 // bubbles never get wider
	groupGap      = 2   // above a message that continues a group
	newGroupGap   = 10  // above the first message of a group
	metaGap       = 10  // between the text and the time on the same line
	dayRowH       = 34
	loaderRowH    = 32
	groupInterval = 5 * time.Minute // longer pauses start a new group
)

// bubbleMaxW is the widest a bubble may be in a list of width w.
func bubbleMaxW(w float32) float32 {
	return max(min(w-2*sideMargin-otherSideGap, maxBubbleW), 4*bubblePadX)
}

// tickKind is the delivery mark of an outgoing message.
type tickKind int

const (
	tickNone      tickKind = iota // incoming
	tickQueued                    // ◷ waiting to be sent
	tickSent                      // ✓ the server has it
	tickDelivered                 // ✓✓ the peer's client has it
	tickRead                      // ✓✓ coloured: the peer has seen it
	tickFailed                    // ⚠ not sent
)

func ticksOf(m *store.Message) tickKind {
	if m.Direction != store.Out {
		return tickNone
	}
	switch m.State {
	case store.StateQueued:
		return tickQueued
	case store.StateDelivered:
		return tickDelivered
	case store.StateRead:
		return tickRead
	case store.StateFailed:
		return tickFailed
	}
	return tickSent
}

// layoutKey is what a bubble's layout depends on.
type layoutKey struct {
	att       store.Attachment // zero when the message shares no file
	body      string
	state     store.State
	edited    bool
	retracted bool
	time      int64
	failure   string
	maxW      float32
}

func keyOf(m *store.Message, maxW float32) layoutKey {
	var att store.Attachment
	if m.Attachment != nil {
		att = *m.Attachment
	}
	return layoutKey{att: att, body: m.Body, state: m.State, edited: m.Edited, retracted: m.Retracted, time: m.Time.UnixMilli(),
		failure: m.Error, maxW: maxW}
}

// bubbleLayout is the geometry of one message's bubble.
type bubbleLayout struct {
	key          layoutKey
	text         textLayout
	meta         string
	ticks        tickKind
	metaW, metaH float32
	metaX, metaY float32      // relative to the bubble
	retryX       float32      // where "Retry" starts in a failed message's meta line
	w, h         float32      // the bubble
	media        *mediaLayout // the picture box (nil: none)
	textY        float32      // where the text starts under it
}

// layoutBubble computes the bubble of m for a list of width listW.
func (v *chatView) layoutBubble(m *store.Message, listW float32) *bubbleLayout {
	maxW := bubbleMaxW(listW)
	key := keyOf(m, maxW)
	if l, ok := v.layouts[m.ID]; ok && l.key == key {
		return l
	}
	textW := maxW - 2*bubblePadX
	l := &bubbleLayout{key: key, ticks: ticksOf(m), meta: metaText(m, v.c.loc, true)}
	file := m.Attachment != nil && !m.Retracted
	switch {
	case file && !isPicture(m.Attachment) && isVoice(m.Attachment) && v.c.opts.Voice != nil:
		l.text = v.layoutVoiceText(m, textW)
	case file:
		l.text = v.layoutFileText(m, textW)
	default:
		l.text = v.layoutText(m, textW)
	}
	caption := v.captionSize()
	ms := fyne.MeasureText(l.meta, caption, fyne.TextStyle{})
	if ms.Width+tickWidth(l.ticks, ms.Height) > textW && l.ticks == tickFailed {
		// No room for the reason: a tap on "Not sent" still shows it.
		l.meta = metaText(m, v.c.loc, false)
		ms = fyne.MeasureText(l.meta, caption, fyne.TextStyle{})
	}
	l.metaH = ms.Height
	l.metaW = ms.Width + tickWidth(l.ticks, l.metaH)
	contentW := l.text.w
	if l.text.lastW+metaGap+l.metaW <= textW {
		// On the last line, bottom-aligned with it.
		contentW = max(contentW, l.text.lastW+metaGap+l.metaW)
		l.h = 2*bubblePadY + l.text.h
		l.metaY = bubblePadY + l.text.lastY + l.text.lineH - l.metaH
	} else {
		contentW = max(contentW, l.metaW)
		l.h = 2*bubblePadY + l.text.h + l.metaH
		l.metaY = bubblePadY + l.text.h
	}
	switch {
	case file && isPicture(m.Attachment):
		v.placePicture(l, m.Attachment, textW, &contentW)
	case file && isVoice(m.Attachment) && v.c.opts.Voice != nil:
		v.placeVoice(l, textW, &contentW)
	}
	l.w = contentW + 2*bubblePadX
	l.metaX = l.w - bubblePadX - l.metaW
	l.retryX = l.metaX
	if l.ticks == tickFailed {
		before := strings.TrimSuffix(l.meta, retryWord)
		l.retryX += fyne.MeasureText(before, caption, fyne.TextStyle{}).Width
	}
	v.layouts[m.ID] = l
	return l
}

// tickWidth is the room the ticks take after the time.
func tickWidth(k tickKind, size float32) float32 {
	switch k {
	case tickNone:
		return 0
	case tickDelivered, tickRead:
		return 3 + size*1.45
	}
	return 3 + size
}

// tickIcon is the icon of a delivery mark, coloured by the theme (made
// when needed: theme icons need the app to be running).
func tickIcon(k tickKind) fyne.Resource {
	switch k {
	case tickQueued:
		return theme.NewColoredResource(theme.HistoryIcon(), theme.ColorNamePlaceHolder)
	case tickRead:
		return theme.NewColoredResource(theme.ConfirmIcon(), theme.ColorNamePrimary)
	case tickFailed:
		return theme.NewColoredResource(theme.WarningIcon(), theme.ColorNameError)
	}
	return theme.NewColoredResource(theme.ConfirmIcon(), theme.ColorNamePlaceHolder)
}

// withAlpha is c with alpha a (0-255).
func withAlpha(c color.Color, a uint8) color.Color {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	n.A = a
	return n
}
