package license

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// SPEC v2 §2 deployment %: Partner Center + subscribedSkus with a 2-seat
// trial. Graph reports SPE_E3 enabled 9 and SPE_E5 enabled 2 (the trial
// inside Graph's totals); Partner Center says SPE_E3 ×9 is this partner's
// and SPE_E5 ×2 a trial. Carving leaves both Graph pseudo-subscriptions at
// 0. Users: 8 hold SPE_E3, 2 hold SPE_E5.
//
// Overall: only SPE_E3 has sold > 0 → 8 ÷ 9 = 88.9 %. Version 1 let the
// carved SPE_E5 (active, non-trial, quantity 0) into the figure: (8 + 2) ÷
// 9 = 111.1 %.
func TestDeploymentLeavesCarvedTrialOut(t *testing.T) {
	at := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	subs := CombineSubscriptions(Sources{
		SubscribedSkus: &SubscriptionSet{AcceptedAt: at, Subscriptions: []Subscription{
			{ID: "e3/enabled", SKU: "SPE_E3", Quantity: 9, Status: StatusActive, Channel: ChannelUnknown},
			{ID: "e5/enabled", SKU: "SPE_E5", Quantity: 2, Status: StatusActive, Channel: ChannelUnknown},
		}},
		PartnerCenter: &SubscriptionSet{AcceptedAt: at, Subscriptions: []Subscription{
			{ID: "pc-e3", SKU: "SPE_E3", Quantity: 9, Status: StatusActive, Channel: ChannelOwn},
			{ID: "pc-e5", SKU: "SPE_E5", Quantity: 2, Status: StatusActive, Trial: true, Channel: ChannelOwn},
		}},
	})
	var users []User
	for i := range 8 {
		users = append(users, newUser(fmt.Sprintf("e3-%d", i), holdsSKU("SPE_E3", NoDate)))
	}
	users = append(users, newUser("e5-a", holdsSKU("SPE_E5", NoDate)), newUser("e5-b", holdsSKU("SPE_E5", NoDate)))
	f := Compute(Input{ReportDate: dayD, Subscriptions: subs, Users: users}).Figures

	d := f.Deployment()
	if d.Sold.Total() != 9 || d.Assigned != 8 || d.Unassigned != 1 {
		t.Errorf("deployment sold %d assigned %d unassigned %d, want 9, 8, 1", d.Sold.Total(), d.Assigned, d.Unassigned)
	}
	if p := Percent(d.Assigned, d.Sold.Total()); p == nil || *p != 88.9 {
		t.Errorf("deployment %% = %v, want 88.9", showPercent(p))
	}
	e5 := productOf(t, f, "SPE_E5")
	if e5.Counted || e5.Sold.Total() != 0 || e5.Assigned != 2 {
		t.Errorf("SPE_E5 = %+v, want listed with 2 assigned, sold 0, out of the overall figure", e5)
	}
}

// SPEC v2 §2 unassigned: per SKU max(0, sold − assigned), overall the sum
// over the SKUs in the overall figure. SPE_E3 sold 5, assigned 8 (over by
// 3) → 0; O365_BUSINESS_PREMIUM sold 10, assigned 4 → 6; VISIOCLIENT trial
// only (sold 0), assigned 1 → out. Overall unassigned 0 + 6 = 6, not
// 15 − 12 = 3; deployment 12 ÷ 15 = 80 %.
func TestUnassignedIsNeverOffset(t *testing.T) {
	subs := []Subscription{
		paidSub("a", "SPE_E3", 5, ChannelOwn),
		paidSub("b", "O365_BUSINESS_PREMIUM", 10, ChannelDirect),
		newSub("c", "VISIOCLIENT", 3, StatusActive, true, ChannelOwn),
	}
	var users []User
	for i := range 8 {
		users = append(users, newUser(fmt.Sprintf("e3-%d", i), holdsSKU("SPE_E3", NoDate)))
	}
	for i := range 4 {
		users = append(users, newUser(fmt.Sprintf("bp-%d", i), holdsSKU("O365_BUSINESS_PREMIUM", NoDate)))
	}
	users = append(users, newUser("visio", holdsSKU("VISIOCLIENT", NoDate)))
	f := Compute(Input{ReportDate: dayD, Subscriptions: subs, Users: users}).Figures
	d := f.Deployment()
	if d.Unassigned != 6 || d.Sold.Total() != 15 || d.Assigned != 12 {
		t.Errorf("deployment = %+v, want sold 15, assigned 12, unassigned 6", d)
	}
	for sku, want := range map[string]int{"SPE_E3": 0, "O365_BUSINESS_PREMIUM": 6, "VISIOCLIENT": 0} {
		if got := productOf(t, f, sku).Unassigned(); got != want {
			t.Errorf("%s unassigned %d, want %d", sku, got, want)
		}
	}
}

