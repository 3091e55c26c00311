package source_test

import (
	"bytes"
	"testing"

	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/portfoliogen"
	"github.com/licenseinsights/licenseinsights/pkg/source"
)

// BenchmarkParseGenerated parses every kind of document of one realistic
// generated customer (pkg/portfoliogen: mixed SKUs, deleted and dormant
// users, concealed names where the customer conceals them), where the
// synthetic benchmarks in memory_test.go repeat one row shape. rows/s
// counts the users and subscriptions handed over; run with -benchmem:
//
//	go test ./pkg/source -run '^$' -bench Generated -benchmem
func BenchmarkParseGenerated(b *testing.B) {
	const users = 10_000
	date, err := license.ParseDate("2026-11-20")
	if err != nil {
		b.Fatal(err)
	}
	cfg := portfoliogen.Config{Seed: 1, Customers: 1, Users: users, Exact: true, ReportDate: date}
	spec := portfoliogen.Customers(cfg)[0]
	run := func(name string, kind portfoliogen.Kind, opts source.Options) {
		b.Run(name, func(b *testing.B) {
			var doc bytes.Buffer
			if err := portfoliogen.Write(&doc, kind, cfg, spec); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(doc.Len()))
			b.ReportAllocs()
			var rows int
			for b.Loop() {
				parsed, err := source.Parse(bytes.NewReader(doc.Bytes()), source.Kind(kind), opts, func(license.User) error { return nil })
				if err != nil {
					b.Fatal(err)
				}
				rows = parsed.Users + len(parsed.Subscriptions)
			}
			if rows == 0 {
				b.Fatalf("the %s document gave no rows", kind)
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
	opts := source.Options{PartnerTenantID: cfg.PartnerTenant(), CustomerID: spec.ID}
	for _, kind := range portfoliogen.Kinds {
		run(string(kind), kind, opts)
	}
	// The ingest's way: one User reused for every row (Options.ReuseUser).
	reuse := opts
	reuse.ReuseUser = true
	run("graph-active-user-detail-reuseuser", portfoliogen.KindGraphActiveUserDetail, reuse)
	run("snapshot-reuseuser", portfoliogen.Kind(source.KindSnapshot), reuse)
}
