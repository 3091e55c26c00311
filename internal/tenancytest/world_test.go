package tenancytest

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/licenseinsights/licenseinsights/internal/apitest"
	"github.com/licenseinsights/licenseinsights/internal/devstack"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

// The callers. Tenant B's writer is the one that tries A's resources;
// B's reader checks the role rule.
const (
	tenantA = "tenant-a"
	tenantB = "tenant-b"

	tokenA       = "token-a"
	tokenB       = "token-b"
	tokenBReader = "token-b-reader"
)

// customer is one customer's document as a tenant sends it, and so what
// its figures must be. Every user holds SPE_E3 and is licensed for
// exchange only; the first Active users were active in exchange on the
// report date D, the others 60 days before it. Users ≤ Sold always.
//
// Working (docs/definitions.md#figures), for every customer below:
//   - licences sold = Sold: one subscription, active, not trial (counted);
//   - licences assigned = Users: non-deleted users holding SPE_E3;
//   - entitlements: Users ≤ Sold, so every user takes counted capacity,
//     and exchange's total entitlements = Users; no other workload is
//     licensed, so the usage block's entitlements = Users;
//   - active (exchange): lastActivity D > D−28 counts, D−60 does not, so
//     active entitlements = Active.
type customer struct {
	ID, Name            string
	Sold, Users, Active int
}

// The two tenants' portfolios. Both have acme and globex; initech and
// wayne are A's only, umbrella is B's only. Names and user keys carry the
// tenant ("tenant A", "@tenant-a.example") so that any answer to B that
// contains "tenant-a" or "tenant A" has leaked A's data.
var (
	customersA = []customer{
		{ID: "acme", Name: "Acme Corp (tenant A)", Sold: 10, Users: 4, Active: 3},
		{ID: "globex", Name: "Globex (tenant A)", Sold: 20, Users: 5, Active: 2},
		{ID: "initech", Name: "Initech (tenant A)", Sold: 30, Users: 6, Active: 6},
		{ID: "wayne", Name: "Wayne Enterprises (tenant A)", Sold: 8, Users: 8, Active: 1},
	}
	customersB = []customer{
		{ID: "acme", Name: "Acme Corp (tenant B)", Sold: 7, Users: 2, Active: 1},
		{ID: "globex", Name: "Globex (tenant B)", Sold: 9, Users: 3, Active: 3},
		{ID: "umbrella", Name: "Umbrella (tenant B)", Sold: 11, Users: 1, Active: 0},
	}
	// What B writes later: a new acme document, and through an upload a
	// customer with the id of A's initech.
	acmeB2    = customer{ID: "acme", Name: "Acme Corp v2 (tenant B)", Sold: 12, Users: 5, Active: 5}
	initechB  = customer{ID: "initech", Name: "Initech (tenant B)", Sold: 4, Users: 2, Active: 1}
	aOnlyRead = "initech" // A has it, B must get 404 (until B's own upload)
	aOnly     = "wayne"   // A has it, B never does
)

// totals are the portfolio sums of customers.
type totals struct{ Customers, Sold, Assigned, Entitlements, Active int }

func sum(cs []customer) totals {
	var t totals
	for _, c := range cs {
		t.Customers++
		t.Sold += c.Sold
		t.Assigned += c.Users
		t.Entitlements += c.Users
		t.Active += c.Active
	}
	return t
}

func byID(cs []customer) map[string]customer {
	m := map[string]customer{}
	for _, c := range cs {
		m[c.ID] = c
	}
	return m
}

// userKey names user i of c in tenant.
func userKey(tenant string, c customer, i int) string {
	return fmt.Sprintf("user%d.%s@%s.example", i, c.ID, tenant)
}

