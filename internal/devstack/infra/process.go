package infra

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// process is one server child process. It runs in its own process group so
// that Stop takes down whatever it spawned too, and it gets SIGKILL from the
// kernel if this process dies first (a test binary killed by -timeout never
// runs its deferred clean-ups), so no server outlives its owner.
type process struct {
	name   string
	cmd    *exec.Cmd
	output *tail
	done   chan struct{} // closed once the process has exited and been reaped

	stopOnce    sync.Once
	stopErr     error
	stopOnClose func() bool
}

// stopGrace is how long a server gets to exit on SIGTERM before SIGKILL.
const stopGrace = 3 * time.Second

// startProcess starts path with args in dir ("" for ours). Output goes to log (if not nil) and a
// small ring kept for error messages. ctx bounds the life of the process:
// when it is cancelled the process is stopped.
func startProcess(ctx context.Context, name string, log io.Writer, dir string, env []string, path string, args ...string) (*process, error) {
	p := &process{name: name, output: &tail{}, done: make(chan struct{})}
	cmd := exec.Command(path, args...)
	cmd.Dir, cmd.Env = dir, env
	var out io.Writer = p.output
	if log != nil {
		out = io.MultiWriter(p.output, log)
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// The output pipes are copied by goroutines; do not let a grandchild
	// that inherited them keep Wait from returning.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("devstack: starting %s (%s): %w", name, path, err)
	}
	p.cmd = cmd
	go func() {
		_ = cmd.Wait() // the exit status of a server we stop is not news
		close(p.done)
	}()
	p.stopOnClose = context.AfterFunc(ctx, func() { _ = p.Stop() })
	return p, nil
}

// exited reports whether the process has already ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop ends the process group: SIGTERM, then SIGKILL after stopGrace, and
// waits until the process is reaped. It is safe to call more than once.
func (p *process) Stop() error {
	p.stopOnce.Do(func() {
		p.stopOnClose()
		pgid := p.cmd.Process.Pid // Setpgid makes the child its group's leader
		if !p.exited() {
			if err := syscall.Kill(-pgid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
				p.stopErr = fmt.Errorf("devstack: stopping %s (pid %d): %w", p.name, pgid, err)
			}
			select {
			case <-p.done:
			case <-time.After(stopGrace):
			}
		}
		// Whatever is left of the group (the leader if it ignored SIGTERM,
		// or children it left behind) goes now.
		if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) && p.stopErr == nil {
			p.stopErr = fmt.Errorf("devstack: killing %s (pid %d): %w", p.name, pgid, err)
		}
		<-p.done
	})
	return p.stopErr
}

// waitReady polls probe until it succeeds, the process exits, ctx ends or
// timeout passes, whichever comes first.
func (p *process) waitReady(ctx context.Context, timeout time.Duration, probe func(context.Context) error) error {
	deadline := time.Now().Add(timeout)
	var lastErr error
	for {
		// A cancelled ctx also stops the process: report the cause, not
		// the exit.
		if ctx.Err() != nil {
			return fmt.Errorf("waiting for %s: %w", p.name, ctx.Err())
		}
		if p.exited() {
			return &exitedEarlyError{name: p.name, output: p.output.String()}
		}
		probeCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		lastErr = probe(probeCtx)
		cancel()
		if lastErr == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer within %s (last error: %v); its output:\n%s", p.name, timeout, lastErr, p.output.String())
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-p.done:
		case <-ctx.Done():
		}
	}
}

// exitedEarlyError says a server died while starting; portTaken tells the
// one case worth a retry on another port.
type exitedEarlyError struct {
	name, output string
}

func (e *exitedEarlyError) Error() string {
	return fmt.Sprintf("%s exited while starting; its output:\n%s", e.name, e.output)
}

func (e *exitedEarlyError) portTaken() bool {
	return strings.Contains(e.output, "Address already in use") || strings.Contains(e.output, "address already in use")
}

// freePort asks the kernel for a free loopback port. The port is released
// before the server binds it, so another process may take it in between:
// callers retry on "address already in use".
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("devstack: finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tail keeps the last few KiB of a server's output for error messages.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

const tailSize = 8 << 10

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - tailSize; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
