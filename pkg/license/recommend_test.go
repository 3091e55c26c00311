package license

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// The thresholds of config.Default(): the documented defaults.
var defaultThresholds = Thresholds{
	LowUsagePercent: 50, LowDeploymentPercent: 70, UpsellDeploymentPercent: 90, UpsellUsagePercent: 80,
	TrendPoints: 10, HowToTicketsPer100Users: 10, MinReclaim: 1, RenewalDays: 30,
}

var recommendDate = Date(20777) // 2026-11-20

func fabrikam(products []ProductFigures, windows ...WindowFigures) *Figures {
	return &Figures{
		Customer:   Customer{ID: "fabrikam", Name: "Fabrikam Inc"},
		ReportDate: recommendDate,
		Products:   products,
		Windows:    windows,
	}
}

func e3(own, direct, assigned int, renewals ...Renewal) ProductFigures {
	return ProductFigures{SKU: "SPE_E3", Name: "Microsoft 365 E3", Sold: ChannelCounts{Own: own, Direct: direct}, Assigned: assigned, Counted: own+direct > 0, Renewals: renewals}
}

func visio(sold, assigned int, renewals ...Renewal) ProductFigures {
	return ProductFigures{SKU: "VISIOCLIENT", Name: "Visio Plan 2", Sold: ChannelCounts{Own: sold}, Assigned: assigned, Counted: sold > 0, Renewals: renewals}
}

func window(days, inactive int, workloads ...WorkloadFigures) WindowFigures {
	return WindowFigures{Days: days, Workloads: workloads, InactiveLicensedUsers: inactive}
}

// wl is a workload whose activity is all counted.
func wl(w Workload, entitlements, active int) WorkloadFigures {
	return WorkloadFigures{Workload: w, Entitlements: entitlements, Active: active, CountedActive: min(active, entitlements)}
}

func over(w Workload, entitlements, countedActive int, u Uncounted) WorkloadFigures {
	return WorkloadFigures{Workload: w, Entitlements: entitlements, Active: countedActive + u.Total(), CountedActive: countedActive, Uncounted: u}
}

type wantRec struct {
	code     string
	severity Severity
	evidence Evidence // nil: not checked
	mentions []string // substrings of the message
}