// snapshot is c's native snapshot (docs/definitions.md#the-native-snapshot) at report date d.
func snapshot(tenant string, c customer, d license.Date) []byte {
	type activity struct {
		Licensed     bool   `json:"licensed"`
		LastActivity string `json:"lastActivity"`
	}
	type user struct {
		Key         string              `json:"key"`
		DisplayName string              `json:"displayName"`
		Licenses    []map[string]string `json:"licenses"`
		Workloads   map[string]activity `json:"workloads"`
	}
	users := make([]user, c.Users)
	for i := range users {
		last := d.AddDays(-60)
		if i < c.Active {
			last = d
		}
		users[i] = user{
			Key: userKey(tenant, c, i), DisplayName: fmt.Sprintf("User %d of %s", i, c.Name),
			Licenses:  []map[string]string{{"sku": "SPE_E3", "assignedDate": "2025-01-01"}},
			Workloads: map[string]activity{"exchange": {Licensed: true, LastActivity: last.String()}},
		}
	}
	doc := map[string]any{
		"schema":     "license-snapshot/v1",
		"customer":   map[string]string{"id": c.ID, "name": c.Name},
		"reportDate": d.String(),
		"subscriptions": []map[string]any{{
			"id": "sub-" + c.ID, "sku": "SPE_E3", "name": "Microsoft 365 E3",
			"quantity": c.Sold, "status": "active", "trial": false, "channel": "own",
		}},
		"users": users,
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return b
}

// world is the running stack and what the suite created in it.
type world struct {
	stack *devstack.Stack
	http  *http.Client
	date  license.Date // the report date of every document

	uploadA string // A's upload (of acme)
	exportA string // A's users export, succeeded
	exportB string // B's customers export, succeeded
	uploadB string // B's upload, made by the POST /v1/uploads case
}

// startWorld starts the local stack with the suite's tokens.
func startWorld(t *testing.T) *world {
	t.Helper()
	stack := apitest.StartSuite(t, tokenA+"="+tenantA+","+tokenB+"="+tenantB+","+tokenBReader+"="+tenantB+":reader", devstack.Options{})
	return &world{
		stack: stack,
		http:  &http.Client{Timeout: time.Minute},
		date:  license.DateOf(time.Now()),
	}
}

// waitIdle waits until the stream consumers (roll-up, export worker) and
// the upload trigger have handled everything written so far.
func (w *world) waitIdle(t *testing.T) {
	t.Helper()
	apitest.WaitIdle(t, w.stack)
}

// response is one answer of the API.
type response = apitest.Response

// call sends one request to the local API; token "" sends none.
func (w *world) call(t *testing.T, token, method, target string, body []byte) response {
	t.Helper()
	return w.send(t, apitest.NewRequest(t, method, w.stack.APIURL+target, token, body))
}

func (w *world) send(t *testing.T, req *http.Request) response {
	t.Helper()
	return response(apitest.Do(t, w.http, req))
}

// asB calls as tenant B's writer and fails the test if the answer shows
// anything of tenant A.
func (w *world) asB(t *testing.T, method, target string, body []byte) response {
	t.Helper()
	r := w.call(t, tokenB, method, target, body)
	noTraceOfA(t, method+" "+target, r.Body)
	return r
}

// noTraceOfA fails if b names tenant A, its customers or its users.
func noTraceOfA(t *testing.T, what string, b []byte) {
	t.Helper()
	for _, mark := range []string{tenantA, "tenant A"} {
		if bytes.Contains(b, []byte(mark)) {
			t.Errorf("%s: the answer to tenant B contains %q (tenant A's data): %s", what, mark, apitest.Truncate(string(b), 600))
		}
	}
}

// want decodes r's JSON body into v after checking its status.
func want(t *testing.T, what string, r response, status int, v any) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.Status, status, r)
	}
	if v == nil {
		return
	}
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("%s: the body is not the expected JSON: %v: %s", what, err, r)
	}
}

// sameAsMissing checks that B asking for A's id gets the very 404 that an
// id nobody has gets: same status, same body once each id is replaced by a
// placeholder (the message names the id asked for). target and body make
// the request for an id; body may be nil.
func (w *world) sameAsMissing(t *testing.T, method string, target, body func(id string) string, idOfA, missingID string) {
	t.Helper()
	send := func(id string) response {
		var b []byte
		if body != nil {
			b = []byte(body(id))
		}
		return w.asB(t, method, target(id), b)
	}
	got, ref := send(idOfA), send(missingID)
	if ref.Status != http.StatusNotFound {
		t.Fatalf("%s %s (an id nobody has): status %d, want 404: %s", method, target(missingID), ref.Status, ref)
	}
	if got.Status != http.StatusNotFound {
		t.Fatalf("%s %s as tenant B (tenant A's id): status %d, want 404: %s", method, target(idOfA), got.Status, got)
	}
	gotText := strings.ReplaceAll(string(got.Body), idOfA, "{id}")
	refText := strings.ReplaceAll(string(ref.Body), missingID, "{id}")
	if gotText != refText {
		t.Errorf("%s %s: tenant A's id answers differently from a missing one:\n A's id: %s\nmissing: %s", method, target("{id}"), gotText, refText)
	}
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	if err := json.Unmarshal(got.Body, &e); err != nil || e.Error.Code != "not_found" {
		t.Errorf("%s %s: the 404 is not the API's error body: %s", method, target(idOfA), got)
	}
}

// path is a target with the id in place of %s.
func path(format string) func(string) string {
	return func(id string) string { return fmt.Sprintf(format, id) }
}

// fixed is a target that does not contain the id.
func fixed(target string) func(string) string {
	return func(string) string { return target }
}

