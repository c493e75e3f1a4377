// TCP_QUICKACK exists only on Linux; elsewhere the proxy's quick-ACK mode does nothing.

//go:build !linux

package main

import "net"

func quickAck(net.Conn) {}
