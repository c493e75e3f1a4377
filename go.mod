module parley

go 1.26.8

require (
	fyne.io/fyne/v2 v2.8.1
	github.com/faiface/beep v1.1.0
	github.com/xdg-go/scram v1.4.0
	github.com/zalando/go-keyring v0.2.8
	gosrc.io/xmpp v0.5.1
)

require (
	github.com/danieljoos/wincred v1.2.3 // indirect
	github.com/godbus/dbus/v5 v5.2.2 // indirect
	github.com/google/uuid v1.1.1 // indirect
	github.com/xdg-go/stringprep v1.0.4 // indirect
	golang.org/x/sys v0.30.0 // indirect
	golang.org/x/text v0.22.0 // indirect
)
