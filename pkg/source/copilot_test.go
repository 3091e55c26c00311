package source

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

func parseCopilot(t *testing.T, body string, opts Options) (*Document, error) {
	t.Helper()
	return Parse(strings.NewReader(body), KindCopilotUsage, opts, func(license.User) error {
		t.Fatal("the Copilot report hands over no users")
		return nil
	})
}

func mustDate(t *testing.T, s string) license.Date {
	t.Helper()
	d, err := license.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The three fixtures hold the same users (ann active in chat and Teams,
// bob last in Word on 2026-10-02, cat never); v1 has no active days.
func TestCopilotReportForms(t *testing.T) {
	d := mustDate(t, "2026-11-28")
	ann := []license.Date{mustDate(t, "2026-11-20"), 0, 0, 0, 0, 0, 0, mustDate(t, "2026-11-27")} // teams … copilotChat
	bob := []license.Date{0, 0, mustDate(t, "2026-10-02"), 0, 0, 0, 0, 0}
	v1Apps := []string{"teams", "outlook", "word", "excel", "powerPoint", "oneNote", "loop", "copilotChat"}
	tests := []struct {
		file       string
		period     int
		activeDays bool
		apps       []string
		annDays    int
	}{
		{"copilot-v1.csv", 30, false, v1Apps, 0},
		{"copilot-v2.csv", 28, true, append(append([]string{}, v1Apps...), "copilotChatWork", "copilotChatWeb", "microsoft365Copilot", "edge", "copilotAgent"), 19},
		{"copilot-v2.json", 28, true, v1Apps, 19},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body := readTestdata(t, tt.file)
			if k, err := Detect([]byte(body)); err != nil || k != KindCopilotUsage {
				t.Fatalf("Detect = %q, %v", k, err)
			}
			doc, err := parseCopilot(t, body, Options{})
			if err != nil {
				t.Fatal(err)
			}
			r := doc.Copilot
			if doc.ReportDate != d || r.ReportDate != d || r.PeriodDays != tt.period || r.HasActiveDays != tt.activeDays {
				t.Errorf("date %s period %d activeDays %v", r.ReportDate, r.PeriodDays, r.HasActiveDays)
			}
			if !reflect.DeepEqual(r.Apps, tt.apps) {
				t.Errorf("apps = %v, want %v", r.Apps, tt.apps)
			}
			if doc.HasUsers || doc.HasSubscriptions || doc.Rows != 3 || doc.Users != 3 || len(r.Users) != 3 {
				t.Fatalf("doc = %+v", doc)
			}
			a, b, c := r.Users[0], r.Users[1], r.Users[2]
			if a.Key != "ann@contoso.com" || a.LastActivity != mustDate(t, "2026-11-27") || a.ActiveDays != tt.annDays {
				t.Errorf("ann = %+v", a)
			}
			if !reflect.DeepEqual(a.AppActivity[:8], ann) || !reflect.DeepEqual(b.AppActivity[:8], bob) {
				t.Errorf("app dates ann %v bob %v", a.AppActivity, b.AppActivity)
			}
			if c.Key != "cat@contoso.com" || c.LastActivity != license.NoDate || c.ActiveDays != 0 {
				t.Errorf("cat = %+v", c)
			}
		})
	}
}

