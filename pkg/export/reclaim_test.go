package export

import (
	"bytes"
	"context"
	"testing"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// TestReclaim: contoso (report date 2026-11-20) has SPE_E3 sold 10 on s1
// (P1Y annual, renews 2026-12-10, 20 days), 7 assigned, 2 of them idle in
// 28 days → reassignNow 2 (2 × 36 = 72.00) and reduceAtRenewal 3 (3 × 36 =
// 108.00 a month, × 12 = 1296.00 per term); VISIOCLIENT sold 2, 1 assigned,
// no price, no date → lockedUntil 1, empty money cells. fabrikam has no
// product: no row.
func TestReclaim(t *testing.T) {
	r := portfolio(t)
	cf := r.customers["contoso"].figures[0]
	d := cf.Figures.ReportDate
	cf.Figures.Products = []license.ProductFigures{
		{SKU: "SPE_E3", Name: "Microsoft 365 E3", Sold: license.ChannelCounts{Own: 10}, Assigned: 7, Counted: true, IdleHolders: []int{2},
			Renewals: []license.Renewal{{SubscriptionID: "s1", Kind: license.RenewalRenews, Date: d.AddDays(20), Quantity: 10, Status: license.StatusActive, TermDuration: "P1Y", BillingCycle: "annual"}}},
		{SKU: "VISIOCLIENT", Name: "Visio Plan 2", Sold: license.ChannelCounts{Own: 2}, Assigned: 1, Counted: true},
	}
	cf.Figures.Windows = []license.WindowFigures{{Days: 28}}
	r.customers["fabrikam"].figures[0].Figures.Products = nil
	prices := &license.PriceList{Currency: "EUR", Prices: []license.Price{{SKU: "SPE_E3", MonthlyPrice: 36}}}

	var out bytes.Buffer
	res, err := Write(context.Background(), r, Request{Tenant: tenant(t), Dataset: Reclaim, Prices: prices, ReclaimDays: 30}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 3 {
		t.Errorf("%d rows, want 3", res.Rows)
	}
	name := `'=cmd|' /C calc'!A0`
	compareRecords(t, readCSV(t, out.Bytes()), [][]string{
		ReclaimHeader,
		{"contoso", name, "2026-11-20", "28", "30", "SPE_E3", "Microsoft 365 E3", "", "reassignNow", "2", "2026-11-20", "0", "", "", "false", "", "", "", "EUR", "36.00", "72.00", ""},
		{"contoso", name, "2026-11-20", "28", "30", "SPE_E3", "Microsoft 365 E3", "s1", "reduceAtRenewal", "3", "2026-12-10", "20", "2026-12-10", "renews", "false", "", "P1Y", "annual", "EUR", "36.00", "108.00", "1296.00"},
		{"contoso", name, "2026-11-20", "28", "30", "VISIOCLIENT", "Visio Plan 2", "", "lockedUntil", "1", "", "", "", "", "false", "", "", "", "", "", "", ""},
	})
}
