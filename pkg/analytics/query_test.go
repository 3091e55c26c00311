package analytics

import (
	"encoding/json"
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

var processed = time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)

// contoso sells SPE_E3 through two channels and holds a trial-only SKU.
//
//	SPE_E3: sold own 10 + direct 5 = 15, assigned 12.
//	  Shared 12 in proportion 10:5 → 12·10/15 = 8, 12·5/15 = 4 (no remainder).
//	EMS: sold own 3 + partner 3 + unknown 1 = 7, assigned 5.
//	  5·3/7 = 2 r1, 5·3/7 = 2 r1, 5·1/7 = 0 r5 → 4 handed out, 1 left:
//	  the largest remainder is unknown's (5) → own 2, partner 2, unknown 1.
//	FLOW_FREE: trial only, sold 0, assigned 4 → one "unknown" row, sold 0, deployed 4.
//	VISIO: sold 0, assigned 0 → no row.
//	Usage (28 days): exchange 12 entitled / 14 active, sharepoint 12 / 6,
//	  teams 12 / 0, yammer 0 / 3, skype 0 / 0 (no row), "officeapps" 2 / 1.
var contoso = &license.Figures{
	Customer:   license.Customer{ID: "contoso", Name: "Contoso Ltd", TenantID: "0f1e2d3c-0000-4000-8000-000000000001"},
	ReportDate: 20777,
	Products: []license.ProductFigures{
		{SKU: "EMS", Name: "Enterprise Mobility + Security E3", Sold: license.ChannelCounts{Own: 3, Partner: 3, Unknown: 1}, Assigned: 5, Counted: true},
		{SKU: "FLOW_FREE", Name: "Power Automate Free", Assigned: 4},
		{SKU: "SPE_E3", Name: "Microsoft 365 E3", Sold: license.ChannelCounts{Own: 10, Direct: 5}, Assigned: 12, Counted: true},
		{SKU: "VISIO", Name: "Visio Plan 2"},
	},
	Windows: []license.WindowFigures{
		{Days: 28, Workloads: []license.WorkloadFigures{
			{Workload: license.Exchange, Entitlements: 12, Active: 14, CountedActive: 10},
			{Workload: license.SharePoint, Entitlements: 12, Active: 6, CountedActive: 6},
			{Workload: license.Teams, Entitlements: 12},
			{Workload: license.Yammer, Active: 3},
			{Workload: license.Skype},
			{Workload: "officeapps", Entitlements: 2, Active: 1, CountedActive: 1},
		}},
		{Days: 7, Workloads: []license.WorkloadFigures{
			{Workload: license.Exchange, Entitlements: 12, Active: 9, CountedActive: 9},
		}},
	},
}

// fabrikam has no Entra tenant id: customerTenantId falls back to the id.
var fabrikam = &license.Figures{
	Customer: license.Customer{ID: "fabrikam", Name: "Fabrikam Inc"},
	Products: []license.ProductFigures{
		{SKU: "SPE_E3", Name: "Microsoft 365 E3", Sold: license.ChannelCounts{Partner: 20}, Assigned: 25, Counted: true},
	},
	Windows: []license.WindowFigures{
		{Days: 28, Workloads: []license.WorkloadFigures{
			{Workload: license.Exchange, Entitlements: 20, Active: 22, CountedActive: 19},
		}},
	},
}

type deployRow struct {
	product, channel string
	sold, deployed   int
}

func deployRows(rows []Row) []deployRow {
	var out []deployRow
	for _, r := range rows {
		out = append(out, deployRow{r.Value(ProductID), r.Value(Channel), r.Count(LicensesSold), r.Count(LicensesDeployed)})
	}
	return out
}

