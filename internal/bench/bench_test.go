package bench

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
	"github.com/licenseinsights/licenseinsights/pkg/collect"
)

// The job tests run this test binary as the child, as bench runs itself.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == JobCommand {
		os.Exit(RunJob(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// Jobs for the tests: one that holds a given amount of memory, one that
// fails.
func init() {
	registerJob("test-hold", func(_ context.Context, _ *jobEnv, raw json.RawMessage) (map[string]float64, error) {
		var p struct{ MiB int }
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, err
		}
		// Touch every page, or the kernel never makes it resident.
		b := make([]byte, p.MiB<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		sum := 0
		for i := 0; i < len(b); i += 4096 {
			sum += int(b[i])
		}
		return map[string]float64{"pages": float64(sum)}, nil
	})
	registerJob("test-fail", func(context.Context, *jobEnv, json.RawMessage) (map[string]float64, error) {
		return nil, errors.New("the disk is full")
	})
}

// The child's peak memory is the kernel's account of the child: a job
// holding 200 MiB shows at least that much, one holding 1 MiB far less.
func TestRunJobReportsTheChildsPeakRSS(t *testing.T) {
	big, err := runJob(t.Context(), services{}, "test-hold", map[string]int{"MiB": 200}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	// 200 MiB touched in 4 KiB pages = 51,200 pages.
	if big.Values["pages"] != 51_200 {
		t.Errorf("the job answered %v, want pages=51200", big.Values)
	}
	if big.MaxRSSMiB < 200 {
		t.Errorf("peak RSS %.1f MiB for a job holding 200 MiB", big.MaxRSSMiB)
	}
	// The parent holding 300 MiB must not show in a small child: with
	// vfork, a child's ru_maxrss starts from the parent's high-water mark.
	parent := make([]byte, 300<<20)
	for i := 0; i < len(parent); i += 4096 {
		parent[i] = 1
	}
	small, err := runJob(t.Context(), services{}, "test-hold", map[string]int{"MiB": 1}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if small.MaxRSSMiB >= 100 || small.MaxRSSMiB <= 0 {
		t.Errorf("peak RSS %.1f MiB for a job holding 1 MiB beside a parent holding 300 MiB: want the child's own (well under 100 MiB)", small.MaxRSSMiB)
	}
	t.Logf("small child: VmHWM %.1f MiB, ru_maxrss %.1f MiB", small.MaxRSSMiB, small.RusageMaxRSSMiB)
	runtime.KeepAlive(parent)
	if big.CPU <= 0 || big.Wall <= 0 {
		t.Errorf("CPU %.3f s, wall %.3f s: want both measured", big.CPU, big.Wall)
	}
}

func TestRunJobErrors(t *testing.T) {
	for _, tc := range []struct {
		job, want string
	}{
		{"test-fail", "job test-fail: the disk is full"},
		{"no-such-job", `unknown job "no-such-job"`},
	} {
		_, err := runJob(t.Context(), services{}, tc.job, nil, "", nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("job %s: error %v, want one containing %q", tc.job, err, tc.want)
		}
	}
}

func TestMedianAndPercentile(t *testing.T) {
	hundred := make([]float64, 100)
	for i := range hundred {
		hundred[i] = float64(100 - i) // 100 … 1, unsorted on purpose
	}
	for _, tc := range []struct {
		name string
		got  float64
		want float64
	}{
		{"median of an odd count is the middle one", median([]float64{3, 1, 2}), 2},
		{"median of an even count is the mean of the middle two", median([]float64{4, 1, 3, 2}), 2.5},
		{"median of one", median([]float64{7}), 7},
		// Nearest rank: ceil(0.99 × 100) = 99th smallest of 1…100.
		{"p99 of 1…100", percentile(hundred, 99), 99},
		// ceil(0.5 × 100) = 50th smallest.
		{"p50 of 1…100", percentile(hundred, 50), 50},
		// ceil(0.99 × 3) = 3rd smallest: the largest.
		{"p99 of three", percentile([]float64{10, 30, 20}, 99), 30},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	if !math.IsNaN(median(nil)) || !math.IsNaN(percentile(nil, 99)) {
		t.Error("median and percentile of nothing should be NaN")
	}
}

func TestFigureRatio(t *testing.T) {
	f := figure("ingest", "10k users", "time", "s", []float64{12, 10, 11}).against("plain loop", []float64{4, 5, 6})
	// Medians 11 and 5: 11 ÷ 5 = 2.2.
	if f.Project.Median != 11 || f.Project.Min != 10 || f.Project.Max != 12 {
		t.Errorf("project %+v, want median 11 (10–12)", f.Project)
	}
	if f.Reference == nil || f.Reference.Median != 5 || f.Ratio == nil || math.Abs(*f.Ratio-2.2) > 1e-9 {
		t.Errorf("reference %+v, ratio %v; want median 5 and ratio 2.2", f.Reference, f.Ratio)
	}
	zero := figure("x", "y", "z", "s", []float64{1}).against("nothing", []float64{0})
	if zero.Ratio != nil {
		t.Errorf("a zero reference gave ratio %v, want none", *zero.Ratio)
	}
}

func TestWriteTable(t *testing.T) {
	r := &Report{Figures: []Figure{
		figure("export users", "100k user rows", "rows", "rows/s", []float64{900, 1000, 1100}).against("plain Query loop", []float64{2000, 2000, 2000}),
		figure("export users", "100k user rows", "CSV size", "bytes", []float64{3 << 20}),
	}, Failures: []string{"rollup: the stream stopped"}}
	var b strings.Builder
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| path | case | measure | project: median (min–max) | reference: median (min–max) | ratio |",
		"| export users | 100k user rows | rows (rows/s) | 1000 (900–1100) | plain Query loop: 2000 | 0.50 |",
		"| export users | 100k user rows | CSV size (bytes) | 3.0 MiB | — | — |",
		"not measured: rollup: the stream stopped",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int]string{100: "100", 1500: "1500", 10_000: "10k", 100_000: "100k", 1_000_000: "1M", 2_500_000: "2500k"} {
		if got := count(n); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
}

// The proxy event carries the tenant where the functions read it: the
// authorizer's context, never the path or query.
func TestProxyEvent(t *testing.T) {
	ev := proxyEvent(readTarget{Tenant: "acme", Resource: "/v1/customers/{customerId}/insights", Path: "/v1/customers/c1/insights",
		PathParams: map[string]string{"customerId": "c1"}, Query: map[string]string{"window": "28"}})
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var back events.APIGatewayProxyRequest
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.RequestContext.Authorizer["tenant"] != "acme" || back.RequestContext.Authorizer["role"] != "reader" {
		t.Errorf("authorizer %v, want tenant acme, role reader", back.RequestContext.Authorizer)
	}
	if back.HTTPMethod != "GET" || back.PathParameters["customerId"] != "c1" || back.MultiValueQueryStringParameters["window"][0] != "28" {
		t.Errorf("event %+v", back)
	}
}

// A function without a sample event gets one made from the template.
func TestFirstEventFallbacks(t *testing.T) {
	tmpl, err := infra.RepoTemplate()
	if err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir() // no events/ here
	payload, from, err := firstEvent(empty, "portfolio", "PortfolioFunction", tmpl)
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(payload, &ev); err != nil || ev.HTTPMethod != "GET" || !strings.HasPrefix(ev.Path, "/v1/") || !strings.HasPrefix(from, "GET ") {
		t.Errorf("portfolio's event (%s): %s, %v; want a GET of one of its routes", from, payload, err)
	}
	payload, _, err = firstEvent(empty, "authorizer", "AuthorizerFunction", tmpl)
	var token events.APIGatewayCustomAuthorizerRequest
	if err != nil || json.Unmarshal(payload, &token) != nil || token.Type != "TOKEN" || token.AuthorizationToken == "" {
		t.Errorf("authorizer's event: %s, %v; want a TOKEN request", payload, err)
	}
	payload, _, err = firstEvent(empty, "aggregate", "AggregateFunction", tmpl)
	if err != nil || string(payload) != `{"Records":[]}` {
		t.Errorf("aggregate's event: %s, %v; want an empty batch", payload, err)
	}
}

func TestFormatStat(t *testing.T) {
	for _, tc := range []struct {
		s    Stat
		unit string
		want string
	}{
		{statOf([]float64{4009, 4009, 4009}), "calls", "4009"},
		{statOf([]float64{2, 2, 2.004}), "calls", "2.00"},
		{statOf([]float64{86.5, 68.04, 91.8}), "s", "86.5 (68.0–91.8)"},
		{statOf([]float64{1156.2, 1089, 1470.4}), "items/s", "1156 (1089–1470)"},
		{statOf([]float64{0.27, 0.25, 0.36}), "s", "0.27 (0.25–0.36)"},
		{statOf([]float64{22 << 20}), "bytes", "22.0 MiB"},
		{statOf([]float64{1536}), "bytes", "1.5 KiB"},
	} {
		if got := formatStat(tc.s, tc.unit); got != tc.want {
			t.Errorf("formatStat(%v, %s) = %q, want %q", tc.s.Runs, tc.unit, got, tc.want)
		}
	}
}

// A child's progress lines reach the parent however the writes split
// them; everything else goes to the log.
func TestProgressRouter(t *testing.T) {
	var got []string
	var rest strings.Builder
	p := &progressRouter{progress: func(s string) { got = append(got, s) }, rest: &rest}
	for _, chunk := range []string{"bench-progress: 10 of", " 20 done\n{\"level\":\"WARN\"}\nbench-", "progress: 20 of 20 done\n"} {
		if _, err := p.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Join(got, "|") != "10 of 20 done|20 of 20 done" || rest.String() != "{\"level\":\"WARN\"}\n" {
		t.Errorf("progress %q, rest %q", got, rest.String())
	}
}

// TestCollectPathIsSelectable: -only collect names the collection path,
// and its queue hands the collector every message the starter sends, in
// order.
func TestCollectPathIsSelectable(t *testing.T) {
	if !knownPath("collect") || !strings.Contains(pathNames(), "collect") {
		t.Fatalf("paths %q: want collect among them", pathNames())
	}
	q := make(chanQueue, 3)
	msgs := []collect.Message{{Tenant: "a", CustomerID: "c1"}, {Tenant: "a", CustomerID: "c2"}, {Tenant: "a", CustomerID: "c3"}}
	if err := q.Send(t.Context(), msgs); err != nil {
		t.Fatal(err)
	}
	close(q)
	var got []string
	for m := range q {
		got = append(got, m.CustomerID)
	}
	if strings.Join(got, ",") != "c1,c2,c3" {
		t.Fatalf("queued %v, want c1,c2,c3", got)
	}
}
