package collectit

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/licenseinsights/licenseinsights/pkg/api/collections"
	"github.com/licenseinsights/licenseinsights/pkg/app"
	"github.com/licenseinsights/licenseinsights/pkg/awsenv"
	"github.com/licenseinsights/licenseinsights/pkg/config"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

// TestScheduledRunThroughTheFunction drives CollectFunction's handler as
// Lambda would: the schedule's event starts a run for COLLECT_TENANT over
// every customer Partner Center lists (3 pages of 2), the in-process queue
// collects them, and GET /v1/collections/{id} reports them all succeeded.
// The connection is configured as in AWS — endpoints, client id and
// secret from the environment, the emulator's certificate trusted through
// SSL_CERT_FILE (no test in this binary reads the system roots before).
func TestScheduledRunThroughTheFunction(t *testing.T) {
	w := newWorld(t, 6, 4, 2)
	cert := filepath.Join(t.TempDir(), "emulator.pem")
	if err := os.WriteFile(cert, w.emu.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SSL_CERT_FILE", cert)
	env := map[string]string{
		"LOGIN_BASE_URL": w.emu.URL, "GRAPH_BASE_URL": w.emu.URL, "PARTNER_CENTER_BASE_URL": w.emu.URL,
		"MS_CLIENT_ID": clientID, "MS_CLIENT_SECRET": secret, "PARTNER_TENANT_ID": w.emu.PartnerTenantID(),
		"COLLECT_TENANT": "scheduled", "COLLECT_CONCURRENCY": "2",
	}
	cfg := config.Default()
	cfg.Getenv = func(name string) string { return env[name] }
	// The CollectFunction's handler as pkg/app.Collect builds it.
	runner, settings, err := app.CollectRunner(t.Context(), &awsenv.Env{DynamoDB: w.dynamo, S3: w.s3, Table: w.table, Bucket: w.bucket}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := collections.New(runner.Store, runner, settings)
	out, err := h.Invoke(t.Context(), json.RawMessage(`{"collect":"schedule"}`))
	if err != nil {
		t.Fatal(err)
	}
	run := out.(*store.Collection)
	if run.Trigger != "schedule" || run.Counts[store.CollectPending] != 6 {
		t.Fatalf("scheduled run %+v, want 6 customers pending", run)
	}
	deadline := time.Now().Add(3 * time.Minute)
	var got struct {
		Status    string         `json:"status"`
		Counts    map[string]int `json:"counts"`
		Customers []struct {
			State string `json:"state"`
		} `json:"customers"`
	}
	for {
		ev := events.APIGatewayProxyRequest{
			Resource: "/v1/collections/{collectionId}", Path: "/v1/collections/" + run.ID, HTTPMethod: "GET",
			PathParameters: map[string]string{"collectionId": run.ID},
			RequestContext: events.APIGatewayProxyRequestContext{RequestID: "t", Authorizer: map[string]any{"tenant": "scheduled", "role": "reader"}},
		}
		payload, _ := json.Marshal(ev)
		res, err := h.Invoke(t.Context(), payload)
		if err != nil {
			t.Fatal(err)
		}
		r := res.(events.APIGatewayProxyResponse)
		if r.StatusCode != 200 || json.Unmarshal([]byte(r.Body), &got) != nil {
			t.Fatalf("GET the run: %d %s", r.StatusCode, r.Body)
		}
		if got.Status != store.RunRunning || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got.Status != store.RunSucceeded || got.Counts[store.CollectSucceeded] != 6 || len(got.Customers) != 6 {
		t.Fatalf("the scheduled run: %+v, want succeeded over 6 customers", got)
	}
	pages := 0
	for _, r := range w.emu.Requests() {
		if strings.HasPrefix(r.Path, "/v1/customers?") {
			pages++
		}
	}
	if pages != 3 {
		t.Errorf("%d Partner Center customer pages, want 3 (6 customers, 2 a page)", pages)
	}
}
