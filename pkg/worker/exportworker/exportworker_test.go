package exportworker

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/licenseinsights/licenseinsights/pkg/blob"
	"github.com/licenseinsights/licenseinsights/pkg/config"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"

	"github.com/licenseinsights/licenseinsights/internal/devstack/devstacktest"
	"github.com/licenseinsights/licenseinsights/pkg/awsenv"
	"github.com/licenseinsights/licenseinsights/pkg/ingest"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/source"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

func TestMain(m *testing.M) { devstacktest.Main(m) }

// fixture is a worker on a fresh table and bucket whose S3 calls are
// recorded, with one tenant's customer ingested.
type fixture struct {
	w      *Worker
	env    *awsenv.Env
	s3     *s3.Client
	ingest *ingest.Service
	tenant license.Tenant
	ops    *opLog
}

// opLog records the S3 operations the worker sends.
type opLog struct {
	mu  sync.Mutex
	ops []string
}

func (l *opLog) count(op string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, o := range l.ops {
		if o == op {
			n++
		}
	}
	return n
}

func newFixture(t *testing.T, users int) *fixture {
	t.Helper()
	db, table := devstacktest.Table(t)
	plain, bucket := devstacktest.Bucket(t)
	ops := &opLog{}
	recorded := s3.New(plain.Options(), func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("recordOperation",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					ops.mu.Lock()
					ops.ops = append(ops.ops, awsmiddleware.GetOperationName(ctx))
					ops.mu.Unlock()
					return next.HandleInitialize(ctx, in)
				}), middleware.After)
		})
	})
	env := &awsenv.Env{DynamoDB: db, S3: recorded, Table: table, Bucket: bucket}
	w := New(store.New(db, table), blob.New(recorded, bucket), config.Default())
	tn, err := license.NewTenant("partner-a")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{w: w, env: env, s3: plain, ingest: ingest.New(store.New(db, table), ingest.Config{}), tenant: tn, ops: ops}
	f.ingestUsers(t, "contoso", "2026-11-20", users, "u")
	return f
}

