package source

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/licenseinsights/licenseinsights/pkg/catalog"
	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// reportHeader is the header getOffice365ActiveUserDetail documents.
const reportHeader = "Report Refresh Date,User Principal Name,Display Name,Is Deleted,Deleted Date," +
	"Has Exchange License,Has OneDrive License,Has SharePoint License,Has Skype For Business License,Has Yammer License,Has Teams License," +
	"Exchange Last Activity Date,OneDrive Last Activity Date,SharePoint Last Activity Date,Skype For Business Last Activity Date,Yammer Last Activity Date,Teams Last Activity Date," +
	"Exchange License Assign Date,OneDrive License Assign Date,SharePoint License Assign Date,Skype For Business License Assign Date,Yammer License Assign Date,Teams License Assign Date," +
	"Assigned Products"

// reportRow is a valid row for key with the given products; tests edit
// single fields of it.
func reportRow(key, products string) string {
	return "2026-11-20," + key + ",Someone,False,,True,True,True,False,False,True," +
		"2026-11-19,,2026-11-03,,,2026-11-20," +
		"2025-01-01,2025-01-01,2025-01-01,,,2025-01-01," + products
}

func TestParseActiveUserDetail(t *testing.T) {
	// The file starts with a UTF-8 BOM, as Graph's downloads do.
	data := readTestdata(t, "activeuserdetail.csv")
	if !strings.HasPrefix(data, "\uFEFF") {
		t.Fatal("testdata should start with a BOM")
	}
	doc, users := mustParse(t, data, KindActiveUserDetail, Options{})
	if doc.Kind != KindActiveUserDetail || doc.HasSubscriptions || !doc.HasUsers || doc.Customer != nil || doc.Support != nil || doc.Subscriptions != nil {
		t.Errorf("document = %+v", doc)
	}
	if doc.ReportDate != date(t, "2026-11-20") || doc.Rows != 4 || doc.Users != 4 {
		t.Errorf("ReportDate %s, Rows %d, Users %d", doc.ReportDate, doc.Rows, doc.Users)
	}
	d := func(s string) license.Date { return date(t, s) }
	checkUsers(t, users, []license.User{
		{
			Key: "alice@fabrikam.com", DisplayName: "Alice Smith",
			// Assign dates 2025-01-01 ×5 and Teams 2024-12-15: the earliest.
			Licenses: []license.License{{SKU: "SPE_E3", AssignedDate: d("2024-12-15")}},
			// OneDrive 2026-11-10 with SharePoint (no activity) → 2026-11-10.
			Workloads: []license.WorkloadUse{
				{Workload: license.Exchange, Licensed: true, LastActivity: d("2026-11-19")},
				{Workload: license.SharePoint, Licensed: true, LastActivity: d("2026-11-10")},
				{Workload: license.Teams, Licensed: true, LastActivity: d("2026-11-20")},
				{Workload: license.Yammer, Licensed: true, LastActivity: d("2026-11-18")},
				{Workload: license.Skype, Licensed: true},
			},
		},
		{
			Key: "bob@fabrikam.com", DisplayName: "Bob Jones",
			// Three products joined with "+"; assign dates 2025-03-15 ×3,
			// empty ×2, 2025-03-16 → 2025-03-15 on every licence.
			Licenses: []license.License{
				{SKU: "SPE_E3", AssignedDate: d("2025-03-15")},
				{SKU: "POWER_BI_PRO", AssignedDate: d("2025-03-15")},
				{SKU: "FLOW_FREE", AssignedDate: d("2025-03-15")},
			},
			Workloads: []license.WorkloadUse{
				{Workload: license.Exchange, Licensed: true, LastActivity: d("2026-10-01")},
				{Workload: license.SharePoint, Licensed: true, LastActivity: d("2026-11-02")},
				{Workload: license.Teams, Licensed: true},
				{Workload: license.Yammer},
				{Workload: license.Skype},
			},
		},
		{
			// Deleted, no products, every assign date empty.
			Key: "carol@fabrikam.com", DisplayName: "Carol White", Deleted: true,
			Workloads: []license.WorkloadUse{
				{Workload: license.Exchange, LastActivity: d("2026-11-05")},
				{Workload: license.SharePoint},
				{Workload: license.Teams},
				{Workload: license.Yammer},
				{Workload: license.Skype},
			},
		},
		{
			// A quoted display name with a comma; a product whose name holds
			// "+"; an unknown product kept as its own SKU.
			Key: "dave@fabrikam.com", DisplayName: "White, Dave",
			Licenses: []license.License{
				{SKU: "EMS", AssignedDate: d("2026-02-01")},
				{SKU: "EXCHANGESTANDARD", AssignedDate: d("2026-02-01")},
				{SKU: "CONTOSO PHONE ADD-ON", AssignedDate: d("2026-02-01")},
			},
			Workloads: []license.WorkloadUse{
				{Workload: license.Exchange, Licensed: true},
				{Workload: license.SharePoint},
				{Workload: license.Teams, Licensed: true, LastActivity: d("2026-11-12")},
				{Workload: license.Yammer},
				{Workload: license.Skype},
			},
		},
	})
}

