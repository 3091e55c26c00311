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
	benchmarkGenerated(b, portfoliogen.Kinds, source.Options{})
}

// BenchmarkParseGeneratedSnapshotReuseUser is BenchmarkParseGenerated's
// snapshot with Options.ReuseUser, as the ingest parses.
func BenchmarkParseGeneratedSnapshotReuseUser(b *testing.B) {
	benchmarkGenerated(b, []portfoliogen.Kind{portfoliogen.Kind(source.KindSnapshot)}, source.Options{ReuseUser: true})
}

func benchmarkGenerated(b *testing.B, kinds []portfoliogen.Kind, base source.Options) {
	const users = 10_000
	date, err := license.ParseDate("2026-11-20")
	if err != nil {
		b.Fatal(err)
	}
	cfg := portfoliogen.Config{Seed: 1, Customers: 1, Users: users, Exact: true, ReportDate: date}
	spec := portfoliogen.Customers(cfg)[0]
	for _, kind := range kinds {
		b.Run(string(kind), func(b *testing.B) {
			var doc bytes.Buffer
			if err := portfoliogen.Write(&doc, kind, cfg, spec); err != nil {
				b.Fatal(err)
			}
			opts := base
			opts.PartnerTenantID, opts.CustomerID = cfg.PartnerTenant(), spec.ID
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
}
