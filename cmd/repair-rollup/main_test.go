package main

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/licenseinsights/licenseinsights/internal/devstack/devstacktest"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

func TestMain(m *testing.M) { devstacktest.Main(m) }

// Customers committed while no aggregator ran: the roll-up is empty, the
// check finds it, -write repairs it, and the check then passes.
func TestRepairCommand(t *testing.T) {
	db, table := devstacktest.Table(t)
	st := store.New(db, table)
	tn, _ := license.NewTenant("demo-partner")
	for i := range 5 {
		id := "c" + strconv.Itoa(i)
		f := &license.Figures{Customer: license.Customer{ID: id, Name: "Customer " + id}, ReportDate: 20777,
			Products: []license.ProductFigures{{SKU: "SPE_E3", Sold: license.ChannelCounts{Own: 10 + i}, Assigned: 8, Counted: true}}}
		if err := st.Commit(t.Context(), store.Commit{Tenant: tn, CustomerID: id, Generation: 1, Shards: 1, Figures: f,
			Source: store.SourceRecord{Kind: "snapshot", SHA256: id}}); err != nil {
			t.Fatal(err)
		}
	}
	open := func(context.Context, string) (*store.Store, error) { return st, nil }
	runIt := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(t.Context(), args, &out, &errOut, open)
		return code, out.String(), errOut.String()
	}

	code, out, errOut := runIt("-tenant", "demo-partner")
	if code != exitDifferences || !strings.Contains(out, "DIFFERS") || !strings.Contains(errOut, "-write") {
		t.Fatalf("check of an empty roll-up: %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runIt("-tenant", "demo-partner", "-write")
	if code != exitOK || !strings.Contains(out, "repaired") {
		t.Fatalf("repair: %d\n%s", code, out)
	}
	code, out, _ = runIt("-tenant", "demo-partner")
	if code != exitOK || strings.Contains(out, "DIFFERS") || strings.Contains(out, "repaired") {
		t.Fatalf("check after the repair: %d\n%s", code, out)
	}
	r, err := st.Portfolio(t.Context(), tn)
	if err != nil {
		t.Fatal(err)
	}
	// Sold 10+11+12+13+14 = 60, assigned 5 × 8 = 40.
	if d := r.Portfolio.Deployment(); r.Portfolio.Customers != 5 || d.Sold.Total() != 60 || d.Assigned != 40 {
		t.Errorf("repaired portfolio: %d customers, %+v", r.Portfolio.Customers, d)
	}

	for _, bad := range [][]string{{}, {"-tenant", "bad#tenant"}, {"-tenant", "x", "extra"}, {"-nope"}} {
		if code, _, _ := runIt(bad...); code != exitError {
			t.Errorf("%q: exit %d, want %d", bad, code, exitError)
		}
	}
}
