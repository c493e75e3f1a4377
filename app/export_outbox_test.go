// Test-only access for the outbox tests (package app_test): archive
// catch-ups that fail, so what a lost session left unacknowledged cannot
// be checked.
package app

// FailArchivePasses makes every archive pass fail before its first page
// until the returned function is called.
func FailArchivePasses() (restore func()) {
	failPasses.Store(true)
	return func() { failPasses.Store(false) }
}
