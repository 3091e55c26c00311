package license

import (
	"slices"
	"strings"
)

// Copilot adoption (docs/definitions.md#copilot). Microsoft 365 Copilot seats are reported apart
// from the Office figures of §2: the Copilot usage report adds no users and no
// workloads, so it never moves the Office usage %.

// copilotSKUs are the catalogue's Microsoft 365 Copilot products: every
// product of Microsoft's product list whose service plans include the
// Microsoft 365 Copilot apps (M365_COPILOT_APPS), by part number and by
// display name (the Office report names products by display name, upper
// case). Copilot Studio and the Finance preview carry no Microsoft 365
// Copilot seat and are not listed.
var copilotSKUs = map[string]bool{
	"microsoft_365_copilot":       true, // Microsoft Copilot for Microsoft 365 (CSP)
	"m365_copilot":                true, // Microsoft Copilot for Microsoft 365
	"microsoft_365_copilot_edu":   true, // Microsoft 365 Copilot (Education Faculty)
	"microsoft_copilot_for_sales": true, // Microsoft 365 Copilot for Sales (includes the Copilot apps)

	"microsoft 365 copilot":                     true,
	"microsoft copilot for microsoft 365":       true,
	"copilot for microsoft 365":                 true,
	"microsoft 365 copilot (education faculty)": true,
	"microsoft 365 copilot for sales":           true,
}

// IsCopilotSKU reports whether a SKU (part number, or the product name a
// source gave when the catalogue did not know it) is a Microsoft 365 Copilot
// seat. Letter case and surrounding space are ignored.
func IsCopilotSKU(sku string) bool {
	return copilotSKUs[strings.ToLower(strings.TrimSpace(sku))]
}

// Copilot thresholds of docs/definitions.md#copilot.
const (
	// DefaultCopilotHabitualDays is COPILOT_HABITUAL_DAYS' default: active
	// on at least this many of the last 28 days is habitual use.
	DefaultCopilotHabitualDays = 10
	// CopilotHabitualPeriod is the period habitual use is measured over.
	CopilotHabitualPeriod = 28
	// CopilotNewDays: a seat assigned within this many days is new, never
	// a reclaim candidate.
	CopilotNewDays = 14
	// CopilotDormantDays: a seat assigned more than this many days ago and
	// not used in the window is dormant.
	CopilotDormantDays = 28
)

// CopilotReport is Graph's Copilot usage user detail report
// (getMicrosoft365CopilotUsageUserDetail), as the parser reads it.
type CopilotReport struct {
	ReportDate Date `json:"reportDate"`
	// PeriodDays is the report's Report Period (0 when it does not say).
	PeriodDays int `json:"periodDays,omitempty"`
	// Apps are the Copilot apps the report has a last activity date for, in
	// the order of the report's columns (v2 reports add apps).
	Apps []string `json:"apps"`
	// HasActiveDays: the report gives each user's active usage days (v2).
	HasActiveDays bool          `json:"hasActiveDays,omitempty"`
	Users         []CopilotUser `json:"users"`
}

// CopilotUser is one row of the report.
type CopilotUser struct {
	Key string `json:"k"`
	// LastActivity is the report's Last Activity Date (any Copilot app).
	LastActivity Date `json:"l,omitempty"`
	// AppActivity is the last activity date per app, aligned with
	// CopilotReport.Apps (NoDate: never).
	AppActivity []Date `json:"a,omitempty"`
	// ActiveDays is the number of days with Copilot activity in the
	// report period (v2 only).
	ActiveDays int `json:"n,omitempty"`
}

// lastAny is the user's latest Copilot activity in any app.
func (u CopilotUser) lastAny() Date {
	last := u.LastActivity
	for _, d := range u.AppActivity {
		last = max(last, d)
	}
	return last
}

// CopilotWindow are the window-dependent Copilot counts.
type CopilotWindow struct {
	Days int `json:"days"`
	// Active: seat holders with Copilot activity in any app in the window.
	Active int `json:"active"`
	// Dormant: seat holders assigned more than CopilotDormantDays ago and
	// not active in the window (never-used ones included).
	Dormant int `json:"dormant"`
	// Reclaimable: seat holders that are dormant or never used, new seats
	// never counted (the union, each seat once).
	Reclaimable int `json:"reclaimable"`
	// Apps: seat holders active in the window, per app (CopilotFigures.Apps order).
	Apps []int `json:"apps"`
}