func TestDeploymentRows(t *testing.T) {
	rows := DeploymentRows(nil, "contoso", contoso, processed)
	want := []deployRow{
		{"EMS", "own", 3, 2},
		{"EMS", "partner", 3, 2},
		{"EMS", "unknown", 1, 1},
		{"FLOW_FREE", "unknown", 0, 4},
		{"SPE_E3", "own", 10, 8},
		{"SPE_E3", "direct", 5, 4},
	}
	if got := deployRows(rows); !reflect.DeepEqual(got, want) {
		t.Fatalf("rows = %v\nwant %v", got, want)
	}
	for _, r := range rows {
		if r.Value(CustomerTenantID) != "0f1e2d3c-0000-4000-8000-000000000001" || r.Value(CustomerID) != "contoso" ||
			r.Value(CustomerName) != "Contoso Ltd" || r.Value(ServiceCode) != "O365" || r.Value(ServiceName) != "Office 365" ||
			r.Value(WorkloadCode) != "" || !r.Processed.Equal(processed) {
			t.Errorf("row %+v: customer, service or time fields wrong", r)
		}
	}
	if rows[4].Value(ProductName) != "Microsoft 365 E3" {
		t.Errorf("product name = %q", rows[4].Value(ProductName))
	}

	// Over-assignment stays on the rows: 25 assigned on 20 sold, one channel.
	rows = DeploymentRows(nil, "fabrikam", fabrikam, processed)
	if got := deployRows(rows); !reflect.DeepEqual(got, []deployRow{{"SPE_E3", "partner", 20, 25}}) {
		t.Errorf("fabrikam rows = %v", got)
	}
	if rows[0].Value(CustomerTenantID) != "fabrikam" {
		t.Errorf("customerTenantId without a tenant id = %q, want the customer id", rows[0].Value(CustomerTenantID))
	}
}

func TestShareOut(t *testing.T) {
	cases := []struct {
		n       int
		weights []int
		want    []int
	}{
		{12, []int{10, 0, 5, 0}, []int{8, 0, 4, 0}},
		{5, []int{3, 3, 0, 1}, []int{2, 2, 0, 1}}, // remainders 1, 1, –, 5
		{1, []int{1, 1, 0, 0}, []int{1, 0, 0, 0}}, // tie: the earlier channel
		{2, []int{1, 1, 1, 0}, []int{1, 1, 0, 0}}, // 2/3 each, ties in order
		{0, []int{4, 4, 0, 0}, []int{0, 0, 0, 0}},
		{30, []int{10, 0, 0, 0}, []int{30, 0, 0, 0}}, // over-assignment goes where the capacity is
		{7, []int{0, 0, 0, 0}, []int{0, 0, 0, 0}},
	}
	for _, c := range cases {
		got := shareOut(c.n, c.weights)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("shareOut(%d, %v) = %v, want %v", c.n, c.weights, got, c.want)
		}
	}
}

type usageRow struct {
	code, name        string
	qualified, active int
}

