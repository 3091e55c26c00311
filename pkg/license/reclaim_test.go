package license

import (
	"encoding/json"
	"strings"
	"testing"
)

// reclaimDay is the report date of the reclaim tables: 2026-12-01.
var reclaimDay = mustParseDate("2026-12-01")

func ptr[T any](v T) *T { return &v }

// reclaimFigures is a customer with the given products, whose idle holders
// are given for the 28-day window only (index 1 of Windows).
func reclaimFigures(products ...ProductFigures) *Figures {
	f := &Figures{Customer: Customer{ID: "c1", Name: "Contoso"}, ReportDate: reclaimDay}
	for _, n := range Windows {
		f.Windows = append(f.Windows, WindowFigures{Days: n})
	}
	f.Products = products
	return f
}

func idle28(n int) []int { return []int{n, n, n, n, n} }

func renewal(id, date, term, cycle string, qty int) Renewal {
	return Renewal{SubscriptionID: id, Kind: RenewalRenews, Date: mustParseDate(date), Quantity: qty, Status: StatusActive, TermDuration: term, BillingCycle: cycle}
}

// line is what a test asserts of a calendar line; money in cents-free
// floats, nil for "no money".
type line struct {
	kind     ReclaimKind
	sku, sub string
	seats    int
	date     string
	daysLeft *int
	open     bool
	monthly  *float64
	perTerm  *float64
}

