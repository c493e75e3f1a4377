// Linux TCP_QUICKACK. Servers that do not set TCP_NODELAY (Prosody, for
// one) write the stream header and the features after TLS as two small
// segments; Nagle holds the second until the first is acknowledged, and the
// client's delayed ACK waits 40 ms. The same stall hits the tail of large
// replies (a big roster, an archive page). Asking the kernel to acknowledge
// at once before each read removes it (measured: login 50 ms -> about 10 ms
// on loopback); it costs one setsockopt per read.
package xmppclient

import (
	"net"
	"syscall"
)

// quickAckConn sets TCP_QUICKACK before each read.
type quickAckConn struct {
	net.Conn
	raw syscall.RawConn
}

func withQuickAck(nc net.Conn) net.Conn {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nc
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return nc
	}
	return &quickAckConn{Conn: nc, raw: raw}
}

func (q *quickAckConn) Read(p []byte) (int, error) {
	_ = q.raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
	return q.Conn.Read(p)
}
