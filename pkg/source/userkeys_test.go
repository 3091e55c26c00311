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
	used, slots := 0, 0
	for i, p := range k.parts {
		used, slots = used+p.used, slots+len(p.slots)
		if p.used*4 > len(p.slots)*3 || p.used*8 < len(p.slots)*3/2 {
			t.Fatalf("part %d holds %d keys in %d slots: want between 3/16 and 3/4 full", i, p.used, len(p.slots))
		}
	}
	if used != n {
		t.Fatalf("%d keys in the table, want %d", used, n)
	}
	t.Logf("%d keys in %d slots (%.0f %% full, %.1f MiB)", used, slots, 100*float64(used)/float64(slots), float64(slots*12)/(1<<20))
	for i := range n {
		reason, dup := k.add("user"+strconv.Itoa(i)+"@x.com", n+i+2)
		if want := " at line " + strconv.Itoa(i+2) + ":"; !dup || !strings.Contains(reason, want) {
			t.Fatalf("key %d again: %q, %v; want a duplicate%s", i, reason, dup, want)
		}
	}
}
