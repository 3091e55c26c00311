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
	rt.Write(http.MethodDelete, "/v1/customers/{customerId}", h.deleteCustomer)
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
	replace, err := r.QueryBool("replace")
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
		Body: bytes.NewReader(body), SkipInvalid: skip, Replace: replace, Now: h.now(),
	})
	if err != nil {
		observe.Emit(string(kind), observe.Metric{Name: observe.DocumentsRejected, Value: 1, Unit: observe.Count})
		return api.Response{}, err
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
		return "", api.BadRequest(err.Error(), api.Detail{Field: "kind", Value: s})
	}
	return k, nil
}

// deleteCustomer answers DELETE /v1/customers/{customerId}: the customer's
// items (store.DeleteCustomer; the roll-up follows from the stream), then
// the documents stored for it alone: uploads and single-customer exports,
// objects before records, so that a failure leaves a record to retry from.
// Repeating it finishes what a failed one left; 404 once nothing is left.
func (h *Handler) deleteCustomer(ctx context.Context, r *api.Request) (api.Response, error) {
	id, err := r.CustomerID()
	if err != nil {
		return api.Response{}, err
	}
	ctx = observe.WithAttrs(ctx, slog.String("customer", id))
	uploads, exports, err := h.store.CustomerDocuments(ctx, r.Tenant, id)
	if err != nil {
		return api.Response{}, err
	}
	err = h.store.DeleteCustomer(ctx, r.Tenant, id)
	if errors.Is(err, store.ErrNotFound) && len(uploads) == 0 && len(exports) == 0 {
		return api.Response{}, api.NotFound("customer", id)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return api.Response{}, err
	}
	for _, u := range uploads {
		key, err := blob.UploadKey(r.Tenant, u.ID)
		if err != nil {
			return api.Response{}, err
		}
		if err := h.blob.Delete(ctx, key); err != nil {
			return api.Response{}, err
		}
		if err := h.store.DeleteUpload(ctx, r.Tenant, u.ID); err != nil {
			return api.Response{}, err
		}
	}
	for _, j := range exports {
		if j.ObjectKey != "" {
			if err := h.blob.Delete(ctx, j.ObjectKey); err != nil {
				return api.Response{}, err
			}
		}
		if err := h.store.DeleteExport(ctx, r.Tenant, j.ID); err != nil {
			return api.Response{}, err
		}
	}
	slog.InfoContext(ctx, "customer deleted", "uploads", len(uploads), "exports", len(exports))
	return api.JSON(http.StatusOK, deletedCustomer{
		CustomerID: id, UploadsDeleted: len(uploads), ExportsDeleted: len(exports),
		Message: "the customer is deleted; the portfolio drops its figures within seconds. Post a document for this id to start it afresh",
	})
}

// deletedCustomer answers DELETE /v1/customers/{customerId}.
type deletedCustomer struct {
	CustomerID     string `json:"customerId"`
	UploadsDeleted int    `json:"uploadsDeleted"`
	ExportsDeleted int    `json:"exportsDeleted"`
	Message        string `json:"message"`
}

