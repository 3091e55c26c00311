package apicontract

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/licenseinsights/licenseinsights/internal/apitest"
	"github.com/licenseinsights/licenseinsights/internal/devstack"
	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
	"github.com/licenseinsights/licenseinsights/internal/openapi"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

// The one tenant of the suite and its callers.
const (
	tenantID    = "contract-partner"
	writerToken = "contract-writer"
	readerToken = "contract-reader"
	// noToken sends no Authorization header.
	noToken = "-"
)

// skuPrices prices SPE_E3, so that insights carry their optional waste
// block and it is validated too (only customers holding SPE_E3 get one).
const skuPrices = "SPE_E3=36.00"

// ---------------------------------------------------------------------------
// The documents the tenant sends (docs/definitions.md#the-native-snapshot). D is the day the test runs.

type subscription struct {
	ID          string `json:"id"`
	SKU         string `json:"sku"`
	Name        string `json:"name,omitempty"`
	Quantity    int    `json:"quantity"`
	Status      string `json:"status"`
	Trial       bool   `json:"trial"`
	Channel     string `json:"channel"`
	RenewalDate string `json:"renewalDate,omitempty"`
}

type snapshotLicense struct {
	SKU          string `json:"sku"`
	AssignedDate string `json:"assignedDate"`
}

type workloadUse struct {
	Licensed     bool   `json:"licensed"`
	LastActivity string `json:"lastActivity,omitempty"`
}

type user struct {
	Key         string                 `json:"key"`
	DisplayName string                 `json:"displayName"`
	Deleted     bool                   `json:"deleted"`
	Licenses    []snapshotLicense      `json:"licenses"`
	Workloads   map[string]workloadUse `json:"workloads"`
}

type support struct {
	HowToTickets int `json:"howToTickets"`
	Tickets      int `json:"tickets"`
	WindowDays   int `json:"windowDays"`
}

type customerRef struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	TenantID string `json:"tenantId,omitempty"`
}

type snapshot struct {
	Schema        string         `json:"schema"`
	Customer      customerRef    `json:"customer"`
	ReportDate    string         `json:"reportDate"`
	Subscriptions []subscription `json:"subscriptions"`
	Users         []user         `json:"users"`
	Support       *support       `json:"support,omitempty"`
}

func (s snapshot) bytes() []byte {
	s.Schema = "license-snapshot/v1"
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return b
}

// firstAssigned is the assign date of the oldest licence of every
// customer.
var firstAssigned = mustDate("2025-01-01")

