package bench

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
	"github.com/licenseinsights/licenseinsights/pkg/catalog"
	"github.com/licenseinsights/licenseinsights/pkg/ingest"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/portfoliogen"
	"github.com/licenseinsights/licenseinsights/pkg/source"
	"github.com/licenseinsights/licenseinsights/pkg/spill"
)

// The figures engine alone, on the ingest's path without the store: the
// child parses the customer's three subscription lists (Graph directory
// subscriptions, subscribedSkus, Partner Center) and combines them as the
// ingest does, then starts the clocks: the Graph active user detail report
// parsed into a spill (pkg/spill), and license.ComputeStream's replays of
// it. The users' report is read from a file the harness generated
// once, the same file the DuckDB reference (duckdb.js) reads in the same
// run; the subscription lists stream from the generator through a pipe.

const (
	jobEngine = "engine"
	jobDuckDB = "duckdb"
	// engineWindow is the activity window whose per-workload active counts
	// the engine and DuckDB must agree on.
	engineWindow = 28
)

type engineParams struct {
	Users int    `json:"users"`
	Seed  int64  `json:"seed"`
	File  string `json:"file"` // the generated Graph active user detail CSV
}

// duckdbParams: the node_modules holding @duckdb/node-api, the script and
// the CSV to read.
type duckdbParams struct {
	NodeModules string `json:"nodeModules"`
	Script      string `json:"script"`
	File        string `json:"file"`
}

// duckdbScript computes the reference figures; written to the scratch
// directory for node to run.
//
//go:embed duckdb.js
var duckdbScript []byte

func init() {
	registerJob(jobEngine, engineJob)
	registerJob(jobDuckDB, duckdbJob)
}

func engineJob(_ context.Context, _ *jobEnv, raw json.RawMessage) (map[string]float64, error) {
	var p engineParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	cfg := portfoliogen.Config{Seed: p.Seed, Customers: 1, Users: p.Users, Exact: true, ReportDate: benchDate}
	spec := portfoliogen.Customers(cfg)[0]

	// The subscriptions first, off the clock: DuckDB reads only the
	// users' report.
	var sources license.Sources
	for kind, set := range map[portfoliogen.Kind]**license.SubscriptionSet{
		portfoliogen.KindGraphDirectorySubscriptions: &sources.Directory,
		portfoliogen.KindGraphSubscribedSkus:         &sources.SubscribedSkus,
		portfoliogen.KindPartnerCenterSubscriptions:  &sources.PartnerCenter,
	} {
		doc, err := parseSubscriptions(cfg, spec, kind)
		if err != nil {
			return nil, err
		}
		*set = &license.SubscriptionSet{Subscriptions: doc.Subscriptions, AcceptedAt: time.Now()}
	}
	subs := license.CombineSubscriptions(sources)

	// The ingest's path: the report parsed into a spill (one reused User,
	// memory then /tmp), product names resolved once each, then the
	// engine's replays.
	cpuBefore := cpuSeconds()
	parseStart := time.Now()
	users := spill.New("", 0)
	defer users.Close()
	report, err := parseFile(p.File, cfg, spec, users)
	if err != nil {
		return nil, err
	}
	parsed := time.Since(parseStart)

	start := time.Now()
	known := ingest.ResolveProducts(users, subs)
	figures, err := license.ComputeStream(license.Input{
		Customer: license.Customer{ID: spec.ID, Name: spec.Name}, ReportDate: report.ReportDate,
		Subscriptions: subs, ProductName: catalog.Name, KnownProduct: known,
	}, users.Replay, nil)
	if err != nil {
		return nil, err
	}
	wall := time.Since(start)
	cpu := cpuSeconds() - cpuBefore

	if users.Len() != p.Users {
		return nil, fmt.Errorf("the engine counted %d users parsed of %d generated", users.Len(), p.Users)
	}
	values := map[string]float64{
		"seconds":      wall.Seconds(),
		"cpuSeconds":   cpu,
		"users":        float64(users.Len()),
		"parseSeconds": parsed.Seconds(),
		"spillMiB":     float64(users.Size()) / (1 << 20),
	}
	for _, w := range figures.Windows {
		if w.Days == engineWindow {
			for _, f := range w.Workloads {
				values[string(f.Workload)+"_active"] = float64(f.Active)
			}
		}
	}
	return values, nil
}

// parseFile parses the generated users' report from file into users, as
// the ingest does.
func parseFile(file string, cfg portfoliogen.Config, spec portfoliogen.CustomerSpec, users *spill.Users) (*source.Document, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := source.Parse(f, source.KindActiveUserDetail, source.Options{PartnerTenantID: cfg.PartnerTenant(), CustomerID: spec.ID, ReuseUser: true},
		func(u license.User) error { return users.Add(&u) })
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", file, err)
	}
	return doc, nil
}

// duckdbJob runs the DuckDB reference in node and hands over what the
// script measured of itself (its peak RSS is node's, not this process's).
func duckdbJob(ctx context.Context, _ *jobEnv, raw json.RawMessage) (map[string]float64, error) {
	var p duckdbParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "node", p.Script, p.NodeModules, p.File, benchDate.String(), strconv.Itoa(engineWindow))
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("node %s: %w: %s", filepath.Base(p.Script), err, bytes.TrimSpace(stderr.Bytes()))
	}
	values := map[string]float64{}
	if err := json.Unmarshal(out, &values); err != nil {
		return nil, fmt.Errorf("the DuckDB script answered %q: %w", out, err)
	}
	return values, nil
}

