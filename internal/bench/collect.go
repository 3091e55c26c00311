package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/licenseinsights/licenseinsights/internal/msemulator"
	"github.com/licenseinsights/licenseinsights/pkg/api/reports"
	"github.com/licenseinsights/licenseinsights/pkg/app"
	"github.com/licenseinsights/licenseinsights/pkg/blob"
	"github.com/licenseinsights/licenseinsights/pkg/collect"
	"github.com/licenseinsights/licenseinsights/pkg/config"
	"github.com/licenseinsights/licenseinsights/pkg/ingest"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/portfoliogen"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

// The collection path: a full collection run from the Microsoft endpoint
// emulator (internal/msemulator, served by this process over HTTPS on a
// loopback port) against the same documents POSTed directly through the
// ingest, in the same run, on the same stack.
//
// The collector is a child (collectJob): the starter lists the customers
// from Partner Center (every page) and queues one message per customer;
// collectWorkers workers hand the messages to collect.Runner.Handle, as
// the collector's event source would, each fetching the customer's
// documents, writing them under uploads/ and waiting for the ingest to
// judge each one. The S3-triggered ingest is not the collector's work (it
// is another function in AWS), so it runs here, in the parent, fed by a
// listing of the run's uploads as EventBridge would feed it: the child's
// peak resident set is the collector's alone. The clock stops when every
// customer's outcome is final (Handle returns only once the ingest has
// judged its documents); then the portfolio the collected figures sum to
// must equal, count for count, that of the direct tenant.
//
// The reference (directJob) is a child that POSTs each customer's
// generated documents (the very bytes the emulator serves) through the
// reports handler (POST /v1/customers/{id}/reports), collectWorkers
// customers at once, each customer's documents in order.

const (
	jobCollect = "collect"
	jobDirect  = "direct"

	collectClientID = "b3a1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
	collectSecret   = "bench~secret"
	// collectWorkers is the collector's concurrency and the reference's.
	collectWorkers = 8
	// collectUsers is the mean users per generated customer.
	collectUsers = 100
)

func init() {
	registerJob(jobCollect, collectJob)
	registerJob(jobDirect, directJob)
}

// collectSizes are the customers of the two runs whose peaks show the
// memory is flat in the number of customers.
func (r *runner) collectSizes() []int {
	if r.opts.Smoke {
		return []int{10, 40}
	}
	// 1,000 customers take about 10 minutes here (two cores shared),
	// collection and reference together: -large only.
	if r.opts.Large {
		return []int{100, 1000}
	}
	return []int{100, 300}
}

// collectConfig is the generated portfolio of n customers.
func collectConfig(n int) portfoliogen.Config {
	return portfoliogen.Config{Seed: 15, Customers: n, Users: collectUsers, ReportDate: benchDate}
}

type collectParams struct {
	Tenant          string `json:"tenant"`
	URL             string `json:"url"`
	CertPEM         []byte `json:"certPem"`
	PartnerTenantID string `json:"partnerTenantId"`
	Workers         int    `json:"workers"`
}