// SPEC v2 §2 renewal, worked row by row with D = dayD (2026-11-20).
func TestRenewalOf(t *testing.T) {
	off, on := false, true
	after, before := dayD.AddDays(40), dayD.AddDays(-1)
	sub := func(status Status, trial bool, date Date, auto *bool) Subscription {
		return Subscription{ID: "s", SKU: "SPE_E3", Quantity: 5, Status: status, Trial: trial, RenewalDate: date, AutoRenew: auto}
	}
	tests := []struct {
		name string
		s    Subscription
		want RenewalKind // "" = not listed
	}{
		{"active, auto-renew unknown", sub(StatusActive, false, after, nil), RenewalRenews},
		{"active, auto-renew on", sub(StatusActive, false, after, &on), RenewalRenews},
		{"active, auto-renew off", sub(StatusActive, false, after, &off), RenewalLapses},
		{"active on D itself", sub(StatusActive, false, dayD, nil), RenewalRenews},
		{"active, date before D", sub(StatusActive, false, before, nil), ""},
		{"grace", sub(StatusGrace, false, after, nil), RenewalLapses},
		{"disabled", sub(StatusDisabled, false, after, &on), RenewalLapses},
		{"trial", sub(StatusActive, true, after, &on), RenewalTrialEnds},
		{"suspended", sub(StatusSuspended, false, after, nil), ""},
		{"cancelled", sub(StatusCancelled, false, after, nil), ""},
		{"deleted", sub(StatusDeleted, false, after, nil), ""},
		{"expired", sub(StatusExpired, false, after, nil), ""},
		{"pending", func() Subscription { s := sub(StatusDisabled, false, after, nil); s.Pending = true; return s }(), ""},
		{"no date", sub(StatusActive, false, NoDate, nil), ""},
	}
	for _, tt := range tests {
		r, ok := RenewalOf(tt.s, dayD)
		if got := map[bool]RenewalKind{true: r.Kind}[ok]; got != tt.want {
			t.Errorf("%s: kind %q (listed %v), want %q", tt.name, got, ok, tt.want)
		}
	}
	// The Partner Center fields travel with the renewal.
	s := sub(StatusActive, false, after, &off)
	s.TermDuration, s.BillingCycle, s.CancellableUntil = "P1Y", "monthly", dayD.AddDays(3)
	r, _ := RenewalOf(s, dayD)
	if r.TermDuration != "P1Y" || r.BillingCycle != "monthly" || r.CancellableUntil != dayD.AddDays(3) || r.AutoRenew == nil || *r.AutoRenew || r.Quantity != 5 {
		t.Errorf("renewal %+v lost Partner Center's fields", r)
	}
}

