// The chat list's scroller: it holds the current List and tells the chat
// view its width; a new width lays every row out again in a new list.
package views

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"
)

// chatScroller holds the current List and tells the chat view its width:
// a new width lays every row out again in a new list.
type chatScroller struct {
	widget.BaseWidget
	v       *chatView
	list    *widget.List
	objs    []fyne.CanvasObject
	pending *anchor // a list to build once there is a width
}

func newChatScroller(v *chatView) *chatScroller {
	s := &chatScroller{v: v}
	s.ExtendBaseWidget(s)
	return s
}

func (s *chatScroller) setList(l *widget.List) {
	s.list = l
	if l == nil {
		s.objs = nil
	} else {
		s.objs = []fyne.CanvasObject{l}
		l.Resize(s.Size())
	}
	canvas.Refresh(s)
}

// resized runs on every layout of the scroller.
func (s *chatScroller) resized(size fyne.Size) {
	v := s.v
	if size.Width > 0 && size.Width != v.width {
		old := v.width
		v.width = size.Width
		if s.pending != nil {
			a := *s.pending
			v.newList(a)
			return
		}
		if s.list != nil && bubbleMaxW(old) != bubbleMaxW(size.Width) {
			a := v.captureAnchor()
			s.list.Resize(size)
			v.newList(a)
			return
		}
	}
	if s.list != nil {
		bottom := v.atBottom()
		s.list.Resize(size)
		if bottom && !v.hasNewer {
			s.list.ScrollToBottom()
		}
		v.scrolled()
	}
}

// CreateRenderer implements fyne.Widget.
func (s *chatScroller) CreateRenderer() fyne.WidgetRenderer { return &chatScrollerRenderer{s: s} }

type chatScrollerRenderer struct{ s *chatScroller }

func (r *chatScrollerRenderer) Layout(size fyne.Size) { r.s.resized(size) }

func (r *chatScrollerRenderer) MinSize() fyne.Size { return fyne.NewSize(120, 120) }

func (r *chatScrollerRenderer) Objects() []fyne.CanvasObject { return r.s.objs }

func (r *chatScrollerRenderer) Destroy() {}

func (r *chatScrollerRenderer) Refresh() {
	for _, o := range r.s.objs {
		o.Refresh()
	}
}
