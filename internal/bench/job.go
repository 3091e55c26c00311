package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
	"github.com/licenseinsights/licenseinsights/pkg/awsenv"
	"github.com/licenseinsights/licenseinsights/pkg/observe"
)

// Every measured piece of work runs in a child process — this same binary
// re-executed as `bench job <name>` — so that the operating system accounts
// for its memory and CPU alone: the child's CPU times come from wait4's
// rusage when it has exited, its peak resident set from the kernel's
// high-water mark of its address space (VmHWM in /proc/self/status), which
// the child reads as its last act.
//
// Not from the rusage's ru_maxrss: Go starts children with vfork, so until
// exec the child runs in the parent's address space, and Linux carries
// that space's high-water mark into the child's ru_maxrss at exec. Every
// child then "peaks" at least as high as the parent had grown (measured:
// a Query loop of 32 MiB reported as 102 MiB once the parent had hosted
// the roll-up). VmHWM belongs to the address space exec made. The child
// gets its orders as JSON on standard input and answers with JSON on file
// descriptor 3; its standard output and error are the functions' own logs
// and metrics, kept apart so that nothing a handler prints can garble the
// answer.

// JobCommand is the hidden subcommand that runs one job.
const JobCommand = "job"

// services says how a child reaches the run's DynamoDB Local and S3 server.
type services struct {
	DynamoDB string `json:"dynamodb"` // endpoint URL
	S3       string `json:"s3"`       // endpoint URL
	S3Access string `json:"s3Access"`
	S3Secret string `json:"s3Secret"`
	Table    string `json:"table"`
	Bucket   string `json:"bucket"`
}

// jobOrder is what the parent sends a child.
type jobOrder struct {
	Job      string          `json:"job"`
	Services services        `json:"services"`
	Params   json.RawMessage `json:"params"`
	// CPUProfile, when set, is where the child writes a CPU profile of
	// the job (bench -profile).
	CPUProfile string `json:"cpuProfile,omitempty"`
}

// jobAnswer is what a child sends back.
type jobAnswer struct {
	Values map[string]float64 `json:"values"`
	Error  string             `json:"error,omitempty"`
	// PeakRSSKiB is the child's VmHWM when it answered.
	PeakRSSKiB int64 `json:"peakRSSKiB,omitempty"`
}

// jobResult is a child's answer with what the kernel says about the child.
type jobResult struct {
	Values    map[string]float64
	MaxRSSMiB float64 // peak resident set of the child's own address space
	// RusageMaxRSSMiB is wait4's ru_maxrss: not used, see above.
	RusageMaxRSSMiB float64
	CPU             float64 // user + system seconds
	Wall            float64 // seconds from start to exit, process start-up included
}

// jobFunc does one job in the child and returns its measures.
type jobFunc func(ctx context.Context, env *jobEnv, params json.RawMessage) (map[string]float64, error)

// jobs are the jobs a child can run, by name. Each path registers its own
// in an init function.
var jobs = map[string]jobFunc{}

func registerJob(name string, fn jobFunc) {
	if _, dup := jobs[name]; dup {
		panic("bench: job " + name + " registered twice")
	}
	jobs[name] = fn
}

