// Package reports is the IngestFunction: documents posted directly
// (POST /v1/customers/{customerId}/reports), large documents uploaded
// through presigned URLs (POST /v1/uploads, GET /v1/uploads/{uploadId}) and
// the S3 "Object Created" events (through EventBridge) that ingest them.
package reports

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/licenseinsights/licenseinsights/pkg/api"
	"github.com/licenseinsights/licenseinsights/pkg/api/prices"
	"github.com/licenseinsights/licenseinsights/pkg/blob"
	"github.com/licenseinsights/licenseinsights/pkg/config"
	"github.com/licenseinsights/licenseinsights/pkg/ingest"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/observe"
	"github.com/licenseinsights/licenseinsights/pkg/source"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

// Handler serves the ingest routes and upload events.
type Handler struct {
	ingest *ingest.Service
	store  *store.Store
	blob   *blob.Store
	cfg    config.Config
	router *api.Router
	now    func() time.Time
}

// New builds the IngestFunction's handler: its routes and the upload
// events, on the ingest service, the store and the bucket (pkg/app wires it
// into the Lambda function, whose entry point is Invoke).
func New(ing *ingest.Service, st *store.Store, b *blob.Store, cfg config.Config) *Handler {
	h := &Handler{
		ingest: ing,
		store:  st,
		blob:   b,
		cfg:    cfg,
		now:    time.Now,
	}
	rt := api.NewRouter()
	rt.Write(http.MethodPost, "/v1/customers/{customerId}/reports", h.postReport)
	rt.Write(http.MethodPost, "/v1/uploads", h.createUpload)
	rt.Read(http.MethodGet, "/v1/uploads/{uploadId}", h.getUpload)
	prices.Register(rt, st, license.PriceListOf(cfg.SKUMonthlyPrices, cfg.Currency))
	h.router = rt
	return h
}

// Router is the API part (the local stack and tests list its routes).
func (h *Handler) Router() *api.Router { return h.router }

// Invoke takes the function's two kinds of event: API Gateway proxy
// requests and EventBridge S3 events, told apart by EventBridge's
// "detail-type".
func (h *Handler) Invoke(ctx context.Context, payload json.RawMessage) (any, error) {
	var probe struct {
		DetailType string `json:"detail-type"`
	}
	_ = json.Unmarshal(payload, &probe)
	if probe.DetailType != "" {
		var ev events.EventBridgeEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("decoding EventBridge event: %w", err)
		}
		return nil, h.ObjectCreated(ctx, ev)
	}
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("decoding API Gateway event: %w", err)
	}
	return h.router.Handle(ctx, ev)
}

func (h *Handler) postReport(ctx context.Context, r *api.Request) (api.Response, error) {
	customerID, err := r.CustomerID()
	if err != nil {
		return api.Response{}, err
	}
	kind, err := kindParam(r.Query("kind"))
	if err != nil {
		return api.Response{}, err
	}
	skip, err := r.QueryBool("skipInvalid")
	if err != nil {
		return api.Response{}, err
	}
	body, err := r.Body()
	if err != nil {
		return api.Response{}, err
	}
	if len(body) > api.MaxBodyBytes {
		return api.Response{}, api.TooLarge()
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return api.Response{}, api.BadRequest("the body is empty: send the document as the request body")
	}
	ctx = observe.WithAttrs(ctx, slog.String("customer", customerID))
	ctx = observe.Annotate(ctx, "customer", customerID)
	out, err := h.ingest.Ingest(ctx, ingest.Request{
		Tenant: r.Tenant, CustomerID: customerID, Kind: kind,
		Body: bytes.NewReader(body), SkipInvalid: skip, Now: h.now(),
	})
	if err != nil {
		observe.Emit(string(kind), observe.Metric{Name: observe.DocumentsRejected, Value: 1, Unit: observe.Count})
		return api.Response{}, ingestError(err)
	}
	emitIngested(out)
	return api.JSON(http.StatusOK, out)
}

