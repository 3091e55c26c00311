package customers

import (
	"fmt"
	"github.com/licenseinsights/licenseinsights/pkg/license/licensetest"
	"io"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/licenseinsights/licenseinsights/pkg/catalog"
	"github.com/licenseinsights/licenseinsights/pkg/ingest"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/portfoliogen"
	"github.com/licenseinsights/licenseinsights/pkg/source"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

// TestInsightsLatency measures the insights read of a 100-user and a
// 100,000-user customer on the local stack. It reports, it does not judge
// by the clock (timings stay out of pass/fail); what it asserts is the
// reason the two are alike: both reads make the same four DynamoDB calls
// (figures, trend point, price list, data freshness).
// Ingesting 100,000 users takes a while, so it runs only when asked:
//
//	LI_LATENCY=1 go test ./pkg/api/customers -run TestInsightsLatency -v
func TestInsightsLatency(t *testing.T) {
	if os.Getenv("LI_LATENCY") == "" {
		t.Skip("set LI_LATENCY=1 to measure the insights read latency (ingests 100,000 users)")
	}
	s := newStack(t, testConfig(t))
	const tenant = "tenant-latency"
	d, _ := license.ParseDate(reportDate)
	svc := ingest.New(store.New(s.env.DynamoDB, s.env.Table), ingest.Config{ProductName: catalog.Name})

	sizes := []int{100, 100_000}
	ids := make([]string, len(sizes))
	for i, n := range sizes {
		cfg := portfoliogen.Config{Seed: int64(40 + i), Customers: 1, Users: n, Exact: true, ReportDate: d}
		c := portfoliogen.Customers(cfg)[0]
		ids[i] = c.ID
		// The document streams from the generator into the ingestion,
		// as a large upload does: it is never held whole in memory.
		r, w := io.Pipe()
		go func() { w.CloseWithError(portfoliogen.WriteSnapshot(w, cfg, c)) }()
		start := time.Now()
		out, err := svc.Ingest(t.Context(), ingest.Request{Tenant: licensetest.Tenant(t, tenant), CustomerID: c.ID, Kind: source.KindSnapshot, Body: r})
		if err != nil {
			t.Fatalf("ingesting %d users: %v", n, err)
		}
		t.Logf("ingested %s: %d users in %s", c.ID, out.Users, time.Since(start).Round(time.Millisecond))
	}

	const warmup, rounds = 20, 500
	samples := make([][]time.Duration, len(sizes))
	for round := -warmup; round < rounds; round++ {
		for i := range sizes { // interleaved, so that drift hits both alike
			before := s.calls.Load()
			start := time.Now()
			resp := insightsOf(t, s, tenant, ids[i], nil)
			took := time.Since(start)
			if resp.status != http.StatusOK {
				t.Fatalf("%d %s", resp.status, resp.body)
			}
			if calls := s.calls.Load() - before; calls != 4 {
				t.Fatalf("%d users: %d DynamoDB calls, want 4", sizes[i], calls)
			}
			if round >= 0 {
				samples[i] = append(samples[i], took)
			}
		}
	}
	for i, n := range sizes {
		x := slices.Clone(samples[i])
		slices.Sort(x)
		median, p99 := x[len(x)/2], x[len(x)*99/100]
		t.Logf("insights read, %7d users: median %s, p99 %s (%d reads, 3 DynamoDB calls each)", n, median.Round(10*time.Microsecond), p99.Round(10*time.Microsecond), len(x))
		fmt.Fprintf(os.Stderr, "LATENCY users=%d median=%s p99=%s\n", n, median, p99)
	}
}
