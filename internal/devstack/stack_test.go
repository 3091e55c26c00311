package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/licenseinsights/licenseinsights/internal/devstack/devstacktest"
	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
	"github.com/licenseinsights/licenseinsights/pkg/app"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/portfoliogen"
)

// startStack runs the whole stack on the test binary's DynamoDB Local,
// with the registry's real handlers.
func startStack(t *testing.T, tokens string) *Stack {
	t.Helper()
	toks, err := ParseTokens(tokens)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Start(t.Context(), Options{
		Tokens:              toks,
		RequireAllFunctions: true,
		DynamoDBEndpoint:    devstacktest.DynamoDBEndpoint(),
		TableName:           fmt.Sprintf("stack-%d", time.Now().UnixNano()),
		Getenv:              func(string) string { return "" },
		StreamPoll:          50 * time.Millisecond,
		RetryBackoff:        func(int) time.Duration { return 10 * time.Millisecond },
	})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return s
}

func call(t *testing.T, s *Stack, method, path, token string, body []byte) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.APIURL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: %d %q is not a JSON object", method, path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, out
}

func waitStackIdle(t *testing.T, s *Stack) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if err := s.WaitIdle(ctx); err != nil {
		t.Fatalf("WaitIdle: %v", err)
	}
}

// TestStackEndToEnd drives the stack as `make run` users do: demo data
// posted through the gateway (directly and through a presigned upload),
// the roll-up fed by the table stream, and the API answering per tenant.
func TestStackEndToEnd(t *testing.T) {
	s := startStack(t, "demo=demo-partner,other=tenant-b,ro=demo-partner:reader")

	// Ten customers: the plan sends nine through the API in every format
	// and the tenth (index 9) as a presigned upload that the S3 trigger
	// ingests.
	sum, err := s.LoadDemo(t.Context(), DemoOptions{Customers: 10, Users: 12})
	if err != nil {
		t.Fatalf("LoadDemo: %v", err)
	}
	// With seed 1, four of the ten customers hold Copilot seats and send
	// their Copilot usage report too (portfoliogen.HasCopilot).
	if sum.Tenant != "demo-partner" || sum.Customers != 10 || sum.Uploads != 1 || sum.Documents != 17 {
		t.Errorf("demo summary %+v: want 10 customers for demo-partner, 17 documents (7 snapshots, 2×2 Graph, 1×3 Graph/Partner Center, 4 Copilot reports) and 1 upload", sum)
	}

	// LoadDemo waited for the roll-up: the portfolio counts all ten,
	// including the uploaded one, which only the S3 trigger could ingest.
	status, portfolio := call(t, s, "GET", "/v1/portfolio", "demo", nil)
	if status != 200 {
		t.Fatalf("GET /v1/portfolio: %d %v", status, portfolio)
	}
	if got := portfolio["customers"]; got != float64(10) {
		t.Errorf("portfolio customers = %v, want 10", got)
	}
	customers := portfoliogen.Customers(portfoliogen.Config{Seed: 1, Customers: 10, Users: 12})
	uploaded := customers[9].ID
	if status, body := call(t, s, "GET", "/v1/customers/"+uploaded+"/insights", "ro", nil); status != 200 || body["customerId"] != uploaded {
		t.Errorf("insights of the uploaded customer %s: %d %v", uploaded, status, body)
	}

	// Customer 8 sent its directory/subscriptions as two-per-page pages in
	// one document (demoPlan): every page was taken, so each SKU's sold is
	// Σ quantity of its counted subscriptions (docs/definitions.md#figures),
	// excluded products left out, none lost or counted twice.
	paged := customers[8]
	cfg8 := portfoliogen.Config{Seed: 1, Customers: 10, Users: 12, ReportDate: license.DateOf(time.Now())}
	subs := portfoliogen.Subscriptions(cfg8, paged)
	if len(subs) <= demoPageSize {
		t.Fatalf("%s has %d subscriptions: one page, the paged path is not exercised", paged.ID, len(subs))
	}
	wantSold := map[string]float64{}
	for _, sub := range subs {
		if sub.Counted() && (*license.Exclusions)(nil).Reason(sub.SKU, sub.Company) == "" {
			wantSold[sub.SKU] += float64(sub.Quantity)
		}
	}
	status, insights := call(t, s, "GET", "/v1/customers/"+paged.ID+"/insights", "ro", nil)
	if status != 200 {
		t.Fatalf("insights of %s: %d %v", paged.ID, status, insights)
	}
	gotSold := map[string]float64{}
	products, _ := insights["products"].([]any)
	for _, p := range products {
		p, _ := p.(map[string]any)
		sku, _ := p["sku"].(string)
		if sold, _ := p["licensesSold"].(float64); sold > 0 {
			gotSold[sku] = sold
		}
	}
	if !maps.Equal(gotSold, wantSold) {
		t.Errorf("%s (paged directory): sold by SKU %v, want %v", paged.ID, gotSold, wantSold)
	}

	// Tenants are apart: tenant-b sees none of demo-partner's customers.
	if status, body := call(t, s, "GET", "/v1/customers/"+uploaded+"/insights", "other", nil); status != 404 {
		t.Errorf("another tenant's customer: %d %v, want 404", status, body)
	}
	// The reader role cannot ingest (the handler's rule, reached through
	// the authorizer context the gateway set).
	if status, body := call(t, s, "POST", "/v1/customers/x/reports", "ro", []byte("{}")); status != 403 {
		t.Errorf("reader posting a report: %d %v, want 403", status, body)
	}
	if status, body := call(t, s, "GET", "/v1/portfolio", "", nil); status != 401 {
		t.Errorf("no token: %d %v, want 401", status, body)
	}

	// A new upload after start: the object's arrival alone triggers its
	// ingest, and WaitIdle covers it.
	var doc bytes.Buffer
	cfg := portfoliogen.Config{Seed: 7, Customers: 1, Users: 5, ReportDate: license.DateOf(time.Now())}
	spec := portfoliogen.Customers(cfg)[0]
	if err := portfoliogen.WriteSnapshot(&doc, cfg, spec); err != nil {
		t.Fatal(err)
	}
	status, created := call(t, s, "POST", "/v1/uploads", "other", []byte(`{"customerId":"`+spec.ID+`","kind":"snapshot"}`))
	if status != 201 {
		t.Fatalf("POST /v1/uploads: %d %v", status, created)
	}
	uploadURL, _ := created["uploadUrl"].(string)
	if !strings.HasPrefix(uploadURL, s.S3.Endpoint+"/") {
		t.Fatalf("upload URL %q does not point at the local S3 server %s", uploadURL, s.S3.Endpoint)
	}
	put, _ := http.NewRequestWithContext(t.Context(), http.MethodPut, uploadURL, bytes.NewReader(doc.Bytes()))
	resp, err := http.DefaultClient.Do(put)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("PUT to the presigned URL: %d", resp.StatusCode)
	}
	waitStackIdle(t, s)
	status, upload := call(t, s, "GET", "/v1/uploads/"+created["uploadId"].(string), "other", nil)
	if status != 200 || upload["status"] != "succeeded" {
		t.Errorf("upload after WaitIdle: %d %v, want status succeeded", status, upload)
	}
	if status, body := call(t, s, "GET", "/v1/portfolio", "other", nil); status != 200 || body["customers"] != float64(1) {
		t.Errorf("tenant-b's portfolio after its upload: %d customers=%v, want 1", status, body["customers"])
	}
	// A tampered presigned link is refused by the S3 server: signatures
	// are really checked.
	bad, _ := http.NewRequestWithContext(t.Context(), http.MethodPut, strings.Replace(uploadURL, "X-Amz-Signature=", "X-Amz-Signature=0", 1), strings.NewReader("x"))
	if resp, err := http.DefaultClient.Do(bad); err != nil || resp.StatusCode != 403 {
		t.Errorf("tampered presigned PUT: %v %v, want 403", resp.Status, err)
	}
}

