package source

import (
	"fmt"
	"strings"
	"testing"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

func TestParseSnapshot(t *testing.T) {
	doc, users := mustParse(t, readTestdata(t, "snapshot.json"), KindSnapshot, Options{CustomerID: "fabrikam"})

	if doc.Kind != KindSnapshot || !doc.HasSubscriptions || !doc.HasUsers {
		t.Errorf("Kind %q, HasSubscriptions %v, HasUsers %v", doc.Kind, doc.HasSubscriptions, doc.HasUsers)
	}
	wantCustomer := license.Customer{ID: "fabrikam", Name: "Fabrikam Inc", TenantID: "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f"}
	if doc.Customer == nil || *doc.Customer != wantCustomer {
		t.Errorf("Customer = %+v, want %+v", doc.Customer, wantCustomer)
	}
	if doc.ReportDate != date(t, "2026-11-20") {
		t.Errorf("ReportDate = %s", doc.ReportDate)
	}
	if doc.Support == nil || *doc.Support != (license.Support{HowToTickets: 12, Tickets: 30, WindowDays: 28}) {
		t.Errorf("Support = %+v", doc.Support)
	}
	// 4 subscriptions + 4 users, all good.
	if doc.Rows != 8 || doc.Users != 4 || doc.SkippedTotal != 0 || doc.Skipped != nil {
		t.Errorf("Rows %d, Users %d, Skipped %d %v", doc.Rows, doc.Users, doc.SkippedTotal, doc.Skipped)
	}
	checkSubscriptions(t, doc.Subscriptions, []license.Subscription{
		{ID: "s1", SKU: "SPE_E3", Name: "Microsoft 365 E3", Quantity: 10, Status: license.StatusActive, Channel: license.ChannelOwn, RenewalDate: date(t, "2027-01-31")},
		// No name: the catalogue's; no trial: false; renewalDate absent: none.
		{ID: "s2", SKU: "SPE_E3", Name: "Microsoft 365 E3", Quantity: 4, Status: license.StatusActive, Channel: license.ChannelDirect},
		// No channel: unknown.
		{ID: "s3", SKU: "POWER_BI_PRO", Name: "Power BI Pro", Quantity: 25, Status: license.StatusActive, Trial: true, Channel: license.ChannelUnknown},
		// renewalDate null: none.
		{ID: "s4", SKU: "VISIOCLIENT", Name: "Visio Plan 2", Quantity: 2, Status: license.StatusGrace, Channel: license.ChannelPartner},
	})
	checkUsers(t, users, []license.User{
		{
			Key: "alice@fabrikam.com", DisplayName: "Alice Smith",
			Licenses: []license.License{{SKU: "SPE_E3", AssignedDate: date(t, "2025-01-01")}},
			// OneDrive (licensed, 2026-11-10) merges with SharePoint
			// (licensed, no activity): licensed, 2026-11-10. Teams has no
			// lastActivity member: none. Standard workloads in their order.
			Workloads: []license.WorkloadUse{
				{Workload: license.Exchange, Licensed: true, LastActivity: date(t, "2026-11-19")},
				{Workload: license.SharePoint, Licensed: true, LastActivity: date(t, "2026-11-10")},
				{Workload: license.Teams, Licensed: true},
				{Workload: license.Yammer, Licensed: false, LastActivity: date(t, "2026-11-18")},
			},
		},
		{
			Key: "bob@fabrikam.com", DisplayName: "Bob Jones",
			Licenses: []license.License{
				{SKU: "SPE_E3", AssignedDate: date(t, "2025-03-15")},
				{SKU: "POWER_BI_PRO", AssignedDate: date(t, "2026-10-01")},
			},
			// A workload beyond the standard ones follows them.
			Workloads: []license.WorkloadUse{
				{Workload: license.Exchange, Licensed: true, LastActivity: date(t, "2026-10-01")},
				{Workload: license.SharePoint, Licensed: true, LastActivity: date(t, "2026-11-02")},
				{Workload: "officeapps", Licensed: true, LastActivity: date(t, "2026-11-20")},
			},
		},
		{
			Key: "carol@fabrikam.com", DisplayName: "Carol White", Deleted: true,
			Workloads: []license.WorkloadUse{{Workload: license.Exchange, LastActivity: date(t, "2026-11-05")}},
		},
		{
			// No displayName, deleted or workloads; a licence without date.
			Key:      "dave@fabrikam.com",
			Licenses: []license.License{{SKU: "VISIOCLIENT"}},
		},
	})
}

// A snapshot's members may come in any order: users before the header.
func TestParseSnapshotMembersInAnyOrder(t *testing.T) {
	doc, users := mustParse(t, `{"users": [{"key": "a@x.com"}], "reportDate": "2026-11-20",
		"customer": {"id": "fabrikam"}, "schema": "license-snapshot/v1"}`, KindSnapshot, Options{CustomerID: "fabrikam"})
	if len(users) != 1 || users[0].Key != "a@x.com" || doc.ReportDate != date(t, "2026-11-20") || doc.Customer.ID != "fabrikam" {
		t.Fatalf("doc %+v users %+v", doc, users)
	}
	if doc.Subscriptions != nil || doc.Support != nil {
		t.Fatalf("Subscriptions %v Support %v, want none", doc.Subscriptions, doc.Support)
	}
}

const snapshotHead = `{
  "schema": "license-snapshot/v1",
  "customer": {"id": "fabrikam"},
  "reportDate": "2026-11-20",
`

func TestParseSnapshotErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []wantProblem
	}{
		{"wrong schema",
			`{"schema": "license-snapshot/v2", "customer": {"id": "fabrikam"}, "reportDate": "2026-11-20", "users": [{"key": "a"}]}`,
			[]wantProblem{{1, "schema", `"license-snapshot/v2" is not supported`}}},
		{"schema not a string",
			`{"schema": 1, "customer": {"id": "fabrikam"}, "reportDate": "2026-11-20", "users": [{"key": "a"}]}`,
			[]wantProblem{{1, "schema", "must be the string"}}},
		{"customer of another path",
			snapshotHead[:strings.Index(snapshotHead, "fabrikam")] + `contoso"},
  "reportDate": "2026-11-20",
  "users": [{"key": "a"}]
}`,
			[]wantProblem{{3, "customer.id", `is "contoso" but the document was posted for customer "fabrikam"`}}},
		{"customer id with a bad character",
			`{"schema": "license-snapshot/v1", "customer": {"id": "fab#rikam"}, "reportDate": "2026-11-20", "users": [{"key": "a"}]}`,
			[]wantProblem{{1, "customer.id", "has a character other than"}}},
		{"missing header members",
			"{\n  \"users\": [{\"key\": \"a\"}]\n}",
			[]wantProblem{{1, "schema", "is required"}, {1, "customer", "is required"}, {1, "reportDate", "is required"}}},
		{"customer without id",
			`{"schema": "license-snapshot/v1", "customer": {"name": "Fabrikam"}, "reportDate": "2026-11-20", "users": [{"key": "a"}]}`,
			[]wantProblem{{1, "customer.id", "is required"}}},
		{"report date not a date",
			snapshotHead[:strings.Index(snapshotHead, "2026-11-20")] + "20/11/2026\",\n  \"users\": [{\"key\": \"a\"}]\n}",
			[]wantProblem{{4, "reportDate", "not YYYY-MM-DD"}}},
		{"report date that means no date",
			`{"schema": "license-snapshot/v1", "customer": {"id": "fabrikam"}, "reportDate": "1970-01-01", "users": [{"key": "a"}]}`,
			[]wantProblem{{1, "reportDate", "1970-01-01 is not a possible report date"}}},
		{"bad assigned date deep in a user",
			snapshotHead + `  "users": [
    {"key": "a@x.com"},
    {"key": "b@x.com",
     "licenses": [
       {"sku": "SPE_E3", "assignedDate": "2026-13-01"}
     ]}
  ]
}`,
			[]wantProblem{{9, "users[1].licenses[0].assignedDate", `date "2026-13-01" is not YYYY-MM-DD`}}},
		{"user without key",
			snapshotHead + `  "users": [
    {"displayName": "Nobody",
     "deleted": false}
  ]
}`,
			[]wantProblem{{6, "users[0].key", "is required"}}},
		{"duplicate user key",
			snapshotHead + `  "users": [
    {"key": "a@x.com"},
    {"key": "b@x.com"},
    {"key": "a@x.com"}
  ]
}`,
			[]wantProblem{{8, "users[2].key", `"a@x.com" appears twice, here and at line 6`}}},
		{"bad user fields",
			snapshotHead + `  "users": [
    {"key": "a@x.com", "deleted": "no",
     "licenses": {"sku": "SPE_E3"},
     "workloads": {"exchange": {"licensed": 1, "lastActivity": "yesterday"}, "bad name!": {}}}
  ]
}`,
			[]wantProblem{
				{6, "users[0].deleted", "must be true or false, not a string"},
				{7, "users[0].licenses", "must be a JSON array, not an object"},
				{8, "users[0].workloads.bad name!", "workload name"},
				{8, "users[0].workloads.exchange.licensed", "must be true or false, not a number"},
				{8, "users[0].workloads.exchange.lastActivity", `"yesterday" is not YYYY-MM-DD`},
			}},
		{"licence listed twice",
			snapshotHead + `  "users": [
    {"key": "a@x.com", "licenses": [{"sku": "SPE_E3"}, {"sku": "spe_e3"}]}
  ]
}`,
			[]wantProblem{{6, "users[0].licenses[1].sku", `"spe_e3" is listed twice`}}},
		{"licence without sku",
			snapshotHead + `  "users": [
    {"key": "a@x.com", "licenses": [{"assignedDate": "2025-01-01"}]}
  ]
}`,
			[]wantProblem{{6, "users[0].licenses[0].sku", "is required"}}},
		{"bad subscriptions",
			snapshotHead + `  "subscriptions": [
    {"id": "s1", "sku": "SPE_E3", "quantity": -1, "status": "active"},
    {"id": "s2", "sku": "SPE_E3", "quantity": 1.5, "status": "paused"},
    {"id": "s3", "sku": "SPE_E3", "quantity": 3, "status": "active", "channel": "reseller"},
    {"id": "s4", "quantity": "3", "status": "active", "trial": "false"},
    {"id": "s5", "sku": "SPE_E3", "quantity": 1, "status": "active"},
    {"id": "s5", "sku": "SPE_E3", "quantity": 2, "status": "active"},
    "s6"
  ],
  "users": [{"key": "a"}]
}`,
			[]wantProblem{
				{6, "subscriptions[0].quantity", "must be 0 or more, not -1"},
				{7, "subscriptions[1].quantity", "must be a whole number, not 1.5"},
				{7, "subscriptions[1].status", `"paused" is not a status (active, grace, disabled, suspended, cancelled, deleted, expired)`},
				{8, "subscriptions[2].channel", `"reseller" is not a channel (own, partner, direct, unknown)`},
				{9, "subscriptions[3].sku", "is required"},
				{11, "subscriptions[5]", `subscription id "s5" appears twice (first at line 10)`},
				{12, "subscriptions[6]", "must be a JSON object, not a string"},
			}},
		{"support out of range",
			snapshotHead + `  "users": [{"key": "a"}],
  "support": {"howToTickets": 40, "tickets": 30, "windowDays": 28}
}`,
			[]wantProblem{{6, "support.howToTickets", "more than tickets (30)"}}},
		{"support missing a count",
			snapshotHead + `  "users": [{"key": "a"}],
  "support": {"howToTickets": 4, "tickets": 30}
}`,
			[]wantProblem{{6, "support.windowDays", "is required"}}},
		{"users not an array",
			snapshotHead + `  "users": {"key": "a"}
}`,
			[]wantProblem{{5, "users", "must be a JSON array"}, {1, "", "no subscriptions and no users"}}},
		{"member twice",
			snapshotHead + `  "reportDate": "2026-11-21",
  "users": [{"key": "a"}]
}`,
			[]wantProblem{{5, "reportDate", "appears twice"}}},
		{"syntax error inside a user",
			snapshotHead + `  "users": [
    {"key": "a@x.com",
     "displayName": "A" "deleted": false}
  ]
}`,
			[]wantProblem{{7, "", "invalid JSON"}}},
		{"syntax error between members",
			"{\n  \"schema\": \"license-snapshot/v1\"\n  \"reportDate\": \"2026-11-20\"\n}",
			[]wantProblem{{3, "", "invalid JSON"}}},
		{"truncated",
			snapshotHead + `  "users": [
    {"key": "a@x.com"},
    {"key": "b@`,
			[]wantProblem{{7, "", "ends unexpectedly"}}},
		{"not an object", `[{"key": "a"}]`, []wantProblem{{1, "", "a snapshot must be a JSON object"}}},
		{"empty document", ``, []wantProblem{{1, "", "ends unexpectedly"}}},
		{"nothing in it", snapshotHead + "  \"users\": []\n}", []wantProblem{{1, "", "no subscriptions and no users"}}},
		{"data after the end",
			`{"schema": "license-snapshot/v1", "customer": {"id": "fabrikam"}, "reportDate": "2026-11-20", "users": [{"key": "a"}]}
{"again": true}`,
			[]wantProblem{{2, "", "unexpected data after the end"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblems(t, invalid(t, tt.doc, KindSnapshot, Options{CustomerID: "fabrikam"}), tt.want)
		})
	}
}

