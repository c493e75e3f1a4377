// The text of a message bubble: its body laid out with the styling
// (textlayout.go), a retracted message's notice, and a very long body cut
// to its beginning with "Show all…", which shows it whole, page by page,
// so no message can stall the window. Another kind of bubble (an image, a
// voice message) lays out its own content beside this one.
package views

import (
	"fmt"
	"image/color"
	"strings"
	"unicode/utf8"

	"parley/app"
	"parley/app/store"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// A bubble lays out at most bubbleMaxRunes characters of a body; a longer
// one ends in "…" and a "Show all…" line. (Servers let bodies of 256 KB
// through; laying all of one out would take a noticeable time on every
// width change.)
const (
	bubbleMaxRunes = 4000
	showAllLink    = "parley:show-all" // the url of the "Show all…" run
)

// layoutText lays out the text of m's bubble within width w: its body
// with the styling, cut when very long, or the notice of a retraction.
func (v *chatView) layoutText(m *store.Message, w float32) textLayout {
	tm := v.measurer()
	if m.Retracted {
		return tm.layoutPlain([]piece{{text: retractedText, style: runItalic | runSubdued}}, w)
	}
	body, cut := bubbleBody(m.Body)
	l := tm.layoutBlocks(app.ParseStyling(body), w)
	if cut {
		tm.appendLine(&l, piece{text: showAllLabel(m.Body), style: runLink, url: showAllLink}, w)
	}
	return l
}

// bubbleBody is the part of body a bubble lays out, and whether it is cut.
// The cut falls on a space or line break near the limit when there is one.
func bubbleBody(body string) (string, bool) {
	if len(body) <= bubbleMaxRunes {
		return body, false // bytes bound runes
	}
	n := 0
	for i := range body {
		if n == bubbleMaxRunes {
			if j := strings.LastIndexAny(body[:i], " \n"); j > 0 && j >= i-80 {
				i = j
			}
			return strings.TrimRight(body[:i], " \n") + "…", true
		}
		n++
	}
	return body, false
}

// showAllLabel is the action under a cut body.
func showAllLabel(body string) string {
	return fmt.Sprintf("Show all (%d KB)…", (len(body)+1023)/1024)
}

// retractedText stands in for a retracted message's body.
const retractedText = "message retracted"

// wholeTextPage is how much of a long message the "Show all…" dialog holds
// at once: a Fyne entry lays out its whole text on every change, which
// takes seconds for a 256 KB body.
const wholeTextPage = 8000

// textPages cuts text into pages of at most size bytes, each ending at a
// line break or space in its last quarter when there is one, else at a
// character boundary.
func textPages(text string, size int) []string {
	var pages []string
	for len(text) > size {
		cut := size
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		if j := strings.LastIndexAny(text[:cut], "\n "); j >= size*3/4 {
			cut = j + 1
		}
		pages = append(pages, text[:cut])
		text = text[cut:]
	}
	return append(pages, text)
}

// showWholeText shows a long message's text page by page, selectable, with
// a button that copies all of it.
func showWholeText(v *chatView, m store.Message) {
	text := plainText(m)
	pages := textPages(text, wholeTextPage)
	page := 0
	e := widget.NewMultiLineEntry()
	e.Wrapping = fyne.TextWrapWord
	e.OnChanged = func(s string) { // a copy to select from, not to edit
		if s != pages[page] {
			e.SetText(pages[page])
		}
	}
	where := widget.NewLabel("")
	prev := widget.NewButtonWithIcon("", theme.NavigateBackIcon(), nil)
	next := widget.NewButtonWithIcon("", theme.NavigateNextIcon(), nil)
	show := func(p int) {
		page = p
		e.SetText(pages[p])
		where.SetText(fmt.Sprintf("Part %d of %d", p+1, len(pages)))
		prev.Enable()
		next.Enable()
		if p == 0 {
			prev.Disable()
		}
		if p == len(pages)-1 {
			next.Disable()
		}
	}
	prev.OnTapped = func() { show(max(page-1, 0)) }
	next.OnTapped = func() { show(min(page+1, len(pages)-1)) }
	copyAll := widget.NewButtonWithIcon("Copy all", theme.ContentCopyIcon(), func() {
		fyne.CurrentApp().Clipboard().SetContent(text)
	})
	show(0)
	bar := container.NewHBox(prev, where, next, layout.NewSpacer(), copyAll)
	d := dialog.NewCustom("Message from "+m.Time.In(v.c.loc).Format("2 Jan 2006 15:04"), "Close",
		container.NewBorder(nil, bar, nil, nil, e), v.c.win)
	d.Resize(fyne.NewSize(560, 420))
	d.Show()
	v.c.win.Canvas().Focus(e)
}

// plainText is what "Copy" copies when nothing in the message is selected
// (and when all of it is): the body, or the retraction notice.
func plainText(m store.Message) string {
	if m.Retracted {
		return retractedText
	}
	return strings.TrimRight(m.Body, "\n")
}

// setText shows the text of the bubble: its runs, the decorations of the
// styling (quote bars, code backgrounds) and the selection's highlight.
func (rv *chatRowView) setText(lay *bubbleLayout, col func(fyne.ThemeColorName) color.Color) {
	for i, d := range lay.text.decos {
		r := rv.decos[i]
		if d.kind == decoQuoteBar {
			r.FillColor = col(theme.ColorNamePrimary)
			r.CornerRadius = 1
		} else {
			r.FillColor = withAlpha(col(theme.ColorNameForeground), 0x14)
			r.CornerRadius = 4
		}
		r.Show()
	}
	for i := range rv.selGeom {
		rv.sels[i].FillColor = col(theme.ColorNameSelection)
		rv.sels[i].Show()
	}
	size := rv.v.measurer().size
	for i, run := range lay.text.runs {
		t := rv.texts[i]
		t.Text = run.text
		t.TextSize = size
		t.TextStyle = run.style.textStyle()
		switch {
		case run.style&runLink != 0:
			t.Color = col(theme.ColorNameHyperlink)
		case run.style&runSubdued != 0:
			t.Color = col(theme.ColorNamePlaceHolder)
		default:
			t.Color = col(theme.ColorNameForeground)
		}
		t.Show()
	}
}

// placeText places the text of the bubble with its top left corner at at.
func (rv *chatRowView) placeText(lay *bubbleLayout, at fyne.Position) {
	for i, d := range lay.text.decos {
		rv.decos[i].Move(fyne.NewPos(at.X+d.x, at.Y+d.y))
		rv.decos[i].Resize(fyne.NewSize(d.w, d.h))
	}
	for i, r := range rv.selGeom {
		rv.sels[i].Move(fyne.NewPos(at.X+r.x, at.Y+r.y))
		rv.sels[i].Resize(fyne.NewSize(r.w, r.h))
	}
	for i, run := range lay.text.runs {
		rv.texts[i].Move(fyne.NewPos(at.X+run.x, at.Y+run.y))
		rv.texts[i].Resize(fyne.NewSize(run.w+1, lay.text.lineH))
	}
}

// linkAt is the link under a position in the row ("" if none).
func (rv *chatRowView) linkAt(p fyne.Position) string {
	if rv.row.kind != rowMsg || rv.row.lay == nil {
		return ""
	}
	lay := rv.row.lay
	o := rv.textOrigin()
	x, y := p.X-o.X, p.Y-o.Y
	for _, run := range lay.text.runs {
		if run.url != "" && x >= run.x && x < run.x+run.w && y >= run.y && y < run.y+lay.text.lineH {
			return run.url
		}
	}
	return ""
}