// ingestUsers ingests a snapshot of n users keyed <prefix><i>@contoso.com,
// each licensed for exchange and active on the report date.
func (f *fixture) ingestUsers(t *testing.T, customerID, reportDate string, n int, prefix string) {
	t.Helper()
	type use struct {
		Licensed     bool   `json:"licensed"`
		LastActivity string `json:"lastActivity"`
	}
	users := make([]map[string]any, n)
	for i := range users {
		users[i] = map[string]any{
			"key": fmt.Sprintf("%s%05d@contoso.com", prefix, i), "displayName": fmt.Sprintf("User %d", i),
			"licenses":  []map[string]string{{"sku": "SPE_E3", "assignedDate": "2025-01-01"}},
			"workloads": map[string]use{"exchange": {true, reportDate}},
		}
	}
	doc, err := json.Marshal(map[string]any{
		"schema": "license-snapshot/v1", "customer": map[string]string{"id": customerID, "name": "Contoso"},
		"reportDate":    reportDate,
		"subscriptions": []map[string]any{{"id": "s1", "sku": "SPE_E3", "quantity": n, "status": "active", "channel": "own"}},
		"users":         users,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.ingest.Ingest(context.Background(), ingest.Request{
		Tenant: f.tenant, CustomerID: customerID, Kind: source.KindSnapshot, Body: bytes.NewReader(doc),
	}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) store() *store.Store { return store.New(f.env.DynamoDB, f.env.Table) }

// createJob writes a pending users job, as POST /v1/exports does.
func (f *fixture) createJob(t *testing.T, customerID string) store.ExportJob {
	t.Helper()
	now := time.Now().UTC()
	job := store.ExportJob{ID: store.NewExportID(now), Dataset: "users", CustomerID: customerID, Format: "csv", CreatedAt: now}
	if err := f.store().CreateExport(context.Background(), f.tenant, job); err != nil {
		t.Fatal(err)
	}
	return job
}

// event is the INSERT record of a job item as Lambda delivers it (only
// what the worker reads varies).
func event(t *testing.T, name, pk, sk string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"Records": []any{map[string]any{
		"eventID": "1", "eventName": name, "eventVersion": "1.1", "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
		"eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-11-20T00:00:00.000",
		"dynamodb": map[string]any{
			"ApproximateCreationDateTime": 1763600000,
			"Keys":                        map[string]any{"PK": map[string]string{"S": pk}, "SK": map[string]string{"S": sk}},
			"NewImage":                    map[string]any{"PK": map[string]string{"S": pk}, "SK": map[string]string{"S": sk}, "status": map[string]string{"S": "pending"}},
			"SequenceNumber":              "4421584500000000017450439091",
			"SizeBytes":                   120,
			"StreamViewType":              "NEW_AND_OLD_IMAGES",
		},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// deliver hands the job's INSERT record to the function as Lambda does.
func (f *fixture) deliver(t *testing.T, payload []byte) events.DynamoDBEventResponse {
	t.Helper()
	// As pkg/app.ExportWorker builds the function (this package's tests
	// cannot import app, which imports it).
	h := lambda.NewHandler(New(f.store(), blob.New(f.env.S3, f.env.Bucket), config.Default()).Handle)
	out, err := h.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	var resp events.DynamoDBEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	return resp
}

func (f *fixture) deliverJob(t *testing.T, job store.ExportJob) events.DynamoDBEventResponse {
	t.Helper()
	// The worker built by New reads the store directly; tests that wrap
	// the reader call Handle on f.w instead.
	k, err := store.ExportKey(f.tenant, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	return f.deliver(t, event(t, "INSERT", k.PK, k.SK))
}

func (f *fixture) handle(t *testing.T, job store.ExportJob) events.DynamoDBEventResponse {
	t.Helper()
	k, _ := store.ExportKey(f.tenant, job.ID)
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(event(t, "INSERT", k.PK, k.SK), &ev); err != nil {
		t.Fatal(err)
	}
	resp, err := f.w.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func (f *fixture) job(t *testing.T, id string) *store.ExportJob {
	t.Helper()
	j, err := f.store().Export(context.Background(), f.tenant, id, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// objects lists the keys under the job's prefix.
func (f *fixture) objects(t *testing.T, id string) []string {
	t.Helper()
	out, err := f.s3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{
		Bucket: &f.env.Bucket, Prefix: aws.String("exports/" + f.tenant.ID() + "/" + id + "/"),
	})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

func (f *fixture) multipartUploads(t *testing.T) int {
	t.Helper()
	out, err := f.s3.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &f.env.Bucket})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Uploads)
}

func (f *fixture) read(t *testing.T, key string) [][]string {
	t.Helper()
	out, err := f.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &f.env.Bucket, Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	records, err := csv.NewReader(out.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return records
}

// failingReader serves the real rows, then `extra` made-up rows (enough
// to fill more than one upload part), then fails — a read that breaks in
// the middle of a large export.
type failingReader struct {
	export *store.Store
	extra  int
	err    error
}

func (r *failingReader) EachCustomerID(ctx context.Context, t license.Tenant, fn func(string) error) error {
	return r.export.EachCustomerID(ctx, t, fn)
}

func (r *failingReader) Figures(ctx context.Context, t license.Tenant, id string) (*store.CustomerFigures, error) {
	return r.export.Figures(ctx, t, id)
}

func (r *failingReader) Subscriptions(ctx context.Context, t license.Tenant, id string) ([]license.Subscription, error) {
	return r.export.Subscriptions(ctx, t, id)
}

func (r *failingReader) GenerationUsers(ctx context.Context, t license.Tenant, id string, gen int64, shards int, fn func(store.UserRow) error) error {
	if err := r.export.GenerationUsers(ctx, t, id, gen, shards, fn); err != nil {
		return err
	}
	for i := range r.extra {
		u := store.UserRow{User: license.User{Key: fmt.Sprintf("filler-%07d-%s", i, strings.Repeat("x", 200))}}
		if err := fn(u); err != nil {
			return err
		}
	}
	return r.err
}

func TestSucceedsOnceAndRedeliveryDoesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 30)
	job := f.createJob(t, "contoso")
	if resp := f.deliverJob(t, job); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("batch item failures %+v", resp.BatchItemFailures)
	}
	done := f.job(t, job.ID)
	key := "exports/partner-a/" + job.ID + "/users-" + job.CreatedAt.Format("2006-01-02") + ".csv"
	if done.Status != store.ExportSucceeded || done.Rows != 30 || done.Attempt != 1 || done.ObjectKey != key {
		t.Fatalf("job %+v", done)
	}
	if records := f.read(t, key); len(records) != 31 {
		t.Errorf("file has %d records, want header + 30", len(records))
	}
	// The record again (Lambda delivers at least once): nothing changes.
	if resp := f.deliverJob(t, job); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("redelivery: batch item failures %+v", resp.BatchItemFailures)
	}
	again := f.job(t, job.ID)
	if *again != *done {
		t.Errorf("redelivery changed the job:\n%+v\n%+v", again, done)
	}
	if keys := f.objects(t, job.ID); !slices.Equal(keys, []string{key}) {
		t.Errorf("objects %q, want only %s", keys, key)
	}
	if n := f.ops.count("PutObject") + f.ops.count("CreateMultipartUpload"); n != 1 {
		t.Errorf("%d uploads for one job, want 1", n)
	}
}

// TestFailureAbortsTheUpload: the read breaks after more than one 8 MiB
// part was sent. The multipart upload is aborted, no object exists, the
// job is failed with a reason, and no retry is asked for (it would fail the
// same way).
func TestFailureAbortsTheUpload(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 10)
	f.w.reader = &failingReader{export: f.store(), extra: 50_000, err: errors.New("disk on fire")}
	job := f.createJob(t, "contoso")
	if resp := f.handle(t, job); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("batch item failures %+v", resp.BatchItemFailures)
	}
	failed := f.job(t, job.ID)
	if failed.Status != store.ExportFailed || failed.Rows != 0 || failed.ObjectKey != "" || !strings.Contains(failed.Reason, job.ID) {
		t.Errorf("job %+v, want failed with a reason naming the export", failed)
	}
	if strings.Contains(failed.Reason, "disk on fire") {
		t.Errorf("the reason leaks the internal error: %q", failed.Reason)
	}
	if f.ops.count("CreateMultipartUpload") != 1 || f.ops.count("UploadPart") == 0 {
		t.Errorf("S3 calls %v: the failure was meant to come mid-way through a multipart upload", f.ops.ops)
	}
	if f.ops.count("AbortMultipartUpload") != 1 || f.ops.count("CompleteMultipartUpload") != 0 {
		t.Errorf("S3 calls %v, want the upload aborted, never completed", f.ops.ops)
	}
	if n := f.multipartUploads(t); n != 0 {
		t.Errorf("%d multipart uploads left open", n)
	}
	if keys := f.objects(t, job.ID); len(keys) != 0 {
		t.Errorf("objects %q after a failed export", keys)
	}
}

// TestFailureBeforeTheFirstPart: a small export that fails sends nothing.
func TestFailureBeforeTheFirstPart(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 10)
	f.w.reader = &failingReader{export: f.store(), err: errors.New("throttled for good")}
	job := f.createJob(t, "contoso")
	f.handle(t, job)
	if j := f.job(t, job.ID); j.Status != store.ExportFailed {
		t.Errorf("job %+v, want failed", j)
	}
	if n := f.ops.count("PutObject") + f.ops.count("CreateMultipartUpload"); n != 0 {
		t.Errorf("S3 calls %v: nothing should have been sent", f.ops.ops)
	}
	if keys := f.objects(t, job.ID); len(keys) != 0 {
		t.Errorf("objects %q after a failed export", keys)
	}
}

// TestTakeoverOverwrites: attempt 1 uploaded a file and died before
// recording it (its lease ran out). The record's retry is attempt 2: it
// writes the same key, so there is one file, with attempt 2's rows, and the
// counts are set once.
func TestTakeoverOverwrites(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 12)
	job := f.createJob(t, "contoso")
	key := f.abandonedAttempt(t, job, "half,a,file\r\n")
	if resp := f.deliverJob(t, job); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("batch item failures %+v", resp.BatchItemFailures)
	}
	done := f.job(t, job.ID)
	if done.Status != store.ExportSucceeded || done.Attempt != 2 || done.Rows != 12 {
		t.Errorf("job %+v, want succeeded by attempt 2 with 12 rows", done)
	}
	if keys := f.objects(t, job.ID); !slices.Equal(keys, []string{key}) {
		t.Errorf("objects %q, want only %s", keys, key)
	}
	if records := f.read(t, key); len(records) != 13 || records[0][0] != "customerId" {
		t.Errorf("file has %d records starting %q: attempt 1's file was not replaced", len(records), records[0])
	}
}