func mustDate(s string) license.Date {
	d, err := license.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// e3Users are n users of customer id holding SPE_E3 (assigned on
// successive days of 2025, so the order of entitlement is theirs),
// licensed for exchange only; the first active were active in exchange on
// d, the others 60 days before (outside every window but 90 and 180).
func e3Users(id string, n, active int, d license.Date) []user {
	out := make([]user, n)
	for i := range out {
		last := d.AddDays(-60)
		if i < active {
			last = d
		}
		out[i] = user{
			Key:         fmt.Sprintf("user%d@%s.example", i, id),
			DisplayName: fmt.Sprintf("User %d", i),
			Licenses:    []snapshotLicense{{SKU: "SPE_E3", AssignedDate: firstAssigned.AddDays(i).String()}},
			Workloads:   map[string]workloadUse{"exchange": {Licensed: true, LastActivity: last.String()}},
		}
	}
	return out
}

func e3Subscription(id string, quantity int) subscription {
	return subscription{ID: "sub-" + id, SKU: "SPE_E3", Name: "Microsoft 365 E3", Quantity: quantity, Status: "active", Channel: "own"}
}

// contoso has 10 SPE_E3 and is sent twice, so that its history has two
// points: on D−1 with 4 users (2 active), on D with 5 users (3 active).
//
// Working at D, 28-day window (docs/definitions.md#figures):
//   - sold 10 (one active, non-trial subscription), assigned 5 → deployment
//     5/10 = 50.0 %, unassigned 5;
//   - exchange entitlements 5 (every user holds counted capacity), active 3
//     (lastActivity D > D−28; D−60 is not) → usage 3/5 = 60.0 %, band
//     medium; inactive licensed users 2;
//   - waste at 36.00 per SPE_E3: unassigned 5 × 36 = 180.00, inactive
//     2 × 36 = 72.00, monthly 252.00, annual 3024.00.
//
// On D−1: sold 10, assigned 4, entitlements 4, active 2 → usage 50.0 %.
func contoso(d license.Date, users, active int) snapshot {
	return snapshot{
		Customer:      customerRef{ID: "contoso", Name: "Contoso Ltd"},
		ReportDate:    d.String(),
		Subscriptions: []subscription{e3Subscription("contoso", 10)},
		Users:         e3Users("contoso", users, active, d),
	}
}

// fabrikamTenant is fabrikam's Entra tenant id: its insights and analytics
// rows carry it.
const fabrikamTenant = "4b1d6f3e-2c55-4a8e-9d1e-7a6c3b2f9e10"

// fabrikam is the customer with every kind of figure: two channels, a
// renewal within 30 days, a trial-only SKU (deployment null), usage above
// 100 % with its causes, yammer activity without a yammer licence, and
// help-desk demand.
//
// Working at D, 28-day window:
//   - SPE_E3: sold 2 own + 1 direct = 3 (counted); assigned u1…u4 = 4 (u5 is
//     deleted) → 133.3 %, unassigned 0. O365_BUSINESS_PREMIUM: its only
//     subscription is a trial, so sold 0 (deployment null, outside the
//     overall figure), assigned 1 (u6).
//   - exchange: entitlements u1, u2, u3 (the three oldest SPE_E3 holders
//     take the 3 counted seats) = 3; active: all six users were active on
//     D, counted or not → 6 = 200 %; uncounted: u4 over-assignment
//     (inactiveSubscription), u5 deleted (formerLicensee), u6 trial-only
//     (trial). yammer: entitlements 0, active 1 (u1, unlicensed).
//   - usage (sums): (6 + 1) / (3 + 0) = 233.3 % → band high.
func fabrikam(d license.Date) snapshot {
	active := map[string]workloadUse{"exchange": {Licensed: true, LastActivity: d.String()}}
	e3 := func(i int) []snapshotLicense {
		return []snapshotLicense{{SKU: "SPE_E3", AssignedDate: firstAssigned.AddDays(31 * i).String()}}
	}
	users := []user{
		{Key: "u1@fabrikam.example", DisplayName: "U1", Licenses: e3(0), Workloads: map[string]workloadUse{
			"exchange": {Licensed: true, LastActivity: d.String()}, "yammer": {Licensed: false, LastActivity: d.String()},
		}},
		{Key: "u2@fabrikam.example", DisplayName: "U2", Licenses: e3(1), Workloads: active},
		{Key: "u3@fabrikam.example", DisplayName: "U3", Licenses: e3(2), Workloads: active},
		{Key: "u4@fabrikam.example", DisplayName: "U4", Licenses: e3(3), Workloads: active},
		{Key: "u5@fabrikam.example", DisplayName: "U5", Deleted: true, Licenses: e3(4), Workloads: active},
		{Key: "u6@fabrikam.example", DisplayName: "U6", Licenses: []snapshotLicense{{SKU: "O365_BUSINESS_PREMIUM", AssignedDate: "2025-06-01"}}, Workloads: active},
	}
	return snapshot{
		Customer:   customerRef{ID: "fabrikam", Name: "Fabrikam Inc", TenantID: fabrikamTenant},
		ReportDate: d.String(),
		Subscriptions: []subscription{
			{ID: "fab-1", SKU: "SPE_E3", Name: "Microsoft 365 E3", Quantity: 2, Status: "active", Channel: "own", RenewalDate: d.AddDays(10).String()},
			{ID: "fab-2", SKU: "SPE_E3", Name: "Microsoft 365 E3", Quantity: 1, Status: "active", Channel: "direct"},
			{ID: "fab-3", SKU: "O365_BUSINESS_PREMIUM", Name: "Microsoft 365 Business Standard", Quantity: 5, Status: "active", Trial: true, Channel: "own"},
		},
		Users:   users,
		Support: &support{HowToTickets: 8, Tickets: 10, WindowDays: 28},
	}
}

// northwind has only lapsed capacity: 3 O365_BUSINESS_PREMIUM in grace and
// one user holding it, inactive. Sold 0 → deployment null; no entitlement
// → usage null, band unknown; no priced counted SKU → no waste block.
func northwind(d license.Date) snapshot {
	return snapshot{
		Customer:   customerRef{ID: "northwind", Name: "Northwind Traders"},
		ReportDate: d.String(),
		Subscriptions: []subscription{
			{ID: "nw-1", SKU: "O365_BUSINESS_PREMIUM", Name: "Microsoft 365 Business Standard", Quantity: 3, Status: "grace", Channel: "own"},
		},
		Users: []user{{
			Key: "only@northwind.example", DisplayName: "Only", Licenses: []snapshotLicense{{SKU: "O365_BUSINESS_PREMIUM", AssignedDate: "2025-01-01"}},
			Workloads: map[string]workloadUse{"exchange": {Licensed: true, LastActivity: d.AddDays(-60).String()}},
		}},
	}
}

// withBadRow is id's document with 2 SPE_E3 and two users, the second of
// which has an impossible assign date: rejected whole (422) unless bad
// rows are skipped, and then 1 user: sold 2, assigned 1 (50.0 %), usage
// 1/1 = 100.0 % (band high).
func withBadRow(id, name string, d license.Date) snapshot {
	users := e3Users(id, 2, 2, d)
	users[1].Licenses[0].AssignedDate = "2025-13-01"
	return snapshot{
		Customer:      customerRef{ID: id, Name: name},
		ReportDate:    d.String(),
		Subscriptions: []subscription{e3Subscription(id, 2)},
		Users:         users,
	}
}

// tailspin arrives through an upload: 4 SPE_E3, 4 users, all active →
// deployment 100.0 %, usage 100.0 % (band high, an upsell candidate).
func tailspin(d license.Date) snapshot {
	return snapshot{
		Customer:      customerRef{ID: "tailspin", Name: "Tailspin Toys"},
		ReportDate:    d.String(),
		Subscriptions: []subscription{e3Subscription("tailspin", 4)},
		Users:         e3Users("tailspin", 4, 4, d),
	}
}

// The tenant's customers once set up, in name order.
var customerIDs = []string{"contoso", "fabrikam", "northwind", "skipper", "tailspin"}

// oversized is a body above the 5 MiB a direct POST may carry (the
// gateway's own limit is 10 MB, so the function answers).
func oversized() []byte {
	return []byte(`{"schema":"license-snapshot/v1","padding":"` + strings.Repeat("x", 5<<20) + `"}`)
}

// ---------------------------------------------------------------------------
// The stack and the calls.

type env struct {
	stack *devstack.Stack
	spec  *openapi.Spec
	http  *http.Client
	date  license.Date
	// seen is every status each route answered, set-up included.
	seen map[string]map[int]bool

	uploadDone, uploadFailed, uploadPending string
	exportUsers, exportGzip, exportFailed   string
	collection                              string
}

// response is one answer of the API.
type response = apitest.Response

// call is one request of a case and what it must answer.
type call struct {
	name   string
	token  string // "" is the writer's token; noToken sends none
	method string
	target string // path and query
	body   []byte
	status int
	// check, when set, asserts more of a response with the expected status
	// (after the status and the schema were checked).
	check func(t *testing.T, r response)
}

// routeCase is how the suite calls one route of template.yaml.
type routeCase struct {
	// writerOnly: a reader token gets 403 (ingesting and every export
	// route, which pkg/api/exports keeps to writers).
	writerOnly bool
	// calls are the route's requests; the first one answering 2xx is also
	// the probe sent without a token, with an unknown one and as a reader.
	calls func(e *env) []call
}

func start(t *testing.T) *env {
	t.Helper()
	root, err := infra.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	spec, err := openapi.Load(filepath.Join(root, "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := spec.Check(); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	stack := apitest.StartSuite(t, writerToken+"="+tenantID+","+readerToken+"="+tenantID+":reader", devstack.Options{
		// The template's configuration at its defaults, but for the
		// prices; nothing of the machine's environment leaks in.
		Getenv: func(name string) string {
			if name == "SKU_MONTHLY_PRICES" {
				return skuPrices
			}
			return ""
		},
	})
	return &env{
		stack: stack,
		spec:  spec,
		http:  &http.Client{Timeout: time.Minute},
		date:  license.DateOf(time.Now()),
		seen:  map[string]map[int]bool{},
	}
}

// waitIdle waits until the roll-up, the export worker and the upload
// trigger have handled everything written so far.
func (e *env) waitIdle(t *testing.T) {
	t.Helper()
	apitest.WaitIdle(t, e.stack)
}

func (e *env) send(t *testing.T, token, method, target string, body []byte) response {
	t.Helper()
	switch token {
	case noToken:
		token = ""
	case "":
		token = writerToken
	}
	return e.fetch(t, apitest.NewRequest(t, method, e.stack.APIURL+target, token, body))
}

func (e *env) fetch(t *testing.T, req *http.Request) response {
	t.Helper()
	return response(apitest.Do(t, e.http, req))
}

// do sends c to route ("METHOD /path" as template.yaml writes it) and
// checks the answer: the status, a JSON content type, the body against
// openapi.yaml for the status it got, and — for a success — that the
// schema is closed. It reports whether the status was the expected one.
func (e *env) do(t *testing.T, route string, c call) (response, bool) {
	t.Helper()
	method, pattern, _ := strings.Cut(route, " ")
	if c.method != method || !matchesRoute(pattern, c.target) {
		t.Fatalf("case %q sends %s %s, which is not route %s", c.name, c.method, c.target, route)
	}
	r := e.send(t, c.token, c.method, c.target, c.body)
	if e.seen[route] == nil {
		e.seen[route] = map[int]bool{}
	}
	e.seen[route][r.Status] = true
	what := fmt.Sprintf("%s (%s %s)", c.name, c.method, apitest.Truncate(c.target, 200))

	if r.Status != c.status {
		t.Errorf("%s: status %d, want %d: %s", what, r.Status, c.status, r)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q, want application/json", what, ct)
	}
	if err := e.spec.ValidateResponse(method, pattern, r.Status, r.Body); err != nil {
		t.Errorf("%s: the %d answer does not match openapi.yaml:\n%v\nbody: %s", what, r.Status, err, apitest.Truncate(string(r.Body), 2000))
	}
	if r.Status/100 == 2 {
		e.closedSchema(t, what, method, pattern, r)
	}
	if r.Status != c.status {
		return r, false
	}
	if c.check != nil {
		c.check(t, r)
	}
	return r, true
}

// closedSchema shows that the description of a success would refuse the
// body with one more field: an open schema validates anything and proves
// nothing.
func (e *env) closedSchema(t *testing.T, what, method, pattern string, r response) {
	t.Helper()
	var obj map[string]any
	if err := json.Unmarshal(r.Body, &obj); err != nil {
		return // not an object: the validation above said so
	}
	obj["undocumentedField"] = true
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	err = e.spec.ValidateResponse(method, pattern, r.Status, b)
	if err == nil || !strings.Contains(err.Error(), `"undocumentedField"`) {
		t.Errorf("%s: openapi.yaml's %d schema does not refuse a field it does not describe (got %v)", what, r.Status, err)
	}
}

// must is do for the set-up: any surprise stops the test.
func (e *env) must(t *testing.T, route string, c call) response {
	t.Helper()
	r, ok := e.do(t, route, c)
	if !ok || t.Failed() {
		t.FailNow()
	}
	return r
}

// matchesRoute tells whether target's path is an instance of the
// template's path pattern.
func matchesRoute(pattern, target string) bool {
	path, _, _ := strings.Cut(target, "?")
	ps, ts := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(ts) {
		return false
	}
	for i := range ps {
		if strings.HasPrefix(ps[i], "{") {
			if ts[i] == "" {
				return false
			}
			continue
		}
		if ps[i] != ts[i] {
			return false
		}
	}
	return true
}

// Routes, as template.yaml writes them.
const (
	routeReports    = "POST /v1/customers/{customerId}/reports"
	routeNewUpload  = "POST /v1/uploads"
	routeUpload     = "GET /v1/uploads/{uploadId}"
	routeDelete     = "DELETE /v1/customers/{customerId}"
	routeCustomers  = "GET /v1/customers"
	routeInsights   = "GET /v1/customers/{customerId}/insights"
	routeHistory    = "GET /v1/customers/{customerId}/history"
	routePortfolio  = "GET /v1/portfolio"
	routePortfolioH = "GET /v1/portfolio/history"
	routeDeployment = "GET /v1/analytics/licenses/deployment"
	routeUsage      = "GET /v1/analytics/licenses/usage"
	routeNewExport  = "POST /v1/exports"
	routeExports    = "GET /v1/exports"
	routeExport     = "GET /v1/exports/{exportId}"
	routeExportLink = "POST /v1/exports/{exportId}/link"

	routeNewCollection  = "POST /v1/collections"
	routeCollections    = "GET /v1/collections"
	routeCollection     = "GET /v1/collections/{collectionId}"
	routePutCollectList = "PUT /v1/collection/customers"
	routeCollectList    = "GET /v1/collection/customers"

	routePutPrices  = "PUT /v1/prices"
	routePrices     = "GET /v1/prices"
	routeReclaim    = "GET /v1/customers/{customerId}/reclaim"
	routePortfolioR = "GET /v1/portfolio/reclaim"
)

// missingCollectionID has the shape of a run id (collect.newRunID).
const missingCollectionID = "20200101t000000-0123456789ab"

// collectionRun is a run as the API answers it.
type collectionRun struct {
	CollectionID string         `json:"collectionId"`
	Status       string         `json:"status"`
	Reason       *string        `json:"reason"`
	Counts       map[string]int `json:"counts"`
}

// aRun starts a collection run for the suite's tenant. The stack's
// connection to Microsoft is not configured (the suite's environment is
// empty), so the run fails at once, saying what to set.
func (e *env) aRun(t *testing.T) collectionRun {
	t.Helper()
	r := e.send(t, "", http.MethodPost, "/v1/collections", nil)
	var run collectionRun
	if r.Status != http.StatusAccepted || json.Unmarshal(r.Body, &run) != nil {
		t.Fatalf("starting a run: %s", r)
	}
	return run
}

// Ids nobody has: well-formed, so that their 404 is the one for a missing
// object. orphanCustomerID is the customer of the export that must fail.
const (
	missingUploadID  = "20200101t000000-0123456789abcdef" // the shape reports.newID makes
	missingCustomer  = "no-such-customer"
	orphanCustomerID = "gone"
)

// missingExportID has the shape of an export id; nobody has it.
var missingExportID = store.NewExportID(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))

// ---------------------------------------------------------------------------
// Shapes the checks read (openapi.yaml validates the rest).

