// Test-only access to the engine's internals for the integration tests of
// package xmppclient_test: a hook that learns a MAM query's id while the
// query is in flight (an attacker would have to guess it), so a test can
// aim a forged archive result at a real query.
package xmppclient

// OnMAMQueryRegistered makes QueryArchive on c call f with the query id
// once the query is registered, before its request is written; QueryArchive
// waits for f to return (nil removes the hook).
func OnMAMQueryRegistered(c *Client, f func(queryID string)) {
	c.mam.mu.Lock()
	c.mam.registered = f
	c.mam.mu.Unlock()
}
