package license

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// dayD is D in every hand-worked case below; with the default 28-day
// window the activity dates D−27 (2026-10-24) … D count.
var dayD = mustParseDate("2026-11-20")

func mustParseDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// beforeD is D − n.
func beforeD(n int) Date { return dayD.AddDays(-n) }

func newSub(id, sku string, quantity int, status Status, trial bool, channel Channel) Subscription {
	return Subscription{ID: id, SKU: sku, Quantity: quantity, Status: status, Trial: trial, Channel: channel}
}

// paidSub is a counted subscription: active, not trial.
func paidSub(id, sku string, quantity int, channel Channel) Subscription {
	return newSub(id, sku, quantity, StatusActive, false, channel)
}

type userTrait func(*User)

func newUser(key string, options ...userTrait) User {
	u := User{Key: key, DisplayName: key}
	for _, o := range options {
		o(&u)
	}
	return u
}

func isDeleted(u *User) { u.Deleted = true }

func holdsSKU(sku string, assigned Date) userTrait {
	return func(u *User) { u.Licenses = append(u.Licenses, License{SKU: sku, AssignedDate: assigned}) }
}

// uses appends a workload entry as given, without merging, so that tests can
// feed Compute the duplicate entries it must be robust to.
func usesWorkload(w Workload, licensed bool, last Date) userTrait {
	return func(u *User) {
		u.Workloads = append(u.Workloads, WorkloadUse{Workload: w, Licensed: licensed, LastActivity: last})
	}
}

// licensedFor gives the user a licensed, inactive entry for each workload.
func licensedFor(ws ...Workload) userTrait {
	return func(u *User) {
		for _, w := range ws {
			u.Workloads = append(u.Workloads, WorkloadUse{Workload: w, Licensed: true})
		}
	}
}

func computeAt(subs []Subscription, users ...User) Result {
	return Compute(Input{Customer: Customer{ID: "c", Name: "C"}, ReportDate: dayD, Subscriptions: subs, Users: users})
}

func productOf(t *testing.T, f Figures, sku string) ProductFigures {
	t.Helper()
	for _, p := range f.Products {
		if p.SKU == sku {
			return p
		}
	}
	t.Fatalf("no product %q in %+v", sku, f.Products)
	return ProductFigures{}
}

func workloadOf(t *testing.T, f Figures, days int, w Workload) WorkloadFigures {
	t.Helper()
	win, ok := f.Window(days)
	if !ok {
		t.Fatalf("no %d-day window", days)
	}
	for _, x := range win.Workloads {
		if x.Workload == w {
			return x
		}
	}
	t.Fatalf("no workload %q in the %d-day window", w, days)
	return WorkloadFigures{}
}

func entitledKeys(in []User, r Result) []string {
	var keys []string
	for i, u := range in {
		if r.Entitled[i] {
			keys = append(keys, u.Key)
		}
	}
	return keys
}

func percentValue(v float64) *float64 { return &v }

