// Package prices serves the tenant's price list (SPEC §10,
// docs/definitions.md#the-reclaim-calendar): PUT /v1/prices (writers) takes
// the partner's CSV or Partner Center's licence-based price sheet as
// downloaded, GET /v1/prices answers the list in force. The routes are
// mounted on the IngestFunction, which may write the table.
package prices

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/licenseinsights/licenseinsights/pkg/api"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/source"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

// Route is the prices resource, as template.yaml names it.
const Route = "/v1/prices"

// Sources of the list in force.
const (
	SourceTenant  = "tenant"  // PUT /v1/prices
	SourceDefault = "default" // SKU_MONTHLY_PRICES
	SourceNone    = "none"
)

// Handler serves the routes.
type Handler struct {
	store    *store.Store
	defaults *license.PriceList
	now      func() time.Time
}

// Register adds PUT and GET /v1/prices to rt; defaults is the
// SKU_MONTHLY_PRICES list (nil when none is configured).
func Register(rt *api.Router, st *store.Store, defaults *license.PriceList) {
	h := &Handler{store: st, defaults: defaults, now: time.Now}
	rt.Write(http.MethodPut, Route, h.put)
	rt.Read(http.MethodGet, Route, h.get)
}

// Response is the answer of both routes.
type Response struct {
	Source    string          `json:"source"`
	Form      string          `json:"form,omitempty"`
	Currency  *string         `json:"currency"`
	UpdatedAt *time.Time      `json:"updatedAt,omitempty"`
	Prices    []license.Price `json:"prices"`
	// Rows and Skipped: what PUT read (the price sheet's lines of another
	// segment or of products the catalogue cannot name are skipped).
	Rows    *int `json:"rows,omitempty"`
	Skipped *int `json:"skipped,omitempty"`
}

func (h *Handler) put(ctx context.Context, r *api.Request) (api.Response, error) {
	body, err := r.Body()
	if err != nil {
		return api.Response{}, err
	}
	if len(body) > api.MaxBodyBytes {
		return api.Response{}, api.TooLarge()
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return api.Response{}, api.BadRequest("the body is empty: send the price list as CSV, sku,monthlyPrice,currency[,termDuration,billingCycle] or Partner Center's licence-based price list as downloaded")
	}
	res, err := source.ParsePriceList(bytes.NewReader(body))
	var invalid *source.InvalidError
	if errors.As(err, &invalid) {
		details := make([]any, len(invalid.Problems))
		for i, p := range invalid.Problems {
			details[i] = p
		}
		return api.Response{}, api.Unprocessable(fmt.Sprintf("the price list was refused whole, the prices in force are unchanged: %d problem(s); the first %d are listed (line, column, reason). Fix them and send the list again", invalid.Total, len(invalid.Problems)), details...)
	}
	if err != nil {
		return api.Response{}, err
	}
	sp := &store.StoredPrices{PriceList: res.List, Form: string(res.Form), UpdatedAt: h.now().UTC().Truncate(time.Second)}
	if err := h.store.PutPrices(ctx, r.Tenant, sp); err != nil {
		return api.Response{}, err
	}
	out := tenantResponse(sp)
	out.Rows, out.Skipped = &res.Rows, &res.Skipped
	return api.JSON(http.StatusOK, out)
}

func (h *Handler) get(ctx context.Context, r *api.Request) (api.Response, error) {
	sp, err := h.store.GetPrices(ctx, r.Tenant)
	var out Response
	switch {
	case err == nil:
		out = tenantResponse(sp)
	case !errors.Is(err, store.ErrNotFound):
		return api.Response{}, err
	case h.defaults != nil:
		c := h.defaults.Currency
		out = Response{Source: SourceDefault, Currency: &c, Prices: sorted(h.defaults.Prices)}
	default:
		out = Response{Source: SourceNone, Prices: []license.Price{}}
	}
	// ?sku= narrows the answer to one SKU's lines: what a price lookup of
	// it can use.
	if sku := strings.TrimSpace(r.Query("sku")); sku != "" {
		var mine []license.Price
		for _, p := range out.Prices {
			if strings.EqualFold(p.SKU, sku) {
				mine = append(mine, p)
			}
		}
		if len(mine) == 0 {
			return api.Response{}, &api.Error{Status: http.StatusNotFound, Code: "not_found",
				Message: fmt.Sprintf("the price list in force (%s) has no price for %q: its seats have no money figures; PUT /v1/prices with a line for it", out.Source, sku)}
		}
		out.Prices = mine
	}
	return api.JSON(http.StatusOK, out)
}

func tenantResponse(sp *store.StoredPrices) Response {
	c, at := sp.Currency, sp.UpdatedAt
	return Response{Source: SourceTenant, Form: sp.Form, Currency: &c, UpdatedAt: &at, Prices: sorted(sp.Prices)}
}

func sorted(ps []license.Price) []license.Price {
	out := slices.Clone(ps)
	if out == nil {
		out = []license.Price{}
	}
	slices.SortStableFunc(out, func(a, b license.Price) int {
		if c := strings.Compare(a.SKU, b.SKU); c != 0 {
			return c
		}
		if c := strings.Compare(a.TermDuration, b.TermDuration); c != 0 {
			return c
		}
		return strings.Compare(a.BillingCycle, b.BillingCycle)
	})
	return out
}

// ListFor is the price list in force for t: the tenant's (PUT /v1/prices),
// else defaults (SKU_MONTHLY_PRICES), else nil (no money anywhere).
func ListFor(ctx context.Context, st *store.Store, t license.Tenant, defaults *license.PriceList) (*license.PriceList, error) {
	sp, err := st.GetPrices(ctx, t)
	switch {
	case err == nil:
		return &sp.PriceList, nil
	case errors.Is(err, store.ErrNotFound):
		return defaults, nil
	}
	return nil, err
}

// DaysParam reads ?days= (30, 90 or 180; def when absent): the horizon of
// a reclaim calendar.
func DaysParam(r *api.Request, def int) (int, error) {
	s := r.Query("days")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || !slices.Contains(license.ReclaimHorizons, n) {
		return 0, api.BadRequest("days must be one of 30, 90, 180: how far ahead a renewal counts as reachable", api.Detail{Field: "days", Value: s})
	}
	return n, nil
}

// DefaultHorizon is the horizon when ?days= is absent: RENEWAL_DAYS when
// it is one of the served horizons, else the shortest that covers it.
func DefaultHorizon(renewalDays int) int {
	for _, h := range license.ReclaimHorizons {
		if renewalDays <= h {
			return h
		}
	}
	return license.ReclaimHorizons[len(license.ReclaimHorizons)-1]
}