// SPEC v2 §2 excluded product, worked by hand.
//
// Subscriptions: SPE_E3 10 (own), FLOW_FREE 10,000 (on the default list),
// SHAREPOINTSTORAGE 50 company-level (appliesTo Company; it is also on the
// default list, so the reason is free), CONTOSO_STORAGE 20 appliesTo
// Company (reason company), POWER_BI_PRO 5 configured in EXCLUDED_SKUS,
// STREAM 1 taken off the list by INCLUDED_SKUS (so it counts).
// Users (all exchange-licensed, D − 1 activity unless said):
//
//	a: SPE_E3 + FLOW_FREE, active          → entitled (SPE_E3)
//	b: SPE_E3, inactive                    → entitled, inactive licensed user
//	c: FLOW_FREE only, active in exchange  → holds no licence: formerLicensee
//	d: POWER_BI_PRO only, active           → formerLicensee
//	e: STREAM, active                      → entitled (STREAM is included)
//
// Deployment: SPE_E3 2 of 10, STREAM 1 of 1 → 3 ÷ 11 = 27.3 %; unassigned
// 8 + 0 = 8 (not 10,000-odd). Exchange: entitlements 3 (a, b, e); active 4
// (a, c, d, e): counted 2, formerLicensee 2. Inactive licensed users: b.
// Excluded: CONTOSO_STORAGE 20/0 company, FLOW_FREE 10000/2 free,
// POWER_BI_PRO 5/1 configured, SHAREPOINTSTORAGE 50/0 free.
func TestExcludedProducts(t *testing.T) {
	company := func(s Subscription) Subscription { s.Company = true; return s }
	subs := []Subscription{
		paidSub("e3", "SPE_E3", 10, ChannelOwn),
		paidSub("flow", "FLOW_FREE", 10000, ChannelUnknown),
		company(paidSub("spst", "SHAREPOINTSTORAGE", 50, ChannelUnknown)),
		company(paidSub("cst", "CONTOSO_STORAGE", 20, ChannelUnknown)),
		paidSub("pbi", "POWER_BI_PRO", 5, ChannelOwn),
		paidSub("stream", "STREAM", 1, ChannelOwn),
	}
	yesterday := beforeD(1)
	users := []User{
		newUser("a", holdsSKU("SPE_E3", NoDate), holdsSKU("FLOW_FREE", NoDate), usesWorkload(Exchange, true, yesterday)),
		newUser("b", holdsSKU("SPE_E3", NoDate), usesWorkload(Exchange, true, NoDate)),
		newUser("c", holdsSKU("FLOW_FREE", NoDate), usesWorkload(Exchange, true, yesterday)),
		newUser("d", holdsSKU("POWER_BI_PRO", NoDate), usesWorkload(Exchange, true, yesterday)),
		newUser("e", holdsSKU("STREAM", NoDate), usesWorkload(Exchange, true, yesterday)),
	}
	r := Compute(Input{ReportDate: dayD, Subscriptions: subs, Users: users,
		Exclusions: NewExclusions([]string{"power_bi_pro"}, []string{"Stream"})})
	f := r.Figures

	var skus []string
	for _, p := range f.Products {
		skus = append(skus, p.SKU)
	}
	if fmt.Sprint(skus) != "[SPE_E3 STREAM]" {
		t.Errorf("products %v, want [SPE_E3 STREAM]: excluded products are in no figure", skus)
	}
	d := f.Deployment()
	if d.Sold.Total() != 11 || d.Assigned != 3 || d.Unassigned != 8 {
		t.Errorf("deployment %+v, want sold 11, assigned 3, unassigned 8", d)
	}
	if p := Percent(d.Assigned, d.Sold.Total()); p == nil || *p != 27.3 {
		t.Errorf("deployment %% %s, want 27.3", showPercent(p))
	}
	ex := workloadOf(t, f, 28, Exchange)
	if ex.Entitlements != 3 || ex.Active != 4 || ex.CountedActive != 2 || ex.Uncounted != (Uncounted{FormerLicensee: 2}) {
		t.Errorf("exchange %+v, want 3 entitlements, 4 active, 2 counted, 2 formerLicensee", ex)
	}
	if w, _ := f.Window(28); w.InactiveLicensedUsers != 1 {
		t.Errorf("inactive licensed users %d, want 1 (b)", w.InactiveLicensedUsers)
	}
	if got := fmt.Sprint(entitledKeys(users, r)); got != "[a b e]" {
		t.Errorf("entitled %s, want [a b e]", got)
	}
	want := []ExcludedProduct{
		{SKU: "CONTOSO_STORAGE", Name: "CONTOSO_STORAGE", Quantity: 20, Assigned: 0, Reason: ExcludedCompany},
		{SKU: "FLOW_FREE", Name: "FLOW_FREE", Quantity: 10000, Assigned: 2, Reason: ExcludedFree},
		{SKU: "POWER_BI_PRO", Name: "POWER_BI_PRO", Quantity: 5, Assigned: 1, Reason: ExcludedConfigured},
		{SKU: "SHAREPOINTSTORAGE", Name: "SHAREPOINTSTORAGE", Quantity: 50, Assigned: 0, Reason: ExcludedFree},
	}
	if fmt.Sprint(f.Excluded) != fmt.Sprint(want) {
		t.Errorf("excluded\n got %+v\nwant %+v", f.Excluded, want)
	}

	// The portfolio lists them apart, summed; removing the customer again
	// leaves none.
	var p Portfolio
	p.Add(&f)
	p.Add(&f)
	if len(p.Excluded) != 4 || p.Excluded[1].Quantity != 20000 || p.Excluded[1].Assigned != 4 {
		t.Errorf("portfolio excluded %+v, want FLOW_FREE 20000 / 4", p.Excluded)
	}
	p.Sub(&f)
	p.Sub(&f)
	if p.Excluded != nil {
		t.Errorf("portfolio excluded after removing every customer: %+v", p.Excluded)
	}
}