func emitIngested(out *ingest.Outcome) {
	observe.Emit(string(out.Kind),
		observe.Metric{Name: observe.DocumentsIngested, Value: 1, Unit: observe.Count},
		observe.Metric{Name: observe.RowsIngested, Value: float64(out.Rows), Unit: observe.Count})
}

func kindParam(s string) (source.Kind, error) {
	if s == "" {
		return "", nil
	}
	k, err := source.ParseKind(s)
	if err != nil {
		return "", api.BadRequest("kind must be one of snapshot, graph-subscribed-skus, graph-active-user-detail, graph-directory-subscriptions, partner-center-subscriptions, graph-organization", api.Detail{Field: "kind", Value: s})
	}
	return k, nil
}

// ingestError maps the ingest service's errors to API errors.
func ingestError(err error) error {
	var invalid *source.InvalidError
	switch {
	case errors.As(err, &invalid):
		details := make([]any, len(invalid.Problems))
		for i, p := range invalid.Problems {
			details[i] = p
		}
		return api.Unprocessable(fmt.Sprintf("the document was rejected whole: %d problem(s); the first %d are listed (line, column, reason). Fix them, or resend with ?skipInvalid=true to skip bad rows", invalid.Total, len(invalid.Problems)), details...)
	case errors.Is(err, ingest.ErrKind):
		return api.BadRequest(err.Error(), api.Detail{Field: "kind"})
	case errors.Is(err, ingest.ErrStale):
		return api.Conflict(err.Error())
	case errors.Is(err, ingest.ErrConflict):
		return api.Conflict("other ingests for this customer kept finishing first; retry")
	case errors.Is(err, license.ErrNoTenant):
		return &api.Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: err.Error()}
	}
	var apiErr *api.Error
	if errors.As(err, &apiErr) {
		return apiErr
	}
	return err
}

// uploadRequest is POST /v1/uploads's body.
type uploadRequest struct {
	CustomerID  string `json:"customerId"`
	Kind        string `json:"kind"`
	SkipInvalid bool   `json:"skipInvalid"`
}

type uploadResponse struct {
	UploadID  string    `json:"uploadId"`
	Status    string    `json:"status"`
	UploadURL string    `json:"uploadUrl"`
	Method    string    `json:"method"`
	ExpiresAt time.Time `json:"expiresAt"`
}

func (h *Handler) createUpload(ctx context.Context, r *api.Request) (api.Response, error) {
	var req uploadRequest
	if err := r.DecodeJSON(&req); err != nil {
		return api.Response{}, err
	}
	if err := license.ValidCustomerID(req.CustomerID); err != nil {
		return api.Response{}, api.BadRequest(err.Error(), api.Detail{Field: "customerId", Value: req.CustomerID})
	}
	// Stored as parsed (trimmed, lower case): the upload's status echoes
	// it, and must show one of the kinds, not the caller's spelling.
	kind, err := kindParam(req.Kind)
	if err != nil {
		return api.Response{}, err
	}
	now := h.now().UTC()
	id := newID(now)
	if err := h.store.CreateUpload(ctx, r.Tenant, store.Upload{
		ID: id, CustomerID: req.CustomerID, Kind: string(kind), SkipInvalid: req.SkipInvalid, CreatedAt: now,
	}); err != nil {
		return api.Response{}, err
	}
	key, err := blob.UploadKey(r.Tenant, id)
	if err != nil {
		return api.Response{}, err
	}
	url, err := h.blob.PresignPut(ctx, key, h.cfg.UploadLink)
	if err != nil {
		return api.Response{}, err
	}
	return api.JSON(http.StatusCreated, uploadResponse{
		UploadID: id, Status: store.UploadPending, UploadURL: url, Method: http.MethodPut,
		ExpiresAt: now.Add(h.cfg.UploadLink),
	})
}