// parseSubscriptions parses the customer's generated subscription list of
// the given kind with pkg/source, the generator writing into a pipe. (It
// used to collect users too, into a slice made for the customer's million:
// 100 MB the engine's peak RSS was charged with in some runs, never used.)
func parseSubscriptions(cfg portfoliogen.Config, spec portfoliogen.CustomerSpec, kind portfoliogen.Kind) (*source.Document, error) {
	r, w := io.Pipe()
	go func() { w.CloseWithError(portfoliogen.Write(w, kind, cfg, spec)) }()
	doc, err := source.Parse(r, source.Kind(kind), source.Options{PartnerTenantID: cfg.PartnerTenant(), CustomerID: spec.ID},
		func(license.User) error { return nil })
	r.CloseWithError(io.ErrClosedPipe) // stops the generator if the parser gave up early
	if err != nil {
		return nil, fmt.Errorf("parsing the generated %s of %d users: %w", kind, spec.Users, err)
	}
	return doc, nil
}

// cpuSeconds is the CPU time this process has used so far (every thread:
// the garbage collector's work is the engine's cost too).
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// benchEngine measures the engine on sizes users.
// Each run measures the engine and then DuckDB on the same file, so that a
// busy moment of the machine falls on both alike; their per-workload
// active counts must agree.
func benchEngine(ctx context.Context, r *runner) ([]Figure, error) {
	tools, err := infra.FindTools()
	if err != nil {
		return nil, err
	}
	script := filepath.Join(r.scratch, "duckdb.js")
	if err := os.WriteFile(script, duckdbScript, 0o644); err != nil {
		return nil, err
	}
	var out []Figure
	for _, n := range r.engineSizes() {
		cfg := portfoliogen.Config{Seed: 1, Customers: 1, Users: n, Exact: true, ReportDate: benchDate}
		file := filepath.Join(r.scratch, fmt.Sprintf("engine-%d.csv", n))
		if err := writeGenerated(file, cfg, portfoliogen.KindGraphActiveUserDetail); err != nil {
			return out, err
		}
		var wall, cpu, rss, both, ddWall, ddCPU, ddRSS []float64
		for i := range r.opts.Runs {
			res, err := r.job(ctx, jobEngine, engineParams{Users: n, Seed: 1, File: file})
			if err != nil {
				return out, err
			}
			// DuckDB is installed apart, in tools/bench (make bench's
			// own lock file), so that make run and make test never
			// download it.
			dd, err := r.job(ctx, jobDuckDB, duckdbParams{NodeModules: filepath.Join(filepath.Dir(tools.NodeModulesDir), "bench", "node_modules"), Script: script, File: file})
			if err != nil {
				return out, err
			}
			for _, w := range license.StandardWorkloads {
				k := string(w) + "_active"
				if res.Values[k] != dd.Values[k] {
					return out, fmt.Errorf("%s users: %s active in %d days: the engine counts %.0f, DuckDB %.0f", count(n), w, engineWindow, res.Values[k], dd.Values[k])
				}
			}
			wall = append(wall, res.Values["seconds"])
			cpu = append(cpu, res.Values["cpuSeconds"])
			rss = append(rss, res.MaxRSSMiB)
			both = append(both, res.Values["parseSeconds"]+res.Values["seconds"])
			ddWall = append(ddWall, dd.Values["seconds"])
			ddCPU = append(ddCPU, dd.Values["cpuSeconds"])
			ddRSS = append(ddRSS, dd.Values["peakRSSKiB"]/1024)
			r.progress("engine", "%s users, run %d/%d: parse %.2f s + Compute %.2f s (CPU %.2f s, spill %.0f MiB), peak RSS %.0f MiB; DuckDB %.2f s (CPU %.2f s), %.0f MiB",
				count(n), i+1, r.opts.Runs, res.Values["parseSeconds"], res.Values["seconds"], res.Values["cpuSeconds"], res.Values["spillMiB"], res.MaxRSSMiB,
				dd.Values["seconds"], dd.Values["cpuSeconds"], dd.Values["peakRSSKiB"]/1024)
		}
		c := count(n) + " users"
		const ref = "DuckDB (@duckdb/node-api), per-workload licensed and active counts of the same CSV"
		out = append(out,
			figure("figures engine (CPU only)", c, "Compute", "s", wall),
			// Both use every core they find (DuckDB its threads; the parse,
			// the spill's writes and the replays' decoding a goroutine
			// each): the CPU time is what a Lambda of a fraction of a vCPU
			// would wait for.
			figure("figures engine (CPU only)", c, "CPU time, parse + Compute", "s", cpu).against(ref, ddCPU),
			figure("figures engine (CPU only)", c, "parse + Compute", "s", both).against(ref, ddWall),
			figure("figures engine (CPU only)", c, "peak RSS, parse + Compute", "MiB", rss).against(ref, ddRSS),
		)
	}
	return out, nil
}

// writeGenerated writes the generated document of kind of cfg's one
// customer to file.
func writeGenerated(file string, cfg portfoliogen.Config, kind portfoliogen.Kind) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	err = portfoliogen.Write(bw, kind, cfg, portfoliogen.Customers(cfg)[0])
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