// Concealed reports replace names with hashes; the hash is the key. This
// file also has CRLF line endings and no BOM.
func TestParseActiveUserDetailConcealed(t *testing.T) {
	_, users := mustParse(t, readTestdata(t, "activeuserdetail-concealed.csv"), KindActiveUserDetail, Options{})
	if len(users) != 2 {
		t.Fatalf("got %d users", len(users))
	}
	want := []struct{ key, display string }{
		{"E2741647D889BFFEB4B4702577107D2A", "77A65D508FA6F1F86A37E0ACB7CA931D"},
		{"432A2CC4AF37D34C74BDC1080F65969F", "60D38AA9B65AA940B10B6A9DCEAEA1B9"},
	}
	for i, w := range want {
		if users[i].Key != w.key || users[i].DisplayName != w.display {
			t.Errorf("user %d = %q %q, want %q %q", i, users[i].Key, users[i].DisplayName, w.key, w.display)
		}
		if len(users[i].Licenses) != 1 || users[i].Licenses[0].SKU != "ENTERPRISEPACK" {
			t.Errorf("user %d licences = %+v, want ENTERPRISEPACK", i, users[i].Licenses)
		}
	}
}

// Columns are matched by name: any order, any case, extra columns ignored,
// the optional assign date columns may be missing.
func TestParseActiveUserDetailColumnOrder(t *testing.T) {
	data := "assigned products, user principal name ,REPORT REFRESH DATE,Display Name,Is Deleted,Extra Column," +
		"Has Exchange License,Has OneDrive License,Has SharePoint License,Has Skype For Business License,Has Yammer License,Has Teams License," +
		"Exchange Last Activity Date,OneDrive Last Activity Date,SharePoint Last Activity Date,Skype For Business Last Activity Date,Yammer Last Activity Date,Teams Last Activity Date\n" +
		"OFFICE 365 E1,eve@x.com,2026-11-20,Eve,false,whatever,true,false,false,false,false,false,2026-11-01,,,,,\n"
	d, users := mustParse(t, data, KindActiveUserDetail, Options{})
	want := license.User{
		Key: "eve@x.com", DisplayName: "Eve",
		Licenses: []license.License{{SKU: "STANDARDPACK"}}, // no assign date columns: no date
		Workloads: []license.WorkloadUse{
			{Workload: license.Exchange, Licensed: true, LastActivity: date(t, "2026-11-01")},
			{Workload: license.SharePoint}, {Workload: license.Teams}, {Workload: license.Yammer}, {Workload: license.Skype},
		},
	}
	checkUsers(t, users, []license.User{want})
	if d.ReportDate != date(t, "2026-11-20") {
		t.Fatalf("ReportDate = %s", d.ReportDate)
	}
}