func TestStackChecksTheRegistryAgainstTheTemplate(t *testing.T) {
	withoutAggregate := app.Functions()
	delete(withoutAggregate, "AggregateFunction")
	tests := []struct {
		name    string
		opts    Options
		inError []string
	}{
		{"stale entry", Options{Template: writeTemplateWithout(t, "ExportWorkerFunction")},
			[]string{"ExportWorkerFunction", "template.yaml does not declare"}},
		{"missing entry, required", Options{Functions: withoutAggregate, RequireAllFunctions: true},
			[]string{"AggregateFunction", "does not register"}},
	}
	for _, tt := range tests {
		// Both fail before any service starts, so no endpoint is needed.
		_, err := Start(t.Context(), tt.opts)
		for _, want := range tt.inError {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: Start error %v, want it to say %q", tt.name, err, want)
			}
		}
	}
}

// writeTemplateWithout copies template.yaml without one resource.
func writeTemplateWithout(t *testing.T, logicalID string) string {
	t.Helper()
	root, err := infra.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	skipping := false
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   ") && strings.HasSuffix(line, ":") {
			skipping = strings.TrimSpace(line) == logicalID+":"
		}
		if !skipping {
			out = append(out, line)
		}
	}
	path := filepath.Join(t.TempDir(), "template.yaml")
	if err := os.WriteFile(path, []byte(strings.Join(out, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