// SPEC v2 §2 workload: retired workloads (default skype). SPE_E3 sold 4;
// four users licensed for exchange and skype, D − 1 activity where said:
//
//	a: exchange active        d: exchange active
//	b: skype active only      c: active nowhere
//
// Exchange 2 of 4 = 50 %; skype 1 of 4 = 25 %, reported but retired.
// Overall usage: exchange only, 2 ÷ 4 = 50.0 % (counting skype: 3 ÷ 8 =
// 37.5 %). Inactive licensed users: b and c = 2 (skype activity does not
// make b active; counting skype: 1).
func TestRetiredWorkloads(t *testing.T) {
	y := beforeD(1)
	users := []User{
		newUser("a", holdsSKU("SPE_E3", NoDate), usesWorkload(Exchange, true, y), usesWorkload(Skype, true, NoDate)),
		newUser("b", holdsSKU("SPE_E3", NoDate), usesWorkload(Exchange, true, NoDate), usesWorkload(Skype, true, y)),
		newUser("c", holdsSKU("SPE_E3", NoDate), usesWorkload(Exchange, true, NoDate), usesWorkload(Skype, true, NoDate)),
		newUser("d", holdsSKU("SPE_E3", NoDate), usesWorkload(Exchange, true, y), usesWorkload(Skype, true, NoDate)),
	}
	subs := []Subscription{paidSub("s", "SPE_E3", 4, ChannelOwn)}
	for _, tt := range []struct {
		name     string
		retired  []Workload
		usage    float64
		inactive int
	}{
		{"default: skype retired", nil, 50.0, 2},
		{"RETIRED_WORKLOADS=none", []Workload{}, 37.5, 1},
	} {
		f := Compute(Input{ReportDate: dayD, Subscriptions: subs, Users: users, RetiredWorkloads: tt.retired}).Figures
		w, _ := f.Window(28)
		u := w.Usage()
		if p := Percent(u.Active, u.Entitlements); p == nil || *p != tt.usage {
			t.Errorf("%s: usage %s, want %.1f", tt.name, showPercent(p), tt.usage)
		}
		if w.InactiveLicensedUsers != tt.inactive {
			t.Errorf("%s: inactive licensed users %d, want %d", tt.name, w.InactiveLicensedUsers, tt.inactive)
		}
		sk := workloadOf(t, f, 28, Skype)
		if sk.Entitlements != 4 || sk.Active != 1 || sk.Retired != (tt.retired == nil) {
			t.Errorf("%s: skype %+v, want 4 entitlements, 1 active, still reported", tt.name, sk)
		}
	}
}

// A retired workload draws no recommendation: exchange 10 entitlements, 4
// active (40 % < 50 → low adoption); skype 10 entitlements, 0 active, and
// over 100 % would be ignored too. Overall usage is exchange's 40.0 % (not
// 4 ÷ 20 = 20 %), and the lowest workloads name exchange only — never "train
// them on Skype for Business".
func TestRetiredWorkloadDrawsNoRecommendation(t *testing.T) {
	skype := WorkloadFigures{Workload: Skype, Entitlements: 10, Retired: true}
	f := fabrikam([]ProductFigures{e3(10, 0, 10)}, window(28, 0, wl(Exchange, 10, 4), skype))
	recs := Recommend(RecommendInput{Figures: f, Window: 28}, defaultThresholds)
	found := false
	for _, r := range recs {
		if strings.Contains(strings.ToLower(r.Message), "skype") {
			t.Errorf("%s mentions Skype: %s", r.Code, r.Message)
		}
		if r.Code == CodeLowAdoption {
			found = true
			if r.Evidence["usagePercent"] != 40.0 || fmt.Sprint(r.Evidence["lowestWorkloads"]) != "[map[usagePercent:40 workload:exchange]]" {
				t.Errorf("low adoption evidence %v, want usage 40 and exchange only", r.Evidence)
			}
		}
	}
	if !found {
		t.Errorf("no low-adoption recommendation in %+v", recs)
	}
}
