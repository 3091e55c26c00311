package reports

import (
	"context"
	"errors"
	"github.com/licenseinsights/licenseinsights/pkg/license/licensetest"
	"strings"
	"testing"

	"github.com/licenseinsights/licenseinsights/pkg/store"
)

// TestDeleteCustomer: DELETE /v1/customers/{id} as a writer removes the
// customer's figures and history and the upload sent for it (record and
// object); another tenant and a reader cannot, and a second delete is 404.
// (The portfolio side: pkg/worker/rollup TestDeleteCustomerKeepsThePortfolioExact.)
func TestDeleteCustomer(t *testing.T) {
	h, st := newHandler(t)
	ctx := context.Background()
	if status, body := postSnapshot(t, h, snapshot("fabrikam", "Bob"), nil); status != 200 {
		t.Fatalf("post: %d %v", status, body)
	}
	_, body := call(t, h, "acme", "writer", "POST", "/v1/uploads", nil, nil, `{"customerId":"fabrikam","kind":"snapshot"}`)
	uploadID := body["uploadId"].(string)
	key := "uploads/acme/" + uploadID
	if err := h.blob.Upload(ctx, key, "application/json", strings.NewReader(snapshot("fabrikam", "Bob"))); err != nil {
		t.Fatal(err)
	}
	params := map[string]string{"customerId": "fabrikam"}
	if status, body := call(t, h, "other", "writer", "DELETE", "/v1/customers/{customerId}", params, nil, ""); status != 404 {
		t.Fatalf("another tenant's delete: %d %v", status, body)
	}
	if status, _ := call(t, h, "acme", "reader", "DELETE", "/v1/customers/{customerId}", params, nil, ""); status != 403 {
		t.Fatalf("a reader's delete: %d", status)
	}
	if _, err := st.Figures(ctx, licensetest.Tenant(t, "acme"), "fabrikam"); err != nil {
		t.Fatalf("refused deletes removed the customer: %v", err)
	}
	status, body := call(t, h, "acme", "writer", "DELETE", "/v1/customers/{customerId}", params, nil, "")
	if status != 200 || body["customerId"] != "fabrikam" || body["uploadsDeleted"] != 1.0 {
		t.Fatalf("delete: %d %v", status, body)
	}
	if _, err := st.Figures(ctx, licensetest.Tenant(t, "acme"), "fabrikam"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("figures after the delete: %v", err)
	}
	if _, err := st.History(ctx, licensetest.Tenant(t, "acme"), "fabrikam", store.HistoryQuery{Limit: 10}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("history after the delete: %v", err)
	}
	if _, err := st.GetUpload(ctx, licensetest.Tenant(t, "acme"), uploadID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("upload record after the delete: %v", err)
	}
	if r, _, err := h.blob.Open(ctx, key); err == nil {
		r.Close()
		t.Fatal("the uploaded object is still stored")
	}
	if status, body = call(t, h, "acme", "writer", "DELETE", "/v1/customers/{customerId}", params, nil, ""); status != 404 {
		t.Fatalf("second delete: %d %v", status, body)
	}
	// The customer can start afresh.
	if status, body = postSnapshot(t, h, snapshot("fabrikam", "Bob"), nil); status != 200 || body["version"] != 1.0 {
		t.Fatalf("post after the delete: %d %v", status, body)
	}
}
