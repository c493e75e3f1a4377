// What the lists of the app share: the list widget whose rows act on a tap
// (conversations, contacts, search results), the text shown over an empty
// list, and the parts of a row with an avatar and two lines (conversation
// and contact rows).
package views

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// newTapList makes a list without separators whose rows act on a tap
// themselves: keyboard selection (Space on a highlighted row) acts like
// that tap (activate) and leaves nothing selected.
func newTapList(length func() int, create func() fyne.CanvasObject,
	update func(widget.ListItemID, fyne.CanvasObject), activate func(id int)) *widget.List {
	list := widget.NewList(length, create, update)
	list.HideSeparators = true
	list.OnSelected = func(id widget.ListItemID) {
		list.UnselectAll()
		activate(id)
	}
	return list
}

// withEmptyText puts text (quiet, centred, wrapped) over the top of list,
// for when it has no rows: it returns the text's label and the two
// stacked.
func withEmptyText(list *widget.List, text string) (*widget.Label, *fyne.Container) {
	empty := widget.NewLabel(text)
	empty.Alignment = fyne.TextAlignCenter
	empty.Wrapping = fyne.TextWrapWord
	empty.Importance = widget.LowImportance
	return empty, container.NewStack(list, container.NewVBox(empty))
}

// newSelectionMark is the (hidden) highlight behind a selected row.
func newSelectionMark() *canvas.Rectangle {
	r := canvas.NewRectangle(theme.Color(theme.ColorNameSelection))
	r.CornerRadius = theme.SelectionRadiusSize()
	r.Hide()
	return r
}

// showIf shows o, or hides it.
func showIf(o fyne.CanvasObject, show bool) {
	if show {
		o.Show()
	} else {
		o.Hide()
	}
}

// newRowName is the bold first line of a row, cut short with an ellipsis.
func newRowName() *widget.Label {
	l := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.Truncation = fyne.TextTruncateEllipsis
	return l
}

// avatarRow lays a row out: the selection mark behind, the avatar centred
// on the left, then the two lines pulled together (the labels' own
// padding would make them too tall) and centred in the row's height, and
// right (nil: none) centred on the right.
func avatarRow(selected *canvas.Rectangle, avatar *avatarView, top, bottom, right fyne.CanvasObject) fyne.CanvasObject {
	lines := container.New(layout.NewCustomPaddedVBoxLayout(-2*theme.InnerPadding()+2), top, bottom)
	var r fyne.CanvasObject
	if right != nil {
		r = container.NewCenter(right)
	}
	body := container.NewBorder(nil, nil, container.NewCenter(avatar), r,
		container.NewVBox(layout.NewSpacer(), lines, layout.NewSpacer()))
	return container.NewStack(selected, body)
}
