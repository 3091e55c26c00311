// Package portfolio is the PortfolioFunction: the tenant's portfolio
// (GET /v1/portfolio), its daily history (GET /v1/portfolio/history) and the
// Partner Center–compatible analytics rows
// (GET /v1/analytics/licenses/deployment and .../usage).
//
// The portfolio costs the same for 10 customers as for 50,000: one
// BatchGetItem of the roll-up shards the AggregateFunction maintains, plus
// one Query per ranked list on the index kept in that list's order, each
// reading only the top entries. The four reads run at once. The history is
// one Query over the roll-up's daily items.
//
// The analytics rows are a listing, like Partner Center's export: they are
// made from every customer's FIGURES item (the customers-by-name index page
// by page, the FIGURES items by BatchGetItem), so their cost grows with the
// number of customers; totalCount needs every row anyway. Filtering,
// grouping and paging happen in memory (pkg/analytics).
package portfolio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/licenseinsights/licenseinsights/pkg/config"
	"net/http"
	"strconv"
	"time"

	"github.com/licenseinsights/licenseinsights/pkg/analytics"
	"github.com/licenseinsights/licenseinsights/pkg/api"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/observe"
	"github.com/licenseinsights/licenseinsights/pkg/store"
	"github.com/licenseinsights/licenseinsights/pkg/view"
)

// The routes, exactly as template.yaml's PortfolioFunction events name them.
const (
	RoutePortfolio  = "/v1/portfolio"
	RouteHistory    = "/v1/portfolio/history"
	RouteDeployment = "/v1/analytics/licenses/deployment"
	RouteUsage      = "/v1/analytics/licenses/usage"
)

// Sizes of the lists.
const (
	DefaultTop      = 10  // ranked list entries when ?top= is absent
	MaxTop          = 100 // most ranked list entries
	DefaultPageSize = 50  // history days per page
	MaxPageSize     = 500
	// historyDays is how far back the history goes when ?from= is absent:
	// as far as the roll-up keeps it.
	historyDays = int(store.PortfolioHistoryRetention / (24 * time.Hour))
	// maxResponseBytes keeps an analytics page inside Lambda's 6 MB
	// response, with room for the JSON escaping of the body in the proxy
	// response.
	maxResponseBytes = 5 << 20
)

// Handler serves the PortfolioFunction's routes.
type Handler struct {
	store  *store.Store
	router *api.Router
	now    func() time.Time
	// copilotHabitualDays is COPILOT_HABITUAL_DAYS.
	copilotHabitualDays int
	// defaultPrices (SKU_MONTHLY_PRICES) and renewalDays (RENEWAL_DAYS)
	// serve the reclaim calendar.
	defaultPrices *license.PriceList
	renewalDays   int
}

// New builds the PortfolioFunction's handler on its store (pkg/app wires
// it into the Lambda function).
func New(st *store.Store, cfg config.Config) *Handler {
	h := &Handler{store: st, now: time.Now, copilotHabitualDays: cfg.CopilotHabitual(),
		defaultPrices: license.PriceListOf(cfg.SKUMonthlyPrices, cfg.Currency), renewalDays: cfg.Thresholds().RenewalDays}
	rt := api.NewRouter()
	rt.Read(http.MethodGet, RoutePortfolio, h.portfolio)
	rt.Read(http.MethodGet, RouteHistory, h.history)
	rt.Read(http.MethodGet, RouteDeployment, h.analytics(analytics.Deployment, RouteDeployment))
	rt.Read(http.MethodGet, RouteUsage, h.analytics(analytics.Usage, RouteUsage))
	rt.Read(http.MethodGet, RouteReclaim, h.reclaim)
	h.router = rt
	return h
}

// Router is the API part.
func (h *Handler) Router() *api.Router { return h.router }

// Portfolio is GET /v1/portfolio: the blocks of docs/definitions.md#insights-and-portfolio summed over customers,
// the customers per adoption band and the ranked lists.
type Portfolio struct {
	WindowDays int                `json:"windowDays"`
	Customers  int                `json:"customers"`
	Bands      license.BandCounts `json:"bands"`
	view.Blocks
	LowestUsage      []view.Headline `json:"lowestUsage"`
	MostUnassigned   []view.Headline `json:"mostUnassigned"`
	UpsellCandidates []view.Headline `json:"upsellCandidates"`
	// Copilot sums the customers' Copilot figures (docs/definitions.md#copilot); absent while
	// no customer has any. MostIdleCopilot ranks customers by idle seats.
	Copilot         *view.Copilot         `json:"copilot,omitempty"`
	MostIdleCopilot []view.CopilotRanking `json:"mostIdleCopilot"`
}

