package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/licenseinsights/licenseinsights/pkg/api/portfolio"
	"github.com/licenseinsights/licenseinsights/pkg/catalog"
	"github.com/licenseinsights/licenseinsights/pkg/ingest"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/portfoliogen"
	"github.com/licenseinsights/licenseinsights/pkg/source"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

// Portfolios of many customers are made in one of two ways. populate
// ingests each customer's native snapshot through the ingest service,
// several at once, as uploads arriving together would: the roll-up path
// measures exactly that. seed computes each customer's figures with the
// engine and writes the items a commit would write (store.SeedItems), 25 to
// a BatchWriteItem: the portfolio read only needs the items to be there,
// and 10,000 real ingests would take most of the run's 15 minutes.

const (
	jobPopulate = "populate"
	jobSeed     = "seed"
)

func init() {
	registerJob(jobPopulate, populateJob)
	registerJob(jobSeed, seedJob)
}

type populateParams struct {
	Table     string `json:"table"`
	Tenant    string `json:"tenant"`
	Customers int    `json:"customers"`
	Users     int    `json:"users"` // mean users per customer
	Seed      int64  `json:"seed"`
	Workers   int    `json:"workers"`
}

// portfolioConfig is the generated portfolio p describes.
func (p populateParams) config() portfoliogen.Config {
	return portfoliogen.Config{Seed: p.Seed, Customers: p.Customers, Users: p.Users, ReportDate: benchDate}
}