func TestParseActiveUserDetailErrors(t *testing.T) {
	row := reportRow("a@x.com", "OFFICE 365 E3")
	set := func(r string, col int, v string) string {
		f := strings.Split(r, ",")
		f[col] = v
		return strings.Join(f, ",")
	}
	tests := []struct {
		name string
		doc  string
		want []wantProblem
	}{
		{"missing columns",
			strings.Replace(strings.Replace(reportHeader, ",Assigned Products", "", 1), "Has Teams License,", "", 1) + "\n" + row,
			[]wantProblem{{1, "Has Teams License", "required column is missing"}, {1, "Assigned Products", "required column is missing"}}},
		{"column twice",
			reportHeader + ",Display Name\n" + row + ",x",
			[]wantProblem{{1, "Display Name", "column appears twice"}}},
		{"bad date",
			reportHeader + "\n" + row + "\n" + set(reportRow("b@x.com", ""), 11, "19/11/2026"),
			[]wantProblem{{3, "Exchange Last Activity Date", `date "19/11/2026" is not YYYY-MM-DD`}}},
		{"bad boolean",
			reportHeader + "\n" + set(row, 3, "Maybe"),
			[]wantProblem{{2, "Is Deleted", `"Maybe" is not True or False`}}},
		{"refresh date differs",
			reportHeader + "\n" + row + "\n" + set(reportRow("b@x.com", ""), 0, "2026-11-19"),
			[]wantProblem{{3, "Report Refresh Date", "is 2026-11-19 but earlier rows have 2026-11-20"}}},
		{"refresh date empty",
			reportHeader + "\n" + set(row, 0, ""),
			[]wantProblem{{2, "Report Refresh Date", "is empty"}}},
		{"refresh date that means no date",
			reportHeader + "\n" + set(row, 0, "1970-01-01"),
			[]wantProblem{{2, "Report Refresh Date", "1970-01-01 is not a possible report date"}}},
		{"empty key",
			reportHeader + "\n" + set(row, 1, ""),
			[]wantProblem{{2, "User Principal Name", "every user needs a key"}}},
		{"too few fields",
			reportHeader + "\n" + row + "\n" + "2026-11-20,b@x.com,B",
			[]wantProblem{{3, "", "row has 3 fields but the header has 24"}}},
		{"bare quote",
			reportHeader + "\n" + set(row, 2, `Al"ice`),
			[]wantProblem{{2, "", `malformed CSV: bare " in non-quoted-field`}}},
		// A quoted field spanning two physical lines moves later rows down.
		{"line numbers are physical",
			reportHeader + "\n" + set(row, 2, "\"Alice\nSmith\"") + "\n" + set(reportRow("b@x.com", ""), 16, "soon"),
			[]wantProblem{{4, "Teams Last Activity Date", `"soon" is not YYYY-MM-DD`}}},
		// The reader then returns a row without any field (found by fuzzing:
		// asking such a row for its line used to panic).
		{"quote opened at the start of the last row",
			reportHeader + "\n" + row + "\n\"",
			[]wantProblem{{3, "", `malformed CSV: extraneous or missing " in quoted-field`}}},
		{"header only", reportHeader + "\n", []wantProblem{{1, "", "has a header but no user rows"}}},
		{"empty document", "", []wantProblem{{1, "", "the document is empty"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblems(t, invalid(t, tt.doc, KindActiveUserDetail, Options{}), tt.want)
		})
	}
}

func TestParseActiveUserDetailSkipInvalid(t *testing.T) {
	data := reportHeader + "\n" +
		reportRow("a@x.com", "OFFICE 365 E3") + "\n" +
		strings.Replace(reportRow("b@x.com", ""), "2026-11-19", "yesterday", 1) + "\n" +
		reportRow("c@x.com", "") + "\n"
	d, users := mustParse(t, data, KindActiveUserDetail, Options{SkipInvalid: true})
	if len(users) != 2 || users[0].Key != "a@x.com" || users[1].Key != "c@x.com" {
		t.Fatalf("users = %+v", users)
	}
	if d.Rows != 3 || d.Users != 2 || d.SkippedTotal != 1 {
		t.Fatalf("Rows %d Users %d SkippedTotal %d", d.Rows, d.Users, d.SkippedTotal)
	}
	checkProblems(t, d.Skipped, []wantProblem{{3, "Exchange Last Activity Date", `"yesterday" is not YYYY-MM-DD`}})
}

func TestParseActiveUserDetailSkipInvalidEveryRow(t *testing.T) {
	data := reportHeader + "\n" + strings.Replace(reportRow("a@x.com", ""), "False", "No", 1) + "\n"
	checkProblems(t, invalid(t, data, KindActiveUserDetail, Options{SkipInvalid: true}), []wantProblem{
		{1, "", "every one of the 1 user rows is invalid"},
		{2, "Is Deleted", `"No" is not True or False`},
	})
}

// A runaway quoted field would otherwise swallow the rest of the file into
// one row; the row limit stops it with a clear problem.
func TestParseActiveUserDetailRowTooLarge(t *testing.T) {
	data := reportHeader + "\n" + `2026-11-20,a@x.com,"never closed` + strings.Repeat("x", 2*MaxRowBytes)
	checkProblems(t, invalid(t, data, KindActiveUserDetail, Options{}), []wantProblem{{2, "", "larger than 4 MiB"}})
}

func TestProductSKUs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"MICROSOFT 365 E3", []string{"SPE_E3"}},
		{"Microsoft 365 Business Standard+Microsoft Teams Exploratory", []string{"O365_BUSINESS_PREMIUM", "TEAMS_EXPLORATORY"}},
		{"ENTERPRISE MOBILITY + SECURITY E5+OFFICE 365 E5", []string{"EMSPREMIUM", "ENTERPRISEPREMIUM"}},
		{"OFFICE 365 E5+ENTERPRISE MOBILITY + SECURITY E5", []string{"ENTERPRISEPREMIUM", "EMSPREMIUM"}},
		{"UNKNOWN A+ + UNKNOWN B", []string{"UNKNOWN A", "UNKNOWN B"}},
		{"OFFICE 365 E3+OFFICE 365 ENTERPRISE E3", []string{"ENTERPRISEPACK"}},
	}
	for _, tt := range tests {
		got := productSKUs(tt.in)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("productSKUs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Joining "+"-separated pieces back into names only needs as many pieces as
// the longest catalogue name has.
func TestCatalogueNamesFitMaxNamePieces(t *testing.T) {
	for _, p := range catalog.All() {
		if n := strings.Count(p.Name, "+") + 1; n > maxNamePieces {
			t.Errorf("%s: %q has %d pieces, more than maxNamePieces (%d)", p.SKU, p.Name, n, maxNamePieces)
		}
	}
}

// A field of thousands of "+" must still map in linear time; a cubic join
// would not finish.
func TestProductSKUsManyPluses(t *testing.T) {
	got := productSKUs(strings.Repeat("+", 5000) + "OFFICE 365 E3" + strings.Repeat("+ +", 5000))
	if len(got) != 1 || got[0] != "ENTERPRISEPACK" {
		t.Fatalf("productSKUs = %q", got)
	}
}

// docs/definitions.md#sources: a report a spreadsheet re-saved (11/20/2026, TRUE) is refused
// with one message that names the cause and asks for Graph's own file,
// not with a problem per cell.
func TestSpreadsheetResavedReport(t *testing.T) {
	orig := string(readTestdata(t, "activeuserdetail.csv"))
	resaved := regexp.MustCompile(`(\d{4})-(\d{2})-(\d{2})`).ReplaceAllStringFunc(orig, func(s string) string {
		var y, m, d int
		fmt.Sscanf(s, "%d-%d-%d", &y, &m, &d)
		return fmt.Sprintf("%d/%d/%d", m, d, y)
	})
	resaved = strings.NewReplacer(",True,", ",TRUE,", ",False,", ",FALSE,").Replace(resaved)
	probs := invalid(t, resaved, KindActiveUserDetail, Options{})
	checkProblems(t, probs, []wantProblem{{2, "Report Refresh Date", "re-saved by a spreadsheet such as Excel"}})
	if !strings.Contains(probs[0].Reason, "exactly as Microsoft Graph wrote it") {
		t.Errorf("message %q does not say what to do", probs[0].Reason)
	}
}

// docs/definitions.md#sources: the report's JSON form (beta, $format=application/json: camelCase
// members, assignedProducts as an array, pages of up to 200 users) is the
// same kind with the same figures. The CSV test file, turned into that form
// as two pages sent as a JSON array of page envelopes, gives exactly the
// users the CSV gives.
func TestActiveUserDetailJSONForm(t *testing.T) {
	data := string(readTestdata(t, "activeuserdetail.csv"))
	csvDoc, csvUsers := mustParse(t, data, KindActiveUserDetail, Options{})

	products := map[string][]string{ // the Assigned Products of the file, as the JSON form lists them
		"": nil, "MICROSOFT 365 E3": {"MICROSOFT 365 E3"},
		"MICROSOFT 365 E3+POWER BI PRO+MICROSOFT POWER AUTOMATE FREE":                     {"MICROSOFT 365 E3", "POWER BI PRO", "MICROSOFT POWER AUTOMATE FREE"},
		"ENTERPRISE MOBILITY + SECURITY E3+EXCHANGE ONLINE (PLAN 1)+CONTOSO PHONE ADD-ON": {"ENTERPRISE MOBILITY + SECURITY E3", "EXCHANGE ONLINE (PLAN 1)", "CONTOSO PHONE ADD-ON"},
	}
	cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(data, "\ufeff")))
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var users []map[string]any
	for _, row := range rows[1:] {
		u := map[string]any{}
		for i, col := range rows[0] {
			name := strings.ReplaceAll(col, " ", "")
			name = strings.ToLower(name[:1]) + name[1:]
			switch v := row[i]; {
			case col == "Assigned Products":
				list, ok := products[v]
				if !ok {
					t.Fatalf("no JSON form for products %q", v)
				}
				u["assignedProducts"] = list
			case v == "True" || v == "False":
				u[name] = v == "True"
			case v == "":
				u[name] = nil
			default:
				u[name] = v
			}
		}
		users = append(users, u)
	}
	page := func(us []map[string]any, next bool) map[string]any {
		p := map[string]any{"@odata.context": "https://graph.microsoft.com/beta/$metadata#Collection(microsoft.graph.office365ActiveUserDetail)", "value": us}
		if next {
			p["@odata.nextLink"] = "https://graph.microsoft.com/beta/reports/getOffice365ActiveUserDetail(period='D30')?$format=application/json&$skiptoken=X"
		}
		return p
	}
	body, _ := json.MarshalIndent([]any{page(users[:2], true), page(users[2:], false)}, "", " ")
	if k, err := Detect(body); err != nil || k != KindActiveUserDetail {
		t.Errorf("Detect = %q, %v; want %s", k, err, KindActiveUserDetail)
	}
	jsonDoc, jsonUsers := mustParse(t, string(body), KindActiveUserDetail, Options{})
	if jsonDoc.ReportDate != csvDoc.ReportDate || jsonDoc.Users != csvDoc.Users || len(jsonUsers) != 4 {
		t.Errorf("JSON form: date %s, %d users; CSV: %s, %d", jsonDoc.ReportDate, jsonDoc.Users, csvDoc.ReportDate, csvDoc.Users)
	}
	checkUsers(t, jsonUsers, csvUsers)

	// A bad member is located in its page.
	bad := `{"value": [{"reportRefreshDate": "2026-11-20", "userPrincipalName": "a@x", "isDeleted": "no"}]}`
	checkProblems(t, invalid(t, bad, KindActiveUserDetail, Options{}), []wantProblem{{1, "value[0].isDeleted", ""}})
}
