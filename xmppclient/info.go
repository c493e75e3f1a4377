// ConnInfo describes the current connection for diagnostics and the UI's
// connection details: addresses, TLS, the login mechanism, and whether
// stream management is on and the session was resumed.
package xmppclient

import (
	"crypto/tls"
)

// ConnInfo is a snapshot of the current connection.
type ConnInfo struct {
	LocalAddr        string
	RemoteAddr       string
	TLSVersion       string
	CipherSuite      string
	Mechanism        string
	StreamManagement bool
	Resumable        bool
}

// ConnInfo returns details of the current connection; ok is false when
// there is none.
func (c *Client) ConnInfo() (info ConnInfo, ok bool) {
	c.mu.Lock()
	cn := c.cur
	c.mu.Unlock()
	if cn == nil {
		return ConnInfo{}, false
	}
	info = ConnInfo{
		LocalAddr:  cn.nc.LocalAddr().String(),
		RemoteAddr: cn.nc.RemoteAddr().String(),
		Mechanism:  cn.mechanism,
	}
	if tc, isTLS := cn.nc.(*tls.Conn); isTLS {
		st := tc.ConnectionState()
		info.TLSVersion = tls.VersionName(st.Version)
		info.CipherSuite = tls.CipherSuiteName(st.CipherSuite)
	}
	c.out.Lock()
	info.StreamManagement = c.sm.enabled
	info.Resumable = c.sm.id != ""
	c.out.Unlock()
	return info, true
}
