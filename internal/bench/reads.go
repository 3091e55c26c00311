package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/licenseinsights/licenseinsights/pkg/api/proxyevent"
	"github.com/licenseinsights/licenseinsights/pkg/app"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/licenseinsights/licenseinsights/pkg/api/customers"
	"github.com/licenseinsights/licenseinsights/pkg/config"
)

// Reads through the functions' own handlers, invoked with the API Gateway
// proxy event AWS would send (authorizer context included), one request at
// a time so that each latency is one request's. Two targets that must cost
// the same — a small and a huge customer, a small and a huge portfolio —
// are read in alternation by one child, so that whatever else the machine
// does falls on both alike; the first requests of each warm the process
// and are not counted.

const jobReads = "reads"

func init() { registerJob(jobReads, readsJob) }

// readTarget is one GET request.
type readTarget struct {
	Tenant     string            `json:"tenant"`
	Resource   string            `json:"resource"` // the route, e.g. /v1/customers/{customerId}/insights
	Path       string            `json:"path"`
	PathParams map[string]string `json:"pathParams,omitempty"`
	Query      map[string]string `json:"query,omitempty"`
}

type readsParams struct {
	Function string       `json:"function"` // "insights" or "portfolio"
	Targets  []readTarget `json:"targets"`
	Requests int          `json:"requests"` // measured requests per target
	Warmup   int          `json:"warmup"`   // unmeasured requests per target first
}

func readsJob(ctx context.Context, env *jobEnv, raw json.RawMessage) (map[string]float64, error) {
	var p readsParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	var (
		h   lambda.Handler
		err error
	)
	switch p.Function {
	case "insights":
		h, err = app.Insights(env.Env(), config.Default())
	case "portfolio":
		h, err = app.Portfolio(env.Env(), config.Default())
	default:
		err = fmt.Errorf("no function %q to read from", p.Function)
	}
	if err != nil {
		return nil, err
	}
	payloads := make([][]byte, len(p.Targets))
	for i, t := range p.Targets {
		if payloads[i], err = json.Marshal(proxyEvent(t)); err != nil {
			return nil, err
		}
	}
	latencies := make([][]float64, len(p.Targets))
	calls := make([]int64, len(p.Targets))
	bodyBytes := make([]int, len(p.Targets))
	for round := range p.Warmup + p.Requests {
		for i, payload := range payloads {
			before := env.Calls()
			start := time.Now()
			out, err := h.Invoke(ctx, payload)
			elapsed := time.Since(start)
			if err != nil {
				return nil, fmt.Errorf("GET %s: %w", p.Targets[i].Path, err)
			}
			var resp events.APIGatewayProxyResponse
			if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != http.StatusOK {
				return nil, fmt.Errorf("GET %s answered %d %s (%v)", p.Targets[i].Path, resp.StatusCode, truncate(resp.Body, 300), err)
			}
			if round >= p.Warmup {
				latencies[i] = append(latencies[i], elapsed.Seconds()*1000)
				calls[i] += env.Calls() - before
				bodyBytes[i] = len(resp.Body)
			}
		}
	}
	values := map[string]float64{}
	for i, l := range latencies {
		k := strconv.Itoa(i)
		values["median."+k] = median(l)
		values["p99."+k] = percentile(l, 99)
		values["calls."+k] = float64(calls[i]) / float64(len(l))
		values["bytes."+k] = float64(bodyBytes[i])
	}
	return values, nil
}

// proxyEvent is the REST API proxy event API Gateway sends after the
// authorizer let a reader of the tenant in.
func proxyEvent(t readTarget) events.APIGatewayProxyRequest {
	return proxyevent.Request{
		Resource: t.Resource, Path: t.PathParams, Query: t.Query, Tenant: t.Tenant, Role: "reader",
		Headers: map[string]string{"Accept": "application/json", "Host": "bench.execute-api.us-east-1.amazonaws.com"},
	}.Event()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// readPair measures targets a (the project's case) and b (its reference)
// over the runs and returns the latency and call figures.
func readPair(ctx context.Context, r *runner, pathName, function, cas, refName string, a, b readTarget, requests int) ([]Figure, error) {
	var aMed, aP99, bMed, bP99, aCalls, bCalls []float64
	for i := range r.opts.Runs {
		res, err := r.job(ctx, jobReads, readsParams{Function: function, Targets: []readTarget{a, b}, Requests: requests, Warmup: min(20, requests/5+1)})
		if err != nil {
			return nil, err
		}
		v := res.Values
		aMed, aP99, bMed, bP99 = append(aMed, v["median.0"]), append(aP99, v["p99.0"]), append(bMed, v["median.1"]), append(bP99, v["p99.1"])
		aCalls, bCalls = append(aCalls, v["calls.0"]), append(bCalls, v["calls.1"])
		r.progress(pathName, "run %d/%d: %s median %.1f ms, p99 %.1f ms, %.1f calls; %s median %.1f ms, p99 %.1f ms, %.1f calls (answers %s and %s)",
			i+1, r.opts.Runs, cas, v["median.0"], v["p99.0"], v["calls.0"], refName, v["median.1"], v["p99.1"], v["calls.1"],
			formatValue(v["bytes.0"], "bytes"), formatValue(v["bytes.1"], "bytes"))
	}
	return []Figure{
		figure(pathName, cas, "median latency", "ms", aMed).against(refName, bMed),
		figure(pathName, cas, "p99 latency", "ms", aP99).against(refName, bP99),
		figure(pathName, cas, "DynamoDB calls per request", "calls", aCalls).against(refName, bCalls),
	}, nil
}

// readRequests is how many requests per target and run.
func (r *runner) readRequests() int {
	if r.opts.Smoke {
		return 50
	}
	return 300
}

// benchInsights reads a 100-user and a 100k-user customer's insights.
func benchInsights(ctx context.Context, r *runner) ([]Figure, error) {
	big, err := r.customerOf(ctx, r.bigCustomer())
	if err != nil {
		return nil, err
	}
	small, err := r.customerOf(ctx, 100)
	if err != nil {
		return nil, err
	}
	target := func(c ingestedCustomer) readTarget {
		return readTarget{
			Tenant: c.Tenant, Resource: customers.RouteInsights, Path: "/v1/customers/" + c.Customer + "/insights",
			PathParams: map[string]string{"customerId": c.Customer}, Query: map[string]string{"window": "28"},
		}
	}
	return readPair(ctx, r, "insights read", "insights", count(big.Users)+"-user customer", "100-user customer", target(big), target(small), r.readRequests())
}

// customerOf is an ingested customer of n users: the one the ingest path
// left, or one ingested now (not measured).
func (r *runner) customerOf(ctx context.Context, n int) (ingestedCustomer, error) {
	if c, ok := r.ingested[n]; ok {
		return c, nil
	}
	cfg, spec := benchCustomer(n)
	r.progress("setup", "ingesting a %s-user customer", count(n))
	doc, err := r.generate(cfg, spec, "snapshot")
	if err != nil {
		return ingestedCustomer{}, err
	}
	tenant := "reads"
	uploadID, key, err := r.stageUpload(ctx, tenant, spec.ID, "snapshot", doc)
	if err != nil {
		return ingestedCustomer{}, err
	}
	if _, err := r.job(ctx, jobIngest, ingestParams{Tenant: tenant, UploadID: uploadID, Key: key, PartnerTenantID: cfg.PartnerTenant()}); err != nil {
		return ingestedCustomer{}, err
	}
	c := ingestedCustomer{Tenant: tenant, Customer: spec.ID, Users: n}
	r.ingested[n] = c
	return c, nil
}