// jsonBody marshals v.
func jsonBody(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// downloadCSV fetches a presigned link and parses the CSV into rows keyed
// by the header's column names.
func (w *world) downloadCSV(t *testing.T, url string) []map[string]string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := w.send(t, req)
	if r.Status != http.StatusOK {
		t.Fatalf("downloading the export: %s", r)
	}
	records, err := csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
	if err != nil {
		t.Fatalf("the export is not CSV: %v", err)
	}
	if len(records) == 0 {
		t.Fatal("the export has no header row")
	}
	var rows []map[string]string
	for _, rec := range records[1:] {
		row := map[string]string{}
		for i, name := range records[0] {
			if i < len(rec) {
				row[name] = rec[i]
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// Shapes of the answers the suite reads (docs/definitions.md#insights-and-portfolio, pkg/view).
type (
	blocks struct {
		Deployment struct {
			LicensesSold     int `json:"licensesSold"`
			LicensesAssigned int `json:"licensesAssigned"`
		} `json:"deployment"`
		Usage struct {
			Entitlements       int `json:"entitlements"`
			ActiveEntitlements int `json:"activeEntitlements"`
		} `json:"usage"`
	}
	insights struct {
		CustomerID   string `json:"customerId"`
		CustomerName string `json:"customerName"`
		ReportDate   string `json:"reportDate"`
		blocks
	}
	headline struct {
		CustomerID         string `json:"customerId"`
		CustomerName       string `json:"customerName"`
		LicensesSold       int    `json:"licensesSold"`
		LicensesAssigned   int    `json:"licensesAssigned"`
		Entitlements       int    `json:"entitlements"`
		ActiveEntitlements int    `json:"activeEntitlements"`
	}
	page[T any] struct {
		Items      []T     `json:"items"`
		NextCursor *string `json:"nextCursor"`
	}
	historyPoint struct {
		Date               string `json:"date"`
		Customers          int    `json:"customers"` // portfolio history only
		LicensesSold       int    `json:"licensesSold"`
		LicensesAssigned   int    `json:"licensesAssigned"`
		Entitlements       int    `json:"entitlements"`
		ActiveEntitlements int    `json:"activeEntitlements"`
	}
	portfolio struct {
		Customers int `json:"customers"`
		blocks
		LowestUsage      []headline `json:"lowestUsage"`
		MostUnassigned   []headline `json:"mostUnassigned"`
		UpsellCandidates []headline `json:"upsellCandidates"`
	}
	analyticsRow struct {
		CustomerID        string `json:"customerId"`
		CustomerName      string `json:"customerName"`
		LicensesDeployed  *int   `json:"licensesDeployed"`
		LicensesSold      *int   `json:"licensesSold"`
		LicensesActive    *int   `json:"licensesActive"`
		LicensesQualified *int   `json:"licensesQualified"`
	}
	analyticsPage struct {
		Value      []analyticsRow `json:"value"`
		TotalCount int            `json:"totalCount"`
	}
	upload struct {
		UploadID  string `json:"uploadId"`
		Status    string `json:"status"`
		UploadURL string `json:"uploadUrl"`
		Method    string `json:"method"`
	}
	exportJob struct {
		ExportID    string  `json:"exportId"`
		Status      string  `json:"status"`
		Rows        *int64  `json:"rows"`
		DownloadURL *string `json:"downloadUrl"`
	}
)

// checkInsights compares an insights answer with the customer sent.
func checkInsights(t *testing.T, what string, got insights, c customer) {
	t.Helper()
	if got.CustomerID != c.ID || got.CustomerName != c.Name {
		t.Errorf("%s: customer %q %q, want %q %q", what, got.CustomerID, got.CustomerName, c.ID, c.Name)
	}
	checkBlocks(t, what, got.blocks, totals{1, c.Sold, c.Users, c.Users, c.Active})
}

func checkBlocks(t *testing.T, what string, got blocks, w totals) {
	t.Helper()
	if got.Deployment.LicensesSold != w.Sold || got.Deployment.LicensesAssigned != w.Assigned ||
		got.Usage.Entitlements != w.Entitlements || got.Usage.ActiveEntitlements != w.Active {
		t.Errorf("%s: sold %d, assigned %d, entitlements %d, active %d; want %d, %d, %d, %d", what,
			got.Deployment.LicensesSold, got.Deployment.LicensesAssigned, got.Usage.Entitlements, got.Usage.ActiveEntitlements,
			w.Sold, w.Assigned, w.Entitlements, w.Active)
	}
}

// checkHeadline compares a list item with the customer of the caller's
// own portfolio that has its id.
func checkHeadline(t *testing.T, what string, h headline, own map[string]customer) {
	t.Helper()
	c, ok := own[h.CustomerID]
	if !ok {
		t.Errorf("%s: customer %q is not the caller's", what, h.CustomerID)
		return
	}
	if h.CustomerName != c.Name || h.LicensesSold != c.Sold || h.LicensesAssigned != c.Users {
		t.Errorf("%s: %s is %q sold %d assigned %d; the caller sent %q sold %d assigned %d",
			what, h.CustomerID, h.CustomerName, h.LicensesSold, h.LicensesAssigned, c.Name, c.Sold, c.Users)
	}
	if h.Entitlements != c.Users || h.ActiveEntitlements != c.Active {
		t.Errorf("%s: %s has entitlements %d active %d, want %d %d", what, h.CustomerID, h.Entitlements, h.ActiveEntitlements, c.Users, c.Active)
	}
}

// Well-formed ids that exist nowhere: their 404 is the reference for A's.
var (
	missingCustomerID = "no-such-customer"
	missingUploadID   = "20200101t000000-0123456789abcdef" // the shape reports.newID makes
	missingExportID   = store.NewExportID(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
)
