package license

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// Band is a customer's adoption band, from its overall usage % in the
// DefaultWindow.
type Band string

// The adoption bands of docs/definitions.md#insights-and-portfolio.
const (
	BandLow     Band = "low"     // usage below 50 %
	BandMedium  Band = "medium"  // 50 % up to, not including, 80 %
	BandHigh    Band = "high"    // 80 % and over (usage can exceed 100 %)
	BandUnknown Band = "unknown" // no figure: no entitlements
)

// Bands lists every band in the order responses show them.
var Bands = []Band{BandLow, BandMedium, BandHigh, BandUnknown}

// Valid reports whether b is one of Bands.
func (b Band) Valid() bool { return slices.Contains(Bands, b) }

// BandOf is the band of a usage percentage. The thresholds apply to the
// percentage rounded to one decimal, exactly as responses show it, so that a
// customer shown at 50.0 % is never "low": 49.96 rounds to 50.0 and is
// medium, 79.95 rounds to 80.0 and is high. nil (and NaN) is unknown.
func BandOf(usagePercent *float64) Band {
	if usagePercent == nil || math.IsNaN(*usagePercent) {
		return BandUnknown
	}
	p := math.Round(*usagePercent*10) / 10
	switch {
	case p < 50:
		return BandLow
	case p < 80:
		return BandMedium
	default:
		return BandHigh
	}
}

// Band is the customer's band from the overall usage % (active ÷
// entitlements, summed over workloads) of the DefaultWindow; unknown when the
// figures have no such window or no entitlements.
func (f *Figures) Band() Band {
	w, ok := f.Window(DefaultWindow)
	if !ok {
		return BandUnknown
	}
	u := w.Usage()
	return BandOf(Percent(u.Active, u.Entitlements))
}

// BandCounts are the number of customers in each band.
type BandCounts struct {
	Low     int `json:"low"`
	Medium  int `json:"medium"`
	High    int `json:"high"`
	Unknown int `json:"unknown"`
}

// Count is the number of customers in band b (0 for an invalid band).
func (c BandCounts) Count(b Band) int {
	switch b {
	case BandLow:
		return c.Low
	case BandMedium:
		return c.Medium
	case BandHigh:
		return c.High
	case BandUnknown:
		return c.Unknown
	}
	return 0
}

func (c *BandCounts) add(b Band, n int) {
	switch b {
	case BandLow:
		c.Low += n
	case BandMedium:
		c.Medium += n
	case BandHigh:
		c.High += n
	default:
		c.Unknown += n
	}
}

// Portfolio is the sum of many customers' Figures plus what only a portfolio
// has: the number of customers and how many fall in each adoption band.
//
// It is a roll-up maintained by differences (Apply), so it holds counts only
// and is kept in a canonical form that depends on nothing but the sums: a
// product is listed while any of its counters is non-zero, a workload
// likewise, except that while the portfolio has customers every window of
// Windows is listed with at least the StandardWorkloads. Hence Sub is the
// exact inverse of Add, the order of Adds and Subs does not matter, and
// removing every customer gives back the zero Portfolio.
//
// Product names are informational: the first non-empty name met for a SKU
// is kept (customers' figures name a SKU alike; the SKU identifies it).
// Renewals are per customer and are not summed.
type Portfolio struct {
	Customers int        `json:"customers"`
	Bands     BandCounts `json:"bands"` // per DefaultWindow usage
	// Deployed is Σ of the customers' Figures.Deployment(): each customer's
	// counted SKUs only. It cannot be rebuilt from Products, where a SKU one
	// customer holds on counted capacity and another only on trial is a
	// single entry.
	Deployed Deployment `json:"deployed"`
	// Products are summed per SKU, sorted by SKU; Counted is true when any
	// customer's Counted is; Renewals are nil.
	Products []ProductFigures `json:"products,omitempty"`
	// CountedCustomers[i] is the number of customers whose figures count
	// Products[i]: what lets Sub undo Add's Counted exactly.
	CountedCustomers []int `json:"countedCustomers,omitempty"`
	// Windows are summed per window and workload, every counter included.
	Windows []WindowFigures `json:"windows,omitempty"`
	// Copilot sums the customers' Copilot figures (docs/definitions.md#copilot), nil while no
	// customer has any.
	Copilot *CopilotSums `json:"copilot,omitempty"`
	// Excluded are the customers' excluded products summed per SKU (see
	// SumExcluded).
	Excluded []ExcludedProduct `json:"excluded,omitempty"`
}

