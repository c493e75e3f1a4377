// XEP-0352 Client State Indication: the app says whether the person is
// looking (active) or not (inactive: window hidden, minimised, or
// unfocused for a while); the server may then hold back what is not
// urgent (presence, chat states) until the client is active again, which
// saves wake-ups and traffic. The state is a nonza (no stanza, not
// counted by XEP-0198) sent only when the server offers urn:xmpp:csi:0,
// and sent on every new or resumed stream (whatever the server keeps
// across a resumption, it hears the current state), then on each change.
package xmppclient

const nsCSI = "urn:xmpp:csi:0"

// csiState is what the app asked for and what the current stream was told.
type csiState struct {
	inactive bool // the app's wish (false: active, as every stream starts)
	told     *conn
	toldOff  bool // the stream was told inactive
}

// SetActive tells the server whether the person is using the client
// (XEP-0352). It is remembered across reconnects and does nothing on a
// server without CSI.
func (c *Client) SetActive(active bool) {
	c.out.Lock()
	defer c.out.Unlock()
	c.csi.inactive = !active
	c.mu.Lock()
	cn := c.cur
	c.mu.Unlock()
	if cn != nil {
		c.tellCSILocked(cn)
	}
}

// Active reports what SetActive said last (true at first).
func (c *Client) Active() bool {
	c.out.Lock()
	defer c.out.Unlock()
	return !c.csi.inactive
}

// CSISupported reports whether the current stream offers XEP-0352.
func (c *Client) CSISupported() bool {
	c.mu.Lock()
	cn := c.cur
	c.mu.Unlock()
	return cn != nil && cn.features.CSI != nil
}

// tellCSILocked sends the wished state to cn: always on a stream not yet
// told, else when it changed; c.out is held.
func (c *Client) tellCSILocked(cn *conn) {
	if cn.features.CSI == nil {
		return
	}
	if c.csi.told == cn && c.csi.toldOff == c.csi.inactive {
		return
	}
	el := "<active xmlns='" + nsCSI + "'/>"
	if c.csi.inactive {
		el = "<inactive xmlns='" + nsCSI + "'/>"
	}
	if err := cn.writeString(el); err != nil {
		c.log.Warn("cannot send the client state", "err", err)
		return
	}
	c.csi.told, c.csi.toldOff = cn, c.csi.inactive
}
