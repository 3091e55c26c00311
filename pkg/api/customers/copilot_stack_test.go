package customers

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/licenseinsights/licenseinsights/pkg/config"
)

// copilotSnapshot: report date 2026-11-28; 6 E3 and 6 Copilot seats sold;
// ann, bob and cat hold Copilot since 2026-01-10, dan since 2026-11-18 (10
// days before D); eve holds E3 only. Exchange activity: ann 11-27, bob
// 11-20, cat 11-01, dan 09-01 (inactive), eve 11-27.
const copilotSnapshot = `{"schema": "license-snapshot/v1",
 "customer": {"id": "contoso", "name": "Contoso"},
 "reportDate": "2026-11-28",
 "subscriptions": [
  {"id": "e3", "sku": "SPE_E3", "name": "Microsoft 365 E3", "quantity": 6, "status": "active", "trial": false, "channel": "own"},
  {"id": "cp", "sku": "Microsoft_365_Copilot", "name": "Microsoft 365 Copilot", "quantity": 6, "status": "active", "trial": false, "channel": "own"}],
 "users": [
  {"key": "ann@contoso.com", "displayName": "Ann", "deleted": false,
   "licenses": [{"sku": "SPE_E3", "assignedDate": "2025-01-01"}, {"sku": "Microsoft_365_Copilot", "assignedDate": "2026-01-10"}],
   "workloads": {"exchange": {"licensed": true, "lastActivity": "2026-11-27"}}},
  {"key": "bob@contoso.com", "displayName": "Bob", "deleted": false,
   "licenses": [{"sku": "SPE_E3", "assignedDate": "2025-01-01"}, {"sku": "Microsoft_365_Copilot", "assignedDate": "2026-01-10"}],
   "workloads": {"exchange": {"licensed": true, "lastActivity": "2026-11-20"}}},
  {"key": "cat@contoso.com", "displayName": "Cat", "deleted": false,
   "licenses": [{"sku": "SPE_E3", "assignedDate": "2025-01-01"}, {"sku": "Microsoft_365_Copilot", "assignedDate": "2026-01-10"}],
   "workloads": {"exchange": {"licensed": true, "lastActivity": "2026-11-01"}}},
  {"key": "dan@contoso.com", "displayName": "Dan", "deleted": false,
   "licenses": [{"sku": "SPE_E3", "assignedDate": "2025-01-01"}, {"sku": "Microsoft_365_Copilot", "assignedDate": "2026-11-18"}],
   "workloads": {"exchange": {"licensed": true, "lastActivity": "2026-09-01"}}},
  {"key": "eve@contoso.com", "displayName": "Eve", "deleted": false,
   "licenses": [{"sku": "SPE_E3", "assignedDate": "2025-01-01"}],
   "workloads": {"exchange": {"licensed": true, "lastActivity": "2026-11-27"}}}]}`

// The Copilot report of 2026-11-28, version 1 CSV: ann used chat on 11-27
// and Teams on 11-20, bob Word on 10-02, cat and dan never.
const copilotCSV = "Report Refresh Date,User Principal Name,Display Name,Last Activity Date,Copilot Chat Last Activity Date,Microsoft Teams Copilot Last Activity Date,Word Copilot Last Activity Date,Excel Copilot Last Activity Date,PowerPoint Copilot Last Activity Date,Outlook Copilot Last Activity Date,OneNote Copilot Last Activity Date,Loop Copilot Last Activity Date,Report Period\r\n" +
	"2026-11-28,ann@contoso.com,Ann,2026-11-27,2026-11-27,2026-11-20,,,,,,,30\r\n" +
	"2026-11-28,BOB@contoso.com,Bob,2026-10-02,,,2026-10-02,,,,,,30\r\n" +
	"2026-11-28,cat@contoso.com,Cat,,,,,,,,,,30\r\n" +
	"2026-11-28,dan@contoso.com,Dan,,,,,,,,,,30\r\n"

