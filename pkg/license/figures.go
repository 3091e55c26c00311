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

// Renewal is a subscription's next renewal or lifecycle date.
type Renewal struct {
	SubscriptionID string `json:"subscriptionId"`
	Date           Date   `json:"date"`
	Quantity       int    `json:"quantity"`
	Status         Status `json:"status"`
}

// ProductFigures are the deployment counts of one SKU.
type ProductFigures struct {
	SKU  string `json:"sku"`
	Name string `json:"name"`
	// Sold is Σ quantity of the SKU's counted subscriptions, by channel.
	Sold ChannelCounts `json:"sold"`
	// Assigned is the number of non-deleted users holding the SKU.
	Assigned int `json:"assigned"`
	// Counted reports whether the SKU has counted subscriptions; only those
	// SKUs enter the overall deployment figure.
	Counted  bool      `json:"counted"`
	Renewals []Renewal `json:"renewals,omitempty"`
	// UnknownProduct: users hold it under a name neither the catalogue nor
	// the customer's own SKUs know (SPEC §2 product); SKU and Name are the
	// name as the source gave it.
	UnknownProduct bool `json:"unknownProduct,omitempty"`
}

// Unassigned is sold capacity not assigned to anyone.
func (p ProductFigures) Unassigned() int { return max(0, p.Sold.Total()-p.Assigned) }

// Uncounted is active use outside the counted entitlements, by cause
// (SPEC §2: each active user in exactly one cause, first match wins).
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
}

// Deployment sums sold and assigned over the SKUs that have counted
// subscriptions (SPEC §2: trial-only or lapsed SKUs stay out).
func (f *Figures) Deployment() Deployment {
	var d Deployment
	for _, p := range f.Products {
		if !p.Counted {
			continue
		}
		d.Sold = d.Sold.Plus(p.Sold)
		d.Assigned += p.Assigned
	}
	return d
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

// Usage sums the window's workloads.
func (w WindowFigures) Usage() Usage {
	var u Usage
	for _, x := range w.Workloads {
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