func TestReclaimOf(t *testing.T) {
	e3Prices := &PriceList{Currency: "EUR", Prices: []Price{
		{SKU: "SPE_E3", TermDuration: "P1M", BillingCycle: "monthly", MonthlyPrice: 43.20},
		{SKU: "SPE_E3", TermDuration: "P1Y", BillingCycle: "annual", MonthlyPrice: 36},
		{SKU: "O365_BUSINESS_PREMIUM", MonthlyPrice: 10},
	}}
	cases := []struct {
		name   string
		days   int
		prices *PriceList
		p      []ProductFigures
		want   []line
	}{
		{
			// sold 10, assigned 7 → 3 unassigned on the one monthly
			// subscription renewing 2026-12-20 (19 days, inside 30); 2 idle
			// holders → reassignNow. Business Premium is priced 10 for any
			// term: holders 2 × 10 = 20; reduction 3 × 10 = 30 a month, and
			// a P1M term is one month → 30 per term.
			name: "monthly term, renewal inside the horizon", days: 30, prices: e3Prices,
			p: []ProductFigures{{SKU: "O365_BUSINESS_PREMIUM", Name: "BP", Sold: ChannelCounts{Own: 10}, Assigned: 7, Counted: true,
				Renewals: []Renewal{renewal("m1", "2026-12-20", "P1M", "monthly", 10)}, IdleHolders: idle28(2)}},
			want: []line{
				{kind: ReclaimReassignNow, sku: "O365_BUSINESS_PREMIUM", seats: 2, date: "2026-12-01", daysLeft: ptr(0), monthly: ptr(20.0)},
				{kind: ReclaimReduceAtRenewal, sku: "O365_BUSINESS_PREMIUM", sub: "m1", seats: 3, date: "2026-12-20", daysLeft: ptr(19), monthly: ptr(30.0), perTerm: ptr(30.0)},
			},
		},
		{
			// annual term renewing 2027-05-01: 151 days away (Dec 31 + Jan
			// 31 + Feb 28 + Mar 31 + Apr 30 = 151), beyond 90 → locked; 3
			// seats × 36 = 108 a month, × 12 = 1296 per term.
			name: "annual term, renewal outside the horizon", days: 90, prices: e3Prices,
			p: []ProductFigures{{SKU: "SPE_E3", Name: "E3", Sold: ChannelCounts{Own: 10}, Assigned: 7, Counted: true,
				Renewals: []Renewal{renewal("a1", "2027-05-01", "P1Y", "annual", 10)}}},
			want: []line{
				{kind: ReclaimLockedUntil, sku: "SPE_E3", sub: "a1", seats: 3, date: "2027-05-01", daysLeft: ptr(151), monthly: ptr(108.0), perTerm: ptr(1296.0)},
			},
		},
		{
			// the same subscription with 180 days: 151 ≤ 180 → reduce.
			name: "annual term, renewal inside a 180-day horizon", days: 180, prices: e3Prices,
			p: []ProductFigures{{SKU: "SPE_E3", Name: "E3", Sold: ChannelCounts{Own: 10}, Assigned: 7, Counted: true,
				Renewals: []Renewal{renewal("a1", "2027-05-01", "P1Y", "annual", 10)}}},
			want: []line{
				{kind: ReclaimReduceAtRenewal, sku: "SPE_E3", sub: "a1", seats: 3, date: "2027-05-01", daysLeft: ptr(151), monthly: ptr(108.0), perTerm: ptr(1296.0)},
			},
		},
		{
			// renewed 2026-11-26, cancellable until 2026-12-03 (on or after
			// D): the 7-day window is open → reduce now, by 2026-12-03 (2
			// days), although the next renewal is a year away.
			name: "7-day window open", days: 30, prices: e3Prices,
			p: []ProductFigures{{SKU: "SPE_E3", Name: "E3", Sold: ChannelCounts{Own: 10}, Assigned: 6, Counted: true,
				Renewals: []Renewal{withWindow(renewal("a1", "2027-11-26", "P1Y", "annual", 10), "2026-12-03")}}},
			want: []line{
				{kind: ReclaimReduceAtRenewal, sku: "SPE_E3", sub: "a1", seats: 4, date: "2026-12-03", daysLeft: ptr(2), open: true, monthly: ptr(144.0), perTerm: ptr(1728.0)},
			},
		},
		{
			// the window closed on 2026-11-30, the day before D → locked
			// until 2027-11-26 (360 days: 365 − 5).
			name: "7-day window closed", days: 30, prices: e3Prices,
			p: []ProductFigures{{SKU: "SPE_E3", Name: "E3", Sold: ChannelCounts{Own: 10}, Assigned: 6, Counted: true,
				Renewals: []Renewal{withWindow(renewal("a1", "2027-11-26", "P1Y", "annual", 10), "2026-11-30")}}},
			want: []line{
				{kind: ReclaimLockedUntil, sku: "SPE_E3", sub: "a1", seats: 4, date: "2027-11-26", daysLeft: ptr(360), monthly: ptr(144.0), perTerm: ptr(1728.0)},
			},
		},
		{
			// sold 10 (annual a1, renews 2027-03-01 = 90 days) + 5 (monthly
			// m1, renews 2026-12-15 = 14 days), assigned 8 → 7 unassigned.
			// The monthly one is reduced first: m1 gives 5 (5 × 43.20 =
			// 216 a month and per term), a1 the other 2 (2 × 36 = 72 a
			// month, 864 per term), locked with 30 days.
			name: "two subscriptions of different terms", days: 30, prices: e3Prices,
			p: []ProductFigures{{SKU: "SPE_E3", Name: "E3", Sold: ChannelCounts{Own: 15}, Assigned: 8, Counted: true,
				Renewals: []Renewal{renewal("m1", "2026-12-15", "P1M", "monthly", 5), renewal("a1", "2027-03-01", "P1Y", "annual", 10)}}},
			want: []line{
				{kind: ReclaimReduceAtRenewal, sku: "SPE_E3", sub: "m1", seats: 5, date: "2026-12-15", daysLeft: ptr(14), monthly: ptr(216.0), perTerm: ptr(216.0)},
				{kind: ReclaimLockedUntil, sku: "SPE_E3", sub: "a1", seats: 2, date: "2027-03-01", daysLeft: ptr(90), monthly: ptr(72.0), perTerm: ptr(864.0)},
			},
		},
		{
			// with 90 days a1's renewal (day 90) is inside: both reduce.
			name: "two subscriptions, both renewals inside 90 days", days: 90, prices: e3Prices,
			p: []ProductFigures{{SKU: "SPE_E3", Name: "E3", Sold: ChannelCounts{Own: 15}, Assigned: 8, Counted: true,
				Renewals: []Renewal{renewal("m1", "2026-12-15", "P1M", "monthly", 5), renewal("a1", "2027-03-01", "P1Y", "annual", 10)}}},
			want: []line{
				{kind: ReclaimReduceAtRenewal, sku: "SPE_E3", sub: "m1", seats: 5, date: "2026-12-15", daysLeft: ptr(14), monthly: ptr(216.0), perTerm: ptr(216.0)},
				{kind: ReclaimReduceAtRenewal, sku: "SPE_E3", sub: "a1", seats: 2, date: "2027-03-01", daysLeft: ptr(90), monthly: ptr(72.0), perTerm: ptr(864.0)},
			},
		},
		{
			// both renew 2026-12-20 (19 days): the shorter term goes first
			// though "a1" sorts before "m1" → m1 gives the 3 unassigned
			// (15 sold − 12 assigned): 3 × 43.20 = 129.60.
			name: "same date, the shorter term first", days: 30, prices: e3Prices,
			p: []ProductFigures{{SKU: "SPE_E3", Name: "E3", Sold: ChannelCounts{Own: 15}, Assigned: 12, Counted: true,
				Renewals: []Renewal{renewal("a1", "2026-12-20", "P1Y", "annual", 10), renewal("m1", "2026-12-20", "P1M", "monthly", 5)}}},
			want: []line{
				{kind: ReclaimReduceAtRenewal, sku: "SPE_E3", sub: "m1", seats: 3, date: "2026-12-20", daysLeft: ptr(19), monthly: ptr(129.6), perTerm: ptr(129.6)},
			},
		},
		{
			// a trial-only SKU is not sold (no idle seats); the grace
			// subscription g1 (3) is not sold either: E3's 5 sold are the
			// active a1's, assigned 2 → 3 unassigned, all on a1 (grace
			// capacity lapsing gives no seat).
			name: "trial and grace capacity", days: 30, prices: e3Prices,
			p: []ProductFigures{
				{SKU: "SPE_E3", Name: "E3", Sold: ChannelCounts{Own: 5}, Assigned: 2, Counted: true,
					Renewals: []Renewal{renewal("a1", "2026-12-10", "P1M", "monthly", 5),
						{SubscriptionID: "g1", Kind: RenewalLapses, Date: mustParseDate("2026-12-05"), Quantity: 3, Status: StatusGrace}}},
				{SKU: "SPE_E5", Name: "E5", Assigned: 4,
					Renewals: []Renewal{{SubscriptionID: "t1", Kind: RenewalTrialEnds, Date: mustParseDate("2026-12-08"), Quantity: 25, Status: StatusActive}}},
			},
			want: []line{
				{kind: ReclaimReduceAtRenewal, sku: "SPE_E3", sub: "a1", seats: 3, date: "2026-12-10", daysLeft: ptr(9), monthly: ptr(129.6), perTerm: ptr(129.6)},
			},
		},
		{
			// no price for SPE_E5 (nor a price list): no money, never 0;
			// seats on an undated subscription are locked with no date.
			name: "no price, no date", days: 30, prices: nil,
			p: []ProductFigures{{SKU: "SPE_E5", Name: "E5", Sold: ChannelCounts{Own: 4}, Assigned: 3, Counted: true, IdleHolders: idle28(1)}},
			want: []line{
				{kind: ReclaimReassignNow, sku: "SPE_E5", seats: 1, date: "2026-12-01", daysLeft: ptr(0)},
				{kind: ReclaimLockedUntil, sku: "SPE_E5", seats: 1},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := ReclaimOf(reclaimFigures(tc.p...), 28, tc.days, tc.prices)
			if len(r.Items) != len(tc.want) {
				t.Fatalf("%d items, want %d: %s", len(r.Items), len(tc.want), show(r.Items))
			}
			for i, w := range tc.want {
				g := r.Items[i]
				if g.Kind != w.kind || g.SKU != w.sku || g.SubscriptionID != w.sub || g.Seats != w.seats || g.Date.String() != w.date ||
					!sameIntPtr(g.DaysLeft, w.daysLeft) || g.WindowOpen != w.open || !sameMoney(g.Monthly, w.monthly) || !sameMoney(g.PerTerm, w.perTerm) {
					t.Errorf("item %d = %s\nwant %+v", i, show(g), w)
				}
			}
		})
	}
}