func samePercent(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func showPercent(p *float64) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

// TestComputeSpecExample rebuilds the customer of docs/definitions.md#insights-and-portfolio and checks every
// figure the example shows. The example is self-consistent; this customer
// produces it:
//
//	subscriptions: s1 SPE_E3 10 own (renews 2027-01-31), s2 O365_BUSINESS_PREMIUM
//	4 direct, s3 SPE_E5 25 active *trial* (not counted).
//	e01…e10 hold SPE_E3 since Jan 2025 → entitled (the 10 seats);
//	e11, e12 hold SPE_E3 since Jun 2026 → over-assigned, no entitlement;
//	b1…b4 hold BUSINESS_PREMIUM → entitled (the 4 seats);
//	t1 holds only SPE_E5 (trial); f1 is deleted; f2 holds nothing.
//	Entitled users: 14, all licensed for exchange, sharepoint and teams;
//	only b1, b2 are licensed for yammer; nobody for skype.
//
// deployment: sold 10 + 4 = 14 (own 10, direct 4), assigned over counted
// SKUs 12 + 4 = 16 (SPE_E5's t1 stays out) → 16/14 = 114.3 %.
// SPE_E3: sold 10, assigned 12 → 120.0 %, unassigned 0.
// exchange: active e01…e10, b1 (counted, 11), e11 (over-assigned →
// inactiveSubscription), t1 (trial), f1 and f2 (formerLicensee) → active 15,
// entitlements 14 → 107.1 %, adjusted 11/14 = 78.6 %.
// sharepoint: e01…e07 and b2 active → 8/14 counted. teams: e01…e05 → 5/14.
// yammer: entitlements b1, b2 (inactive there); e01…e03 are active in yammer
// without a yammer licence → 3 unlicensed. skype: 0/0.
// usage: entitlements 14+14+14+2+0 = 44, active 15+8+5+3+0 = 31 → 70.5 %,
// counted 11+8+5+0+0 = 24 → adjusted 54.5 %.
// inactive licensed users: b3, b4 (e11 is active but holds no entitlement) → 2.
func TestComputeSpecExample(t *testing.T) {
	s1 := paidSub("s1", "SPE_E3", 10, ChannelOwn)
	s1.Name = "Microsoft 365 E3"
	s1.RenewalDate = mustParseDate("2027-01-31")
	subs := []Subscription{
		s1,
		paidSub("s2", "O365_BUSINESS_PREMIUM", 4, ChannelDirect),
		newSub("s3", "SPE_E5", 25, StatusActive, true, ChannelOwn),
	}
	all := []Workload{Exchange, SharePoint, Teams}
	var users []User
	for i := 1; i <= 12; i++ {
		assigned := mustParseDate(fmt.Sprintf("2025-01-%02d", i))
		if i > 10 {
			assigned = mustParseDate("2026-06-01")
		}
		u := newUser(fmt.Sprintf("e%02d@fabrikam.com", i), holdsSKU("SPE_E3", assigned))
		for _, w := range all {
			last := NoDate
			switch {
			case w == Exchange && (i <= 11):
				last = beforeD(1)
			case w == SharePoint && i <= 7:
				last = beforeD(5)
			case w == Teams && i <= 5:
				last = beforeD(20)
			}
			usesWorkload(w, true, last)(&u)
		}
		if i <= 3 {
			usesWorkload(Yammer, false, beforeD(2))(&u)
		}
		users = append(users, u)
	}
	for i := 1; i <= 4; i++ {
		u := newUser(fmt.Sprintf("b%d@fabrikam.com", i), holdsSKU("O365_BUSINESS_PREMIUM", mustParseDate("2025-02-01")), licensedFor(all...))
		if i <= 2 {
			licensedFor(Yammer)(&u)
		}
		switch i {
		case 1:
			usesWorkload(Exchange, true, beforeD(0))(&u)
		case 2:
			usesWorkload(SharePoint, true, beforeD(27))(&u)
		}
		users = append(users, u)
	}
	users = append(users,
		newUser("t1@fabrikam.com", holdsSKU("SPE_E5", mustParseDate("2026-11-01")), usesWorkload(Exchange, true, beforeD(3))),
		newUser("f1@fabrikam.com", isDeleted, holdsSKU("SPE_E3", mustParseDate("2024-01-01")), usesWorkload(Exchange, true, beforeD(10))),
		newUser("f2@fabrikam.com", usesWorkload(Exchange, false, beforeD(4))),
	)
	r := Compute(Input{Customer: Customer{ID: "fabrikam", Name: "Fabrikam Inc"}, ReportDate: dayD, Subscriptions: subs, Users: users})
	f := r.Figures

	d := f.Deployment()
	if want := (ChannelCounts{Own: 10, Direct: 4}); d.Sold != want || d.Assigned != 16 {
		t.Errorf("deployment = %+v, want sold %+v assigned 16", d, want)
	}
	if p := Percent(d.Assigned, d.Sold.Total()); !samePercent(p, percentValue(114.3)) {
		t.Errorf("deployment %% = %s, want 114.3", showPercent(p))
	}
	e3 := productOf(t, f, "SPE_E3")
	// Idle holders: e01…e10 take the 10 seats and are all active in
	// exchange at D−1 → 0 in every window.
	wantE3 := ProductFigures{SKU: "SPE_E3", Name: "Microsoft 365 E3", Sold: ChannelCounts{Own: 10}, Assigned: 12, Counted: true,
		Renewals:    []Renewal{{SubscriptionID: "s1", Kind: RenewalRenews, Date: mustParseDate("2027-01-31"), Quantity: 10, Status: StatusActive}},
		IdleHolders: []int{0, 0, 0, 0, 0}}
	if !reflect.DeepEqual(e3, wantE3) {
		t.Errorf("SPE_E3 = %+v, want %+v", e3, wantE3)
	}
	if p := Percent(e3.Assigned, e3.Sold.Total()); !samePercent(p, percentValue(120)) || e3.Unassigned() != 0 {
		t.Errorf("SPE_E3 deployment %s %%, unassigned %d, want 120 %%, 0", showPercent(p), e3.Unassigned())
	}
	// Business Premium's 4 seats go to b1…b4: b1 active at D, b2 at D−27
	// (inside 28 days, outside 7), b3 and b4 never → idle 3 in 7 days, 2 in 28.
	bp := productOf(t, f, "O365_BUSINESS_PREMIUM")
	if got7, got28 := f.IdleHoldersIn(bp, 7), f.IdleHoldersIn(bp, 28); got7 != 3 || got28 != 2 {
		t.Errorf("Business Premium idle holders 7d %d, 28d %d, want 3, 2", got7, got28)
	}
	if e5 := productOf(t, f, "SPE_E5"); e5.Counted || e5.Assigned != 1 || e5.Sold.Total() != 0 {
		t.Errorf("SPE_E5 = %+v, want trial-only: not counted, assigned 1, sold 0", e5)
	}

	want := []WorkloadFigures{
		{Workload: Exchange, Entitlements: 14, Active: 15, CountedActive: 11, Uncounted: Uncounted{FormerLicensee: 2, Trial: 1, InactiveSubscription: 1}},
		{Workload: SharePoint, Entitlements: 14, Active: 8, CountedActive: 8},
		{Workload: Teams, Entitlements: 14, Active: 5, CountedActive: 5},
		{Workload: Yammer, Entitlements: 2, Active: 3, Uncounted: Uncounted{Unlicensed: 3}},
		{Workload: Skype, Retired: true},
	}
	w28, _ := f.Window(28)
	if !reflect.DeepEqual(w28.Workloads, want) {
		t.Errorf("28-day workloads:\n got %+v\nwant %+v", w28.Workloads, want)
	}
	if w28.InactiveLicensedUsers != 2 {
		t.Errorf("inactive licensed users = %d, want 2", w28.InactiveLicensedUsers)
	}
	ex := want[0]
	if p, a := Percent(ex.Active, ex.Entitlements), Percent(ex.CountedActive, ex.Entitlements); !samePercent(p, percentValue(107.1)) || !samePercent(a, percentValue(78.6)) {
		t.Errorf("exchange usage %s %%, adjusted %s %%, want 107.1 and 78.6", showPercent(p), showPercent(a))
	}
	u := w28.Usage()
	if u != (Usage{Entitlements: 44, Active: 31, CountedActive: 24}) {
		t.Errorf("usage = %+v, want 44 / 31 / 24", u)
	}
	if p, a := Percent(u.Active, u.Entitlements), Percent(u.CountedActive, u.Entitlements); !samePercent(p, percentValue(70.5)) || !samePercent(a, percentValue(54.5)) {
		t.Errorf("usage %s %%, adjusted %s %%, want 70.5 and 54.5", showPercent(p), showPercent(a))
	}

	// In the 7-day window teams (D−20) and b2's sharepoint (D−27) drop out,
	// f1 (D−10) too: exchange active 14 (11 counted, e11, t1, f2).
	w7ex := workloadOf(t, f, 7, Exchange)
	if want := (WorkloadFigures{Workload: Exchange, Entitlements: 14, Active: 14, CountedActive: 11, Uncounted: Uncounted{FormerLicensee: 1, Trial: 1, InactiveSubscription: 1}}); w7ex != want {
		t.Errorf("7-day exchange = %+v, want %+v", w7ex, want)
	}
	if w7sp := workloadOf(t, f, 7, SharePoint); w7sp.Active != 7 || w7sp.CountedActive != 7 {
		t.Errorf("7-day sharepoint = %+v, want 7 active, 7 counted", w7sp)
	}
	wantEntitled := []string{}
	for i := 1; i <= 10; i++ {
		wantEntitled = append(wantEntitled, fmt.Sprintf("e%02d@fabrikam.com", i))
	}
	wantEntitled = append(wantEntitled, "b1@fabrikam.com", "b2@fabrikam.com", "b3@fabrikam.com", "b4@fabrikam.com")
	if got := entitledKeys(users, r); !slices.Equal(got, wantEntitled) {
		t.Errorf("entitled = %v, want %v", got, wantEntitled)
	}
	if f.Customer.ID != "fabrikam" || f.ReportDate != dayD {
		t.Errorf("customer/date = %+v %v", f.Customer, f.ReportDate)
	}
}

// Sold counts only active, non-trial subscriptions, split by channel: own
// 10, partner 4, direct 3, unknown 2 + 1 (an empty channel is unknown);
// the grace (5) and trial (7) subscriptions are not sold.
func TestComputeSoldByChannel(t *testing.T) {
	r := computeAt([]Subscription{
		paidSub("s1", "SPE_E3", 10, ChannelOwn),
		paidSub("s2", "SPE_E3", 4, ChannelPartner),
		paidSub("s3", "SPE_E3", 3, ChannelDirect),
		paidSub("s4", "SPE_E3", 2, ChannelUnknown),
		paidSub("s5", "SPE_E3", 1, ""),
		newSub("s6", "SPE_E3", 5, StatusGrace, false, ChannelOwn),
		newSub("s7", "SPE_E3", 7, StatusActive, true, ChannelOwn),
	})
	p := productOf(t, r.Figures, "SPE_E3")
	if want := (ChannelCounts{Own: 10, Partner: 4, Direct: 3, Unknown: 3}); p.Sold != want || !p.Counted {
		t.Errorf("sold = %+v counted %v, want %+v counted", p.Sold, p.Counted, want)
	}
}

// Three SKUs: SPE_E3 counted (10 sold, 4 assigned); SPE_E5 held on an
// active trial only (3 assigned); EMS lapsed (expired 5, 2 assigned).
// All three are listed, sorted by SKU, but the overall deployment is
// SPE_E3's alone: 4 / 10 = 40 %. SKUs with sold 0 have no percentage.
func TestComputeTrialAndLapsedStayOutOfOverallDeployment(t *testing.T) {
	subs := []Subscription{
		paidSub("s1", "SPE_E3", 10, ChannelOwn),
		newSub("s2", "SPE_E5", 25, StatusActive, true, ChannelOwn),
		newSub("s3", "EMS", 5, StatusExpired, false, ChannelPartner),
	}
	var users []User
	for i := range 4 {
		users = append(users, newUser(fmt.Sprintf("e3-%d", i), holdsSKU("SPE_E3", NoDate)))
	}
	for i := range 3 {
		users = append(users, newUser(fmt.Sprintf("e5-%d", i), holdsSKU("SPE_E5", NoDate)))
	}
	users = append(users, newUser("ems-0", holdsSKU("EMS", NoDate)), newUser("ems-1", holdsSKU("EMS", NoDate)))
	f := computeAt(subs, users...).Figures

	var skus []string
	for _, p := range f.Products {
		skus = append(skus, p.SKU)
	}
	if want := []string{"EMS", "SPE_E3", "SPE_E5"}; !slices.Equal(skus, want) {
		t.Fatalf("products %v, want %v", skus, want)
	}
	for _, c := range []struct {
		sku      string
		sold     int
		assigned int
		counted  bool
		percent  *float64
	}{
		{"EMS", 0, 2, false, nil},
		{"SPE_E3", 10, 4, true, percentValue(40)},
		{"SPE_E5", 0, 3, false, nil},
	} {
		p := productOf(t, f, c.sku)
		if p.Sold.Total() != c.sold || p.Assigned != c.assigned || p.Counted != c.counted || !samePercent(Percent(p.Assigned, p.Sold.Total()), c.percent) {
			t.Errorf("%s = %+v (%s %%), want sold %d assigned %d counted %v", c.sku, p, showPercent(Percent(p.Assigned, p.Sold.Total())), c.sold, c.assigned, c.counted)
		}
	}
	d := f.Deployment()
	if d.Sold.Total() != 10 || d.Assigned != 4 || !samePercent(Percent(d.Assigned, d.Sold.Total()), percentValue(40)) {
		t.Errorf("deployment = %+v, want sold 10, assigned 4, 40 %%", d)
	}
}

// A customer with only trial capacity has sold 0 overall: its deployment
// and its usage (no entitlement anywhere) are null, never ∞ or NaN.
func TestComputeNothingSoldIsNull(t *testing.T) {
	f := computeAt([]Subscription{newSub("s1", "SPE_E5", 25, StatusActive, true, ChannelOwn)},
		newUser("a", holdsSKU("SPE_E5", NoDate), usesWorkload(Exchange, true, beforeD(1)))).Figures
	d := f.Deployment()
	if p := Percent(d.Assigned, d.Sold.Total()); p != nil {
		t.Errorf("deployment %% = %v, want null", *p)
	}
	w, _ := f.Window(DefaultWindow)
	u := w.Usage()
	if u.Entitlements != 0 || u.Active != 1 || Percent(u.Active, u.Entitlements) != nil {
		t.Errorf("usage = %+v (%s %%), want 0 entitlements, 1 active, null", u, showPercent(Percent(u.Active, u.Entitlements)))
	}
}

// The allocation of counted capacity, SKU by SKU.
func TestComputeAllocationOrder(t *testing.T) {
	jan, feb, mar := mustParseDate("2025-01-01"), mustParseDate("2025-02-01"), mustParseDate("2025-03-01")
	e3 := func(quantity int) []Subscription {
		return []Subscription{paidSub("s1", "SPE_E3", quantity, ChannelOwn)}
	}
	cases := []struct {
		name         string
		subs         []Subscription
		users        []User
		wantEntitled []string
		wantAssigned int
	}{
		{
			// oldest first: bob (Jan), carol (Feb) take the 2 seats.
			name:         "assign date, oldest first",
			subs:         e3(2),
			users:        []User{newUser("alice", holdsSKU("SPE_E3", mar)), newUser("bob", holdsSKU("SPE_E3", jan)), newUser("carol", holdsSKU("SPE_E3", feb))},
			wantEntitled: []string{"bob", "carol"},
			wantAssigned: 3,
		},
		{
			// equal dates: user key decides, amy before zed.
			name:         "same date, then key",
			subs:         e3(1),
			users:        []User{newUser("zed", holdsSKU("SPE_E3", jan)), newUser("amy", holdsSKU("SPE_E3", jan))},
			wantEntitled: []string{"amy"},
			wantAssigned: 2,
		},
		{
			// 3 seats: x (Jan) first, then two of the three tied on Feb by
			// key: c, k; m and a (Mar) are left out.
			name: "date tie across the last seats",
			subs: e3(3),
			users: []User{
				newUser("m", holdsSKU("SPE_E3", feb)), newUser("x", holdsSKU("SPE_E3", jan)), newUser("c", holdsSKU("SPE_E3", feb)),
				newUser("k", holdsSKU("SPE_E3", feb)), newUser("a", holdsSKU("SPE_E3", mar)),
			},
			wantEntitled: []string{"x", "c", "k"},
			wantAssigned: 5,
		},
		{
			// "aaa" has no date: assumed newest, sorts after zzz's date.
			name:         "no date sorts last",
			subs:         e3(1),
			users:        []User{newUser("aaa", holdsSKU("SPE_E3", NoDate)), newUser("zzz", holdsSKU("SPE_E3", mustParseDate("2026-11-01")))},
			wantEntitled: []string{"zzz"},
			wantAssigned: 2,
		},
		{
			// two undated licences: key order.
			name:         "no dates, key order",
			subs:         e3(1),
			users:        []User{newUser("b", holdsSKU("SPE_E3", NoDate)), newUser("a", holdsSKU("SPE_E3", NoDate))},
			wantEntitled: []string{"a"},
			wantAssigned: 2,
		},
		{
			// 5 holders, 3 seats: u1…u3 by date; over-assignment leaves 2 out.
			name: "over-assignment",
			subs: e3(3),
			users: []User{
				newUser("u5", holdsSKU("SPE_E3", mustParseDate("2025-05-01"))), newUser("u1", holdsSKU("SPE_E3", jan)),
				newUser("u4", holdsSKU("SPE_E3", mustParseDate("2025-04-01"))), newUser("u2", holdsSKU("SPE_E3", feb)),
				newUser("u3", holdsSKU("SPE_E3", mar)),
			},
			wantEntitled: []string{"u1", "u2", "u3"},
			wantAssigned: 5,
		},
		{
			// the deleted oldest holder takes no seat and is not assigned.
			name:         "deleted users take no capacity",
			subs:         e3(1),
			users:        []User{newUser("old", isDeleted, holdsSKU("SPE_E3", jan)), newUser("new", holdsSKU("SPE_E3", mar))},
			wantEntitled: []string{"new"},
			wantAssigned: 1,
		},
		{
			// dup lists SPE_E3 twice (Mar and Jan): assigned once, with Jan,
			// so it beats other (Feb) for the single seat.
			name:         "same SKU listed twice counts once, earliest date",
			subs:         e3(1),
			users:        []User{newUser("other", holdsSKU("SPE_E3", feb)), newUser("dup", holdsSKU("SPE_E3", mar), holdsSKU("SPE_E3", jan))},
			wantEntitled: []string{"dup"},
			wantAssigned: 2,
		},
		{
			// a dated and an undated listing of one SKU: the known date counts.
			name:         "duplicate with no date keeps the known date",
			subs:         e3(1),
			users:        []User{newUser("dup", holdsSKU("SPE_E3", NoDate), holdsSKU("SPE_E3", mar)), newUser("other", holdsSKU("SPE_E3", NoDate))},
			wantEntitled: []string{"dup"},
			wantAssigned: 2,
		},
		{
			// trial capacity only: nobody entitled.
			name:         "no counted capacity",
			subs:         []Subscription{newSub("s1", "SPE_E3", 10, StatusActive, true, ChannelOwn), newSub("s2", "SPE_E3", 10, StatusDisabled, false, ChannelOwn)},
			users:        []User{newUser("a", holdsSKU("SPE_E3", jan))},
			wantAssigned: 1,
		},
		{
			// seats are per SKU: x loses SPE_E3 to y but is entitled through EMS.
			name:         "entitled through any SKU",
			subs:         []Subscription{paidSub("s1", "SPE_E3", 1, ChannelOwn), paidSub("s2", "EMS", 1, ChannelOwn)},
			users:        []User{newUser("x", holdsSKU("SPE_E3", feb), holdsSKU("EMS", jan)), newUser("y", holdsSKU("SPE_E3", jan))},
			wantEntitled: []string{"x", "y"},
			wantAssigned: 2,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := computeAt(c.subs, c.users...)
			if got := entitledKeys(c.users, r); !slices.Equal(got, c.wantEntitled) {
				t.Errorf("entitled = %v, want %v", got, c.wantEntitled)
			}
			if p := productOf(t, r.Figures, "SPE_E3"); p.Assigned != c.wantAssigned {
				t.Errorf("assigned = %d, want %d", p.Assigned, c.wantAssigned)
			}
			if len(r.Entitled) != len(c.users) {
				t.Errorf("len(Entitled) = %d, want %d", len(r.Entitled), len(c.users))
			}
		})
	}
}

