package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/licenseinsights/licenseinsights/internal/devstack/devstacktest"
	"github.com/licenseinsights/licenseinsights/pkg/ingest"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/source"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

func TestMain(m *testing.M) { devstacktest.Main(m) }

// A customer ingested under version 1's workload rule (Skype counted):
// SPE_E3 2 sold, both users licensed for exchange and skype, one active in
// exchange, the other only in skype → usage (1 + 1) ÷ (2 + 2) = 50.0 %.
// The command recomputes it under the defaults: skype retired → 1 ÷ 2 =
// 50.0 % still, but the skype-only user becomes an inactive licensed user
// (0 → 1), which is what the test checks, with the command's output.
func TestRecomputeCommand(t *testing.T) {
	db, table := devstacktest.Table(t)
	st := store.New(db, table)
	tn, _ := license.NewTenant("demo-partner")
	snap := `{"schema": "license-snapshot/v1", "customer": {"id": "fabrikam", "name": "Fabrikam"}, "reportDate": "2026-11-20",
 "subscriptions": [{"id": "s1", "sku": "SPE_E3", "quantity": 2, "status": "active", "trial": false, "channel": "own"}],
 "users": [
  {"key": "a", "licenses": [{"sku": "SPE_E3"}], "workloads": {"exchange": {"licensed": true, "lastActivity": "2026-11-19"}, "skype": {"licensed": true}}},
  {"key": "b", "licenses": [{"sku": "SPE_E3"}], "workloads": {"exchange": {"licensed": true}, "skype": {"licensed": true, "lastActivity": "2026-11-19"}}}]}`
	v1 := ingest.New(st, ingest.Config{RetiredWorkloads: []license.Workload{}})
	if _, err := v1.Ingest(t.Context(), ingest.Request{Tenant: tn, CustomerID: "fabrikam", Kind: source.KindSnapshot,
		Body: strings.NewReader(snap), Now: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	inactive := func() int {
		cf, err := st.Figures(t.Context(), tn, "fabrikam")
		if err != nil {
			t.Fatal(err)
		}
		w, _ := cf.Figures.Window(28)
		return w.InactiveLicensedUsers
	}
	if n := inactive(); n != 0 {
		t.Fatalf("before: %d inactive licensed users, want 0", n)
	}
	open := func(context.Context, string) (*store.Store, error) { return st, nil }
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"-tenant", "demo-partner"}, &out, &errOut, func(string) string { return "" }, open)
	if code != 0 || !strings.Contains(out.String(), "demo-partner\tfabrikam\tversion 2") {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errOut.String())
	}
	if n := inactive(); n != 1 {
		t.Errorf("after: %d inactive licensed users, want 1 (b is active only in the retired skype)", n)
	}
	for _, bad := range [][]string{{}, {"-tenant", "bad#tenant"}, {"-nope"}} {
		if code := run(t.Context(), bad, &out, &errOut, func(string) string { return "" }, open); code != 1 {
			t.Errorf("%q: exit %d, want 1", bad, code)
		}
	}
}
