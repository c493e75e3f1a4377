// Test-only access for the delivery tests of package xmppclient_test: how
// many barrier pings a client wrote on streams without XEP-0198.
package xmppclient

// Barriers returns how many barrier pings c has written so far.
func Barriers(c *Client) int {
	c.out.Lock()
	defer c.out.Unlock()
	return c.barriers
}
