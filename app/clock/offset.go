//go:build !clockahead

// The ordinary build: Now is the real time.
package clock

const offset = 0
