package devstack

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"
)

// failureLog is the local stand-in for an on-failure destination: one JSON
// line per event or batch given up on, appended to a file in the stack's
// directory.
type failureLog struct {
	mu   sync.Mutex
	path string
}

func (f *failureLog) write(entry any) error {
	if f.path == "" {
		return nil
	}
	line, err := json.Marshal(entry)
	if err != nil {
		return fmt.Errorf("encoding the failure entry: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	file, err := os.OpenFile(f.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := file.Write(append(line, '\n')); err != nil {
		file.Close()
		return err
	}
	return file.Close()
}
