// Package customers is the InsightsFunction: the tenant's customer list
// (GET /v1/customers), one customer's insights with recommendations
// (GET /v1/customers/{customerId}/insights) and its daily history
// (GET /v1/customers/{customerId}/history).
//
// Every answer comes from items the ingestion precomputed: the insights
// from the customer's FIGURES item plus one history item for the usage
// trend, the list from the index kept for the asked order, the history from
// the customer's DAY# items. No request reads user rows, so the cost of a
// request does not depend on the customer's size.
package customers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/licenseinsights/licenseinsights/pkg/api"
	"github.com/licenseinsights/licenseinsights/pkg/api/prices"
	"github.com/licenseinsights/licenseinsights/pkg/config"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/observe"
	"github.com/licenseinsights/licenseinsights/pkg/source"
	"github.com/licenseinsights/licenseinsights/pkg/store"
	"github.com/licenseinsights/licenseinsights/pkg/view"
)

// The routes, exactly as template.yaml's InsightsFunction events name them.
const (
	RouteList     = "/v1/customers"
	RouteInsights = "/v1/customers/{customerId}/insights"
	RouteHistory  = "/v1/customers/{customerId}/history"
)

// DefaultPageSize is a list page's size when the caller names none.
const DefaultPageSize = 50

// Handler serves the InsightsFunction's routes.
type Handler struct {
	store      *store.Store
	cfg        config.Config
	thresholds license.Thresholds
	router     *api.Router
}

// New builds the InsightsFunction's handler on its store (pkg/app wires
// it into the Lambda function).
func New(st *store.Store, cfg config.Config) *Handler {
	h := &Handler{
		store:      st,
		cfg:        cfg,
		thresholds: cfg.Thresholds(),
	}
	rt := api.NewRouter()
	rt.Read(http.MethodGet, RouteList, h.list)
	rt.Read(http.MethodGet, RouteInsights, h.insights)
	rt.Read(http.MethodGet, RouteHistory, h.history)
	rt.Read(http.MethodGet, RouteReclaim, h.reclaim)
	h.router = rt
	return h
}

// Router is the API part.
func (h *Handler) Router() *api.Router { return h.router }

// insights answers GET /v1/customers/{customerId}/insights: the §4.2
// document for the asked window, with recommendations.
func (h *Handler) insights(ctx context.Context, r *api.Request) (api.Response, error) {
	id, err := r.CustomerID()
	if err != nil {
		return api.Response{}, err
	}
	window, err := r.Window()
	if err != nil {
		return api.Response{}, err
	}
	ctx = observe.WithAttrs(ctx, slog.String("customer", id))
	ctx = observe.Annotate(ctx, "customer", id)

	var (
		cf    *store.CustomerFigures
		base  *store.Summary
		fresh *store.Freshness
	)
	// Whatever the customer's size: the figures, then the one
	// history point the trend compares with (it needs the report date);
	// the price list of the reclaim block and the data's freshness (one
	// BatchGetItem of known keys) alongside: four calls, three in a row at
	// most.
	type priced struct {
		list *license.PriceList
		err  error
	}
	pc := make(chan priced, 1)
	go func() {
		l, err := prices.ListFor(ctx, h.store, r.Tenant, h.defaultPrices())
		pc <- priced{l, err}
	}()
	type freshened struct {
		f   *store.Freshness
		err error
	}
	fc := make(chan freshened, 1)
	go func() {
		f, err := h.store.Freshness(ctx, r.Tenant, id, sourceKinds)
		fc <- freshened{f, err}
	}()
	cf, err = h.store.Figures(ctx, r.Tenant, id)
	if err == nil {
		base, err = h.store.TrendBaseline(ctx, r.Tenant, id, cf.Figures.ReportDate)
	}
	p, fr := <-pc, <-fc
	if err == nil {
		fresh, err = fr.f, fr.err
	}
	if errors.Is(err, store.ErrNotFound) {
		return api.Response{}, api.NotFound("customer", id)
	}
	if err != nil {
		return api.Response{}, err
	}
	if p.err != nil {
		return api.Response{}, fmt.Errorf("prices: %w", p.err)
	}
	in := h.insightsOf(id, cf, base, window, p.list)
	in.DataFreshness = freshnessOf(fresh)
	return api.JSON(http.StatusOK, in)
}

