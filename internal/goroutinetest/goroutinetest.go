// Package goroutinetest checks that code which starts goroutines leaves
// none running.
package goroutinetest

import (
	"runtime"
	"testing"
	"time"
)

// Check fails t when more goroutines run than before (a count of
// runtime.NumGoroutine taken earlier). A goroutine that has closed its
// channels may take a moment more to be gone, so Check waits up to two
// seconds for the count to fall.
func Check(t testing.TB, before int) {
	t.Helper()
	after := runtime.NumGoroutine()
	for deadline := time.Now().Add(2 * time.Second); after > before && time.Now().Before(deadline); after = runtime.NumGoroutine() {
		time.Sleep(time.Millisecond)
	}
	if after > before {
		t.Errorf("%d goroutines still running, %d before", after, before)
	}
}
