package license

import (
	"fmt"
	"strings"
)

// Recommendation codes of docs/definitions.md#copilot.
const (
	CodeCopilotReclaim   = "copilot-reclaim"
	CodeCopilotTraining  = "copilot-training"
	CodeCopilotMoreSeats = "copilot-more-seats"
)

// CopilotRecommendInput is what Copilot recommendations are made from.
type CopilotRecommendInput struct {
	CustomerName string
	Copilot      *CopilotFigures
	// Window is the activity window, in days.
	Window int
	// HabitualDays: active days (of the last 28) that make use habitual.
	HabitualDays int
	// MonthlyPrice of one Copilot seat (0: no price configured).
	MonthlyPrice float64
	Currency     string
}

// RecommendCopilot makes the Copilot recommendations of docs/definitions.md#copilot, in this
// order; none without a Copilot report (activity unknown). It never returns
// nil.
//
//   - copilot-reclaim: at least MinReclaim seats dormant or never used (new
//     seats, assigned within 14 days, never count), priced where a price is
//     configured.
//   - copilot-training: seats are assigned, not all of them new, but the
//     share active in the window is below LowUsagePercent.
//   - copilot-more-seats: every seat is assigned, and every holder uses
//     Copilot habitually (needs a report with active days).
func RecommendCopilot(in CopilotRecommendInput, th Thresholds) []Recommendation {
	out := []Recommendation{}
	c := in.Copilot
	if c == nil || !c.HasReport || c.Assigned == 0 {
		return out
	}
	w, _ := c.Window(in.Window)
	name := in.CustomerName

	if n := w.Reclaimable; n >= max(th.MinReclaim, 1) {
		ev := Evidence{"reclaimable": n, "dormant": w.Dormant, "neverUsed": c.NeverUsed, "newSeats": c.New, "windowDays": in.Window}
		var b strings.Builder
		fmt.Fprintf(&b, "%s has %s with no Copilot use in the last %s (%s dormant, %s never used).",
			name, fmtPlural(n, "Microsoft 365 Copilot seat", "Microsoft 365 Copilot seats"), fmtDays(in.Window), fmtCount(w.Dormant), fmtCount(c.NeverUsed))
		if in.MonthlyPrice > 0 {
			cost := float64(n) * in.MonthlyPrice
			fmt.Fprintf(&b, " Reassign them to people who asked for Copilot, or reduce the seats at the next renewal: that saves %s a month (%s a year).", fmtMoney(in.Currency, cost), fmtMoney(in.Currency, cost*12))
			ev["monthlyCost"] = roundCent(cost)
			ev["currency"] = in.Currency
		} else {
			b.WriteString(" Reassign them to people who asked for Copilot, or reduce the seats at the next renewal.")
		}
		if c.New > 0 {
			fmt.Fprintf(&b, " %s assigned in the last %s %s left out: %s still getting started.", fmtCapitalize(fmtPlural(c.New, "seat", "seats")), fmtDays(CopilotNewDays), fmtIsAre(c.New), fmtPluralWord(c.New, "its holder is", "their holders are"))
		}
		out = append(out, Recommendation{Code: CodeCopilotReclaim, Severity: SeverityWarning, Message: b.String(), Evidence: ev})
	}

	// Seats that are all new are still getting started: no call for training.
	if p := Percent(w.Active, c.Assigned); p != nil && *p < th.LowUsagePercent && c.Assigned > c.New {
		ev := Evidence{"seatsAssigned": c.Assigned, "active": w.Active, "activePercent": *p, "thresholdPercent": th.LowUsagePercent, "windowDays": in.Window}
		msg := fmt.Sprintf("Only %s of the %s Copilot seat holders of %s used Copilot in the last %s (%s). Offer Copilot training: short sessions on prompting, meeting recaps in Teams and drafting in Outlook and Word, and share the prompts that work in their own team.",
			fmtCount(w.Active), fmtCount(c.Assigned), name, fmtDays(in.Window), fmtPercent(*p))
		out = append(out, Recommendation{Code: CodeCopilotTraining, Severity: SeverityWarning, Message: msg, Evidence: ev})
	}

	if h := c.Habitual(in.HabitualDays); h != nil && *h == c.Assigned && c.Unassigned == 0 {
		ev := Evidence{"seatsAssigned": c.Assigned, "habitual": *h, "habitualDays": in.HabitualDays, "unassigned": 0}
		msg := fmt.Sprintf("Every one of the %s Copilot seat holders of %s uses Copilot on at least %s of the last %d, and no seat is free. Offer more seats to the teams working with them.",
			fmtCount(c.Assigned), name, fmtDays(in.HabitualDays), CopilotHabitualPeriod)
		out = append(out, Recommendation{Code: CodeCopilotMoreSeats, Severity: SeverityOpportunity, Message: msg, Evidence: ev})
	}
	return out
}