// The same activity in the JSON form of a version 2 report (28 days):
// ann was active on 12 days, the others on none.
const copilotJSON = `{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata", "value": [
 {"reportRefreshDate": "2026-11-28", "userPrincipalName": "ann@contoso.com", "displayName": "Ann", "lastActivityDate": "2026-11-27",
  "copilotChatLastActivityDate": "2026-11-27", "microsoftTeamsCopilotLastActivityDate": "2026-11-20", "wordCopilotLastActivityDate": null,
  "activeUsageDaysForAllApps": 12, "copilotActivityUserDetailsByPeriod": [{"reportPeriod": 28}]},
 {"reportRefreshDate": "2026-11-28", "userPrincipalName": "bob@contoso.com", "displayName": "Bob", "lastActivityDate": "2026-10-02",
  "copilotChatLastActivityDate": null, "microsoftTeamsCopilotLastActivityDate": null, "wordCopilotLastActivityDate": "2026-10-02",
  "activeUsageDaysForAllApps": 0, "copilotActivityUserDetailsByPeriod": [{"reportPeriod": 28}]},
 {"reportRefreshDate": "2026-11-28", "userPrincipalName": "cat@contoso.com", "displayName": "Cat", "lastActivityDate": null,
  "copilotChatLastActivityDate": null, "microsoftTeamsCopilotLastActivityDate": null, "wordCopilotLastActivityDate": null,
  "activeUsageDaysForAllApps": 0, "copilotActivityUserDetailsByPeriod": [{"reportPeriod": 28}]},
 {"reportRefreshDate": "2026-11-28", "userPrincipalName": "dan@contoso.com", "displayName": "Dan", "lastActivityDate": null,
  "copilotChatLastActivityDate": null, "microsoftTeamsCopilotLastActivityDate": null, "wordCopilotLastActivityDate": null,
  "activeUsageDaysForAllApps": 0, "copilotActivityUserDetailsByPeriod": [{"reportPeriod": 28}]}]}`

// postDetected ingests a document whose kind is left to detection.
func (s *stack) postDetected(t *testing.T, tenant, customerID, body string) map[string]any {
	t.Helper()
	resp := invoke(t, s.ingest, request{
		tenant: tenant, role: "writer", method: http.MethodPost, resource: "/v1/customers/{customerId}/reports",
		path: map[string]string{"customerId": customerID}, body: body,
	})
	if resp.status != http.StatusOK {
		t.Fatalf("ingesting for %s: %d %s", customerID, resp.status, resp.body)
	}
	return decode(t, resp.body)
}

