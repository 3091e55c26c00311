package view

import (
	"encoding/json"
	"testing"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// figures: E3 sold 10 own + 4 direct, 12 assigned; a trial-only SKU with 3
// assigned and nothing counted; exchange 14 entitlements, 15 active (11
// counted, 4 uncounted), and sharepoint with no entitlements at all.
func figures() *license.Figures {
	return &license.Figures{
		Customer:   license.Customer{ID: "fabrikam", Name: "Fabrikam Inc"},
		ReportDate: mustDate("2026-11-20"),
		Products: []license.ProductFigures{
			{SKU: "SPE_E3", Name: "Microsoft 365 E3", Sold: license.ChannelCounts{Own: 10, Direct: 4}, Assigned: 12, Counted: true,
				Renewals: []license.Renewal{{SubscriptionID: "s1", Date: mustDate("2027-01-31"), Quantity: 10, Status: license.StatusActive}}},
			{SKU: "TEAMS_EXPLORATORY", Assigned: 3},
		},
		Windows: []license.WindowFigures{{Days: 28, InactiveLicensedUsers: 2, Workloads: []license.WorkloadFigures{
			{Workload: license.Exchange, Entitlements: 14, Active: 15, CountedActive: 11, Uncounted: license.Uncounted{FormerLicensee: 2, Trial: 1, InactiveSubscription: 1}},
			{Workload: license.SharePoint, Entitlements: 0, Active: 1, Uncounted: license.Uncounted{Unlicensed: 1}},
		}}},
	}
}

func mustDate(s string) license.Date {
	d, err := license.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func pct(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestCustomerBlocks(t *testing.T) {
	b := CustomerBlocks(figures(), 28)
	// Deployment over counted SKUs only: 12 / 14 = 85.7 %; unassigned 14−12.
	if b.Deployment.LicensesSold != 14 || b.Deployment.LicensesAssigned != 12 || pct(b.Deployment.Percent) != 85.7 || b.Deployment.Unassigned != 2 {
		t.Fatalf("deployment %+v", b.Deployment)
	}
	if b.Deployment.SoldByChannel != (SoldByChannel{Own: 10, Direct: 4}) {
		t.Fatalf("channels %+v", b.Deployment.SoldByChannel)
	}
	// E3: 12/14 = 85.7; the trial SKU: sold 0 → null, listed but outside the total.
	if p := b.Products[0]; pct(p.DeploymentPercent) != 85.7 || p.Unassigned != 2 || !p.InDeploymentTotal || len(p.Renewals) != 1 || p.Renewals[0].Date != "2027-01-31" {
		t.Fatalf("E3 %+v", p)
	}
	if p := b.Products[1]; p.DeploymentPercent != nil || p.InDeploymentTotal || p.Renewals == nil {
		t.Fatalf("trial SKU %+v", p)
	}
	// Usage sums workloads: 16 active / 14 entitlements = 114.3; adjusted 11/14 = 78.6.
	if b.Usage.Entitlements != 14 || b.Usage.ActiveEntitlements != 16 || pct(b.Usage.Percent) != 114.3 || pct(b.Usage.AdjustedPercent) != 78.6 {
		t.Fatalf("usage %+v", b.Usage)
	}
	if w := b.Workloads[0]; pct(w.UsagePercent) != 107.1 || pct(w.AdjustedUsagePercent) != 78.6 || w.UncountedActive.FormerLicensee != 2 {
		t.Fatalf("exchange %+v", w)
	}
	if w := b.Workloads[1]; w.UsagePercent != nil || w.AdjustedUsagePercent != nil || w.UncountedActive.Unlicensed != 1 {
		t.Fatalf("sharepoint %+v", w)
	}
	// Nulls are JSON nulls, never NaN or missing.
	raw, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	w1 := m["workloads"].([]any)[1].(map[string]any)
	if v, ok := w1["usagePercent"]; !ok || v != nil {
		t.Fatalf("usagePercent must be null: %s", raw)
	}
}

func TestHeadline(t *testing.T) {
	h := HeadlineOf(figures())
	if h.CustomerID != "fabrikam" || h.ReportDate != "2026-11-20" || pct(h.UsagePercent) != 114.3 || pct(h.DeploymentPercent) != 85.7 ||
		h.LicensesSold != 14 || h.Unassigned != 2 || h.Entitlements != 14 || h.ActiveEntitlements != 16 || h.Band != "high" {
		t.Fatalf("%+v", h)
	}
}

func TestWasteOf(t *testing.T) {
	f := figures()
	if license.WasteOf(f, 28, nil, "USD") != nil {
		t.Fatal("no prices must give no money figures")
	}
	if license.WasteOf(f, 28, map[string]float64{"OTHER": 5}, "USD") != nil {
		t.Fatal("prices for none of the customer's counted SKUs must give no money figures")
	}
	// 2 unassigned E3 × 36 = 72; 2 inactive users × 36 (cheapest counted SKU) = 72.
	w := license.WasteOf(f, 28, map[string]float64{"SPE_E3": 36}, "EUR")
	if w.Currency != "EUR" || w.UnassignedLicenses != 2 || w.MonthlyUnassignedCost != 72 || w.MonthlyInactiveCost != 72 ||
		w.MonthlyPotentialSavings != 144 || w.AnnualPotentialSavings != 1728 || len(w.UnpricedSKUs) != 0 {
		t.Fatalf("%+v", w)
	}
}
