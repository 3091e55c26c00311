package reports

import (
	"context"
	"github.com/licenseinsights/licenseinsights/pkg/license/licensetest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/licenseinsights/licenseinsights/pkg/store"
)

// historyOf is fabrikam's history, oldest first.
func historyOf(t *testing.T, st *store.Store) []store.Summary {
	t.Helper()
	page, err := st.History(context.Background(), licensetest.Tenant(t, "acme"), "fabrikam", store.HistoryQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return page.Items
}

// datedSnapshot is the two-user snapshot (see snapshot) dated date, bob
// named bobName.
func datedSnapshot(date, bobName string) string {
	return strings.Replace(snapshot("fabrikam", bobName), `"reportDate":"2026-11-20"`, `"reportDate":"`+date+`"`, 1)
}

func postSnapshot(t *testing.T, h *Handler, body string, query map[string]string) (int, map[string]any) {
	t.Helper()
	return call(t, h, "acme", "writer", "POST", "/v1/customers/{customerId}/reports", map[string]string{"customerId": "fabrikam"}, query, body)
}

// TestFutureReportDateRefused: on 2026-11-21 (UTC) a report dated
// 2099-12-31 is a 422 naming reportDate and changes nothing; the real
// report of 2026-11-20 that follows is accepted; 2026-11-23 (today + 2) is
// still accepted, 2026-11-24 is not.
func TestFutureReportDateRefused(t *testing.T) {
	h, st := newHandler(t)
	h.now = func() time.Time { return time.Date(2026, 11, 21, 23, 30, 0, 0, time.UTC) }
	status, body := postSnapshot(t, h, datedSnapshot("2099-12-31", "Bob"), nil)
	errBody, _ := body["error"].(map[string]any)
	details, _ := errBody["details"].([]any)
	if status != 422 || len(details) != 1 {
		t.Fatalf("2099 report: %d %v", status, body)
	}
	d := details[0].(map[string]any)
	if d["column"] != "reportDate" || !strings.Contains(d["reason"].(string), "2099-12-31 is in the future") || !strings.Contains(d["reason"].(string), "at most 2026-11-23") {
		t.Fatalf("2099 report's problem: %v", d)
	}
	if _, err := st.Figures(context.Background(), licensetest.Tenant(t, "acme"), "fabrikam"); err == nil {
		t.Fatal("the refused report wrote the customer")
	}
	if status, body = postSnapshot(t, h, datedSnapshot("2026-11-20", "Bob"), nil); status != 200 || body["reportDate"] != "2026-11-20" {
		t.Fatalf("the real report: %d %v", status, body)
	}
	if status, body = postSnapshot(t, h, datedSnapshot("2026-11-23", "Bob"), nil); status != 200 {
		t.Fatalf("today + 2: %d %v", status, body)
	}
	if status, body = postSnapshot(t, h, datedSnapshot("2026-11-24", "Bob"), nil); status != 422 {
		t.Fatalf("today + 3: %d %v", status, body)
	}
	f, err := st.Figures(context.Background(), licensetest.Tenant(t, "acme"), "fabrikam")
	if err != nil || f.Figures.ReportDate.String() != "2026-11-23" || f.Version != 2 {
		t.Fatalf("figures: %+v %v", f, err)
	}
}

// TestImplausibleCurrentDateDoesNotLock: a customer whose current report is
// dated 2099-12-31 (accepted before dates were checked: here, by a clock
// set to 2099) takes the next real report, since newest-wins compares only
// plausible dates.
func TestImplausibleCurrentDateDoesNotLock(t *testing.T) {
	h, st := newHandler(t)
	h.now = func() time.Time { return time.Date(2099, 12, 30, 0, 0, 0, 0, time.UTC) }
	if status, body := postSnapshot(t, h, datedSnapshot("2099-12-31", "Bob"), nil); status != 200 {
		t.Fatalf("setting up the locked customer: %d %v", status, body)
	}
	h.now = func() time.Time { return time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC) }
	if status, body := postSnapshot(t, h, datedSnapshot("2026-11-20", "Bob"), nil); status != 200 {
		t.Fatalf("the real report after a 2099 one: %d %v", status, body)
	}
	f, err := st.Figures(context.Background(), licensetest.Tenant(t, "acme"), "fabrikam")
	if err != nil || f.Figures.ReportDate.String() != "2026-11-20" {
		t.Fatalf("figures: %+v %v", f, err)
	}
}

