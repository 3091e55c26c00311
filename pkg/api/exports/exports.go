// Package exports is the ExportFunction: it creates export jobs
// (POST /v1/exports), reports them (GET /v1/exports, GET
// /v1/exports/{exportId}) and signs download links for finished ones
// (POST /v1/exports/{exportId}/link). The files themselves are written by
// the ExportWorkerFunction (pkg/worker/exportworker), which the job item's
// creation starts through the table stream.
//
// Every export route needs the writer role: the files hold per-user data
// (names, activity), and a status answer carries a download link.
package exports

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/licenseinsights/licenseinsights/pkg/api"
	"github.com/licenseinsights/licenseinsights/pkg/blob"
	"github.com/licenseinsights/licenseinsights/pkg/config"
	"github.com/licenseinsights/licenseinsights/pkg/export"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/store"
	"github.com/licenseinsights/licenseinsights/pkg/view"
)

// FormatCSV is the one export format.
const FormatCSV = "csv"

// Handler serves the export routes.
type Handler struct {
	store  *store.Store
	blob   *blob.Store
	link   time.Duration
	router *api.Router
	now    func() time.Time
}

// New builds the ExportFunction's handler on its store and bucket; link is
// the requested lifetime of download links, the configured default when 0
// (pkg/app wires it into the Lambda function).
func New(st *store.Store, b *blob.Store, link time.Duration) *Handler {
	if link <= 0 {
		link = config.Default().ExportLink
	}
	h := &Handler{
		store: st,
		blob:  b,
		link:  link,
		now:   time.Now,
	}
	rt := api.NewRouter()
	rt.Write(http.MethodPost, "/v1/exports", h.create)
	rt.Write(http.MethodGet, "/v1/exports", h.list)
	rt.Write(http.MethodGet, "/v1/exports/{exportId}", h.get)
	rt.Write(http.MethodPost, "/v1/exports/{exportId}/link", h.newLink)
	h.router = rt
	return h
}

// Router is the API part.
func (h *Handler) Router() *api.Router { return h.router }

// createRequest is POST /v1/exports's body. Pointers tell a missing field
// from an empty one.
type createRequest struct {
	Dataset    *string `json:"dataset"`
	CustomerID *string `json:"customerId"`
	Format     *string `json:"format"`
	Gzip       *bool   `json:"gzip"`
}

// Export is an export job as the API shows it. Every field is always
// present (null when it does not apply yet), so clients can rely on the
// shape.
type Export struct {
	ExportID   string  `json:"exportId"`
	Dataset    string  `json:"dataset"`
	CustomerID *string `json:"customerId"` // null: every customer
	Format     string  `json:"format"`
	Gzip       bool    `json:"gzip"`
	Status     string  `json:"status"`
	// Rows (without the header) and Bytes (of the file as downloaded)
	// once the export succeeded.
	Rows        *int64     `json:"rows"`
	Bytes       *int64     `json:"bytes"`
	CreatedAt   time.Time  `json:"createdAt"`
	StartedAt   *time.Time `json:"startedAt"`
	CompletedAt *time.Time `json:"completedAt"`
	Filename    *string    `json:"filename"`
	// DownloadURL is a presigned GET, valid until ExpiresAt; only a
	// succeeded export has one, and lists do not sign links.
	DownloadURL *string    `json:"downloadUrl"`
	ExpiresAt   *time.Time `json:"expiresAt"`
	// Reason says why a failed export failed.
	Reason *string `json:"reason"`
}

func exportOf(j store.ExportJob) Export {
	e := Export{
		ExportID: j.ID, Dataset: j.Dataset, Format: j.Format, Gzip: j.Gzip,
		Status: string(j.Status), CreatedAt: j.CreatedAt,
	}
	if j.CustomerID != "" {
		e.CustomerID = &j.CustomerID
	}
	if !j.StartedAt.IsZero() {
		e.StartedAt = &j.StartedAt
	}
	switch j.Status {
	case store.ExportSucceeded:
		e.Rows, e.Bytes, e.Filename = &j.Rows, &j.Bytes, &j.Filename
		e.CompletedAt = &j.CompletedAt
	case store.ExportFailed:
		e.Reason = &j.Reason
		if !j.CompletedAt.IsZero() {
			e.CompletedAt = &j.CompletedAt
		}
	}
	return e
}

func (h *Handler) create(ctx context.Context, r *api.Request) (api.Response, error) {
	req, err := decodeCreate(r)
	if err != nil {
		return api.Response{}, err
	}
	job := store.ExportJob{Format: FormatCSV}
	switch {
	case req.Dataset == nil:
		return api.Response{}, api.BadRequest("dataset is required: users, customers or subscriptions", api.Detail{Field: "dataset", Reason: "required"})
	case !export.Dataset(*req.Dataset).Valid():
		return api.Response{}, api.BadRequest("dataset must be users, customers, subscriptions or reclaim", api.Detail{Field: "dataset", Value: *req.Dataset})
	}
	job.Dataset = *req.Dataset
	switch {
	case req.Format == nil:
		return api.Response{}, api.BadRequest(`format is required: "csv"`, api.Detail{Field: "format", Reason: "required"})
	case *req.Format != FormatCSV:
		return api.Response{}, api.BadRequest(`format must be "csv"`, api.Detail{Field: "format", Value: *req.Format})
	}
	if req.Gzip != nil {
		job.Gzip = *req.Gzip
	}
	if req.CustomerID != nil {
		id := *req.CustomerID
		if err := license.ValidCustomerID(id); err != nil {
			return api.Response{}, api.BadRequest(err.Error(), api.Detail{Field: "customerId", Value: id})
		}
		// Refused now rather than failed later: a customer the tenant does
		// not have is a 404, whoever else has it.
		if _, err := h.store.Figures(ctx, r.Tenant, id); errors.Is(err, store.ErrNotFound) {
			return api.Response{}, api.NotFound("customer", id)
		} else if err != nil {
			return api.Response{}, err
		}
		job.CustomerID = id
	}
	now := h.now().UTC()
	job.ID = store.NewExportID(now)
	job.CreatedAt = now
	job.Status = store.ExportPending
	if err := h.store.CreateExport(ctx, r.Tenant, job); err != nil {
		return api.Response{}, err
	}
	resp, err := api.JSON(http.StatusAccepted, exportOf(job))
	if err == nil {
		resp.Headers["Location"] = "/v1/exports/" + job.ID
	}
	return resp, err
}

