package customers

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/licenseinsights/licenseinsights/pkg/api"
	"github.com/licenseinsights/licenseinsights/pkg/api/prices"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

// RouteReclaim is one customer's reclaim calendar (SPEC §10).
const RouteReclaim = "/v1/customers/{customerId}/reclaim"

// ReclaimResponse is GET /v1/customers/{customerId}/reclaim's answer: the
// calendar of license.ReclaimOf for the window and horizon asked.
type ReclaimResponse struct {
	CustomerID   string `json:"customerId"`
	CustomerName string `json:"customerName"`
	ReportDate   string `json:"reportDate"`
	WindowDays   int    `json:"windowDays"`
	license.Reclaim
}

func (h *Handler) reclaim(ctx context.Context, r *api.Request) (api.Response, error) {
	id, err := r.CustomerID()
	if err != nil {
		return api.Response{}, err
	}
	window, err := r.Window()
	if err != nil {
		return api.Response{}, err
	}
	days, err := prices.DaysParam(r, prices.DefaultHorizon(h.thresholds.RenewalDays))
	if err != nil {
		return api.Response{}, err
	}
	cf, err := h.store.Figures(ctx, r.Tenant, id)
	if errors.Is(err, store.ErrNotFound) {
		return api.Response{}, api.NotFound("customer", id)
	}
	if err != nil {
		return api.Response{}, err
	}
	list, err := prices.ListFor(ctx, h.store, r.Tenant, h.defaultPrices())
	if err != nil {
		return api.Response{}, fmt.Errorf("prices: %w", err)
	}
	f := &cf.Figures
	name := f.Customer.Name
	if name == "" {
		name = id
	}
	return api.JSON(http.StatusOK, ReclaimResponse{
		CustomerID: id, CustomerName: name, ReportDate: f.ReportDate.String(), WindowDays: window,
		Reclaim: license.ReclaimOf(f, window, days, list),
	})
}

func (h *Handler) defaultPrices() *license.PriceList {
	return license.PriceListOf(h.cfg.SKUMonthlyPrices, h.cfg.Currency)
}