// sourceKinds are the kinds whose current document insights date.
var sourceKinds = func() []string {
	out := make([]string, len(source.Kinds))
	for i, k := range source.Kinds {
		out[i] = string(k)
	}
	return out
}()

func freshnessOf(f *store.Freshness) *view.DataFreshness {
	out := &view.DataFreshness{LastCollectedAt: f.LastCollectedAt, ConcealedNames: f.ConcealedNames, Sources: make([]view.SourceDates, 0, len(f.Sources))}
	if f.CollectionID != "" {
		out.CollectionID = &f.CollectionID
	}
	for _, s := range f.Sources {
		d := view.SourceDates{Kind: s.Kind, AcceptedAt: s.AcceptedAt}
		if !s.ReportDate.IsZero() {
			rd := s.ReportDate.String()
			d.ReportDate = &rd
		}
		out.Sources = append(out.Sources, d)
	}
	return out
}

// insightsOf shapes the stored figures into the response.
func (h *Handler) insightsOf(id string, cf *store.CustomerFigures, base *store.Summary, window int, list *license.PriceList) view.Insights {
	f := &cf.Figures
	name := f.Customer.Name
	if name == "" {
		name = id
	}
	waste := license.WasteOf(f, window, h.cfg.SKUMonthlyPrices, h.cfg.Currency)
	in := license.RecommendInput{Figures: f, Window: window, Support: cf.Support, Users: cf.Users}
	if waste != nil {
		in.Waste = &license.WasteCost{Currency: waste.Currency, MonthlyUnassigned: waste.MonthlyUnassignedCost, MonthlyInactive: waste.MonthlyInactiveCost}
	}
	if base != nil {
		in.Baseline = &license.Baseline{Date: base.ReportDate, Entitlements: base.Entitlements, Active: base.ActiveEntitlements}
	}
	rc := license.ReclaimOf(f, window, prices.DefaultHorizon(h.thresholds.RenewalDays), list)
	in.Reclaim = &rc
	recs := license.Recommend(in, h.thresholds)
	recs = append(recs, license.RecommendCopilot(view.CopilotRecommendInput(f, window, h.cfg.CopilotHabitual(), h.cfg.SKUMonthlyPrices, h.cfg.Currency), h.thresholds)...)
	return view.Insights{
		CustomerID:      id,
		CustomerName:    name,
		CustomerTenant:  f.Customer.TenantID,
		ReportDate:      f.ReportDate.String(),
		WindowDays:      window,
		Band:            string(f.Band()),
		Blocks:          view.CustomerBlocks(f, window),
		Waste:           waste,
		Recommendations: recs,
		Copilot:         view.CopilotOf(f.Copilot, window, h.cfg.CopilotHabitual()),
		Reclaim:         &rc,
	}
}

// list answers GET /v1/customers: one page in the asked order.
func (h *Handler) list(ctx context.Context, r *api.Request) (api.Response, error) {
	limit, err := r.QueryInt("limit", DefaultPageSize, 1, store.MaxPageSize)
	if err != nil {
		return api.Response{}, err
	}
	q := store.ListQuery{Limit: limit}
	if q.Sort, q.Descending, err = sortParam(r.Query("sort")); err != nil {
		return api.Response{}, err
	}
	if b := r.Query("band"); b != "" {
		q.Band = license.Band(b)
		if !q.Band.Valid() {
			return api.Response{}, api.BadRequest("band must be one of low, medium, high, unknown", api.Detail{Field: "band", Value: b})
		}
	}
	if c := r.Query("cursor"); c != "" {
		q.After = new(store.CustomerCursor)
		if err := api.DecodeCursor(c, q.After); err != nil {
			return api.Response{}, err
		}
	}
	page, err := h.store.ListCustomers(ctx, r.Tenant, q)
	if err != nil {
		return api.Response{}, err
	}
	out := view.Page[view.Headline]{Items: make([]view.Headline, 0, len(page.Items))}
	for _, s := range page.Items {
		out.Items = append(out.Items, view.SummaryHeadline(s))
	}
	if out.NextCursor, err = api.NextCursor(page.Next, page.Next != nil); err != nil {
		return api.Response{}, err
	}
	return api.JSON(http.StatusOK, out)
}