// An invalid snapshot stops handing users over at the first problem: the
// caller discards them anyway.
func TestParseSnapshotStopsEmittingOnceInvalid(t *testing.T) {
	doc := snapshotHead + `  "users": [{"key": "a"}, {"key": 1}, {"key": "c"}]
}`
	d, users, err := parse(t, doc, KindSnapshot, Options{})
	if err == nil {
		t.Fatal("want an error")
	}
	if len(users) != 1 || users[0].Key != "a" || d.Users != 1 || d.Rows != 3 {
		t.Fatalf("users %+v, Document.Users %d, Rows %d; want only a, 1, 3", users, d.Users, d.Rows)
	}
}

func TestParseSnapshotSkipInvalid(t *testing.T) {
	doc := snapshotHead + `  "subscriptions": [
    {"id": "s1", "sku": "SPE_E3", "quantity": 10, "status": "active"},
    {"id": "s2", "sku": "SPE_E3", "quantity": 10, "status": "sold"}
  ],
  "users": [
    {"key": "a@x.com"},
    {"key": "b@x.com", "licenses": [{"sku": "SPE_E3", "assignedDate": "yesterday"}]},
    {"key": "c@x.com"}
  ]
}`
	d, users := mustParse(t, doc, KindSnapshot, Options{SkipInvalid: true})
	if len(users) != 2 || users[0].Key != "a@x.com" || users[1].Key != "c@x.com" {
		t.Fatalf("users = %+v, want a and c", users)
	}
	checkSubscriptions(t, d.Subscriptions, []license.Subscription{
		{ID: "s1", SKU: "SPE_E3", Name: "Microsoft 365 E3", Quantity: 10, Status: license.StatusActive, Channel: license.ChannelUnknown},
	})
	if d.Rows != 5 || d.SkippedTotal != 2 {
		t.Fatalf("Rows %d SkippedTotal %d, want 5 and 2", d.Rows, d.SkippedTotal)
	}
	checkProblems(t, d.Skipped, []wantProblem{
		{7, "subscriptions[1].status", `"sold" is not a status`},
		{11, "users[1].licenses[0].assignedDate", "not YYYY-MM-DD"},
	})
}

