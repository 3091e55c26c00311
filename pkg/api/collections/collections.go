// Package collections is the CollectFunction: the collection routes and
// the daily schedule's run (it lists the customers and enqueues one message
// each; pkg/worker/collector takes them from the queue). The rules live in
// pkg/collect; this package decodes, calls them and encodes.
package collections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/licenseinsights/licenseinsights/pkg/api"
	"github.com/licenseinsights/licenseinsights/pkg/collect"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/store"
	"github.com/licenseinsights/licenseinsights/pkg/view"
)

// Handler serves both functions.
type Handler struct {
	store    *store.Store
	runner   *collect.Runner
	settings collect.Settings
	router   *api.Router
}

// New builds the CollectFunction's handler on the store and the collection
// runner (pkg/app wires them; its entry point is Invoke).
func New(st *store.Store, runner *collect.Runner, s collect.Settings) *Handler {
	h := &Handler{store: st, runner: runner, settings: s}
	rt := api.NewRouter()
	rt.Write(http.MethodPost, "/v1/collections", h.start)
	rt.Read(http.MethodGet, "/v1/collections", h.list)
	rt.Read(http.MethodGet, "/v1/collections/{collectionId}", h.get)
	rt.Write(http.MethodPut, "/v1/collection/customers", h.putCustomers)
	rt.Read(http.MethodGet, "/v1/collection/customers", h.getCustomers)
	h.router = rt
	return h
}

// Router is the API part.
func (h *Handler) Router() *api.Router { return h.router }

// Runner is the collection runner (the local stack starts a run with it).
func (h *Handler) Runner() *collect.Runner { return h.runner }

// ScheduleEvent is the schedule's input (template.yaml CollectSchedule).
type ScheduleEvent struct {
	Collect string `json:"collect"` // "schedule"
}

// Invoke takes API Gateway proxy events and the schedule's event.
func (h *Handler) Invoke(ctx context.Context, payload json.RawMessage) (any, error) {
	var probe struct {
		Collect    string `json:"collect"`
		HTTPMethod string `json:"httpMethod"`
	}
	_ = json.Unmarshal(payload, &probe)
	if probe.Collect != "" && probe.HTTPMethod == "" {
		return h.Scheduled(ctx)
	}
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("decoding API Gateway event: %w", err)
	}
	return h.router.Handle(ctx, ev)
}

// Scheduled starts the daily run for COLLECT_TENANT; without one the
// schedule is off (nil, nil), which a deployment that has not connected
// Microsoft yet expects.
func (h *Handler) Scheduled(ctx context.Context) (*store.Collection, error) {
	if h.settings.Tenant == "" {
		slog.WarnContext(ctx, "scheduled collection skipped: COLLECT_TENANT (template parameter CollectTenant) is empty")
		return nil, nil
	}
	t, err := license.NewTenant(h.settings.Tenant)
	if err != nil {
		return nil, fmt.Errorf("COLLECT_TENANT=%q: set it to the tenant (the authorizer's tenant claim) whose customers the schedule collects: %w", h.settings.Tenant, err)
	}
	run, err := h.runner.Start(ctx, t, "schedule", nil)
	if err != nil {
		return nil, err
	}
	slog.InfoContext(ctx, "scheduled collection started", "collection", run.ID, "customers", run.Counts[store.CollectPending], "status", run.Status)
	return run, nil
}

type startRequest struct {
	CustomerIDs *[]string `json:"customerIds"`
}

func (h *Handler) start(ctx context.Context, r *api.Request) (api.Response, error) {
	var req startRequest
	if body, _ := r.Body(); len(body) > 0 {
		if err := r.DecodeJSON(&req); err != nil {
			return api.Response{}, err
		}
	}
	var ids []string
	if req.CustomerIDs != nil {
		var err error
		if ids, err = collect.NormalizeCustomerIDs(*req.CustomerIDs); err != nil {
			return api.Response{}, api.BadRequest(err.Error(), api.Detail{Field: "customerIds"})
		}
		if len(ids) == 0 {
			return api.Response{}, api.BadRequest("customerIds is empty: list at least one customer tenant id, or leave customerIds out to collect every customer", api.Detail{Field: "customerIds"})
		}
	}
	run, err := h.runner.Start(ctx, r.Tenant, "api", ids)
	if err != nil {
		return api.Response{}, err
	}
	return api.JSON(http.StatusAccepted, runOf(*run))
}

// Run is a run as the API shows it.
type Run struct {
	CollectionID string         `json:"collectionId"`
	Trigger      string         `json:"trigger"`
	Status       string         `json:"status"`
	Reason       *string        `json:"reason"`
	StartedAt    time.Time      `json:"startedAt"`
	FinishedAt   *time.Time     `json:"finishedAt"`
	Counts       map[string]int `json:"counts"`
}

func runOf(c store.Collection) Run {
	r := Run{CollectionID: c.ID, Trigger: c.Trigger, Status: c.Status, StartedAt: c.StartedAt, FinishedAt: c.FinishedAt, Counts: map[string]int{}}
	if c.Reason != "" {
		r.Reason = &c.Reason
	}
	for _, s := range store.CollectStates {
		r.Counts[s] = c.Counts[s]
	}
	return r
}

