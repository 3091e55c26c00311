package source

import (
	"strconv"
	"strings"
	"testing"
)

// userKeys' own table: every key is new once and a duplicate after,
// naming the line it was first seen on, across the table's growth.
func TestUserKeys(t *testing.T) {
	k := newUserKeys()
	const n = 100_000
	for i := range n {
		if reason, dup := k.add("user"+strconv.Itoa(i)+"@x.com", i+2); dup {
			t.Fatalf("key %d reported as a duplicate: %s", i, reason)
		}
	}
	if k.used != n || k.used*4 > len(k.slots)*3 {
		t.Fatalf("%d keys in %d slots", k.used, len(k.slots))
	}
	for i := range n {
		reason, dup := k.add("user"+strconv.Itoa(i)+"@x.com", n+i+2)
		if want := " at line " + strconv.Itoa(i+2) + ":"; !dup || !strings.Contains(reason, want) {
			t.Fatalf("key %d again: %q, %v; want a duplicate%s", i, reason, dup, want)
		}
	}
}