type (
	ingestOutcome struct {
		Status       string           `json:"status"`
		Kind         string           `json:"kind"`
		ReportDate   string           `json:"reportDate"`
		Users        int              `json:"users"`
		Skipped      []map[string]any `json:"skipped"`
		SkippedTotal int              `json:"skippedTotal"`
	}
	apiError struct {
		Error struct {
			Code    string           `json:"code"`
			Details []map[string]any `json:"details"`
		} `json:"error"`
	}
	upload struct {
		UploadID  string          `json:"uploadId"`
		Status    string          `json:"status"`
		UploadURL string          `json:"uploadUrl"`
		StartedAt *string         `json:"startedAt"`
		Result    json.RawMessage `json:"result"`
	}
	headline struct {
		CustomerID string `json:"customerId"`
	}
	page[T any] struct {
		Items      []T     `json:"items"`
		NextCursor *string `json:"nextCursor"`
	}
	insights struct {
		CustomerTenantID *string `json:"customerTenantId"`
		Band             string  `json:"band"`
		Deployment       struct {
			LicensesSold     int      `json:"licensesSold"`
			LicensesAssigned int      `json:"licensesAssigned"`
			Percent          *float64 `json:"percent"`
			Unassigned       int      `json:"unassigned"`
		} `json:"deployment"`
		Products []struct {
			SKU               string   `json:"sku"`
			DeploymentPercent *float64 `json:"deploymentPercent"`
			InDeploymentTotal bool     `json:"inDeploymentTotal"`
			Renewals          []struct {
				SubscriptionID string `json:"subscriptionId"`
				Date           string `json:"date"`
			} `json:"renewals"`
		} `json:"products"`
		Usage struct {
			Entitlements       int      `json:"entitlements"`
			ActiveEntitlements int      `json:"activeEntitlements"`
			Percent            *float64 `json:"percent"`
		} `json:"usage"`
		InactiveLicensedUsers int `json:"inactiveLicensedUsers"`
		Waste                 *struct {
			MonthlyUnassignedCost   float64 `json:"monthlyUnassignedCost"`
			MonthlyInactiveCost     float64 `json:"monthlyInactiveCost"`
			MonthlyPotentialSavings float64 `json:"monthlyPotentialSavings"`
			AnnualPotentialSavings  float64 `json:"annualPotentialSavings"`
		} `json:"waste"`
		Recommendations []struct {
			Code string `json:"code"`
		} `json:"recommendations"`
	}
	historyPoint struct {
		Date             string   `json:"date"`
		LicensesAssigned int      `json:"licensesAssigned"`
		UsagePercent     *float64 `json:"usagePercent"`
		Customers        int      `json:"customers"`
	}
	portfolio struct {
		Customers  int                `json:"customers"`
		WindowDays int                `json:"windowDays"`
		Bands      license.BandCounts `json:"bands"`
		Deployment struct {
			LicensesSold     int      `json:"licensesSold"`
			LicensesAssigned int      `json:"licensesAssigned"`
			Percent          *float64 `json:"percent"`
		} `json:"deployment"`
		LowestUsage      []headline `json:"lowestUsage"`
		MostUnassigned   []headline `json:"mostUnassigned"`
		UpsellCandidates []headline `json:"upsellCandidates"`
	}
	analyticsPage struct {
		Value      []map[string]any `json:"value"`
		NextLink   *string          `json:"@nextLink"`
		TotalCount int              `json:"totalCount"`
	}
	export struct {
		ExportID    string  `json:"exportId"`
		Status      string  `json:"status"`
		CustomerID  *string `json:"customerId"`
		Gzip        bool    `json:"gzip"`
		Rows        *int64  `json:"rows"`
		Bytes       *int64  `json:"bytes"`
		Filename    *string `json:"filename"`
		DownloadURL *string `json:"downloadUrl"`
		ExpiresAt   *string `json:"expiresAt"`
		Reason      *string `json:"reason"`
	}
)

func jsonBody(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func ids(hs []headline) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.CustomerID
	}
	return out
}

// number is a decoded JSON number, 0 for anything else (the schema
// check has reported it).
func number(v any) float64 {
	f, _ := v.(float64)
	return f
}

func percent(p *float64) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

func wantPercent(t *testing.T, what string, got *float64, want float64) {
	t.Helper()
	if got == nil || *got != want {
		t.Errorf("%s: %s, want %v", what, percent(got), want)
	}
}

func wantNull(t *testing.T, what string, got *float64) {
	t.Helper()
	if got != nil {
		t.Errorf("%s: %v, want null", what, *got)
	}
}

func wantErrorCode(t *testing.T, r response, code string) {
	t.Helper()
	var e apiError
	r.Decode(t, &e)
	if e.Error.Code != code {
		t.Errorf("error code %q, want %q: %s", e.Error.Code, code, r)
	}
}

// ---------------------------------------------------------------------------
// Set-up: everything the routes read, made through the API (and so
// validated too), but the one export that must fail.

func (e *env) setUp(t *testing.T) {
	t.Helper()
	d := e.date
	post := func(name, id string, doc []byte, query string, check func(t *testing.T, out ingestOutcome)) {
		e.must(t, routeReports, call{
			name: name, method: http.MethodPost, target: "/v1/customers/" + id + "/reports?kind=snapshot" + query, body: doc, status: http.StatusOK,
			check: func(t *testing.T, r response) {
				var out ingestOutcome
				r.Decode(t, &out)
				check(t, out)
			},
		})
	}
	accepted := func(users int, date license.Date) func(t *testing.T, out ingestOutcome) {
		return func(t *testing.T, out ingestOutcome) {
			if out.Status != "accepted" || out.Kind != "snapshot" || out.Users != users || out.ReportDate != date.String() {
				t.Errorf("ingest outcome %+v, want accepted snapshot of %s with %d users", out, date, users)
			}
		}
	}
	post("contoso on D-1", "contoso", contoso(d.AddDays(-1), 4, 2).bytes(), "", accepted(4, d.AddDays(-1)))
	post("contoso on D", "contoso", contoso(d, 5, 3).bytes(), "", accepted(5, d))
	post("fabrikam", "fabrikam", fabrikam(d).bytes(), "", accepted(6, d))
	post("northwind", "northwind", northwind(d).bytes(), "", accepted(1, d))
	post("skipper, skipping its bad row", "skipper", withBadRow("skipper", "Skipper Co", d).bytes(), "&skipInvalid=true", func(t *testing.T, out ingestOutcome) {
		if out.Status != "accepted" || out.Users != 1 || len(out.Skipped) != 1 || out.SkippedTotal != 1 {
			t.Errorf("skipper: %+v, want accepted with 1 user and 1 skipped row", out)
		}
	})

	// Three uploads: one that succeeds (tailspin), one whose document is
	// rejected, one never sent (pending).
	newUpload := func(name string, body map[string]any) upload {
		var up upload
		e.must(t, routeNewUpload, call{name: name, method: http.MethodPost, target: "/v1/uploads", body: jsonBody(body), status: http.StatusCreated}).Decode(t, &up)
		return up
	}
	up := newUpload("upload of tailspin", map[string]any{"customerId": "tailspin", "kind": "snapshot"})
	e.uploadDone = up.UploadID
	e.put(t, up.UploadURL, tailspin(d).bytes())
	up = newUpload("upload of a bad document", map[string]any{"customerId": "broken"})
	e.uploadFailed = up.UploadID
	e.put(t, up.UploadURL, withBadRow("broken", "Broken Ltd", d).bytes())
	e.uploadPending = newUpload("upload never sent", map[string]any{"customerId": "later", "kind": "snapshot", "skipInvalid": true}).UploadID

	newExport := func(name string, body map[string]any) string {
		var job export
		r := e.must(t, routeNewExport, call{name: name, method: http.MethodPost, target: "/v1/exports", body: jsonBody(body), status: http.StatusAccepted})
		r.Decode(t, &job)
		if loc := r.Header.Get("Location"); loc != "/v1/exports/"+job.ExportID {
			t.Errorf("%s: Location %q, want /v1/exports/%s", name, loc, job.ExportID)
		}
		return job.ExportID
	}
	e.exportUsers = newExport("users export", map[string]any{"dataset": "users", "format": "csv"})
	e.collection = e.aRun(t).CollectionID
	e.exportGzip = newExport("gzipped customers export of fabrikam", map[string]any{"dataset": "customers", "customerId": "fabrikam", "format": "csv", "gzip": true})
	e.exportFailed = e.orphanExport(t)
	e.waitIdle(t)
}

// orphanExport writes a job for a customer the tenant does not have, as
// when a customer disappears between the request and the export. The API
// refuses such a request up front (404), so the job goes into the table
// directly; the worker fails it, and the API shows a failed export.
func (e *env) orphanExport(t *testing.T) string {
	t.Helper()
	tenant, err := license.NewTenant(tenantID)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	job := store.ExportJob{ID: store.NewExportID(now), Dataset: "users", CustomerID: orphanCustomerID, Format: "csv", CreatedAt: now, Status: store.ExportPending}
	if err := store.New(e.stack.Env().DynamoDB, e.stack.Table).CreateExport(t.Context(), tenant, job); err != nil {
		t.Fatal(err)
	}
	return job.ID
}

// put sends a document to a presigned upload URL, as a client does.
func (e *env) put(t *testing.T, presigned string, body []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, presigned, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if r := e.fetch(t, req); r.Status != http.StatusOK {
		t.Fatalf("PUT to the presigned URL: %s", r)
	}
}

