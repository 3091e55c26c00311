package export

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

// fakeReader serves customers from memory. It proves the CSV — columns,
// cells, quoting, neutralising — not storage: the integration tests of the
// export worker read the same datasets back from DynamoDB Local.
type fakeReader struct {
	order     []string
	customers map[string]*fakeCustomer
}

type fakeCustomer struct {
	// figures are returned one per Figures call, the last one repeating,
	// so a test can make an ingest land between two reads.
	figures []*store.CustomerFigures
	calls   int
	users   map[int64][]store.UserRow // by generation
	subs    []license.Subscription    // nil: no SUBSCRIPTIONS item
}

func (f *fakeReader) EachCustomerID(_ context.Context, _ license.Tenant, fn func(string) error) error {
	for _, id := range f.order {
		if err := fn(id); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeReader) Figures(_ context.Context, _ license.Tenant, id string) (*store.CustomerFigures, error) {
	c, ok := f.customers[id]
	if !ok || len(c.figures) == 0 {
		return nil, fmt.Errorf("figures of %s: %w", id, store.ErrNotFound)
	}
	fig := c.figures[min(c.calls, len(c.figures)-1)]
	c.calls++
	return fig, nil
}

func (f *fakeReader) GenerationUsers(_ context.Context, _ license.Tenant, id string, gen int64, shards int, fn func(store.UserRow) error) error {
	c := f.customers[id]
	if shards < 1 {
		return fmt.Errorf("customer %s: %d shards", id, shards)
	}
	for _, u := range c.users[gen] {
		if err := fn(u); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeReader) Subscriptions(_ context.Context, _ license.Tenant, id string) ([]license.Subscription, error) {
	c := f.customers[id]
	if c.subs == nil {
		return nil, fmt.Errorf("subscriptions of %s: %w", id, store.ErrNotFound)
	}
	return c.subs, nil
}

func date(t *testing.T, s string) license.Date {
	t.Helper()
	d, err := license.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func tenant(t *testing.T) license.Tenant {
	t.Helper()
	tn, err := license.NewTenant("partner-a")
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

// window28 lists the given workloads in a 28-day window, as the engine
// does for every workload a customer's users report.
func window28(workloads ...license.Workload) []license.WindowFigures {
	w := license.WindowFigures{Days: 28}
	for _, x := range workloads {
		w.Workloads = append(w.Workloads, license.WorkloadFigures{Workload: x})
	}
	return []license.WindowFigures{w}
}

var std = license.StandardWorkloads

// portfolio is two customers:
//
// contoso (report date D = 2026-11-20, 28-day window: active means last
// activity after D−28 = 2026-10-23), a hostile name, an extra "office"
// workload and four users:
//   - alice: exchange active on D−1; OneDrive licensed, active on D−27
//     (2026-10-24, the oldest active day) and SharePoint unlicensed, active
//     2026-10-01: merged, sharepoint is licensed, last 2026-10-24, active;
//     office unlicensed but active on D.
//   - @bob: deleted, display name "-2", teams last 2026-10-23 = D−28, not
//     active (the window excludes its first day).
//   - carol: a display name that needs RFC 4180 quoting.
//   - dave: display name "+1", Skype reported as "SkypeForBusiness".
//
// fabrikam (D = 2026-11-18): erin, exchange last 2026-10-21 = D−28, not
// active.
func portfolio(t *testing.T) *fakeReader {
	contosoFigures := &store.CustomerFigures{
		Generation: 3, Shards: 2, Users: 4,
		Figures: license.Figures{
			Customer:   license.Customer{ID: "contoso", Name: `=cmd|' /C calc'!A0`, TenantID: "t-1"},
			ReportDate: date(t, "2026-11-20"),
			Windows:    window28(append(slices.Clone(std), "office")...),
		},
	}
	fabrikamFigures := &store.CustomerFigures{
		Generation: 1, Shards: 1, Users: 1,
		Figures: license.Figures{
			Customer:   license.Customer{ID: "fabrikam", Name: "Fabrikam Inc"},
			ReportDate: date(t, "2026-11-18"),
			Windows:    window28(std...),
		},
	}
	use := func(w string, licensed bool, last string) license.WorkloadUse {
		return license.WorkloadUse{Workload: license.Workload(w), Licensed: licensed, LastActivity: date(t, last)}
	}
	return &fakeReader{
		order: []string{"contoso", "fabrikam"},
		customers: map[string]*fakeCustomer{
			"contoso": {
				figures: []*store.CustomerFigures{contosoFigures},
				users: map[int64][]store.UserRow{
					2: {{User: license.User{Key: "stale@contoso.com"}}}, // an old generation: never exported
					3: {
						{Entitled: true, User: license.User{
							Key: "alice@contoso.com", DisplayName: `=HYPERLINK("http://x","y")`,
							Licenses: []license.License{{SKU: "SPE_E3", AssignedDate: date(t, "2025-01-01")}, {SKU: "POWER_BI"}},
							Workloads: []license.WorkloadUse{
								use("exchange", true, "2026-11-19"), use("onedrive", true, "2026-10-24"),
								use("sharepoint", false, "2026-10-01"), use("office", false, "2026-11-20"),
							},
						}},
						{User: license.User{Key: "@bob", DisplayName: "-2", Deleted: true,
							Workloads: []license.WorkloadUse{use("teams", false, "2026-10-23")}}},
						{User: license.User{Key: "carol@contoso.com", DisplayName: "Smith, \"Carol\"\nJr",
							Licenses: []license.License{{SKU: "SPE_E3"}}}},
						{User: license.User{Key: "dave@contoso.com", DisplayName: "+1",
							Workloads: []license.WorkloadUse{use("SkypeForBusiness", true, "2026-11-01")}}},
					},
				},
				subs: []license.Subscription{
					{ID: "s1", SKU: "SPE_E3", Name: "Microsoft 365 E3", Quantity: 10, Status: license.StatusActive,
						Channel: license.ChannelOwn, RenewalDate: date(t, "2027-01-31")},
					{ID: "-s2", SKU: "TEAMS", Name: "@Teams trial", Quantity: 25, Status: license.StatusActive,
						Trial: true, Channel: license.ChannelUnknown},
				},
			},
			"fabrikam": {
				figures: []*store.CustomerFigures{fabrikamFigures},
				users: map[int64][]store.UserRow{1: {
					{Entitled: true, User: license.User{Key: "erin@fabrikam.com", DisplayName: "Erin",
						Licenses:  []license.License{{SKU: "O365_E1"}},
						Workloads: []license.WorkloadUse{use("exchange", true, "2026-10-21")}}},
				}},
			},
		},
	}
}

func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = 0 // every record as long as the header
	records, err := r.ReadAll()
	if err != nil {
		t.Fatalf("the export is not valid CSV: %v\n%s", err, b)
	}
	return records
}

func compareRecords(t *testing.T, got, want [][]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d:\n%q", len(got), len(want), got)
	}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Errorf("record %d:\n got %q\nwant %q", i, got[i], want[i])
		}
	}
}