func collectJob(ctx context.Context, env *jobEnv, raw json.RawMessage) (map[string]float64, error) {
	var p collectParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	t, err := license.NewTenant(p.Tenant)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(p.CertPEM)
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, MaxIdleConnsPerHost: 64,
	}}
	tokens, err := collect.NewTokens(p.URL, collectClientID, collectSecret, hc)
	if err != nil {
		return nil, err
	}
	client, err := collect.New(collect.Config{
		Endpoints: collect.Endpoints{Login: p.URL, Graph: p.URL, PartnerCenter: p.URL},
		Tokens:    tokens, PartnerTenantID: p.PartnerTenantID, HTTPClient: hc,
	})
	if err != nil {
		return nil, err
	}
	st := store.New(env.DynamoDB(), env.services.Table)
	queue := make(chan collect.Message, 1<<16)
	runner := &collect.Runner{Store: st, Blob: blob.New(env.S3(), env.services.Bucket), Source: client, Queue: chanQueue(queue),
		IngestWait: 5 * time.Minute, Poll: 20 * time.Millisecond}

	start := time.Now()
	run, err := runner.Start(ctx, t, "api", nil)
	if err != nil {
		return nil, err
	}
	if run.Status != store.RunRunning {
		return nil, fmt.Errorf("run %s started %s: %s", run.ID, run.Status, run.Reason)
	}
	close(queue)
	var (
		wg       sync.WaitGroup
		done     atomic.Int64
		mu       sync.Mutex
		firstErr error
	)
	for range max(p.Workers, 1) {
		wg.Go(func() {
			for m := range queue {
				if err := runner.Handle(ctx, m); err != nil {
					mu.Lock()
					firstErr = cmpErr(firstErr, fmt.Errorf("collecting %s: %w", m.CustomerID, err))
					mu.Unlock()
				}
				if n := done.Add(1); n%100 == 0 {
					jobProgress("%d customers collected (%.1f customers/s)", n, float64(n)/time.Since(start).Seconds())
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return nil, firstErr
	}
	got, err := st.GetCollection(ctx, t, run.ID)
	if err != nil {
		return nil, err
	}
	if got.Status != store.RunSucceeded || got.Counts[store.CollectFailed] != 0 {
		return nil, fmt.Errorf("run %s ended %s with %v: %s", run.ID, got.Status, got.Counts, got.Reason)
	}
	return map[string]float64{"seconds": elapsed.Seconds(), "customers": float64(got.Counts[store.CollectSucceeded]), "calls": float64(env.Calls())}, nil
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// chanQueue is the run's queue: the starter sends, the workers receive.
type chanQueue chan collect.Message

func (q chanQueue) Send(_ context.Context, msgs []collect.Message) error {
	for _, m := range msgs {
		q <- m
	}
	return nil
}

type directParams struct {
	Tenant    string `json:"tenant"`
	Customers int    `json:"customers"`
	Workers   int    `json:"workers"`
}

// directKinds are the documents the collector writes, in its order (the
// Copilot report, for a customer holding Copilot seats, after the users).
var directKinds = []portfoliogen.Kind{portfoliogen.KindGraphSubscribedSkus, portfoliogen.KindGraphDirectorySubscriptions,
	portfoliogen.KindGraphActiveUserDetail, portfoliogen.KindPartnerCenterSubscriptions}

func directJob(ctx context.Context, env *jobEnv, raw json.RawMessage) (map[string]float64, error) {
	var p directParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	cfg := collectConfig(p.Customers)
	appCfg := config.Default()
	appCfg.PartnerTenantID = cfg.PartnerTenant()
	st := store.New(env.DynamoDB(), env.services.Table)
	h := reports.New(ingest.New(st, app.IngestConfig(appCfg)), st, blob.New(env.S3(), env.services.Bucket), appCfg)
	specs := portfoliogen.Customers(cfg)
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		docs     atomic.Int64
	)
	post := func(c portfoliogen.CustomerSpec, kind portfoliogen.Kind, body string) error {
		ev := events.APIGatewayProxyRequest{
			Resource: "/v1/customers/{customerId}/reports", Path: "/v1/customers/" + c.TenantID + "/reports", HTTPMethod: "POST",
			PathParameters: map[string]string{"customerId": c.TenantID}, QueryStringParameters: map[string]string{"kind": string(kind)}, Body: body,
			RequestContext: events.APIGatewayProxyRequestContext{RequestID: "bench", Authorizer: map[string]any{"tenant": p.Tenant, "role": "writer"}},
		}
		payload, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		out, err := h.Invoke(ctx, payload)
		if err != nil {
			return err
		}
		if resp, ok := out.(events.APIGatewayProxyResponse); !ok || resp.StatusCode != http.StatusOK {
			return fmt.Errorf("POST of %s for %s answered %+v", kind, c.TenantID, out)
		}
		docs.Add(1)
		return nil
	}
	start := time.Now()
	for range max(p.Workers, 1) {
		wg.Go(func() {
			var b bytes.Buffer
			for {
				i := int(next.Add(1) - 1)
				if i >= len(specs) {
					return
				}
				c := specs[i]
				kinds := slices.Clone(directKinds)
				if portfoliogen.HasCopilot(cfg, c) {
					kinds = append(kinds, portfoliogen.KindGraphCopilotUsage)
				}
				for _, kind := range kinds {
					b.Reset()
					var err error
					if kind == portfoliogen.KindGraphCopilotUsage {
						err = portfoliogen.WriteCopilotUsage(&b, cfg, c)
					} else {
						err = portfoliogen.Write(&b, kind, cfg, c)
					}
					if err == nil {
						err = post(c, kind, b.String())
					}
					if err != nil {
						mu.Lock()
						firstErr = cmpErr(firstErr, err)
						mu.Unlock()
						next.Store(int64(len(specs)))
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return map[string]float64{"seconds": time.Since(start).Seconds(), "customers": float64(len(specs)), "documents": float64(docs.Load())}, nil
}

// pumpUploads stands in for S3's EventBridge notification and the
// IngestFunction: every new object under the tenant's uploads/ becomes the
// "Object Created" event the ingest receives, collectWorkers at once (one
// per collector worker: each waits on one document at a time). It runs
// until ctx ends.
func (r *runner) pumpUploads(ctx context.Context, tenant string, h *reports.Handler) <-chan error {
	errs := make(chan error, 1)
	go func() {
		defer close(errs)
		infra.FeedNewObjects(ctx, r.stack.S3(), benchBucket, blob.UploadsPrefix+tenant+"/", collectWorkers, 20*time.Millisecond, func(ctx context.Context, key string) {
			detail, _ := json.Marshal(map[string]any{"bucket": map[string]any{"name": benchBucket}, "object": map[string]any{"key": key}})
			if err := h.ObjectCreated(ctx, events.EventBridgeEvent{DetailType: "Object Created", Source: "aws.s3", Detail: detail}); err != nil && ctx.Err() == nil {
				select {
				case errs <- fmt.Errorf("ingest of %s: %w", key, err):
				default:
				}
			}
		})
	}()
	return errs
}

// portfolioOf is the portfolio tenant's figures sum to.
func (r *runner) portfolioOf(ctx context.Context, tenant string) (license.Portfolio, error) {
	t, err := license.NewTenant(tenant)
	if err != nil {
		return license.Portfolio{}, err
	}
	shards, err := store.New(r.stack.DynamoDB(), benchTable, store.WithWorkers(8)).RecomputeRollup(ctx, t)
	if err != nil {
		return license.Portfolio{}, err
	}
	var p license.Portfolio
	for i := range shards {
		p.Merge(&shards[i])
	}
	return p, nil
}

func benchCollect(ctx context.Context, r *runner) ([]Figure, error) {
	var out []Figure
	for _, n := range r.collectSizes() {
		cfg := collectConfig(n)
		emu, err := msemulator.Start(msemulator.Config{Portfolio: cfg, ClientID: collectClientID, ClientSecret: collectSecret}, "")
		if err != nil {
			return out, err
		}
		r.progress("collect", "%d customers (about %d users each): the emulator listens on %s", n, collectUsers, emu.URL)
		appCfg := config.Default()
		appCfg.PartnerTenantID = emu.PartnerTenantID()
		st := store.New(r.stack.DynamoDB(), benchTable)
		h := reports.New(ingest.New(st, app.IngestConfig(appCfg)), st, blob.New(r.stack.S3(), benchBucket), appCfg)

		var rate, rss, secs, refRate, refRSS, refSecs, ratio []float64
		for i := range r.opts.Runs {
			collected, direct := fmt.Sprintf("collect-%d-r%d", n, i+1), fmt.Sprintf("direct-%d-r%d", n, i+1)
			pumpCtx, stopPump := context.WithCancel(ctx)
			pumpErrs := r.pumpUploads(pumpCtx, collected, h)
			res, err := r.job(ctx, jobCollect, collectParams{Tenant: collected, URL: emu.URL, CertPEM: emu.CertPEM, PartnerTenantID: emu.PartnerTenantID(), Workers: collectWorkers})
			stopPump()
			for e := range pumpErrs {
				err = cmpErr(err, e)
			}
			if err != nil {
				_ = emu.Close()
				return out, err
			}
			ref, err := r.job(ctx, jobDirect, directParams{Tenant: direct, Customers: n, Workers: collectWorkers})
			if err != nil {
				_ = emu.Close()
				return out, err
			}
			// Exact: the collected portfolio is the direct one, count for
			// count, and holds every customer.
			a, err := r.portfolioOf(ctx, collected)
			if err == nil {
				var b license.Portfolio
				b, err = r.portfolioOf(ctx, direct)
				if err == nil && (a.Customers != n || !a.SameCounts(&b)) {
					err = fmt.Errorf("the collected portfolio (%d customers) differs from the direct one (%d customers)", a.Customers, b.Customers)
				}
			}
			if err != nil {
				_ = emu.Close()
				return out, err
			}
			s, rs := res.Values["seconds"], ref.Values["seconds"]
			secs, rate, rss = append(secs, s), append(rate, float64(n)/s), append(rss, res.MaxRSSMiB)
			refSecs, refRate, refRSS = append(refSecs, rs), append(refRate, float64(n)/rs), append(refRSS, ref.MaxRSSMiB)
			ratio = append(ratio, s/rs)
			r.progress("collect", "%d customers, run %d/%d: collection %.1f s (%.1f customers/s, peak RSS %.0f MiB); direct POSTs %.1f s (%.1f customers/s, %.0f documents, peak RSS %.0f MiB); ratio %.2f; portfolios equal",
				n, i+1, r.opts.Runs, s, float64(n)/s, res.MaxRSSMiB, rs, float64(n)/rs, ref.Values["documents"], ref.MaxRSSMiB, s/rs)
		}
		_ = emu.Close()
		c := fmt.Sprintf("%d customers", n)
		const name = "collection run from the emulator"
		const refName = "the same documents POSTed directly"
		out = append(out,
			figure(name, c, "time to exact portfolio", "s", secs).against(refName, refSecs),
			figure(name, c, "customers collected", "customers/s", rate).against(refName, refRate),
			figure(name, c, "collection time / direct time", "×", ratio),
			figure(name, c, "peak RSS of the collector", "MiB", rss).against(refName+" (ingest in process)", refRSS),
		)
	}
	return out, nil
}
