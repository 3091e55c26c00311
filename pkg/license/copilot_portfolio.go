package license

import (
	"cmp"
	"slices"
)

// CopilotSums are the Copilot counts of a portfolio: the plain sums of its
// customers' CopilotFigures, kept by differences like the rest of the
// Portfolio, so that subtracting a customer is the exact inverse of adding
// it. Hence no report date (a maximum cannot be undone) and apps kept in a
// map, listed while any count is non-zero.
type CopilotSums struct {
	// Customers counts the customers with Copilot figures, Reporting those
	// with a Copilot report among them.
	Customers int `json:"customers"`
	Reporting int `json:"reporting"`
	Sold      int `json:"sold"`
	Assigned  int `json:"assigned"`
	// ReportedAssigned: the seats of customers with a report, the
	// denominator of the active share.
	ReportedAssigned int `json:"reportedAssigned"`
	Unassigned       int `json:"unassigned"`
	NeverUsed        int `json:"neverUsed"`
	New              int `json:"new"`
	// ActiveDays sums the customers' histograms (those that give active
	// days); ActiveDaysMissing counts the seats of the others.
	ActiveDays        []int               `json:"activeDays"`
	ActiveDaysMissing int                 `json:"activeDaysMissing"`
	Windows           []CopilotWindowSums `json:"windows"`
}

// CopilotWindowSums are the window-dependent sums.
type CopilotWindowSums struct {
	Days        int            `json:"days"`
	Active      int            `json:"active"`
	Dormant     int            `json:"dormant"`
	Reclaimable int            `json:"reclaimable"`
	Apps        map[string]int `json:"apps,omitempty"`
}

// AddCopilot adds (sign +1) or removes (−1) one customer's Copilot figures
// to *s, leaving nil once no customer with Copilot figures is left.
func AddCopilot(s **CopilotSums, f *CopilotFigures, sign int) {
	if f == nil {
		return
	}
	if *s == nil {
		*s = &CopilotSums{}
	}
	p := *s
	p.Customers += sign
	p.Sold += sign * f.Sold
	p.Assigned += sign * f.Assigned
	p.Unassigned += sign * f.Unassigned
	p.NeverUsed += sign * f.NeverUsed
	p.New += sign * f.New
	if f.HasReport {
		p.Reporting += sign
		p.ReportedAssigned += sign * f.Assigned
	}
	if f.ActiveDays == nil {
		p.ActiveDaysMissing += sign * (f.Assigned + f.ActiveDaysMissing)
	} else {
		if p.ActiveDays == nil {
			p.ActiveDays = make([]int, CopilotHabitualPeriod+1)
		}
		for i, k := range f.ActiveDays {
			if i < len(p.ActiveDays) {
				p.ActiveDays[i] += sign * k
			}
		}
	}
	for _, w := range f.Windows {
		i, found := slices.BinarySearchFunc(p.Windows, w.Days, func(x CopilotWindowSums, n int) int { return compareWindows(x.Days, n) })
		if !found {
			p.Windows = slices.Insert(p.Windows, i, CopilotWindowSums{Days: w.Days})
		}
		x := &p.Windows[i]
		x.Active += sign * w.Active
		x.Dormant += sign * w.Dormant
		x.Reclaimable += sign * w.Reclaimable
		for ai, k := range w.Apps {
			if ai >= len(f.Apps) || k == 0 {
				continue
			}
			if x.Apps == nil {
				x.Apps = map[string]int{}
			}
			x.Apps[f.Apps[ai]] += sign * k
			if x.Apps[f.Apps[ai]] == 0 {
				delete(x.Apps, f.Apps[ai])
			}
		}
		if len(x.Apps) == 0 {
			x.Apps = nil
		}
	}
	if p.ActiveDays != nil && !slices.ContainsFunc(p.ActiveDays, func(k int) bool { return k != 0 }) {
		p.ActiveDays = nil
	}
	if p.Customers == 0 {
		*s = nil
	}
}

// SumCopilot adds src's sums to *dst (two disjoint sets of customers: the
// roll-up's shards).
func SumCopilot(dst **CopilotSums, src *CopilotSums) {
	if src == nil {
		return
	}
	if *dst == nil {
		*dst = &CopilotSums{}
	}
	d := *dst
	d.Customers += src.Customers
	d.Reporting += src.Reporting
	d.Sold += src.Sold
	d.Assigned += src.Assigned
	d.ReportedAssigned += src.ReportedAssigned
	d.Unassigned += src.Unassigned
	d.NeverUsed += src.NeverUsed
	d.New += src.New
	d.ActiveDaysMissing += src.ActiveDaysMissing
	if src.ActiveDays != nil {
		if d.ActiveDays == nil {
			d.ActiveDays = make([]int, CopilotHabitualPeriod+1)
		}
		for i, k := range src.ActiveDays {
			if i < len(d.ActiveDays) {
				d.ActiveDays[i] += k
			}
		}
	}
	for _, w := range src.Windows {
		i, found := slices.BinarySearchFunc(d.Windows, w.Days, func(x CopilotWindowSums, n int) int { return compareWindows(x.Days, n) })
		if !found {
			d.Windows = slices.Insert(d.Windows, i, CopilotWindowSums{Days: w.Days})
		}
		x := &d.Windows[i]
		x.Active += w.Active
		x.Dormant += w.Dormant
		x.Reclaimable += w.Reclaimable
		for app, k := range w.Apps {
			if x.Apps == nil {
				x.Apps = map[string]int{}
			}
			x.Apps[app] += k
		}
	}
}

// Figures shapes the sums as one CopilotFigures, which the view presents
// like a customer's: apps by most active in the default window, then name;
// habitual counted over the customers that give active days.
func (s *CopilotSums) Figures() *CopilotFigures {
	if s == nil {
		return nil
	}
	f := &CopilotFigures{
		Sold: s.Sold, Assigned: s.Assigned, Unassigned: s.Unassigned, NeverUsed: s.NeverUsed, New: s.New,
		HasReport: s.Reporting > 0, ActiveDaysMissing: s.ActiveDaysMissing, ReportedSeats: s.ReportedAssigned, Apps: []string{},
	}
	if s.ActiveDays != nil {
		f.ActiveDays = slices.Clone(s.ActiveDays)
	}
	def := slices.IndexFunc(s.Windows, func(w CopilotWindowSums) bool { return w.Days == DefaultWindow })
	for _, w := range s.Windows {
		for app := range w.Apps {
			if !slices.Contains(f.Apps, app) {
				f.Apps = append(f.Apps, app)
			}
		}
	}
	slices.SortFunc(f.Apps, func(a, b string) int {
		if def >= 0 {
			if c := cmp.Compare(s.Windows[def].Apps[b], s.Windows[def].Apps[a]); c != 0 {
				return c
			}
		}
		return cmp.Compare(a, b)
	})
	for _, w := range s.Windows {
		cw := CopilotWindow{Days: w.Days, Active: w.Active, Dormant: w.Dormant, Reclaimable: w.Reclaimable, Apps: make([]int, len(f.Apps))}
		for i, app := range f.Apps {
			cw.Apps[i] = w.Apps[app]
		}
		f.Windows = append(f.Windows, cw)
	}
	return f
}