func TestUsers(t *testing.T) {
	r := portfolio(t)
	var out bytes.Buffer
	res, err := Write(context.Background(), r, Request{Tenant: tenant(t), Dataset: Users}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 5 || res.Customers != 2 {
		t.Errorf("result %+v, want 5 rows of 2 customers", res)
	}
	const f, tr = "false", "true"
	none := []string{f, "", f} // not licensed, no activity, not active
	row := func(fixed []string, workloads ...[]string) []string {
		return slices.Concat(append([][]string{fixed}, workloads...)...)
	}
	contoso := []string{"contoso", `'=cmd|' /C calc'!A0`, "2026-11-20"}
	want := [][]string{
		strings.Split("customerId,customerName,reportDate,userKey,displayName,deleted,assignedSkus,entitled,"+
			"exchangeLicensed,exchangeLastActivity,exchangeActive,sharepointLicensed,sharepointLastActivity,sharepointActive,"+
			"teamsLicensed,teamsLastActivity,teamsActive,yammerLicensed,yammerLastActivity,yammerActive,"+
			"skypeLicensed,skypeLastActivity,skypeActive,officeLicensed,officeLastActivity,officeActive", ","),
		row(append(contoso, "alice@contoso.com", `'=HYPERLINK("http://x","y")`, f, "SPE_E3;POWER_BI", tr),
			[]string{tr, "2026-11-19", tr}, []string{tr, "2026-10-24", tr}, none, none, none, []string{f, "2026-11-20", tr}),
		row(append(contoso, "'@bob", "'-2", tr, "", f),
			none, none, []string{f, "2026-10-23", f}, none, none, none),
		row(append(contoso, "carol@contoso.com", "Smith, \"Carol\"\nJr", f, "SPE_E3", f),
			none, none, none, none, none, none),
		row(append(contoso, "dave@contoso.com", "'+1", f, "", f),
			none, none, none, none, []string{tr, "2026-11-01", tr}, none),
		row([]string{"fabrikam", "Fabrikam Inc", "2026-11-18", "erin@fabrikam.com", "Erin", f, "O365_E1", tr},
			[]string{tr, "2026-10-21", f}, none, none, none, none, none),
	}
	compareRecords(t, readCSV(t, out.Bytes()), want)
}

// TestUsersRaw checks the bytes themselves: CRLF line ends, RFC 4180
// quoting of a comma, a quote and a line break, no byte order mark, and
// only the standard workloads for a customer that has no other.
func TestUsersRaw(t *testing.T) {
	r := portfolio(t)
	r.customers["fabrikam"].users[1][0].User.DisplayName = "Smith, \"Erin\"\nJr"
	var out bytes.Buffer
	if _, err := Write(context.Background(), r, Request{Tenant: tenant(t), Dataset: Users, CustomerID: "fabrikam"}, &out); err != nil {
		t.Fatal(err)
	}
	want := "customerId,customerName,reportDate,userKey,displayName,deleted,assignedSkus,entitled," +
		"exchangeLicensed,exchangeLastActivity,exchangeActive,sharepointLicensed,sharepointLastActivity,sharepointActive," +
		"teamsLicensed,teamsLastActivity,teamsActive,yammerLicensed,yammerLastActivity,yammerActive," +
		"skypeLicensed,skypeLastActivity,skypeActive\r\n" +
		"fabrikam,Fabrikam Inc,2026-11-18,erin@fabrikam.com,\"Smith, \"\"Erin\"\"\r\nJr\",false,O365_E1,true," +
		"true,2026-10-21,false,false,,false,false,,false,false,,false,false,,false\r\n"
	if out.String() != want {
		t.Errorf("got\n%q\nwant\n%q", out.String(), want)
	}
}

func TestCustomers(t *testing.T) {
	r := portfolio(t)
	// contoso: SPE_E3 sold 10 own + 4 direct, 12 assigned; a trial-only SKU
	// with 3 assigned stays out of the totals. Deployment 12 ÷ 14 = 85.7 %,
	// unassigned 14 − 12 = 2. Usage over exchange (10 entitlements, 8
	// active, 7 counted) and teams (10, 5, 5): 13 ÷ 20 = 65.0 %, adjusted
	// 12 ÷ 20 = 60.0 %, band medium (50 ≤ 65 < 80).
	cf := r.customers["contoso"].figures[0]
	cf.Users = 20
	cf.Figures.Products = []license.ProductFigures{
		{SKU: "SPE_E3", Sold: license.ChannelCounts{Own: 10, Direct: 4}, Assigned: 12, Counted: true},
		{SKU: "TEAMS_TRIAL", Assigned: 3},
	}
	cf.Figures.Windows = []license.WindowFigures{{Days: 28, InactiveLicensedUsers: 2, Workloads: []license.WorkloadFigures{
		{Workload: license.Exchange, Entitlements: 10, Active: 8, CountedActive: 7},
		{Workload: license.Teams, Entitlements: 10, Active: 5, CountedActive: 5},
	}}}
	// contoso's Copilot (v1 report, no active days): 5 seats sold, 4
	// assigned, 1 unassigned; 2 active, 1 dormant (also the 1 reclaimable),
	// 1 never used, 1 new; idle 1 + 1 = 2; habitual unknown (empty cell).
	cd, _ := license.ParseDate("2026-11-19")
	cf.Figures.Copilot = &license.CopilotFigures{ReportDate: cd, HasReport: true, Sold: 5, Assigned: 4, Unassigned: 1, NeverUsed: 1, New: 1,
		Apps: []string{}, Windows: []license.CopilotWindow{{Days: 28, Active: 2, Dormant: 1, Reclaimable: 1, Apps: []int{}}}}
	// fabrikam has no products and no windows: every percentage unknown.
	r.customers["fabrikam"].figures[0].Figures.Windows = nil

	var out bytes.Buffer
	res, err := Write(context.Background(), r, Request{Tenant: tenant(t), Dataset: Customers}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 2 {
		t.Errorf("%d rows, want 2", res.Rows)
	}
	compareRecords(t, readCSV(t, out.Bytes()), [][]string{
		CustomersHeader,
		{"contoso", `'=cmd|' /C calc'!A0`, "t-1", "2026-11-20", "28", "medium", "20",
			"14", "10", "0", "4", "0", "12", "2", "85.7", "20", "13", "12", "65.0", "60.0", "2",
			"2026-11-19", "5", "4", "1", "2", "", "1", "1", "1", "2"},
		{"fabrikam", "Fabrikam Inc", "", "2026-11-18", "28", "unknown", "1",
			"0", "0", "0", "0", "0", "0", "0", "", "0", "0", "0", "", "", "0",
			"", "", "", "", "", "", "", "", "", ""},
	})
}

func TestSubscriptions(t *testing.T) {
	r := portfolio(t)
	var out bytes.Buffer
	res, err := Write(context.Background(), r, Request{Tenant: tenant(t), Dataset: Subscriptions}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 2 || res.Customers != 2 {
		t.Errorf("result %+v, want 2 rows of 2 customers", res)
	}
	name := `'=cmd|' /C calc'!A0`
	compareRecords(t, readCSV(t, out.Bytes()), [][]string{
		SubscriptionsHeader,
		{"contoso", name, "2026-11-20", "s1", "SPE_E3", "Microsoft 365 E3", "10", "active", "false", "own", "true", "2027-01-31"},
		{"contoso", name, "2026-11-20", "'-s2", "TEAMS", "'@Teams trial", "25", "active", "true", "unknown", "false", ""},
	})
}

func TestOneCustomerNotFound(t *testing.T) {
	for _, d := range Datasets {
		t.Run(string(d), func(t *testing.T) {
			var out bytes.Buffer
			_, err := Write(context.Background(), portfolio(t), Request{Tenant: tenant(t), Dataset: d, CustomerID: "northwind"}, &out)
			if !errors.Is(err, ErrCustomerNotFound) {
				t.Errorf("error %v, want ErrCustomerNotFound", err)
			}
		})
	}
}

// A customer the name index lists but whose figures are gone (the index
// lags) is left out of a whole-tenant export, not an error.
func TestListedCustomerWithoutFiguresIsSkipped(t *testing.T) {
	r := portfolio(t)
	r.order = append(r.order, "ghost")
	var out bytes.Buffer
	res, err := Write(context.Background(), r, Request{Tenant: tenant(t), Dataset: Customers}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Customers != 2 || res.Rows != 2 {
		t.Errorf("result %+v, want the 2 customers with figures", res)
	}
}

func TestUsersGenerationChanged(t *testing.T) {
	t.Run("replaced while read", func(t *testing.T) {
		r := portfolio(t)
		c := r.customers["fabrikam"]
		newer := *c.figures[0]
		newer.Generation = 2
		// Reads: pass 1, pass 2 before the users, then after them.
		c.figures = []*store.CustomerFigures{c.figures[0], c.figures[0], &newer}
		_, err := Write(context.Background(), r, Request{Tenant: tenant(t), Dataset: Users}, &bytes.Buffer{})
		if !errors.Is(err, store.ErrGenerationChanged) {
			t.Errorf("error %v, want ErrGenerationChanged", err)
		}
	})
	t.Run("gained a workload after the header", func(t *testing.T) {
		r := portfolio(t)
		c := r.customers["fabrikam"]
		newer := *c.figures[0]
		newer.Figures.Windows = window28(append(slices.Clone(std), "whiteboard")...)
		c.figures = []*store.CustomerFigures{c.figures[0], &newer}
		_, err := Write(context.Background(), r, Request{Tenant: tenant(t), Dataset: Users}, &bytes.Buffer{})
		if !errors.Is(err, store.ErrGenerationChanged) {
			t.Errorf("error %v, want ErrGenerationChanged", err)
		}
	})
}

func TestUsersWorkloadMissingFromFigures(t *testing.T) {
	r := portfolio(t)
	u := &r.customers["fabrikam"].users[1][0].User
	u.Workloads = append(u.Workloads, license.WorkloadUse{Workload: "whiteboard", Licensed: true})
	_, err := Write(context.Background(), r, Request{Tenant: tenant(t), Dataset: Users, CustomerID: "fabrikam"}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), `"whiteboard"`) {
		t.Errorf("error %v, want one naming the workload", err)
	}
}

func TestBadRequests(t *testing.T) {
	tests := []struct {
		name string
		req  Request
	}{
		{"no tenant", Request{Dataset: Users}},
		{"unknown dataset", Request{Tenant: tenant(t), Dataset: "licences"}},
		{"bad customer id", Request{Tenant: tenant(t), Dataset: Users, CustomerID: "a#b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Write(context.Background(), portfolio(t), tt.req, &bytes.Buffer{}); err == nil {
				t.Error("no error")
			}
		})
	}
}

// failingWriter fails after n bytes, like a pipe whose upload was aborted.
type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, errors.New("upload aborted")
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriterErrorIsReturned(t *testing.T) {
	_, err := Write(context.Background(), portfolio(t), Request{Tenant: tenant(t), Dataset: Users}, &failingWriter{n: 10})
	if err == nil || !strings.Contains(err.Error(), "upload aborted") {
		t.Errorf("error %v, want the writer's", err)
	}
}

// TestSpreadsheetSplit: the users export of cells built to run a formula
// once a spreadsheet cuts the line on ',' or on ';' (Excel in a French or
// German locale), or trims bare fields. Splitting every line naively on ','
// and on ';' (a spreadsheet that ignores quotes), no piece starts a
// formula; and a real CSV reader gets every value back as neutralised.
func TestSpreadsheetSplit(t *testing.T) {
	r := portfolio(t)
	names := []string{"Smith;=1+1", "Doe,@SUM(A1)", " padded ", "tab\t-1", "x;＝1", `q"uote;+1`}
	rows := r.customers["fabrikam"].users[1]
	for i, n := range names {
		u := rows[0]
		u.User.Key = fmt.Sprintf("u%d@fabrikam.com", i)
		u.User.DisplayName = n
		rows = append(rows, u)
	}
	r.customers["fabrikam"].users[1] = rows
	var out bytes.Buffer
	if _, err := Write(context.Background(), r, Request{Tenant: tenant(t), Dataset: Users, CustomerID: "fabrikam"}, &out); err != nil {
		t.Fatal(err)
	}
	raw := out.String()
	for _, sep := range []string{",", ";", "\t"} {
		for _, line := range strings.Split(raw, "\r\n") {
			for _, piece := range strings.Split(line, sep) {
				p := strings.TrimPrefix(piece, `"`)
				if first, _ := utf8.DecodeRuneInString(p); p != "" && strings.ContainsRune("=+-@＝＋－＠", first) {
					t.Errorf("split on %q: piece %q of line %q starts a formula", sep, piece, line)
				}
			}
		}
	}
	// Each hostile cell is quoted (it holds ';', ',', a tab, a quote or
	// edge spaces), and reads back neutralised.
	for _, quoted := range []string{`"Smith;'=1+1"`, `"Doe,'@SUM(A1)"`, `" padded "`, "\"tab\t'-1\"", `"x;'＝1"`, `"q""uote;'+1"`} {
		if !strings.Contains(raw, ","+quoted+",") {
			t.Errorf("%s is not in the file:\n%s", quoted, raw)
		}
	}
	records := readCSV(t, out.Bytes())
	want := []string{"Smith;'=1+1", "Doe,'@SUM(A1)", " padded ", "tab\t'-1", "x;'＝1", `q"uote;'+1`}
	for i, w := range want {
		if got := records[2+i][4]; got != w {
			t.Errorf("displayName %d read back %q, want %q", i, got, w)
		}
	}
}