// CopilotFigures are a customer's (or a portfolio's) Copilot counts.
type CopilotFigures struct {
	// ReportDate is the Copilot report's refresh date, the date D of these
	// figures (NoDate when no report was ingested yet).
	ReportDate Date `json:"reportDate,omitempty"`
	// Sold: Σ quantity of counted Copilot subscriptions.
	Sold int `json:"sold"`
	// Assigned: seat holders (non-deleted users holding a Copilot SKU).
	Assigned int `json:"assigned"`
	// Unassigned: Σ per Copilot SKU of max(0, sold − assigned).
	Unassigned int `json:"unassigned"`
	// NeverUsed: seat holders, not new, without any Copilot activity date.
	NeverUsed int `json:"neverUsed"`
	// New: seat holders assigned within CopilotNewDays.
	New int `json:"new"`
	// HasReport: a Copilot usage report was ingested; without it the
	// activity figures are unknown.
	HasReport bool `json:"hasReport"`
	// ActiveDays counts seat holders by active days in the report's 28-day
	// period: index i holds those active on exactly i days (the last on 28
	// or more). Nil when the report gives no active days for 28 days, so
	// habitual use is unknown.
	ActiveDays []int `json:"activeDays,omitempty"`
	// ActiveDaysMissing (portfolio) counts the seats of customers whose
	// report gives no active days: their habitual use is unknown.
	ActiveDaysMissing int `json:"activeDaysMissing,omitempty"`
	// ReportedSeats (portfolio only) are the seats of the customers with a
	// Copilot report: the denominator of the active share.
	ReportedSeats int `json:"reportedSeats,omitempty"`
	// Apps are the Copilot apps, Windows[i].Apps aligned with them.
	Apps    []string        `json:"apps"`
	Windows []CopilotWindow `json:"windows"`
}

// Window is the counts for n days, and whether they were computed.
func (c *CopilotFigures) Window(n int) (CopilotWindow, bool) {
	for _, w := range c.Windows {
		if w.Days == n {
			return w, true
		}
	}
	return CopilotWindow{}, false
}

// Habitual is the number of seat holders active on at least days of the
// last 28 days, or nil when the report gives no active days. In a portfolio
// it counts the seats whose customers give active days (see
// ActiveDaysMissing).
func (c *CopilotFigures) Habitual(days int) *int {
	if c.ActiveDays == nil {
		return nil
	}
	n := 0
	for i, k := range c.ActiveDays {
		if i >= days {
			n += k
		}
	}
	return &n
}

// IdleSeats are the seats paid for but not put to use: unassigned plus
// reclaimable in the window. It ranks customers by Copilot waste.
func (c *CopilotFigures) IdleSeats(n int) int {
	w, _ := c.Window(n)
	return c.Unassigned + w.Reclaimable
}

// CopilotInput is what Copilot figures are computed from.
type CopilotInput struct {
	Subscriptions []Subscription
	// Users are the customer's users from its users document (snapshot or
	// Office report): seat holders and their assign dates come from them.
	Users []User
	// Seats, when Users is nil, are the seats of users not held in memory
	// (CopilotSeatOf of each, in the users' order).
	Seats []CopilotSeat
	// Report is the current Copilot usage report (nil: none ingested).
	Report *CopilotReport
}

// CopilotSeat is one non-deleted user's Copilot seat: its key and SKU in
// lower case, and the seat's assign date.
type CopilotSeat struct {
	key      string
	sku      string
	assigned Date
}

// CopilotSeatOf is u's Copilot seat, if u holds one: the first Copilot SKU
// of a non-deleted user (one seat per user, whatever the number of Copilot
// SKUs). Nothing of u is kept.
func CopilotSeatOf(u *User) (CopilotSeat, bool) {
	if u.Deleted {
		return CopilotSeat{}, false
	}
	for _, l := range u.Licenses {
		if IsCopilotSKU(l.SKU) {
			return CopilotSeat{key: strings.ToLower(strings.Clone(u.Key)), sku: strings.ToLower(l.SKU), assigned: l.AssignedDate}, true
		}
	}
	return CopilotSeat{}, false
}