func TestCopilotReportProblems(t *testing.T) {
	header := "Report Refresh Date,User Principal Name,Display Name,Last Activity Date,Word Copilot Last Activity Date,Report Period\n"
	tests := []struct {
		name, body string
		want       []Problem
	}{
		{"missing columns", "Report Refresh Date,Display Name,Word Copilot Last Activity Date\n2026-11-28,A,\n",
			[]Problem{{Line: 1, Column: "User Principal Name"}, {Line: 1, Column: "Last Activity Date"}}},
		{"bad date and period", header + "2026-11-28,a@x.com,A,2026-11-27,11/27/2026,28\n2026-11-28,b@x.com,B,,,x\n",
			[]Problem{{Line: 2, Column: "Word Copilot Last Activity Date"}, {Line: 3, Column: "Report Period"}}},
		{"duplicate user", header + "2026-11-28,a@x.com,A,,,28\n2026-11-28,b@x.com,B,,,28\n2026-11-28,A@X.COM,A,,,28\n",
			[]Problem{{Line: 4, Column: "User Principal Name"}}},
		{"two refresh dates", header + "2026-11-28,a@x.com,A,,,28\n2026-11-27,b@x.com,B,,,28\n",
			[]Problem{{Line: 3, Column: "Report Refresh Date"}}},
		{"header only", header, []Problem{{Line: 1}}},
		{"json without key", `{"value": [{"reportRefreshDate": "2026-11-28", "wordCopilotLastActivityDate": "2026-11-02"},` + "\n" + `{"reportRefreshDate": "2026-11-28", "userPrincipalName": "b", "wordCopilotLastActivityDate": "2026-13-02"}]}`,
			[]Problem{{Line: 1, Column: "value[0].userPrincipalName"}, {Line: 2, Column: "value[1].wordCopilotLastActivityDate"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseCopilot(t, tt.body, Options{})
			var inv *InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("err = %v, want an InvalidError", err)
			}
			if len(inv.Problems) != len(tt.want) {
				t.Fatalf("problems = %v, want %d", inv.Problems, len(tt.want))
			}
			for i, w := range tt.want {
				got := inv.Problems[i]
				if got.Line != w.Line || got.Column != w.Column || got.Reason == "" {
					t.Errorf("problem %d = %+v, want line %d column %q", i, got, w.Line, w.Column)
				}
			}
		})
	}
}

// With SkipInvalid the bad row is left out and listed; the rest is kept.
func TestCopilotReportSkipInvalid(t *testing.T) {
	body := "Report Refresh Date,User Principal Name,Last Activity Date,Word Copilot Last Activity Date\n" +
		"2026-11-28,a@x.com,2026-11-27,2026-11-27\n2026-11-28,b@x.com,yesterday,\n"
	doc, err := parseCopilot(t, body, Options{SkipInvalid: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Copilot.Users) != 1 || doc.Copilot.Users[0].Key != "a@x.com" || doc.SkippedTotal != 1 || doc.Skipped[0].Line != 3 || doc.Skipped[0].Column != "Last Activity Date" {
		t.Errorf("users %+v skipped %+v", doc.Copilot.Users, doc.Skipped)
	}
}

func TestDetectCopilotNotOffice(t *testing.T) {
	if k, _ := Detect([]byte(readTestdata(t, "activeuserdetail.csv"))); k != KindActiveUserDetail {
		t.Errorf("the Office report detected as %q", k)
	}
	if k, _ := Detect([]byte(`[{"userPrincipalName": "a", "teamsLastActivityDate": "2026-11-01"}]`)); k == KindCopilotUsage {
		t.Error("a JSON report without Copilot members detected as the Copilot report")
	}
}

// FuzzParseCopilot: whatever the bytes, the Copilot parser answers a
// document or an *InvalidError, and what it accepts holds what the figures
// rely on: one row per key, dates aligned with the apps, a report date.
func FuzzParseCopilot(f *testing.F) {
	for _, name := range []string{"copilot-v1.csv", "copilot-v2.csv", "copilot-v2.json"} {
		data := []byte(readTestdata(f, name))
		f.Add(data, false)
		f.Add(data, true)
		f.Add(data[:len(data)/2], false)
	}
	f.Fuzz(func(t *testing.T, data []byte, skip bool) {
		doc, err := Parse(bytes.NewReader(data), KindCopilotUsage, Options{SkipInvalid: skip}, nil)
		if doc == nil {
			t.Fatalf("no document (err %v)", err)
		}
		if err != nil {
			var inv *InvalidError
			if !errors.As(err, &inv) || len(inv.Problems) == 0 {
				t.Fatalf("error %v is not an *InvalidError with problems", err)
			}
			return
		}
		r := doc.Copilot
		if r == nil || r.ReportDate == license.NoDate || len(r.Users) == 0 || doc.Users != len(r.Users) {
			t.Fatalf("accepted report %+v, doc %+v", r, doc)
		}
		keys := map[string]bool{}
		for _, u := range r.Users {
			k := strings.ToLower(u.Key)
			if k == "" || keys[k] || len(u.AppActivity) != len(r.Apps) {
				t.Fatalf("bad user %+v (apps %v)", u, r.Apps)
			}
			keys[k] = true
		}
	})
}
