//go:build !linux

// TCP_QUICKACK exists only on Linux; elsewhere the login runs without it.
package xmppclient

import "net"

func withQuickAck(nc net.Conn) net.Conn { return nc }