// ComputeCopilot works out the Copilot figures of docs/definitions.md#copilot, or nil when the
// customer has no Copilot subscription, no Copilot seat holder and no
// Copilot report.
//
// The date D is the Copilot report's refresh date (the date its activity
// describes); without a report, the users' report date is not known here,
// so only the seat counts are given and the activity counts stay zero with
// HasReport false.
//
// Seat holders are the non-deleted users holding a Copilot SKU. A customer
// whose users document names no Copilot holder, but whose Copilot report
// lists users, takes the report's rows as the holders: Graph lists only
// users who hold a Copilot licence. Report rows are matched to users by key,
// ignoring letter case. A seat whose assign date no source gives counts as
// established (not new): the Office report gives per-workload dates only,
// and the snapshot gives the exact licence date.
func ComputeCopilot(in CopilotInput) *CopilotFigures {
	seats := in.Seats
	if in.Users != nil {
		seats = nil
		for i := range in.Users {
			if s, ok := CopilotSeatOf(&in.Users[i]); ok {
				seats = append(seats, s)
			}
		}
	}
	sold := map[string]int{}
	var skuOrder []string
	for _, s := range in.Subscriptions {
		if !IsCopilotSKU(s.SKU) {
			continue
		}
		k := strings.ToLower(s.SKU)
		if _, seen := sold[k]; !seen {
			skuOrder = append(skuOrder, k)
			sold[k] = 0
		}
		if s.Counted() {
			sold[k] += s.Quantity
		}
	}
	fromReport := false
	if len(seats) == 0 && in.Report != nil && len(in.Report.Users) > 0 {
		fromReport = true
		for _, ru := range in.Report.Users {
			seats = append(seats, CopilotSeat{key: strings.ToLower(ru.Key)})
		}
	}
	if len(seats) == 0 && len(sold) == 0 && in.Report == nil {
		return nil
	}

	c := &CopilotFigures{Assigned: len(seats), Apps: []string{}, Windows: make([]CopilotWindow, 0, len(Windows))}
	for _, k := range skuOrder {
		c.Sold += sold[k]
	}
	if fromReport {
		c.Unassigned = max(0, c.Sold-c.Assigned)
	} else {
		held := map[string]int{}
		for _, s := range seats {
			held[s.sku]++
		}
		for _, k := range skuOrder {
			if sold[k] > 0 {
				c.Unassigned += max(0, sold[k]-held[k])
			}
		}
	}

	r := in.Report
	if r == nil {
		for _, n := range Windows {
			c.Windows = append(c.Windows, CopilotWindow{Days: n, Apps: []int{}})
		}
		return c
	}
	c.HasReport = true
	c.ReportDate = r.ReportDate
	c.Apps = slices.Clone(r.Apps)
	if c.Apps == nil {
		c.Apps = []string{}
	}
	d := r.ReportDate
	rows := make(map[string]*CopilotUser, len(r.Users))
	for i := range r.Users {
		rows[strings.ToLower(r.Users[i].Key)] = &r.Users[i]
	}
	if r.HasActiveDays && (r.PeriodDays == 0 || r.PeriodDays == CopilotHabitualPeriod) {
		c.ActiveDays = make([]int, CopilotHabitualPeriod+1)
	}
	for _, n := range Windows {
		c.Windows = append(c.Windows, CopilotWindow{Days: n, Apps: make([]int, len(c.Apps))})
	}
	for _, s := range seats {
		row := rows[s.key]
		var last Date
		if row != nil {
			last = row.lastAny()
		}
		isNew := s.assigned != NoDate && s.assigned > d.AddDays(-CopilotNewDays)
		// Unknown assign dates count as established (see above).
		old := s.assigned == NoDate || s.assigned < d.AddDays(-CopilotDormantDays)
		neverUsed := !isNew && last == NoDate
		switch {
		case isNew:
			c.New++
		case neverUsed:
			c.NeverUsed++
		}
		if c.ActiveDays != nil {
			days := 0
			if row != nil {
				days = min(max(row.ActiveDays, 0), CopilotHabitualPeriod)
			}
			c.ActiveDays[days]++
		}
		for wi := range c.Windows {
			w := &c.Windows[wi]
			active := Active(last, d, w.Days)
			if active {
				w.Active++
			}
			dormant := old && !active
			if dormant {
				w.Dormant++
			}
			if !isNew && (dormant || neverUsed) {
				w.Reclaimable++
			}
			if row != nil {
				for ai, ad := range row.AppActivity {
					if ai < len(w.Apps) && Active(ad, d, w.Days) {
						w.Apps[ai]++
					}
				}
			}
		}
	}
	return c
}
