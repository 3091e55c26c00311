package store

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// Every percentage lands in exactly one band range of the by-usage index,
// and it is the band license.BandOf gives: the key ranges and the domain's
// bands cannot drift apart.
func TestUsageBandRangeMatchesBandOf(t *testing.T) {
	ranges := map[license.Band][2]string{}
	for _, b := range license.Bands {
		lo, hi, err := UsageBandRange(b)
		if err != nil {
			t.Fatal(err)
		}
		ranges[b] = [2]string{lo, hi}
	}
	in := func(key string, r [2]string) bool { return r[0] <= key && key <= r[1] }
	check := func(p *float64) {
		key := percentSortKey(p) + "some-customer"
		want := license.BandOf(p)
		for _, b := range license.Bands {
			if got := in(key, ranges[b]); got != (b == want) {
				t.Errorf("usage %v (key %s): in the %s range = %v, but BandOf says %s", show(p), key, b, got, want)
			}
		}
		knownLo, knownHi := PercentRange(true)
		if in(key, [2]string{knownLo, knownHi}) != (p != nil) {
			t.Errorf("usage %v (key %s): PercentRange(true) disagrees", show(p), key)
		}
	}
	for tenth := 0; tenth <= 20000; tenth++ {
		p := float64(tenth) / 10
		check(&p)
	}
	check(nil)
	if _, _, err := UsageBandRange("huge"); err == nil {
		t.Error("an unknown band has a range")
	}
}

func show(p *float64) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