// Header problems are not rows: SkipInvalid does not skip them.
func TestParseSnapshotSkipInvalidKeepsHeaderProblems(t *testing.T) {
	doc := `{"schema": "license-snapshot/v1", "customer": {"id": "contoso"}, "reportDate": "2026-11-20", "users": [{"key": "a"}]}`
	checkProblems(t, invalid(t, doc, KindSnapshot, Options{CustomerID: "fabrikam", SkipInvalid: true}),
		[]wantProblem{{1, "customer.id", "posted for customer"}})
}

// Skipping every user would leave the customer with none: refused, with
// the reasons.
func TestParseSnapshotSkipInvalidEveryUser(t *testing.T) {
	doc := snapshotHead + `  "users": [{"key": ""}, {"key": 7}]
}`
	checkProblems(t, invalid(t, doc, KindSnapshot, Options{SkipInvalid: true}), []wantProblem{
		{1, "", "every one of the 2 user rows is invalid"},
		{5, "users[0].key", "must not be empty"},
		{5, "users[1].key", "must be a string, not a number"},
	})
}

// Without CustomerID any valid customer id is accepted.
func TestParseSnapshotWithoutCustomerOption(t *testing.T) {
	d, _ := mustParse(t, readTestdata(t, "snapshot.json"), KindSnapshot, Options{})
	if d.Customer.ID != "fabrikam" {
		t.Fatalf("Customer = %+v", d.Customer)
	}
}

