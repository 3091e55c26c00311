package export

import (
	"strconv"

	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

// Reclaim is the reclaim dataset: one row per customer × SKU ×
// subscription with idle seats, of one kind
// (docs/definitions.md#the-reclaim-calendar).
const Reclaim Dataset = "reclaim"

// ReclaimHeader is the reclaim dataset's header (README.md, "Exports").
var ReclaimHeader = []string{
	"customerId", "customerName", "reportDate", "windowDays", "days", "sku", "productName", "subscriptionId", "kind", "seats",
	"date", "daysLeft", "renewalDate", "renewalKind", "windowOpen", "cancellableUntil", "termDuration", "billingCycle",
	"currency", "monthlyPrice", "monthly", "perTerm",
}

// reclaim writes every covered customer's calendar for the default window
// and the request's horizon, priced with the request's list; money cells
// are empty without a price (never 0).
func (e *exporter) reclaim() error {
	if err := e.write(ReclaimHeader); err != nil {
		return err
	}
	days := e.req.ReclaimDays
	if days == 0 {
		days = license.ReclaimHorizons[0]
	}
	currency := ""
	if e.req.Prices != nil {
		currency = e.req.Prices.Currency
	}
	n := license.DefaultWindow
	record := make([]string, len(ReclaimHeader))
	return e.eachCustomer(func(id string, cf *store.CustomerFigures) error {
		f := cf.Figures
		f.Customer.ID = id
		rc := license.ReclaimOf(&f, n, days, e.req.Prices)
		for _, it := range rc.Items {
			cur := ""
			if it.Monthly != nil {
				cur = currency
			}
			record = append(record[:0],
				Neutralise(id), Neutralise(f.Customer.Name), f.ReportDate.String(), intCell(n), intCell(days),
				Neutralise(it.SKU), Neutralise(it.ProductName), Neutralise(it.SubscriptionID), string(it.Kind), intCell(it.Seats),
				it.Date.String(), intPtrCell(it.DaysLeft), it.RenewalDate.String(), string(it.RenewalKind), boolCell(it.WindowOpen),
				it.CancellableUntil.String(), Neutralise(it.TermDuration), Neutralise(it.BillingCycle),
				cur, moneyCell(it.MonthlyPrice), moneyCell(it.Monthly), moneyCell(it.PerTerm),
			)
			e.res.Rows++
			if err := e.write(record); err != nil {
				return err
			}
		}
		return nil
	})
}

func intPtrCell(p *int) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(*p)
}

func moneyCell(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'f', 2, 64)
}
