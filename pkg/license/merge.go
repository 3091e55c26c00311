package license

import (
	"encoding/json"
	"slices"
	"strings"
)

// Plus is c + o, band by band.
func (c BandCounts) Plus(o BandCounts) BandCounts {
	return BandCounts{Low: c.Low + o.Low, Medium: c.Medium + o.Medium, High: c.High + o.High, Unknown: c.Unknown + o.Unknown}
}

// entry is the index in *s of the element whose key is k; when there is
// none, mk(k) is inserted at its place in the order cmp, so that *s stays
// in canonical order.
func entry[E any, K comparable](s *[]E, k K, key func(E) K, cmp func(K, K) int, mk func(K) E) int {
	if j := slices.IndexFunc(*s, func(x E) bool { return key(x) == k }); j >= 0 {
		return j
	}
	j, _ := slices.BinarySearchFunc(*s, k, func(x E, k K) int { return cmp(key(x), k) })
	*s = slices.Insert(*s, j, mk(k))
	return j
}

// Merge adds src's counts to dst: the sum of two disjoint sets of
// customers, in the canonical form Add gives (products by SKU, windows and
// workloads in the engine's order). It is what sums the roll-up's shards.
func (dst *Portfolio) Merge(src *Portfolio) {
	SumCopilot(&dst.Copilot, src.Copilot)
	dst.Customers += src.Customers
	dst.Bands = dst.Bands.Plus(src.Bands)
	dst.Deployed.Sold = dst.Deployed.Sold.Plus(src.Deployed.Sold)
	dst.Deployed.Assigned += src.Deployed.Assigned
	dst.Deployed.Unassigned += src.Deployed.Unassigned
	dst.Excluded = SumExcluded(dst.Excluded, src.Excluded, +1)
	for i, x := range src.Products {
		j, found := slices.BinarySearchFunc(dst.Products, x.SKU, func(p ProductFigures, sku string) int {
			return strings.Compare(p.SKU, sku)
		})
		if !found {
			dst.Products = slices.Insert(dst.Products, j, ProductFigures{SKU: x.SKU})
			dst.CountedCustomers = slices.Insert(dst.CountedCustomers, j, 0)
		}
		p := &dst.Products[j]
		if p.Name == "" {
			p.Name = x.Name
		}
		p.Sold = p.Sold.Plus(x.Sold)
		p.Assigned += x.Assigned
		if i < len(src.CountedCustomers) {
			dst.CountedCustomers[j] += src.CountedCustomers[i]
		}
		p.Counted = dst.CountedCustomers[j] > 0
	}
	for _, w := range src.Windows {
		dw := &dst.Windows[entry(&dst.Windows, w.Days, func(x WindowFigures) int { return x.Days }, compareWindows,
			func(days int) WindowFigures { return WindowFigures{Days: days} })]
		dw.InactiveLicensedUsers += w.InactiveLicensedUsers
		for _, x := range w.Workloads {
			y := &dw.Workloads[entry(&dw.Workloads, x.Workload, func(y WorkloadFigures) Workload { return y.Workload }, compareWorkloads,
				func(w Workload) WorkloadFigures { return WorkloadFigures{Workload: w} })]
			y.Entitlements += x.Entitlements
			y.Active += x.Active
			y.CountedActive += x.CountedActive
			y.Uncounted = y.Uncounted.Plus(x.Uncounted)
			y.Retired = y.Retired || x.Retired
		}
	}
}

// SameCounts compares two portfolios count by count. Product names are
// informational (the first name met is kept) and are left out.
func (a *Portfolio) SameCounts(b *Portfolio) bool {
	strip := func(p *Portfolio) []byte {
		c := *p
		c.Products = slices.Clone(p.Products)
		for i := range c.Products {
			c.Products[i].Name = ""
		}
		out, _ := json.Marshal(&c) // counts and strings only: cannot fail
		return out
	}
	return string(strip(a)) == string(strip(b))
}