func TestRecommend(t *testing.T) {
	withThresholds := func(change func(*Thresholds)) Thresholds {
		th := defaultThresholds
		change(&th)
		return th
	}
	tests := []struct {
		name string
		in   RecommendInput
		th   Thresholds
		want []wantRec
	}{
		{
			// Deployment 100/100 = 100 %, usage 70/100 = 70 %: fine, and not
			// busy enough for an upsell (70 < 80). Nothing unassigned or idle.
			name: "healthy customer, nothing to say",
			in:   RecommendInput{Figures: fabrikam([]ProductFigures{e3(100, 0, 100)}, window(28, 0, wl(Exchange, 100, 70))), Window: 28},
			th:   defaultThresholds,
			want: nil,
		},
		{
			// Usage: (10+8+30) ÷ (40+40+40) = 48/120 = 40.0 % < 50 → low adoption.
			// Below 50 per workload: teams 8/40 = 20.0, exchange 10/40 = 25.0
			// (sharepoint 30/40 = 75.0 is not). 12 inactive licensed users ≥ 1
			// → reclaim-inactive, no prices → no money.
			name: "low adoption with idle users",
			in: RecommendInput{Figures: fabrikam([]ProductFigures{e3(40, 0, 40)},
				window(28, 12, wl(Exchange, 40, 10), wl(SharePoint, 40, 30), wl(Teams, 40, 8))), Window: 28},
			th: defaultThresholds,
			want: []wantRec{
				{CodeLowAdoption, SeverityWarning, Evidence{
					"windowDays": 28, "usagePercent": 40.0, "thresholdPercent": 50.0,
					"entitlements": 120, "activeEntitlements": 48, "inactiveLicensedUsers": 12,
					"lowestWorkloads": []Evidence{{"workload": "teams", "usagePercent": 20.0}, {"workload": "exchange", "usagePercent": 25.0}},
				}, []string{"Fabrikam Inc", "40.0%", "48 of 120", "Teams (20.0%) and Exchange email (25.0%)", "12 licensed users", "tutorials", "case studies", "testimonials"}},
				{CodeReclaimInactive, SeverityWarning, Evidence{"inactiveLicensedUsers": 12, "windowDays": 28, "kind": "reassignNow"},
					[]string{"12 licensed users of Fabrikam Inc", "28 days", "reclaimed"}},
			},
		},
		{
			// Usage exactly at the threshold is not low: 50/100 = 50.0 %.
			name: "usage at the low threshold is not low",
			in:   RecommendInput{Figures: fabrikam([]ProductFigures{e3(100, 0, 100)}, window(28, 0, wl(Exchange, 100, 50))), Window: 28},
			th:   defaultThresholds,
			want: nil,
		},
		{
			// Deployment: counted SKUs only — E3 40 of 100, Visio 5 of 5; the
			// trial-only Power BI (sold 0, 3 assigned) stays out.
			// 45 ÷ 105 = 42.857… → 42.9 % < 70 → low deployment.
			// Unassigned: E3 100−40 = 60, Visio 0 → 60 ≥ 1 → reclaim, priced
			// at 60 × 36.00 = 2,160.00 a month, 25,920.00 a year. No source
			// dates E3's subscriptions: its 60 seats are lockedUntil, none
			// reduceAtRenewal.
			// Usage 40/45 = 88.9 % is fine; no upsell (deployment low).
			name: "low deployment, unassigned licences priced",
			in: RecommendInput{
				Figures: fabrikam([]ProductFigures{
					e3(60, 40, 40), visio(5, 5),
					{SKU: "POWER_BI_PRO", Name: "Power BI Pro", Assigned: 3},
				}, window(28, 0, wl(Exchange, 45, 40))),
				Window: 28,
				Waste:  &WasteCost{Currency: "USD", MonthlyUnassigned: 2160},
			},
			th: defaultThresholds,
			want: []wantRec{
				{CodeLowDeployment, SeverityWarning, Evidence{
					"deploymentPercent": 42.9, "thresholdPercent": 70.0, "licensesSold": 105, "licensesAssigned": 45, "unassigned": 60,
				}, []string{"Fabrikam Inc has assigned 45 of the 105 licences", "42.9%", "70.0%"}},
				{CodeReclaimUnassigned, SeverityWarning, Evidence{
					"unassigned": 60, "products": []Evidence{{"sku": "SPE_E3", "name": "Microsoft 365 E3", "unassigned": 60}},
					"monthlyCost": 2160.0, "currency": "USD", "reduceAtRenewal": 0, "lockedUntil": 60,
				}, []string{"60 licences that are not assigned", "60 × Microsoft 365 E3", "USD 2,160.00 a month", "USD 25,920.00 a year", "0 can be reduced within 30 days; 60 are locked"}},
			},
		},
		{
			// Deployment 95/100 = 95.0 ≥ 90, usage 85/95 = 89.47… → 89.5 ≥ 80
			// → upsell. 5 unassigned < MinReclaim 10 → no reclaim.
			name: "upsell candidate",
			in:   RecommendInput{Figures: fabrikam([]ProductFigures{e3(100, 0, 95)}, window(28, 0, wl(Exchange, 95, 85))), Window: 28},
			th:   withThresholds(func(th *Thresholds) { th.MinReclaim = 10 }),
			want: []wantRec{{CodeUpsellCandidate, SeverityOpportunity, Evidence{
				"windowDays": 28, "deploymentPercent": 95.0, "usagePercent": 89.5,
				"deploymentThresholdPercent": 90.0, "usageThresholdPercent": 80.0, "licensesSold": 100, "licensesAssigned": 95,
			}, []string{"Fabrikam Inc has assigned 95.0% of its licences (95 of 100)", "89.5%", "new joiners"}}},
		},
		{
			// Both exactly at the upsell thresholds: 90/100 = 90.0, 72/90 = 80.0.
			name: "upsell at the thresholds",
			in:   RecommendInput{Figures: fabrikam([]ProductFigures{e3(100, 0, 90)}, window(28, 0, wl(Exchange, 90, 72))), Window: 28},
			th:   withThresholds(func(th *Thresholds) { th.MinReclaim = 20 }),
			want: []wantRec{{code: CodeUpsellCandidate, severity: SeverityOpportunity}},
		},
		{
			// Usage 799/1000 = 79.9 < 80: no upsell.
			name: "usage just under the upsell threshold",
			in:   RecommendInput{Figures: fabrikam([]ProductFigures{e3(1000, 0, 1000)}, window(28, 0, wl(Exchange, 1000, 799))), Window: 28},
			th:   defaultThresholds,
			want: nil,
		},
		{
			// 30 how-to requests in 30 days for 250 users:
			// 30 × 100 ÷ 250 = 12 per 100 users in 30 days, × 28/30 = 11.2
			// per 28 days ≥ 10 → heavy demand.
			name: "heavy how-to demand",
			in: RecommendInput{Figures: fabrikam([]ProductFigures{e3(100, 0, 100)}, window(28, 0, wl(Exchange, 100, 70))), Window: 28,
				Support: &Support{HowToTickets: 30, Tickets: 50, WindowDays: 30}, Users: 250},
			th: defaultThresholds,
			want: []wantRec{{CodeHeavyHowToDemand, SeverityOpportunity, Evidence{
				"howToTickets": 30, "tickets": 50, "supportWindowDays": 30, "users": 250,
				"howToPer100UsersPer28Days": 11.2, "thresholdPer100Users": 10.0,
			}, []string{"Fabrikam Inc's users raised 30 how-to requests in the last 30 days (of 50 support requests in all)", "11.2 per 100 users", "self-service"}}},
		},
		{
			// 25 × 100 ÷ 250 × 28/30 = 9.33… → 9.3 < 10: normal demand.
			name: "how-to demand under the threshold",
			in: RecommendInput{Figures: fabrikam([]ProductFigures{e3(100, 0, 100)}, window(28, 0, wl(Exchange, 100, 70))), Window: 28,
				Support: &Support{HowToTickets: 25, Tickets: 50, WindowDays: 30}, Users: 250},
			th:   defaultThresholds,
			want: nil,
		},
		{
			// Without the optional support figures nothing is said about demand.
			name: "no support figures",
			in:   RecommendInput{Figures: fabrikam([]ProductFigures{e3(100, 0, 100)}, window(28, 0, wl(Exchange, 100, 70))), Window: 28, Users: 250},
			th:   defaultThresholds,
			want: nil,
		},
		{
			// Over 100 % per workload, one explanation each:
			//   exchange   15 active / 14 = 107.1 %; causes former 2, trial 1,
			//              inactive subscription 1 → former licensee dominates.
			//   sharepoint 12 / 10 = 120.0 %, unlicensed 3.
			//   teams      11 / 10 = 110.0 %, trial 2 > inactive subscription 1.
			//   yammer      2 /  0 = null, inactive subscription 2.
			//   officeapps  7 /  5 = 140.0 %, former 1 = trial 1: the tie goes
			//              to the cause docs/definitions.md#figures lists first (former licensee).
			//   skype      10 / 10 = 100.0 %: not over.
			// Overall 57/49 = 116.3 %, deployment 14/14 = 100 % → upsell too.
			name: "usage above 100 %, every cause",
			in: RecommendInput{Figures: fabrikam([]ProductFigures{e3(14, 0, 14)}, window(28, 0,
				over(Exchange, 14, 11, Uncounted{FormerLicensee: 2, Trial: 1, InactiveSubscription: 1}),
				over(SharePoint, 10, 9, Uncounted{Unlicensed: 3}),
				over(Teams, 10, 8, Uncounted{Trial: 2, InactiveSubscription: 1}),
				over(Yammer, 0, 0, Uncounted{InactiveSubscription: 2}),
				wl(Skype, 10, 10),
				over("officeapps", 5, 5, Uncounted{FormerLicensee: 1, Trial: 1}),
			)), Window: 28},
			th: defaultThresholds,
			want: []wantRec{
				{code: CodeUpsellCandidate, severity: SeverityOpportunity},
				{CodeExplainOver100, SeverityInfo, Evidence{
					"workload": "exchange", "windowDays": 28, "usagePercent": 107.1, "entitlements": 14, "activeEntitlements": 15,
					"countedActiveEntitlements": 11, "dominantCause": "formerLicensee",
					"uncountedActive": Evidence{"formerLicensee": 2, "unlicensed": 0, "trial": 1, "inactiveSubscription": 1},
				}, []string{"Exchange email shows 107.1% usage at Fabrikam Inc", "15 users were active", "14 licences", "no longer hold a licence (2 active users)", "1 on trial and 1 on inactive"}},
				{CodeExplainOver100, SeverityInfo, Evidence{
					"workload": "sharepoint", "windowDays": 28, "usagePercent": 120.0, "entitlements": 10, "activeEntitlements": 12,
					"countedActiveEntitlements": 9, "dominantCause": "unlicensed",
					"uncountedActive": Evidence{"formerLicensee": 0, "unlicensed": 3, "trial": 0, "inactiveSubscription": 0},
				}, []string{"120.0%", "do not include SharePoint and OneDrive (3 active users)"}},
				{CodeExplainOver100, SeverityInfo, Evidence{
					"workload": "teams", "windowDays": 28, "usagePercent": 110.0, "entitlements": 10, "activeEntitlements": 11,
					"countedActiveEntitlements": 8, "dominantCause": "trial",
					"uncountedActive": Evidence{"formerLicensee": 0, "unlicensed": 0, "trial": 2, "inactiveSubscription": 1},
				}, []string{"110.0%", "trial licences (2 active users)"}},
				{CodeExplainOver100, SeverityInfo, Evidence{
					"workload": "yammer", "windowDays": 28, "usagePercent": nil, "entitlements": 0, "activeEntitlements": 2,
					"countedActiveEntitlements": 0, "dominantCause": "inactiveSubscription",
					"uncountedActive": Evidence{"formerLicensee": 0, "unlicensed": 0, "trial": 0, "inactiveSubscription": 2},
				}, []string{"Viva Engage (Yammer) shows activity at Fabrikam Inc although no counted licence", "not active (in grace, disabled or cancelled)"}},
				{CodeExplainOver100, SeverityInfo, Evidence{
					"workload": "officeapps", "windowDays": 28, "usagePercent": 140.0, "entitlements": 5, "activeEntitlements": 7,
					"countedActiveEntitlements": 5, "dominantCause": "formerLicensee",
					"uncountedActive": Evidence{"formerLicensee": 1, "unlicensed": 0, "trial": 1, "inactiveSubscription": 0},
				}, []string{"Officeapps shows 140.0%", "(1 active user)"}},
			},
		},
		{
			// Report date 2026-11-20, renewal window 30 days → up to 2026-12-20.
			// E3: 10 sold, 4 assigned → 6 unassigned, handed to its counted
			// subscriptions by the date a reduction reaches them: s4's date
			// (2026-11-10) is past, so it counts as undated (last); s1
			// (2026-12-01, 11 days) comes first and takes all 6 → one
			// renewal-due. s3 (grace) and s5 (expired) are not sold; s6, s7
			// and s2 get no seat. Visio 5 of 5 has nothing to reduce.
			// Overall deployment 9/15 = 60.0 % < 70 → low deployment;
			// 6 unassigned < MinReclaim 10.
			name: "renewal due: seats a reduction removes within the days",
			in: RecommendInput{Figures: fabrikam([]ProductFigures{
				e3(10, 0, 4,
					Renewal{SubscriptionID: "s4", Kind: RenewalRenews, Date: recommendDate.AddDays(-10), Quantity: 3, Status: StatusActive},
					Renewal{SubscriptionID: "s1", Kind: RenewalRenews, Date: recommendDate.AddDays(11), Quantity: 10, Status: StatusActive},
					Renewal{SubscriptionID: "s3", Kind: RenewalLapses, Date: recommendDate.AddDays(5), Quantity: 2, Status: StatusGrace},
					Renewal{SubscriptionID: "s5", Kind: RenewalLapses, Date: recommendDate.AddDays(2), Quantity: 4, Status: StatusExpired},
					Renewal{SubscriptionID: "s6", Kind: RenewalRenews, Date: recommendDate.AddDays(30), Quantity: 1, Status: StatusActive},
					Renewal{SubscriptionID: "s7", Kind: RenewalRenews, Date: recommendDate.AddDays(31), Quantity: 1, Status: StatusActive},
					Renewal{SubscriptionID: "s2", Kind: RenewalRenews, Date: recommendDate.AddDays(72), Quantity: 10, Status: StatusActive},
				),
				visio(5, 5, Renewal{SubscriptionID: "v1", Kind: RenewalRenews, Date: recommendDate.AddDays(10), Quantity: 5, Status: StatusActive}),
			}, window(28, 0, wl(Exchange, 20, 16))), Window: 28},
			th: withThresholds(func(th *Thresholds) { th.MinReclaim = 10 }),
			want: []wantRec{
				{code: CodeLowDeployment, severity: SeverityWarning},
				{CodeRenewalDue, SeverityWarning, Evidence{
					"sku": "SPE_E3", "name": "Microsoft 365 E3", "subscriptionId": "s1", "kind": "reduceAtRenewal",
					"date": "2026-12-01", "daysLeft": 11, "renewalDate": "2026-12-01", "windowOpen": false, "idleSeats": 6,
					"renewalWithinDaysThreshold": 30,
				}, []string{"Fabrikam Inc's subscription for Microsoft 365 E3 renews on 2026-12-01 (in 11 days) with 6 licences assigned to nobody", "reduce the quantity"}},
			},
		},
		{
			// Usage 10/40 = 25.0 % is low, but Visio is fully assigned: no
			// seat for a reduction to remove → no renewal-due (SPEC §10).
			name: "no renewal due without idle seats",
			in: RecommendInput{Figures: fabrikam([]ProductFigures{
				visio(5, 5, Renewal{SubscriptionID: "v1", Kind: RenewalRenews, Date: recommendDate, Quantity: 5, Status: StatusActive}),
			}, window(28, 0, wl(Exchange, 40, 10))), Window: 28},
			th: defaultThresholds,
			want: []wantRec{
				{code: CodeLowAdoption, severity: SeverityWarning},
			},
		},
		{
			// 28-day usage now 55/100 = 55.0 %, on 2026-10-23 (D−28) 72/100 =
			// 72.0 %: −17.0 points, at least 10 → trend down. The 7-day window
			// asked for does not change the trend, which is on 28 days.
			name: "usage trend down",
			in: RecommendInput{Figures: fabrikam([]ProductFigures{e3(100, 0, 100)},
				window(7, 0, wl(Exchange, 100, 30)), window(28, 0, wl(Exchange, 100, 55))), Window: 7,
				Baseline: &Baseline{Date: recommendDate.AddDays(-28), Entitlements: 100, Active: 72}},
			th: defaultThresholds,
			want: []wantRec{
				{code: CodeLowAdoption, severity: SeverityWarning}, // 7 days: 30/100 = 30.0 %
				{CodeUsageTrendDown, SeverityWarning, Evidence{
					"windowDays": 28, "usagePercent": 55.0, "reportDate": "2026-11-20", "previousUsagePercent": 72.0,
					"previousDate": "2026-10-23", "changePoints": -17.0, "thresholdPoints": 10.0,
				}, []string{"Usage at Fabrikam Inc fell from 72.0% on 2026-10-23 to 55.0% on 2026-11-20, a drop of 17.0 points in 28 days"}},
			},
		},
		{
			// 40/100 = 40.0 % on 2026-10-20 (D−31, a weekly reporter) to
			// 55.0 %: +15.0 points → trend up.
			name: "usage trend up",
			in: RecommendInput{Figures: fabrikam([]ProductFigures{e3(100, 0, 100)}, window(28, 0, wl(Exchange, 100, 55))), Window: 28,
				Baseline: &Baseline{Date: recommendDate.AddDays(-31), Entitlements: 100, Active: 40}},
			th: defaultThresholds,
			want: []wantRec{{CodeUsageTrendUp, SeverityInfo, Evidence{
				"windowDays": 28, "usagePercent": 55.0, "reportDate": "2026-11-20", "previousUsagePercent": 40.0,
				"previousDate": "2026-10-20", "changePoints": 15.0, "thresholdPoints": 10.0,
			}, []string{"rose from 40.0% on 2026-10-20 to 55.0%", "a rise of 15.0 points in 31 days"}}},
		},
		{
			// 65.0 → 55.0: exactly 10 points is a trend.
			name: "trend at the threshold",
			in: RecommendInput{Figures: fabrikam([]ProductFigures{e3(100, 0, 100)}, window(28, 0, wl(Exchange, 100, 55))), Window: 28,
				Baseline: &Baseline{Date: recommendDate.AddDays(-28), Entitlements: 100, Active: 65}},
			th:   defaultThresholds,
			want: []wantRec{{code: CodeUsageTrendDown, severity: SeverityWarning}},
		},
		{
			// 60.0 → 55.0: 5 points is no trend; a baseline with no
			// entitlements has no percentage to compare.
			name: "small change, no trend",
			in: RecommendInput{Figures: fabrikam([]ProductFigures{e3(100, 0, 100)}, window(28, 0, wl(Exchange, 100, 55))), Window: 28,
				Baseline: &Baseline{Date: recommendDate.AddDays(-28), Entitlements: 100, Active: 60}},
			th:   defaultThresholds,
			want: nil,
		},
		{
			name: "baseline without entitlements",
			in: RecommendInput{Figures: fabrikam([]ProductFigures{e3(100, 0, 100)}, window(28, 0, wl(Exchange, 100, 55))), Window: 28,
				Baseline: &Baseline{Date: recommendDate.AddDays(-28)}},
			th:   defaultThresholds,
			want: nil,
		},
		{
			// A customer with subscriptions but no users yet: no usage figure
			// (null), so nothing about usage; 10 licences bought and none
			// assigned: 0.0 % deployment and 10 unassigned.
			name: "nothing assigned yet",
			in:   RecommendInput{Figures: fabrikam([]ProductFigures{e3(10, 0, 0)}, window(28, 0, wl(Exchange, 0, 0))), Window: 28},
			th:   defaultThresholds,
			want: []wantRec{
				{code: CodeLowDeployment, severity: SeverityWarning, mentions: []string{"assigned 0 of the 10 licences", "0.0%"}},
				{code: CodeReclaimUnassigned, severity: SeverityWarning, mentions: []string{"10 licences that are not assigned", "stops paying"}},
			},
		},
		{
			name: "no figures",
			in:   RecommendInput{Window: 28},
			th:   defaultThresholds,
			want: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Recommend(tc.in, tc.th)
			if got == nil {
				t.Fatal("Recommend returned nil; want an empty list at least")
			}
			var codes, wantCodes []string
			for _, r := range got {
				codes = append(codes, r.Code)
			}
			for _, w := range tc.want {
				wantCodes = append(wantCodes, w.code)
			}
			if !reflect.DeepEqual(codes, wantCodes) {
				t.Fatalf("codes = %v, want %v", codes, wantCodes)
			}
			for i, w := range tc.want {
				r := got[i]
				if r.Severity != w.severity {
					t.Errorf("%s: severity %q, want %q", r.Code, r.Severity, w.severity)
				}
				if w.evidence != nil && !reflect.DeepEqual(r.Evidence, w.evidence) {
					t.Errorf("%s: evidence\n got %#v\nwant %#v", r.Code, r.Evidence, w.evidence)
				}
				for _, m := range w.mentions {
					if !strings.Contains(r.Message, m) {
						t.Errorf("%s: message does not mention %q:\n%s", r.Code, m, r.Message)
					}
				}
			}
			for _, r := range got {
				checkPasteable(t, r, tc.in.Figures.Customer.Name)
			}
		})
	}
}

