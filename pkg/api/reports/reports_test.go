package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/licenseinsights/licenseinsights/pkg/api/proxyevent"
	"github.com/licenseinsights/licenseinsights/pkg/blob"
	"github.com/licenseinsights/licenseinsights/pkg/catalog"
	"github.com/licenseinsights/licenseinsights/pkg/ingest"
	"github.com/licenseinsights/licenseinsights/pkg/license/licensetest"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/licenseinsights/licenseinsights/internal/devstack/devstacktest"
	"github.com/licenseinsights/licenseinsights/pkg/config"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

func TestMain(m *testing.M) { devstacktest.Main(m) }

func newHandler(t *testing.T) (*Handler, *store.Store) {
	t.Helper()
	db, table := devstacktest.Table(t)
	s3c, bucket := devstacktest.Bucket(t)
	return handlerOn(db, s3c, table, bucket)
}

// handlerOn builds the handler as pkg/app.Ingest does, on the given clients
// (tests hand in clients with injected faults).
func handlerOn(db *dynamodb.Client, s3c *s3.Client, table, bucket string) (*Handler, *store.Store) {
	st := store.New(db, table)
	cfg := config.Default()
	ing := ingest.New(st, ingest.Config{UpsellDeploymentPercent: cfg.UpsellDeploymentPercent, UpsellUsagePercent: cfg.UpsellUsagePercent, ProductName: catalog.Name})
	return New(ing, st, blob.New(s3c, bucket), cfg), st
}

// call sends an API Gateway proxy event through Invoke, as Lambda would.
func call(t *testing.T, h *Handler, tenant, role, method, resource string, params, query map[string]string, body string) (int, map[string]any) {
	t.Helper()
	payload := proxyevent.Request{
		Method: method, Resource: resource, Path: params, Query: query, Body: body, Tenant: tenant, Role: role,
	}.JSON()
	out, err := h.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	resp := out.(events.APIGatewayProxyResponse)
	var m map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &m); err != nil {
		t.Fatalf("body %q: %v", resp.Body, err)
	}
	return resp.StatusCode, m
}

// snapshot is a two-user customer: E3 × 2 sold (own), alice active in
// exchange on D−3, bob never active.
func snapshot(customer string, bobName string) string {
	return fmt.Sprintf(`{"schema":"license-snapshot/v1",
 "customer":{"id":%q,"name":"Fabrikam Inc"},
 "reportDate":"2026-11-20",
 "subscriptions":[{"id":"s1","sku":"SPE_E3","name":"Microsoft 365 E3","quantity":2,"status":"active","trial":false,"channel":"own","renewalDate":"2027-01-31"}],
 "users":[
  {"key":"alice@fabrikam.com","displayName":"Alice","deleted":false,"licenses":[{"sku":"SPE_E3","assignedDate":"2025-01-01"}],
   "workloads":{"exchange":{"licensed":true,"lastActivity":"2026-11-17"}}},
  {"key":"bob@fabrikam.com","displayName":%q,"deleted":false,"licenses":[{"sku":"SPE_E3","assignedDate":"2025-02-01"}],
   "workloads":{"exchange":{"licensed":true,"lastActivity":null}}}]}`, customer, bobName)
}