func readTenant(t testing.TB, id string) license.Tenant {
	t.Helper()
	tn, err := license.NewTenant(id)
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

// listed is a customer as the list tests make it: the figures give exactly
// these headline counts.
type listed struct {
	id, name             string
	sold, assigned       int
	entitlements, active int
}

func (c listed) figures(d license.Date) *license.Figures {
	f := &license.Figures{
		Customer:   license.Customer{ID: c.id, Name: c.name},
		ReportDate: d,
		Windows: []license.WindowFigures{{Days: license.DefaultWindow, Workloads: []license.WorkloadFigures{{
			Workload: license.Exchange, Entitlements: c.entitlements, Active: c.active, CountedActive: min(c.active, c.entitlements),
		}}}},
	}
	if c.sold > 0 || c.assigned > 0 {
		f.Products = []license.ProductFigures{{SKU: "SPE_E3", Sold: license.ChannelCounts{Own: c.sold}, Assigned: c.assigned, Counted: c.sold > 0}}
	}
	return f
}

func (c listed) usage() *float64 { return license.Percent(c.active, c.entitlements) }

// countedAssigned is the assigned licences of counted SKUs: none when
// nothing is sold (a trial-only SKU stays out of the deployment figure).
func (c listed) countedAssigned() int {
	if c.sold == 0 {
		return 0
	}
	return c.assigned
}

func (c listed) deployment() *float64 { return license.Percent(c.countedAssigned(), c.sold) }
func (c listed) band() license.Band   { return license.BandOf(c.usage()) }

// commitListed stores customers through Commit, as an ingest does.
func commitListed(t *testing.T, s *Store, tn license.Tenant, d license.Date, customers []listed) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(customers))
	for i, c := range customers {
		wg.Go(func() {
			errs[i] = s.Commit(t.Context(), Commit{
				Tenant: tn, CustomerID: c.id, Generation: 1, Shards: 1,
				Figures: c.figures(d), Source: SourceRecord{Kind: "snapshot", SHA256: c.id},
			})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// listFixture is 23 customers, more than several pages, with every band,
// unknown usage and deployment, equal names and equal figures (ties are
// broken by customer id).
//
//	id   name              sold assigned  entitl. active  usage   deployment  band
//	c01  Alpine Ski        100   90        90      81      90.0    90.0        high
//	c02  Bellows           10    2         2       0        0.0    20.0        low
//	c03  contoso           50    50        40      20      50.0   100.0        medium
//	c04  Contoso           50    50        40      20      50.0   100.0        medium  (same name and figures as c03)
//	c05  Delta             0     0         0       0       null    null        unknown
//	c06  Echo              20    25        30      45     150.0   125.0        high
//	c07  Fjord             80    40        40      19      47.5    50.0        low
//	c08  Gale              30    30        10      8       80.0   100.0        high    (exactly 80.0)
//	c09  Harbour           0     3 (0)     3       2       66.7    null        medium  (trial only: nothing sold, so 0 assigned counted)
//	c10  Iris              40    10        0       0       null    25.0        unknown
//	…    c11–c23: generated, see below
func listFixture() []listed {
	out := []listed{
		{"c01", "Alpine Ski", 100, 90, 90, 81},
		{"c02", "Bellows", 10, 2, 2, 0},
		{"c03", "contoso", 50, 50, 40, 20},
		{"c04", "Contoso", 50, 50, 40, 20},
		{"c05", "Delta", 0, 0, 0, 0},
		{"c06", "Echo", 20, 25, 30, 45},
		{"c07", "Fjord", 80, 40, 40, 19},
		{"c08", "Gale", 30, 30, 10, 8},
		{"c09", "Harbour", 0, 3, 3, 2},
		{"c10", "Iris", 40, 10, 0, 0},
	}
	// c11–c23: usage (i×7 mod 160) of 100 entitlements (77 % … 154 %, and
	// 1 % for c23), deployment (i×13 mod 101) of 100, names repeating every
	// seven customers.
	for i := 11; i <= 23; i++ {
		out = append(out, listed{
			id: fmt.Sprintf("c%02d", i), name: fmt.Sprintf("Customer %c", 'A'+i%7),
			sold: 100, assigned: (i * 13) % 101, entitlements: 100, active: (i * 7) % 160,
		})
	}
	return out
}

// expectedOrder is the order the list must give, worked out here by
// sorting (what the store must not do): by the index's sort key, unknown
// figures after known ones in both directions, ties by customer id.
func expectedOrder(customers []listed, q ListQuery) []string {
	var rows []listed
	for _, c := range customers {
		if q.Band == "" || c.band() == q.Band {
			rows = append(rows, c)
		}
	}
	known := func(c listed) *float64 {
		if q.Sort == SortByUsage {
			return c.usage()
		}
		return c.deployment()
	}
	slices.SortFunc(rows, func(a, b listed) int {
		var r int
		switch q.Sort {
		case SortByName:
			r = cmp.Compare(strings.ToLower(a.name)+"#"+a.id, strings.ToLower(b.name)+"#"+b.id)
		default:
			pa, pb := known(a), known(b)
			switch {
			case pa == nil && pb == nil:
				r = cmp.Compare(a.id, b.id)
			case pa == nil:
				return 1 // unknown last, whatever the direction
			case pb == nil:
				return -1
			default:
				r = cmp.Or(cmp.Compare(*pa, *pb), cmp.Compare(a.id, b.id))
			}
		}
		if q.Descending {
			r = -r
		}
		return r
	})
	ids := make([]string, len(rows))
	for i, c := range rows {
		ids[i] = c.id
	}
	return ids
}

// Every order, both directions, every band, several page sizes: the pages
// concatenate to exactly the expected order — no duplicates, no gaps —
// and the last page is the only one without a cursor.
func TestListCustomersPagesEveryOrder(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	tn := readTenant(t, "tenant-list")
	d, _ := license.ParseDate("2026-11-20")
	customers := listFixture()
	commitListed(t, s, tn, d, customers)
	// Another tenant's customers with the same ids must never show up.
	commitListed(t, s, readTenant(t, "tenant-other"), d, customers[:5])

	byID := map[string]listed{}
	for _, c := range customers {
		byID[c.id] = c
	}
	for _, order := range []CustomerSort{SortByName, SortByUsage, SortByDeployment} {
		for _, desc := range []bool{false, true} {
			for _, band := range append([]license.Band{""}, license.Bands...) {
				limits := []int{3} // low 3 (one full page, no cursor), medium 4, high 14, unknown 2
				if band == "" {
					limits = []int{4, 7, MaxPageSize}
				}
				for _, limit := range limits {
					q := ListQuery{Sort: order, Descending: desc, Band: band, Limit: limit}
					name := fmt.Sprintf("sort=%s desc=%v band=%s limit=%d", order, desc, band, limit)
					want := expectedOrder(customers, q)
					var got []string
					for pages := 0; ; pages++ {
						if pages > len(customers)+1 {
							t.Fatalf("%s: the cursor never ends", name)
						}
						page, err := s.ListCustomers(t.Context(), tn, q)
						if err != nil {
							t.Fatalf("%s: %v", name, err)
						}
						if len(page.Items) > limit {
							t.Fatalf("%s: page of %d items, limit %d", name, len(page.Items), limit)
						}
						for _, it := range page.Items {
							got = append(got, it.CustomerID)
							c := byID[it.CustomerID]
							if it.CustomerName != c.name || it.Sold != c.sold || it.Assigned != c.countedAssigned() ||
								it.Entitlements != c.entitlements || it.ActiveEntitlements != c.active || it.Band != string(c.band()) {
								t.Errorf("%s: %s read back as %+v, stored %+v", name, it.CustomerID, it, c)
							}
						}
						if page.Next == nil {
							break
						}
						if len(page.Items) != limit {
							t.Fatalf("%s: a short page (%d of %d) with a cursor", name, len(page.Items), limit)
						}
						q.After = page.Next
					}
					if !slices.Equal(got, want) {
						t.Errorf("%s:\n got %v\nwant %v", name, got, want)
					}
				}
			}
		}
	}
}

func TestListCustomersRefusesForeignCursors(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	a, b := readTenant(t, "tenant-a"), readTenant(t, "tenant-b")
	d, _ := license.ParseDate("2026-11-20")
	customers := listFixture()
	commitListed(t, s, a, d, customers)
	commitListed(t, s, b, d, customers)

	first := func(tn license.Tenant, q ListQuery) *CustomerCursor {
		t.Helper()
		page, err := s.ListCustomers(t.Context(), tn, q)
		if err != nil {
			t.Fatal(err)
		}
		if page.Next == nil {
			t.Fatal("test set-up: one page holds everything")
		}
		return page.Next
	}
	byUsage := ListQuery{Sort: SortByUsage, Limit: 3}
	cursor := first(a, byUsage)
	tampered := func(change func(*CustomerCursor)) *CustomerCursor {
		c := *cursor
		change(&c)
		return &c
	}
	otherTenants := first(b, byUsage)
	tests := map[string]ListQuery{
		"another tenant's cursor": {Sort: SortByUsage, Limit: 3, After: otherTenants},
		"another order":           {Sort: SortByName, Limit: 3, After: cursor},
		"another direction":       {Sort: SortByUsage, Descending: true, Limit: 3, After: cursor},
		"another band":            {Sort: SortByUsage, Band: license.BandLow, Limit: 3, After: cursor},
		"index partition of another tenant": {Sort: SortByUsage, Limit: 3, After: tampered(func(c *CustomerCursor) {
			c.IndexPK = otherTenants.IndexPK
		})},
		"customer of another tenant": {Sort: SortByUsage, Limit: 3, After: tampered(func(c *CustomerCursor) { c.PK = otherTenants.PK })},
		"not a summary item":         {Sort: SortByUsage, Limit: 3, After: tampered(func(c *CustomerCursor) { c.SK = "FIGURES" })},
		"sort key outside the index": {Sort: SortByUsage, Limit: 3, After: tampered(func(c *CustomerCursor) { c.IndexSK = "9#" })},
	}
	for name, q := range tests {
		if _, err := s.ListCustomers(t.Context(), a, q); !errors.Is(err, ErrBadCursor) {
			t.Errorf("%s: err = %v, want ErrBadCursor", name, err)
		}
	}
	// The genuine cursor still works.
	byUsage.After = cursor
	if _, err := s.ListCustomers(t.Context(), a, byUsage); err != nil {
		t.Fatalf("the genuine cursor: %v", err)
	}
	for _, bad := range []ListQuery{
		{Sort: SortByUsage, Limit: 0},
		{Sort: SortByUsage, Limit: MaxPageSize + 1},
		{Sort: "size", Limit: 10},
		{Sort: SortByName, Band: "huge", Limit: 10},
	} {
		if _, err := s.ListCustomers(t.Context(), a, bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if _, err := s.ListCustomers(t.Context(), license.Tenant{}, ListQuery{Sort: SortByName, Limit: 10}); !errors.Is(err, license.ErrNoTenant) {
		t.Errorf("zero tenant: %v", err)
	}
}

// commitDays stores one customer's figures at each report date in turn, as
// daily ingests do: each commit adds a DAY# item. Usage on day i (counted
// from 0) is active = 10+i of 100 entitlements.
func commitDays(t *testing.T, s *Store, tn license.Tenant, id string, days []license.Date) {
	t.Helper()
	if err := commitDaysErr(t, s, tn, id, days); err != nil {
		t.Fatal(err)
	}
}

func commitDaysErr(t *testing.T, s *Store, tn license.Tenant, id string, days []license.Date) error {
	for i, d := range days {
		c := listed{id: id, name: "Fabrikam Inc", sold: 100, assigned: 90, entitlements: 100, active: 10 + i}
		err := s.Commit(t.Context(), Commit{
			Tenant: tn, CustomerID: id, ExpectedVersion: int64(i), Generation: int64(i + 1), Shards: 1,
			Figures: c.figures(d), Source: SourceRecord{Kind: "snapshot", SHA256: d.String()},
		})
		if err != nil {
			return fmt.Errorf("%s on %s: %w", id, d, err)
		}
	}
	return nil
}

func TestHistoryPagesInDateOrder(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	tn := readTenant(t, "tenant-h")
	start, _ := license.ParseDate("2026-11-01")
	var days []license.Date
	for i := range 9 {
		days = append(days, start.AddDays(i)) // 2026-11-01 … 2026-11-09
	}
	// Stored out of order: the history is in date order regardless.
	shuffled := []license.Date{days[4], days[0], days[8], days[2], days[1], days[6], days[3], days[7], days[5]}
	commitDays(t, s, tn, "fabrikam", shuffled)
	activeOn := map[license.Date]int{}
	for i, d := range shuffled {
		activeOn[d] = 10 + i
	}

	read := func(q HistoryQuery) []license.Date {
		t.Helper()
		var got []license.Date
		for pages := 0; ; pages++ {
			if pages > 20 {
				t.Fatal("the history never ends")
			}
			page, err := s.History(t.Context(), tn, "fabrikam", q)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) > q.Limit {
				t.Fatalf("page of %d, limit %d", len(page.Items), q.Limit)
			}
			for _, it := range page.Items {
				got = append(got, it.ReportDate)
				if it.ActiveEntitlements != activeOn[it.ReportDate] {
					t.Errorf("%s: active %d, stored %d", it.ReportDate, it.ActiveEntitlements, activeOn[it.ReportDate])
				}
			}
			if page.Next.IsZero() {
				return got
			}
			q.After = page.Next
		}
	}
	tests := []struct {
		name string
		q    HistoryQuery
		want []license.Date
	}{
		{"everything, one page", HistoryQuery{Limit: 50}, days},
		{"everything, pages of 2", HistoryQuery{Limit: 2}, days},
		{"pages of exactly the length", HistoryQuery{Limit: 3}, days},
		{"from and to included", HistoryQuery{From: days[2], To: days[5], Limit: 3}, days[2:6]},
		{"only from", HistoryQuery{From: days[7], Limit: 1}, days[7:]},
		{"only to", HistoryQuery{To: days[1], Limit: 5}, days[:2]},
		{"nothing in range", HistoryQuery{From: days[8].AddDays(1), Limit: 5}, nil},
		{"one day", HistoryQuery{From: days[3], To: days[3], Limit: 5}, days[3:4]},
	}
	for _, tc := range tests {
		if got := read(tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}

	// A customer that does not exist, or is another tenant's, is not an
	// empty history.
	if _, err := s.History(t.Context(), tn, "nobody", HistoryQuery{Limit: 5}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown customer: %v, want ErrNotFound", err)
	}
	if _, err := s.History(t.Context(), readTenant(t, "tenant-x"), "fabrikam", HistoryQuery{Limit: 5}); !errors.Is(err, ErrNotFound) {
		t.Errorf("another tenant's customer: %v, want ErrNotFound", err)
	}
}

func TestTrendBaseline(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	tn := readTenant(t, "tenant-t")
	d, _ := license.ParseDate("2026-11-20")
	// History at D−40, D−35, D−30, D−28, D−27 and D. The baseline of D is
	// the newest point from D−35 to D−28: D−28. Usage on D−28 is the 4th
	// commit: 10+3 = 13 active.
	histories := map[string][]license.Date{
		"fabrikam": {d.AddDays(-40), d.AddDays(-35), d.AddDays(-30), d.AddDays(-28), d.AddDays(-27), d},
		// Weekly reports: D−36, D−29, D−22 → D−29, the 2nd commit, 11 active.
		"weekly": {d.AddDays(-36), d.AddDays(-29), d.AddDays(-22), d},
		// Only D−36 and D−27: no baseline.
		"gappy": {d.AddDays(-36), d.AddDays(-27), d},
		// D−35 itself is still in.
		"edge": {d.AddDays(-35), d},
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(histories))
	for id, days := range histories {
		wg.Go(func() { errs <- commitDaysErr(t, s, tn, id, days) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		id     string
		date   license.Date
		active int
	}{
		{"fabrikam", d.AddDays(-28), 13},
		{"weekly", d.AddDays(-29), 11},
		{"gappy", license.NoDate, 0},
		{"edge", d.AddDays(-35), 10},
	}
	for _, tc := range tests {
		got, err := s.TrendBaseline(t.Context(), tn, tc.id, d)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case tc.date.IsZero() && got != nil:
			t.Errorf("%s: baseline %s, want none", tc.id, got.ReportDate)
		case !tc.date.IsZero() && got == nil:
			t.Errorf("%s: no baseline, want %s", tc.id, tc.date)
		case got != nil && (got.ReportDate != tc.date || got.ActiveEntitlements != tc.active || got.Entitlements != 100):
			t.Errorf("%s: baseline %s with %d of %d active, want %s with %d of 100", tc.id, got.ReportDate, got.ActiveEntitlements, got.Entitlements, tc.date, tc.active)
		}
	}
}

func TestDayRange(t *testing.T) {
	tn := readTenant(t, "t1")
	from, _ := license.ParseDate("2026-11-01")
	to, _ := license.ParseDate("2026-11-30")
	tests := []struct {
		from, to license.Date
		lo, hi   string
	}{
		{from, to, "DAY#2026-11-01", "DAY#2026-11-30"},
		{license.NoDate, to, "DAY#", "DAY#2026-11-30"},
		{from, license.NoDate, "DAY#2026-11-01", "DAY#~"},
	}
	for _, tc := range tests {
		pk, lo, hi, err := DayRange(tn, "c1", tc.from, tc.to)
		if err != nil || pk != "T#t1#C#c1" || lo != tc.lo || hi != tc.hi {
			t.Errorf("DayRange(%s, %s) = %s, %s, %s, %v; want T#t1#C#c1, %s, %s", tc.from, tc.to, pk, lo, hi, err, tc.lo, tc.hi)
		}
		// Every day in the range sorts inside it, and the customer's other
		// items (FIGURES, SUMMARY, SOURCE#…, APPLIED#…) outside it.
		for _, sk := range []string{"FIGURES", "SUMMARY", "SOURCE#snapshot", "APPLIED#3#123", "RANK", "GENCOUNTER", "SUBSCRIPTIONS"} {
			if lo <= sk && sk <= hi {
				t.Errorf("%s falls inside the history range %s…%s", sk, lo, hi)
			}
		}
	}
	if _, _, _, err := DayRange(license.Tenant{}, "c1", from, to); !errors.Is(err, license.ErrNoTenant) {
		t.Errorf("zero tenant: %v", err)
	}
	if _, _, _, err := DayRange(tn, "bad#id", from, to); err == nil {
		t.Error("a customer id with '#' was accepted")
	}
}