// Compute merges a user's duplicate entries for a workload (licensed if
// either is, newest activity) and counts OneDrive as SharePoint, whatever
// the spelling. a: OneDrive licensed, active D−40; SharePoint unlicensed,
// active D−3 → sharepoint licensed, last D−3. b: two exchange entries,
// one licensed with no activity, one unlicensed active D−1 → licensed and
// active. Both hold the single seat they need (2 sold).
func TestComputeMergesDuplicateWorkloads(t *testing.T) {
	users := []User{
		newUser("a", holdsSKU("SPE_E3", NoDate), usesWorkload("OneDrive", true, beforeD(40)), usesWorkload(SharePoint, false, beforeD(3))),
		newUser("b", holdsSKU("SPE_E3", NoDate), usesWorkload(Exchange, true, NoDate), usesWorkload(Exchange, false, beforeD(1)), usesWorkload("onedrive", false, beforeD(2))),
	}
	f := computeAt([]Subscription{paidSub("s1", "SPE_E3", 2, ChannelOwn)}, users...).Figures
	for _, w := range f.Windows {
		if len(w.Workloads) != len(StandardWorkloads) {
			t.Fatalf("%d-day workloads = %+v, want only the standard five (no onedrive)", w.Days, w.Workloads)
		}
	}
	// sharepoint, 7 days: a licensed and active (D−3), b unlicensed but
	// active through OneDrive (D−2) → unlicensed.
	if got, want := workloadOf(t, f, 7, SharePoint), (WorkloadFigures{Workload: SharePoint, Entitlements: 1, Active: 2, CountedActive: 1, Uncounted: Uncounted{Unlicensed: 1}}); got != want {
		t.Errorf("sharepoint = %+v, want %+v", got, want)
	}
	if got, want := workloadOf(t, f, 7, Exchange), (WorkloadFigures{Workload: Exchange, Entitlements: 1, Active: 1, CountedActive: 1}); got != want {
		t.Errorf("exchange = %+v, want %+v", got, want)
	}
}

