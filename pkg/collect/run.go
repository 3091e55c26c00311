package collect

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/licenseinsights/licenseinsights/pkg/blob"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/source"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

// Message is one customer of one run, as queued (SQS body, JSON).
type Message struct {
	Tenant       string `json:"tenant"`
	CollectionID string `json:"collectionId"`
	CustomerID   string `json:"customerId"`
}

// Queue takes a run's messages: SQS in AWS, the local stack's queue locally.
type Queue interface {
	Send(ctx context.Context, msgs []Message) error
}

// Source is where customers' documents come from: *Client.
type Source interface {
	Collect(ctx context.Context, tenantID string) (*Customer, error)
	ListCustomers(ctx context.Context) ([]CustomerRef, error)
}

// Runner starts runs and collects their customers.
type Runner struct {
	Store  *store.Store
	Blob   *blob.Store
	Source Source
	Queue  Queue
	Now    func() time.Time
	// Lease is how long a claimed customer is left to its attempt (the
	// collector's timeout); IngestWait how long the collector waits for
	// the ingest to judge the documents it wrote, polling every Poll.
	Lease      time.Duration
	IngestWait time.Duration
	Poll       time.Duration
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

// MaxCustomers bounds a partner's own list (PUT /v1/collection/customers):
// it is one item of the table.
const MaxCustomers = 5000

// NormalizeCustomerIDs lower-cases, trims and deduplicates tenant ids, in
// first-seen order; an id that is not a tenant id is an error naming it.
func NormalizeCustomerIDs(ids []string) ([]string, error) {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for i, id := range ids {
		id = strings.ToLower(strings.TrimSpace(id))
		if !validTenantID(id) || license.ValidCustomerID(id) != nil {
			return nil, fmt.Errorf("customerIds[%d] = %q is not a customer tenant id (a GUID such as 0b1c2d3e-…, or the tenant's domain)", i, ids[i])
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	if len(out) > MaxCustomers {
		return nil, fmt.Errorf("%d customers: at most %d can be listed", len(out), MaxCustomers)
	}
	return out, nil
}

// Start begins a run for tenant t: the given customers, else the partner's
// own list, else every customer Partner Center lists. It enqueues one
// message per customer and returns the run. A run whose customers cannot
// be listed is recorded as failed with the reason (and returned, not an
// error: the run exists and says why).
func (r *Runner) Start(ctx context.Context, t license.Tenant, trigger string, customerIDs []string) (*store.Collection, error) {
	now := r.now()
	run := store.Collection{ID: newRunID(now), Trigger: trigger, StartedAt: now}
	names := map[string]string{}
	var listErr error
	if customerIDs == nil {
		ids, _, ok, err := r.Store.CollectCustomers(ctx, t)
		switch {
		case err != nil:
			return nil, err
		case ok:
			customerIDs = ids
		default:
			refs, err := r.Source.ListCustomers(ctx)
			if err != nil {
				listErr = err
			}
			for _, c := range refs {
				customerIDs = append(customerIDs, c.TenantID)
				names[strings.ToLower(c.TenantID)] = c.Name
			}
		}
	}
	ids, err := NormalizeCustomerIDs(customerIDs)
	if err != nil && listErr == nil {
		listErr = &Error{Code: CodeSourceError, Message: "Partner Center listed a customer that is not a tenant id: " + err.Error()}
	}
	if listErr != nil {
		run.Status, run.Reason = store.RunFailed, "the customers could not be listed: "+message(listErr)
		run.FinishedAt = &now
		if err := r.Store.CreateCollection(ctx, t, run, nil, nil); err != nil {
			return nil, err
		}
		return r.Store.GetCollection(ctx, t, run.ID)
	}
	if err := r.Store.CreateCollection(ctx, t, run, ids, names); err != nil {
		return nil, err
	}
	for chunk := range slices.Chunk(ids, 10) {
		msgs := make([]Message, len(chunk))
		for i, id := range chunk {
			msgs[i] = Message{Tenant: t.ID(), CollectionID: run.ID, CustomerID: id}
		}
		if err := r.Queue.Send(ctx, msgs); err != nil {
			_ = r.Store.FailCollection(ctx, t, run.ID, "the run could not be queued; start it again (POST /v1/collections)", r.now())
			return nil, fmt.Errorf("queueing run %s: %w", run.ID, err)
		}
	}
	return r.Store.GetCollection(ctx, t, run.ID)
}

func message(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// Handle collects one queued customer. nil means done (or nothing to do: a
// redelivered message of a finished customer); an error means "deliver it
// again" (infrastructure failed, or another attempt holds the customer).
func (r *Runner) Handle(ctx context.Context, m Message) error {
	t, err := license.NewTenant(m.Tenant)
	if err != nil {
		slog.WarnContext(ctx, "collect message with an invalid tenant dropped", "tenant", m.Tenant)
		return nil
	}
	now := r.now()
	o, err := r.Store.ClaimCollect(ctx, t, m.CollectionID, m.CustomerID, now, now.Add(r.lease()))
	if errors.Is(err, store.ErrNotFound) || (err != nil && license.ValidCustomerID(m.CustomerID) != nil) {
		slog.WarnContext(ctx, "collect message for no customer of a run dropped", "collection", m.CollectionID, "customer", m.CustomerID)
		return nil
	}
	if errors.Is(err, store.ErrCollectTaken) {
		// Finished: nothing to do. Held by a live attempt: that attempt
		// finishes it, or its lease runs out and a redelivery takes over;
		// either way this delivery counts nothing.
		slog.InfoContext(ctx, "collect message ignored", "reason", err.Error(), "customer", m.CustomerID)
		return nil
	}
	if err != nil {
		return err
	}
	r.collect(ctx, t, m, o)
	if err := r.Store.FinishCollect(ctx, t, m.CollectionID, o, r.now()); err != nil {
		if errors.Is(err, store.ErrCollectTaken) {
			return nil // our lease ran out and another attempt took over
		}
		return err
	}
	return nil
}

func (r *Runner) lease() time.Duration {
	if r.Lease > 0 {
		return r.Lease
	}
	return 15 * time.Minute
}

// collect fills o with the customer's outcome.
func (r *Runner) collect(ctx context.Context, t license.Tenant, m Message, o *store.CollectOutcome) {
	fail := func(code Code, msg string, problems []any) {
		o.State, o.Code, o.Message, o.Problems = store.CollectFailed, string(code), msg, problems
	}
	got, err := r.Source.Collect(ctx, m.CustomerID)
	if err != nil {
		fail(CodeOf(err), message(err), nil)
		slog.WarnContext(ctx, "customer not collected", "customer", m.CustomerID, "code", CodeOf(err), "error", err.Error())
		return
	}
	if got.Name != "" {
		o.Name = got.Name
	}
	// One document at a time, each judged before the next is written:
	// ingests of one customer's documents in parallel would race for its
	// figures (the ingest answers "conflict" after its retries).
	o.Documents = o.Documents[:0]
	deadline := time.Now().Add(r.ingestWait())
	for _, d := range got.Documents {
		kind, err := source.ParseKind(d.Kind)
		if err != nil {
			// graph-organization until the ingest learns it: the name is
			// kept on the outcome meanwhile.
			continue
		}
		id := uploadID(m.CollectionID, m.CustomerID, string(kind))
		if err := r.write(ctx, t, id, m.CustomerID, string(kind), d.Body); err != nil {
			fail(CodeSourceError, "the collected "+d.Kind+" document could not be stored; the next run retries it", nil)
			slog.ErrorContext(ctx, "collected document not stored", "customer", m.CustomerID, "kind", d.Kind, "error", err.Error())
			return
		}
		o.Documents = append(o.Documents, store.CollectedDoc{Kind: string(kind), UploadID: id})
		if code, msg, problems := r.await(ctx, t, &o.Documents[len(o.Documents)-1], deadline); code != "" {
			fail(code, msg, problems)
			return
		}
	}
	if err := r.Store.RecordCollected(ctx, t, m.CustomerID, m.CollectionID, r.now(), got.ConcealedNames); err != nil {
		// The documents are in; only insights' "last collected" lags.
		slog.WarnContext(ctx, "last collection not recorded", "customer", m.CustomerID, "error", err.Error())
	}
	o.State, o.Code, o.Message, o.Problems = store.CollectSucceeded, "", strings.Join(got.Notes, "; "), nil
}

func (r *Runner) ingestWait() time.Duration {
	if r.IngestWait > 0 {
		return r.IngestWait
	}
	return 10 * time.Minute
}

// uploadID names a collected document's upload: the same for a redelivered
// message, so a retry never makes a second upload of one document.
func uploadID(runID, customerID, kind string) string {
	return runID + "-" + customerID + "-" + kind
}

// write records the upload and puts its object under uploads/, where the
// S3-triggered ingest takes it like any partner upload.
func (r *Runner) write(ctx context.Context, t license.Tenant, id, customerID, kind string, body []byte) error {
	if _, err := r.Store.GetUpload(ctx, t, id); errors.Is(err, store.ErrNotFound) {
		if err := r.Store.CreateUpload(ctx, t, store.Upload{ID: id, CustomerID: customerID, Kind: kind, CreatedAt: r.now()}); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	key, err := blob.UploadKey(t, id)
	if err != nil {
		return err
	}
	ct := "application/json"
	if kind == string(source.KindActiveUserDetail) || kind == string(source.KindCopilotUsage) {
		ct = "text/csv"
	}
	return r.Blob.Upload(ctx, key, ct, bytes.NewReader(body))
}

// await waits until the ingest has judged document d, and returns the
// customer's failure if it was refused.
func (r *Runner) await(ctx context.Context, t license.Tenant, d *store.CollectedDoc, deadline time.Time) (Code, string, []any) {
	poll := r.Poll
	if poll <= 0 {
		poll = 200 * time.Millisecond
	}
	for {
		u, err := r.Store.GetUpload(ctx, t, d.UploadID)
		if err == nil && (u.Status == store.UploadSucceeded || u.Status == store.UploadFailed) {
			res := decodeResult(u.Result)
			if u.Status == store.UploadFailed {
				d.Status = "rejected"
				return CodeRejected, fmt.Sprintf("the collected %s document was rejected: %s (GET /v1/uploads/%s shows it)", d.Kind, res.Error.Message, d.UploadID), res.Error.Details
			}
			d.Status = res.Status
			return "", "", nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return CodeSourceError, fmt.Sprintf("the ingest had not judged the collected %s document in time: follow it with GET /v1/uploads/%s; the next run collects again", d.Kind, d.UploadID), nil
		}
		_ = sleepCtx(ctx, poll)
	}
}

type uploadResult struct {
	Status string `json:"status"`
	Error  struct {
		Message string `json:"message"`
		Details []any  `json:"details"`
	} `json:"error"`
}

func decodeResult(v any) uploadResult {
	var res uploadResult
	b, err := json.Marshal(v)
	if err == nil {
		_ = json.Unmarshal(b, &res)
	}
	return res
}

// newRunID is time-ordered (runs list newest first) and unguessable.
func newRunID(now time.Time) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return now.Format("20060102t150405") + "-" + hex.EncodeToString(b[:])
}