func withWindow(r Renewal, until string) Renewal {
	r.CancellableUntil = mustParseDate(until)
	return r
}

// The totals: per kind, seats and money over priced items, with the seats
// the money leaves out.
func TestReclaimTotals(t *testing.T) {
	// E3 priced (m1: 5 × 43.20 = 216, a1: 2 × 36 = 72, per term 216 and
	// 864); E5 unpriced, 1 unassigned locked and 1 idle holder.
	prices := &PriceList{Currency: "EUR", Prices: []Price{
		{SKU: "SPE_E3", TermDuration: "P1M", BillingCycle: "monthly", MonthlyPrice: 43.20},
		{SKU: "SPE_E3", TermDuration: "P1Y", BillingCycle: "annual", MonthlyPrice: 36},
	}}
	f := reclaimFigures(
		ProductFigures{SKU: "SPE_E3", Name: "E3", Sold: ChannelCounts{Own: 15}, Assigned: 8, Counted: true,
			Renewals: []Renewal{renewal("m1", "2026-12-15", "P1M", "monthly", 5), renewal("a1", "2027-03-01", "P1Y", "annual", 10)}},
		ProductFigures{SKU: "SPE_E5", Name: "E5", Sold: ChannelCounts{Own: 4}, Assigned: 3, Counted: true, IdleHolders: idle28(1)},
	)
	r := ReclaimOf(f, 28, 30, prices)
	want := []ReclaimTotal{
		{Kind: ReclaimReassignNow, Seats: 1, UnpricedSeats: 1},
		{Kind: ReclaimReduceAtRenewal, Seats: 5, Monthly: ptr(216.0), PerTerm: ptr(216.0)},
		{Kind: ReclaimLockedUntil, Seats: 3, UnpricedSeats: 1, Monthly: ptr(72.0), PerTerm: ptr(864.0)},
	}
	if show(r.Totals) != show(want) {
		t.Errorf("totals = %s\nwant %s", show(r.Totals), show(want))
	}
	if r.Currency != "EUR" {
		t.Errorf("currency %q, want EUR", r.Currency)
	}
	// The undated E5 line sorts after every dated one.
	if last := r.Items[len(r.Items)-1]; last.SKU != "SPE_E5" || last.Date != NoDate {
		t.Errorf("last item %s, want the undated E5 line", show(last))
	}
}