func (h *Handler) portfolio(ctx context.Context, r *api.Request) (api.Response, error) {
	window, err := r.Window()
	if err != nil {
		return api.Response{}, err
	}
	top, err := r.QueryInt("top", DefaultTop, 1, MaxTop)
	if err != nil {
		return api.Response{}, err
	}
	var read *store.PortfolioRead
	err = observe.Step(ctx, observe.StepRead, func(ctx context.Context) error {
		read, err = h.store.ReadPortfolio(ctx, r.Tenant, top)
		return err
	})
	if err != nil {
		return api.Response{}, err
	}
	p := &read.Rollup.Portfolio
	return api.JSON(http.StatusOK, Portfolio{
		WindowDays:       window,
		Customers:        p.Customers,
		Bands:            p.Bands,
		Blocks:           view.PortfolioBlocks(p, window),
		LowestUsage:      headlines(read.LowestUsage),
		MostUnassigned:   headlines(read.MostUnassigned),
		UpsellCandidates: headlines(read.UpsellCandidates),
		Copilot:          view.CopilotOf(p.Copilot.Figures(), window, h.copilotHabitualDays),
		MostIdleCopilot:  copilotRankings(read.MostIdleCopilot),
	})
}

func headlines(list []store.Summary) []view.Headline {
	out := make([]view.Headline, 0, len(list))
	for _, s := range list {
		out = append(out, view.SummaryHeadline(s))
	}
	return out
}

// HistoryPoint is the portfolio on one day: the headline figures of the
// default window, summed over customers, and the customers per band.
type HistoryPoint struct {
	Date                  string             `json:"date"`
	Customers             int                `json:"customers"`
	Bands                 license.BandCounts `json:"bands"`
	LicensesSold          int                `json:"licensesSold"`
	SoldByChannel         view.SoldByChannel `json:"soldByChannel"`
	LicensesAssigned      int                `json:"licensesAssigned"`
	DeploymentPercent     *float64           `json:"deploymentPercent"`
	Entitlements          int                `json:"entitlements"`
	ActiveEntitlements    int                `json:"activeEntitlements"`
	UsagePercent          *float64           `json:"usagePercent"`
	AdjustedUsagePercent  *float64           `json:"adjustedUsagePercent"`
	InactiveLicensedUsers int                `json:"inactiveLicensedUsers"`
}

func historyPointOf(d store.PortfolioDay) HistoryPoint {
	x := d.Headline
	return HistoryPoint{
		Date:                  d.Date.String(),
		Customers:             x.Customers,
		Bands:                 x.Bands,
		LicensesSold:          x.Sold.Total(),
		SoldByChannel:         view.SoldByChannel{Own: x.Sold.Own, Partner: x.Sold.Partner, Direct: x.Sold.Direct, Unknown: x.Sold.Unknown},
		LicensesAssigned:      x.Assigned,
		DeploymentPercent:     license.Percent(x.Assigned, x.Sold.Total()),
		Entitlements:          x.Entitlements,
		ActiveEntitlements:    x.Active,
		UsagePercent:          license.Percent(x.Active, x.Entitlements),
		AdjustedUsagePercent:  license.Percent(x.CountedActive, x.Entitlements),
		InactiveLicensedUsers: x.InactiveLicensedUsers,
	}
}

// historyCursor continues the history after a date.
type historyCursor struct {
	After license.Date `json:"a"`
}