// sortParam reads ?sort=: name (the default), usage or deployment, with a
// leading '-' for descending.
func sortParam(s string) (store.CustomerSort, bool, error) {
	if s == "" {
		return store.SortByName, false, nil
	}
	desc := strings.HasPrefix(s, "-")
	switch order := store.CustomerSort(strings.TrimPrefix(s, "-")); order {
	case store.SortByName, store.SortByUsage, store.SortByDeployment:
		return order, desc, nil
	}
	return "", false, api.BadRequest("sort must be one of name, usage, deployment, with a leading - for descending (e.g. -usage)", api.Detail{Field: "sort", Value: s})
}

// HistoryPoint is one report date of a customer's history: the headline
// figures of the default window.
type HistoryPoint struct {
	Date                  string   `json:"date"`
	LicensesSold          int      `json:"licensesSold"`
	LicensesAssigned      int      `json:"licensesAssigned"`
	DeploymentPercent     *float64 `json:"deploymentPercent"`
	Unassigned            int      `json:"unassigned"`
	Entitlements          int      `json:"entitlements"`
	ActiveEntitlements    int      `json:"activeEntitlements"`
	UsagePercent          *float64 `json:"usagePercent"`
	AdjustedUsagePercent  *float64 `json:"adjustedUsagePercent"`
	InactiveLicensedUsers int      `json:"inactiveLicensedUsers"`
	Band                  string   `json:"band"`
	// Replaced is the kind of document the partner replaced on purpose
	// that day (?replace=true).
	Replaced string `json:"replaced,omitempty"`
}

func historyPointOf(s store.Summary) HistoryPoint {
	usage := license.Percent(s.ActiveEntitlements, s.Entitlements)
	return HistoryPoint{
		Date:                  s.ReportDate.String(),
		LicensesSold:          s.Sold,
		LicensesAssigned:      s.Assigned,
		DeploymentPercent:     license.Percent(s.Assigned, s.Sold),
		Unassigned:            s.Unassigned,
		Entitlements:          s.Entitlements,
		ActiveEntitlements:    s.ActiveEntitlements,
		UsagePercent:          usage,
		AdjustedUsagePercent:  license.Percent(s.CountedActive, s.Entitlements),
		InactiveLicensedUsers: s.InactiveLicensedUsers,
		Band:                  string(license.BandOf(usage)),
		Replaced:              s.Replaced,
	}
}

// historyCursor continues a customer's history after a date.
type historyCursor struct {
	Customer string       `json:"c"`
	After    license.Date `json:"a"`
}

// history answers GET /v1/customers/{customerId}/history.
func (h *Handler) history(ctx context.Context, r *api.Request) (api.Response, error) {
	id, err := r.CustomerID()
	if err != nil {
		return api.Response{}, err
	}
	q := store.HistoryQuery{}
	if q.Limit, err = r.QueryInt("limit", DefaultPageSize, 1, store.MaxPageSize); err != nil {
		return api.Response{}, err
	}
	if q.From, err = r.QueryDate("from"); err != nil {
		return api.Response{}, err
	}
	if q.To, err = r.QueryDate("to"); err != nil {
		return api.Response{}, err
	}
	if !q.From.IsZero() && !q.To.IsZero() && q.From > q.To {
		return api.Response{}, api.BadRequest(fmt.Sprintf("from (%s) is after to (%s)", q.From, q.To), api.Detail{Field: "from", Value: q.From.String()})
	}
	if s := r.Query("cursor"); s != "" {
		var c historyCursor
		if err := api.DecodeCursor(s, &c); err != nil {
			return api.Response{}, err
		}
		if c.Customer != id || c.After.IsZero() {
			return api.Response{}, api.BadRequest("cursor does not continue this customer's history", api.Detail{Field: "cursor"})
		}
		q.After = c.After
	}
	ctx = observe.WithAttrs(ctx, slog.String("customer", id))
	page, err := h.store.History(ctx, r.Tenant, id, q)
	if errors.Is(err, store.ErrNotFound) {
		return api.Response{}, api.NotFound("customer", id)
	}
	if err != nil {
		return api.Response{}, err
	}
	out := view.Page[HistoryPoint]{Items: make([]HistoryPoint, 0, len(page.Items))}
	for _, s := range page.Items {
		out.Items = append(out.Items, historyPointOf(s))
	}
	if out.NextCursor, err = api.NextCursor(historyCursor{Customer: id, After: page.Next}, !page.Next.IsZero()); err != nil {
		return api.Response{}, err
	}
	return api.JSON(http.StatusOK, out)
}