// TestReplaceRestoresACustomer: a wrong snapshot dated 2026-11-20 (bob
// renamed "Wrong") is current; the right one, dated 2026-11-18, is 409
// (older) until sent with ?replace=true, which makes it current and is
// recorded on the 2026-11-18 history point. A reader cannot replace.
func TestReplaceRestoresACustomer(t *testing.T) {
	h, st := newHandler(t)
	h.now = func() time.Time { return time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC) }
	if status, body := postSnapshot(t, h, datedSnapshot("2026-11-20", "Wrong"), nil); status != 200 {
		t.Fatalf("the wrong report: %d %v", status, body)
	}
	right := datedSnapshot("2026-11-18", "Bob")
	status, body := postSnapshot(t, h, right, nil)
	if status != 409 || !strings.Contains(body["error"].(map[string]any)["message"].(string), "replace=true") {
		t.Fatalf("the older report without replace: %d %v", status, body)
	}
	if status, _ = call(t, h, "acme", "reader", "POST", "/v1/customers/{customerId}/reports", map[string]string{"customerId": "fabrikam"}, map[string]string{"replace": "true"}, right); status != 403 {
		t.Fatalf("a reader replacing: %d", status)
	}
	status, body = postSnapshot(t, h, right, map[string]string{"replace": "true"})
	if status != 200 || body["replaced"] != true || body["reportDate"] != "2026-11-18" {
		t.Fatalf("replace: %d %v", status, body)
	}
	f, err := st.Figures(context.Background(), licensetest.Tenant(t, "acme"), "fabrikam")
	if err != nil || f.Figures.ReportDate.String() != "2026-11-18" || f.Version != 2 {
		t.Fatalf("figures after replace: %+v %v", f, err)
	}
	var names []string
	if err := st.GenerationUsers(context.Background(), licensetest.Tenant(t, "acme"), "fabrikam", f.Generation, f.Shards, func(r store.UserRow) error {
		names = append(names, r.User.DisplayName)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(slices.Sorted(slices.Values(names)), ",") != "Alice,Bob" {
		t.Fatalf("users after replace: %v", names)
	}
	hist := historyOf(t, st)
	if len(hist) != 2 || hist[0].ReportDate.String() != "2026-11-18" || hist[0].Replaced != "snapshot" || hist[1].Replaced != "" {
		t.Fatalf("history: %+v", hist)
	}
	// An ordinary ingest on the same day keeps the record of the replace.
	if status, body = postSnapshot(t, h, datedSnapshot("2026-11-18", "Robert"), nil); status != 200 {
		t.Fatalf("same-day report: %d %v", status, body)
	}
	if hist = historyOf(t, st); hist[0].Replaced != "snapshot" || hist[0].Version != 3 {
		t.Fatalf("history after a same-day ingest: %+v", hist)
	}
}

// TestUploadReplace: a document too large for a direct POST can replace
// too: an upload created with "replace": true takes the older right
// snapshot over the newer wrong one; without it the same upload fails
// with the 409's reason.
func TestUploadReplace(t *testing.T) {
	h, st := newHandler(t)
	h.now = func() time.Time { return time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC) }
	if status, body := postSnapshot(t, h, datedSnapshot("2026-11-20", "Wrong"), nil); status != 200 {
		t.Fatalf("the wrong report: %d %v", status, body)
	}
	upload := func(req string) map[string]any {
		_, body := call(t, h, "acme", "writer", "POST", "/v1/uploads", nil, nil, req)
		id := body["uploadId"].(string)
		key := "uploads/acme/" + id
		if err := h.blob.Upload(context.Background(), key, "application/json", strings.NewReader(datedSnapshot("2026-11-18", "Bob"))); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Invoke(context.Background(), objectCreated(h.blob.Bucket(), key)); err != nil {
			t.Fatal(err)
		}
		_, body = call(t, h, "acme", "reader", "GET", "/v1/uploads/{uploadId}", map[string]string{"uploadId": id}, nil, "")
		return body
	}
	body := upload(`{"customerId":"fabrikam","kind":"snapshot"}`)
	errBody, _ := body["result"].(map[string]any)["error"].(map[string]any)
	if body["status"] != "failed" || errBody["code"] != "conflict" {
		t.Fatalf("older upload without replace: %v", body)
	}
	body = upload(`{"customerId":"fabrikam","kind":"snapshot","replace":true}`)
	if body["status"] != "succeeded" || body["replace"] != true || body["result"].(map[string]any)["replaced"] != true {
		t.Fatalf("older upload with replace: %v", body)
	}
	f, err := st.Figures(context.Background(), licensetest.Tenant(t, "acme"), "fabrikam")
	if err != nil || f.Figures.ReportDate.String() != "2026-11-18" {
		t.Fatalf("figures: %+v %v", f, err)
	}
}