// Add adds one customer.
func (p *Portfolio) Add(f *Figures) { p.apply(f, +1) }

// Sub removes one customer that was added before: the exact inverse of Add.
func (p *Portfolio) Sub(f *Figures) { p.apply(f, -1) }

// Apply replaces a customer's old figures by its new ones: Sub(old) if old
// is not nil, then Add(new) if new is not nil. Applying the differences of
// many customers in any order gives the same Portfolio.
func (p *Portfolio) Apply(old, new *Figures) {
	if old != nil {
		p.Sub(old)
	}
	if new != nil {
		p.Add(new)
	}
}

// Deployment is the overall deployment counts summed over customers.
func (p *Portfolio) Deployment() Deployment { return p.Deployed }

// Window is the summed usage counts for n days, and whether there are any.
func (p *Portfolio) Window(n int) (WindowFigures, bool) {
	for _, w := range p.Windows {
		if w.Days == n {
			return w, true
		}
	}
	return WindowFigures{}, false
}

// apply adds f's counts multiplied by sign (+1 or −1).
func (p *Portfolio) apply(f *Figures, sign int) {
	p.Customers += sign
	p.Bands.add(f.Band(), sign)
	d := f.Deployment()
	p.Deployed.Sold = p.Deployed.Sold.Plus(scaleChannels(d.Sold, sign))
	p.Deployed.Assigned += sign * d.Assigned
	p.Deployed.Unassigned += sign * d.Unassigned

	for _, x := range f.Products {
		i := p.product(x.SKU, x.Name)
		q := &p.Products[i]
		q.UnknownProduct = q.UnknownProduct || x.UnknownProduct
		q.Sold = q.Sold.Plus(scaleChannels(x.Sold, sign))
		q.Assigned += sign * x.Assigned
		if x.Counted {
			p.CountedCustomers[i] += sign
		}
	}
	p.Excluded = SumExcluded(p.Excluded, f.Excluded, sign)
	for _, x := range f.Windows {
		w := &p.Windows[p.window(x.Days)]
		w.InactiveLicensedUsers += sign * x.InactiveLicensedUsers
		for _, y := range x.Workloads {
			i := workloadIndex(&w.Workloads, y.Workload)
			addWorkload(&w.Workloads[i], y, sign)
		}
	}
	AddCopilot(&p.Copilot, f.Copilot, sign)
	p.normalize()
}

// product is the index of sku in Products, inserting an empty entry.
func (p *Portfolio) product(sku, name string) int {
	i, found := slices.BinarySearchFunc(p.Products, sku, func(x ProductFigures, sku string) int {
		return strings.Compare(x.SKU, sku)
	})
	if !found {
		p.Products = slices.Insert(p.Products, i, ProductFigures{SKU: sku})
		p.CountedCustomers = slices.Insert(p.CountedCustomers, i, 0)
	}
	if p.Products[i].Name == "" {
		p.Products[i].Name = name
	}
	return i
}

// window is the index of the n-day window in Windows, inserting an empty one.
func (p *Portfolio) window(n int) int {
	i, found := slices.BinarySearchFunc(p.Windows, n, func(x WindowFigures, n int) int {
		return compareWindows(x.Days, n)
	})
	if !found {
		p.Windows = slices.Insert(p.Windows, i, WindowFigures{Days: n})
	}
	return i
}

// workloadIndex is the index of w in the list, inserting an empty entry.
func workloadIndex(list *[]WorkloadFigures, w Workload) int {
	i, found := slices.BinarySearchFunc(*list, w, func(x WorkloadFigures, w Workload) int {
		return compareWorkloads(x.Workload, w)
	})
	if !found {
		*list = slices.Insert(*list, i, WorkloadFigures{Workload: w})
	}
	return i
}

func addWorkload(dst *WorkloadFigures, x WorkloadFigures, sign int) {
	dst.Retired = dst.Retired || x.Retired
	dst.Entitlements += sign * x.Entitlements
	dst.Active += sign * x.Active
	dst.CountedActive += sign * x.CountedActive
	dst.Uncounted.FormerLicensee += sign * x.Uncounted.FormerLicensee
	dst.Uncounted.Unlicensed += sign * x.Uncounted.Unlicensed
	dst.Uncounted.Trial += sign * x.Uncounted.Trial
	dst.Uncounted.InactiveSubscription += sign * x.Uncounted.InactiveSubscription
}

