// Package ahead does a step of a stream one batch ahead on a goroutine of
// its own: while the caller uses one batch, the goroutine fills the next.
// The parsers read rows ahead of the checks that keep the document's state,
// and the spill decodes users ahead of the engine, so that a stream's two
// halves each take a core.
package ahead

import "errors"

// ErrStop, returned by use, ends Run early with no error.
var ErrStop = errors.New("ahead: stop")

// Run hands the batches to fill, on a goroutine of its own, and each batch
// filled to use, on the caller's, in the order filled. fill returns false
// after the last batch it fills (which use still gets). A batch goes back
// to fill only after use has returned with it, so what use reads of a batch
// stays as filled while it reads. The first error of use ends both and is
// Run's (ErrStop ends them with nil); no goroutine outlives Run.
//
// Two or three batches are enough: one being used, one being filled, and
// one to spare when the halves run at uneven speed.
func Run[B any](batches []B, fill func(B) bool, use func(B) error) error {
	free := make(chan B, len(batches))
	// full holds every batch, so the goroutine never blocks on a send and
	// always sees stop.
	full := make(chan B, len(batches))
	stop := make(chan struct{})
	for _, b := range batches {
		free <- b
	}
	go func() {
		defer close(full)
		for {
			var b B
			select {
			case b = <-free:
			case <-stop:
				return
			}
			more := fill(b)
			full <- b
			if !more {
				return
			}
		}
	}()
	for b := range full {
		if err := use(b); err != nil {
			close(stop)
			for range full { // waits for the goroutine to end
			}
			if err == ErrStop {
				return nil
			}
			return err
		}
		free <- b
	}
	return nil
}
