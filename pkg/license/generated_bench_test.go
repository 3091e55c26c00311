package license_test

import (
	"testing"
	"time"

	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/portfoliogen"
)

// BenchmarkComputeGenerated runs the engine on a realistic generated
// customer of 100,000 users (pkg/portfoliogen: its SKU mix, over-assigned
// and trial SKUs, deleted, dormant and unlicensed-but-active users), where
// BenchmarkCompute uses a uniform synthetic one. Run with -benchmem:
//
//	go test ./pkg/license -run '^$' -bench Compute -benchmem
func BenchmarkComputeGenerated(b *testing.B) {
	const users = 100_000
	date, err := license.ParseDate("2026-11-20")
	if err != nil {
		b.Fatal(err)
	}
	cfg := portfoliogen.Config{Seed: 1, Customers: 1, Users: users, Exact: true, ReportDate: date}
	spec := portfoliogen.Customers(cfg)[0]
	in := license.Input{
		Customer:      license.Customer{ID: spec.ID, Name: spec.Name},
		ReportDate:    date,
		Subscriptions: portfoliogen.Subscriptions(cfg, spec),
	}
	if in.Users, err = portfoliogen.Users(cfg, spec); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if r := license.Compute(in); len(r.Entitled) != users {
			b.Fatalf("%d entitled flags for %d users", len(r.Entitled), users)
		}
	}
	b.ReportMetric(float64(users)*float64(b.N)/b.Elapsed().Seconds(), "users/s")
}

// BenchmarkCombineSubscriptions combines the four subscription sources of
// one generated customer, as every ingest does.
func BenchmarkCombineSubscriptions(b *testing.B) {
	date, err := license.ParseDate("2026-11-20")
	if err != nil {
		b.Fatal(err)
	}
	cfg := portfoliogen.Config{Seed: 1, Customers: 1, Users: 1000, Exact: true, ReportDate: date}
	subs := portfoliogen.Subscriptions(cfg, portfoliogen.Customers(cfg)[0])
	set := &license.SubscriptionSet{Subscriptions: subs, AcceptedAt: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}
	src := license.Sources{Snapshot: set, Directory: set, SubscribedSkus: set, PartnerCenter: set}
	b.ReportAllocs()
	for b.Loop() {
		if out := license.CombineSubscriptions(src); len(out) == 0 {
			b.Fatal("no subscriptions combined")
		}
	}
}
