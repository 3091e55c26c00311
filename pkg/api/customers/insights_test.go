package customers

import (
	"encoding/json"
	"github.com/licenseinsights/licenseinsights/pkg/store"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/licenseinsights/licenseinsights/internal/devstack/devstacktest"
	"github.com/licenseinsights/licenseinsights/pkg/config"
	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// Snapshot documents (docs/definitions.md#the-native-snapshot) are written by hand here, so that every
// figure below can be worked out from them with a pencil.

type snapUse struct {
	Licensed     bool    `json:"licensed"`
	LastActivity *string `json:"lastActivity"`
}

type snapUser struct {
	Key         string             `json:"key"`
	DisplayName string             `json:"displayName,omitempty"`
	Deleted     bool               `json:"deleted,omitempty"`
	Licenses    []map[string]any   `json:"licenses"`
	Workloads   map[string]snapUse `json:"workloads"`
}

type snapshot struct {
	Schema        string           `json:"schema"`
	Customer      map[string]any   `json:"customer"`
	ReportDate    string           `json:"reportDate"`
	Support       map[string]int   `json:"support,omitempty"`
	Subscriptions []map[string]any `json:"subscriptions"`
	Users         []snapUser       `json:"users"`
}

func (s snapshot) json(t testing.TB) string {
	t.Helper()
	s.Schema = "license-snapshot/v1"
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// day is the report date moved by n days, as YYYY-MM-DD.
func day(t testing.TB, d string, n int) string {
	t.Helper()
	x, err := license.ParseDate(d)
	if err != nil {
		t.Fatal(err)
	}
	return x.AddDays(n).String()
}

// used is a licensed (or not) workload with its last activity n days before
// D ("" for none).
func used(licensed bool, last string) snapUse {
	if last == "" {
		return snapUse{Licensed: licensed}
	}
	return snapUse{Licensed: licensed, LastActivity: &last}
}

func holds(sku, assigned string) []map[string]any {
	return []map[string]any{{"sku": sku, "assignedDate": assigned}}
}

const reportDate = "2026-11-20" // D

// fabrikamSnapshot is the customer whose usage is above 100 % with every
// cause of docs/definitions.md#figures at once, and whose activity sits on the window edges.
//
// Subscriptions: s1 SPE_E3 3 own (renews 2026-12-10), s2 SPE_E3 1 direct,
// s3 POWER_BI_PRO 5 active trial, s4 VISIOCLIENT 2 disabled (partner).
// Counted capacity: SPE_E3 4; POWER_BI_PRO and VISIOCLIENT none.
//
//	user   licences (assigned)       exchange        sharepoint / onedrive       teams       yammer
//	alice  SPE_E3 2024-01-01         lic, D          lic, – / lic, D−27          lic, D−27   unlicensed, D−1
//	bob    SPE_E3 2024-02-01         lic, D−28       lic, D−28                   lic, D−5
//	carol  SPE_E3 2024-03-01         lic, D−10                                   lic, –
//	dan    SPE_E3 2024-04-01         lic, –                                      lic, –
//	erin   SPE_E3 2024-05-01         lic, D−2        (5th SPE_E3 holder: over-assigned, not entitled)
//	frank  POWER_BI_PRO 2025-01-01   lic, D−3        (trial only)
//	gina   deleted, SPE_E3           lic, D−4
//	hal    no licence                unlicensed, D−6
//	ivy    VISIOCLIENT 2025-02-01    lic, D−7        (disabled capacity only)
//	jack   POWER_BI_PRO 2025-03-01   unlicensed, D−8
//
// Entitled: the four oldest SPE_E3 holders, alice, bob, carol, dan.
func fabrikamSnapshot(t testing.TB) string {
	d := func(n int) string { return day(t, reportDate, n) }
	return snapshot{
		Customer:   map[string]any{"id": "fabrikam", "name": "Fabrikam Inc", "tenantId": "6f9a0c1e-1111-4222-8333-944455556666"},
		ReportDate: reportDate,
		Support:    map[string]int{"howToTickets": 3, "tickets": 5, "windowDays": 28},
		Subscriptions: []map[string]any{
			{"id": "s1", "sku": "SPE_E3", "name": "Microsoft 365 E3", "quantity": 3, "status": "active", "trial": false, "channel": "own", "renewalDate": "2026-12-10"},
			{"id": "s2", "sku": "SPE_E3", "name": "Microsoft 365 E3", "quantity": 1, "status": "active", "trial": false, "channel": "direct"},
			{"id": "s3", "sku": "POWER_BI_PRO", "name": "Power BI Pro", "quantity": 5, "status": "active", "trial": true, "channel": "own"},
			{"id": "s4", "sku": "VISIOCLIENT", "name": "Visio Plan 2", "quantity": 2, "status": "disabled", "trial": false, "channel": "partner"},
		},
		Users: []snapUser{
			{Key: "alice@fabrikam.com", DisplayName: "Alice", Licenses: holds("SPE_E3", "2024-01-01"), Workloads: map[string]snapUse{
				"exchange": used(true, d(0)), "sharepoint": used(true, ""), "onedrive": used(true, d(-27)),
				"teams": used(true, d(-27)), "yammer": used(false, d(-1)),
			}},
			{Key: "bob@fabrikam.com", Licenses: holds("SPE_E3", "2024-02-01"), Workloads: map[string]snapUse{
				"exchange": used(true, d(-28)), "sharepoint": used(true, d(-28)), "teams": used(true, d(-5)),
			}},
			{Key: "carol@fabrikam.com", Licenses: holds("SPE_E3", "2024-03-01"), Workloads: map[string]snapUse{
				"exchange": used(true, d(-10)), "teams": used(true, ""),
			}},
			{Key: "dan@fabrikam.com", Licenses: holds("SPE_E3", "2024-04-01"), Workloads: map[string]snapUse{
				"exchange": used(true, ""), "teams": used(true, ""),
			}},
			{Key: "erin@fabrikam.com", Licenses: holds("SPE_E3", "2024-05-01"), Workloads: map[string]snapUse{"exchange": used(true, d(-2))}},
			{Key: "frank@fabrikam.com", Licenses: holds("POWER_BI_PRO", "2025-01-01"), Workloads: map[string]snapUse{"exchange": used(true, d(-3))}},
			{Key: "gina@fabrikam.com", Deleted: true, Licenses: holds("SPE_E3", "2024-06-01"), Workloads: map[string]snapUse{"exchange": used(true, d(-4))}},
			{Key: "hal@fabrikam.com", Licenses: []map[string]any{}, Workloads: map[string]snapUse{"exchange": used(false, d(-6))}},
			{Key: "ivy@fabrikam.com", Licenses: holds("VISIOCLIENT", "2025-02-01"), Workloads: map[string]snapUse{"exchange": used(true, d(-7))}},
			{Key: "jack@fabrikam.com", Licenses: holds("POWER_BI_PRO", "2025-03-01"), Workloads: map[string]snapUse{"exchange": used(false, d(-8))}},
		},
	}.json(t)
}

// fabrikamEarlier is Fabrikam 28 days before, the trend's baseline: the
// same subscriptions, four users, only alice active (2026-10-20).
// Exchange: 4 entitlements, 1 active → overall 25.0 %.
func fabrikamEarlier(t testing.TB) string {
	earlier := day(t, reportDate, -28) // 2026-10-23
	users := []snapUser{
		{Key: "alice@fabrikam.com", Licenses: holds("SPE_E3", "2024-01-01"), Workloads: map[string]snapUse{"exchange": used(true, "2026-10-20")}},
		{Key: "bob@fabrikam.com", Licenses: holds("SPE_E3", "2024-02-01"), Workloads: map[string]snapUse{"exchange": used(true, "")}},
		{Key: "carol@fabrikam.com", Licenses: holds("SPE_E3", "2024-03-01"), Workloads: map[string]snapUse{"exchange": used(true, "")}},
		{Key: "dan@fabrikam.com", Licenses: holds("SPE_E3", "2024-04-01"), Workloads: map[string]snapUse{"exchange": used(true, "")}},
	}
	var doc snapshot
	if err := json.Unmarshal([]byte(fabrikamSnapshot(t)), &doc); err != nil {
		t.Fatal(err)
	}
	doc.ReportDate, doc.Users, doc.Support = earlier, users, nil
	return doc.json(t)
}

// fabrikamInsights28 is GET …/fabrikam/insights (28 days), messages aside.
//
// Products (by SKU): POWER_BI_PRO sold 0 (trial), assigned frank + jack = 2;
// SPE_E3 sold 4 (own 3, direct 1), assigned alice…erin = 5 (gina is
// deleted): 125.0 %, unassigned 0; VISIOCLIENT sold 0 (disabled),
// assigned ivy = 1. Overall: SPE_E3 only, 5 ÷ 4 = 125.0 %.
//
// 28 days: active means last activity ≥ D−27.
//
//	exchange   entitled+licensed alice, bob, carol, dan = 4. Active: alice
//	           (counted), carol (counted); bob's D−28 is out. Uncounted:
//	           gina (deleted) + hal (no licence) = 2 formerLicensee; jack
//	           (licences, none with exchange) = 1 unlicensed; frank (trial
//	           only) = 1 trial; erin (over-assigned) + ivy (disabled) = 2
//	           inactiveSubscription. 8 ÷ 4 = 200.0 %, adjusted 2 ÷ 4 = 50.0 %.
//	sharepoint alice, bob licensed = 2; alice active through OneDrive on D−27
//	           (counts), bob's D−28 does not: 1 ÷ 2 = 50.0 %.
//	teams      4 entitlements; alice (D−27), bob (D−5) active: 50.0 %.
//	yammer     no entitlements; alice active without a yammer licence:
//	           1 unlicensed, usage null.
//	skype      nothing.
//
// Usage: 10 entitlements, 12 active, 5 counted: 120.0 %, 50.0 %. Band high.
// Inactive licensed users: dan (carol's exchange, bob's teams count) = 1.
//
// Recommendations (default thresholds):
//
//	heavy-how-to-demand  3 how-to tickets × 100 ÷ 10 users × 28/28 = 30.0 ≥ 10
//	upsell-candidate     deployment 125.0 ≥ 90 and usage 120.0 ≥ 80
//	reclaim-inactive     1 inactive licensed user ≥ 1 (SPE_E3 has no price)
//	explain-over-100     exchange: formerLicensee 2 ties inactiveSubscription
//	                     2, the first listed wins; yammer: unlicensed
//	usage-trend-up       120.0 against 25.0 on 2026-10-23: +95.0 ≥ 10
//
// Not made: low adoption and deployment (figures high), reclaim-unassigned
// (0), renewal-due (s1 renews in 20 days, but no seat is unassigned).
// Reclaim (30 days): dan is SPE_E3's one idle holder → reassignNow 1, with
// no money (only SPB is priced); nothing unassigned.
const fabrikamInsights28 = `{
  "customerId": "fabrikam", "customerName": "Fabrikam Inc", "customerTenantId": "6f9a0c1e-1111-4222-8333-944455556666",
  "reportDate": "2026-11-20", "windowDays": 28, "band": "high",
  "deployment": {"licensesSold": 4, "licensesAssigned": 5, "percent": 125.0, "unassigned": 0,
                 "soldByChannel": {"own": 3, "partner": 0, "direct": 1, "unknown": 0}},
  "products": [
    {"sku": "POWER_BI_PRO", "name": "Power BI Pro", "licensesSold": 0, "soldByChannel": {"own": 0, "partner": 0, "direct": 0, "unknown": 0},
     "licensesAssigned": 2, "deploymentPercent": null, "unassigned": 0, "inDeploymentTotal": false, "unknownProduct": false, "renewals": []},
    {"sku": "SPE_E3", "name": "Microsoft 365 E3", "licensesSold": 4, "soldByChannel": {"own": 3, "partner": 0, "direct": 1, "unknown": 0},
     "licensesAssigned": 5, "deploymentPercent": 125.0, "unassigned": 0, "inDeploymentTotal": true, "unknownProduct": false,
     "renewals": [{"subscriptionId": "s1", "kind": "renews", "date": "2026-12-10", "daysLeft": 20, "quantity": 3, "status": "active"}]},
    {"sku": "VISIOCLIENT", "name": "Visio Plan 2", "licensesSold": 0, "soldByChannel": {"own": 0, "partner": 0, "direct": 0, "unknown": 0},
     "licensesAssigned": 1, "deploymentPercent": null, "unassigned": 0, "inDeploymentTotal": false, "unknownProduct": false, "renewals": []}
  ],
  "usage": {"entitlements": 10, "activeEntitlements": 12, "countedActiveEntitlements": 5, "percent": 120.0, "adjustedPercent": 50.0},
  "workloads": [
    {"workload": "exchange", "entitlements": 4, "activeEntitlements": 8, "countedActiveEntitlements": 2, "usagePercent": 200.0, "adjustedUsagePercent": 50.0,
     "uncountedActive": {"formerLicensee": 2, "unlicensed": 1, "trial": 1, "inactiveSubscription": 2}, "retired": false},
    {"workload": "sharepoint", "entitlements": 2, "activeEntitlements": 1, "countedActiveEntitlements": 1, "usagePercent": 50.0, "adjustedUsagePercent": 50.0,
     "uncountedActive": {"formerLicensee": 0, "unlicensed": 0, "trial": 0, "inactiveSubscription": 0}, "retired": false},
    {"workload": "teams", "entitlements": 4, "activeEntitlements": 2, "countedActiveEntitlements": 2, "usagePercent": 50.0, "adjustedUsagePercent": 50.0,
     "uncountedActive": {"formerLicensee": 0, "unlicensed": 0, "trial": 0, "inactiveSubscription": 0}, "retired": false},
    {"workload": "yammer", "entitlements": 0, "activeEntitlements": 1, "countedActiveEntitlements": 0, "usagePercent": null, "adjustedUsagePercent": null,
     "uncountedActive": {"formerLicensee": 0, "unlicensed": 1, "trial": 0, "inactiveSubscription": 0}, "retired": false},
    {"workload": "skype", "entitlements": 0, "activeEntitlements": 0, "countedActiveEntitlements": 0, "usagePercent": null, "adjustedUsagePercent": null,
     "uncountedActive": {"formerLicensee": 0, "unlicensed": 0, "trial": 0, "inactiveSubscription": 0}, "retired": true}
  ],
  "inactiveLicensedUsers": 1, "excludedProducts": [],
  "reclaim": {"currency": "USD", "days": 30, "items": [
      {"customerId": "fabrikam", "customerName": "Fabrikam Inc", "sku": "SPE_E3", "productName": "Microsoft 365 E3", "kind": "reassignNow",
       "seats": 1, "date": "2026-11-20", "daysLeft": 0, "windowOpen": false, "monthlyPrice": null, "monthly": null, "perTerm": null}],
    "totals": [{"kind": "reassignNow", "seats": 1, "unpricedSeats": 1, "monthly": null, "perTerm": null},
               {"kind": "reduceAtRenewal", "seats": 0, "unpricedSeats": 0, "monthly": null, "perTerm": null},
               {"kind": "lockedUntil", "seats": 0, "unpricedSeats": 0, "monthly": null, "perTerm": null}]},
  "recommendations": [
    {"code": "heavy-how-to-demand", "severity": "opportunity", "evidence": {
      "howToTickets": 3, "tickets": 5, "supportWindowDays": 28, "users": 10, "howToPer100UsersPer28Days": 30.0, "thresholdPer100Users": 10.0}},
    {"code": "upsell-candidate", "severity": "opportunity", "evidence": {
      "windowDays": 28, "deploymentPercent": 125.0, "usagePercent": 120.0, "deploymentThresholdPercent": 90.0, "usageThresholdPercent": 80.0,
      "licensesSold": 4, "licensesAssigned": 5}},
    {"code": "reclaim-inactive", "severity": "warning", "evidence": {"inactiveLicensedUsers": 1, "windowDays": 28, "kind": "reassignNow"}},
    {"code": "explain-over-100", "severity": "info", "evidence": {
      "workload": "exchange", "windowDays": 28, "usagePercent": 200.0, "entitlements": 4, "activeEntitlements": 8, "countedActiveEntitlements": 2,
      "dominantCause": "formerLicensee", "uncountedActive": {"formerLicensee": 2, "unlicensed": 1, "trial": 1, "inactiveSubscription": 2}}},
    {"code": "explain-over-100", "severity": "info", "evidence": {
      "workload": "yammer", "windowDays": 28, "usagePercent": null, "entitlements": 0, "activeEntitlements": 1, "countedActiveEntitlements": 0,
      "dominantCause": "unlicensed", "uncountedActive": {"formerLicensee": 0, "unlicensed": 1, "trial": 0, "inactiveSubscription": 0}}},
    {"code": "usage-trend-up", "severity": "info", "evidence": {
      "windowDays": 28, "usagePercent": 120.0, "reportDate": "2026-11-20", "previousUsagePercent": 25.0, "previousDate": "2026-10-23",
      "changePoints": 95.0, "thresholdPoints": 10.0}}
  ]
}`

// northwindSnapshot is a customer with low adoption and priced waste.
//
// s1 SPB (Microsoft 365 Business Premium) 10 own, renews 2026-11-30.
//
//	user  SPB assigned  exchange      teams
//	n1    2025-01-01    lic, D−1      lic, –
//	n2    2025-01-02    lic, –        lic, D−40
//	n3    2025-01-03    lic, –        lic, –
//	n4    2025-01-04    lic, –        lic, –
func northwindSnapshot(t testing.TB) string {
	d := func(n int) string { return day(t, reportDate, n) }
	var users []snapUser
	for i, w := range []map[string]snapUse{
		{"exchange": used(true, d(-1)), "teams": used(true, "")},
		{"exchange": used(true, ""), "teams": used(true, d(-40))},
		{"exchange": used(true, ""), "teams": used(true, "")},
		{"exchange": used(true, ""), "teams": used(true, "")},
	} {
		users = append(users, snapUser{
			Key:      "n" + string(rune('1'+i)) + "@northwind.example",
			Licenses: holds("SPB", "2025-01-0"+string(rune('1'+i))), Workloads: w,
		})
	}
	return snapshot{
		Customer:   map[string]any{"id": "northwind", "name": "Northwind Traders"},
		ReportDate: reportDate,
		Subscriptions: []map[string]any{
			{"id": "s1", "sku": "SPB", "name": "Microsoft 365 Business Premium", "quantity": 10, "status": "active", "channel": "own", "renewalDate": "2026-11-30"},
		},
		Users: users,
	}.json(t)
}

// northwindInsights28, with SKU_MONTHLY_PRICES=SPB=22 (USD):
//
// Deployment 4 of 10 = 40.0 %, 6 unassigned. Exchange 4 entitlements, n1
// active: 25.0 %; teams 4, none active (n2's D−40 is out): 0.0 %. Usage
// 1 ÷ 8 = 12.5 %, band low. Inactive: n2, n3, n4 = 3.
// Waste: 6 × 22 = 132.00 unassigned, 3 × 22 = 66.00 inactive, 198.00 a
// month, 2,376.00 a year.
// Recommendations: low-adoption (12.5 < 50; teams 0.0 and exchange 25.0
// the lowest), low-deployment (40.0 < 70), reclaim-unassigned (6, 132.00),
// reclaim-inactive (3, 66.00), renewal-due (s1 renews in 10 days, within
// RENEWAL_DAYS 30, with 6 unassigned seats: 6 × 22 = 132.00 a month).
// Reclaim (30 days): reassignNow 3 idle holders (n2, n3, n4) × 22 = 66.00;
// reduceAtRenewal 6 on s1 (2026-11-30) = 132.00; no term → no per-term money.
const northwindInsights28 = `{
  "customerId": "northwind", "customerName": "Northwind Traders", "reportDate": "2026-11-20", "windowDays": 28, "band": "low",
  "deployment": {"licensesSold": 10, "licensesAssigned": 4, "percent": 40.0, "unassigned": 6,
                 "soldByChannel": {"own": 10, "partner": 0, "direct": 0, "unknown": 0}},
  "products": [
    {"sku": "SPB", "name": "Microsoft 365 Business Premium", "licensesSold": 10, "soldByChannel": {"own": 10, "partner": 0, "direct": 0, "unknown": 0},
     "licensesAssigned": 4, "deploymentPercent": 40.0, "unassigned": 6, "inDeploymentTotal": true, "unknownProduct": false,
     "renewals": [{"subscriptionId": "s1", "kind": "renews", "date": "2026-11-30", "daysLeft": 10, "quantity": 10, "status": "active"}]}
  ],
  "usage": {"entitlements": 8, "activeEntitlements": 1, "countedActiveEntitlements": 1, "percent": 12.5, "adjustedPercent": 12.5},
  "workloads": [
    {"workload": "exchange", "entitlements": 4, "activeEntitlements": 1, "countedActiveEntitlements": 1, "usagePercent": 25.0, "adjustedUsagePercent": 25.0,
     "uncountedActive": {"formerLicensee": 0, "unlicensed": 0, "trial": 0, "inactiveSubscription": 0}, "retired": false},
    {"workload": "sharepoint", "entitlements": 0, "activeEntitlements": 0, "countedActiveEntitlements": 0, "usagePercent": null, "adjustedUsagePercent": null,
     "uncountedActive": {"formerLicensee": 0, "unlicensed": 0, "trial": 0, "inactiveSubscription": 0}, "retired": false},
    {"workload": "teams", "entitlements": 4, "activeEntitlements": 0, "countedActiveEntitlements": 0, "usagePercent": 0.0, "adjustedUsagePercent": 0.0,
     "uncountedActive": {"formerLicensee": 0, "unlicensed": 0, "trial": 0, "inactiveSubscription": 0}, "retired": false},
    {"workload": "yammer", "entitlements": 0, "activeEntitlements": 0, "countedActiveEntitlements": 0, "usagePercent": null, "adjustedUsagePercent": null,
     "uncountedActive": {"formerLicensee": 0, "unlicensed": 0, "trial": 0, "inactiveSubscription": 0}, "retired": false},
    {"workload": "skype", "entitlements": 0, "activeEntitlements": 0, "countedActiveEntitlements": 0, "usagePercent": null, "adjustedUsagePercent": null,
     "uncountedActive": {"formerLicensee": 0, "unlicensed": 0, "trial": 0, "inactiveSubscription": 0}, "retired": true}
  ],
  "inactiveLicensedUsers": 3, "excludedProducts": [],
  "waste": {"currency": "USD", "unassignedLicenses": 6, "inactiveLicensedUsers": 3, "monthlyUnassignedCost": 132.0, "monthlyInactiveCost": 66.0,
            "monthlyPotentialSavings": 198.0, "annualPotentialSavings": 2376.0, "unpricedSkus": []},
  "reclaim": {"currency": "USD", "days": 30, "items": [
      {"customerId": "northwind", "customerName": "Northwind Traders", "sku": "SPB", "productName": "Microsoft 365 Business Premium", "kind": "reassignNow",
       "seats": 3, "date": "2026-11-20", "daysLeft": 0, "windowOpen": false, "monthlyPrice": 22.0, "monthly": 66.0, "perTerm": null},
      {"customerId": "northwind", "customerName": "Northwind Traders", "sku": "SPB", "productName": "Microsoft 365 Business Premium", "kind": "reduceAtRenewal",
       "subscriptionId": "s1", "seats": 6, "date": "2026-11-30", "daysLeft": 10, "renewalDate": "2026-11-30", "renewalKind": "renews", "windowOpen": false,
       "monthlyPrice": 22.0, "monthly": 132.0, "perTerm": null}],
    "totals": [{"kind": "reassignNow", "seats": 3, "unpricedSeats": 0, "monthly": 66.0, "perTerm": null},
               {"kind": "reduceAtRenewal", "seats": 6, "unpricedSeats": 0, "monthly": 132.0, "perTerm": null},
               {"kind": "lockedUntil", "seats": 0, "unpricedSeats": 0, "monthly": null, "perTerm": null}]},
  "recommendations": [
    {"code": "low-adoption", "severity": "warning", "evidence": {
      "windowDays": 28, "usagePercent": 12.5, "thresholdPercent": 50.0, "entitlements": 8, "activeEntitlements": 1, "inactiveLicensedUsers": 3,
      "lowestWorkloads": [{"workload": "teams", "usagePercent": 0.0}, {"workload": "exchange", "usagePercent": 25.0}]}},
    {"code": "low-deployment", "severity": "warning", "evidence": {
      "deploymentPercent": 40.0, "thresholdPercent": 70.0, "licensesSold": 10, "licensesAssigned": 4, "unassigned": 6}},
    {"code": "reclaim-unassigned", "severity": "warning", "evidence": {
      "unassigned": 6, "products": [{"sku": "SPB", "name": "Microsoft 365 Business Premium", "unassigned": 6}], "monthlyCost": 132.0, "currency": "USD",
      "reduceAtRenewal": 6, "lockedUntil": 0}},
    {"code": "reclaim-inactive", "severity": "warning", "evidence": {"inactiveLicensedUsers": 3, "windowDays": 28, "monthlyCost": 66.0, "currency": "USD", "kind": "reassignNow"}},
    {"code": "renewal-due", "severity": "warning", "evidence": {
      "sku": "SPB", "name": "Microsoft 365 Business Premium", "subscriptionId": "s1", "kind": "reduceAtRenewal", "date": "2026-11-30", "daysLeft": 10,
      "renewalDate": "2026-11-30", "windowOpen": false, "idleSeats": 6, "monthly": 132.0, "currency": "USD", "renewalWithinDaysThreshold": 30}}
  ]
}`

func testConfig(t testing.TB) config.Config {
	t.Helper()
	cfg, err := config.FromEnv(func(k string) string {
		return map[string]string{"SKU_MONTHLY_PRICES": "SPB=22", "CURRENCY": "USD"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// checkPostedFreshness checks the dataFreshness of a customer fed only by
// posted snapshots (never collected: no collection, concealment unknown;
// its one source the snapshot of reportDate) and removes it, its times
// being the test's own.
func checkPostedFreshness(t *testing.T, doc map[string]any) {
	t.Helper()
	f, _ := doc["dataFreshness"].(map[string]any)
	srcs, _ := f["sources"].([]any)
	if f == nil || f["lastCollectedAt"] != nil || f["collectionId"] != nil || f["concealedNames"] != nil || len(srcs) != 1 {
		t.Errorf("dataFreshness %v: want never collected, one source", f)
	} else if src := srcs[0].(map[string]any); src["kind"] != "snapshot" || src["reportDate"] != reportDate || src["acceptedAt"] == nil {
		t.Errorf("dataFreshness source %v: want the snapshot of %s", src, reportDate)
	}
	delete(doc, "dataFreshness")
}

// withoutMessages checks that every recommendation has a message naming
// the customer, then blanks the messages out so that the rest of the
// document can be compared exactly.
func withoutMessages(t *testing.T, doc map[string]any, customerName string) map[string]any {
	t.Helper()
	recs, _ := doc["recommendations"].([]any)
	for _, r := range recs {
		rec := r.(map[string]any)
		msg, _ := rec["message"].(string)
		if !strings.Contains(msg, customerName) || !strings.HasSuffix(msg, ".") {
			t.Errorf("%v: message %q does not read as a sentence about %s", rec["code"], msg, customerName)
		}
		delete(rec, "message")
	}
	return doc
}

func insightsOf(t *testing.T, s *stack, tenant, customer string, query map[string]string) response {
	t.Helper()
	return s.get(t, tenant, RouteInsights, map[string]string{"customerId": customer}, query)
}

// The insights of customers ingested through the real ingestion path
// (the IngestFunction's POST route), field by field.
func TestInsightsEveryField(t *testing.T) {
	t.Parallel()
	s := newStack(t, testConfig(t))
	const tenant = "tenant-insights"
	s.post(t, tenant, "fabrikam", fabrikamEarlier(t)) // history 28 days back first
	s.postAll(t, tenant, map[string]string{"fabrikam": fabrikamSnapshot(t), "northwind": northwindSnapshot(t)})

	for _, tc := range []struct{ id, name, want string }{
		{"fabrikam", "Fabrikam Inc", fabrikamInsights28},
		{"northwind", "Northwind Traders", northwindInsights28},
	} {
		t.Run(tc.id, func(t *testing.T) {
			for _, query := range []map[string]string{nil, {"window": "28"}} {
				before := s.calls.Load()
				resp := insightsOf(t, s, tenant, tc.id, query)
				// One GetItem of the figures, one Query of the trend's
				// history point, one GetItem of the price list, one BatchGetItem
				// of the freshness (the
				// subtests run one after the other).
				if calls := s.calls.Load() - before; calls != 4 {
					t.Errorf("the insights took %d DynamoDB calls, want 4", calls)
				}
				if resp.status != http.StatusOK {
					t.Fatalf("%d %s", resp.status, resp.body)
				}
				conforms(t, RouteInsights, resp)
				got := withoutMessages(t, decode(t, resp.body), tc.name)
				checkPostedFreshness(t, got)
				if want := mustJSON(t, tc.want); !reflect.DeepEqual(got, want) {
					t.Errorf("insights %v:\n got %s\nwant %s", query, pretty(got), pretty(want))
				}
			}
		})
	}
}

// The windows change which activity counts: on 7 days only D−6…D, on 30
// days D−29…D (bob's D−28 and alice's D−27 both in).
func TestInsightsWindows(t *testing.T) {
	t.Parallel()
	s := newStack(t, testConfig(t))
	const tenant = "tenant-windows"
	s.post(t, tenant, "fabrikam", fabrikamEarlier(t))
	s.post(t, tenant, "fabrikam", fabrikamSnapshot(t))

	type wl struct {
		name                 string
		entitlements, active int
		counted              int
		usage, adjusted      any
		former, unlic, trial int
		inactiveSub          int
	}
	tests := []struct {
		window               string
		workloads            []wl
		entitlements, active int
		counted              int
		usage, adjusted      float64
		inactive             int
		codes                []string
	}{
		{
			// 7 days (≥ D−6). exchange: alice (counted), erin D−2 (inactive
			// subscription), frank D−3 (trial), gina D−4 and hal D−6 (former);
			// ivy's D−7 and jack's D−8 are out: 5 ÷ 4 = 125.0 %, 1 ÷ 4 = 25.0 %.
			// sharepoint: alice's D−27 is out: 0 ÷ 2. teams: bob D−5: 1 ÷ 4.
			// yammer: alice D−1, unlicensed. Overall 7 ÷ 10 = 70.0 %, 2 ÷ 10 =
			// 20.0 %. Inactive: carol (D−10), dan = 2. Not an upsell (70 < 80).
			window: "7",
			workloads: []wl{
				{"exchange", 4, 5, 1, 125.0, 25.0, 2, 0, 1, 1},
				{"sharepoint", 2, 0, 0, 0.0, 0.0, 0, 0, 0, 0},
				{"teams", 4, 1, 1, 25.0, 25.0, 0, 0, 0, 0},
				{"yammer", 0, 1, 0, nil, nil, 0, 1, 0, 0},
				{"skype", 0, 0, 0, nil, nil, 0, 0, 0, 0},
			},
			entitlements: 10, active: 7, counted: 2, usage: 70.0, adjusted: 20.0, inactive: 2,
			codes: []string{"heavy-how-to-demand", "reclaim-inactive", "explain-over-100", "explain-over-100", "usage-trend-up"},
		},
		{
			// 28 days (≥ D−27): alice's OneDrive D−27 counts, bob's D−28
			// does not (see fabrikamInsights28).
			window: "28",
			workloads: []wl{
				{"exchange", 4, 8, 2, 200.0, 50.0, 2, 1, 1, 2},
				{"sharepoint", 2, 1, 1, 50.0, 50.0, 0, 0, 0, 0},
				{"teams", 4, 2, 2, 50.0, 50.0, 0, 0, 0, 0},
				{"yammer", 0, 1, 0, nil, nil, 0, 1, 0, 0},
				{"skype", 0, 0, 0, nil, nil, 0, 0, 0, 0},
			},
			entitlements: 10, active: 12, counted: 5, usage: 120.0, adjusted: 50.0, inactive: 1,
			codes: []string{"heavy-how-to-demand", "upsell-candidate", "reclaim-inactive", "explain-over-100", "explain-over-100", "usage-trend-up"},
		},
		{
			// 30 days (≥ D−29): bob's D−28 is in (exchange and sharepoint),
			// and jack's D−8 and ivy's D−7 too. exchange 9 ÷ 4 = 225.0 %,
			// counted alice, bob, carol 3 ÷ 4 = 75.0 %. sharepoint 2 ÷ 2.
			// Overall 14 ÷ 10 = 140.0 %, 7 ÷ 10 = 70.0 %. Inactive: dan.
			window: "30",
			workloads: []wl{
				{"exchange", 4, 9, 3, 225.0, 75.0, 2, 1, 1, 2},
				{"sharepoint", 2, 2, 2, 100.0, 100.0, 0, 0, 0, 0},
				{"teams", 4, 2, 2, 50.0, 50.0, 0, 0, 0, 0},
				{"yammer", 0, 1, 0, nil, nil, 0, 1, 0, 0},
				{"skype", 0, 0, 0, nil, nil, 0, 0, 0, 0},
			},
			entitlements: 10, active: 14, counted: 7, usage: 140.0, adjusted: 70.0, inactive: 1,
			codes: []string{"heavy-how-to-demand", "upsell-candidate", "reclaim-inactive", "explain-over-100", "explain-over-100", "usage-trend-up"},
		},
	}
	for _, tc := range tests {
		t.Run("window="+tc.window, func(t *testing.T) {
			resp := insightsOf(t, s, tenant, "fabrikam", map[string]string{"window": tc.window})
			if resp.status != http.StatusOK {
				t.Fatalf("%d %s", resp.status, resp.body)
			}
			conforms(t, RouteInsights, resp)
			var got struct {
				WindowDays int    `json:"windowDays"`
				Band       string `json:"band"`
				Usage      struct {
					Entitlements, ActiveEntitlements, CountedActiveEntitlements int
					Percent, AdjustedPercent                                    float64
				} `json:"usage"`
				Workloads []struct {
					Workload                                                    string
					Entitlements, ActiveEntitlements, CountedActiveEntitlements int
					UsagePercent, AdjustedUsagePercent                          *float64
					UncountedActive                                             struct{ FormerLicensee, Unlicensed, Trial, InactiveSubscription int }
				} `json:"workloads"`
				InactiveLicensedUsers int                     `json:"inactiveLicensedUsers"`
				Recommendations       []struct{ Code string } `json:"recommendations"`
			}
			if err := json.Unmarshal([]byte(resp.body), &got); err != nil {
				t.Fatal(err)
			}
			if want := tc.window; want != "" && got.WindowDays != atoi(t, want) {
				t.Errorf("windowDays %d, want %s", got.WindowDays, want)
			}
			if got.Band != "high" {
				t.Errorf("band %q: the band is the 28-day one whatever the window, high", got.Band)
			}
			u := got.Usage
			if u.Entitlements != tc.entitlements || u.ActiveEntitlements != tc.active || u.CountedActiveEntitlements != tc.counted ||
				u.Percent != tc.usage || u.AdjustedPercent != tc.adjusted {
				t.Errorf("usage %+v, want %d/%d/%d %.1f %.1f", u, tc.entitlements, tc.active, tc.counted, tc.usage, tc.adjusted)
			}
			if len(got.Workloads) != len(tc.workloads) {
				t.Fatalf("%d workloads, want %d", len(got.Workloads), len(tc.workloads))
			}
			for i, w := range tc.workloads {
				g := got.Workloads[i]
				u := g.UncountedActive
				if g.Workload != w.name || g.Entitlements != w.entitlements || g.ActiveEntitlements != w.active || g.CountedActiveEntitlements != w.counted ||
					!samePercent(g.UsagePercent, w.usage) || !samePercent(g.AdjustedUsagePercent, w.adjusted) ||
					u.FormerLicensee != w.former || u.Unlicensed != w.unlic || u.Trial != w.trial || u.InactiveSubscription != w.inactiveSub {
					t.Errorf("workload %d: got %+v (usage %v, adjusted %v), want %+v", i, g, show(g.UsagePercent), show(g.AdjustedUsagePercent), w)
				}
			}
			if got.InactiveLicensedUsers != tc.inactive {
				t.Errorf("inactive licensed users %d, want %d", got.InactiveLicensedUsers, tc.inactive)
			}
			var codes []string
			for _, r := range got.Recommendations {
				codes = append(codes, r.Code)
			}
			if !slices.Equal(codes, tc.codes) {
				t.Errorf("recommendations %v, want %v", codes, tc.codes)
			}
		})
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if err := json.Unmarshal([]byte(s), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func samePercent(got *float64, want any) bool {
	if want == nil {
		return got == nil
	}
	return got != nil && *got == want.(float64)
}

func show(p *float64) string {
	if p == nil {
		return "null"
	}
	b, _ := json.Marshal(*p)
	return string(b)
}

// Bad windows are 400; an unknown customer and another tenant's customer
// are the same 404.
func TestInsightsErrors(t *testing.T) {
	t.Parallel()
	s := newStack(t, testConfig(t))
	s.post(t, "tenant-a", "fabrikam", fabrikamSnapshot(t))

	for _, w := range []string{"14", "0", "-7", "abc", "28.0", "365"} {
		resp := insightsOf(t, s, "tenant-a", "fabrikam", map[string]string{"window": w})
		if got := errorCode(t, resp); got != "400 bad_request" {
			t.Errorf("window=%s: %s %s", w, got, resp.body)
		}
		conforms(t, RouteInsights, resp)
	}
	for _, id := range []string{"bad#id", strings.Repeat("x", 129)} {
		resp := insightsOf(t, s, "tenant-a", id, nil)
		if got := errorCode(t, resp); got != "400 bad_request" {
			t.Errorf("customer id %q: %s", id, got)
		}
	}

	foreign := insightsOf(t, s, "tenant-b", "fabrikam", nil)
	unknown := insightsOf(t, s, "tenant-a", "ghost", nil)
	if foreign.status != http.StatusNotFound || unknown.status != http.StatusNotFound {
		t.Fatalf("another tenant's customer: %d %s; unknown customer: %d %s", foreign.status, foreign.body, unknown.status, unknown.body)
	}
	conforms(t, RouteInsights, foreign)
	if strings.ReplaceAll(unknown.body, "ghost", "fabrikam") != foreign.body {
		t.Errorf("another tenant's customer answers differently from an unknown one:\n%s\n%s", foreign.body, unknown.body)
	}
	// Its own tenant sees it.
	if resp := insightsOf(t, s, "tenant-a", "fabrikam", nil); resp.status != http.StatusOK {
		t.Errorf("own customer: %d %s", resp.status, resp.body)
	}
	// No tenant in the authorizer context is 401, before any data is read.
	if resp := s.get(t, "", RouteInsights, map[string]string{"customerId": "fabrikam"}, nil); resp.status != http.StatusUnauthorized {
		t.Errorf("no tenant: %d %s", resp.status, resp.body)
	}
}

// The InsightsFunction serves exactly the routes template.yaml gives it.
func TestRoutesMatchTemplate(t *testing.T) {
	var want []string
	for _, r := range devstacktest.Template().Routes() {
		if r.Function == "InsightsFunction" {
			want = append(want, r.Method+" "+r.Path)
		}
	}
	h := New(store.New(dynamodb.New(dynamodb.Options{}), "unused"), testConfig(t))
	got := h.Router().Routes()
	slices.Sort(got)
	slices.Sort(want)
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Fatalf("routes %v, template.yaml %v", got, want)
	}
}

// Usage above 100 % from each cause alone: one entitled user (alice,
// active) and one more active user whose activity is uncounted for exactly
// one reason. Exchange: 1 entitlement, 2 active, 1 counted → 200.0 %,
// adjusted 100.0 %, and the explanation names that cause.
func TestInsightsOver100EachCause(t *testing.T) {
	t.Parallel()
	s := newStack(t, testConfig(t))
	const tenant = "tenant-causes"
	d := func(n int) string { return day(t, reportDate, n) }
	alice := snapUser{Key: "alice@x.example", Licenses: holds("SPE_E3", "2024-01-01"), Workloads: map[string]snapUse{"exchange": used(true, d(0))}}
	e3 := map[string]any{"id": "s1", "sku": "SPE_E3", "name": "Microsoft 365 E3", "quantity": 1, "status": "active", "channel": "own"}
	trial := map[string]any{"id": "s2", "sku": "POWER_BI_PRO", "name": "Power BI Pro", "quantity": 5, "status": "active", "trial": true, "channel": "own"}
	tests := []struct {
		cause   string
		subs    []map[string]any
		bob     snapUser
		phrase  string
		counted map[string]float64
	}{
		{"formerLicensee", []map[string]any{e3},
			snapUser{Key: "bob@x.example", Deleted: true, Licenses: holds("SPE_E3", "2024-02-01"), Workloads: map[string]snapUse{"exchange": used(true, d(-1))}},
			"no longer hold a licence", map[string]float64{"formerLicensee": 1}},
		{"unlicensed", []map[string]any{e3},
			// bob holds E3 too (newer: not entitled) but not exchange.
			snapUser{Key: "bob@x.example", Licenses: holds("SPE_E3", "2024-02-01"), Workloads: map[string]snapUse{"exchange": used(false, d(-1))}},
			"licences do not include Exchange email", map[string]float64{"unlicensed": 1}},
		{"trial", []map[string]any{e3, trial},
			snapUser{Key: "bob@x.example", Licenses: holds("POWER_BI_PRO", "2024-02-01"), Workloads: map[string]snapUse{"exchange": used(true, d(-1))}},
			"trial licences", map[string]float64{"trial": 1}},
		{"inactiveSubscription", []map[string]any{e3},
			// bob is the second holder of one E3: over-assigned.
			snapUser{Key: "bob@x.example", Licenses: holds("SPE_E3", "2024-02-01"), Workloads: map[string]snapUse{"exchange": used(true, d(-1))}},
			"assigned beyond the quantity purchased", map[string]float64{"inactiveSubscription": 1}},
	}
	docs := map[string]string{}
	for _, tc := range tests {
		id := "cause-" + strings.ToLower(tc.cause)
		docs[id] = snapshot{
			Customer: map[string]any{"id": id, "name": "Cause " + tc.cause}, ReportDate: reportDate,
			Subscriptions: tc.subs, Users: []snapUser{alice, tc.bob},
		}.json(t)
	}
	s.postAll(t, tenant, docs)
	for _, tc := range tests {
		t.Run(tc.cause, func(t *testing.T) {
			resp := insightsOf(t, s, tenant, "cause-"+strings.ToLower(tc.cause), nil)
			if resp.status != http.StatusOK {
				t.Fatalf("%d %s", resp.status, resp.body)
			}
			conforms(t, RouteInsights, resp)
			var got struct {
				Usage     struct{ Percent, AdjustedPercent float64 }
				Workloads []struct {
					Workload                         string
					Entitlements, ActiveEntitlements int
					UsagePercent                     float64
					UncountedActive                  map[string]float64
				}
				Recommendations []struct {
					Code, Message string
					Evidence      map[string]any
				}
			}
			if err := json.Unmarshal([]byte(resp.body), &got); err != nil {
				t.Fatal(err)
			}
			ex := got.Workloads[0]
			wantUncounted := map[string]float64{"formerLicensee": 0, "unlicensed": 0, "trial": 0, "inactiveSubscription": 0}
			for k, v := range tc.counted {
				wantUncounted[k] = v
			}
			if ex.Workload != "exchange" || ex.Entitlements != 1 || ex.ActiveEntitlements != 2 || ex.UsagePercent != 200 || !reflect.DeepEqual(ex.UncountedActive, wantUncounted) {
				t.Errorf("exchange %+v, want 1 entitlement, 2 active, 200.0 %%, uncounted %v", ex, wantUncounted)
			}
			if got.Usage.Percent != 200 || got.Usage.AdjustedPercent != 100 {
				t.Errorf("usage %+v, want 200.0 and 100.0", got.Usage)
			}
			var explained bool
			for _, r := range got.Recommendations {
				if r.Code != "explain-over-100" {
					continue
				}
				explained = true
				if r.Evidence["workload"] != "exchange" || r.Evidence["dominantCause"] != tc.cause || r.Evidence["usagePercent"] != 200.0 {
					t.Errorf("evidence %v, want exchange at 200.0 %% because of %s", r.Evidence, tc.cause)
				}
				if !strings.Contains(r.Message, tc.phrase) || !strings.Contains(r.Message, "Cause "+tc.cause) {
					t.Errorf("message does not explain %s: %s", tc.cause, r.Message)
				}
			}
			if !explained {
				t.Errorf("no explain-over-100 among %+v", got.Recommendations)
			}
		})
	}
}