// uploadRequest is POST /v1/uploads's body.
type uploadRequest struct {
	CustomerID  string `json:"customerId"`
	Kind        string `json:"kind"`
	SkipInvalid bool   `json:"skipInvalid"`
	Replace     bool   `json:"replace"`
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
		ID: id, CustomerID: req.CustomerID, Kind: string(kind), SkipInvalid: req.SkipInvalid, Replace: req.Replace, CreatedAt: now,
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
	return api.JSON(http.StatusOK, u.Effective(h.now().UTC()))
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

// Timing of one upload's ingest.
const (
	// uploadLeaseMargin outlasts the invocation's deadline a little (clock
	// skew): a lease runs out only once its holder is surely gone.
	uploadLeaseMargin = 30 * time.Second
	// uploadFinishReserve is kept from the deadline to record the outcome
	// after the work itself is cut off.
	uploadFinishReserve = 15 * time.Second
	// uploadFinishTimeout bounds recording the outcome.
	uploadFinishTimeout = 10 * time.Second
)

// ObjectCreated ingests an uploaded document. The object key names the
// tenant and the upload; the upload record names the customer and kind.
//
// Every upload ends succeeded or failed, however its attempts fail and
// however often the event is delivered:
//   - a delivery claims the upload (pending → processing) with a lease until
//     its invocation's deadline; a delivery that finds it done, or held by a
//     live attempt, does nothing;
//   - the work stops a little before the deadline, so the outcome can still
//     be recorded;
//   - a document that fails validation is failed with its problems (a retry
//     would fail the same way);
//   - any other failure (the store, S3, a bug) releases the claim, with the
//     cause, and returns the error so that Lambda retries the event; the
//     attempt that reaches store.MaxUploadAttempts fails the upload with the
//     cause and what to do instead;
//   - a worker killed outright leaves its lease to run out: a retry takes
//     over, and after the last one the upload reads as failed
//     (store.Upload.Effective).
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

	now := h.now().UTC()
	lease := now.Add(store.DefaultUploadLease)
	deadline, hasDeadline := ctx.Deadline()
	if hasDeadline {
		lease = deadline.Add(uploadLeaseMargin)
	}
	u, err := h.store.StartUpload(ctx, tenant, id, now, lease)
	if errors.Is(err, store.ErrUploadTaken) || errors.Is(err, store.ErrNotFound) {
		slog.InfoContext(ctx, "upload event ignored", "reason", err.Error())
		return nil
	}
	if err != nil {
		return err // nothing was claimed: the retry starts afresh
	}
	ctx = observe.WithAttrs(ctx, slog.String("customer", u.CustomerID), slog.Int("attempt", u.Attempts))
	ctx = observe.Annotate(ctx, "customer", u.CustomerID)

	work, cancel := ctx, context.CancelFunc(func() {})
	if hasDeadline {
		work, cancel = context.WithDeadline(ctx, deadline.Add(-uploadFinishReserve))
	}
	out, err := h.ingestUpload(work, tenant, u, d.Object.Key)
	cancel()

	// The outcome is recorded even when the work's context is what failed.
	finish, cancelFinish := context.WithTimeout(context.WithoutCancel(ctx), uploadFinishTimeout)
	defer cancelFinish()
	if err == nil {
		emitIngested(out)
		slog.InfoContext(ctx, "upload ingested", "rows", out.Rows, "status", out.Status)
		return h.finishUpload(finish, tenant, u, store.UploadSucceeded, out)
	}
	observe.Emit(u.Kind, observe.Metric{Name: observe.DocumentsRejected, Value: 1, Unit: observe.Count})
	if apiErr := api.ErrorOf(err); apiErr != nil {
		return h.finishUpload(finish, tenant, u, store.UploadFailed, map[string]any{
			"error": map[string]any{"code": apiErr.Code, "message": apiErr.Message, "details": nonNil(apiErr.Details)},
		})
	}
	slog.ErrorContext(ctx, "upload attempt failed", "error", err.Error())
	cause := uploadCause(err)
	if u.Attempts >= store.MaxUploadAttempts {
		return h.finishUpload(finish, tenant, u, store.UploadFailed, map[string]any{
			"error": map[string]any{
				"code": "ingest_failed",
				"message": fmt.Sprintf("the document could not be ingested in %d attempts: %s. Nothing was changed; upload it again with POST /v1/uploads, and if it fails again give your operator the upload id %s",
					u.Attempts, cause, u.ID),
				"details": []any{},
			},
		})
	}
	if rerr := h.store.ReleaseUpload(finish, tenant, u, fmt.Sprintf("attempt %d failed: %s; it is retried automatically", u.Attempts, cause)); rerr != nil {
		// The lease runs out instead, and a later delivery takes over.
		slog.WarnContext(ctx, "could not release the upload", "error", rerr.Error())
	}
	return err // Lambda retries the event, which finds the upload pending
}

// ingestUpload reads and ingests the upload's object; a panic is turned
// into an error so that the attempt still releases or fails the upload.
func (h *Handler) ingestUpload(ctx context.Context, tenant license.Tenant, u *store.Upload, key string) (out *ingest.Outcome, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic while ingesting: %v", p)
		}
	}()
	kind, err := kindParam(u.Kind)
	if err != nil {
		return nil, err
	}
	body, _, err := h.blob.Open(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errReadUpload, err)
	}
	defer body.Close()
	return h.ingest.Ingest(ctx, ingest.Request{
		Tenant: tenant, CustomerID: u.CustomerID, Kind: kind,
		Body: body, SkipInvalid: u.SkipInvalid, Replace: u.Replace, Now: h.now(),
	})
}

// finishUpload records the outcome; an attempt that lost its claim (a
// newer attempt took over after its lease) leaves the newer one's outcome.
// An outcome that cannot be recorded releases the upload, so that Lambda's
// retry does the attempt again (an ingest already done answers
// "unchanged": ingesting is idempotent by content) instead of being dropped
// while the lease runs.
func (h *Handler) finishUpload(ctx context.Context, t license.Tenant, u *store.Upload, status string, result any) error {
	claim := *u
	err := h.store.FinishUpload(ctx, t, u, status, result, h.now().UTC())
	switch {
	case errors.Is(err, store.ErrUploadTaken):
		slog.WarnContext(ctx, "upload finished after its lease; the newer attempt's outcome stands")
		return nil
	case err != nil:
		if rerr := h.store.ReleaseUpload(ctx, t, &claim, fmt.Sprintf("attempt %d could not record its outcome; it is retried automatically", claim.Attempts)); rerr != nil {
			slog.WarnContext(ctx, "could not release the upload", "error", rerr.Error())
		}
	}
	return err
}

var errReadUpload = errors.New("the uploaded object could not be read")

// uploadCause says what failed, for the partner, without internals (the
// error itself is logged).
func uploadCause(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "it did not finish within the function's time limit (split the document, or send it per customer)"
	case errors.Is(err, errReadUpload):
		return "the uploaded object could not be read from storage"
	case errors.Is(err, ingest.ErrConflict):
		return "other ingests for this customer kept finishing first"
	}
	return "an internal error (logged with the upload id)"
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
