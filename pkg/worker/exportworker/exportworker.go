// Package exportworker is the ExportWorkerFunction: the table stream's
// INSERT record of an export job starts it; it streams the job's rows from
// DynamoDB through encoding/csv (and gzip, when asked) into a multipart S3
// upload, and records the outcome on the job.
//
// Memory is bounded whatever the export's size: rows are read page by page
// and written one by one into a pipe, and the upload holds a few 8 MiB
// parts. No temporary file is made.
//
// A job is done exactly once, however often its record is delivered:
//   - the job is claimed with a conditional write (pending → running, with
//     an attempt number and a lease until this invocation's deadline); a
//     finished job is left alone, one held by a live attempt is retried
//     later;
//   - the file's key is a function of the job (exports/<tenant>/<exportId>/
//     <dataset>-<date>.csv[.gz]), so a retry overwrites, never adds;
//   - counts are set on completion, conditioned on the attempt still
//     holding the job, never added;
//   - on failure the multipart upload is aborted (no object appears), any
//     file an earlier attempt left is deleted, and the job is failed with a
//     reason.
package exportworker

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"github.com/licenseinsights/licenseinsights/pkg/config"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/licenseinsights/licenseinsights/pkg/blob"
	"github.com/licenseinsights/licenseinsights/pkg/export"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/observe"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

// Timing of one invocation.
const (
	// defaultLease holds a job when the context has no deadline (the local
	// stack): Lambda's longest timeout.
	defaultLease = 15 * time.Minute
	// leaseMargin outlasts the deadline a little, for clock skew: a lease
	// expires only once its holder is surely dead.
	leaseMargin = 30 * time.Second
	// finishReserve is kept from the deadline to record the outcome (and
	// abort the upload) after the work itself is cut off.
	finishReserve = 15 * time.Second
	// finishTimeout bounds recording the outcome.
	finishTimeout = 10 * time.Second
	// tries: an ingest that replaces a customer's users during the export
	// makes the export start over, at most this many times in all.
	tries = 3
)

// Worker runs export jobs.
type Worker struct {
	store *store.Store
	blob  *blob.Store
	// reader is what exports read: the store (tests wrap it to make reads
	// fail).
	reader export.Reader
	now    func() time.Time
	// copilotHabitualDays is COPILOT_HABITUAL_DAYS, for the customers export.
	copilotHabitualDays int
	// defaultPrices (SKU_MONTHLY_PRICES) and reclaimDays (RENEWAL_DAYS,
	// as a served horizon) serve the reclaim export.
	defaultPrices *license.PriceList
	reclaimDays   int
}

// New builds the ExportWorkerFunction's handler on its store and bucket
// (pkg/app wires it into the Lambda function, whose entry point is Handle).
func New(st *store.Store, b *blob.Store, cfg config.Config) *Worker {
	return &Worker{store: st, blob: b, reader: st, now: time.Now, copilotHabitualDays: cfg.CopilotHabitual(),
		defaultPrices: license.PriceListOf(cfg.SKUMonthlyPrices, cfg.Currency), reclaimDays: reclaimHorizon(cfg.Thresholds().RenewalDays)}
}

// Handle runs the export job of every INSERT record of an export job item.
// A record that must be tried again (its job is held by a live attempt, or
// the outcome could not be recorded) is reported as a batch item failure,
// and the records after it are left for the retry, which starts there.
func (w *Worker) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	// An empty list (not null) is Lambda's "every record succeeded".
	resp := events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{}}
	for _, rec := range ev.Records {
		if err := w.record(ctx, rec); err != nil {
			slog.ErrorContext(ctx, "export record will be retried", "eventId", rec.EventID, "error", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: rec.Change.SequenceNumber})
			break
		}
	}
	return resp, nil
}

func (w *Worker) record(ctx context.Context, rec events.DynamoDBEventRecord) error {
	if rec.EventName != string(events.DynamoDBOperationTypeInsert) {
		return nil
	}
	pk, sk := stringKey(rec.Change.Keys, "PK"), stringKey(rec.Change.Keys, "SK")
	if !strings.HasPrefix(sk, store.ExportSKPrefix) {
		return nil // not an export job (the event source's filter lets none through)
	}
	t, id, err := store.ParseExportKey(pk, sk)
	if err != nil {
		// Retrying cannot repair a key.
		slog.WarnContext(ctx, "export record ignored", "error", err.Error())
		return nil
	}
	return w.Run(ctx, t, id)
}

