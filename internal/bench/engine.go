package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"syscall"
	"time"

	"github.com/licenseinsights/licenseinsights/pkg/catalog"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/portfoliogen"
	"github.com/licenseinsights/licenseinsights/pkg/source"
)

// The figures engine alone: license.Compute over a parsed report, no I/O.
// The child parses the customer's generated Graph active user detail report
// (the users) and its three subscription lists (Graph directory
// subscriptions, subscribedSkus, Partner Center), combines the
// subscriptions as the ingest does, and only then starts the clock. The
// documents stream from the generator through a pipe: no file is needed.

const jobEngine = "engine"

type engineParams struct {
	Users int   `json:"users"`
	Seed  int64 `json:"seed"`
}

func init() { registerJob(jobEngine, engineJob) }

func engineJob(_ context.Context, _ *jobEnv, raw json.RawMessage) (map[string]float64, error) {
	var p engineParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	cfg := portfoliogen.Config{Seed: p.Seed, Customers: 1, Users: p.Users, Exact: true, ReportDate: benchDate}
	spec := portfoliogen.Customers(cfg)[0]

	parseStart := time.Now()
	report, users, err := parseGenerated(cfg, spec, portfoliogen.KindGraphActiveUserDetail)
	if err != nil {
		return nil, err
	}
	var sources license.Sources
	for kind, set := range map[portfoliogen.Kind]**license.SubscriptionSet{
		portfoliogen.KindGraphDirectorySubscriptions: &sources.Directory,
		portfoliogen.KindGraphSubscribedSkus:         &sources.SubscribedSkus,
		portfoliogen.KindPartnerCenterSubscriptions:  &sources.PartnerCenter,
	} {
		doc, _, err := parseGenerated(cfg, spec, kind)
		if err != nil {
			return nil, err
		}
		*set = &license.SubscriptionSet{Subscriptions: doc.Subscriptions, AcceptedAt: time.Now()}
	}
	parsed := time.Since(parseStart)
	in := license.Input{
		Customer: license.Customer{ID: spec.ID, Name: spec.Name}, ReportDate: report.ReportDate,
		Subscriptions: license.CombineSubscriptions(sources), Users: users, ProductName: catalog.Name,
	}

	cpuBefore := cpuSeconds()
	start := time.Now()
	result := license.Compute(in)
	wall := time.Since(start)
	cpu := cpuSeconds() - cpuBefore

	if len(result.Entitled) != len(users) || len(users) != p.Users {
		return nil, fmt.Errorf("the engine gave %d entitled flags for %d users parsed of %d generated", len(result.Entitled), len(users), p.Users)
	}
	return map[string]float64{
		"seconds":      wall.Seconds(),
		"cpuSeconds":   cpu,
		"users":        float64(len(users)),
		"parseSeconds": parsed.Seconds(),
	}, nil
}

// parseGenerated parses the customer's generated document of the given
// kind with pkg/source, the generator writing into a pipe, and returns the
// users as the ingest collects them.
func parseGenerated(cfg portfoliogen.Config, spec portfoliogen.CustomerSpec, kind portfoliogen.Kind) (*source.Document, []license.User, error) {
	r, w := io.Pipe()
	go func() { w.CloseWithError(portfoliogen.Write(w, kind, cfg, spec)) }()
	users := make([]license.User, 0, spec.Users)
	doc, err := source.Parse(r, source.Kind(kind), source.Options{PartnerTenantID: cfg.PartnerTenant(), CustomerID: spec.ID},
		func(u license.User) error {
			users = append(users, u)
			return nil
		})
	r.CloseWithError(io.ErrClosedPipe) // stops the generator if the parser gave up early
	if err != nil {
		return nil, nil, fmt.Errorf("parsing the generated %s of %d users: %w", kind, spec.Users, err)
	}
	return doc, users, nil
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
func benchEngine(ctx context.Context, r *runner) ([]Figure, error) {
	var out []Figure
	for _, n := range r.engineSizes() {
		var wall, cpu, rss []float64
		for i := range r.opts.Runs {
			res, err := r.job(ctx, jobEngine, engineParams{Users: n, Seed: 1})
			if err != nil {
				return out, err
			}
			wall = append(wall, res.Values["seconds"])
			cpu = append(cpu, res.Values["cpuSeconds"])
			rss = append(rss, res.MaxRSSMiB)
			r.progress("engine", "%s users, run %d/%d: Compute %.2f s (CPU %.2f s; parse before it %.1f s), peak RSS %.0f MiB",
				count(n), i+1, r.opts.Runs, res.Values["seconds"], res.Values["cpuSeconds"], res.Values["parseSeconds"], res.MaxRSSMiB)
		}
		c := count(n) + " users"
		out = append(out,
			figure("figures engine (CPU only)", c, "Compute", "s", wall),
			figure("figures engine (CPU only)", c, "CPU time", "s", cpu),
			figure("figures engine (CPU only)", c, "peak RSS, parse + Compute", "MiB", rss),
		)
	}
	return out, nil
}
