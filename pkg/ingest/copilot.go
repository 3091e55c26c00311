package ingest

import (
	"fmt"

	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/source"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

// copilotFigures are the customer's Copilot figures (docs/definitions.md#copilot) from the
// combined subscriptions, the users' seats and the current Copilot report. Every
// ingest recomputes them, whatever its kind: a new users document moves
// the seat holders, a new subscription list the seats sold.
func copilotFigures(sources map[string]store.SourceRecord, subs []license.Subscription, seats []license.CopilotSeat) *license.CopilotFigures {
	var report *license.CopilotReport
	if r, ok := sources[string(source.KindCopilotUsage)]; ok {
		report = r.Copilot
	}
	return license.ComputeCopilot(license.CopilotInput{Subscriptions: subs, Seats: seats, Report: report})
}

// checkFreshCopilot refuses a Copilot report older than the current one,
// as checkFresh does for users documents.
func checkFreshCopilot(st *store.State, doc *source.Document) error {
	if doc.Kind != source.KindCopilotUsage {
		return nil
	}
	cur, ok := st.Sources[string(source.KindCopilotUsage)]
	if !ok || doc.ReportDate >= cur.ReportDate {
		return nil
	}
	return fmt.Errorf("%w: the %s report of %s is older than the current one of %s: send a newer report",
		ErrStale, doc.Kind, doc.ReportDate, cur.ReportDate)
}