// download reads an export through its link: the file must have the rows
// and bytes the job reports (and a header row).
func (e *env) download(t *testing.T, job export) {
	t.Helper()
	if job.DownloadURL == nil || job.Rows == nil || job.Bytes == nil {
		t.Fatalf("export %s has no link or counts: %+v", job.ExportID, job)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, *job.DownloadURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := e.fetch(t, req)
	if r.Status != http.StatusOK {
		t.Fatalf("downloading export %s: %s", job.ExportID, r)
	}
	rd := csv.NewReader(bytes.NewReader(r.Body))
	rd.FieldsPerRecord = -1 // only the records are counted here
	records, err := rd.ReadAll()
	if err != nil {
		t.Fatalf("export %s is not CSV: %v", job.ExportID, err)
	}
	if int64(len(records)) != *job.Rows+1 || int64(len(r.Body)) != *job.Bytes {
		t.Errorf("export %s: the file has %d records and %d bytes; the job says %d rows (+ header) and %d bytes", job.ExportID, len(records), len(r.Body), *job.Rows, *job.Bytes)
	}
}

// ---------------------------------------------------------------------------
// The cases, one per route of template.yaml.

func cases() map[string]routeCase {
	return map[string]routeCase{
		routeReports: {writerOnly: true, calls: func(e *env) []call {
			d := e.date
			return []call{
				{name: "the same document again", method: http.MethodPost, target: "/v1/customers/contoso/reports?kind=snapshot", body: contoso(d, 5, 3).bytes(), status: http.StatusOK,
					check: func(t *testing.T, r response) {
						var out ingestOutcome
						r.Decode(t, &out)
						if out.Status != "unchanged" {
							t.Errorf("resending contoso's document: status %q, want unchanged", out.Status)
						}
					}},
				{name: "detected kind", method: http.MethodPost, target: "/v1/customers/northwind/reports", body: northwind(d).bytes(), status: http.StatusOK},
				{name: "unknown kind", method: http.MethodPost, target: "/v1/customers/contoso/reports?kind=nonsense", body: contoso(d, 5, 3).bytes(), status: http.StatusBadRequest,
					check: func(t *testing.T, r response) { wantErrorCode(t, r, "bad_request") }},
				{name: "bad skipInvalid", method: http.MethodPost, target: "/v1/customers/contoso/reports?skipInvalid=maybe", body: contoso(d, 5, 3).bytes(), status: http.StatusBadRequest},
				{name: "older than the current document", method: http.MethodPost, target: "/v1/customers/contoso/reports?kind=snapshot", body: contoso(d.AddDays(-2), 5, 3).bytes(), status: http.StatusConflict,
					check: func(t *testing.T, r response) { wantErrorCode(t, r, "conflict") }},
				{name: "a bad row, not skipped", method: http.MethodPost, target: "/v1/customers/skipper/reports?kind=snapshot", body: withBadRow("skipper", "Skipper Co", d).bytes(), status: http.StatusUnprocessableEntity,
					check: func(t *testing.T, r response) {
						var got apiError
						r.Decode(t, &got)
						if got.Error.Code != "invalid_document" || len(got.Error.Details) == 0 || got.Error.Details[0]["line"] == nil {
							t.Errorf("422 without the problem's line: %s", r)
						}
					}},
				{name: "too large for a direct POST", method: http.MethodPost, target: "/v1/customers/contoso/reports?kind=snapshot", body: oversized(), status: http.StatusRequestEntityTooLarge,
					check: func(t *testing.T, r response) { wantErrorCode(t, r, "payload_too_large") }},
			}
		}},

		// Write cases run after every read: skipper can go.
		routeDelete: {writerOnly: true, calls: func(e *env) []call {
			return []call{
				{name: "delete skipper", method: http.MethodDelete, target: "/v1/customers/skipper", status: http.StatusOK,
					check: func(t *testing.T, r response) {
						var out struct {
							CustomerID string `json:"customerId"`
						}
						r.Decode(t, &out)
						if out.CustomerID != "skipper" {
							t.Errorf("delete: %s", r)
						}
						if r := e.send(t, "", http.MethodGet, "/v1/customers/skipper/insights", nil); r.Status != http.StatusNotFound {
							t.Errorf("skipper's insights after the delete: %d", r.Status)
						}
					}},
				{name: "delete skipper again", method: http.MethodDelete, target: "/v1/customers/skipper", status: http.StatusNotFound,
					check: func(t *testing.T, r response) { wantErrorCode(t, r, "not_found") }},
				{name: "invalid customer id", method: http.MethodDelete, target: "/v1/customers/not%20an%20id", status: http.StatusBadRequest},
			}
		}},

		routeNewUpload: {writerOnly: true, calls: func(e *env) []call {
			return []call{
				{name: "upload with the kind detected", method: http.MethodPost, target: "/v1/uploads", body: jsonBody(map[string]any{"customerId": "contoso"}), status: http.StatusCreated,
					check: func(t *testing.T, r response) {
						var up upload
						r.Decode(t, &up)
						if up.Status != "pending" || !strings.Contains(up.UploadURL, "/uploads/"+tenantID+"/"+up.UploadID) {
							t.Errorf("new upload %+v: want pending, its URL under uploads/%s/<id>", up, tenantID)
						}
					}},
				{name: "invalid customer id", method: http.MethodPost, target: "/v1/uploads", body: jsonBody(map[string]any{"customerId": "not an id"}), status: http.StatusBadRequest,
					check: func(t *testing.T, r response) {
						var got apiError
						r.Decode(t, &got)
						if len(got.Error.Details) != 1 || got.Error.Details[0]["field"] != "customerId" {
							t.Errorf("400 does not name customerId: %s", r)
						}
					}},
				{name: "unknown kind", method: http.MethodPost, target: "/v1/uploads", body: jsonBody(map[string]any{"customerId": "contoso", "kind": "pdf"}), status: http.StatusBadRequest},
				{name: "unknown field", method: http.MethodPost, target: "/v1/uploads", body: jsonBody(map[string]any{"customerId": "contoso", "tenant": "other"}), status: http.StatusBadRequest},
			}
		}},

		routeUpload: {calls: func(e *env) []call {
			return []call{
				{name: "succeeded upload", method: http.MethodGet, target: "/v1/uploads/" + e.uploadDone, status: http.StatusOK,
					check: func(t *testing.T, r response) {
						var up upload
						r.Decode(t, &up)
						if up.Status != "succeeded" || up.StartedAt == nil {
							t.Fatalf("tailspin's upload: %s, want succeeded", r)
						}
						// The result is what a direct POST answers: exactly
						// an IngestOutcome.
						e.validateAs(t, "IngestOutcome", up.Result)
						var out ingestOutcome
						if err := json.Unmarshal(up.Result, &out); err != nil || out.Status != "accepted" || out.Users != 4 {
							t.Errorf("tailspin's upload result %s, want accepted with 4 users", up.Result)
						}
					}},
				{name: "failed upload", method: http.MethodGet, target: "/v1/uploads/" + e.uploadFailed, status: http.StatusOK,
					check: func(t *testing.T, r response) {
						var up upload
						r.Decode(t, &up)
						if up.Status != "failed" {
							t.Fatalf("the bad document's upload: %s, want failed", r)
						}
						// The result is the 422 a direct POST answers.
						e.validateAs(t, "Error", up.Result)
						wantErrorCode(t, response{Body: up.Result}, "invalid_document")
					}},
				{name: "pending upload", method: http.MethodGet, target: "/v1/uploads/" + e.uploadPending, status: http.StatusOK,
					check: func(t *testing.T, r response) {
						var up upload
						r.Decode(t, &up)
						if up.Status != "pending" || up.Result != nil || up.StartedAt != nil {
							t.Errorf("the upload never sent: %s, want pending without result", r)
						}
					}},
				{name: "unknown upload", method: http.MethodGet, target: "/v1/uploads/" + missingUploadID, status: http.StatusNotFound,
					check: func(t *testing.T, r response) { wantErrorCode(t, r, "not_found") }},
				{name: "not an upload id", method: http.MethodGet, target: "/v1/uploads/no.such-upload", status: http.StatusNotFound},
			}
		}},

		routeCustomers: {calls: func(e *env) []call {
			list := func(t *testing.T, r response) []string {
				var p page[headline]
				r.Decode(t, &p)
				return ids(p.Items)
			}
			return []call{
				{name: "by name", method: http.MethodGet, target: "/v1/customers", status: http.StatusOK,
					check: func(t *testing.T, r response) {
						if got := list(t, r); !slices.Equal(got, customerIDs) {
							t.Errorf("customers %v, want %v", got, customerIDs)
						}
					}},
				// fabrikam 233.3 %, skipper and tailspin 100 %, contoso 60 %,
				// northwind without a figure (last in both directions).
				{name: "by usage, descending", method: http.MethodGet, target: "/v1/customers?sort=-usage", status: http.StatusOK,
					check: func(t *testing.T, r response) {
						got := list(t, r)
						if len(got) != 5 || got[0] != "fabrikam" || got[3] != "contoso" || got[4] != "northwind" {
							t.Errorf("by -usage: %v, want fabrikam, (skipper, tailspin), contoso, northwind", got)
						}
					}},
				{name: "band unknown", method: http.MethodGet, target: "/v1/customers?band=unknown&sort=deployment", status: http.StatusOK,
					check: func(t *testing.T, r response) {
						if got := list(t, r); !slices.Equal(got, []string{"northwind"}) {
							t.Errorf("band unknown: %v, want [northwind]", got)
						}
					}},
				{name: "first page of one", method: http.MethodGet, target: "/v1/customers?limit=1", status: http.StatusOK,
					check: func(t *testing.T, r response) {
						var p page[headline]
						r.Decode(t, &p)
						if len(p.Items) != 1 || p.NextCursor == nil {
							t.Fatalf("first page of one: %s, want one item and a nextCursor", r)
						}
						next, _ := e.do(t, routeCustomers, call{name: "second page", method: http.MethodGet, target: "/v1/customers?limit=1&cursor=" + url.QueryEscape(*p.NextCursor), status: http.StatusOK})
						if got := list(t, next); !slices.Equal(got, []string{"fabrikam"}) {
							t.Errorf("second page: %v, want [fabrikam]", got)
						}
					}},
				{name: "unknown sort", method: http.MethodGet, target: "/v1/customers?sort=sideways", status: http.StatusBadRequest},
				{name: "unknown band", method: http.MethodGet, target: "/v1/customers?band=huge", status: http.StatusBadRequest},
				{name: "limit 0", method: http.MethodGet, target: "/v1/customers?limit=0", status: http.StatusBadRequest},
				{name: "a cursor of another order", method: http.MethodGet, target: "/v1/customers?cursor=bm90LWEtY3Vyc29y", status: http.StatusBadRequest},
			}
		}},

		routeInsights: {calls: func(e *env) []call {
			get := func(t *testing.T, r response) insights {
				var in insights
				r.Decode(t, &in)
				return in
			}
			calls := []call{
				{name: "contoso", method: http.MethodGet, target: "/v1/customers/contoso/insights", status: http.StatusOK,
					check: func(t *testing.T, r response) {
						in := get(t, r)
						wantPercent(t, "contoso deployment", in.Deployment.Percent, 50)
						wantPercent(t, "contoso usage", in.Usage.Percent, 60)
						if in.Deployment.Unassigned != 5 || in.InactiveLicensedUsers != 2 || in.Band != "medium" {
							t.Errorf("contoso: unassigned %d, inactive %d, band %s; want 5, 2, medium", in.Deployment.Unassigned, in.InactiveLicensedUsers, in.Band)
						}
						if w := in.Waste; w == nil || w.MonthlyUnassignedCost != 180 || w.MonthlyInactiveCost != 72 || w.MonthlyPotentialSavings != 252 || w.AnnualPotentialSavings != 3024 {
							t.Errorf("contoso's waste %+v, want 180 + 72 = 252 a month, 3024 a year", in.Waste)
						}
					}},
				{name: "fabrikam", method: http.MethodGet, target: "/v1/customers/fabrikam/insights", status: http.StatusOK,
					check: func(t *testing.T, r response) {
						in := get(t, r)
						if in.CustomerTenantID == nil || *in.CustomerTenantID != fabrikamTenant {
							t.Errorf("fabrikam's customerTenantId: %v, want %s", in.CustomerTenantID, fabrikamTenant)
						}
						wantPercent(t, "fabrikam deployment", in.Deployment.Percent, 133.3)
						if in.Usage.Entitlements != 3 || in.Usage.ActiveEntitlements != 7 {
							t.Errorf("fabrikam usage: entitlements %d, active %d; want 3, 7", in.Usage.Entitlements, in.Usage.ActiveEntitlements)
						}
						trialOnly, renewal := false, false
						for _, p := range in.Products {
							if p.SKU == "O365_BUSINESS_PREMIUM" && p.DeploymentPercent == nil && !p.InDeploymentTotal {
								trialOnly = true
							}
							for _, rn := range p.Renewals {
								renewal = renewal || (rn.SubscriptionID == "fab-1" && rn.Date == e.date.AddDays(10).String())
							}
						}
						if !trialOnly || !renewal {
							t.Errorf("fabrikam's products: trial-only SKU with null deployment %v, fab-1 renewal %v; want both: %s", trialOnly, renewal, r)
						}
						codes := map[string]bool{}
						for _, rec := range in.Recommendations {
							codes[rec.Code] = true
						}
						if !codes["explain-over-100"] || !codes["heavy-how-to-demand"] {
							t.Errorf("fabrikam's recommendations %v lack explain-over-100 or heavy-how-to-demand", slices.Sorted(maps.Keys(codes)))
						}
					}},
				{name: "northwind", method: http.MethodGet, target: "/v1/customers/northwind/insights", status: http.StatusOK,
					check: func(t *testing.T, r response) {
						in := get(t, r)
						wantNull(t, "northwind deployment", in.Deployment.Percent)
						wantNull(t, "northwind usage", in.Usage.Percent)
						if in.Band != "unknown" || in.Waste != nil || in.CustomerTenantID != nil {
							t.Errorf("northwind: band %s, waste %v, tenant %v; want unknown, none, none", in.Band, in.Waste, in.CustomerTenantID)
						}
					}},
				{name: "window of 5 days", method: http.MethodGet, target: "/v1/customers/contoso/insights?window=5", status: http.StatusBadRequest},
				{name: "unknown customer", method: http.MethodGet, target: "/v1/customers/" + missingCustomer + "/insights", status: http.StatusNotFound,
					check: func(t *testing.T, r response) { wantErrorCode(t, r, "not_found") }},
				{name: "invalid customer id", method: http.MethodGet, target: "/v1/customers/not%20an%20id/insights", status: http.StatusBadRequest},
			}
			for _, id := range []string{"skipper", "tailspin"} {
				calls = append(calls, call{name: id, method: http.MethodGet, target: "/v1/customers/" + id + "/insights", status: http.StatusOK})
			}
			for _, n := range []int{7, 30, 90, 180} {
				calls = append(calls, call{name: fmt.Sprintf("fabrikam, %d days", n), method: http.MethodGet, target: fmt.Sprintf("/v1/customers/fabrikam/insights?window=%d", n), status: http.StatusOK})
			}
			return calls
		}},

		routeHistory: {calls: func(e *env) []call {
			d := e.date
			points := func(t *testing.T, r response) page[historyPoint] {
				var p page[historyPoint]
				r.Decode(t, &p)
				return p
			}
			return []call{
				{name: "contoso's two days", method: http.MethodGet, target: "/v1/customers/contoso/history", status: http.StatusOK,
					check: func(t *testing.T, r response) {
						p := points(t, r)
						if len(p.Items) != 2 || p.Items[0].Date != d.AddDays(-1).String() || p.Items[1].Date != d.String() || p.NextCursor != nil {
							t.Fatalf("contoso's history: %s, want D-1 and D", r)
						}
						wantPercent(t, "contoso's usage on D-1", p.Items[0].UsagePercent, 50)
						wantPercent(t, "contoso's usage on D", p.Items[1].UsagePercent, 60)
					}},
				{name: "one day a page", method: http.MethodGet, target: "/v1/customers/contoso/history?limit=1", status: http.StatusOK,
					check: func(t *testing.T, r response) {
						p := points(t, r)
						if len(p.Items) != 1 || p.NextCursor == nil {
							t.Fatalf("history page of one: %s, want one item and a nextCursor", r)
						}
						next, _ := e.do(t, routeHistory, call{name: "its next page", method: http.MethodGet, target: "/v1/customers/contoso/history?limit=1&cursor=" + url.QueryEscape(*p.NextCursor), status: http.StatusOK})
						if p := points(t, next); len(p.Items) != 1 || p.Items[0].Date != d.String() || p.NextCursor != nil {
							t.Errorf("history's second page: %s, want D and no cursor", next)
						}
					}},
				{name: "from and to", method: http.MethodGet, target: "/v1/customers/northwind/history?from=" + d.AddDays(-7).String() + "&to=" + d.String(), status: http.StatusOK},
				{name: "from after to", method: http.MethodGet, target: "/v1/customers/contoso/history?from=" + d.String() + "&to=" + d.AddDays(-1).String(), status: http.StatusBadRequest},
				{name: "not a date", method: http.MethodGet, target: "/v1/customers/contoso/history?from=yesterday", status: http.StatusBadRequest},
				{name: "unknown customer", method: http.MethodGet, target: "/v1/customers/" + missingCustomer + "/history", status: http.StatusNotFound},
			}
		}},

		// Working (28-day window, D): five customers — contoso medium
		// (60 %), fabrikam, skipper and tailspin high (≥ 80 %), northwind
		// unknown. Deployment over the SKUs with counted capacity (SPE_E3
		// only): sold 10 + 3 + 2 + 4 = 19, assigned 5 + 4 + 1 + 4 = 14 →
		// 14/19 = 73.7 %. Lowest usage: contoso; most unassigned: contoso
		// (5); upsell candidates (deployment ≥ 90, usage ≥ 80): fabrikam
		// (133.3 %, 233.3 %) and tailspin (100 %, 100 %).
		routePortfolio: {calls: func(e *env) []call {
			return []call{
				{name: "portfolio", method: http.MethodGet, target: "/v1/portfolio", status: http.StatusOK,
					check: func(t *testing.T, r response) {
						var p portfolio
						r.Decode(t, &p)
						if want := (license.BandCounts{Low: 0, Medium: 1, High: 3, Unknown: 1}); p.Customers != 5 || p.Bands != want || p.WindowDays != 28 {
							t.Errorf("portfolio: %d customers, bands %+v, window %d; want 5, %+v, 28", p.Customers, p.Bands, p.WindowDays, want)
						}
						if p.Deployment.LicensesSold != 19 || p.Deployment.LicensesAssigned != 14 {
							t.Errorf("portfolio deployment: sold %d, assigned %d; want 19, 14", p.Deployment.LicensesSold, p.Deployment.LicensesAssigned)
						}
						wantPercent(t, "portfolio deployment", p.Deployment.Percent, 73.7)
						if len(p.LowestUsage) == 0 || p.LowestUsage[0].CustomerID != "contoso" || len(p.MostUnassigned) == 0 || p.MostUnassigned[0].CustomerID != "contoso" {
							t.Errorf("portfolio: lowest usage %v, most unassigned %v; want contoso first in both", ids(p.LowestUsage), ids(p.MostUnassigned))
						}
						got := ids(p.UpsellCandidates)
						slices.Sort(got)
						if !slices.Equal(got, []string{"fabrikam", "tailspin"}) {
							t.Errorf("upsell candidates %v, want fabrikam and tailspin", got)
						}
					}},
				{name: "7 days, top 1", method: http.MethodGet, target: "/v1/portfolio?window=7&top=1", status: http.StatusOK,
					check: func(t *testing.T, r response) {
						var p portfolio
						r.Decode(t, &p)
						if p.WindowDays != 7 || len(p.LowestUsage) != 1 || len(p.UpsellCandidates) != 1 {
							t.Errorf("?window=7&top=1: window %d, lists of %d and %d; want 7, 1, 1", p.WindowDays, len(p.LowestUsage), len(p.UpsellCandidates))
						}
					}},
				{name: "top 0", method: http.MethodGet, target: "/v1/portfolio?top=0", status: http.StatusBadRequest},
				{name: "window of 3 days", method: http.MethodGet, target: "/v1/portfolio?window=3", status: http.StatusBadRequest},
			}
		}},

		routePortfolioH: {calls: func(e *env) []call {
			d := e.date
			return []call{
				{name: "history", method: http.MethodGet, target: "/v1/portfolio/history", status: http.StatusOK,
					check: func(t *testing.T, r response) {
						var p page[historyPoint]
						r.Decode(t, &p)
						if len(p.Items) == 0 || p.Items[len(p.Items)-1].Customers != 5 || p.Items[len(p.Items)-1].Date != d.String() {
							t.Errorf("portfolio history: %s, want today with 5 customers last", r)
						}
					}},
				// Up to tomorrow: today and tomorrow (as today ended), so a
				// page of one has a next page.
				{name: "one day a page", method: http.MethodGet, target: "/v1/portfolio/history?limit=1&to=" + d.AddDays(1).String(), status: http.StatusOK,
					check: func(t *testing.T, r response) {
						var p page[historyPoint]
						r.Decode(t, &p)
						if len(p.Items) != 1 || p.NextCursor == nil {
							t.Fatalf("portfolio history page of one: %s, want one day and a nextCursor", r)
						}
						e.do(t, routePortfolioH, call{name: "its next page", method: http.MethodGet, target: "/v1/portfolio/history?limit=1&to=" + d.AddDays(1).String() + "&cursor=" + url.QueryEscape(*p.NextCursor), status: http.StatusOK})
					}},
				{name: "from after to", method: http.MethodGet, target: "/v1/portfolio/history?from=" + d.String() + "&to=" + d.AddDays(-1).String(), status: http.StatusBadRequest},
				{name: "not a cursor", method: http.MethodGet, target: "/v1/portfolio/history?cursor=%25%25", status: http.StatusBadRequest},
				{name: "limit 501", method: http.MethodGet, target: "/v1/portfolio/history?limit=501", status: http.StatusBadRequest},
			}
		}},

		// Working: rows per customer × SKU × channel sold through —
		// contoso SPE_E3 own; fabrikam SPE_E3 own and direct, and its
		// trial-only O365_BUSINESS_PREMIUM (unknown, sold 0); northwind's
		// lapsed O365_BUSINESS_PREMIUM (unknown, sold 0); skipper and
		// tailspin SPE_E3 own: 7 rows. Sold 10 + 2 + 1 + 2 + 4 = 19;
		// deployed 5 + 4 (SPE_E3 split 3:1 between own and direct) + 1 + 1
		// + 1 + 4 = 16.
		routeDeployment: {calls: func(e *env) []call {
			rows := func(t *testing.T, r response) analyticsPage {
				var p analyticsPage
				r.Decode(t, &p)
				return p
			}
			return []call{
				{name: "every row", method: http.MethodGet, target: "/v1/analytics/licenses/deployment", status: http.StatusOK,
					check: func(t *testing.T, r response) {
						p := rows(t, r)
						sold, deployed := 0.0, 0.0
						for _, row := range p.Value {
							sold += number(row["licensesSold"])
							deployed += number(row["licensesDeployed"])
						}
						if p.TotalCount != 7 || len(p.Value) != 7 || sold != 19 || deployed != 16 || p.NextLink != nil {
							t.Errorf("deployment rows: %d of %d, sold %v, deployed %v; want 7 of 7, 19, 16, no next link", len(p.Value), p.TotalCount, sold, deployed)
						}
					}},
				{name: "grouped by channel", method: http.MethodGet, target: "/v1/analytics/licenses/deployment?groupby=channel", status: http.StatusOK,
					check: func(t *testing.T, r response) {
						p := rows(t, r)
						if p.TotalCount != 3 {
							t.Errorf("grouped by channel: %d rows, want 3 (own, direct, unknown)", p.TotalCount)
						}
						for _, row := range p.Value {
							if got := slices.Sorted(maps.Keys(row)); !slices.Equal(got, []string{"channel", "licensesDeployed", "licensesSold", "processedDateTime"}) {
								t.Errorf("a grouped row has %v", got)
							}
						}
					}},
				{name: "one customer", method: http.MethodGet, target: "/v1/analytics/licenses/deployment?filter=" + url.QueryEscape("customerId eq 'fabrikam' and channel ne 'unknown'"), status: http.StatusOK,
					check: func(t *testing.T, r response) {
						p := rows(t, r)
						if p.TotalCount != 2 || len(p.Value) != 2 || p.Value[0]["customerTenantId"] != fabrikamTenant {
							t.Errorf("fabrikam's sold rows: %s, want 2 with its tenant id", r)
						}
					}},
				{name: "OData names, a page of one", method: http.MethodGet, target: "/v1/analytics/licenses/deployment?$top=1&$skip=1", status: http.StatusOK,
					check: func(t *testing.T, r response) {
						if p := rows(t, r); len(p.Value) != 1 || p.NextLink == nil {
							t.Errorf("$top=1&$skip=1: %s, want one row and a next link", r)
						}
					}},
				{name: "an operator Partner Center does not have", method: http.MethodGet, target: "/v1/analytics/licenses/deployment?filter=" + url.QueryEscape("licensesSold gt 1"), status: http.StatusBadRequest,
					check: func(t *testing.T, r response) {
						var got apiError
						r.Decode(t, &got)
						if len(got.Error.Details) != 1 || got.Error.Details[0]["field"] != "filter" {
							t.Errorf("bad filter: %s, want a detail about filter", r)
						}
					}},
				{name: "unknown groupby field", method: http.MethodGet, target: "/v1/analytics/licenses/deployment?groupby=channel,colour", status: http.StatusBadRequest},
				{name: "top 0", method: http.MethodGet, target: "/v1/analytics/licenses/deployment?top=0", status: http.StatusBadRequest},
			}
		}},

		// Working (28 days): rows per customer × workload with entitlements
		// or activity — contoso EXO (5 qualified, 3 active), fabrikam EXO
		// (3, 6) and YAMMER (0, 1), skipper EXO (1, 1), tailspin EXO (4,
		// 4); northwind has neither. 5 rows, qualified 13, active 15.
		routeUsage: {calls: func(e *env) []call {
			return []call{
				{name: "every row", method: http.MethodGet, target: "/v1/analytics/licenses/usage", status: http.StatusOK,
					check: func(t *testing.T, r response) {
						var p analyticsPage
						r.Decode(t, &p)
						qualified, active := 0.0, 0.0
						for _, row := range p.Value {
							qualified += number(row["licensesQualified"])
							active += number(row["licensesActive"])
						}
						if p.TotalCount != 5 || qualified != 13 || active != 15 {
							t.Errorf("usage rows: %d, qualified %v, active %v; want 5, 13, 15", p.TotalCount, qualified, active)
						}
					}},
				{name: "7 days, grouped by workload", method: http.MethodGet, target: "/v1/analytics/licenses/usage?window=7&groupby=workloadCode,workloadName", status: http.StatusOK},
				{name: "window of 14 days", method: http.MethodGet, target: "/v1/analytics/licenses/usage?window=14", status: http.StatusBadRequest},
				{name: "a deployment field", method: http.MethodGet, target: "/v1/analytics/licenses/usage?filter=" + url.QueryEscape("licensesDeployed eq '1'"), status: http.StatusBadRequest},
				{name: "unbalanced parenthesis", method: http.MethodGet, target: "/v1/analytics/licenses/usage?filter=" + url.QueryEscape("(workloadCode eq 'EXO'"), status: http.StatusBadRequest},
			}
		}},

		routeNewCollection: {writerOnly: true, calls: func(e *env) []call {
			return []call{
				{name: "every customer", method: http.MethodPost, target: "/v1/collections", status: http.StatusAccepted,
					check: func(t *testing.T, r response) {
						var run collectionRun
						r.Decode(t, &run)
						// Without a saved list the customers come from Partner
						// Center, which the unconfigured connection cannot ask.
						if run.Status == "failed" && (run.Reason == nil || !strings.Contains(*run.Reason, "MS_CLIENT_ID")) {
							t.Errorf("a run that cannot list its customers: %s, want a reason naming MS_CLIENT_ID", r)
						}
					}},
				{name: "two customers, one twice", method: http.MethodPost, target: "/v1/collections",
					body: jsonBody(map[string]any{"customerIds": []string{"0B1C2D3E-0000-4000-8000-000000000001", "0b1c2d3e-0000-4000-8000-000000000001", "contoso.onmicrosoft.com"}}), status: http.StatusAccepted,
					check: func(t *testing.T, r response) {
						var run collectionRun
						r.Decode(t, &run)
						total := 0
						for _, n := range run.Counts {
							total += n
						}
						if run.Status == "failed" || total != 2 {
							t.Errorf("run over two customers: %s, want 2 customers counted", r)
						}
					}},
				{name: "not a tenant id", method: http.MethodPost, target: "/v1/collections", body: jsonBody(map[string]any{"customerIds": []string{"../evil"}}), status: http.StatusBadRequest},
				{name: "an empty list", method: http.MethodPost, target: "/v1/collections", body: jsonBody(map[string]any{"customerIds": []string{}}), status: http.StatusBadRequest},
				{name: "customerIds not a list", method: http.MethodPost, target: "/v1/collections", body: jsonBody(map[string]any{"customerIds": "all"}), status: http.StatusBadRequest},
			}
		}},

		routeCollections: {calls: func(e *env) []call {
			return []call{
				{name: "every run", method: http.MethodGet, target: "/v1/collections", status: http.StatusOK},
				{name: "one a page", method: http.MethodGet, target: "/v1/collections?limit=1", status: http.StatusOK},
				{name: "not a cursor", method: http.MethodGet, target: "/v1/collections?cursor=bm90LWEtY3Vyc29y", status: http.StatusBadRequest},
				{name: "limit 501", method: http.MethodGet, target: "/v1/collections?limit=501", status: http.StatusBadRequest},
			}
		}},

		routeCollection: {calls: func(e *env) []call {
			return []call{
				{name: "a run", method: http.MethodGet, target: "/v1/collections/" + e.collection + "?limit=1", status: http.StatusOK,
					check: func(t *testing.T, r response) {
						var run collectionRun
						r.Decode(t, &run)
						if run.CollectionID != e.collection {
							t.Errorf("GET of run %s answered %s", e.collection, r)
						}
					}},
				{name: "an unknown run", method: http.MethodGet, target: "/v1/collections/" + missingCollectionID, status: http.StatusNotFound},
				{name: "not a cursor", method: http.MethodGet, target: "/v1/collections/" + missingCollectionID + "?cursor=bm90LWEtY3Vyc29y", status: http.StatusBadRequest},
				{name: "not a run id", method: http.MethodGet, target: "/v1/collections/latest", status: http.StatusNotFound},
			}
		}},

		routePutCollectList: {writerOnly: true, calls: func(e *env) []call {
			return []call{
				{name: "a list", method: http.MethodPut, target: "/v1/collection/customers",
					body: jsonBody(map[string]any{"customerIds": []string{" 0B1C2D3E-0000-4000-8000-000000000002 ", "0b1c2d3e-0000-4000-8000-000000000002"}}), status: http.StatusOK,
					check: func(t *testing.T, r response) {
						var got struct {
							CustomerIDs []string `json:"customerIds"`
							Source      string   `json:"source"`
						}
						r.Decode(t, &got)
						if !slices.Equal(got.CustomerIDs, []string{"0b1c2d3e-0000-4000-8000-000000000002"}) || got.Source != "list" {
							t.Errorf("stored list: %s, want the one id, trimmed and lower-cased, source list", r)
						}
					}},
				{name: "no customerIds", method: http.MethodPut, target: "/v1/collection/customers", body: jsonBody(map[string]any{}), status: http.StatusBadRequest},
				{name: "not a tenant id", method: http.MethodPut, target: "/v1/collection/customers", body: jsonBody(map[string]any{"customerIds": []string{"a b"}}), status: http.StatusBadRequest},
			}
		}},

		routeCollectList: {calls: func(e *env) []call {
			return []call{
				{name: "the list", method: http.MethodGet, target: "/v1/collection/customers", status: http.StatusOK},
				{name: "a cursor", method: http.MethodGet, target: "/v1/collection/customers?cursor=abc", status: http.StatusBadRequest},
			}
		}},

		routeNewExport: {writerOnly: true, calls: func(e *env) []call {
			return []call{
				{name: "subscriptions", method: http.MethodPost, target: "/v1/exports", body: jsonBody(map[string]any{"dataset": "subscriptions", "format": "csv"}), status: http.StatusAccepted,
					check: func(t *testing.T, r response) {
						var job export
						r.Decode(t, &job)
						if job.Status != "pending" || job.CustomerID != nil || job.DownloadURL != nil || job.Rows != nil {
							t.Errorf("new export: %s, want pending, every customer, no link or counts yet", r)
						}
					}},
				{name: "unknown dataset", method: http.MethodPost, target: "/v1/exports", body: jsonBody(map[string]any{"dataset": "people", "format": "csv"}), status: http.StatusBadRequest},
				{name: "no format", method: http.MethodPost, target: "/v1/exports", body: jsonBody(map[string]any{"dataset": "users"}), status: http.StatusBadRequest},
				{name: "gzip not a boolean", method: http.MethodPost, target: "/v1/exports", body: jsonBody(map[string]any{"dataset": "users", "format": "csv", "gzip": "yes"}), status: http.StatusBadRequest},
				{name: "empty body", method: http.MethodPost, target: "/v1/exports", body: []byte{}, status: http.StatusBadRequest},
				{name: "unknown customer", method: http.MethodPost, target: "/v1/exports", body: jsonBody(map[string]any{"dataset": "users", "customerId": missingCustomer, "format": "csv"}), status: http.StatusNotFound,
					check: func(t *testing.T, r response) { wantErrorCode(t, r, "not_found") }},
			}
		}},

		routeExports: {writerOnly: true, calls: func(e *env) []call {
			return []call{
				{name: "every export", method: http.MethodGet, target: "/v1/exports", status: http.StatusOK,
					check: func(t *testing.T, r response) {
						var p page[export]
						r.Decode(t, &p)
						var got []string
						for _, job := range p.Items {
							got = append(got, job.ExportID)
							if job.DownloadURL != nil {
								t.Errorf("export %s is listed with a download link", job.ExportID)
							}
						}
						for _, id := range []string{e.exportUsers, e.exportGzip, e.exportFailed} {
							if !slices.Contains(got, id) {
								t.Errorf("export %s is not listed: %v", id, got)
							}
						}
					}},
				{name: "one a page", method: http.MethodGet, target: "/v1/exports?limit=1", status: http.StatusOK,
					check: func(t *testing.T, r response) {
						var p page[export]
						r.Decode(t, &p)
						if len(p.Items) != 1 || p.NextCursor == nil {
							t.Fatalf("exports page of one: %s, want one job and a nextCursor", r)
						}
						e.do(t, routeExports, call{name: "its next page", method: http.MethodGet, target: "/v1/exports?limit=1&cursor=" + url.QueryEscape(*p.NextCursor), status: http.StatusOK})
					}},
				{name: "not a cursor", method: http.MethodGet, target: "/v1/exports?cursor=bm90LWEtY3Vyc29y", status: http.StatusBadRequest},
				{name: "limit 501", method: http.MethodGet, target: "/v1/exports?limit=501", status: http.StatusBadRequest},
			}
		}},

		routeExport: {writerOnly: true, calls: func(e *env) []call {
			job := func(t *testing.T, r response) export {
				var j export
				r.Decode(t, &j)
				return j
			}
			return []call{
				{name: "succeeded users export", method: http.MethodGet, target: "/v1/exports/" + e.exportUsers, status: http.StatusOK,
					check: func(t *testing.T, r response) {
						j := job(t, r)
						if j.Status != "succeeded" || j.ExpiresAt == nil || j.Filename == nil || j.CustomerID != nil {
							t.Fatalf("users export: %s, want succeeded with a link, its expiry and a filename", r)
						}
						e.download(t, j)
					}},
				{name: "succeeded gzipped export", method: http.MethodGet, target: "/v1/exports/" + e.exportGzip, status: http.StatusOK,
					check: func(t *testing.T, r response) {
						j := job(t, r)
						if j.Status != "succeeded" || !j.Gzip || j.Filename == nil || !strings.HasSuffix(*j.Filename, ".csv.gz") || j.CustomerID == nil || *j.CustomerID != "fabrikam" {
							t.Errorf("gzipped fabrikam export: %s", r)
						}
					}},
				{name: "failed export", method: http.MethodGet, target: "/v1/exports/" + e.exportFailed, status: http.StatusOK,
					check: func(t *testing.T, r response) {
						j := job(t, r)
						if j.Status != "failed" || j.Reason == nil || !strings.Contains(*j.Reason, orphanCustomerID) || j.DownloadURL != nil || j.Rows != nil {
							t.Errorf("the orphan export: %s, want failed with a reason naming %q and no link", r, orphanCustomerID)
						}
					}},
				{name: "unknown export", method: http.MethodGet, target: "/v1/exports/" + missingExportID, status: http.StatusNotFound,
					check: func(t *testing.T, r response) { wantErrorCode(t, r, "not_found") }},
				{name: "not an export id", method: http.MethodGet, target: "/v1/exports/latest", status: http.StatusNotFound},
			}
		}},

		// The price list: SKU_MONTHLY_PRICES (SPE_E3=36.00, USD) until a
		// PUT (a write case, after every read) replaces it.
		routePrices: {calls: func(e *env) []call {
			return []call{
				{name: "the default list", method: http.MethodGet, target: "/v1/prices", status: http.StatusOK,
					check: func(t *testing.T, r response) {
						var p struct {
							Source   string
							Currency *string
							Prices   []license.Price
						}
						r.Decode(t, &p)
						if p.Source != "default" || p.Currency == nil || *p.Currency != "USD" || len(p.Prices) != 1 || p.Prices[0] != (license.Price{SKU: "SPE_E3", MonthlyPrice: 36}) {
							t.Errorf("prices: %s, want SKU_MONTHLY_PRICES's SPE_E3 36.00 USD", r)
						}
					}},
				{name: "one SKU", method: http.MethodGet, target: "/v1/prices?sku=spe_e3", status: http.StatusOK},
				{name: "an unpriced SKU", method: http.MethodGet, target: "/v1/prices?sku=SPE_E5", status: http.StatusNotFound},
			}
		}},
		routePutPrices: {writerOnly: true, calls: func(e *env) []call {
			return []call{
				{name: "the partner's CSV", method: http.MethodPut, target: "/v1/prices", body: []byte("sku,monthlyPrice,currency\nSPE_E3,36.00,USD\n"), status: http.StatusOK},
				{name: "two currencies", method: http.MethodPut, target: "/v1/prices", body: []byte("sku,monthlyPrice,currency\nSPE_E3,36.00,USD\nSPE_E5,57,EUR\n"), status: http.StatusUnprocessableEntity,
					check: func(t *testing.T, r response) {
						var body apiError
						r.Decode(t, &body)
						if len(body.Error.Details) != 1 || body.Error.Details[0]["line"] != 3.0 || body.Error.Details[0]["column"] != "currency" {
							t.Errorf("two currencies: %s, want one problem at line 3, currency", r)
						}
					}},
				{name: "empty body", method: http.MethodPut, target: "/v1/prices", body: []byte(" "), status: http.StatusBadRequest},
				{name: "too large", method: http.MethodPut, target: "/v1/prices", body: oversized(), status: http.StatusRequestEntityTooLarge},
			}
		}},

		// contoso on D: 10 SPE_E3 on an undated subscription, 5 holders of
		// whom 2 are inactive → reassignNow 2 (2 × 36 = 72.00), lockedUntil
		// 5 (no renewal date: 5 × 36 = 180.00), nothing reducible.
		routeReclaim: {calls: func(e *env) []call {
			return []call{
				{name: "contoso", method: http.MethodGet, target: "/v1/customers/contoso/reclaim", status: http.StatusOK,
					check: func(t *testing.T, r response) {
						var c struct {
							Days   int
							Totals []license.ReclaimTotal
						}
						r.Decode(t, &c)
						got := fmt.Sprint(c.Days)
						for _, x := range c.Totals {
							got += fmt.Sprintf(" %s %d", x.Kind, x.Seats)
							if x.Monthly != nil {
								got += fmt.Sprintf(" %.2f", *x.Monthly)
							}
						}
						if want := "30 reassignNow 2 72.00 reduceAtRenewal 0 lockedUntil 5 180.00"; got != want {
							t.Errorf("contoso's reclaim totals %q, want %q", got, want)
						}
					}},
				{name: "180 days, 7-day window", method: http.MethodGet, target: "/v1/customers/fabrikam/reclaim?days=180&window=7", status: http.StatusOK},
				{name: "45 days", method: http.MethodGet, target: "/v1/customers/contoso/reclaim?days=45", status: http.StatusBadRequest},
				{name: "unknown customer", method: http.MethodGet, target: "/v1/customers/" + missingCustomer + "/reclaim", status: http.StatusNotFound},
			}
		}},
		// The portfolio calendar's totals are the sums of the customers'.
		routePortfolioR: {calls: func(e *env) []call {
			return []call{
				{name: "calendar", method: http.MethodGet, target: "/v1/portfolio/reclaim?days=90", status: http.StatusOK,
					check: func(t *testing.T, r response) {
						var p struct{ Totals []license.ReclaimTotal }
						r.Decode(t, &p)
						want := map[license.ReclaimKind]int{}
						for _, id := range customerIDs {
							var c struct{ Totals []license.ReclaimTotal }
							e.must(t, routeReclaim, call{name: id, method: http.MethodGet, target: "/v1/customers/" + id + "/reclaim?days=90", status: http.StatusOK}).Decode(t, &c)
							for _, x := range c.Totals {
								want[x.Kind] += x.Seats
							}
						}
						for _, x := range p.Totals {
							if x.Seats != want[x.Kind] {
								t.Errorf("portfolio %s %d seats, want the customers' %d", x.Kind, x.Seats, want[x.Kind])
							}
						}
					}},
				{name: "a page of one", method: http.MethodGet, target: "/v1/portfolio/reclaim?limit=1", status: http.StatusOK},
				{name: "7 days", method: http.MethodGet, target: "/v1/portfolio/reclaim?days=7", status: http.StatusBadRequest},
				{name: "not a cursor", method: http.MethodGet, target: "/v1/portfolio/reclaim?cursor=%25%25", status: http.StatusBadRequest},
			}
		}},

		routeExportLink: {writerOnly: true, calls: func(e *env) []call {
			return []call{
				{name: "a fresh link", method: http.MethodPost, target: "/v1/exports/" + e.exportUsers + "/link", status: http.StatusOK,
					check: func(t *testing.T, r response) {
						var j export
						r.Decode(t, &j)
						if j.Status != "succeeded" || j.ExpiresAt == nil {
							t.Fatalf("new link: %s, want the succeeded job with a link and its expiry", r)
						}
						e.download(t, j)
					}},
				{name: "a failed export has no file", method: http.MethodPost, target: "/v1/exports/" + e.exportFailed + "/link", status: http.StatusConflict,
					check: func(t *testing.T, r response) { wantErrorCode(t, r, "conflict") }},
				{name: "unknown export", method: http.MethodPost, target: "/v1/exports/" + missingExportID + "/link", status: http.StatusNotFound},
			}
		}},
	}
}

// validateAs checks a JSON value against a schema of openapi.yaml's
// components.
func (e *env) validateAs(t *testing.T, schema string, raw json.RawMessage) {
	t.Helper()
	s := e.spec.Components.Schemas[schema]
	if s == nil {
		t.Fatalf("openapi.yaml has no schema %s", schema)
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: not JSON: %v", schema, err)
	}
	if err := e.spec.Validate(s, v); err != nil {
		t.Errorf("%s does not match openapi.yaml's %s:\n%v", raw, schema, err)
	}
}

// authorization sends a route's probe without a token, with an unknown
// token and as a reader.
func (e *env) authorization(t *testing.T, route string, c routeCase, calls []call) {
	t.Helper()
	i := slices.IndexFunc(calls, func(c call) bool { return c.status/100 == 2 })
	if i < 0 {
		t.Fatalf("case %s has no successful call to probe with", route)
	}
	probe := calls[i]
	probe.check = nil
	for _, token := range []string{noToken, "not-a-token"} {
		p := probe
		p.name, p.token, p.status = fmt.Sprintf("probe with token %q", token), token, http.StatusUnauthorized
		p.check = func(t *testing.T, r response) { wantErrorCode(t, r, "unauthorized") }
		e.do(t, route, p)
	}
	p := probe
	p.name, p.token = "probe as a reader", readerToken
	if c.writerOnly {
		p.status = http.StatusForbidden
		p.check = func(t *testing.T, r response) { wantErrorCode(t, r, "forbidden") }
	}
	e.do(t, route, p)
}

// unprovokable says why the local stack cannot give a documented answer
// on purpose, or "" when the suite must provoke it.
func unprovokable(status int, c routeCase) string {
	switch {
	case status == http.StatusForbidden && !c.writerOnly:
		return "readers may call the route: 403 comes only from an authorizer context with an invalid tenant or an unknown role, which the gateway's tokens never carry"
	case status == http.StatusServiceUnavailable:
		return "only while the function's signing credentials are being renewed, or the store does not answer within the request's deadline (pkg/api/reports TestHungStoreAnswers503)"
	}
	return ""
}

// ---------------------------------------------------------------------------
// The tests.

// TestEveryRouteHasAContractCase fails when template.yaml gains a route
// without a case here, or loses one a case still names.
func TestEveryRouteHasAContractCase(t *testing.T) {
	apitest.CoverRoutes(t, cases(), "contract", "internal/apicontract", func(r infra.Route, key string, c routeCase) {
		if c.calls == nil {
			t.Errorf("case %s has no calls", key)
		}
		if r.Method == http.MethodPost && !c.writerOnly {
			t.Errorf("case %s: every POST route needs the writer role", key)
		}
	})
}

// TestResponsesMatchOpenAPI runs every case against the local stack, then
// checks that every route answered a success and an error of its own, and
// that every answer openapi.yaml documents was seen, but those the local
// stack cannot give.
func TestResponsesMatchOpenAPI(t *testing.T) {
	cs := cases()
	routes := apitest.Routes(t)
	begin := time.Now()
	e := start(t)
	e.setUp(t)
	t.Logf("stack and set-up: %v", time.Since(begin).Round(time.Millisecond))

	// Reads first: their checks expect the set-up's data, which the write
	// cases add to.
	// A missing case fails TestEveryRouteHasAContractCase.
	apitest.RunReadsThenWrites(t, routes, cs, func(r infra.Route, _ routeCase) bool { return r.Method != http.MethodGet },
		func(t *testing.T, key string, c routeCase) {
			calls := c.calls(e)
			for _, cl := range calls {
				e.do(t, key, cl)
			}
			e.authorization(t, key, c, calls)
		})
	e.waitIdle(t) // the export the write cases started, before the stack stops

	t.Run("coverage", func(t *testing.T) {
		for _, r := range routes {
			key := r.Method + " " + r.Path
			seen := e.seen[key]
			success := slices.ContainsFunc(slices.Collect(maps.Keys(seen)), func(s int) bool { return s/100 == 2 })
			ownError := slices.ContainsFunc(slices.Collect(maps.Keys(seen)), func(s int) bool {
				return s/100 == 4 && s != http.StatusUnauthorized && s != http.StatusForbidden
			})
			if !success || !ownError {
				t.Errorf("%s answered %v: want a success and an error of the route's own (not 401 or 403)", key, slices.Sorted(maps.Keys(seen)))
			}
			op := e.spec.Operation(r.Method, r.Path)
			if op == nil {
				t.Errorf("openapi.yaml does not describe %s", key)
				continue
			}
			for status := range op.Responses {
				var code int
				if _, err := fmt.Sscan(status, &code); err != nil {
					t.Errorf("%s documents response %q", key, status)
					continue
				}
				if !seen[code] && unprovokable(code, cs[key]) == "" {
					t.Errorf("%s documents %d, which no call provoked", key, code)
				}
			}
		}
	})
	t.Logf("whole run: %v", time.Since(begin).Round(time.Millisecond))
}
