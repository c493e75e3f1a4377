// Tests of the XEP-0392 colours (the XEP's own test vectors for the angle
// and the HSLuv RGB values) and of the placeholder initials.
package app_test

import (
	"math"
	"testing"

	"parley/app"
)

func TestConsistentColorXEPVectors(t *testing.T) {
	// XEP-0392 §13 (Appendix A): angle in degrees, RGB at HSLuv s=100 l=50.
	vectors := []struct {
		in      string
		angle   float64
		r, g, b float64
	}{
		{"Romeo", 327.255249, 0.865, 0.000, 0.686},
		{"juliet@capulet.lit", 209.410400, 0.000, 0.515, 0.573},
		{"\U0001F63A", 331.199341, 0.872, 0.000, 0.659},
		{"council", 359.994507, 0.918, 0.000, 0.394},
		{"Board", 171.430664, 0.000, 0.527, 0.457},
	}
	for _, v := range vectors {
		if got := app.ConsistentAngle(v.in); math.Abs(got-v.angle) > 1e-6 {
			t.Errorf("angle(%q) = %f, want %f", v.in, got, v.angle)
		}
		c := app.ConsistentColor(v.in)
		want := [3]float64{v.r, v.g, v.b}
		got := [3]uint8{c.R, c.G, c.B}
		for i := range want {
			// The XEP gives three decimals; one 8-bit step is 0.0039.
			if math.Abs(float64(got[i])/255-want[i]) > 0.003 {
				t.Errorf("colour(%q) = %v, want %v", v.in, got, want)
				break
			}
		}
		if c.A != 0xff {
			t.Errorf("colour(%q) is not opaque: %v", v.in, c)
		}
		if again := app.ConsistentColor(v.in); again != c {
			t.Errorf("colour(%q) not deterministic: %v then %v", v.in, c, again)
		}
	}
}

func TestInitials(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Romeo Montague", "RM"},
		{"romeo", "R"},
		{"juliet@capulet.lit", "J"},
		{"Anna Maria  de la Cruz", "AC"},
		{"élodie", "É"},
		{"  (Bob) ", "B"},
		{"first.last", "FL"},
		{"", "?"},
		{"!!!", "?"},
		{"42", "4"},
	} {
		if got := app.Initials(tc.in); got != tc.want {
			t.Errorf("Initials(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