type listCursor struct {
	After string `json:"a"`
}

func (h *Handler) list(ctx context.Context, r *api.Request) (api.Response, error) {
	var cur listCursor
	limit, err := r.Page(&cur)
	if err != nil {
		return api.Response{}, err
	}
	runs, next, err := h.store.Collections(ctx, r.Tenant, limit, cur.After)
	if err != nil {
		return api.Response{}, err
	}
	page := view.Page[Run]{Items: make([]Run, 0, len(runs))}
	for _, c := range runs {
		page.Items = append(page.Items, runOf(c))
	}
	if page.NextCursor, err = cursor(next); err != nil {
		return api.Response{}, err
	}
	return api.JSON(http.StatusOK, page)
}

func cursor(next string) (*string, error) {
	return api.NextCursor(listCursor{After: next}, next != "")
}

// Outcome is one customer of a run as the API shows it.
type Outcome struct {
	CustomerID string               `json:"customerId"`
	Name       *string              `json:"name"`
	State      string               `json:"state"`
	Code       *string              `json:"code"`
	Message    *string              `json:"message"`
	Problems   []any                `json:"problems"`
	Documents  []store.CollectedDoc `json:"documents"`
	Attempts   int                  `json:"attempts"`
	UpdatedAt  time.Time            `json:"updatedAt"`
}

func outcomeOf(o store.CollectOutcome) Outcome {
	out := Outcome{CustomerID: o.CustomerID, State: o.State, Problems: o.Problems, Documents: o.Documents, Attempts: o.Attempts, UpdatedAt: o.UpdatedAt}
	if o.Name != "" {
		out.Name = &o.Name
	}
	if o.Code != "" {
		out.Code = &o.Code
	}
	if o.Message != "" {
		out.Message = &o.Message
	}
	if out.Problems == nil {
		out.Problems = []any{}
	}
	if out.Documents == nil {
		out.Documents = []store.CollectedDoc{}
	}
	return out
}

type runPage struct {
	Run
	Customers  []Outcome `json:"customers"`
	NextCursor *string   `json:"nextCursor"`
}

func (h *Handler) get(ctx context.Context, r *api.Request) (api.Response, error) {
	id := r.PathParam("collectionId")
	var cur listCursor
	limit, err := r.Page(&cur)
	if err != nil {
		return api.Response{}, err
	}
	run, err := h.store.GetCollection(ctx, r.Tenant, id)
	if errors.Is(err, store.ErrNotFound) {
		return api.Response{}, api.NotFound("collection", id)
	}
	if err != nil {
		return api.Response{}, err
	}
	outs, next, err := h.store.CollectOutcomes(ctx, r.Tenant, id, limit, cur.After)
	if err != nil {
		return api.Response{}, err
	}
	page := runPage{Run: runOf(*run), Customers: make([]Outcome, 0, len(outs))}
	for _, o := range outs {
		page.Customers = append(page.Customers, outcomeOf(o))
	}
	if page.NextCursor, err = cursor(next); err != nil {
		return api.Response{}, err
	}
	return api.JSON(http.StatusOK, page)
}

type customersBody struct {
	CustomerIDs []string `json:"customerIds"`
}

type customersAnswer struct {
	CustomerIDs []string `json:"customerIds"`
	// Source is "list" (the partner's own list) or "partner-center" (no
	// list: every customer Partner Center lists is collected).
	Source    string  `json:"source"`
	UpdatedAt *string `json:"updatedAt"`
}

func (h *Handler) putCustomers(ctx context.Context, r *api.Request) (api.Response, error) {
	var req customersBody
	if err := r.DecodeJSON(&req); err != nil {
		return api.Response{}, err
	}
	if req.CustomerIDs == nil {
		return api.Response{}, api.BadRequest("customerIds is required: the customer tenant ids to collect (an empty list collects none)", api.Detail{Field: "customerIds"})
	}
	ids, err := collect.NormalizeCustomerIDs(req.CustomerIDs)
	if err != nil {
		return api.Response{}, api.BadRequest(err.Error(), api.Detail{Field: "customerIds"})
	}
	if err := h.store.PutCollectCustomers(ctx, r.Tenant, ids, time.Now()); err != nil {
		return api.Response{}, err
	}
	return h.getCustomers(ctx, r)
}

func (h *Handler) getCustomers(ctx context.Context, r *api.Request) (api.Response, error) {
	if r.Event.HTTPMethod == http.MethodGet {
		// The list is one item, never paged: a parameter is a mistake
		// (a cursor or limit from another route), said rather than ignored.
		for name, v := range r.Event.QueryStringParameters {
			return api.Response{}, api.BadRequest("GET /v1/collection/customers takes no query parameter: the whole list is one answer", api.Detail{Field: name, Value: v})
		}
	}
	ids, updated, ok, err := h.store.CollectCustomers(ctx, r.Tenant)
	if err != nil {
		return api.Response{}, err
	}
	ans := customersAnswer{CustomerIDs: ids, Source: "partner-center"}
	if ok {
		ans.Source = "list"
		ans.UpdatedAt = &updated
	}
	if ans.CustomerIDs == nil {
		ans.CustomerIDs = []string{}
	}
	return api.JSON(http.StatusOK, ans)
}
