package license

import (
	"strconv"
	"strings"
)

// Price is one line of a partner's price list: what a seat of SKU costs
// per month, optionally for one term and billing cycle only
// (docs/definitions.md#the-reclaim-calendar).
type Price struct {
	SKU string `json:"sku"`
	// TermDuration (ISO 8601, P1M, P1Y, P3Y) and BillingCycle (monthly,
	// annual, triennial) narrow the price; "" applies to any.
	TermDuration string  `json:"termDuration,omitempty"`
	BillingCycle string  `json:"billingCycle,omitempty"`
	MonthlyPrice float64 `json:"monthlyPrice"`
}

// PriceList is a tenant's prices, all in one currency (SPEC §10: never
// mixed).
type PriceList struct {
	Currency string  `json:"currency"`
	Prices   []Price `json:"prices"`
}

// PriceListOf turns the SKU_MONTHLY_PRICES default (SKU → monthly price)
// into a PriceList; nil when there is no price.
func PriceListOf(monthly map[string]float64, currency string) *PriceList {
	if len(monthly) == 0 {
		return nil
	}
	l := &PriceList{Currency: currency}
	for sku, p := range monthly {
		l.Prices = append(l.Prices, Price{SKU: sku, MonthlyPrice: p})
	}
	return l
}

// Lookup is the monthly price of a seat of sku on a subscription of the
// given term and billing cycle, and whether there is one. The most precise
// line wins: sku+term+cycle, then sku+term (any cycle), then sku alone.
// When the list only has lines for other terms or cycles, or the
// subscription's term is unknown and the SKU's lines disagree, there is no
// price: a guessed price would be a wrong figure, and a SKU without a price
// has no money (SPEC §10).
func (l *PriceList) Lookup(sku, term, cycle string) (float64, bool) {
	if l == nil {
		return 0, false
	}
	term, cycle = NormalizeTerm(term), NormalizeBillingCycle(cycle)
	best, rank := 0.0, 0
	var all []float64
	for _, p := range l.Prices {
		if !strings.EqualFold(p.SKU, sku) {
			continue
		}
		all = append(all, p.MonthlyPrice)
		r := 0
		switch {
		case p.TermDuration == "" && p.BillingCycle == "":
			r = 1
		case term != "" && p.TermDuration == term && p.BillingCycle == "":
			r = 2
		case term != "" && p.TermDuration == term && cycle != "" && p.BillingCycle == cycle:
			r = 3
		}
		if r > rank {
			best, rank = p.MonthlyPrice, r
		}
	}
	if rank > 0 {
		return best, true
	}
	if term == "" && len(all) > 0 {
		for _, v := range all[1:] {
			if v != all[0] {
				return 0, false
			}
		}
		return all[0], true
	}
	return 0, false
}

// NormalizeTerm writes a term duration as Partner Center does (P1M, P1Y,
// P3Y), upper-cased; "" stays "".
func NormalizeTerm(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// NormalizeBillingCycle lower-cases a billing cycle or plan ("Monthly",
// "annual" → "monthly", "annual"); "none" and "" are "".
func NormalizeBillingCycle(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "none" {
		return ""
	}
	return s
}

// TermMonths is the length in months of an ISO 8601 term (P1M → 1, P1Y →
// 12, P3Y → 36), 0 when unknown.
func TermMonths(term string) int {
	t := NormalizeTerm(term)
	if len(t) < 3 || t[0] != 'P' {
		return 0
	}
	n, err := strconv.Atoi(t[1 : len(t)-1])
	if err != nil || n <= 0 {
		return 0
	}
	switch t[len(t)-1] {
	case 'M':
		return n
	case 'Y':
		return 12 * n
	}
	return 0
}

// BillingMonths is the months one billing period covers (monthly 1, annual
// 12, triennial 36), 0 when unknown.
func BillingMonths(cycle string) int {
	switch NormalizeBillingCycle(cycle) {
	case "monthly":
		return 1
	case "annual":
		return 12
	case "triennial":
		return 36
	}
	return 0
}
