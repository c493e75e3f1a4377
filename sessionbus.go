// Whether a D-Bus session bus answers (Linux and BSD desktops): desktop
// notifications and Fyne's theme watching go through it. Without one,
// Parley says so once in its log and does not try to notify at all,
// instead of failing on every message.
package main

import (
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// sessionBusReachable reports whether the session bus can be reached,
// and where it was looked for.
func sessionBusReachable() (bool, string) {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		return true, "" // notifications go through the system there
	}
	addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if addr == "" {
		dir := os.Getenv("XDG_RUNTIME_DIR")
		if dir == "" {
			return false, "DBUS_SESSION_BUS_ADDRESS and XDG_RUNTIME_DIR are unset"
		}
		addr = "unix:path=" + filepath.Join(dir, "bus")
	}
	// The address may list several transports; the first unix one decides.
	for _, a := range strings.Split(addr, ";") {
		if !strings.HasPrefix(a, "unix:") {
			continue
		}
		for _, kv := range strings.Split(strings.TrimPrefix(a, "unix:"), ",") {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "abstract":
				conn, err := net.DialTimeout("unix", "@"+v, 500*time.Millisecond)
				if err == nil {
					conn.Close()
					return true, a
				}
				return false, a
			case "path":
				conn, err := net.DialTimeout("unix", v, 500*time.Millisecond)
				if err == nil {
					conn.Close()
					return true, a
				}
				return false, a
			}
		}
	}
	return true, addr // another transport: let D-Bus itself try
}
