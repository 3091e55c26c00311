package license

import (
	"cmp"
	"slices"
	"strings"
)

// ReclaimKind says what a partner can do with idle seats, and when
// (docs/definitions.md#the-reclaim-calendar).
type ReclaimKind string

// The three kinds of SPEC §10.
const (
	// ReclaimReassignNow: idle holders' licences, which can go to new
	// joiners today instead of buying more.
	ReclaimReassignNow ReclaimKind = "reassignNow"
	// ReclaimReduceAtRenewal: unassigned seats a reduction removes — at the
	// next renewal within the horizon, or now while the cancellation
	// window is open.
	ReclaimReduceAtRenewal ReclaimKind = "reduceAtRenewal"
	// ReclaimLockedUntil: unassigned seats on a term whose next renewal is
	// beyond the horizon (or unknown): nothing can be done before it.
	ReclaimLockedUntil ReclaimKind = "lockedUntil"
)

// ReclaimKinds lists the kinds in the order totals show them.
var ReclaimKinds = []ReclaimKind{ReclaimReassignNow, ReclaimReduceAtRenewal, ReclaimLockedUntil}

// ReclaimHorizons are the horizons, in days, the API serves.
var ReclaimHorizons = []int{30, 90, 180}

// ReclaimItem is one line of the reclaim calendar: idle seats of one SKU
// (and subscription, except reassignNow) of one customer, of one kind.
type ReclaimItem struct {
	CustomerID   string      `json:"customerId"`
	CustomerName string      `json:"customerName,omitempty"`
	SKU          string      `json:"sku"`
	ProductName  string      `json:"productName"`
	Kind         ReclaimKind `json:"kind"`
	// SubscriptionID is empty for reassignNow (the holders' licences are
	// the SKU's, not one subscription's) and for seats on subscriptions no
	// source dates.
	SubscriptionID string `json:"subscriptionId,omitempty"`
	Seats          int    `json:"seats"`
	// Date is when to act: the report date for reassignNow; for
	// reduceAtRenewal the renewal date, or the end of the cancellation
	// window while it is open; for lockedUntil the renewal date (NoDate:
	// unknown). DaysLeft is Date − report date.
	Date     Date `json:"date,omitempty"`
	DaysLeft *int `json:"daysLeft"`
	// RenewalDate, RenewalKind, WindowOpen, CancellableUntil, TermDuration
	// and BillingCycle describe the subscription, as Partner Center gives them.
	RenewalDate      Date        `json:"renewalDate,omitempty"`
	RenewalKind      RenewalKind `json:"renewalKind,omitempty"`
	WindowOpen       bool        `json:"windowOpen"`
	CancellableUntil Date        `json:"cancellableUntil,omitempty"`
	TermDuration     string      `json:"termDuration,omitempty"`
	BillingCycle     string      `json:"billingCycle,omitempty"`
	// MonthlyPrice is a seat's price; Monthly = Seats × MonthlyPrice;
	// PerTerm = Monthly × the term's months. Nil without a price (never 0).
	MonthlyPrice *float64 `json:"monthlyPrice"`
	Monthly      *float64 `json:"monthly"`
	PerTerm      *float64 `json:"perTerm"`
}

// ReclaimTotal sums one kind's items. Monthly and PerTerm are over the
// priced items only, nil when none is priced; UnpricedSeats says how many
// seats the money leaves out.
type ReclaimTotal struct {
	Kind          ReclaimKind `json:"kind"`
	Seats         int         `json:"seats"`
	UnpricedSeats int         `json:"unpricedSeats"`
	Monthly       *float64    `json:"monthly"`
	PerTerm       *float64    `json:"perTerm"`
}

// Reclaim is a customer's (or, summed, a portfolio's) reclaim calendar.
type Reclaim struct {
	ReportDate Date   `json:"reportDate,omitempty"`
	Window     int    `json:"window"`
	Days       int    `json:"days"`
	Currency   string `json:"currency,omitempty"`
	// Items are ordered by SortReclaimItems.
	Items  []ReclaimItem  `json:"items"`
	Totals []ReclaimTotal `json:"totals"`
}