func TestUsageRows(t *testing.T) {
	var got []usageRow
	rows := UsageRows(nil, "contoso", contoso, 28, processed)
	for _, r := range rows {
		got = append(got, usageRow{r.Value(WorkloadCode), r.Value(WorkloadName), r.Count(LicensesQualified), r.Count(LicensesActive)})
		if r.Value(ProductID) != "" || r.Value(Channel) != "" || r.Value(ServiceCode) != "O365" {
			t.Errorf("usage row %+v: product and channel must be null, service O365", r)
		}
	}
	want := []usageRow{
		{"EXO", "Exchange Online", 12, 14},
		{"SPO", "SharePoint Online", 12, 6},
		{"TEAMS", "Microsoft Teams", 12, 0},
		{"YAMMER", "Yammer", 0, 3},
		{"OFFICEAPPS", "officeapps", 2, 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("usage rows = %v\nwant %v", got, want)
	}
	if rows := UsageRows(nil, "contoso", contoso, 7, processed); len(rows) != 1 || rows[0].Count(LicensesActive) != 9 {
		t.Errorf("7-day rows = %+v, want one EXO row with 9 active", rows)
	}
	if rows := UsageRows(nil, "contoso", contoso, 90, processed); len(rows) != 0 {
		t.Errorf("a window the figures lack gives %d rows, want none", len(rows))
	}
	if WorkloadCodeOf(license.Skype) != "SFB" || WorkloadNameOf(license.Skype) != "Skype for Business" {
		t.Error("skype is SFB, Skype for Business")
	}
}

func allUsageRows() []Row {
	rows := UsageRows(nil, "contoso", contoso, 28, processed)
	return UsageRows(rows, "fabrikam", fabrikam, 28, processed.Add(time.Hour))
}

func TestQueryRunFilterAndPage(t *testing.T) {
	rows := allUsageRows() // contoso EXO SPO TEAMS YAMMER OFFICEAPPS, fabrikam EXO
	q, err := ParseQuery(Usage, Params{Filter: "workloadCode eq 'EXO' or workloadCode eq 'SPO'", Top: "2", Skip: "1"})
	if err != nil {
		t.Fatal(err)
	}
	page, total := q.Run(rows)
	// Filtered: contoso EXO, contoso SPO, fabrikam EXO → total 3; skip 1, top 2.
	if total != 3 || len(page) != 2 || page[0].Value(WorkloadCode) != "SPO" || page[1].Value(CustomerID) != "fabrikam" {
		t.Fatalf("total %d, page %+v", total, page)
	}
	q.Skip = 3
	if page, total := q.Run(rows); total != 3 || len(page) != 0 {
		t.Errorf("skip past the end: total %d, %d rows", total, len(page))
	}
}

func TestQueryGroupBy(t *testing.T) {
	rows := allUsageRows()
	q, err := ParseQuery(Usage, Params{GroupBy: "workloadCode"})
	if err != nil {
		t.Fatal(err)
	}
	page, total := q.Run(rows)
	// EXO: contoso 12/14 + fabrikam 20/22 = 32 qualified, 36 active; the
	// others are contoso's alone. Sorted by code.
	want := []usageRow{
		{"EXO", "", 32, 36},
		{"OFFICEAPPS", "", 2, 1},
		{"SPO", "", 12, 6},
		{"TEAMS", "", 12, 0},
		{"YAMMER", "", 0, 3},
	}
	var got []usageRow
	for _, r := range page {
		got = append(got, usageRow{r.Value(WorkloadCode), r.Value(WorkloadName), r.Count(LicensesQualified), r.Count(LicensesActive)})
	}
	if total != 5 || !reflect.DeepEqual(got, want) {
		t.Fatalf("total %d, groups %v\nwant %v", total, got, want)
	}
	if !page[0].Processed.Equal(processed.Add(time.Hour)) {
		t.Errorf("EXO group processed %v, want the newest row's", page[0].Processed)
	}

	// Grouping by two fields, with a filter applied first.
	q, err = ParseQuery(Usage, Params{GroupBy: " customerName , serviceCode ", Filter: "workloadCode ne 'YAMMER'"})
	if err != nil {
		t.Fatal(err)
	}
	page, _ = q.Run(rows)
	// contoso: 12+12+12+2 = 38 qualified, 14+6+0+1 = 21 active; fabrikam 20/22.
	if len(page) != 2 || page[0].Value(CustomerName) != "Contoso Ltd" || page[0].Count(LicensesQualified) != 38 ||
		page[0].Count(LicensesActive) != 21 || page[1].Count(LicensesQualified) != 20 || page[1].Value(ServiceCode) != "O365" {
		t.Errorf("groups = %+v", page)
	}
}

func TestGroupByErrors(t *testing.T) {
	cases := []struct {
		text   string
		pos    int
		reason string
	}{
		{"colour", 1, `unknown field "colour"`},
		{"channel,colour", 9, `unknown field "colour"`},
		{"channel,  colour", 11, `unknown field "colour"`},
		{"channel,,customerName", 9, "empty field name"},
		{"channel,", 9, "empty field name"},
		{"channel,Channel", 9, "listed twice"},
		{"licensesActive", 1, "unknown field"},
	}
	for _, c := range cases {
		_, err := ParseGroupBy(Usage, c.text)
		var e *Error
		if !errors.As(err, &e) || e.Param != "groupby" || e.Position != c.pos || !strings.Contains(e.Reason, c.reason) {
			t.Errorf("ParseGroupBy(%q) = %v, want position %d and %q", c.text, err, c.pos, c.reason)
		}
	}
	if _, err := ParseGroupBy(Deployment, "workloadCode"); err == nil {
		t.Error("deployment rows have no workloadCode to group by")
	}
}

func TestParseQueryPaging(t *testing.T) {
	q, err := ParseQuery(Deployment, Params{})
	if err != nil || q.Top != 10000 || q.Skip != 0 || q.Filter != nil || q.GroupBy != nil {
		t.Fatalf("defaults: %+v, %v", q, err)
	}
	for _, p := range []Params{{Top: "0"}, {Top: "10001"}, {Top: "ten"}, {Skip: "-1"}, {Skip: "1.5"}} {
		_, err := ParseQuery(Deployment, p)
		var e *Error
		if !errors.As(err, &e) || (e.Param != "top" && e.Param != "skip") {
			t.Errorf("ParseQuery(%+v) = %v, want a top/skip error", p, err)
		}
	}
}

func TestEncode(t *testing.T) {
	rows := DeploymentRows(nil, "contoso", contoso, processed)
	q, err := ParseQuery(Deployment, Params{Top: "2", Filter: "productId eq 'SPE_E3' or productId eq 'EMS'"})
	if err != nil {
		t.Fatal(err)
	}
	page, total := q.Run(rows)
	enc := q.Encode(page, total, 1<<20, func(n int) string { return q.NextLink("/v1/analytics/licenses/deployment", n) })
	var body struct {
		Value      []map[string]any `json:"value"`
		NextLink   *string          `json:"@nextLink"`
		TotalCount int              `json:"totalCount"`
	}
	if err := json.Unmarshal(enc.Body, &body); err != nil {
		t.Fatalf("%s: %v", enc.Body, err)
	}
	if body.TotalCount != 5 || len(body.Value) != 2 || enc.Rows != 2 || body.NextLink == nil {
		t.Fatalf("body %s", enc.Body)
	}
	first := body.Value[0]
	wantFirst := map[string]any{
		"customerTenantId": "0f1e2d3c-0000-4000-8000-000000000001", "customerId": "contoso", "customerName": "Contoso Ltd",
		"productId": "EMS", "productName": "Enterprise Mobility + Security E3", "serviceCode": "O365", "serviceName": "Office 365",
		"channel": "own", "licensesDeployed": 2.0, "licensesSold": 3.0, "processedDateTime": "2026-11-20T10:30:00Z",
	}
	if !reflect.DeepEqual(first, wantFirst) {
		t.Errorf("first row %v\nwant %v", first, wantFirst)
	}
	// The field order is Partner Center's.
	if !strings.HasPrefix(string(enc.Body), `{"value":[{"customerTenantId":"0f1e2d3c-0000-4000-8000-000000000001","customerId":"contoso","customerName"`) {
		t.Errorf("field order: %s", enc.Body[:120])
	}
	link, err := url.Parse(*body.NextLink)
	if err != nil || link.Path != "/v1/analytics/licenses/deployment" || link.Query().Get("skip") != "2" ||
		link.Query().Get("top") != "2" || link.Query().Get("filter") != "productId eq 'SPE_E3' or productId eq 'EMS'" {
		t.Errorf("next link %q", *body.NextLink)
	}

	// The last page has no next link; grouped rows show only their fields.
	q, _ = ParseQuery(Deployment, Params{GroupBy: "channel"})
	page, total = q.Run(rows)
	enc = q.Encode(page, total, 1<<20, func(int) string { t.Error("no next link on the last page"); return "" })
	want := `{"value":[` +
		`{"channel":"direct","licensesDeployed":4,"licensesSold":5,"processedDateTime":"2026-11-20T10:30:00Z"},` +
		`{"channel":"own","licensesDeployed":10,"licensesSold":13,"processedDateTime":"2026-11-20T10:30:00Z"},` +
		`{"channel":"partner","licensesDeployed":2,"licensesSold":3,"processedDateTime":"2026-11-20T10:30:00Z"},` +
		`{"channel":"unknown","licensesDeployed":5,"licensesSold":1,"processedDateTime":"2026-11-20T10:30:00Z"}` +
		`],"@nextLink":null,"totalCount":4}`
	// own: SPE_E3 10/8 + EMS 3/2 = 13 sold, 10 deployed; unknown: EMS 1/1 + FLOW_FREE 0/4.
	if string(enc.Body) != want {
		t.Errorf("grouped body\n%s\nwant\n%s", enc.Body, want)
	}
}

// A page that would not fit the byte budget is cut short, with a next link
// that continues exactly after the last row written.
func TestEncodeByteBudget(t *testing.T) {
	rows := DeploymentRows(nil, "contoso", contoso, processed)
	q, _ := ParseQuery(Deployment, Params{})
	page, total := q.Run(rows)
	one := len(q.AppendRow(nil, &page[0]))
	enc := q.Encode(page, total, 2*one+300, func(n int) string { return q.NextLink("/p", n) })
	if enc.Rows != 2 {
		t.Fatalf("wrote %d rows in a budget of two, body %s", enc.Rows, enc.Body)
	}
	var body struct {
		NextLink string `json:"@nextLink"`
	}
	if err := json.Unmarshal(enc.Body, &body); err != nil || !strings.Contains(body.NextLink, "skip=2") {
		t.Errorf("next link %q (%v)", body.NextLink, err)
	}
	// At least one row always goes out, whatever the budget.
	if enc := q.Encode(page, total, 10, func(int) string { return "/p" }); enc.Rows != 1 {
		t.Errorf("tiny budget wrote %d rows", enc.Rows)
	}
}
