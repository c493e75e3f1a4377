// Under the race detector the pure-Go SQLite runs about 40 times slower;
// tests that store thousands of messages scale down by raceScale there.

//go:build race

package store

const raceScale = 5
