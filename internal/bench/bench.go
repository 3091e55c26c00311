// Package bench is the benchmark harness behind `make bench`: it starts the
// local stack (DynamoDB Local and the S3 server, provisioned from
// template.yaml), generates portfolios with pkg/portfoliogen, measures each
// path of the product against a reference measured in the same run on the
// same stack, and prints one table (also written as JSON).
//
// Every measured piece of work runs in a child process (see job.go), so
// that peak memory and CPU are the kernel's account of that work alone.
// Each figure is the median of several runs, shown with the smallest and
// largest.
package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/observe"
)

// Options are the command line's.
type Options struct {
	Runs  int  // runs per figure
	Large bool // add the million-user sizes
	// LargeRuns is the runs of each million-user figure (a run of the
	// 1M-user ingest and its references takes about 25 minutes here).
	LargeRuns int
	// Smoke shrinks every size to check the harness itself in a minute or
	// two; its numbers mean nothing.
	Smoke bool
	Out   string // the JSON report's path
	// Only names the paths to run; empty runs them all.
	Only []string
	// ProfileDir, when set, receives a CPU profile of every child job
	// (NNN-<job>.pprof), for `go tool pprof`.
	ProfileDir string
}

// benchDate is the report date of every generated document.
var benchDate = mustDate("2026-11-20")