func populateJob(ctx context.Context, env *jobEnv, raw json.RawMessage) (map[string]float64, error) {
	var p populateParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	t, err := license.NewTenant(p.Tenant)
	if err != nil {
		return nil, err
	}
	cfg := p.config()
	svc := ingest.New(store.New(env.DynamoDB(), p.Table), ingest.Config{PartnerTenantID: cfg.PartnerTenant(), ProductName: catalog.Name})
	specs := portfoliogen.Customers(cfg)
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	start := time.Now()
	var done atomic.Int64
	stopTicker := make(chan struct{})
	defer close(stopTicker)
	go func() {
		tick := time.NewTicker(15 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stopTicker:
				return
			case <-tick.C:
				n := done.Load()
				jobProgress("%d of %d customers ingested (%.1f customers/s)", n, len(specs), float64(n)/time.Since(start).Seconds())
			}
		}
	}()
	for range max(p.Workers, 1) {
		wg.Go(func() {
			var doc bytes.Buffer
			for {
				i := int(next.Add(1) - 1)
				if i >= len(specs) {
					return
				}
				doc.Reset()
				err := portfoliogen.WriteSnapshot(&doc, cfg, specs[i])
				if err == nil {
					_, err = svc.Ingest(ctx, ingest.Request{Tenant: t, CustomerID: specs[i].ID, Kind: source.KindSnapshot, Body: &doc})
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("ingesting customer %d (%s): %w", i, specs[i].ID, err)
					}
					mu.Unlock()
					next.Store(int64(len(specs))) // stop the others
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	values := map[string]float64{"seconds": time.Since(start).Seconds(), "customers": float64(len(specs))}
	for op, n := range env.CallsByOperation() {
		values["calls "+op] = float64(n)
	}
	return values, nil
}

func seedJob(ctx context.Context, env *jobEnv, raw json.RawMessage) (map[string]float64, error) {
	var p populateParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	t, err := license.NewTenant(p.Tenant)
	if err != nil {
		return nil, err
	}
	cfg := p.config()
	st := store.New(env.DynamoDB(), p.Table)
	now := time.Now().UTC()
	start := time.Now()
	var items []map[string]types.AttributeValue
	for _, spec := range portfoliogen.Customers(cfg) {
		var users []license.User
		err := portfoliogen.EachUser(cfg, spec, func(u *license.User) error {
			c := *u
			c.Licenses, c.Workloads = slices.Clone(u.Licenses), slices.Clone(u.Workloads)
			users = append(users, c)
			return nil
		})
		if err != nil {
			return nil, err
		}
		subs := portfoliogen.Subscriptions(cfg, spec)
		result := license.Compute(license.Input{
			Customer: license.Customer{ID: spec.ID, Name: spec.Name, TenantID: spec.TenantID}, ReportDate: cfg.ReportDate,
			Subscriptions: subs, Users: users, ProductName: catalog.Name,
		})
		seeded, err := st.SeedItems(store.Commit{
			Tenant: t, CustomerID: spec.ID, Generation: 1, Shards: 1, Users: len(users), UsersKind: string(source.KindSnapshot),
			Figures: &result.Figures, Subscriptions: subs, Upsell: upsell(&result.Figures), Now: now,
			Source: store.SourceRecord{
				Kind: string(source.KindSnapshot), SHA256: "seeded", AcceptedAt: now, ReportDate: cfg.ReportDate,
				Rows: len(users) + len(subs), Users: len(users), HasSubscriptions: true, HasUsers: true, Subscriptions: subs,
			},
		})
		if err != nil {
			return nil, err
		}
		items = append(items, seeded...)
	}
	if err := batchWrite(ctx, env.DynamoDB(), p.Table, items, max(p.Workers, 1)); err != nil {
		return nil, err
	}
	return map[string]float64{"seconds": time.Since(start).Seconds(), "customers": float64(p.Customers), "items": float64(len(items))}, nil
}

// upsell is the ingest's rule (pkg/ingest, default thresholds): deployment
// and usage of the default window, as served (one decimal), both reach
// their minimum.
func upsell(f *license.Figures) bool {
	th := license.Thresholds{UpsellDeploymentPercent: license.DefaultUpsellDeploymentPercent, UpsellUsagePercent: license.DefaultUpsellUsagePercent}
	return th.IsUpsellCandidate(f)
}

// populate ingests a portfolio in a child and reports its progress.
func (r *runner) populate(ctx context.Context, pathName string, p populateParams) error {
	r.progress(pathName, "ingesting %d customers (about %d users each) for tenant %s", p.Customers, p.Users, p.Tenant)
	res, err := r.job(ctx, jobPopulate, p)
	if err != nil {
		return err
	}
	var calls []string
	for _, k := range slices.Sorted(maps.Keys(res.Values)) {
		if op, ok := strings.CutPrefix(k, "calls "); ok {
			calls = append(calls, fmt.Sprintf("%s %.1f", strings.TrimPrefix(op, "DynamoDB_20120810."), res.Values[k]/float64(p.Customers)))
		}
	}
	r.progress(pathName, "%d customers ingested in %.0f s (%.1f customers/s; calls per customer: %s)",
		p.Customers, res.Values["seconds"], res.Values["customers"]/res.Values["seconds"], strings.Join(calls, ", "))
	return nil
}

// benchPortfolio reads the portfolio, and its reclaim calendar, of 10,000
// customers against those of 10, both seeded alike. The roll-ups are made by RepairRollup (the same
// sums the stream keeps; the stream itself is the roll-up path's
// business).
func benchPortfolio(ctx context.Context, r *runner) ([]Figure, error) {
	sizes := r.portfolioSizes()
	tenants := make([]string, len(sizes))
	st := store.New(r.stack.DynamoDB(), benchTable, store.WithWorkers(8))
	for i, n := range sizes {
		tenants[i] = fmt.Sprintf("portfolio-%d", n)
		r.progress("portfolio", "seeding %d customers (about 20 users each) for tenant %s", n, tenants[i])
		res, err := r.job(ctx, jobSeed, populateParams{Table: benchTable, Tenant: tenants[i], Customers: n, Users: 20, Seed: 2, Workers: 4})
		if err != nil {
			return nil, err
		}
		t, _ := license.NewTenant(tenants[i])
		start := time.Now()
		if _, err := st.RepairRollup(ctx, t, true, time.Now()); err != nil {
			return nil, err
		}
		r.progress("portfolio", "%d customers seeded in %.1f s (%.0f items), rolled up in %.1f s",
			n, res.Values["seconds"], res.Values["items"], time.Since(start).Seconds())
		// The reclaim calendar's lines and totals, as the stream consumer
		// would have kept them.
		start = time.Now()
		if _, err := st.RebuildReclaim(ctx, t); err != nil {
			return nil, err
		}
		r.progress("portfolio", "reclaim calendar of %d customers built in %.1f s", n, time.Since(start).Seconds())
		roll, err := st.Portfolio(ctx, t)
		if err != nil {
			return nil, err
		}
		if roll.Portfolio.Customers != n {
			return nil, fmt.Errorf("the roll-up of %s counts %d customers, not %d", tenants[i], roll.Portfolio.Customers, n)
		}
	}
	target := func(tenant string) readTarget {
		return readTarget{Tenant: tenant, Resource: portfolio.RoutePortfolio, Path: portfolio.RoutePortfolio,
			Query: map[string]string{"window": "28", "top": "10"}}
	}
	big, small := fmt.Sprintf("%d customers", sizes[1]), fmt.Sprintf("%d customers", sizes[0])
	out, err := readPair(ctx, r, "portfolio read", "portfolio", big, small, target(tenants[1]), target(tenants[0]), r.readRequests())
	if err != nil {
		return out, err
	}
	// The reclaim calendar: a page of lines, the totals shards and the
	// price list, whatever the number of customers.
	calendar := func(tenant string) readTarget {
		return readTarget{Tenant: tenant, Resource: portfolio.RouteReclaim, Path: portfolio.RouteReclaim,
			Query: map[string]string{"days": "30", "limit": "100"}}
	}
	cal, err := readPair(ctx, r, "portfolio reclaim calendar read", "portfolio", big, small, calendar(tenants[1]), calendar(tenants[0]), r.readRequests())
	out = append(out, cal...)
	if err != nil {
		return out, err
	}
	// The analytics rows are a listing (like Partner Center's): every
	// customer's figures are read for totalCount, so their cost is meant to
	// grow with the customers; measured, with -large (seconds a request at
	// 10,000 customers), to show by how much.
	if !r.opts.Large {
		return out, nil
	}
	analytics := func(tenant string) readTarget {
		return readTarget{Tenant: tenant, Resource: portfolio.RouteDeployment, Path: portfolio.RouteDeployment,
			Query: map[string]string{"$top": "100"}}
	}
	rows, err := readPair(ctx, r, "analytics rows (a listing)", "portfolio", big, small, analytics(tenants[1]), analytics(tenants[0]), 5)
	return append(out, rows...), err
}
