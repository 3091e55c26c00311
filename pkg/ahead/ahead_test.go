package ahead

import (
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licenseinsights/licenseinsights/internal/goroutinetest"
)

type batch struct {
	values []int
	inUse  atomic.Bool // set from fill until use returns
}

func newBatches(n, size int) []*batch {
	out := make([]*batch, n)
	for i := range out {
		out[i] = &batch{values: make([]int, 0, size)}
	}
	return out
}

// counter fills batches with 0, 1, 2, … up to n, flagging a batch that is
// filled while it is still being used.
func counter(t *testing.T, n int) func(*batch) bool {
	next := 0
	return func(b *batch) bool {
		if !b.inUse.CompareAndSwap(false, true) {
			t.Error("a batch was filled again before use returned")
		}
		b.values = b.values[:0]
		for len(b.values) < cap(b.values) && next < n {
			b.values = append(b.values, next)
			next++
		}
		return next < n
	}
}

func TestEveryValueInOrder(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 1000, 1003} {
		var got []int
		err := Run(newBatches(3, 8), counter(t, n), func(b *batch) error {
			got = append(got, b.values...)
			time.Sleep(time.Microsecond) // let the filler run ahead
			b.inUse.Store(false)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Fatalf("n %d: %d values", n, len(got))
		}
		for i, v := range got {
			if v != i {
				t.Fatalf("n %d: value %d is %d", n, i, v)
			}
		}
	}
}

func TestUseErrorStopsBoth(t *testing.T) {
	before := runtime.NumGoroutine()
	stop := errors.New("stop")
	for _, at := range []int{0, 5, 8, 500} {
		seen := 0
		err := Run(newBatches(2, 8), counter(t, 1_000_000), func(b *batch) error {
			defer b.inUse.Store(false)
			for range b.values {
				if seen == at {
					return stop
				}
				seen++
			}
			return nil
		})
		if err != stop || seen != at {
			t.Fatalf("Run gave %v after %d values; want the error of use after %d", err, seen, at)
		}
	}
	goroutinetest.Check(t, before)
}

func TestStopEndsWithNoError(t *testing.T) {
	before := runtime.NumGoroutine()
	seen := 0
	err := Run(newBatches(2, 8), counter(t, 1_000_000), func(b *batch) error {
		defer b.inUse.Store(false)
		if seen += len(b.values); seen >= 20 {
			return ErrStop
		}
		return nil
	})
	if err != nil || seen != 24 {
		t.Fatalf("Run gave %v after %d values; want nil after three batches of 8", err, seen)
	}
	goroutinetest.Check(t, before)
}
