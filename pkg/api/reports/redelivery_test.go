package reports

import (
	"bytes"
	"context"
	"errors"
	"github.com/licenseinsights/licenseinsights/pkg/license/licensetest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	"github.com/licenseinsights/licenseinsights/internal/devstack/devstacktest"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

// failingReads is the S3 client whose first n GetObject calls fail (an
// injected fault on the real S3 server's client: everything else goes over
// the wire).
func failingReads(c *s3.Client, n int64) *s3.Client {
	var left atomic.Int64
	left.Store(n)
	return s3.New(c.Options(), func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("injectedFault",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					if awsmiddleware.GetOperationName(ctx) == "GetObject" && left.Add(-1) >= 0 {
						return middleware.InitializeOutput{}, middleware.Metadata{}, errors.New("injected fault: connection reset")
					}
					return next.HandleInitialize(ctx, in)
				}), middleware.Before)
		})
	})
}

// uploadWithFaults is a handler whose first n object reads fail, and a
// pending upload of the two-user snapshot for customer fabrikam of acme.
func uploadWithFaults(t *testing.T, n int64) (h *Handler, id string, event []byte) {
	t.Helper()
	db, table := devstacktest.Table(t)
	s3c, bucket := devstacktest.Bucket(t)
	h, _ = handlerOn(db, failingReads(s3c, n), table, bucket)
	status, body := call(t, h, "acme", "writer", "POST", "/v1/uploads", nil, nil, `{"customerId":"fabrikam","kind":"snapshot"}`)
	if status != 201 {
		t.Fatalf("create upload: %d %v", status, body)
	}
	id = body["uploadId"].(string)
	key := "uploads/acme/" + id
	if err := h.blob.Upload(context.Background(), key, "application/json", bytes.NewReader([]byte(snapshot("fabrikam", "Bob")))); err != nil {
		t.Fatal(err)
	}
	return h, id, objectCreated(bucket, key)
}

// TestUploadRetriedAfterAFailedAttempt: the first attempt's read of the
// object fails (injected); the attempt releases its claim and returns the
// error (so Lambda retries the event), and the redelivery, arriving at
// once — well inside the old 16-minute lease — ingests the upload.
func TestUploadRetriedAfterAFailedAttempt(t *testing.T) {
	h, id, ev := uploadWithFaults(t, 1)
	// Lambda's context carries the function's deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if _, err := h.Invoke(ctx, ev); err == nil {
		t.Fatal("the failed attempt returned no error: Lambda would not retry it")
	}
	status, body := call(t, h, "acme", "reader", "GET", "/v1/uploads/{uploadId}", map[string]string{"uploadId": id}, nil, "")
	if status != 200 || body["status"] != "pending" || body["attempts"] != 1.0 || !strings.Contains(body["lastError"].(string), "retried automatically") {
		t.Fatalf("after the failed attempt: %d %v", status, body)
	}
	if _, err := h.Invoke(ctx, ev); err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	status, body = call(t, h, "acme", "reader", "GET", "/v1/uploads/{uploadId}", map[string]string{"uploadId": id}, nil, "")
	result, _ := body["result"].(map[string]any)
	// The snapshot has two users (alice, bob): the outcome counts them.
	if status != 200 || body["status"] != "succeeded" || body["attempts"] != 2.0 || result["users"] != 2.0 || body["lastError"] != nil {
		t.Fatalf("after the redelivery: %d %v", status, body)
	}
	// A third delivery (at-least-once) changes nothing.
	if _, err := h.Invoke(ctx, ev); err != nil {
		t.Fatal(err)
	}
	f, err := h.store.Figures(context.Background(), licensetest.Tenant(t, "acme"), "fabrikam")
	if err != nil || f.Version != 1 || f.Users != 2 {
		t.Fatalf("figures: %+v %v", f, err)
	}
}

