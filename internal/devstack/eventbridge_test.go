package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/licenseinsights/licenseinsights/internal/devstack/devstacktest"
	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
)

// uploadRule is template.yaml's UploadArrived rule, as the template reader
// gives it (the bucket still a !Ref).
var uploadRule = infra.EventBridgeSource{
	Function: "IngestFunction", Event: "UploadArrived",
	Pattern: map[string]any{
		"source":      []any{"aws.s3"},
		"detail-type": []any{"Object Created"},
		"detail": map[string]any{
			"bucket": map[string]any{"name": []any{map[string]any{"Ref": "DataBucket"}}},
			"object": map[string]any{"key": []any{map[string]any{"prefix": "uploads/"}}},
		},
	},
}

// s3Recorder is a tiny EventBridge handler.
type s3Recorder struct {
	mu     sync.Mutex
	events []events.EventBridgeEvent
	fail   bool
}

func (r *s3Recorder) handle(_ context.Context, ev events.EventBridgeEvent) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	if r.fail {
		return errors.New("cannot ingest this")
	}
	return nil
}

func (r *s3Recorder) seen() []events.EventBridgeEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]events.EventBridgeEvent(nil), r.events...)
}

func runS3Events(t *testing.T, e *S3Events) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != context.Canceled {
			t.Errorf("S3 events ended with %v", err)
		}
	})
}

// TestS3EventsFromTheWebhook: versitygw's notification alone delivers the
// event (the bucket is not listed: no WaitIdle, and the listing interval is
// an hour), in EventBridge's shape, filtered by the rule.
func TestS3EventsFromTheWebhook(t *testing.T) {
	t.Parallel()
	rec := &s3Recorder{}
	fn := &Function{LogicalID: "IngestFunction", Handler: lambda.NewHandler(rec.handle)}
	const bucket = "webhook-test"
	var e *S3Events
	hook := httptest.NewServer(&switchHandler{})
	t.Cleanup(hook.Close)
	srv, err := infra.StartS3With(t.Context(), infra.S3Options{Dir: t.TempDir(), EventWebhookURL: hook.URL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	client := srv.Client()
	if err := infra.CreateBucket(t.Context(), client, bucket); err != nil {
		t.Fatal(err)
	}
	e, err = NewS3Events([]infra.EventBridgeSource{uploadRule}, map[string]*Function{"IngestFunction": fn},
		map[string]string{"DataBucket": bucket}, S3EventsConfig{Bucket: bucket, Client: client, ListEvery: time.Hour, Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	hook.Config.Handler.(*switchHandler).set(e.Webhook())
	runS3Events(t, e)

	const key = "uploads/demo-partner/a file é.json"
	body := `{"schema":"license-snapshot/v1"}`
	putObject(t, client, bucket, "exports/demo-partner/x.csv", "a,b") // not an upload
	putObject(t, client, bucket, key, body)

	deadline := time.Now().Add(30 * time.Second)
	for len(rec.seen()) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	got := rec.seen()
	if len(got) != 1 {
		t.Fatalf("the webhook delivered %d events, want 1 (the upload): %+v", len(got), got)
	}
	ev := got[0]
	if ev.Source != "aws.s3" || ev.DetailType != "Object Created" || ev.Version != "0" || ev.Region != infra.Region ||
		ev.AccountID != Account || ev.ID == "" || ev.Time.IsZero() || len(ev.Resources) != 1 || ev.Resources[0] != "arn:aws:s3:::"+bucket {
		t.Errorf("envelope: %+v", ev)
	}
	var detail struct {
		Version string `json:"version"`
		Bucket  struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object struct {
			Key       string `json:"key"`
			Size      int64  `json:"size"`
			ETag      string `json:"etag"`
			Sequencer string `json:"sequencer"`
		} `json:"object"`
		RequestID string `json:"request-id"`
		Requester string `json:"requester"`
		Reason    string `json:"reason"`
	}
	if err := json.Unmarshal(ev.Detail, &detail); err != nil {
		t.Fatal(err)
	}
	if detail.Bucket.Name != bucket || detail.Object.Key != key || detail.Object.Size != int64(len(body)) ||
		detail.Object.ETag == "" || strings.Contains(detail.Object.ETag, `"`) || detail.Object.Sequencer == "" ||
		detail.Reason != "PutObject" || detail.Version != "0" || detail.Requester != Account {
		t.Errorf("detail: %+v", detail)
	}

	// Listing afterwards finds the same object: it is not delivered twice.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := e.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.seen()); n != 1 {
		t.Errorf("after WaitIdle listed the bucket: %d deliveries, want still 1", n)
	}
}

// TestS3EventsListingRetriesAndGivesUp: without notifications, WaitIdle's
// listing finds the object; a function that keeps failing is tried three
// times (Lambda's two retries of an asynchronous invocation) and the event
// lands in the on-failure file.
func TestS3EventsListingRetriesAndGivesUp(t *testing.T) {
	t.Parallel()
	rec := &s3Recorder{fail: true}
	fn := &Function{LogicalID: "IngestFunction", Handler: lambda.NewHandler(rec.handle)}
	client, bucket := devstacktest.Bucket(t)
	failureFile := filepath.Join(t.TempDir(), "on-failure.jsonl")
	e, err := NewS3Events([]infra.EventBridgeSource{uploadRule}, map[string]*Function{"IngestFunction": fn},
		map[string]string{"DataBucket": bucket}, S3EventsConfig{
			Bucket: bucket, Client: client, ListEvery: time.Hour, Retries: -1,
			FailureFile: failureFile, Backoff: func(int) time.Duration { return 0 },
		})
	if err != nil {
		t.Fatal(err)
	}
	runS3Events(t, e)
	putObject(t, client, bucket, "uploads/t/u1", "x")

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := e.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.seen()); n != 3 {
		t.Errorf("%d invocations, want 3 (the first and two retries)", n)
	}
	data, err := os.ReadFile(failureFile)
	if err != nil {
		t.Fatalf("no on-failure file: %v", err)
	}
	var entry struct {
		RequestContext struct {
			Condition              string `json:"condition"`
			ApproximateInvokeCount int    `json:"approximateInvokeCount"`
		} `json:"requestContext"`
		RequestPayload  events.EventBridgeEvent `json:"requestPayload"`
		ResponsePayload struct {
			ErrorMessage string `json:"errorMessage"`
		} `json:"responsePayload"`
	}
	if err := json.Unmarshal(data, &entry); err != nil {
		t.Fatalf("on-failure file %s: %v", data, err)
	}
	if entry.RequestContext.Condition != "RetriesExhausted" || entry.RequestContext.ApproximateInvokeCount != 3 ||
		entry.RequestPayload.DetailType != "Object Created" || !strings.Contains(entry.ResponsePayload.ErrorMessage, "cannot ingest this") {
		t.Errorf("on-failure entry: %s", data)
	}
}

func TestS3EventsRejectsUnresolvedReferences(t *testing.T) {
	_, err := NewS3Events([]infra.EventBridgeSource{uploadRule}, nil, map[string]string{}, S3EventsConfig{})
	if err == nil || !strings.Contains(err.Error(), "intrinsic function") {
		t.Errorf("a pattern with an unresolved !Ref: %v", err)
	}
}

func putObject(t *testing.T, client *s3.Client, bucket, key, body string) {
	t.Helper()
	if _, err := client.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
		t.Fatalf("PutObject %s: %v", key, err)
	}
}