func TestPostReport(t *testing.T) {
	h, st := newHandler(t)
	params := map[string]string{"customerId": "fabrikam"}
	const route = "/v1/customers/{customerId}/reports"

	status, body := call(t, h, "acme", "writer", "POST", route, params, nil, snapshot("fabrikam", "Bob"))
	if status != 200 || body["status"] != "accepted" || body["kind"] != "snapshot" || body["users"] != 2.0 || body["subscriptions"] != 1.0 || body["reportDate"] != "2026-11-20" {
		t.Fatalf("first ingest: %d %v", status, body)
	}
	f, err := st.Figures(context.Background(), licensetest.Tenant(t, "acme"), "fabrikam")
	if err != nil {
		t.Fatal(err)
	}
	// Deployment 2/2; exchange: 2 entitlements, 1 active (alice, D−3).
	d := f.Figures.Deployment()
	w, _ := f.Figures.Window(28)
	if d.Sold.Own != 2 || d.Assigned != 2 || w.Workloads[0].Entitlements != 2 || w.Workloads[0].Active != 1 {
		t.Fatalf("stored figures: %+v %+v", d, w.Workloads[0])
	}

	// The same document again changes nothing.
	status, body = call(t, h, "acme", "writer", "POST", route, params, nil, snapshot("fabrikam", "Bob"))
	if status != 200 || body["status"] != "unchanged" {
		t.Fatalf("resend: %d %v", status, body)
	}

	// A reader may not ingest.
	if status, body = call(t, h, "acme", "reader", "POST", route, params, nil, snapshot("fabrikam", "Bob")); status != 403 {
		t.Fatalf("reader: %d %v", status, body)
	}

	// The body's customer must be the path's.
	status, body = call(t, h, "acme", "writer", "POST", route, map[string]string{"customerId": "contoso"}, nil, snapshot("fabrikam", "Bob"))
	if status != 422 {
		t.Fatalf("customer mismatch: %d %v", status, body)
	}

	// A bad row is reported with line, column and reason, and nothing changes.
	bad := strings.Replace(snapshot("fabrikam", "Bobby"), `"assignedDate":"2025-02-01"`, `"assignedDate":"2025-02-31"`, 1)
	status, body = call(t, h, "acme", "writer", "POST", route, params, nil, bad)
	if status != 422 {
		t.Fatalf("bad date: %d %v", status, body)
	}
	e := body["error"].(map[string]any)
	details := e["details"].([]any)
	if e["code"] != "invalid_document" || len(details) != 1 {
		t.Fatalf("bad date error: %v", e)
	}
	p := details[0].(map[string]any)
	if p["line"].(float64) < 1 || !strings.Contains(p["column"].(string), "assignedDate") || p["reason"] == "" {
		t.Fatalf("problem: %v", p)
	}
	after, err := st.Figures(context.Background(), licensetest.Tenant(t, "acme"), "fabrikam")
	if err != nil || after.Version != f.Version {
		t.Fatalf("rejected document changed the figures: version %d → %d (%v)", f.Version, after.Version, err)
	}

	// Unknown kind and empty body are 400; an oversized body is 413.
	if status, _ = call(t, h, "acme", "writer", "POST", route, params, map[string]string{"kind": "excel"}, snapshot("fabrikam", "Bob")); status != 400 {
		t.Fatalf("unknown kind: %d", status)
	}
	if status, _ = call(t, h, "acme", "writer", "POST", route, params, nil, "  "); status != 400 {
		t.Fatalf("empty body: %d", status)
	}
	if status, body = call(t, h, "acme", "writer", "POST", route, params, nil, strings.Repeat(" ", 6<<20)); status != 413 || !strings.Contains(body["error"].(map[string]any)["message"].(string), "/v1/uploads") {
		t.Fatalf("oversized body: %d %v", status, body)
	}
}