// RunJob is the child's side: read the order from stdin, run the job,
// answer on file descriptor 3. It returns the process exit code.
func RunJob(args []string) int {
	answer := os.NewFile(3, "answer")
	reply := func(a jobAnswer) int {
		if answer == nil {
			fmt.Fprintln(os.Stderr, "bench job: no answer pipe on file descriptor 3 (this subcommand is run by bench itself)")
			return 2
		}
		if err := json.NewEncoder(answer).Encode(a); err != nil {
			fmt.Fprintln(os.Stderr, "bench job: answering:", err)
			return 2
		}
		if a.Error != "" {
			return 1
		}
		return 0
	}
	if len(args) != 1 {
		return reply(jobAnswer{Error: fmt.Sprintf("want one job name, have %q", args)})
	}
	var order jobOrder
	if err := json.NewDecoder(os.Stdin).Decode(&order); err != nil {
		return reply(jobAnswer{Error: "reading the order from standard input: " + err.Error()})
	}
	fn, ok := jobs[args[0]]
	if !ok {
		return reply(jobAnswer{Error: fmt.Sprintf("unknown job %q (have %s)", args[0], strings.Join(slices.Sorted(maps.Keys(jobs)), ", "))})
	}
	// The functions log at info level and write EMF metrics to standard
	// output; here only warnings and errors are worth the CPU.
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	observe.SetMetricsOutput(io.Discard)

	if order.CPUProfile != "" {
		f, err := os.Create(order.CPUProfile)
		if err != nil {
			return reply(jobAnswer{Error: "creating the CPU profile: " + err.Error()})
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return reply(jobAnswer{Error: "starting the CPU profile: " + err.Error()})
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	env := &jobEnv{services: order.Services}
	values, err := fn(context.Background(), env, order.Params)
	if err != nil {
		return reply(jobAnswer{Error: err.Error()})
	}
	peak, err := peakRSSKiB()
	if err != nil {
		return reply(jobAnswer{Error: err.Error()})
	}
	return reply(jobAnswer{Values: values, PeakRSSKiB: peak})
}

// job runs one job in a child process, profiled when -profile asks.
func (r *runner) job(ctx context.Context, name string, params any) (*jobResult, error) {
	profile := ""
	if r.opts.ProfileDir != "" {
		r.mu.Lock()
		r.profiles++
		profile = filepath.Join(r.opts.ProfileDir, fmt.Sprintf("%03d-%s.pprof", r.profiles, name))
		r.mu.Unlock()
	}
	return runJob(ctx, r.svc, name, params, profile, func(line string) { r.progress(name, "%s", line) })
}

// runJob runs one job in a child process and waits for it; with a profile
// path, the child writes its CPU profile there. progress (may be nil)
// receives what the child says of its progress (jobProgress).
func runJob(ctx context.Context, svc services, name string, params any, profile string, progress func(string)) (*jobResult, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding this program to run job %s: %w", name, err)
	}
	p, err := json.Marshal(params)
	if err != nil {
		return nil, err
	}
	order, err := json.Marshal(jobOrder{Job: name, Services: svc, Params: p, CPUProfile: profile})
	if err != nil {
		return nil, err
	}
	answerR, answerW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer answerR.Close()
	cmd := exec.CommandContext(ctx, self, JobCommand, name)
	cmd.Stdin = bytes.NewReader(order)
	logs := &tail{max: 16 << 10}
	cmd.Stdout, cmd.Stderr = io.Discard, &progressRouter{progress: progress, rest: logs}
	cmd.ExtraFiles = []*os.File{answerW} // file descriptor 3
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		answerW.Close()
		return nil, fmt.Errorf("starting job %s: %w", name, err)
	}
	answerW.Close() // the child holds its copy
	var (
		answerBytes []byte
		readErr     error
		wg          sync.WaitGroup
	)
	wg.Go(func() { answerBytes, readErr = io.ReadAll(answerR) })
	waitErr := cmd.Wait()
	wall := time.Since(start)
	wg.Wait()

	var a jobAnswer
	if len(bytes.TrimSpace(answerBytes)) > 0 {
		if err := json.Unmarshal(answerBytes, &a); err != nil {
			return nil, fmt.Errorf("job %s answered %q: %w", name, answerBytes, err)
		}
	}
	if a.Error != "" {
		return nil, fmt.Errorf("job %s: %s%s", name, a.Error, logs.indented())
	}
	if waitErr != nil || readErr != nil {
		return nil, fmt.Errorf("job %s: %w%s", name, errors.Join(waitErr, readErr), logs.indented())
	}
	if a.Values == nil {
		return nil, fmt.Errorf("job %s exited without an answer%s", name, logs.indented())
	}
	r := &jobResult{Values: a.Values, Wall: wall.Seconds(), MaxRSSMiB: float64(a.PeakRSSKiB) / 1024}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
		r.RusageMaxRSSMiB = float64(ru.Maxrss) / 1024 // KiB on Linux
	}
	return r, nil
}

// peakRSSKiB is this process's peak resident set so far: VmHWM, in KiB.
func peakRSSKiB() (int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("reading the peak resident set: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("reading the peak resident set from %q: %w", line, err)
			}
			return kib, nil
		}
	}
	return 0, errors.New("no VmHWM in /proc/self/status")
}