// decodeCreate reads the body, naming the offending field in every error.
func decodeCreate(r *api.Request) (createRequest, error) {
	var req createRequest
	body, err := r.Body()
	if err != nil {
		return req, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return req, api.BadRequest(`the body is empty: send {"dataset": "users", "format": "csv"}`)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(&req)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("there is more after the JSON object")
		}
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return req, nil
	case errors.As(err, &typeErr):
		want := map[string]string{"dataset": "a string", "customerId": "a string", "format": "a string", "gzip": "true or false"}[typeErr.Field]
		if want == "" {
			return req, api.BadRequest("the body must be a JSON object", api.Detail{Reason: err.Error()})
		}
		return req, api.BadRequest(fmt.Sprintf("%s must be %s, not a JSON %s", typeErr.Field, want, typeErr.Value), api.Detail{Field: typeErr.Field, Reason: "wrong type"})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return req, api.BadRequest(fmt.Sprintf("unknown field %q: the fields are dataset, customerId, format and gzip", field), api.Detail{Field: field, Reason: "unknown"})
	}
	return req, api.BadRequest("the body is not valid JSON: "+err.Error(), api.Detail{Reason: err.Error()})
}

// job reads the {exportId} job as the caller should see it. Anything that
// is not an export id is simply not found, like another tenant's export.
func (h *Handler) job(ctx context.Context, r *api.Request) (*store.ExportJob, error) {
	id := r.PathParam("exportId")
	now := h.now()
	job, err := h.store.Export(ctx, r.Tenant, id, now)
	if errors.Is(err, store.ErrNotFound) {
		return nil, api.NotFound("export", id)
	}
	if err != nil {
		return nil, err
	}
	j := job.Effective(now)
	return &j, nil
}

func (h *Handler) get(ctx context.Context, r *api.Request) (api.Response, error) {
	job, err := h.job(ctx, r)
	if err != nil {
		return api.Response{}, err
	}
	e := exportOf(*job)
	if job.Status == store.ExportSucceeded {
		if err := h.sign(ctx, job, &e); err != nil {
			return api.Response{}, err
		}
	}
	return api.JSON(http.StatusOK, e)
}

// newLink signs a fresh link for a succeeded export: links are short-lived
// on purpose, and the file stays for the retention period, so a caller asks
// again rather than for a longer link.
func (h *Handler) newLink(ctx context.Context, r *api.Request) (api.Response, error) {
	job, err := h.job(ctx, r)
	if err != nil {
		return api.Response{}, err
	}
	if job.Status != store.ExportSucceeded {
		return api.Response{}, api.Conflict(fmt.Sprintf("export %s is %s: only a succeeded export has a file to link to", job.ID, job.Status))
	}
	e := exportOf(*job)
	if err := h.sign(ctx, job, &e); err != nil {
		return api.Response{}, err
	}
	return api.JSON(http.StatusOK, e)
}

func (h *Handler) sign(ctx context.Context, job *store.ExportJob, e *Export) error {
	link, err := h.blob.PresignDownload(ctx, job.ObjectKey, job.Filename, h.link, h.now())
	if errors.Is(err, blob.ErrCredentialsExpiring) {
		return &api.Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Message: "the function's credentials are being renewed; ask again in a few seconds"}
	}
	if err != nil {
		return err
	}
	e.DownloadURL, e.ExpiresAt = &link.URL, &link.ExpiresAt
	return nil
}

// listCursor is the opaque ?cursor= of GET /v1/exports.
type listCursor struct {
	After string `json:"after"`
}

func (h *Handler) list(ctx context.Context, r *api.Request) (api.Response, error) {
	var cur listCursor
	limit, err := r.Page(&cur)
	if err != nil {
		return api.Response{}, err
	}
	if r.Query("cursor") != "" && !store.ValidExportID(cur.After) {
		return api.Response{}, api.BadRequest("cursor is not one this API issued", api.Detail{Field: "cursor"})
	}
	now := h.now()
	jobs, next, err := h.store.Exports(ctx, r.Tenant, limit, cur.After, now)
	if err != nil {
		return api.Response{}, err
	}
	page := view.Page[Export]{Items: make([]Export, 0, len(jobs))}
	for _, j := range jobs {
		page.Items = append(page.Items, exportOf(j.Effective(now)))
	}
	if page.NextCursor, err = api.NextCursor(listCursor{After: next}, next != ""); err != nil {
		return api.Response{}, err
	}
	return api.JSON(http.StatusOK, page)
}