func (h *Handler) getUpload(ctx context.Context, r *api.Request) (api.Response, error) {
	id := r.PathParam("uploadId")
	u, err := h.store.GetUpload(ctx, r.Tenant, id)
	if errors.Is(err, store.ErrNotFound) {
		return api.Response{}, api.NotFound("upload", id)
	}
	if err != nil {
		return api.Response{}, err
	}
	return api.JSON(http.StatusOK, u)
}

// s3Detail is the part of an EventBridge "Object Created" event we read.
type s3Detail struct {
	Bucket struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object struct {
		Key  string `json:"key"`
		Size int64  `json:"size"`
	} `json:"object"`
}

// ObjectCreated ingests an uploaded document. The object key names the
// tenant and the upload; the upload record names the customer and kind. A
// redelivered event for an upload already taken does nothing; an upload
// that fails validation is recorded as failed with the problems, and is not
// retried (a retry would fail the same way).
func (h *Handler) ObjectCreated(ctx context.Context, ev events.EventBridgeEvent) error {
	var d s3Detail
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		return fmt.Errorf("decoding the S3 event detail: %w", err)
	}
	if d.Bucket.Name != h.blob.Bucket() {
		slog.WarnContext(ctx, "object of another bucket ignored", "bucket", d.Bucket.Name)
		return nil
	}
	rest, ok := strings.CutPrefix(d.Object.Key, blob.UploadsPrefix)
	tenantID, id, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || strings.Contains(id, "/") {
		slog.WarnContext(ctx, "object outside uploads/<tenant>/<id> ignored", "key", d.Object.Key)
		return nil
	}
	tenant, err := license.NewTenant(tenantID)
	if err != nil {
		slog.WarnContext(ctx, "object with an invalid tenant ignored", "key", d.Object.Key)
		return nil
	}
	ctx = observe.WithAttrs(ctx, slog.String("tenant", tenant.ID()), slog.String("upload", id))
	ctx = observe.Annotate(ctx, "tenant", tenant.ID())

	u, err := h.store.StartUpload(ctx, tenant, id, h.now().UTC())
	if errors.Is(err, store.ErrUploadTaken) || errors.Is(err, store.ErrNotFound) {
		slog.InfoContext(ctx, "upload event ignored", "reason", err.Error())
		return nil
	}
	if err != nil {
		return err
	}
	ctx = observe.WithAttrs(ctx, slog.String("customer", u.CustomerID))
	ctx = observe.Annotate(ctx, "customer", u.CustomerID)

	body, _, err := h.blob.Open(ctx, d.Object.Key)
	if err != nil {
		return err // the lease lets a retry take over
	}
	defer body.Close()
	kind, err := kindParam(u.Kind)
	var out *ingest.Outcome
	if err == nil {
		out, err = h.ingest.Ingest(ctx, ingest.Request{
			Tenant: tenant, CustomerID: u.CustomerID, Kind: kind,
			Body: body, SkipInvalid: u.SkipInvalid, Now: h.now(),
		})
	}
	if err != nil {
		mapped := ingestError(err)
		var apiErr *api.Error
		if !errors.As(mapped, &apiErr) {
			return err // infrastructure: let EventBridge retry after the lease
		}
		observe.Emit(u.Kind, observe.Metric{Name: observe.DocumentsRejected, Value: 1, Unit: observe.Count})
		return h.store.FinishUpload(ctx, tenant, u, store.UploadFailed, map[string]any{
			"error": map[string]any{"code": apiErr.Code, "message": apiErr.Message, "details": nonNil(apiErr.Details)},
		}, h.now().UTC())
	}
	emitIngested(out)
	slog.InfoContext(ctx, "upload ingested", "rows", out.Rows, "status", out.Status)
	return h.store.FinishUpload(ctx, tenant, u, store.UploadSucceeded, out, h.now().UTC())
}

func nonNil(d []any) []any {
	if d == nil {
		return []any{}
	}
	return d
}

// newID is time-ordered (sortable) and unguessable.
func newID(now time.Time) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return now.Format("20060102t150405") + "-" + hex.EncodeToString(b[:])
}
