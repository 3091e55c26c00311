package license

import "math"

// Figures are one customer's counts at a report date, for every window.
// They hold counts only; every percentage is derived at the edge, which is
// what lets a portfolio be the plain sum of its customers (see Add).
type Figures struct {
	Customer   Customer `json:"customer"`
	ReportDate Date     `json:"reportDate"`
	// Products is one entry per SKU seen in subscriptions or licences,
	// sorted by SKU.
	Products []ProductFigures `json:"products"`
	// Windows holds the usage counts per window, in the order of Windows.
	Windows []WindowFigures `json:"windows"`
	// Copilot are the Copilot adoption counts (docs/definitions.md#copilot), nil for a
	// customer without Copilot seats or report.
	Copilot *CopilotFigures `json:"copilot,omitempty"`
	// Excluded lists the excluded products apart, sorted by SKU: they are
	// in no other figure (docs/definitions.md#excluded-products).
	Excluded []ExcludedProduct `json:"excluded,omitempty"`
}

// ChannelCounts is a quantity split by channel.
type ChannelCounts struct {
	Own     int `json:"own"`
	Partner int `json:"partner"`
	Direct  int `json:"direct"`
	Unknown int `json:"unknown"`
}

// Add adds q to the channel's count.
func (c *ChannelCounts) Add(ch Channel, q int) {
	switch ch {
	case ChannelOwn:
		c.Own += q
	case ChannelPartner:
		c.Partner += q
	case ChannelDirect:
		c.Direct += q
	default:
		c.Unknown += q
	}
}

// Plus is c + o, channel by channel.
func (c ChannelCounts) Plus(o ChannelCounts) ChannelCounts {
	return ChannelCounts{c.Own + o.Own, c.Partner + o.Partner, c.Direct + o.Direct, c.Unknown + o.Unknown}
}

// Total is the sum over channels.
func (c ChannelCounts) Total() int { return c.Own + c.Partner + c.Direct + c.Unknown }

// RenewalKind says what happens to a subscription on its renewal date.
type RenewalKind string

// The kinds of docs/definitions.md#renewals.
const (
	RenewalRenews    RenewalKind = "renews"    // active, auto-renew on or unknown
	RenewalLapses    RenewalKind = "lapses"    // auto-renew off, or grace/disabled capacity ending
	RenewalTrialEnds RenewalKind = "trialEnds" // a trial's end
)

// Renewal is a subscription's next renewal or lifecycle date on or after
// the report date.
type Renewal struct {
	SubscriptionID   string      `json:"subscriptionId"`
	Kind             RenewalKind `json:"kind"`
	Date             Date        `json:"date"`
	Quantity         int         `json:"quantity"`
	Status           Status      `json:"status"`
	AutoRenew        *bool       `json:"autoRenew,omitempty"`
	TermDuration     string      `json:"termDuration,omitempty"`
	BillingCycle     string      `json:"billingCycle,omitempty"`
	CancellableUntil Date        `json:"cancellableUntil,omitempty"`
}

// RenewalOf is s's renewal as of report date d (docs/definitions.md#renewals), and
// whether it has one: a trial's end is trialEnds; an active subscription
// renews unless auto-renew is off (then it lapses); grace and disabled
// capacity lapses. Expired, cancelled, deleted, suspended and pending
// subscriptions, and dates before d, have none.
func RenewalOf(s Subscription, d Date) (Renewal, bool) {
	if s.RenewalDate == NoDate || s.RenewalDate < d || s.Pending {
		return Renewal{}, false
	}
	var kind RenewalKind
	switch {
	case s.Status != StatusActive && s.Status != StatusGrace && s.Status != StatusDisabled:
		return Renewal{}, false
	case s.Trial:
		kind = RenewalTrialEnds
	case s.Status == StatusActive && (s.AutoRenew == nil || *s.AutoRenew):
		kind = RenewalRenews
	default:
		kind = RenewalLapses
	}
	return Renewal{
		SubscriptionID: s.ID, Kind: kind, Date: s.RenewalDate, Quantity: s.Quantity, Status: s.Status,
		AutoRenew: s.AutoRenew, TermDuration: s.TermDuration, BillingCycle: s.BillingCycle, CancellableUntil: s.CancellableUntil,
	}, true
}

// ProductFigures are the deployment counts of one SKU.
type ProductFigures struct {
	SKU  string `json:"sku"`
	Name string `json:"name"`
	// Sold is Σ quantity of the SKU's counted subscriptions, by channel.
	Sold ChannelCounts `json:"sold"`
	// Assigned is the number of non-deleted users holding the SKU.
	Assigned int `json:"assigned"`
	// Counted reports whether the SKU's counted quantity (Sold) is above
	// 0; only those SKUs enter the overall deployment figure (docs/definitions.md#figures
	// deployment %: a subscribedSkus total that Partner Center's trial was
	// carved out of down to 0 stays out).
	Counted  bool      `json:"counted"`
	Renewals []Renewal `json:"renewals,omitempty"`
	// IdleHolders are, per window (in the order of Figures.Windows), the
	// SKU's entitled holders who are inactive licensed users (SPEC §2 idle
	// holders); nil when none of its holders is entitled.
	IdleHolders []int `json:"idleHolders,omitempty"`
	// UnknownProduct: users hold it under a name neither the catalogue nor
	// the customer's own SKUs know (docs/definitions.md#subscriptions-and-products); SKU and Name are the
	// name as the source gave it.
	UnknownProduct bool `json:"unknownProduct,omitempty"`
}