func TestInsightsCopilot(t *testing.T) {
	cfg := config.Default()
	cfg.SKUMonthlyPrices = map[string]float64{"Microsoft_365_Copilot": 30}
	s := newStack(t, cfg)
	const tenant = "tenant-copilot"
	s.post(t, tenant, "contoso", copilotSnapshot)

	insights := func() map[string]any {
		t.Helper()
		resp := s.get(t, tenant, RouteInsights, map[string]string{"customerId": "contoso"}, nil)
		if resp.status != http.StatusOK {
			t.Fatalf("insights: %d %s", resp.status, resp.body)
		}
		conforms(t, RouteInsights, resp)
		return decode(t, resp.body)
	}
	before := insights()
	// Seats before any report: 6 sold, 4 held (ann bob cat dan), 2 free;
	// activity unknown.
	wantSeats := map[string]any{
		"reportDate": nil, "windowDays": 28.0, "seatsSold": 6.0, "seatsAssigned": 4.0, "unassigned": 2.0,
		"active": nil, "activePercent": nil, "habitual": nil, "habitualDays": 10.0, "habitualUnknownSeats": 0.0,
		"dormant": nil, "neverUsed": nil, "new": nil, "reclaimable": nil, "idleSeats": 2.0, "apps": []any{},
	}
	if got := before["copilot"]; !reflect.DeepEqual(got, wantSeats) {
		t.Errorf("copilot before the report:\n%s\nwant\n%s", pretty(got), pretty(wantSeats))
	}

	// Worked from docs/definitions.md#copilot with D = 2026-11-28, window 28 (dates after 10-31):
	// active: ann (11-27) = 1 of 4 → 25 %; dormant (assigned before 10-31,
	// not active): bob, cat = 2; never used: cat (dan is new) = 1; new: dan
	// (11-18 > 11-14) = 1; reclaimable bob, cat = 2; idle 2 + 2 = 4; apps:
	// Teams ann (11-20), Word nobody (bob's 10-02 is outside), chat ann.
	apps := []any{
		map[string]any{"app": "teams", "active": 1.0}, map[string]any{"app": "outlook", "active": 0.0},
		map[string]any{"app": "word", "active": 0.0}, map[string]any{"app": "excel", "active": 0.0},
		map[string]any{"app": "powerPoint", "active": 0.0}, map[string]any{"app": "oneNote", "active": 0.0},
		map[string]any{"app": "loop", "active": 0.0}, map[string]any{"app": "copilotChat", "active": 1.0},
	}
	want := map[string]any{
		"reportDate": "2026-11-28", "windowDays": 28.0, "seatsSold": 6.0, "seatsAssigned": 4.0, "unassigned": 2.0,
		"active": 1.0, "activePercent": 25.0, "habitual": nil, "habitualDays": 10.0, "habitualUnknownSeats": 4.0,
		"dormant": 2.0, "neverUsed": 1.0, "new": 1.0, "reclaimable": 2.0, "idleSeats": 4.0, "apps": apps,
	}
	tests := []struct {
		name, body string
		habitual   any
		unknown    float64
		apps       []any
	}{
		// Version 1: no active days, so habitual is null and every seat's
		// habitual use unknown.
		{"csv v1", copilotCSV, nil, 4, apps},
		// Version 2: ann's 12 active days reach 10: habitual 1. The JSON
		// names three apps only, so only those are listed.
		{"json v2", copilotJSON, 1.0, 0, []any{apps[0], apps[2], apps[7]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := s.postDetected(t, tenant, "contoso", tt.body)
			if out["kind"] != "graph-copilot-usage-user-detail" || out["users"] != 4.0 {
				t.Fatalf("outcome %v", out)
			}
			after := insights()
			want["habitual"], want["habitualUnknownSeats"], want["apps"] = tt.habitual, tt.unknown, tt.apps
			if got := after["copilot"]; !reflect.DeepEqual(got, want) {
				t.Errorf("copilot:\n%s\nwant\n%s", pretty(got), pretty(want))
			}
			// The Office figures do not move: usage, workloads, deployment.
			for _, k := range []string{"usage", "workloads", "deployment", "inactiveLicensedUsers", "reportDate"} {
				if !reflect.DeepEqual(after[k], before[k]) {
					t.Errorf("%s changed with the Copilot report:\n%s\nwas\n%s", k, pretty(after[k]), pretty(before[k]))
				}
			}
			recs := map[string]map[string]any{}
			for _, r := range after["recommendations"].([]any) {
				r := r.(map[string]any)
				recs[r["code"].(string)] = r["evidence"].(map[string]any)
			}
			// 2 reclaimable seats × 30 a month = 60; dan, new, is spared.
			if ev := recs["copilot-reclaim"]; ev == nil || ev["reclaimable"] != 2.0 || ev["monthlyCost"] != 60.0 || ev["newSeats"] != 1.0 {
				t.Errorf("copilot-reclaim evidence = %v", ev)
			}
			// 25 % active is below LOW_USAGE_PERCENT 50.
			if ev := recs["copilot-training"]; ev == nil || ev["activePercent"] != 25.0 {
				t.Errorf("copilot-training evidence = %v", ev)
			}
			if recs["copilot-more-seats"] != nil {
				t.Errorf("more seats suggested with 2 free seats")
			}
		})
	}

	// An older Copilot report is refused: the current one stays.
	old := "Report Refresh Date,User Principal Name,Last Activity Date,Word Copilot Last Activity Date\n2026-11-01,ann@contoso.com,2026-11-01,2026-11-01\n"
	resp := invoke(t, s.ingest, request{tenant: tenant, role: "writer", method: http.MethodPost, resource: "/v1/customers/{customerId}/reports",
		path: map[string]string{"customerId": "contoso"}, body: old})
	if resp.status != http.StatusConflict {
		t.Errorf("an older Copilot report: %d %s, want 409", resp.status, resp.body)
	}
	if got := insights()["copilot"].(map[string]any); got["reclaimable"] != 2.0 || got["habitual"] != 1.0 {
		t.Errorf("after the refused report: %v", got)
	}
}