func stringKey(keys map[string]events.DynamoDBAttributeValue, name string) string {
	v, ok := keys[name]
	if !ok || v.DataType() != events.DataTypeString {
		return ""
	}
	return v.String()
}

// Run does one export job: claim, write, record. It returns an error only
// when the job should be tried again by a redelivery of its record.
func (w *Worker) Run(ctx context.Context, t license.Tenant, id string) error {
	ctx = observe.WithAttrs(ctx, slog.String("tenant", t.ID()), slog.String("export", id))
	ctx = observe.Annotate(ctx, "tenant", t.ID(), "export", id)
	now := w.now()
	lease := now.Add(defaultLease)
	deadline, hasDeadline := ctx.Deadline()
	if hasDeadline {
		lease = deadline.Add(leaseMargin)
	}
	job, err := w.store.ClaimExport(ctx, t, id, now, lease)
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrExportFinished):
		slog.InfoContext(ctx, "export record has nothing to do", "reason", err.Error())
		return nil
	case err != nil:
		return err // ErrExportBusy included: the holder finishes, or its lease runs out
	}
	slog.InfoContext(ctx, "export started", "dataset", job.Dataset, "attempt", job.Attempt)

	work, cancel := ctx, context.CancelFunc(func() {})
	if hasDeadline {
		work, cancel = context.WithDeadline(ctx, deadline.Add(-finishReserve))
	}
	var out store.ExportOutcome
	err = observe.Step(work, observe.StepExport, func(ctx context.Context) error {
		var err error
		out, err = w.write(ctx, t, job)
		return err
	})
	cancel()

	finish, cancelFinish := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancelFinish()
	if err == nil {
		err = w.store.CompleteExport(finish, t, id, job.Attempt, out, w.now())
		switch {
		case errors.Is(err, store.ErrExportLeaseLost):
			slog.WarnContext(ctx, "export finished after its lease; the newer attempt's outcome stands", "error", err.Error())
			return nil
		case err != nil:
			w.release(finish, t, job)
			return err
		}
		observe.Emit(job.Dataset,
			observe.Metric{Name: observe.ExportsCompleted, Value: 1, Unit: observe.Count},
			observe.Metric{Name: observe.ExportRows, Value: float64(out.Rows), Unit: observe.Count},
			observe.Metric{Name: observe.ExportBytes, Value: float64(out.Bytes), Unit: observe.Bytes})
		slog.InfoContext(ctx, "export succeeded", "rows", out.Rows, "bytes", out.Bytes, "ms", w.now().Sub(now).Milliseconds())
		return nil
	}

	slog.ErrorContext(ctx, "export failed", "error", err.Error(), "attempt", job.Attempt)
	observe.Emit(job.Dataset, observe.Metric{Name: observe.ExportsFailed, Value: 1, Unit: observe.Count})
	err = w.store.FailExport(finish, t, id, job.Attempt, reason(job, err), w.now())
	switch {
	case errors.Is(err, store.ErrExportLeaseLost):
		return nil // a newer attempt owns the job, and the file
	case err != nil:
		w.release(finish, t, job)
		return err
	}
	// The upload was aborted, so this attempt left no object; an earlier
	// attempt that died after its upload may have. The job is failed (for
	// good) before the file goes, so no succeeded job ever loses its file;
	// a file that cannot be deleted is never linked and expires anyway.
	if key, _, kerr := objectKey(t, job); kerr == nil {
		if derr := w.blob.Delete(finish, key); derr != nil {
			slog.WarnContext(ctx, "could not delete an earlier attempt's file", "error", derr.Error())
		}
	}
	return nil
}

// release gives the job back so that the record's retry can claim it at
// once instead of waiting out the lease (best effort: if the table cannot
// be written, the lease runs out instead).
func (w *Worker) release(ctx context.Context, t license.Tenant, job *store.ExportJob) {
	if err := w.store.ReleaseExport(ctx, t, job.ID, job.Attempt); err != nil {
		slog.WarnContext(ctx, "could not release the export job", "error", err.Error())
	}
}

// objectKey is where a job's file goes, and its download name.
func objectKey(t license.Tenant, job *store.ExportJob) (key, filename string, err error) {
	filename = fmt.Sprintf("%s-%s.csv", job.Dataset, job.CreatedAt.UTC().Format("2006-01-02"))
	if job.Gzip {
		filename += ".gz"
	}
	key, err = blob.ExportKey(t, job.ID, filename)
	return key, filename, err
}