// jobEnv gives a job its clients, built on first use.
type jobEnv struct {
	services services
	counter  *callCounter

	once sync.Once
	db   *dynamodb.Client
	s3   *s3.Client
}

func (e *jobEnv) build() {
	e.counter = &callCounter{next: awshttp.NewBuildableClient(), calls: map[string]int64{}}
	// As awsenv.Load builds them in Lambda (the SDK's defaults, X-Ray
	// instrumentation), pointed at the local infra.
	cfg := aws.Config{
		Region:      infra.Region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider("local", "local", "")),
		HTTPClient:  e.counter,
	}
	observe.InstrumentAWS(&cfg)
	e.db = dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(e.services.DynamoDB) })
	s3cfg := cfg.Copy()
	s3cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(e.services.S3Access, e.services.S3Secret, ""))
	e.s3 = s3.NewFromConfig(s3cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(e.services.S3)
		o.UsePathStyle = true
	})
}

// DynamoDB is a client whose every HTTP request is counted.
func (e *jobEnv) DynamoDB() *dynamodb.Client { e.once.Do(e.build); return e.db }

// S3 is a client of the run's S3 server.
func (e *jobEnv) S3() *s3.Client { e.once.Do(e.build); return e.s3 }

// Env is what a function's main would hand its handler.
func (e *jobEnv) Env() *awsenv.Env {
	return &awsenv.Env{DynamoDB: e.DynamoDB(), S3: e.S3(), Table: e.services.Table, Bucket: e.services.Bucket}
}

// CallsByOperation counts the requests sent so far by operation.
func (e *jobEnv) CallsByOperation() map[string]int64 {
	e.once.Do(e.build)
	return e.counter.byOperation()
}

// Calls counts the DynamoDB and S3 requests sent so far.
func (e *jobEnv) Calls() int64 { e.once.Do(e.build); return e.counter.total() }

// callCounter counts the HTTP requests the AWS clients send, by operation
// (X-Amz-Target, e.g. DynamoDB_20120810.Query), retries included: each is a
// round trip the caller waited for.
type callCounter struct {
	next  aws.HTTPClient
	mu    sync.Mutex
	calls map[string]int64
}

func (c *callCounter) Do(req *http.Request) (*http.Response, error) {
	op := req.Header.Get("X-Amz-Target")
	if op == "" {
		op = req.Method + " " + req.URL.Host
	}
	c.mu.Lock()
	c.calls[op]++
	c.mu.Unlock()
	return c.next.Do(req)
}

// byOperation is a copy of the counts, by operation.
func (c *callCounter) byOperation() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.calls)
}

func (c *callCounter) total() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for _, v := range c.calls {
		n += v
	}
	return n
}

// progressPrefix marks a line of a child's standard error as news of its
// progress, for the parent to show.
const progressPrefix = "bench-progress: "

// jobProgress tells the parent how far a long job has got.
func jobProgress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, progressPrefix+format+"\n", args...)
}

// progressRouter passes a child's progress lines to progress and the rest
// of its output to rest.
type progressRouter struct {
	progress func(string)
	rest     io.Writer
	partial  []byte
}

func (p *progressRouter) Write(b []byte) (int, error) {
	p.partial = append(p.partial, b...)
	for {
		i := bytes.IndexByte(p.partial, '\n')
		if i < 0 {
			return len(b), nil
		}
		line := p.partial[:i+1]
		if msg, ok := bytes.CutPrefix(line, []byte(progressPrefix)); ok {
			if p.progress != nil {
				p.progress(string(bytes.TrimSpace(msg)))
			}
		} else {
			_, _ = p.rest.Write(line)
		}
		p.partial = p.partial[i+1:]
	}
}

// tail keeps the last max bytes written to it: a failed child's last words.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

// indented is the kept output, indented under an error message, or "".
func (t *tail) indented() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.TrimSpace(string(t.buf))
	if s == "" {
		return ""
	}
	return "\n  its output:\n    " + strings.ReplaceAll(s, "\n", "\n    ")
}
