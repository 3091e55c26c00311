package portfolio

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/licenseinsights/licenseinsights/pkg/ingest"
)

// copilotSnapshot is a customer of report date 2026-11-28 with E3 for every
// user and Copilot seats as given: holders maps a user to the date its
// Copilot seat was assigned.
func copilotSnapshot(id string, e3, seats int, users []string, holders map[string]string) string {
	var us []string
	for _, u := range users {
		lic := `{"sku": "SPE_E3", "assignedDate": "2025-01-01"}`
		if d, ok := holders[u]; ok {
			lic += fmt.Sprintf(`, {"sku": "Microsoft_365_Copilot", "assignedDate": %q}`, d)
		}
		us = append(us, fmt.Sprintf(`{"key": %q, "displayName": %q, "deleted": false, "licenses": [%s],
		  "workloads": {"exchange": {"licensed": true, "lastActivity": "2026-11-27"}}}`, u, u, lic))
	}
	return fmt.Sprintf(`{"schema": "license-snapshot/v1", "customer": {"id": %q, "name": %q}, "reportDate": "2026-11-28",
	 "subscriptions": [
	  {"id": "e3", "sku": "SPE_E3", "name": "Microsoft 365 E3", "quantity": %d, "status": "active", "trial": false, "channel": "own"},
	  {"id": "cp", "sku": "Microsoft_365_Copilot", "name": "Microsoft 365 Copilot", "quantity": %d, "status": "active", "trial": false, "channel": "own"}],
	 "users": [%s]}`, id, strings.ToUpper(id[:1])+id[1:], e3, seats, strings.Join(us, ","))
}

func TestPortfolioCopilot(t *testing.T) {
	s := newStack(t, "tenant-copilot", 0)
	post := func(id, body string) {
		t.Helper()
		out, err := s.ingest.Ingest(t.Context(), ingest.Request{Tenant: s.tenant, CustomerID: id, Body: strings.NewReader(body)})
		if err != nil || out.Status != ingest.StatusAccepted {
			t.Fatalf("ingesting for %s: %v %v", id, out, err)
		}
		if !strings.Contains(strings.Join(s.ids, ","), id) {
			s.ids = append(s.ids, id)
		}
	}
	portfolio := func() map[string]any {
		t.Helper()
		s.deliver(t)
		status, body := s.get(t, RoutePortfolio, map[string]string{"top": "5"})
		if status != 200 {
			t.Fatalf("GET /v1/portfolio: %d %s", status, body)
		}
		var v map[string]any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	// contoso: 6 seats; ann, bob, cat since 2026-01-10, dan since 11-18
	// (new). fabrikam: 3 seats, all held since 2026-01-10. northwind: 2
	// seats, nobody holds one, no report.
	post("contoso", copilotSnapshot("contoso", 6, 6, []string{"ann", "bob", "cat", "dan", "eve"},
		map[string]string{"ann": "2026-01-10", "bob": "2026-01-10", "cat": "2026-01-10", "dan": "2026-11-18"}))
	post("fabrikam", copilotSnapshot("fabrikam", 3, 3, []string{"fay", "gus", "hal"},
		map[string]string{"fay": "2026-01-10", "gus": "2026-01-10", "hal": "2026-01-10"}))
	post("northwind", copilotSnapshot("northwind", 2, 2, []string{"ida", "joe"}, nil))
	before := portfolio()

	// contoso's report, version 1 CSV: ann active 11-27, bob last 10-02,
	// cat and dan never.
	post("contoso", "Report Refresh Date,User Principal Name,Display Name,Last Activity Date,Microsoft Teams Copilot Last Activity Date,Word Copilot Last Activity Date,Report Period\n"+
		"2026-11-28,ann,Ann,2026-11-27,2026-11-27,,30\n2026-11-28,bob,Bob,2026-10-02,,2026-10-02,30\n2026-11-28,cat,Cat,,,,30\n2026-11-28,dan,Dan,,,,30\n")
	// fabrikam's report, version 2 JSON: all three active in Word on 11-26,
	// on 15 of the last 28 days.
	var rows []string
	for _, u := range []string{"fay", "gus", "hal"} {
		rows = append(rows, fmt.Sprintf(`{"reportRefreshDate": "2026-11-28", "userPrincipalName": %q, "lastActivityDate": "2026-11-26",
		  "wordCopilotLastActivityDate": "2026-11-26", "microsoftTeamsCopilotLastActivityDate": null, "activeUsageDaysForAllApps": 15, "reportPeriod": 28}`, u))
	}
	post("fabrikam", `{"value": [`+strings.Join(rows, ",")+`]}`)
	after := portfolio()

	// The Office figures are the same before and after the reports.
	for _, k := range []string{"usage", "workloads", "deployment", "bands", "inactiveLicensedUsers"} {
		if !reflect.DeepEqual(after[k], before[k]) {
			t.Errorf("%s changed with the Copilot reports: %v, was %v", k, after[k], before[k])
		}
	}
	// Worked by hand (D = 2026-11-28, 28 days): sold 6+3+2 = 11; assigned
	// 4+3 = 7; unassigned 2+0+2 = 4; active ann + fay gus hal = 4 of the 7
	// seats of customers with a report = 57.1 %; habitual: fabrikam's 3
	// (15 ≥ 10 days), contoso's 4 seats unknown (v1); dormant bob, cat = 2;
	// never used cat = 1; new dan = 1; reclaimable 2; idle 4 + 2 = 6;
	// Word: fay gus hal = 3 (bob's 10-02 is outside), Teams: ann = 1.
	want := map[string]any{
		"reportDate": nil, "windowDays": 28.0, "seatsSold": 11.0, "seatsAssigned": 7.0, "unassigned": 4.0,
		"active": 4.0, "activePercent": 57.1, "habitual": 3.0, "habitualDays": 10.0, "habitualUnknownSeats": 4.0,
		"dormant": 2.0, "neverUsed": 1.0, "new": 1.0, "reclaimable": 2.0, "idleSeats": 6.0,
		"apps": []any{map[string]any{"app": "word", "active": 3.0}, map[string]any{"app": "teams", "active": 1.0}},
	}
	if !reflect.DeepEqual(after["copilot"], want) {
		t.Errorf("portfolio copilot:\n%v\nwant\n%v", after["copilot"], want)
	}
	// Most idle seats first: contoso 2 unassigned + 2 reclaimable = 4,
	// northwind 2 unassigned; fabrikam has none and is left out.
	wantList := []any{
		map[string]any{"customerId": "contoso", "customerName": "Contoso", "reportDate": "2026-11-28", "seatsSold": 6.0, "seatsAssigned": 4.0, "idleSeats": 4.0},
		map[string]any{"customerId": "northwind", "customerName": "Northwind", "reportDate": "2026-11-28", "seatsSold": 2.0, "seatsAssigned": 0.0, "idleSeats": 2.0},
	}
	if !reflect.DeepEqual(after["mostIdleCopilot"], wantList) {
		t.Errorf("mostIdleCopilot = %v\nwant %v", after["mostIdleCopilot"], wantList)
	}
	// The roll-up equals the sum of the customers' figures, and removing
	// contoso takes exactly its share out.
	s.assertPortfolio(t, "after the Copilot reports")
	s.remove(t, "contoso")
	gone := portfolio()["copilot"].(map[string]any)
	if gone["seatsSold"] != 5.0 || gone["seatsAssigned"] != 3.0 || gone["habitual"] != 3.0 || gone["habitualUnknownSeats"] != 0.0 || gone["idleSeats"] != 2.0 || gone["activePercent"] != 100.0 {
		t.Errorf("after removing contoso: %v", gone)
	}
}