// checkPasteable holds every message to what a partner pastes into an
// e-mail: it names the customer, is made of full sentences, carries no
// formatting accident, and its evidence is plain JSON.
func checkPasteable(t *testing.T, r Recommendation, customer string) {
	t.Helper()
	if !strings.Contains(r.Message, customer) {
		t.Errorf("%s: message does not name the customer: %s", r.Code, r.Message)
	}
	if !strings.HasSuffix(r.Message, ".") || strings.ToUpper(r.Message[:1]) != r.Message[:1] {
		t.Errorf("%s: message is not made of full sentences: %s", r.Code, r.Message)
	}
	for _, bad := range []string{"%!", "<nil>", "  ", "NaN", "Inf"} {
		if strings.Contains(r.Message, bad) {
			t.Errorf("%s: message contains %q: %s", r.Code, bad, r.Message)
		}
	}
	if _, err := json.Marshal(r); err != nil {
		t.Errorf("%s: evidence does not encode: %v", r.Code, err)
	}
}

func TestRecommendThresholdsComeFromTheCaller(t *testing.T) {
	// 60/100 = 60.0 % usage: not low by default (50) but low at 65.
	f := fabrikam([]ProductFigures{e3(100, 0, 100)}, window(28, 0, wl(Exchange, 100, 60)))
	if got := Recommend(RecommendInput{Figures: f, Window: 28}, defaultThresholds); len(got) != 0 {
		t.Fatalf("default thresholds: %v", got)
	}
	th := defaultThresholds
	th.LowUsagePercent = 65
	got := Recommend(RecommendInput{Figures: f, Window: 28}, th)
	if len(got) != 1 || got[0].Code != CodeLowAdoption || got[0].Evidence["thresholdPercent"] != 65.0 {
		t.Fatalf("LowUsagePercent 65: %+v", got)
	}
	if !strings.Contains(got[0].Message, "below the 65.0% we aim for") {
		t.Fatalf("message does not give the threshold: %s", got[0].Message)
	}
}