// Active means lastActivity > D − N: D−27 counts for 28 days, D−28 does
// not; D−6 counts for 7 days, D−7 does not; and so on for 30, 90, 180.
// Activity on D itself counts; no date never does.
func TestComputeWindowBoundaries(t *testing.T) {
	cases := []struct {
		last Date
		want map[int]int // window → active count
	}{
		{beforeD(0), map[int]int{7: 1, 28: 1, 30: 1, 90: 1, 180: 1}},
		{beforeD(6), map[int]int{7: 1, 28: 1, 30: 1, 90: 1, 180: 1}},
		{beforeD(7), map[int]int{7: 0, 28: 1, 30: 1, 90: 1, 180: 1}},
		{beforeD(27), map[int]int{7: 0, 28: 1, 30: 1, 90: 1, 180: 1}},
		{beforeD(28), map[int]int{7: 0, 28: 0, 30: 1, 90: 1, 180: 1}},
		{beforeD(29), map[int]int{7: 0, 28: 0, 30: 1, 90: 1, 180: 1}},
		{beforeD(30), map[int]int{7: 0, 28: 0, 30: 0, 90: 1, 180: 1}},
		{beforeD(89), map[int]int{7: 0, 28: 0, 30: 0, 90: 1, 180: 1}},
		{beforeD(90), map[int]int{7: 0, 28: 0, 30: 0, 90: 0, 180: 1}},
		{beforeD(179), map[int]int{7: 0, 28: 0, 30: 0, 90: 0, 180: 1}},
		{beforeD(180), map[int]int{7: 0, 28: 0, 30: 0, 90: 0, 180: 0}},
		{NoDate, map[int]int{7: 0, 28: 0, 30: 0, 90: 0, 180: 0}},
	}
	for _, c := range cases {
		t.Run("D-"+fmt.Sprint(int(dayD-c.last)), func(t *testing.T) {
			f := computeAt([]Subscription{paidSub("s1", "SPE_E3", 1, ChannelOwn)},
				newUser("a", holdsSKU("SPE_E3", NoDate), usesWorkload(Exchange, true, c.last))).Figures
			if len(f.Windows) != len(Windows) {
				t.Fatalf("windows = %d, want %d", len(f.Windows), len(Windows))
			}
			for i, w := range f.Windows {
				if w.Days != Windows[i] {
					t.Errorf("window %d is %d days, want %d", i, w.Days, Windows[i])
				}
				ex := workloadOf(t, f, w.Days, Exchange)
				if ex.Active != c.want[w.Days] || ex.CountedActive != c.want[w.Days] || ex.Entitlements != 1 {
					t.Errorf("%d days: exchange %+v, want active = counted = %d, entitlements 1", w.Days, ex, c.want[w.Days])
				}
				// the only entitled user is inactive exactly when not active.
				if w.InactiveLicensedUsers != 1-c.want[w.Days] {
					t.Errorf("%d days: inactive licensed users %d, want %d", w.Days, w.InactiveLicensedUsers, 1-c.want[w.Days])
				}
			}
		})
	}
}