// write writes the job's file, starting over when an ingest replaced a
// customer's users during the read.
func (w *Worker) write(ctx context.Context, t license.Tenant, job *store.ExportJob) (store.ExportOutcome, error) {
	key, filename, err := objectKey(t, job)
	if err != nil {
		return store.ExportOutcome{}, err
	}
	contentType := "text/csv; charset=utf-8; header=present"
	if job.Gzip {
		contentType = "application/gzip"
	}
	req := export.Request{Tenant: t, Dataset: export.Dataset(job.Dataset), CustomerID: job.CustomerID, CopilotHabitualDays: w.copilotHabitualDays}
	if req.Dataset == export.Reclaim {
		// The tenant's list in force, else SKU_MONTHLY_PRICES.
		req.Prices, req.ReclaimDays = w.defaultPrices, w.reclaimDays
		sp, err := w.store.GetPrices(ctx, t)
		switch {
		case err == nil:
			req.Prices = &sp.PriceList
		case !errors.Is(err, store.ErrNotFound):
			return store.ExportOutcome{}, err
		}
	}
	for try := 1; ; try++ {
		res, size, err := w.stream(ctx, key, contentType, job.Gzip, req)
		if err == nil {
			return store.ExportOutcome{Rows: res.Rows, Bytes: size, ObjectKey: key, Filename: filename}, nil
		}
		if !errors.Is(err, store.ErrGenerationChanged) || try == tries {
			return store.ExportOutcome{}, err
		}
		slog.InfoContext(ctx, "export starts over", "try", try, "reason", err.Error())
	}
}

// errUploadStopped unblocks the CSV writer when the upload stopped reading.
var errUploadStopped = errors.New("the upload stopped")

// stream writes the dataset through a pipe into the multipart upload of
// key: the CSV is written by a second goroutine while this one uploads. An
// error on either side stops both, and the upload is aborted unless the
// writer ended cleanly.
func (w *Worker) stream(ctx context.Context, key, contentType string, gz bool, req export.Request) (export.Result, int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	size := &countingWriter{w: pw}
	type written struct {
		res export.Result
		err error
	}
	done := make(chan written, 1)
	go func() {
		var out io.Writer = size
		var zw *gzip.Writer
		if gz {
			zw = gzip.NewWriter(size)
			out = zw
		}
		res, err := export.Write(ctx, w.reader, req, out)
		if err == nil && zw != nil {
			err = zw.Close()
		}
		// nil closes with EOF: the upload completes. An error makes the
		// upload's next read fail, and the upload aborts.
		pw.CloseWithError(err)
		done <- written{res, err}
	}()
	upErr := w.blob.Upload(ctx, key, contentType, pr)
	if upErr != nil {
		pr.CloseWithError(fmt.Errorf("%w: %w", errUploadStopped, upErr))
		cancel()
	}
	wr := <-done
	switch {
	case upErr != nil && (wr.err == nil || errors.Is(wr.err, errUploadStopped) || errors.Is(wr.err, context.Canceled)):
		return wr.res, 0, upErr // the upload failed first: its error is the cause
	case wr.err != nil:
		return wr.res, 0, wr.err // the export failed first (the upload's error wraps it)
	}
	return wr.res, size.n, nil
}

// countingWriter counts the bytes of the object as stored.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// reason is what the caller reads about a failed export: what happened and
// what to do, without the internals (which are logged).
func reason(job *store.ExportJob, err error) string {
	switch {
	case errors.Is(err, export.ErrCustomerNotFound):
		return fmt.Sprintf("customer %q has no data any more", job.CustomerID)
	case errors.Is(err, store.ErrGenerationChanged):
		return fmt.Sprintf("the data changed during the export %d times in a row (reports were being ingested); create a new export", tries)
	case errors.Is(err, context.DeadlineExceeded):
		return "the export did not finish within the function's time limit; export one customer at a time"
	}
	return fmt.Sprintf("the export could not be written (internal error, logged with export id %s); create a new export", job.ID)
}

// reclaimHorizon is the served horizon (30, 90, 180) that covers RENEWAL_DAYS.
func reclaimHorizon(renewalDays int) int {
	for _, h := range license.ReclaimHorizons {
		if renewalDays <= h {
			return h
		}
	}
	return license.ReclaimHorizons[len(license.ReclaimHorizons)-1]
}
