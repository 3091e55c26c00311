package source

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// A User Principal Name twice in the active user detail report: both lines
// are named (the second's problem cites the first), and with skipInvalid
// the first row is kept and the second reported.
func TestActiveUserDetailDuplicateKey(t *testing.T) {
	data := reportHeader + "\n" +
		reportRow("a@x.com", "OFFICE 365 E3") + "\n" + // line 2
		reportRow("b@x.com", "") + "\n" + // line 3
		strings.Replace(reportRow("a@x.com", ""), "Someone", "Again", 1) + "\n" + // line 4
		reportRow("a@x.com", "") + "\n" // line 5
	checkProblems(t, invalid(t, data, KindActiveUserDetail, Options{}), []wantProblem{
		{4, "User Principal Name", `"a@x.com" appears twice, here and at line 2`},
		{5, "User Principal Name", `"a@x.com" appears twice, here and at line 2`},
	})
	d, users := mustParse(t, data, KindActiveUserDetail, Options{SkipInvalid: true})
	if len(users) != 2 || users[0].Key != "a@x.com" || users[0].DisplayName != "Someone" || users[1].Key != "b@x.com" || d.SkippedTotal != 2 {
		t.Fatalf("skipInvalid kept %+v, skipped %d", users, d.SkippedTotal)
	}
	checkProblems(t, d.Skipped, []wantProblem{
		{4, "User Principal Name", `"a@x.com" appears twice, here and at line 2`},
		{5, "User Principal Name", `"a@x.com" appears twice, here and at line 2`},
	})
}

// With skipInvalid, a first row that is bad in another way does not claim
// its key: the next good row of that user is kept.
func TestActiveUserDetailDuplicateOfABadRow(t *testing.T) {
	data := reportHeader + "\n" +
		strings.Replace(reportRow("a@x.com", ""), "False", "No", 1) + "\n" +
		reportRow("a@x.com", "") + "\n"
	_, users := mustParse(t, data, KindActiveUserDetail, Options{SkipInvalid: true})
	if len(users) != 1 || users[0].Key != "a@x.com" {
		t.Fatalf("users = %+v", users)
	}
}

const subsOnlyHead = `{"schema": "license-snapshot/v1", "customer": {"id": "c"}, "reportDate": "2026-11-20",
 "subscriptions": [{"id": "s", "sku": "X", "quantity": 1, "status": "active"}]`

// users is required: absent, null or misspelt it is refused; [] is "no
// users".
func TestSnapshotUsersRequired(t *testing.T) {
	checkProblems(t, invalid(t, subsOnlyHead+`}`, KindSnapshot, Options{}), []wantProblem{{1, "users", "is required"}})
	checkProblems(t, invalid(t, subsOnlyHead+`, "users": null}`, KindSnapshot, Options{}), []wantProblem{{2, "users", "is null: send the users as an array"}})
	checkProblems(t, invalid(t, subsOnlyHead+`, "Users": [{"key": "a"}]}`, KindSnapshot, Options{}), []wantProblem{
		{2, "Users", `is not a snapshot member: did you mean "users"? Member names are case-sensitive`},
		{1, "users", "is required"},
	})
	// Even with skipInvalid: these concern the document, not a row.
	invalid(t, subsOnlyHead+`, "users": null}`, KindSnapshot, Options{SkipInvalid: true})
	d, users := mustParse(t, subsOnlyHead+`, "users": []}`, KindSnapshot, Options{})
	if !d.HasUsers || len(users) != 0 || len(d.Subscriptions) != 1 {
		t.Fatalf("empty users: %+v %v", d, users)
	}
	// Any letter case of any top-level member.
	checkProblems(t, invalid(t, `{"SCHEMA": "x", "schema": "license-snapshot/v1", "customer": {"id": "c"}, "reportDate": "2026-11-20", "users": [{"key": "a"}]}`, KindSnapshot, Options{}),
		[]wantProblem{{1, "SCHEMA", `did you mean "schema"?`}})
}

// Report dates: today + 2 is accepted, today + 3 refused (snapshot and
// CSV), naming the field; without Today nothing is checked.
func TestReportDateInTheFuture(t *testing.T) {
	today, err := license.ParseDate("2026-11-18")
	if err != nil {
		t.Fatal(err)
	}
	snap := func(date string) string {
		return `{"schema": "license-snapshot/v1", "customer": {"id": "c"}, "reportDate": "` + date + `", "users": [{"key": "a"}]}`
	}
	mustParse(t, snap("2026-11-20"), KindSnapshot, Options{Today: today})
	checkProblems(t, invalid(t, snap("2026-11-21"), KindSnapshot, Options{Today: today}), []wantProblem{
		{1, "reportDate", "2026-11-21 is in the future: a report date may be at most 2 days after today (2026-11-18 UTC), so at most 2026-11-20"},
	})
	checkProblems(t, invalid(t, snap("2099-12-31"), KindSnapshot, Options{Today: today, SkipInvalid: true}), []wantProblem{{1, "reportDate", "2099-12-31 is in the future"}})
	mustParse(t, snap("2099-12-31"), KindSnapshot, Options{})

	csv := reportHeader + "\n" + strings.Replace(reportRow("a@x.com", ""), "2026-11-20", "2026-11-21", 1) + "\n"
	checkProblems(t, invalid(t, csv, KindActiveUserDetail, Options{Today: today}), []wantProblem{
		{2, "Report Refresh Date", "2026-11-21 is in the future"},
	})
	mustParse(t, reportHeader+"\n"+reportRow("a@x.com", "")+"\n", KindActiveUserDetail, Options{Today: today})
}

// utf16le encodes s as UTF-16LE, with a BOM when bom is set.
func utf16le(s string, bom bool) string {
	var b []byte
	if bom {
		b = append(b, 0xff, 0xfe)
	}
	for _, r := range s {
		b = append(b, byte(r), byte(r>>8))
	}
	return string(b)
}

// UTF-16 and gzip documents are named as such, with what to send instead,
// whether the kind is given or detected.
func TestEncodingProblems(t *testing.T) {
	snap := `{"schema": "license-snapshot/v1", "customer": {"id": "c"}, "reportDate": "2026-11-20", "users": []}`
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(snap))
	zw.Close()
	for _, tc := range []struct{ name, doc, want string }{
		{"UTF-16 with a BOM", utf16le(snap, true), "UTF-16 encoded"},
		{"UTF-16 without a BOM", utf16le(snap, false), "UTF-16 encoded"},
		{"UTF-16 CSV", utf16le(reportHeader+"\n", true), "send it as UTF-8"},
		{"gzip", gz.String(), "gzip-compressed: send it uncompressed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkProblems(t, invalid(t, tc.doc, KindSnapshot, Options{}), []wantProblem{{1, "", tc.want}})
			if _, err := Detect([]byte(tc.doc)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Detect: %v, want %q", err, tc.want)
			}
		})
	}
}
