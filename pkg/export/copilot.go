package export

import (
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/view"
)

// CopilotHeader are the Copilot columns (docs/definitions.md#copilot) at the end of the
// customers dataset, in the default window: empty cells for a customer
// without Copilot, and for activity figures no Copilot report gave yet
// (copilotHabitual also when the report gives no active days).
var CopilotHeader = []string{
	"copilotReportDate", "copilotSeatsSold", "copilotSeatsAssigned", "copilotUnassigned",
	"copilotActive", "copilotHabitual", "copilotDormant", "copilotNeverUsed", "copilotNew", "copilotIdleSeats",
}

func copilotCells(f *license.CopilotFigures, habitualDays int) []string {
	if habitualDays <= 0 {
		habitualDays = license.DefaultCopilotHabitualDays
	}
	c := view.CopilotOf(f, license.DefaultWindow, habitualDays)
	if c == nil {
		return make([]string, len(CopilotHeader))
	}
	opt := func(n *int) string {
		if n == nil {
			return ""
		}
		return intCell(*n)
	}
	date := ""
	if c.ReportDate != nil {
		date = *c.ReportDate
	}
	return []string{
		date, intCell(c.SeatsSold), intCell(c.SeatsAssigned), intCell(c.Unassigned),
		opt(c.Active), opt(c.Habitual), opt(c.Dormant), opt(c.NeverUsed), opt(c.New), intCell(c.IdleSeats),
	}
}