// TestUploadFlow creates an upload, PUTs the document through the presigned
// URL to the real S3 server, delivers the EventBridge event the bucket
// would emit (twice, as at-least-once delivery may), and reads the outcome.
func TestUploadFlow(t *testing.T) {
	h, st := newHandler(t)
	// The kind as a person might type it: the upload keeps the kind it
	// names.
	status, body := call(t, h, "acme", "writer", "POST", "/v1/uploads", nil, nil, `{"customerId":"fabrikam","kind":" Snapshot "}`)
	if status != 201 || body["status"] != "pending" || body["method"] != "PUT" {
		t.Fatalf("create upload: %d %v", status, body)
	}
	id := body["uploadId"].(string)
	url := body["uploadUrl"].(string)

	req, _ := http.NewRequest(http.MethodPut, url, strings.NewReader(snapshot("fabrikam", "Bob")))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("presigned PUT: %s", resp.Status)
	}
	// A tampered URL is refused by the S3 server.
	tampered := strings.Replace(url, "uploads%2Facme", "uploads%2Fevil", 1)
	tampered = strings.Replace(tampered, "uploads/acme", "uploads/evil", 1)
	req, _ = http.NewRequest(http.MethodPut, tampered, strings.NewReader("x"))
	if resp, err = http.DefaultClient.Do(req); err != nil || resp.StatusCode != 403 {
		t.Fatalf("tampered PUT: %v %v", resp.Status, err)
	}
	resp.Body.Close()

	// Before the object's event: pending. Another tenant: 404.
	if status, body = call(t, h, "acme", "reader", "GET", "/v1/uploads/{uploadId}", map[string]string{"uploadId": id}, nil, ""); status != 200 || body["status"] != "pending" || body["kind"] != "snapshot" {
		t.Fatalf("pending: %d %v", status, body)
	}
	if status, _ = call(t, h, "other", "reader", "GET", "/v1/uploads/{uploadId}", map[string]string{"uploadId": id}, nil, ""); status != 404 {
		t.Fatalf("other tenant: %d", status)
	}

	ev := objectCreated(h.blob.Bucket(), "uploads/acme/"+id)
	for range 2 {
		if _, err := h.Invoke(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	status, body = call(t, h, "acme", "reader", "GET", "/v1/uploads/{uploadId}", map[string]string{"uploadId": id}, nil, "")
	result, _ := body["result"].(map[string]any)
	if status != 200 || body["status"] != "succeeded" || result["users"] != 2.0 || body["attempts"] != 1.0 {
		t.Fatalf("after the event: %d %v", status, body)
	}
	f, err := st.Figures(context.Background(), licensetest.Tenant(t, "acme"), "fabrikam")
	if err != nil || f.Version != 1 {
		t.Fatalf("figures after the upload (delivered twice): %+v %v", f, err)
	}
}

func TestUploadOfInvalidDocumentFails(t *testing.T) {
	h, _ := newHandler(t)
	_, body := call(t, h, "acme", "writer", "POST", "/v1/uploads", nil, nil, `{"customerId":"fabrikam"}`)
	id := body["uploadId"].(string)
	key := "uploads/acme/" + id
	if err := h.blob.Upload(context.Background(), key, "application/json", bytes.NewReader([]byte(`{"schema":"license-snapshot/v1"}`))); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Invoke(context.Background(), objectCreated(h.blob.Bucket(), key)); err != nil {
		t.Fatal(err)
	}
	_, body = call(t, h, "acme", "reader", "GET", "/v1/uploads/{uploadId}", map[string]string{"uploadId": id}, nil, "")
	result, _ := body["result"].(map[string]any)
	errBody, _ := result["error"].(map[string]any)
	if body["status"] != "failed" || errBody["code"] != "invalid_document" || len(errBody["details"].([]any)) == 0 {
		t.Fatalf("invalid upload: %v", body)
	}
}

func TestCreateUploadValidation(t *testing.T) {
	h, _ := newHandler(t)
	for _, b := range []string{`{"customerId":""}`, `{"customerId":"a b"}`, `{"customerId":"x","kind":"pdf"}`, `{"customerId":"x","tenant":"evil"}`, `nope`} {
		if status, body := call(t, h, "acme", "writer", "POST", "/v1/uploads", nil, nil, b); status != 400 {
			t.Errorf("%s: %d %v", b, status, body)
		}
	}
}

func objectCreated(bucket, key string) json.RawMessage {
	b, _ := json.Marshal(map[string]any{
		"version": "0", "id": "e1", "detail-type": "Object Created", "source": "aws.s3",
		"account": "000000000000", "time": time.Now().UTC().Format(time.RFC3339), "region": "us-east-1",
		"resources": []string{"arn:aws:s3:::" + bucket},
		"detail": map[string]any{
			"version": "0", "bucket": map[string]any{"name": bucket},
			"object":     map[string]any{"key": key, "size": 100, "etag": "x", "sequencer": "1"},
			"request-id": "r", "requester": "000000000000", "reason": "PutObject",
		},
	})
	return b
}