// history answers GET /v1/portfolio/history: one item per day in date
// order, from ?from= (default: as far back as kept) to ?to= (default:
// today, UTC), ?limit= days per page, ?cursor= the next page.
func (h *Handler) history(ctx context.Context, r *api.Request) (api.Response, error) {
	limit, err := r.QueryInt("limit", DefaultPageSize, 1, MaxPageSize)
	if err != nil {
		return api.Response{}, err
	}
	to, err := r.QueryDate("to")
	if err != nil {
		return api.Response{}, err
	}
	if to.IsZero() {
		to = license.DateOf(h.now())
	}
	from, err := r.QueryDate("from")
	if err != nil {
		return api.Response{}, err
	}
	if from.IsZero() {
		from = to.AddDays(-historyDays)
	}
	if from > to {
		return api.Response{}, api.BadRequest(fmt.Sprintf("from (%s) is after to (%s)", from, to), api.Detail{Field: "from", Value: from.String()})
	}
	if s := r.Query("cursor"); s != "" {
		var c historyCursor
		if err := api.DecodeCursor(s, &c); err != nil {
			return api.Response{}, err
		}
		if c.After.IsZero() {
			return api.Response{}, api.BadRequest("cursor does not continue the portfolio history", api.Detail{Field: "cursor"})
		}
		from = max(from, c.After.AddDays(1))
	}
	out := view.Page[HistoryPoint]{Items: []HistoryPoint{}}
	if from > to {
		return api.JSON(http.StatusOK, out)
	}
	var days []store.PortfolioDay
	err = observe.Step(ctx, observe.StepRead, func(ctx context.Context) error {
		days, err = h.store.PortfolioHistory(ctx, r.Tenant, from, to)
		return err
	})
	if err != nil {
		return api.Response{}, err
	}
	for i, d := range days {
		if i == limit {
			if out.NextCursor, err = api.NextCursor(historyCursor{After: days[i-1].Date}, true); err != nil {
				return api.Response{}, err
			}
			break
		}
		out.Items = append(out.Items, historyPointOf(d))
	}
	return api.JSON(http.StatusOK, out)
}

// paramDetail is the detail of a malformed analytics parameter: where in
// the value the problem is.
type paramDetail struct {
	Field    string `json:"field"`
	Value    string `json:"value"`
	Position int    `json:"position,omitempty"`
	Reason   string `json:"reason"`
}

// analytics answers one of the Partner Center–compatible routes:
// {"value": [...], "@nextLink": ..., "totalCount": n}. Parameters are
// Partner Center's top, skip, filter and groupby (also accepted with
// OData's leading $); the usage rows also take ?window= (default 28 days).
func (h *Handler) analytics(ds *analytics.Dataset, route string) api.HandlerFunc {
	return func(ctx context.Context, r *api.Request) (api.Response, error) {
		param := func(name string) string {
			if v := r.Query(name); v != "" {
				return v
			}
			return r.Query("$" + name)
		}
		q, err := analytics.ParseQuery(ds, analytics.Params{
			Top: param("top"), Skip: param("skip"), Filter: param("filter"), GroupBy: param("groupby"),
		})
		var bad *analytics.Error
		if errors.As(err, &bad) {
			return api.Response{}, api.BadRequest(bad.Error(), paramDetail{Field: bad.Param, Value: bad.Value, Position: bad.Position, Reason: bad.Reason})
		}
		if err != nil {
			return api.Response{}, err
		}
		window := license.DefaultWindow
		if ds == analytics.Usage {
			if window, err = r.Window(); err != nil {
				return api.Response{}, err
			}
		}
		var rows []analytics.Row
		err = observe.Step(ctx, observe.StepRead, func(ctx context.Context) error {
			return h.store.EachCustomerFigures(ctx, r.Tenant, func(c store.CustomerFiguresRef) error {
				if ds == analytics.Usage {
					rows = analytics.UsageRows(rows, c.CustomerID, &c.Figures, window, c.UpdatedAt)
				} else {
					rows = analytics.DeploymentRows(rows, c.CustomerID, &c.Figures, c.UpdatedAt)
				}
				return nil
			})
		})
		if err != nil {
			return api.Response{}, err
		}
		page, total := q.Run(rows)
		path := r.Event.Path
		if path == "" {
			path = route
		}
		out := q.Encode(page, total, maxResponseBytes, func(written int) string {
			link := q.NextLink(path, written)
			if window != license.DefaultWindow {
				link += "&window=" + strconv.Itoa(window)
			}
			return link
		})
		return api.JSON(http.StatusOK, json.RawMessage(out.Body))
	}
}