// Every uncounted cause, and the first-match-wins order. The background:
// SPE_E3 has 1 seat, taken by "seat" (oldest); SPE_E5 has an active trial;
// EMS only grace capacity; PROJ an expired trial. Each case adds one user
// active in exchange yesterday and checks where its activity lands.
func TestComputeUncountedCauses(t *testing.T) {
	subs := []Subscription{
		paidSub("s1", "SPE_E3", 1, ChannelOwn),
		newSub("s2", "SPE_E5", 25, StatusActive, true, ChannelOwn),
		newSub("s3", "EMS", 10, StatusGrace, false, ChannelOwn),
		newSub("s4", "PROJ", 10, StatusExpired, true, ChannelOwn),
	}
	seat := newUser("seat", holdsSKU("SPE_E3", mustParseDate("2020-01-01")), licensedFor(Exchange))
	yesterday := beforeD(1)
	cases := []struct {
		name string
		user User
		want Uncounted // the one exchange activity, or zero when counted
	}{
		{"deleted user", newUser("x", isDeleted, holdsSKU("SPE_E3", NoDate), usesWorkload(Exchange, true, yesterday)), Uncounted{FormerLicensee: 1}},
		{"no licence at all", newUser("x", usesWorkload(Exchange, false, yesterday)), Uncounted{FormerLicensee: 1}},
		{"no licence but flagged licensed", newUser("x", usesWorkload(Exchange, true, yesterday)), Uncounted{FormerLicensee: 1}},
		{"deleted and unlicensed: formerLicensee first", newUser("x", isDeleted, holdsSKU("SPE_E3", NoDate), usesWorkload(Exchange, false, yesterday)), Uncounted{FormerLicensee: 1}},
		{"deleted and trial-only: formerLicensee first", newUser("x", isDeleted, holdsSKU("SPE_E5", NoDate), usesWorkload(Exchange, true, yesterday)), Uncounted{FormerLicensee: 1}},
		{"holds licences, none for exchange", newUser("x", holdsSKU("SPE_E3", NoDate), usesWorkload(Exchange, false, yesterday)), Uncounted{Unlicensed: 1}},
		{"trial-only and unlicensed: unlicensed first", newUser("x", holdsSKU("SPE_E5", NoDate), usesWorkload(Exchange, false, yesterday)), Uncounted{Unlicensed: 1}},
		{"trial SKU only", newUser("x", holdsSKU("SPE_E5", NoDate), usesWorkload(Exchange, true, yesterday)), Uncounted{Trial: 1}},
		{"trial SKU listed twice", newUser("x", holdsSKU("SPE_E5", NoDate), holdsSKU("SPE_E5", yesterday), usesWorkload(Exchange, true, yesterday)), Uncounted{Trial: 1}},
		{"over-assigned", newUser("x", holdsSKU("SPE_E3", NoDate), usesWorkload(Exchange, true, yesterday)), Uncounted{InactiveSubscription: 1}},
		{"over-assigned plus trial: not every licence is trial", newUser("x", holdsSKU("SPE_E3", NoDate), holdsSKU("SPE_E5", NoDate), usesWorkload(Exchange, true, yesterday)), Uncounted{InactiveSubscription: 1}},
		{"grace capacity only", newUser("x", holdsSKU("EMS", NoDate), usesWorkload(Exchange, true, yesterday)), Uncounted{InactiveSubscription: 1}},
		{"expired trial is no active trial", newUser("x", holdsSKU("PROJ", NoDate), usesWorkload(Exchange, true, yesterday)), Uncounted{InactiveSubscription: 1}},
		{"SKU with no subscription at all", newUser("x", holdsSKU("VISIO", NoDate), usesWorkload(Exchange, true, yesterday)), Uncounted{InactiveSubscription: 1}},
		{"counted", newUser("x", holdsSKU("SPE_E3", NoDate), holdsSKU("SPE_E3", mustParseDate("2019-01-01")), usesWorkload(Exchange, true, yesterday)), Uncounted{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// seat holds the SPE_E3 seat unless the user's licence is older.
			f := computeAt(subs, seat, c.user).Figures
			for _, n := range Windows {
				got := workloadOf(t, f, n, Exchange)
				wantCounted := 0
				if c.want == (Uncounted{}) {
					wantCounted = 1
				}
				if got.Active != 1 || got.CountedActive != wantCounted || got.Uncounted != c.want {
					t.Errorf("%d days: exchange %+v, want active 1, counted %d, uncounted %+v", n, got, wantCounted, c.want)
				}
				if got.Active != got.CountedActive+got.Uncounted.Total() {
					t.Errorf("%d days: active %d ≠ counted %d + uncounted %d", n, got.Active, got.CountedActive, got.Uncounted.Total())
				}
			}
		})
	}
}