// Unassigned is sold capacity not assigned to anyone: max(0, sold −
// assigned), so an over-assigned SKU never offsets another (docs/definitions.md#figures).
func (p ProductFigures) Unassigned() int { return max(0, p.Sold.Total()-p.Assigned) }

// Uncounted is active use outside the counted entitlements, by cause
// (docs/definitions.md#figures: each active user in exactly one cause, first match wins).
type Uncounted struct {
	FormerLicensee       int `json:"formerLicensee"`
	Unlicensed           int `json:"unlicensed"`
	Trial                int `json:"trial"`
	InactiveSubscription int `json:"inactiveSubscription"`
}

// Total is the sum over causes.
func (u Uncounted) Total() int {
	return u.FormerLicensee + u.Unlicensed + u.Trial + u.InactiveSubscription
}

// Plus is u + o, cause by cause.
func (u Uncounted) Plus(o Uncounted) Uncounted {
	return Uncounted{u.FormerLicensee + o.FormerLicensee, u.Unlicensed + o.Unlicensed, u.Trial + o.Trial, u.InactiveSubscription + o.InactiveSubscription}
}

// WorkloadFigures are the usage counts of one workload in one window.
type WorkloadFigures struct {
	Workload Workload `json:"workload"`
	// Entitlements: non-deleted users licensed for the workload who hold at
	// least one entitlement.
	Entitlements int `json:"entitlements"`
	// Active: every user active in the workload, counted or not.
	Active int `json:"active"`
	// CountedActive: active users among the Entitlements.
	CountedActive int `json:"countedActive"`
	// Uncounted: Active − CountedActive, by cause.
	Uncounted Uncounted `json:"uncounted"`
	// Retired: a retired workload (RETIRED_WORKLOADS), reported here and in
	// the analytics rows but out of overall usage, bands, ranked lists,
	// recommendations and inactive licensed users (docs/definitions.md#entitlements-and-usage).
	Retired bool `json:"retired,omitempty"`
}

// WindowFigures are the usage counts for one activity window.
type WindowFigures struct {
	Days      int               `json:"days"`
	Workloads []WorkloadFigures `json:"workloads"`
	// InactiveLicensedUsers: non-deleted users holding an entitlement who
	// are active in no workload within the window.
	InactiveLicensedUsers int `json:"inactiveLicensedUsers"`
}

// Deployment are the overall deployment counts of a customer or portfolio.
type Deployment struct {
	Sold     ChannelCounts `json:"sold"`     // over counted SKUs
	Assigned int           `json:"assigned"` // over counted SKUs
	// Unassigned is Σ of the counted SKUs' Unassigned: the one overall
	// unassigned figure of insights, portfolio, recommendations and
	// exports. A portfolio sums its customers' (never Sold − Assigned).
	Unassigned int `json:"unassigned"`
}

// Deployment sums sold, assigned and unassigned over the SKUs whose sold
// is above 0 (docs/definitions.md#figures: trial-only or lapsed SKUs stay out).
func (f *Figures) Deployment() Deployment {
	var d Deployment
	for _, p := range f.Products {
		if !p.Counted {
			continue
		}
		d.Sold = d.Sold.Plus(p.Sold)
		d.Assigned += p.Assigned
		d.Unassigned += p.Unassigned()
	}
	return d
}

// IdleHoldersIn is p's idle holders in window n of f (0 when unknown).
func (f *Figures) IdleHoldersIn(p ProductFigures, n int) int {
	for i, w := range f.Windows {
		if w.Days == n && i < len(p.IdleHolders) {
			return p.IdleHolders[i]
		}
	}
	return 0
}

// Window is the usage counts for n days, and whether they were computed.
func (f *Figures) Window(n int) (WindowFigures, bool) {
	for _, w := range f.Windows {
		if w.Days == n {
			return w, true
		}
	}
	return WindowFigures{}, false
}

// Usage are the overall usage counts of one window: sums over workloads.
type Usage struct {
	Entitlements  int
	Active        int
	CountedActive int
}

// Usage sums the window's workloads, retired workloads left out.
func (w WindowFigures) Usage() Usage {
	var u Usage
	for _, x := range w.Workloads {
		if x.Retired {
			continue
		}
		u.Entitlements += x.Entitlements
		u.Active += x.Active
		u.CountedActive += x.CountedActive
	}
	return u
}

// Percent is part ÷ whole × 100 rounded to one decimal, or nil when whole is
// zero: a figure with no denominator is unknown, never ∞ or NaN.
func Percent(part, whole int) *float64 {
	if whole == 0 {
		return nil
	}
	p := math.Round(float64(part)*1000/float64(whole)) / 10
	return &p
}