func TestParseSnapshotWithBOMAndCRLF(t *testing.T) {
	data := "\uFEFF" + strings.ReplaceAll(readTestdata(t, "snapshot.json"), "\n", "\r\n")
	d, users := mustParse(t, data, KindSnapshot, Options{})
	if d.Users != 4 || len(users) != 4 || len(d.Subscriptions) != 4 {
		t.Fatalf("Users %d, subscriptions %d", d.Users, len(d.Subscriptions))
	}
	// Line numbers still count physical lines with CRLF endings.
	bad := "\uFEFF" + strings.ReplaceAll(snapshotHead+"  \"users\": [\r\n    {\"key\": 5}\r\n  ]\r\n}", "\n", "\r\n")
	checkProblems(t, invalid(t, bad, KindSnapshot, Options{}), []wantProblem{{6, "users[0].key", "must be a string"}})
}

// A record with many bad entries lists maxRecordProblems of them and counts
// the rest.
func TestParseSnapshotManyProblemsInOneUser(t *testing.T) {
	var b strings.Builder
	b.WriteString(snapshotHead + `  "users": [{"key": "a", "licenses": [`)
	for i := 0; i < 500; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"sku": 1}`)
	}
	b.WriteString("]}]\n}")
	_, _, err := parse(t, b.String(), KindSnapshot, Options{})
	inv, ok := err.(*InvalidError)
	if !ok {
		t.Fatalf("err = %v", err)
	}
	if len(inv.Problems) != maxRecordProblems || inv.Total != 500 {
		t.Fatalf("listed %d, total %d; want %d and 500", len(inv.Problems), inv.Total, maxRecordProblems)
	}
	if inv.Problems[19].Column != "users[0].licenses[19].sku" {
		t.Fatalf("20th problem = %+v", inv.Problems[19])
	}
	d, _ := mustParse(t, strings.Replace(b.String(), `"users": [`, `"users": [{"key": "ok"}, `, 1), KindSnapshot, Options{SkipInvalid: true})
	if d.SkippedTotal != 500 || len(d.Skipped) != maxRecordProblems || d.Users != 1 {
		t.Fatalf("SkippedTotal %d, Skipped %d, Users %d", d.SkippedTotal, len(d.Skipped), d.Users)
	}
}

// A user listing many licences: the first sixteen SKUs kept are scanned,
// the rest looked up in a map; a SKU listed again is named with the index
// of its first listing whichever part holds it. Here SKU_0…SKU_19 are
// licenses[0…19]; licenses[20] repeats SKU_2 (scanned part) and
// licenses[21] repeats sku_18 (map part, in other letter case).
func TestSnapshotManyLicencesListedTwice(t *testing.T) {
	var ls []string
	for i := range 20 {
		ls = append(ls, fmt.Sprintf(`{"sku": "SKU_%d"}`, i))
	}
	ls = append(ls, `{"sku": "SKU_2"}`, `{"sku": "sku_18"}`)
	doc := snapshotHead + `  "users": [
    {"key": "a@x.com", "licenses": [` + strings.Join(ls, ", ") + `]}
  ]
}`
	checkProblems(t, invalid(t, doc, KindSnapshot, Options{CustomerID: "fabrikam"}), []wantProblem{
		{6, "users[0].licenses[20].sku", `"SKU_2" is listed twice (also licenses[2])`},
		{6, "users[0].licenses[21].sku", `"sku_18" is listed twice (also licenses[18])`},
	})
}