// ReclaimOf is the reclaim calendar of one customer: per counted SKU, its
// idle seats (unassigned + idle holders in window n, SPEC §2) split into
// the three kinds with a horizon of days after the report date.
//
//   - The idle holders are reassignNow: their licences can go to new
//     joiners today.
//   - The unassigned seats are handed to the SKU's counted subscriptions,
//     the one a reduction reaches first taking seats first (ties: the
//     dearer seat first, then subscription id), up to its quantity: a
//     partner reduces at the first chance, and where two dates tie the
//     dearer seat saves more. So on a SKU held on a monthly and an annual
//     subscription the monthly one, renewing within the month, gives up
//     its seats first. A subscription whose cancellation window is open
//     (cancellableUntil on or after the report date: New Commerce allows a
//     reduction within 7 days of purchase or renewal) or whose renewal
//     falls within the horizon gives reduceAtRenewal seats, others
//     lockedUntil seats.
//
// Trial and grace, disabled or lapsed capacity is not sold (SPEC §2), so it
// has no idle seats. A SKU without a price has no money (nil, never 0).
func ReclaimOf(f *Figures, n, days int, prices *PriceList) Reclaim {
	d := f.ReportDate
	out := Reclaim{ReportDate: d, Window: n, Days: days}
	if prices != nil {
		out.Currency = prices.Currency
	}
	for _, p := range f.Products {
		if !p.Counted {
			continue
		}
		base := ReclaimItem{CustomerID: f.Customer.ID, CustomerName: f.Customer.Name, SKU: p.SKU, ProductName: p.Name}
		subs := countedTerms(p)
		for i := range subs {
			if price, ok := prices.Lookup(p.SKU, subs[i].TermDuration, subs[i].BillingCycle); ok {
				subs[i].price = &price
			}
			subs[i].actBy, subs[i].open = actBy(subs[i].Renewal, d)
		}
		if idle := f.IdleHoldersIn(p, n); idle > 0 {
			it := base
			it.Kind, it.Seats, it.Date = ReclaimReassignNow, idle, d
			// A holder's seat is priced at the SKU's cheapest: which
			// subscription a holder's seat is on is not known, so the
			// figure stays on the safe (lower) side.
			var cheapest *float64
			for _, s := range subs {
				if s.price != nil && (cheapest == nil || *s.price < *cheapest) {
					cheapest = s.price
				}
			}
			price(&it, cheapest, 0)
			out.Items = append(out.Items, it)
		}
		left := p.Unassigned()
		slices.SortStableFunc(subs, func(a, b termSeats) int {
			if c := cmp.Compare(sortDate(a.actBy), sortDate(b.actBy)); c != 0 {
				return c
			}
			if c := cmp.Compare(priceOrZero(b.price), priceOrZero(a.price)); c != 0 {
				return c
			}
			return strings.Compare(a.SubscriptionID, b.SubscriptionID)
		})
		for _, s := range subs {
			if left == 0 {
				break
			}
			seats := min(left, s.Quantity)
			if seats <= 0 {
				continue
			}
			left -= seats
			it := base
			it.SubscriptionID, it.Seats = s.SubscriptionID, seats
			it.RenewalDate, it.CancellableUntil = s.Date, s.CancellableUntil
			it.TermDuration, it.BillingCycle, it.WindowOpen = s.TermDuration, s.BillingCycle, s.open
			if s.Date != NoDate {
				it.RenewalKind = s.Kind
			}
			it.Date = s.actBy
			it.Kind = ReclaimLockedUntil
			if s.actBy != NoDate && (s.open || s.actBy <= d.AddDays(days)) {
				it.Kind = ReclaimReduceAtRenewal
			}
			price(&it, s.price, TermMonths(s.TermDuration))
			out.Items = append(out.Items, it)
		}
	}
	for i := range out.Items {
		if it := &out.Items[i]; it.Date != NoDate {
			left := int(it.Date - d)
			it.DaysLeft = &left
		}
	}
	SortReclaimItems(out.Items)
	out.Totals = ReclaimTotals(out.Items)
	return out
}

