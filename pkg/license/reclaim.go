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

// Term is a subscription's term and billing cycle, what a price depends on.
type Term struct {
	TermDuration string `json:"termDuration,omitempty"`
	BillingCycle string `json:"billingCycle,omitempty"`
}

// ReclaimLine is one customer's idle seats of one SKU (and subscription,
// except the idle holders'), before a horizon gives it a kind and a price
// list its money: what the portfolio calendar keeps per customer, so that a
// horizon or a price change needs no recomputation.
type ReclaimLine struct {
	CustomerID   string `json:"customerId"`
	CustomerName string `json:"customerName,omitempty"`
	SKU          string `json:"sku"`
	ProductName  string `json:"productName"`
	// SubscriptionID is empty for the idle holders (their seats are the
	// SKU's, not one subscription's) and for seats on subscriptions no
	// source dates.
	SubscriptionID string `json:"subscriptionId,omitempty"`
	// Holders: the line is the SKU's idle holders (always reassignNow).
	Holders bool `json:"-"`
	Seats   int  `json:"seats"`
	// Date is when to act: the report date for idle holders; for
	// unassigned seats the end of the cancellation window while it is
	// open, else the renewal date (NoDate: unknown). DaysLeft is Date −
	// report date.
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
	// Terms are, for idle holders, the terms of the SKU's counted
	// subscriptions: their seat is priced at the cheapest.
	Terms []Term `json:"-"`
}

// KindWithin is the line's kind with a horizon of days: idle holders are
// reassignNow; unassigned seats are reduceAtRenewal when the cancellation
// window is open or the date falls within the horizon, else lockedUntil.
func (l ReclaimLine) KindWithin(days int) ReclaimKind {
	switch {
	case l.Holders:
		return ReclaimReassignNow
	case l.DaysLeft != nil && (l.WindowOpen || *l.DaysLeft <= days):
		return ReclaimReduceAtRenewal
	}
	return ReclaimLockedUntil
}

// ReclaimItem is one line of the reclaim calendar: a line with its kind
// and its money.
type ReclaimItem struct {
	ReclaimLine
	Kind ReclaimKind `json:"kind"`
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
	Days     int    `json:"days"`
	Currency string `json:"currency,omitempty"`
	// Items are ordered by SortReclaimItems.
	Items  []ReclaimItem  `json:"items"`
	Totals []ReclaimTotal `json:"totals"`
}

// ReclaimOf is the reclaim calendar of one customer for window n and a
// horizon of days after its report date: ReclaimLines given their kinds
// and priced.
func ReclaimOf(f *Figures, n, days int, prices *PriceList) Reclaim {
	out := Reclaim{Days: days, Items: PriceReclaim(ReclaimLines(f, n), days, prices)}
	if prices != nil {
		out.Currency = prices.Currency
	}
	SortReclaimItems(out.Items)
	out.Totals = ReclaimTotals(out.Items)
	return out
}

// PriceReclaim gives lines their kind within days and their money.
func PriceReclaim(lines []ReclaimLine, days int, prices *PriceList) []ReclaimItem {
	out := make([]ReclaimItem, 0, len(lines))
	for _, l := range lines {
		it := ReclaimItem{ReclaimLine: l, Kind: l.KindWithin(days)}
		if l.Holders {
			// Which subscription a holder's seat is on is not known: the
			// cheapest keeps the figure on the safe (lower) side.
			var cheapest *float64
			for _, t := range l.Terms {
				if p, ok := prices.Lookup(l.SKU, t.TermDuration, t.BillingCycle); ok && (cheapest == nil || p < *cheapest) {
					cheapest = &p
				}
			}
			price(&it, cheapest, 0)
		} else if p, ok := prices.Lookup(l.SKU, l.TermDuration, l.BillingCycle); ok {
			price(&it, &p, TermMonths(l.TermDuration))
		}
		out = append(out, it)
	}
	return out
}

// ReclaimLines are one customer's idle seats in window n: per counted SKU
// its idle holders (unassigned + idle holders, SPEC §2) and its unassigned
// seats per subscription.
//
//   - The idle holders are one line: their licences can go to new joiners
//     today.
//   - The unassigned seats are handed to the SKU's counted subscriptions,
//     the one a reduction reaches first taking seats first (ties: the
//     shorter term, then subscription id), up to its quantity: a partner
//     reduces at the first chance, and a shorter term's seat is the dearer
//     one. So on a SKU held on a monthly and an annual subscription the
//     monthly one, renewing within the month, gives up its seats first. The
//     date to act is the end of the cancellation window while it is open
//     (cancellableUntil on or after the report date: New Commerce allows a
//     reduction within 7 days of purchase or renewal), else the renewal.
//
// Trial and grace, disabled or lapsed capacity is not sold (SPEC §2), so it
// has no idle seats. The order is price-free, so that the portfolio
// calendar can keep lines and price them when read.
func ReclaimLines(f *Figures, n int) []ReclaimLine {
	d := f.ReportDate
	var out []ReclaimLine
	for _, p := range f.Products {
		if !p.Counted {
			continue
		}
		base := ReclaimLine{CustomerID: f.Customer.ID, CustomerName: f.Customer.Name, SKU: p.SKU, ProductName: p.Name}
		subs := countedTerms(p, d)
		for i := range subs {
			subs[i].actBy, subs[i].open = actBy(subs[i].Renewal, d)
		}
		if idle := f.IdleHoldersIn(p, n); idle > 0 {
			l := base
			l.Holders, l.Seats, l.Date = true, idle, d
			for _, s := range subs {
				t := Term{TermDuration: s.TermDuration, BillingCycle: s.BillingCycle}
				if !slices.Contains(l.Terms, t) {
					l.Terms = append(l.Terms, t)
				}
			}
			out = append(out, l)
		}
		left := p.Unassigned()
		slices.SortStableFunc(subs, func(a, b termSeats) int {
			if c := cmp.Compare(sortDate(a.actBy), sortDate(b.actBy)); c != 0 {
				return c
			}
			if c := cmp.Compare(termOrder(a.TermDuration), termOrder(b.TermDuration)); c != 0 {
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
			l := base
			l.SubscriptionID, l.Seats = s.SubscriptionID, seats
			l.RenewalDate, l.CancellableUntil = s.Date, s.CancellableUntil
			l.TermDuration, l.BillingCycle, l.WindowOpen = s.TermDuration, s.BillingCycle, s.open
			if s.Date != NoDate {
				l.RenewalKind = s.Kind
			}
			l.Date = s.actBy
			out = append(out, l)
		}
	}
	for i := range out {
		if l := &out[i]; l.Date != NoDate {
			left := int(l.Date - d)
			l.DaysLeft = &left
		}
	}
	return out
}

// termOrder puts shorter terms first, unknown terms last.
func termOrder(term string) int {
	if m := TermMonths(term); m > 0 {
		return m
	}
	return 1 << 30
}

// termSeats is a counted subscription of a SKU seen from its renewal.
type termSeats struct {
	Renewal
	actBy Date
	open  bool
}

// countedTerms are the SKU's counted subscriptions (active, not trial)
// with their renewals; the sold quantity no dated subscription accounts
// for is one undated line (its subscriptions have no renewal date).
//
// A renewal dated before d (RenewalOf lists none) counts as undated.
func countedTerms(p ProductFigures, d Date) []termSeats {
	var out []termSeats
	dated := 0
	for _, r := range p.Renewals {
		if r.Status != StatusActive || r.Kind == RenewalTrialEnds || r.Date < d {
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