// Adjusted usage never exceeds 100 % even when usage does: 1 seat, 1
// entitled user active, 3 others active → usage 400 %, adjusted 100 %.
func TestComputeAdjustedUsageCapped(t *testing.T) {
	f := computeAt([]Subscription{paidSub("s1", "SPE_E3", 1, ChannelOwn)},
		newUser("a", holdsSKU("SPE_E3", mustParseDate("2020-01-01")), usesWorkload(Exchange, true, beforeD(1))),
		newUser("b", holdsSKU("SPE_E3", NoDate), usesWorkload(Exchange, true, beforeD(1))),
		newUser("c", usesWorkload(Exchange, false, beforeD(1))),
		newUser("d", isDeleted, usesWorkload(Exchange, true, beforeD(1))),
	).Figures
	ex := workloadOf(t, f, 28, Exchange)
	if !samePercent(Percent(ex.Active, ex.Entitlements), percentValue(400)) || !samePercent(Percent(ex.CountedActive, ex.Entitlements), percentValue(100)) {
		t.Errorf("exchange %+v: usage %s %%, adjusted %s %%, want 400 and 100", ex,
			showPercent(Percent(ex.Active, ex.Entitlements)), showPercent(Percent(ex.CountedActive, ex.Entitlements)))
	}
}