func TestPriceLookup(t *testing.T) {
	l := &PriceList{Currency: "EUR", Prices: []Price{
		{SKU: "SPE_E3", TermDuration: "P1M", BillingCycle: "monthly", MonthlyPrice: 43.20},
		{SKU: "SPE_E3", TermDuration: "P1Y", BillingCycle: "annual", MonthlyPrice: 36},
		{SKU: "SPE_E3", TermDuration: "P1Y", BillingCycle: "monthly", MonthlyPrice: 37.80},
		{SKU: "SPE_E5", MonthlyPrice: 57},
		{SKU: "EMS", TermDuration: "P1Y", MonthlyPrice: 9},
	}}
	cases := []struct {
		sku, term, cycle string
		want             *float64
	}{
		{"SPE_E3", "P1Y", "Annual", ptr(36.0)},
		{"spe_e3", "p1y", "monthly", ptr(37.80)},
		{"SPE_E3", "P1M", "monthly", ptr(43.20)},
		{"SPE_E3", "P3Y", "triennial", nil}, // no line for that term
		{"SPE_E3", "", "", nil},             // term unknown, the lines disagree
		{"SPE_E5", "P1Y", "annual", ptr(57.0)},
		{"EMS", "P1Y", "monthly", ptr(9.0)},
		{"EMS", "", "", ptr(9.0)}, // one price whatever the term
		{"EMS", "P1M", "monthly", nil},
		{"VISIO", "P1Y", "annual", nil},
	}
	for _, c := range cases {
		got, ok := l.Lookup(c.sku, c.term, c.cycle)
		if (c.want == nil) != !ok || ok && got != *c.want {
			t.Errorf("Lookup(%s, %s, %s) = %v, %v; want %v", c.sku, c.term, c.cycle, got, ok, c.want)
		}
	}
	var none *PriceList
	if _, ok := none.Lookup("SPE_E3", "", ""); ok {
		t.Error("a nil list has a price")
	}
}

