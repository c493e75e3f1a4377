// The settings dialog (for now: the account's notice, such as where the
// password is kept, then the voice settings; #13's settings window grows
// from it). The voice settings: which microphone and speaker (listed off
// the UI goroutine: the sound system can be slow or stalled), the format
// voice messages go out in, the longest recording, whether hold-to-talk
// sends at once, and whether the next voice message of a chat follows the
// one that ended. Opened from the header's Settings button or a
// right-click on the microphone button; saved in the account's profile.
package views

import (
	"strconv"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"parley/app"
	"parley/app/voice"
)

// VoiceSettingsService is what the voice settings need of
// *app.VoiceService (Devices blocks: off the UI goroutine).
type VoiceSettingsService interface {
	Settings() app.VoiceSettings
	SetSettings(s app.VoiceSettings) error
	Devices(capture bool) ([]voice.Device, error)
}

var _ VoiceSettingsService = (*app.VoiceService)(nil)

// Choices of the voice settings form.
const (
	systemDefault = "System default"
	formatAACText = "AAC (.m4a): plays everywhere, iPhone too"
	formatOpusTxt = "Ogg Opus (.ogg): smaller; Monal cannot play it"
)

var maxLengths = []int{60, 120, 300, 600, 900}

// voiceSettingsForm is the open form.
type voiceSettingsForm struct {
	svc      VoiceSettingsService
	win      fyne.Window
	do       func(func())
	mic      *widget.Select
	speaker  *widget.Select
	format   *widget.RadioGroup
	maxLen   *widget.Select
	sendNow  *widget.Check
	autoNext *widget.Check
	note     *widget.Label
	micIDs   map[string]string // shown name -> device id
	spkIDs   map[string]string
	dlg      dialog.Dialog
	content  *fyne.Container
}

// showVoiceSettings opens the settings in win: notice (an advisory about
// the account, such as where the password is kept; "" for none) above the
// voice settings.
func showVoiceSettings(win fyne.Window, svc VoiceSettingsService, do func(func()), notice string) *voiceSettingsForm {
	s := svc.Settings()
	f := &voiceSettingsForm{svc: svc, win: win, do: do, micIDs: map[string]string{"": ""}, spkIDs: map[string]string{"": ""}}
	f.mic = widget.NewSelect([]string{systemDefault}, nil)
	f.mic.SetSelected(systemDefault)
	f.speaker = widget.NewSelect([]string{systemDefault}, nil)
	f.speaker.SetSelected(systemDefault)
	f.format = widget.NewRadioGroup([]string{formatAACText, formatOpusTxt}, nil)
	f.format.SetSelected(formatAACText)
	if s.VoiceFormat() == voice.FormatOpus {
		f.format.SetSelected(formatOpusTxt)
	}
	var lens []string
	for _, n := range maxLengths {
		lens = append(lens, minutesText(n))
	}
	f.maxLen = widget.NewSelect(lens, nil)
	f.maxLen.SetSelected(minutesText(int(s.MaxRecording() / time.Second)))
	f.sendNow = widget.NewCheck("Hold-to-talk sends when released (no review)", nil)
	f.sendNow.SetChecked(s.SendAtOnce)
	f.autoNext = widget.NewCheck("Play the next voice message of the chat", nil)
	f.autoNext.SetChecked(!s.NoAutoPlayNext)
	f.note = widget.NewLabel("Looking for microphones and speakers…")
	f.note.Importance = widget.LowImportance
	f.note.Wrapping = fyne.TextWrapWord
	form := widget.NewForm(
		widget.NewFormItem("Microphone", f.mic),
		widget.NewFormItem("Speaker", f.speaker),
		widget.NewFormItem("Send as", f.format),
		widget.NewFormItem("Longest recording", f.maxLen),
	)
	content := container.NewVBox(form, f.sendNow, f.autoNext, f.note)
	if notice != "" {
		n := widget.NewLabel(notice)
		n.Importance = widget.WarningImportance
		n.Wrapping = fyne.TextWrapWord
		content.Objects = append([]fyne.CanvasObject{n, widget.NewSeparator(), widget.NewLabelWithStyle("Voice messages",
			fyne.TextAlignLeading, fyne.TextStyle{Bold: true})}, content.Objects...)
	}
	f.content = content
	f.dlg = dialog.NewCustomConfirm("Settings", "Save", "Cancel", content, func(ok bool) {
		if ok {
			f.save()
		}
	}, win)
	f.dlg.Resize(fyne.NewSize(520, 0))
	f.dlg.Show()
	f.loadDevices(s)
	return f
}

// minutesText is a length in seconds as shown.
func minutesText(secs int) string {
	if secs%60 != 0 {
		return strconv.Itoa(secs) + " seconds"
	}
	if secs == 60 {
		return "1 minute"
	}
	return strconv.Itoa(secs/60) + " minutes"
}

// loadDevices fills the device lists off the UI goroutine.
func (f *voiceSettingsForm) loadDevices(s app.VoiceSettings) {
	type lists struct {
		mics, spks []voice.Device
		err        error
	}
	inBackground(f.do, func() (lists, error) {
		var l lists
		l.mics, l.err = f.svc.Devices(true)
		if l.err == nil {
			l.spks, l.err = f.svc.Devices(false)
		}
		return l, nil
	}, func(l lists, _ error) {
		if l.err != nil {
			f.note.SetText("The sound system did not list its devices: " + voiceProblem(l.err) + " The system default is used.")
			return
		}
		f.note.SetText("")
		f.note.Hide()
		fill(f.mic, f.micIDs, l.mics, s.Microphone)
		fill(f.speaker, f.spkIDs, l.spks, s.Speaker)
	})
}

// fill lists devices in sel (with the system default first) and selects
// the one whose id is chosen.
func fill(sel *widget.Select, ids map[string]string, devs []voice.Device, chosen string) {
	opts, selected := []string{systemDefault}, systemDefault
	for _, d := range devs {
		name := d.Name
		for ids[name] != "" { // two devices with one name
			name += " "
		}
		ids[name] = d.ID
		opts = append(opts, name)
		if d.ID == chosen {
			selected = name
		}
	}
	sel.SetOptions(opts)
	sel.SetSelected(selected)
}

// save stores what the form says.
func (f *voiceSettingsForm) save() {
	s := f.svc.Settings()
	s.Microphone, s.Speaker = "", ""
	if f.mic.Selected != systemDefault {
		s.Microphone = f.micIDs[f.mic.Selected]
	}
	if f.speaker.Selected != systemDefault {
		s.Speaker = f.spkIDs[f.speaker.Selected]
	}
	s.Format = string(voice.FormatAAC)
	if f.format.Selected == formatOpusTxt {
		s.Format = string(voice.FormatOpus)
	}
	for _, n := range maxLengths {
		if minutesText(n) == f.maxLen.Selected {
			s.MaxSeconds = n
		}
	}
	s.SendAtOnce = f.sendNow.Checked
	s.NoAutoPlayNext = !f.autoNext.Checked
	inBackground(f.do, func() (struct{}, error) { return struct{}{}, f.svc.SetSettings(s) }, func(_ struct{}, err error) {
		if err != nil {
			dialog.ShowError(err, f.win)
		}
	})
}
