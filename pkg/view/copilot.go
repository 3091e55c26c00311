package view

import "github.com/licenseinsights/licenseinsights/pkg/license"

// Copilot is the copilot block of insights and of the portfolio (docs/definitions.md#copilot).
// Activity figures are null until a Copilot usage report was ingested;
// habitual is also null when the report gives no active days (version 1).
type Copilot struct {
	// ReportDate is the Copilot report's refresh date, the date the
	// activity figures describe (the newest of the customers' in a
	// portfolio); null without a report.
	ReportDate    *string  `json:"reportDate"`
	WindowDays    int      `json:"windowDays"`
	SeatsSold     int      `json:"seatsSold"`
	SeatsAssigned int      `json:"seatsAssigned"`
	Unassigned    int      `json:"unassigned"`
	Active        *int     `json:"active"`
	ActivePercent *float64 `json:"activePercent"` // active ÷ assigned
	Habitual      *int     `json:"habitual"`
	HabitualDays  int      `json:"habitualDays"`
	// HabitualUnknownSeats are seats whose report gives no active days
	// (portfolio: customers with version 1 reports), outside habitual.
	HabitualUnknownSeats int  `json:"habitualUnknownSeats"`
	Dormant              *int `json:"dormant"`
	NeverUsed            *int `json:"neverUsed"`
	New                  *int `json:"new"`
	// Reclaimable are the dormant and never-used seats (each once), new
	// seats never among them; IdleSeats adds the unassigned ones.
	Reclaimable *int         `json:"reclaimable"`
	IdleSeats   int          `json:"idleSeats"`
	Apps        []CopilotApp `json:"apps"`
}

// CopilotApp is one Copilot app's use in the window.
type CopilotApp struct {
	App    string `json:"app"`
	Active int    `json:"active"`
}

// CopilotOf shapes Copilot figures for window n, habitual meaning active on
// at least habitualDays of the last 28; nil when there are none.
func CopilotOf(c *license.CopilotFigures, n, habitualDays int) *Copilot {
	if c == nil {
		return nil
	}
	w, _ := c.Window(n)
	out := &Copilot{
		WindowDays: n, SeatsSold: c.Sold, SeatsAssigned: c.Assigned, Unassigned: c.Unassigned,
		HabitualDays: habitualDays, IdleSeats: c.Unassigned, Apps: []CopilotApp{},
	}
	if !c.HasReport {
		return out
	}
	if c.ReportDate != license.NoDate {
		date := c.ReportDate.String()
		out.ReportDate = &date
	}
	out.Active, out.Dormant, out.NeverUsed, out.New, out.Reclaimable = &w.Active, &w.Dormant, &c.NeverUsed, &c.New, &w.Reclaimable
	// In a portfolio only the seats of customers with a report can be active.
	seats := c.Assigned
	if c.ReportedSeats > 0 {
		seats = c.ReportedSeats
	}
	out.ActivePercent = license.Percent(w.Active, seats)
	out.Habitual = c.Habitual(habitualDays)
	out.HabitualUnknownSeats = c.ActiveDaysMissing
	if out.Habitual == nil {
		out.HabitualUnknownSeats = c.Assigned
	}
	out.IdleSeats = c.IdleSeats(n)
	for i, app := range c.Apps {
		k := 0
		if i < len(w.Apps) {
			k = w.Apps[i]
		}
		out.Apps = append(out.Apps, CopilotApp{App: app, Active: k})
	}
	return out
}

// CopilotRecommendInput prepares a customer's Copilot recommendations: the
// seat price is that of the customer's priced Copilot SKU with the most
// seats sold (customers rarely hold more than one).
func CopilotRecommendInput(f *license.Figures, n, habitualDays int, prices map[string]float64, currency string) license.CopilotRecommendInput {
	name := f.Customer.Name
	if name == "" {
		name = f.Customer.ID
	}
	in := license.CopilotRecommendInput{CustomerName: name, Copilot: f.Copilot, Window: n, HabitualDays: habitualDays, Currency: currency}
	best := -1
	for _, p := range f.Products {
		price, ok := prices[p.SKU]
		if ok && license.IsCopilotSKU(p.SKU) && p.Sold.Total() > best {
			best, in.MonthlyPrice = p.Sold.Total(), price
		}
	}
	return in
}

// CopilotRanking is one customer of the portfolio's mostIdleCopilot list:
// idle seats are unassigned plus dormant or never used (default window).
type CopilotRanking struct {
	CustomerID    string `json:"customerId"`
	CustomerName  string `json:"customerName"`
	ReportDate    string `json:"reportDate"`
	SeatsSold     int    `json:"seatsSold"`
	SeatsAssigned int    `json:"seatsAssigned"`
	IdleSeats     int    `json:"idleSeats"`
}
