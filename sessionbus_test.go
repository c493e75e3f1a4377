// Tests of sessionBusReachable: a listening socket is a bus, a path with
// nothing behind it is not, and with no address the runtime folder's bus
// is looked for.
package main

import (
	"net"
	"path/filepath"
	"testing"
)

func TestSessionBusReachable(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "bus")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+sock+",guid=0123")
	if ok, _ := sessionBusReachable(); !ok {
		t.Error("a listening bus socket was not reachable")
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(dir, "nothing"))
	if ok, at := sessionBusReachable(); ok {
		t.Errorf("a missing socket counted as a bus (%s)", at)
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", dir)
	if ok, at := sessionBusReachable(); !ok || at != "unix:path="+sock {
		t.Errorf("the runtime folder's bus: %v at %q", ok, at)
	}
}