// normalize brings p to the canonical form described on Portfolio.
func (p *Portfolio) normalize() {
	keep := 0
	for i, x := range p.Products {
		n := p.CountedCustomers[i]
		if x.Sold == (ChannelCounts{}) && x.Assigned == 0 && n == 0 {
			continue
		}
		x.Counted = n > 0
		x.Renewals = nil
		x.IdleHolders = nil
		p.Products[keep] = x
		p.CountedCustomers[keep] = n
		keep++
	}
	p.Products = nilIfEmpty(p.Products[:keep])
	p.CountedCustomers = nilIfEmpty(p.CountedCustomers[:keep])

	if p.Customers > 0 {
		for _, n := range Windows {
			w := &p.Windows[p.window(n)]
			for _, s := range StandardWorkloads {
				workloadIndex(&w.Workloads, s)
			}
		}
	}
	keptWindows := p.Windows[:0]
	for _, w := range p.Windows {
		pinned := p.Customers > 0 && slices.Contains(Windows, w.Days)
		kept := w.Workloads[:0]
		for _, x := range w.Workloads {
			if (pinned && standardColumn(x.Workload) >= 0) || !zeroWorkload(x) {
				kept = append(kept, x)
			}
		}
		w.Workloads = nilIfEmpty(kept)
		if pinned || len(w.Workloads) > 0 || w.InactiveLicensedUsers != 0 {
			keptWindows = append(keptWindows, w)
		}
	}
	p.Windows = nilIfEmpty(keptWindows)
}

func zeroWorkload(x WorkloadFigures) bool {
	return x.Entitlements == 0 && x.Active == 0 && x.CountedActive == 0 && x.Uncounted == (Uncounted{})
}

func nilIfEmpty[S ~[]E, E any](s S) S {
	if len(s) == 0 {
		return nil
	}
	return s
}

func scaleChannels(c ChannelCounts, k int) ChannelCounts {
	return ChannelCounts{c.Own * k, c.Partner * k, c.Direct * k, c.Unknown * k}
}

// compareWindows orders window lengths as Windows does, any other length
// after them in ascending order.
func compareWindows(a, b int) int {
	return cmp.Or(compareRanks(slices.Index(Windows, a), slices.Index(Windows, b)), cmp.Compare(a, b))
}

// compareWorkloads orders workloads as Compute lists them: the
// StandardWorkloads in their order, then the others by name.
func compareWorkloads(a, b Workload) int {
	return cmp.Or(compareRanks(standardColumn(a), standardColumn(b)), strings.Compare(string(a), string(b)))
}

// compareRanks orders by a fixed list's ranks (a rank is an index in the
// list, −1 for what is not in it): ranked before unranked, ranked in rank
// order. Two unranked compare equal, for the caller's next key to order;
// so do two equal ranks, which name the same item.
func compareRanks(ra, rb int) int {
	switch {
	case ra >= 0 && rb >= 0:
		return cmp.Compare(ra, rb)
	case ra >= 0:
		return -1
	case rb >= 0:
		return 1
	}
	return 0
}

// SumExcluded adds src's excluded products multiplied by sign (+1 or −1) to
// dst, per SKU, sorted by SKU. An entry whose quantity and assigned both
// come to 0 is dropped, so that subtracting a customer undoes adding it.
// The name and reason are the first met (customers name a SKU alike; the
// reason may differ per customer, e.g. company for one and free for
// another, and the first one stands for the portfolio).
func SumExcluded(dst, src []ExcludedProduct, sign int) []ExcludedProduct {
	for _, x := range src {
		i, found := slices.BinarySearchFunc(dst, x.SKU, func(e ExcludedProduct, sku string) int {
			return strings.Compare(e.SKU, sku)
		})
		if !found {
			dst = slices.Insert(dst, i, ExcludedProduct{SKU: x.SKU, Name: x.Name, Reason: x.Reason})
		}
		dst[i].Quantity += sign * x.Quantity
		dst[i].Assigned += sign * x.Assigned
		if dst[i].Quantity == 0 && dst[i].Assigned == 0 {
			dst = slices.Delete(dst, i, i+1)
		}
	}
	return nilIfEmpty(dst)
}