// termSeats is a counted subscription of a SKU seen from its renewal.
type termSeats struct {
	Renewal
	price *float64
	actBy Date
	open  bool
}

// countedTerms are the SKU's counted subscriptions (active, not trial)
// with their renewals; the sold quantity no dated subscription accounts
// for is one undated line (its subscriptions have no renewal date).
func countedTerms(p ProductFigures) []termSeats {
	var out []termSeats
	dated := 0
	for _, r := range p.Renewals {
		if r.Status != StatusActive || r.Kind == RenewalTrialEnds {
			continue
		}
		out = append(out, termSeats{Renewal: r})
		dated += r.Quantity
	}
	if rest := p.Sold.Total() - dated; rest > 0 {
		out = append(out, termSeats{Renewal: Renewal{Quantity: rest}})
	}
	return out
}

// actBy is the date by which a reduction of r must be made and whether the
// cancellation window is open at d: the window's end while it is open
// (reduce now), else the renewal date.
func actBy(r Renewal, d Date) (Date, bool) {
	if r.CancellableUntil != NoDate && r.CancellableUntil >= d {
		return r.CancellableUntil, true
	}
	return r.Date, false
}

// sortDate puts unknown dates last.
func sortDate(d Date) Date {
	if d == NoDate {
		return Date(1<<31 - 1)
	}
	return d
}

func priceOrZero(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

func price(it *ReclaimItem, p *float64, months int) {
	if p == nil {
		return
	}
	v := *p
	it.MonthlyPrice = &v
	m := money(float64(it.Seats) * v)
	it.Monthly = &m
	if months > 0 {
		t := money(float64(it.Seats) * v * float64(months))
		it.PerTerm = &t
	}
}

// SortReclaimItems orders a calendar: by date (undated last), then kind
// (ReclaimKinds order), customer, SKU and subscription.
func SortReclaimItems(items []ReclaimItem) {
	slices.SortStableFunc(items, CompareReclaimItems)
}

// CompareReclaimItems is the calendar's order (see SortReclaimItems).
func CompareReclaimItems(a, b ReclaimItem) int {
	if c := cmp.Compare(sortDate(a.Date), sortDate(b.Date)); c != 0 {
		return c
	}
	if c := cmp.Compare(slices.Index(ReclaimKinds, a.Kind), slices.Index(ReclaimKinds, b.Kind)); c != 0 {
		return c
	}
	if c := strings.Compare(a.CustomerID, b.CustomerID); c != 0 {
		return c
	}
	if c := strings.Compare(a.SKU, b.SKU); c != 0 {
		return c
	}
	return strings.Compare(a.SubscriptionID, b.SubscriptionID)
}

// ReclaimTotals sums items per kind, in ReclaimKinds order.
func ReclaimTotals(items []ReclaimItem) []ReclaimTotal {
	out := make([]ReclaimTotal, len(ReclaimKinds))
	for i, k := range ReclaimKinds {
		out[i].Kind = k
	}
	for _, it := range items {
		t := &out[slices.Index(ReclaimKinds, it.Kind)]
		t.Seats += it.Seats
		if it.Monthly == nil {
			t.UnpricedSeats += it.Seats
			continue
		}
		t.Monthly = addMoney(t.Monthly, *it.Monthly)
		if it.PerTerm != nil {
			t.PerTerm = addMoney(t.PerTerm, *it.PerTerm)
		}
	}
	return out
}

func addMoney(sum *float64, v float64) *float64 {
	s := v
	if sum != nil {
		s += *sum
	}
	s = money(s)
	return &s
}