func TestTermMonths(t *testing.T) {
	for term, want := range map[string]int{"P1M": 1, "P1Y": 12, "p3y": 36, "": 0, "P0Y": 0, "X1Y": 0, "P1D": 0} {
		if got := TermMonths(term); got != want {
			t.Errorf("TermMonths(%q) = %d, want %d", term, got, want)
		}
	}
}

func show(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func sameIntPtr(a, b *int) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }

func sameMoney(a, b *float64) bool {
	return a == nil && b == nil || a != nil && b != nil && int64(*a*100+0.5) == int64(*b*100+0.5)
}

// renewal-due names the date, the seats and the money; it fires for an
// open cancellation window however far the renewal, and not for seats
// locked beyond RENEWAL_DAYS.
func TestRenewalDueFromReclaim(t *testing.T) {
	prices := &PriceList{Currency: "EUR", Prices: []Price{{SKU: "SPE_E3", MonthlyPrice: 36}}}
	// a1: renewed 2026-11-28, cancellable until 2026-12-04 (3 days) →
	// 4 unassigned (10 − 6) removable now: 4 × 36 = 144 a month, × 12 =
	// 1,728 over the P1Y term. b1 (Business Standard, 2 unassigned)
	// renews in 100 days: locked with 30 days → no renewal-due.
	f := reclaimFigures(
		ProductFigures{SKU: "SPE_E3", Name: "Microsoft 365 E3", Sold: ChannelCounts{Own: 10}, Assigned: 6, Counted: true,
			Renewals: []Renewal{withWindow(renewal("a1", "2027-11-28", "P1Y", "annual", 10), "2026-12-04")}},
		ProductFigures{SKU: "O365_BUSINESS_PREMIUM", Name: "Microsoft 365 Business Standard", Sold: ChannelCounts{Own: 5}, Assigned: 3, Counted: true,
			Renewals: []Renewal{renewal("b1", "2027-03-11", "P1Y", "annual", 5)}},
	)
	rc := ReclaimOf(f, 28, 30, prices)
	th := Thresholds{RenewalDays: 30, MinReclaim: 100, LowUsagePercent: 0, LowDeploymentPercent: 0, UpsellDeploymentPercent: 101, UpsellUsagePercent: 101, TrendPoints: 100, HowToTicketsPer100Users: 1000}
	var due []Recommendation
	for _, r := range Recommend(RecommendInput{Figures: f, Window: 28, Reclaim: &rc}, th) {
		if r.Code == CodeRenewalDue {
			due = append(due, r)
		}
	}
	if len(due) != 1 {
		t.Fatalf("%d renewal-due, want 1: %s", len(due), show(due))
	}
	ev := due[0].Evidence
	if ev["subscriptionId"] != "a1" || ev["date"] != "2026-12-04" || ev["daysLeft"] != 3 || ev["windowOpen"] != true || ev["idleSeats"] != 4 ||
		ev["monthly"] != 144.0 || ev["perTerm"] != 1728.0 || ev["currency"] != "EUR" {
		t.Errorf("evidence %s", show(ev))
	}
	for _, want := range []string{"until 2026-12-04 (in 3 days)", "4 licences of it are assigned to nobody and can be removed now", "EUR 144.00 a month (EUR 1,728.00 over the term)"} {
		if !strings.Contains(due[0].Message, want) {
			t.Errorf("message %q lacks %q", due[0].Message, want)
		}
	}
}
