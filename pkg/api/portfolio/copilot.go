package portfolio

import (
	"github.com/licenseinsights/licenseinsights/pkg/store"
	"github.com/licenseinsights/licenseinsights/pkg/view"
)

// copilotRankings are the entries of the most idle Copilot seats list.
func copilotRankings(list []store.Summary) []view.CopilotRanking {
	out := make([]view.CopilotRanking, 0, len(list))
	for _, s := range list {
		out = append(out, view.CopilotRanking{
			CustomerID: s.CustomerID, CustomerName: s.CustomerName, ReportDate: s.ReportDate.String(),
			SeatsSold: s.CopilotSeatsSold, SeatsAssigned: s.CopilotSeatsAssigned, IdleSeats: s.CopilotIdleSeats,
		})
	}
	return out
}