// Inactive licensed users: entitled, non-deleted, active in no workload
// in the window, whatever the workload (licensed or not, standard or not).
// 3 seats. a: exchange D−40 → inactive for 7/28/30, active for 90/180.
// b: active only in yammer (unlicensed) D−1 → never inactive.
// c: active only in "office" D−1 → never inactive. d: no seat (4th by
// date), never active → not counted, it holds no entitlement.
func TestComputeInactiveLicensedUsers(t *testing.T) {
	jan := mustParseDate("2025-01-01")
	f := computeAt([]Subscription{paidSub("s1", "SPE_E3", 3, ChannelOwn)},
		newUser("a", holdsSKU("SPE_E3", jan), usesWorkload(Exchange, true, beforeD(40))),
		newUser("b", holdsSKU("SPE_E3", jan), usesWorkload(Yammer, false, beforeD(1))),
		newUser("c", holdsSKU("SPE_E3", jan), usesWorkload("office", true, beforeD(1))),
		newUser("d", holdsSKU("SPE_E3", NoDate), licensedFor(Exchange)),
	).Figures
	want := map[int]int{7: 1, 28: 1, 30: 1, 90: 0, 180: 0}
	for _, w := range f.Windows {
		if w.InactiveLicensedUsers != want[w.Days] {
			t.Errorf("%d days: inactive licensed users = %d, want %d", w.Days, w.InactiveLicensedUsers, want[w.Days])
		}
	}
}

// Workloads beyond the standard five are listed after them in name order,
// names normalised (Office → office). "office": a licensed and active
// (counted), b licensed but inactive, c unlicensed and active. "project":
// only b, unlicensed, active D−2. 2 seats for a and b; c holds no seat.
func TestComputeExtraWorkloads(t *testing.T) {
	f := computeAt([]Subscription{paidSub("s1", "SPE_E3", 2, ChannelOwn)},
		newUser("a", holdsSKU("SPE_E3", mustParseDate("2025-01-01")), usesWorkload("Office", true, beforeD(1))),
		newUser("b", holdsSKU("SPE_E3", mustParseDate("2025-01-01")), usesWorkload("office", true, NoDate), usesWorkload("project", false, beforeD(2))),
		newUser("c", holdsSKU("SPE_E3", NoDate), usesWorkload("office", false, beforeD(1))),
		newUser("d", usesWorkload("", true, beforeD(1))), // no workload name: ignored
	).Figures
	for _, w := range f.Windows {
		var names []Workload
		for _, x := range w.Workloads {
			names = append(names, x.Workload)
		}
		if want := []Workload{Exchange, SharePoint, Teams, Yammer, Skype, "office", "project"}; !slices.Equal(names, want) {
			t.Fatalf("%d-day workloads = %v, want %v", w.Days, names, want)
		}
	}
	if got, want := workloadOf(t, f, 28, "office"), (WorkloadFigures{Workload: "office", Entitlements: 2, Active: 2, CountedActive: 1, Uncounted: Uncounted{Unlicensed: 1}}); got != want {
		t.Errorf("office = %+v, want %+v", got, want)
	}
	if got, want := workloadOf(t, f, 28, "project"), (WorkloadFigures{Workload: "project", Active: 1, Uncounted: Uncounted{Unlicensed: 1}}); got != want {
		t.Errorf("project = %+v, want %+v", got, want)
	}
}