// TestFailedTakeoverLeavesNoFile: attempt 1 uploaded a file and died;
// attempt 2 fails. The job is failed and the file attempt 1 left is gone,
// so nothing half-done stays next to a failed job.
func TestFailedTakeoverLeavesNoFile(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 5)
	f.w.reader = &failingReader{export: f.store(), err: errors.New("gone")}
	job := f.createJob(t, "contoso")
	f.abandonedAttempt(t, job, "attempt 1's file\r\n")
	f.handle(t, job)
	if j := f.job(t, job.ID); j.Status != store.ExportFailed || j.Attempt != 2 {
		t.Errorf("job %+v, want failed by attempt 2", j)
	}
	if keys := f.objects(t, job.ID); len(keys) != 0 {
		t.Errorf("objects %q left next to a failed job", keys)
	}
}

// abandonedAttempt stands for an attempt 1 that claimed the job (its lease
// ran out 19 minutes ago), uploaded content to the job's file and died
// before recording it; it gives the file's key.
func (f *fixture) abandonedAttempt(t *testing.T, job store.ExportJob, content string) string {
	t.Helper()
	past := time.Now().Add(-20 * time.Minute)
	if _, err := f.store().ClaimExport(context.Background(), f.tenant, job.ID, past, past.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	key := "exports/partner-a/" + job.ID + "/users-" + job.CreatedAt.Format("2006-01-02") + ".csv"
	if _, err := f.s3.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: &f.env.Bucket, Key: &key, Body: strings.NewReader(content),
	}); err != nil {
		t.Fatal(err)
	}
	return key
}

