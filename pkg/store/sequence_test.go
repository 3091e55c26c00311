package store

import "testing"

// Stream sequence numbers are decimal strings whose length grows: a
// shorter one is earlier whatever its digits.
func TestCompareSequence(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"100", "100", 0},
		{"99", "100", -1},
		{"100", "99", 1},
		{"000100", "100", 0},
		{"40000000000000000000002", "40000000000000000000010", -1},
		{"500000000000000000000001", "40000000000000000000010", 1},
	} {
		if got := compareSequence(tc.a, tc.b); got != tc.want {
			t.Errorf("compareSequence(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