func TestDominantCause(t *testing.T) {
	tests := []struct {
		u     Uncounted
		cause string
		n     int
	}{
		{Uncounted{}, "", 0},
		{Uncounted{InactiveSubscription: 1}, CauseInactiveSubscription, 1},
		{Uncounted{Unlicensed: 2, Trial: 2}, CauseUnlicensed, 2},
		{Uncounted{FormerLicensee: 1, Unlicensed: 1, Trial: 1, InactiveSubscription: 1}, CauseFormerLicensee, 1},
		{Uncounted{FormerLicensee: 1, Trial: 3, InactiveSubscription: 2}, CauseTrial, 3},
	}
	for _, tc := range tests {
		cause, n := tc.u.DominantCause()
		if cause != tc.cause || n != tc.n {
			t.Errorf("%+v: DominantCause() = %q, %d; want %q, %d", tc.u, cause, n, tc.cause, tc.n)
		}
	}
}

func TestMessageNumbers(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{fmtCount(0), "0"},
		{fmtCount(999), "999"},
		{fmtCount(1000), "1,000"},
		{fmtCount(123456789), "123,456,789"},
		{fmtCount(-1234), "-1,234"},
		{fmtMoney("EUR", 1234.5), "EUR 1,234.50"},
		{fmtMoney("USD", 0.004), "USD 0.00"},
		{fmtPercent(107.14), "107.1%"},
		{fmtPlural(1, "licence", "licences"), "1 licence"},
		{fmtPlural(2500, "licence", "licences"), "2,500 licences"},
		{fmtJoinAnd([]string{"a", "b", "c"}), "a, b and c"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
