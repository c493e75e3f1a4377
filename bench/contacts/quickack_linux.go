// TCP_QUICKACK for the timestamping proxy's server-side reads on Linux (see wireProxy): it shows
// the server's roster reply without the delayed-ACK stall Nagle can cause on Prosody's side.
package main

import (
	"net"
	"syscall"
)

// quickAck asks the kernel to acknowledge the next received data at once.
func quickAck(c net.Conn) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return
	}
	if raw, err := tc.SyscallConn(); err == nil {
		_ = raw.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
		})
	}
}