// TestBusyJobIsRetried: while a live attempt holds the job, a duplicate
// record is handed back for a retry and changes nothing.
func TestBusyJobIsRetried(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 3)
	job := f.createJob(t, "contoso")
	now := time.Now()
	if _, err := f.store().ClaimExport(context.Background(), f.tenant, job.ID, now, now.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	resp := f.deliverJob(t, job)
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "4421584500000000017450439091" {
		t.Errorf("batch item failures %+v, want the record's sequence number", resp.BatchItemFailures)
	}
	if j := f.job(t, job.ID); j.Status != store.ExportRunning || j.Attempt != 1 {
		t.Errorf("job %+v, want still attempt 1's", j)
	}
	if len(f.objects(t, job.ID)) != 0 {
		t.Error("a file was written for a job another attempt holds")
	}
}

// ingestingReader lands a real ingest of new users for the customer while
// the export reads the old generation, the first time only.
type ingestingReader struct {
	failingReader
	once sync.Once
	land func()
}

func (r *ingestingReader) GenerationUsers(ctx context.Context, t license.Tenant, id string, gen int64, shards int, fn func(store.UserRow) error) error {
	r.once.Do(r.land)
	return r.export.GenerationUsers(ctx, t, id, gen, shards, fn)
}

// TestIngestDuringExportStartsOver: the generation being read is replaced
// (and deleted) by an ingest; the export notices, starts over and delivers
// the new users complete, in the same single file.
func TestIngestDuringExportStartsOver(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 20)
	f.w.reader = &ingestingReader{
		failingReader: failingReader{export: f.store()},
		land:          func() { f.ingestUsers(t, "contoso", "2026-11-21", 7, "new") },
	}
	job := f.createJob(t, "contoso")
	if resp := f.handle(t, job); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("batch item failures %+v", resp.BatchItemFailures)
	}
	done := f.job(t, job.ID)
	if done.Status != store.ExportSucceeded || done.Rows != 7 {
		t.Fatalf("job %+v, want the 7 new users", done)
	}
	records := f.read(t, done.ObjectKey)
	for _, r := range records[1:] {
		if !strings.HasPrefix(r[3], "new") || r[2] != "2026-11-21" {
			t.Errorf("row %q is not from the new generation", r)
		}
	}
	if keys := f.objects(t, job.ID); len(keys) != 1 {
		t.Errorf("objects %q, want one", keys)
	}
}

func TestIgnoresOtherRecords(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	job := f.createJob(t, "contoso")
	k, _ := store.ExportKey(f.tenant, job.ID)
	for name, payload := range map[string][]byte{
		"MODIFY of a job":         event(t, "MODIFY", k.PK, k.SK),
		"REMOVE of a job":         event(t, "REMOVE", k.PK, k.SK),
		"INSERT of figures":       event(t, "INSERT", "T#partner-a#C#contoso", "FIGURES"),
		"INSERT with a bad key":   event(t, "INSERT", "T#partner-a", "EXPORT#../../x"),
		"INSERT of a missing job": event(t, "INSERT", k.PK, "EXPORT#"+store.NewExportID(time.Now())),
	} {
		if resp := f.deliver(t, payload); len(resp.BatchItemFailures) != 0 {
			t.Errorf("%s: batch item failures %+v", name, resp.BatchItemFailures)
		}
	}
	if j := f.job(t, job.ID); j.Status != store.ExportPending {
		t.Errorf("job %+v, want untouched", j)
	}
	if n := len(f.ops.ops); n != 0 {
		t.Errorf("S3 calls %v for records with nothing to do", f.ops.ops)
	}
}