func mustDate(s string) license.Date {
	d, err := license.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// A path is one row group of the table.
type path struct {
	name string // as -only names it
	run  func(ctx context.Context, r *runner) ([]Figure, error)
	// needsStack: the path talks to DynamoDB Local or S3.
	needsStack bool
}

// paths, in the order they run: the one that needs no stack first; the
// roll-up while the table's stream is short (its aggregator reads the
// stream from the start, see rollup.go); ingest before the paths that read
// the customers it leaves (insights, export).
var paths = []path{
	{name: "engine", run: benchEngine},
	{name: "coldstart", run: benchColdStart, needsStack: true},
	{name: "rollup", run: benchRollup, needsStack: true},
	{name: "portfolio", run: benchPortfolio, needsStack: true},
	{name: "ingest", run: benchIngest, needsStack: true},
	{name: "insights", run: benchInsights, needsStack: true},
	{name: "export", run: benchExport, needsStack: true},
	{name: "collect", run: benchCollect, needsStack: true},
}

// Main is the bench command: `bench [flags]`, or `bench job <name>` for a
// child. It returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == JobCommand {
		return RunJob(args[1:])
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	runs := fs.Int("runs", 3, "runs per figure; each figure is their median, with min and max")
	large := fs.Bool("large", false, "add the 1M-user sizes (ingest, export); takes much longer")
	largeRuns := fs.Int("large-runs", 1, "runs of each 1M-user figure (with -large)")
	smoke := fs.Bool("smoke", false, "tiny sizes, to check the harness itself (the numbers mean nothing)")
	out := fs.String("out", "bench-results.json", "where to write the results as JSON")
	profile := fs.String("profile", "", "write a CPU profile of every measured child process into this directory")
	only := fs.String("only", "", "comma-separated paths to run (default all): "+pathNames())
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: bench [flags]\n\nMeasures every path of License Insights on the local stack against a reference\nmeasured in the same run, and prints one table.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bench: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *runs < 1 || *largeRuns < 1 {
		fmt.Fprintf(stderr, "bench: -runs and -large-runs must be at least 1, not %d and %d\n", *runs, *largeRuns)
		return 2
	}
	opts := Options{Runs: *runs, Large: *large, LargeRuns: *largeRuns, Smoke: *smoke, Out: *out}
	if *profile != "" {
		dir, err := filepath.Abs(*profile)
		if err == nil {
			err = os.MkdirAll(dir, 0o755)
		}
		if err != nil {
			fmt.Fprintf(stderr, "bench: -profile: %v\n", err)
			return 2
		}
		opts.ProfileDir = dir
	}
	if *only != "" {
		for _, name := range strings.Split(*only, ",") {
			name = strings.TrimSpace(name)
			if !knownPath(name) {
				fmt.Fprintf(stderr, "bench: -only: unknown path %q (have %s)\n", name, pathNames())
				return 2
			}
			opts.Only = append(opts.Only, name)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	report, err := Run(ctx, opts, stderr)
	if report != nil {
		if werr := report.WriteTable(stdout); werr != nil {
			err = errors.Join(err, werr)
		}
		if werr := report.WriteJSON(opts.Out); werr != nil {
			err = errors.Join(err, fmt.Errorf("writing %s: %w", opts.Out, werr))
		} else {
			fmt.Fprintf(stderr, "bench: results written to %s\n", opts.Out)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	if len(report.Failures) > 0 {
		return 1
	}
	return 0
}

func pathNames() string {
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = p.name
	}
	return strings.Join(names, ", ")
}

func knownPath(name string) bool {
	for _, p := range paths {
		if p.name == name {
			return true
		}
	}
	return false
}

// runner is one run of the harness: its options, the stack, what earlier
// paths left for later ones.
type runner struct {
	opts     Options
	log      io.Writer
	start    time.Time
	scratch  string // generated documents, S3's files, built functions
	svc      services
	stack    *stack
	report   *Report
	mu       sync.Mutex
	profiles int                      // CPU profiles written so far
	ingested map[int]ingestedCustomer // by users: customers the ingest left for the reads and the export
}

// Run runs the selected paths and returns the report, complete as far as it
// got; a path that fails is recorded in Report.Failures and the others
// still run.
func Run(ctx context.Context, opts Options, log io.Writer) (*Report, error) {
	// The functions the local stack hosts in this process (the roll-up's
	// aggregator) log every batch at info level and print EMF metrics on
	// standard output, where the table goes: warnings only, no metrics.
	slog.SetDefault(slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelWarn})))
	observe.SetMetricsOutput(io.Discard)

	r := &runner{opts: opts, log: log, start: time.Now(), ingested: map[int]ingestedCustomer{}}
	r.report = &Report{Date: r.start.UTC(), Machine: describeMachine(), Runs: opts.Runs, Large: opts.Large, Smoke: opts.Smoke}
	if opts.Large {
		r.report.LargeRuns = opts.LargeRuns
	}
	defer func() {
		r.report.Seconds = time.Since(r.start).Seconds()
		r.report.Machine.LoadEnd = loadAverage()
	}()

	var err error
	if opts.ProfileDir != "" {
		// The parent hosts the roll-up's aggregator and stream reader.
		f, err := os.Create(filepath.Join(opts.ProfileDir, "000-parent.pprof"))
		if err != nil {
			return r.report, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return r.report, err
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	if r.scratch, err = os.MkdirTemp("", "licenseinsights-bench-"); err != nil {
		return r.report, err
	}
	defer os.RemoveAll(r.scratch)

	selected := r.selected()
	for _, p := range selected {
		if p.needsStack && r.stack == nil {
			r.progress("stack", "starting DynamoDB Local (full JIT) and the S3 server")
			if r.stack, err = startStack(ctx, filepath.Join(r.scratch, "s3")); err != nil {
				return r.report, err
			}
			defer r.stack.stop()
			r.svc = r.stack.services
			r.progress("stack", "ready: DynamoDB %s, S3 %s", r.svc.DynamoDB, r.svc.S3)
			if err := r.warmUp(ctx); err != nil {
				return r.report, fmt.Errorf("warming DynamoDB Local up: %w", err)
			}
		}
		if ctx.Err() != nil {
			return r.report, ctx.Err()
		}
		pathStart := time.Now()
		r.progress(p.name, "starting")
		figures, err := p.run(ctx, r)
		r.report.Figures = append(r.report.Figures, figures...)
		if err != nil {
			if ctx.Err() != nil {
				return r.report, ctx.Err()
			}
			r.report.Failures = append(r.report.Failures, p.name+": "+err.Error())
			r.progress(p.name, "FAILED after %s: %v", time.Since(pathStart).Round(time.Second), err)
			continue
		}
		r.progress(p.name, "done in %s", time.Since(pathStart).Round(time.Second))
	}
	return r.report, nil
}

func (r *runner) selected() []path {
	if len(r.opts.Only) == 0 {
		return paths
	}
	var out []path
	for _, p := range paths {
		for _, name := range r.opts.Only {
			if p.name == name {
				out = append(out, p)
			}
		}
	}
	return out
}

// progress prints one line of progress: elapsed time, path, message.
func (r *runner) progress(path, format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	elapsed := time.Since(r.start)
	fmt.Fprintf(r.log, "[%02d:%02d] %-9s %s\n", int(elapsed.Minutes()), int(elapsed.Seconds())%60, path, fmt.Sprintf(format, args...))
}

// note adds a sentence to the report's notes.
func (r *runner) note(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.report.Notes = append(r.report.Notes, fmt.Sprintf(format, args...))
}

// Sizes. The default ones finish well within 15 minutes on two cores;
// -large adds the million-user ones.
func (r *runner) ingestSizes() []int {
	if r.opts.Smoke {
		return []int{1000, 5000}
	}
	if r.opts.Large {
		return []int{10_000, 100_000, 1_000_000}
	}
	return []int{10_000, 100_000}
}

// runsOf is how many runs a figure of n users gets.
func (r *runner) runsOf(n int) int {
	if n >= 1_000_000 && r.opts.LargeRuns > 0 {
		return r.opts.LargeRuns
	}
	return r.opts.Runs
}

func (r *runner) exportSizes() []int {
	if r.opts.Smoke {
		return []int{5000}
	}
	if r.opts.Large {
		return []int{100_000, 1_000_000}
	}
	return []int{100_000}
}

func (r *runner) engineSizes() []int {
	if r.opts.Smoke {
		return []int{50_000}
	}
	return []int{1_000_000}
}

// bigCustomer is the large customer of the insights read.
func (r *runner) bigCustomer() int {
	if r.opts.Smoke {
		return 5000
	}
	return 100_000
}

// portfolioSizes are the small and the large portfolio.
func (r *runner) portfolioSizes() [2]int {
	if r.opts.Smoke {
		return [2]int{10, 200}
	}
	return [2]int{10, 10_000}
}

// rollupCustomers is how many customers the roll-up catches up with.
func (r *runner) rollupCustomers() int {
	if r.opts.Smoke {
		return 100
	}
	return 1000
}

// count writes 10000 as 10k and 1000000 as 1M.
func count(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

// warmUp runs every kind of request the paths make against DynamoDB Local
// before anything is measured: a JVM answers its first thousands of
// requests several times slower, before the JIT compiler has done its
// work, and that would fall on whichever path came first.
func (r *runner) warmUp(ctx context.Context) error {
	customers, items := 50, 10_000
	if r.opts.Smoke {
		customers, items = 10, 1000
	}
	start := time.Now()
	r.progress("stack", "warming DynamoDB Local up: %d small ingests, %d items written and read", customers, items)
	p := populateParams{Table: benchTable, Tenant: "warmup", Customers: customers, Users: 20, Seed: 3, Workers: 4}
	if _, err := r.job(ctx, jobPopulate, p); err != nil {
		return err
	}
	if _, err := r.job(ctx, jobBatchWrite, batchWriteParams{Tenant: "warmup", Customer: "warmup", Users: items, Workers: 4}); err != nil {
		return err
	}
	r.progress("stack", "warmed up in %s", time.Since(start).Round(time.Second))
	return nil
}