// Names come from the first subscription naming the SKU, then from
// ProductName, else empty. Renewals list every subscription with a date,
// any status, by date then ID. SKUs only deleted users hold are not listed.
func TestComputeProductsNamesAndRenewals(t *testing.T) {
	named := func(s Subscription, name string, renewal string) Subscription {
		s.Name = name
		if renewal != "" {
			s.RenewalDate = mustParseDate(renewal)
		}
		return s
	}
	subs := []Subscription{
		named(paidSub("b", "SPE_E3", 5, ChannelOwn), "", "2027-03-01"),
		named(newSub("c", "SPE_E3", 2, StatusCancelled, false, ChannelOwn), "Microsoft 365 E3", "2027-01-31"),
		named(newSub("a", "SPE_E3", 3, StatusGrace, false, ChannelOwn), "M365 E3 (other)", "2027-03-01"),
		named(paidSub("d", "EMS", 1, ChannelOwn), "", ""),
	}
	r := Compute(Input{
		ReportDate:    dayD,
		Subscriptions: subs,
		Users: []User{
			newUser("u", holdsSKU("VISIO", NoDate), holdsSKU("UNNAMED", NoDate)),
			newUser("gone", isDeleted, holdsSKU("GHOST", NoDate)),
		},
		// UNNAMED is no product the catalogue knows: named by its SKU and
		// flagged; VISIO is known (named by the catalogue), EMS is subscribed.
		KnownProduct: func(sku string) bool { return sku != "UNNAMED" },
		ProductName: func(sku string) string {
			if sku == "UNNAMED" {
				return ""
			}
			return "catalog " + sku
		},
	})
	want := []ProductFigures{
		{SKU: "EMS", Name: "catalog EMS", Sold: ChannelCounts{Own: 1}, Counted: true},
		{SKU: "SPE_E3", Name: "Microsoft 365 E3", Sold: ChannelCounts{Own: 5}, Counted: true, Renewals: []Renewal{
			// c is cancelled: never a renewal (docs/definitions.md#figures).
			{SubscriptionID: "a", Kind: RenewalLapses, Date: mustParseDate("2027-03-01"), Quantity: 3, Status: StatusGrace},
			{SubscriptionID: "b", Kind: RenewalRenews, Date: mustParseDate("2027-03-01"), Quantity: 5, Status: StatusActive},
		}},
		{SKU: "UNNAMED", Name: "UNNAMED", Assigned: 1, UnknownProduct: true},
		{SKU: "VISIO", Name: "catalog VISIO", Assigned: 1},
	}
	if !reflect.DeepEqual(r.Figures.Products, want) {
		t.Errorf("products:\n got %+v\nwant %+v", r.Figures.Products, want)
	}
}

// With no subscriptions and no users there are no products, and every
// window lists the standard workloads at zero.
func TestComputeEmpty(t *testing.T) {
	r := Compute(Input{ReportDate: dayD})
	if r.Figures.Products != nil || len(r.Entitled) != 0 {
		t.Errorf("products %v, entitled %v, want none", r.Figures.Products, r.Entitled)
	}
	if len(r.Figures.Windows) != len(Windows) {
		t.Fatalf("windows = %d, want %d", len(r.Figures.Windows), len(Windows))
	}
	for _, w := range r.Figures.Windows {
		want := make([]WorkloadFigures, len(StandardWorkloads))
		for i, s := range StandardWorkloads {
			want[i].Workload = s
			want[i].Retired = s == Skype
		}
		if !reflect.DeepEqual(w.Workloads, want) || w.InactiveLicensedUsers != 0 {
			t.Errorf("%d days: %+v, want the standard workloads at zero", w.Days, w)
		}
	}
}

// Compute must not modify its input: the ingest service keeps using it.
func TestComputeLeavesInputAlone(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	in := randomInput(rng, 50)
	in.ProductName = nil // funcs are not comparable
	before := cloneInput(in)
	Compute(in)
	if !reflect.DeepEqual(in, before) {
		t.Error("Compute modified its input")
	}
}

func cloneInput(in Input) Input {
	out := in
	out.Subscriptions = slices.Clone(in.Subscriptions)
	out.Users = make([]User, len(in.Users))
	for i, u := range in.Users {
		u.Licenses = slices.Clone(u.Licenses)
		u.Workloads = slices.Clone(u.Workloads)
		out.Users[i] = u
	}
	return out
}

// BenchmarkCompute: a synthetic 100k-user customer (3 SKUs, 5 workloads
// plus OneDrive, a few deleted and unlicensed users).
func BenchmarkCompute(b *testing.B) {
	const users = 100_000
	rng := rand.New(rand.NewPCG(7, 11))
	in := Input{
		ReportDate: dayD,
		Subscriptions: []Subscription{
			paidSub("s1", "SPE_E3", users/2, ChannelOwn),
			paidSub("s2", "O365_BUSINESS_PREMIUM", users/4, ChannelPartner),
			newSub("s3", "SPE_E5", 1000, StatusActive, true, ChannelOwn),
		},
		Users: make([]User, users),
	}
	skus := []string{"SPE_E3", "O365_BUSINESS_PREMIUM", "SPE_E5"}
	for i := range in.Users {
		u := User{Key: fmt.Sprintf("user%06d@contoso.com", i), Deleted: i%50 == 0}
		for k := range 1 + rng.IntN(2) {
			u.Licenses = append(u.Licenses, License{SKU: skus[(i+k)%3], AssignedDate: beforeD(rng.IntN(1000))})
		}
		for _, w := range []Workload{Exchange, SharePoint, "onedrive", Teams, Yammer, Skype} {
			last := NoDate
			if rng.IntN(3) > 0 {
				last = beforeD(rng.IntN(200))
			}
			u.Workloads = append(u.Workloads, WorkloadUse{Workload: w, Licensed: w != Yammer, LastActivity: last})
		}
		in.Users[i] = u
	}
	b.ReportAllocs()
	for b.Loop() {
		Compute(in)
	}
}

// standardColumn's switch must follow StandardWorkloads' order.
func TestStandardColumnFollowsStandardWorkloads(t *testing.T) {
	for i, w := range StandardWorkloads {
		if got := standardColumn(w); got != i {
			t.Errorf("standardColumn(%q) = %d, want %d", w, got, i)
		}
	}
	for _, w := range []Workload{"", "onedrive", "Exchange", "copilot", "exchange "} {
		if got := standardColumn(w); got != -1 {
			t.Errorf("standardColumn(%q) = %d, want -1", w, got)
		}
	}
}
