package portfolio

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/licenseinsights/licenseinsights/pkg/api"
	"github.com/licenseinsights/licenseinsights/pkg/api/prices"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

// RouteReclaim is the portfolio reclaim calendar (SPEC §10).
const RouteReclaim = "/v1/portfolio/reclaim"

// Calendar page sizes.
const (
	DefaultReclaimPage = 100
	MaxReclaimPage     = 500
)

// ReclaimCalendar is GET /v1/portfolio/reclaim's answer: one page of the
// calendar across customers, ordered by date, and the totals of the whole
// calendar per kind (docs/definitions.md#the-reclaim-calendar).
type ReclaimCalendar struct {
	license.Reclaim
	NextCursor *string `json:"nextCursor"`
}

type reclaimCursor struct {
	After string `json:"a"`
}

// reclaim reads three items' worth whatever the number of customers: a
// page of lines (one Query), the eight totals shards (one BatchGetItem) and
// the price list (one GetItem), at once. Kinds and money are made here, for
// the horizon asked and the prices in force.
func (h *Handler) reclaim(ctx context.Context, r *api.Request) (api.Response, error) {
	days, err := prices.DaysParam(r, prices.DefaultHorizon(h.renewalDays))
	if err != nil {
		return api.Response{}, err
	}
	limit, err := r.QueryInt("limit", DefaultReclaimPage, 1, MaxReclaimPage)
	if err != nil {
		return api.Response{}, err
	}
	var cur reclaimCursor
	if c := r.Query("cursor"); c != "" {
		if err := api.DecodeCursor(c, &cur); err != nil {
			return api.Response{}, err
		}
	}
	var (
		wg         sync.WaitGroup
		page       *store.ReclaimPage
		sums       map[string]int
		list       *license.PriceList
		e1, e2, e3 error
	)
	wg.Add(3)
	go func() { defer wg.Done(); page, e1 = h.store.ReclaimLines(ctx, r.Tenant, limit, cur.After) }()
	go func() { defer wg.Done(); sums, e2 = h.store.ReclaimTotalsSums(ctx, r.Tenant) }()
	go func() { defer wg.Done(); list, e3 = prices.ListFor(ctx, h.store, r.Tenant, h.defaultPrices) }()
	wg.Wait()
	if e1 != nil && cur.After != "" {
		return api.Response{}, api.BadRequest("cursor is not one this API issued", api.Detail{Field: "cursor"})
	}
	for _, err := range []error{e1, e2, e3} {
		if err != nil {
			return api.Response{}, fmt.Errorf("reclaim calendar: %w", err)
		}
	}
	out := ReclaimCalendar{Reclaim: license.Reclaim{Days: days, Items: license.PriceReclaim(page.Lines, days, list)}}
	if list != nil {
		out.Currency = list.Currency
	}
	out.Totals = reclaimTotals(store.ParseReclaimTotals(sums, days), list)
	if page.Next != "" {
		c, err := api.EncodeCursor(reclaimCursor{After: page.Next})
		if err != nil {
			return api.Response{}, err
		}
		out.NextCursor = &c
	}
	return api.JSON(http.StatusOK, out)
}

// reclaimTotals prices the totals entries as license.PriceReclaim prices
// lines, then sums them per kind.
func reclaimTotals(entries []store.ReclaimTotalLine, list *license.PriceList) []license.ReclaimTotal {
	lines := make([]license.ReclaimLine, 0, len(entries))
	kinds := make([]license.ReclaimKind, 0, len(entries))
	for _, e := range entries {
		lines = append(lines, license.ReclaimLine{SKU: e.SKU, Seats: e.Seats, Holders: e.Kind == license.ReclaimReassignNow,
			TermDuration: e.Term.TermDuration, BillingCycle: e.Term.BillingCycle, Terms: e.Terms})
		kinds = append(kinds, e.Kind)
	}
	items := license.PriceReclaim(lines, 0, list)
	for i := range items {
		items[i].Kind = kinds[i] // the kind the totals were kept under, for the horizon asked
	}
	return license.ReclaimTotals(items)
}
