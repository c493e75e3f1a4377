// Unit test of newID, the ids of IQs and MAM queries: 128 bits from
// crypto/rand, so another entity cannot guess the id of a request in
// flight and aim a forged reply or archive result at it.
package xmppclient

import (
	"encoding/base64"
	"testing"
)

func TestNewIDIs128RandomBits(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := newID()
		b, err := base64.RawURLEncoding.DecodeString(id)
		if err != nil || len(b) != 16 {
			t.Fatalf("newID() = %q: %d bytes, %v; want 16 bytes of base64url", id, len(b), err)
		}
		if seen[id] {
			t.Fatalf("newID() repeated %q", id)
		}
		seen[id] = true
	}
}
