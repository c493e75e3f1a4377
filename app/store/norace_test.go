// Without the race detector tests run at full size (see race_test.go).

//go:build !race

package store

const raceScale = 1
