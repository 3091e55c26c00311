package license

import (
	"math"
	"reflect"
	"testing"
)

func TestBandOf(t *testing.T) {
	cases := []struct {
		percent *float64
		want    Band
	}{
		{nil, BandUnknown},
		{percentValue(math.NaN()), BandUnknown},
		{percentValue(0), BandLow},
		{percentValue(49.9), BandLow},
		{percentValue(49.94), BandLow},    // rounds to 49.9
		{percentValue(49.96), BandMedium}, // rounds to 50.0, shown as 50.0
		{percentValue(50), BandMedium},
		{percentValue(79.9), BandMedium},
		{percentValue(79.94), BandMedium}, // 79.9
		{percentValue(79.96), BandHigh},   // 80.0
		{percentValue(80), BandHigh},
		{percentValue(100), BandHigh},
		{percentValue(250), BandHigh}, // usage can exceed 100 %
	}
	for _, c := range cases {
		if got := BandOf(c.percent); got != c.want {
			t.Errorf("BandOf(%s) = %s, want %s", showPercent(c.percent), got, c.want)
		}
	}
}

// figuresWithUsage is a customer whose DefaultWindow usage sums to
// active / entitlements, spread over two workloads.
func figuresWithUsage(active, entitlements int) *Figures {
	return &Figures{Windows: []WindowFigures{
		{Days: 7, Workloads: []WorkloadFigures{{Workload: Exchange, Entitlements: 1}}},
		{Days: DefaultWindow, Workloads: []WorkloadFigures{
			{Workload: Exchange, Entitlements: entitlements - entitlements/2, Active: active - active/2},
			{Workload: Teams, Entitlements: entitlements / 2, Active: active / 2},
		}},
	}}
}

func TestFiguresBand(t *testing.T) {
	cases := []struct {
		name string
		f    *Figures
		want Band
	}{
		{"no windows", &Figures{}, BandUnknown},
		{"no entitlements", figuresWithUsage(3, 0), BandUnknown},
		{"1/3 = 33.3 %", figuresWithUsage(1, 3), BandLow},
		{"999/2000 = 49.95 % shown as 50.0", figuresWithUsage(999, 2000), BandMedium},
		{"1599/2000 = 79.95 % shown as 80.0", figuresWithUsage(1599, 2000), BandHigh},
		{"1598/2000 = 79.9 %", figuresWithUsage(1598, 2000), BandMedium},
		{"15/10 = 150 %", figuresWithUsage(15, 10), BandHigh},
	}
	for _, c := range cases {
		if got := c.f.Band(); got != c.want {
			t.Errorf("%s: band %s, want %s", c.name, got, c.want)
		}
	}
}