// TestUploadFailsAfterEveryAttempt: every read fails; the first two
// attempts release the upload, the third (store.MaxUploadAttempts) fails it
// with the cause and what to do, and nothing of the customer is written.
func TestUploadFailsAfterEveryAttempt(t *testing.T) {
	h, id, ev := uploadWithFaults(t, 1000)
	for i := 1; i <= store.MaxUploadAttempts; i++ {
		_, err := h.Invoke(context.Background(), ev)
		if i < store.MaxUploadAttempts && err == nil {
			t.Fatalf("attempt %d returned no error", i)
		}
		if i == store.MaxUploadAttempts && err != nil {
			t.Fatalf("the last attempt recorded the failure, and must not ask for another retry: %v", err)
		}
	}
	status, body := call(t, h, "acme", "reader", "GET", "/v1/uploads/{uploadId}", map[string]string{"uploadId": id}, nil, "")
	result, _ := body["result"].(map[string]any)
	errBody, _ := result["error"].(map[string]any)
	msg, _ := errBody["message"].(string)
	if status != 200 || body["status"] != "failed" || body["attempts"] != 3.0 || errBody["code"] != "ingest_failed" ||
		!strings.Contains(msg, "could not be read from storage") || !strings.Contains(msg, "POST /v1/uploads") || body["completedAt"] == nil {
		t.Fatalf("after every attempt failed: %d %v", status, body)
	}
	// A late redelivery finds it done.
	if _, err := h.Invoke(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.Figures(context.Background(), licensetest.Tenant(t, "acme"), "fabrikam"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the customer was written: %v", err)
	}
}

// TestUploadAbandonedReadsAsFailed: a worker killed outright (no release)
// leaves the upload processing; once its lease and the grace are past, no
// retry is coming and the upload reads as failed, with what to do.
func TestUploadAbandonedReadsAsFailed(t *testing.T) {
	h, id, _ := uploadWithFaults(t, 0)
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	lease := start.Add(15*time.Minute + uploadLeaseMargin)
	if _, err := h.store.StartUpload(context.Background(), licensetest.Tenant(t, "acme"), id, start, lease); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		at   time.Time
		want string
	}{
		{lease.Add(store.UploadLeaseGrace - time.Second), "processing"},
		{lease.Add(store.UploadLeaseGrace + time.Second), "failed"},
	} {
		h.now = func() time.Time { return c.at }
		_, body := call(t, h, "acme", "reader", "GET", "/v1/uploads/{uploadId}", map[string]string{"uploadId": id}, nil, "")
		if body["status"] != c.want {
			t.Fatalf("at %s: %v, want %s", c.at, body, c.want)
		}
		if c.want == "failed" {
			errBody := body["result"].(map[string]any)["error"].(map[string]any)
			if errBody["code"] != "ingest_stopped" || !strings.Contains(errBody["message"].(string), "Upload the document again") {
				t.Fatalf("abandoned: %v", body)
			}
		}
	}
}

// TestUploadOutcomeNotRecordedIsRetried: the ingest succeeds but recording
// the outcome fails (the upload's third PutItem: create, claim, finish).
// The attempt releases the upload and asks for a retry; the redelivery
// finds the document already current ("unchanged", nothing counted twice)
// and the upload ends succeeded.
func TestUploadOutcomeNotRecordedIsRetried(t *testing.T) {
	db, table := devstacktest.Table(t)
	s3c, bucket := devstacktest.Bucket(t)
	var puts atomic.Int64
	faulty := dynamodb.New(db.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("injectedFault",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					if awsmiddleware.GetOperationName(ctx) == "PutItem" && puts.Add(1) == 3 {
						return middleware.InitializeOutput{}, middleware.Metadata{}, errors.New("injected fault: connection reset")
					}
					return next.HandleInitialize(ctx, in)
				}), middleware.Before)
		})
	})
	h, _ := handlerOn(faulty, s3c, table, bucket)
	_, body := call(t, h, "acme", "writer", "POST", "/v1/uploads", nil, nil, `{"customerId":"fabrikam","kind":"snapshot"}`)
	id := body["uploadId"].(string)
	key := "uploads/acme/" + id
	if err := h.blob.Upload(context.Background(), key, "application/json", bytes.NewReader([]byte(snapshot("fabrikam", "Bob")))); err != nil {
		t.Fatal(err)
	}
	ev := objectCreated(bucket, key)
	if _, err := h.Invoke(context.Background(), ev); err == nil {
		t.Fatal("the attempt whose outcome was lost asked for no retry")
	}
	if _, body = call(t, h, "acme", "reader", "GET", "/v1/uploads/{uploadId}", map[string]string{"uploadId": id}, nil, ""); body["status"] != "pending" {
		t.Fatalf("after the lost outcome: %v", body)
	}
	if _, err := h.Invoke(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	_, body = call(t, h, "acme", "reader", "GET", "/v1/uploads/{uploadId}", map[string]string{"uploadId": id}, nil, "")
	result, _ := body["result"].(map[string]any)
	if body["status"] != "succeeded" || body["attempts"] != 2.0 || result["status"] != "unchanged" || result["version"] != 1.0 {
		t.Fatalf("after the redelivery: %v", body)
	}
}