// Two customers summed by hand.
//
// A: SPE_E3 counted, sold own 10, assigned 8; SPE_E5 trial only, assigned 5
// (not counted); 28-day exchange 8 entitlements, 6 active (5 counted, 1
// formerLicensee) → usage 6/8 = 75 % (medium); inactive licensed 2.
// B: SPE_E3 counted, sold direct 4, assigned 4; EMS counted, sold partner 2,
// assigned 1; 28-day exchange 5 entitlements, 5 active (4 counted, 1 trial)
// plus "office" 1/1 → usage 6/6 = 100 % (high); inactive licensed 0.
//
// Portfolio: 2 customers, 1 medium, 1 high. Deployed = A (10 own, 8) + B
// (4 direct + 2 partner, 4 + 1) = sold {own 10, partner 2, direct 4},
// assigned 13 — SPE_E5's 5 trial assignments stay out. Unassigned is the
// sum of the customers' own: A 10 − 8 = 2, B SPE_E3 0 + EMS 2 − 1 = 1 → 3.
// Products: EMS {partner 2, 1}, SPE_E3 {own 10, direct 4, 12}, SPE_E5 {0, 5,
// not counted}. 28-day exchange: 13 entitlements, 11 active, 9 counted,
// formerLicensee 1, trial 1; office 1/1 after the standard workloads;
// inactive 2.
func TestPortfolioAddByHand(t *testing.T) {
	a := &Figures{
		Customer: Customer{ID: "a"},
		Products: []ProductFigures{
			{SKU: "SPE_E3", Name: "Microsoft 365 E3", Sold: ChannelCounts{Own: 10}, Assigned: 8, Counted: true,
				Renewals: []Renewal{{SubscriptionID: "s1", Date: dayD, Quantity: 10}}},
			{SKU: "SPE_E5", Assigned: 5},
		},
		Windows: []WindowFigures{{Days: 28, InactiveLicensedUsers: 2, Workloads: []WorkloadFigures{
			{Workload: Exchange, Entitlements: 8, Active: 6, CountedActive: 5, Uncounted: Uncounted{FormerLicensee: 1}},
		}}},
	}
	b := &Figures{
		Customer: Customer{ID: "b"},
		Products: []ProductFigures{
			{SKU: "EMS", Name: "EMS E3", Sold: ChannelCounts{Partner: 2}, Assigned: 1, Counted: true},
			{SKU: "SPE_E3", Name: "Microsoft 365 E3", Sold: ChannelCounts{Direct: 4}, Assigned: 4, Counted: true},
		},
		Windows: []WindowFigures{{Days: 28, Workloads: []WorkloadFigures{
			{Workload: "office", Entitlements: 1, Active: 1, CountedActive: 1},
			{Workload: Exchange, Entitlements: 5, Active: 5, CountedActive: 4, Uncounted: Uncounted{Trial: 1}},
		}}},
	}
	var p Portfolio
	p.Add(a)
	p.Add(b)

	if p.Customers != 2 || p.Bands != (BandCounts{Medium: 1, High: 1}) {
		t.Errorf("customers %d, bands %+v, want 2 and 1 medium 1 high", p.Customers, p.Bands)
	}
	if want := (Deployment{Sold: ChannelCounts{Own: 10, Partner: 2, Direct: 4}, Assigned: 13, Unassigned: 3}); p.Deployment() != want {
		t.Errorf("deployment %+v, want %+v", p.Deployment(), want)
	}
	wantProducts := []ProductFigures{
		{SKU: "EMS", Name: "EMS E3", Sold: ChannelCounts{Partner: 2}, Assigned: 1, Counted: true},
		{SKU: "SPE_E3", Name: "Microsoft 365 E3", Sold: ChannelCounts{Own: 10, Direct: 4}, Assigned: 12, Counted: true},
		{SKU: "SPE_E5", Assigned: 5},
	}
	if !reflect.DeepEqual(p.Products, wantProducts) || !reflect.DeepEqual(p.CountedCustomers, []int{1, 2, 0}) {
		t.Errorf("products\n got %+v %v\nwant %+v [1 2 0]", p.Products, p.CountedCustomers, wantProducts)
	}
	w28, ok := p.Window(28)
	wantWorkloads := []WorkloadFigures{
		{Workload: Exchange, Entitlements: 13, Active: 11, CountedActive: 9, Uncounted: Uncounted{FormerLicensee: 1, Trial: 1}},
		{Workload: SharePoint}, {Workload: Teams}, {Workload: Yammer}, {Workload: Skype},
		{Workload: "office", Entitlements: 1, Active: 1, CountedActive: 1},
	}
	if !ok || w28.InactiveLicensedUsers != 2 || !reflect.DeepEqual(w28.Workloads, wantWorkloads) {
		t.Errorf("28-day window %+v, want inactive 2 and\n%+v", w28, wantWorkloads)
	}
	// Every served window is listed while there are customers, even one
	// no customer's figures carry.
	for i, w := range p.Windows {
		if w.Days != Windows[i] {
			t.Fatalf("window %d is %d days, want %d", i, w.Days, Windows[i])
		}
	}
	if _, ok := p.Window(365); ok {
		t.Error("a 365-day window appeared")
	}

	// Replacing B by nothing leaves exactly A's portfolio.
	p.Apply(b, nil)
	var onlyA Portfolio
	onlyA.Apply(nil, a)
	if !reflect.DeepEqual(p, onlyA) {
		t.Errorf("after removing b\n got %+v\nwant %+v", p, onlyA)
	}
	// Replacing A by B is B's portfolio.
	p.Apply(a, b)
	var onlyB Portfolio
	onlyB.Add(b)
	if !reflect.DeepEqual(p, onlyB) {
		t.Errorf("after replacing a by b\n got %+v\nwant %+v", p, onlyB)
	}
	p.Sub(b)
	if !reflect.DeepEqual(p, Portfolio{}) {
		t.Errorf("empty portfolio = %+v", p)
	}
}

// A product every counter of which is zero (a lapsed subscription no one
// holds) is not listed, so a customer listing it changes nothing but the
// customer count: removing another customer that also listed it must not
// disturb the result.
func TestPortfolioZeroProductsAreNotListed(t *testing.T) {
	lapsed := ProductFigures{SKU: "OLD"}
	a := &Figures{Products: []ProductFigures{lapsed, {SKU: "SPE_E3", Sold: ChannelCounts{Own: 1}, Counted: true}}}
	b := &Figures{Products: []ProductFigures{lapsed}}
	var p Portfolio
	p.Add(a)
	p.Add(b)
	p.Sub(b)
	var want Portfolio
	want.Add(a)
	if !reflect.DeepEqual(p, want) {
		t.Errorf("got %+v, want %+v", p, want)
	}
	if len(p.Products) != 1 || p.Products[0].SKU != "SPE_E3" {
		t.Errorf("products %+v, want SPE_E3 only", p.Products)
	}
	// A counted product with quantity 0 is still counted: it is listed.
	c := &Figures{Products: []ProductFigures{{SKU: "ZERO", Counted: true}}}
	p.Add(c)
	if len(p.Products) != 2 || !p.Products[1].Counted {
		t.Errorf("products %+v, want ZERO listed as counted", p.Products)
	}
	p.Sub(c)
	if !reflect.DeepEqual(p, want) {
		t.Errorf("after removing the zero product: %+v", p)
	}
}

func TestBandCountsCount(t *testing.T) {
	c := BandCounts{Low: 1, Medium: 2, High: 3, Unknown: 4}
	for i, b := range Bands {
		if got := c.Count(b); got != i+1 {
			t.Errorf("Count(%s) = %d, want %d", b, got, i+1)
		}
		if !b.Valid() {
			t.Errorf("%s not valid", b)
		}
	}
	if c.Count("bogus") != 0 || Band("bogus").Valid() {
		t.Error("an invalid band counts")
	}
}
