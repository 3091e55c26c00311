package ingest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/source"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

// Tailspin's documents, shaped exactly as Microsoft returns them.
//
// The active user detail report (period D7): UTF-8 BOM, CRLF line ends, the
// "Report Period" column Graph adds, concealed (upper-case hex) user names,
// product names joined by "+", one of which ("ENTERPRISE MOBILITY +
// SECURITY E5") holds " + " itself, one ("WINDOWS 10/11 ENTERPRISE E3")
// Microsoft gives to two products, one ("CONTOSO MYSTERY SUITE") it does not
// know.
const tailspinReport = "\ufeffReport Refresh Date,User Principal Name,Display Name,Is Deleted,Deleted Date," +
	"Has Exchange License,Has OneDrive License,Has SharePoint License,Has Skype For Business License,Has Yammer License,Has Teams License," +
	"Exchange Last Activity Date,OneDrive Last Activity Date,SharePoint Last Activity Date,Skype For Business Last Activity Date,Yammer Last Activity Date,Teams Last Activity Date," +
	"Exchange License Assign Date,OneDrive License Assign Date,SharePoint License Assign Date,Skype For Business License Assign Date,Yammer License Assign Date,Teams License Assign Date," +
	"Assigned Products,Report Period\r\n" +
	// u1: E3, exchange active 11-19.
	"2026-11-20,0A1B2C3D4E5F60718293A4B5C6D7E8F9,0A1B2C3D4E5F60718293A4B5C6D7E8F9,False,,True,False,False,True,False,False,2026-11-19,,,,,,2025-01-01,,,2025-01-01,,,MICROSOFT 365 E3,7\r\n" +
	// u2: E3, active only in Skype for Business (retired) 11-18.
	"2026-11-20,1B2C3D4E5F60718293A4B5C6D7E8F90A,1B2C3D4E5F60718293A4B5C6D7E8F90A,False,,True,False,False,True,False,False,,,,2026-11-18,,,2025-02-01,,,2025-02-01,,,MICROSOFT 365 E3,7\r\n" +
	// u3: Windows only (no Exchange licence), active in Exchange 11-19.
	"2026-11-20,2C3D4E5F60718293A4B5C6D7E8F90A1B,2C3D4E5F60718293A4B5C6D7E8F90A1B,False,,False,False,False,False,False,False,2026-11-19,,,,,,,,,,,,WINDOWS 10/11 ENTERPRISE E3,7\r\n" +
	// u4: Power Automate Free only, active in Exchange 11-19.
	"2026-11-20,3D4E5F60718293A4B5C6D7E8F90A1B2C,3D4E5F60718293A4B5C6D7E8F90A1B2C,False,,False,False,False,False,False,False,2026-11-19,,,,,,,,,,,,MICROSOFT POWER AUTOMATE FREE,7\r\n" +
	// u5: E5 (a trial), exchange active 11-17.
	"2026-11-20,4E5F60718293A4B5C6D7E8F90A1B2C3D,4E5F60718293A4B5C6D7E8F90A1B2C3D,False,,True,False,False,False,False,False,2026-11-17,,,,,,2026-11-01,,,,,,MICROSOFT 365 E5,7\r\n" +
	// u6: E3 + Power Automate Free + EMS E5, exchange active 11-20.
	"2026-11-20,5F60718293A4B5C6D7E8F90A1B2C3D4E,5F60718293A4B5C6D7E8F90A1B2C3D4E,False,,True,False,False,True,False,False,2026-11-20,,,,,,2025-03-01,,,2025-03-01,,,MICROSOFT 365 E3+MICROSOFT POWER AUTOMATE FREE+ENTERPRISE MOBILITY + SECURITY E5,7\r\n" +
	// u7: a product nobody knows, no activity.
	"2026-11-20,60718293A4B5C6D7E8F90A1B2C3D4E5F,60718293A4B5C6D7E8F90A1B2C3D4E5F,False,,False,False,False,False,False,False,,,,,,,,,,,,,CONTOSO MYSTERY SUITE,7\r\n"

// Graph subscribedSkus as returned (@odata.context, skuId, appliesTo,
// prepaidUnits): the tenant spells WIN10_VDA_E3 as Win10_VDA_E3; SPE_E3's
// 10 and SPE_E5's 2 are totals over every channel (SPE_E5 is the trial);
// FLOW_FREE's 10,000 and the storage add-on (appliesTo Company) are no sales.
const tailspinSkus = `{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#subscribedSkus",
 "value": [
  {"accountName": "Tailspin", "accountId": "a1", "appliesTo": "User", "capabilityStatus": "Enabled", "consumedUnits": 1,
   "id": "t_6a0f6da5", "skuId": "6a0f6da5-0b87-4190-a6ae-9bb5a2b9546a", "skuPartNumber": "Win10_VDA_E3",
   "prepaidUnits": {"enabled": 5, "suspended": 0, "warning": 0, "lockedOut": 0}, "servicePlans": []},
  {"appliesTo": "User", "capabilityStatus": "Enabled", "consumedUnits": 3, "skuId": "05e9a617-0261-4cee-bb44-138d3ef5d965", "skuPartNumber": "SPE_E3",
   "prepaidUnits": {"enabled": 10, "suspended": 0, "warning": 0, "lockedOut": 0}},
  {"appliesTo": "User", "capabilityStatus": "Enabled", "consumedUnits": 1, "skuId": "06ebc4ee-1bb5-47dd-8120-11324bc54e06", "skuPartNumber": "SPE_E5",
   "prepaidUnits": {"enabled": 2, "suspended": 0, "warning": 0, "lockedOut": 0}},
  {"appliesTo": "User", "capabilityStatus": "Enabled", "consumedUnits": 2, "skuId": "f30db892-07e9-47e9-837c-80727f46fd3d", "skuPartNumber": "FLOW_FREE",
   "prepaidUnits": {"enabled": 10000, "suspended": 0, "warning": 0, "lockedOut": 0}},
  {"appliesTo": "Company", "capabilityStatus": "Enabled", "consumedUnits": 0, "skuId": "99049c9c-6011-4908-bf17-15f496e6519d", "skuPartNumber": "SHAREPOINTSTORAGE",
   "prepaidUnits": {"enabled": 10, "suspended": 0, "warning": 0, "lockedOut": 0}}]}`

// Partner Center's subscriptions as two pages sent as one document: the
// envelope with totalCount, links (next with a continuation token) and
// attributes, dates with 7-digit fractional seconds.
const tailspinPartnerCenter = `{"totalCount": 1, "items": [
  {"id": "9F1A2B3C-0000-4000-8000-000000000001", "offerId": "CFQ7TTC0LFLZ:0002", "offerName": "Microsoft 365 E3", "quantity": 8,
   "unitType": "Licenses", "creationDate": "2025-01-31T09:12:44.1234567Z", "commitmentEndDate": "2027-01-31T00:00:00.0000000Z",
   "status": "active", "autoRenewEnabled": true, "isTrial": false, "billingType": "license", "billingCycle": "monthly", "termDuration": "P1Y",
   "suspensionReasons": [], "attributes": {"etag": "e1", "objectType": "Subscription"}}],
 "links": {"next": {"uri": "/v1/customers/tailspin/subscriptions?size=1", "method": "GET", "headers": [{"key": "MS-ContinuationToken", "value": "W3sidG9rZW4i"}]}},
 "attributes": {"objectType": "Collection"}}
{"totalCount": 1, "items": [
  {"id": "9f1a2b3c-0000-4000-8000-000000000002", "offerId": "CFQ7TTC0LFK5:0001", "offerName": "Microsoft 365 E5", "quantity": 2,
   "commitmentEndDate": "2026-12-20T00:00:00.0000000Z", "status": "active", "autoRenewEnabled": false, "isTrial": true,
   "billingCycle": "none", "attributes": {"objectType": "Subscription"}}],
 "links": {"self": {"uri": "/v1/customers/tailspin/subscriptions", "method": "GET", "headers": []}},
 "attributes": {"objectType": "Collection"}}`

// Worked by hand (D = 2026-11-20, 28 days: active when last > 10-23):
//
// Subscriptions: Win10_VDA_E3 5 (unknown channel); SPE_E3 Graph 10 − Partner
// Center 8 = 2 unknown + 8 own; SPE_E5 Graph 2 − the 2-seat trial = 0, plus
// the trial (sold 0: out of the overall figure); FLOW_FREE and
// SHAREPOINTSTORAGE excluded (free).
// Products: EMSPREMIUM 0 sold / 1 assigned; SPE_E3 10 / 3 (u1, u2, u6);
// SPE_E5 0 / 1; Win10_VDA_E3 5 / 1 (u3: the shared name settled by the
// tenant's own SKU); CONTOSO MYSTERY SUITE 0 / 1, unknownProduct.
// Deployment: (3 + 1) ÷ (10 + 5) = 26.7 %, own 8, unknown 7; unassigned
// 7 + 4 = 11. Version 1: the carved SPE_E5 counted (5 ÷ 15) and FLOW_FREE's
// 10,000 were sold.
// Entitled: u1, u2, u6 (SPE_E3) and u3 (Win10).
// Exchange: entitlements u1, u2, u6 = 3; active u1, u3, u4, u5, u6 = 5 →
// 166.7 %; counted u1, u6 = 2; uncounted: u4 formerLicensee (holds only a
// free product), u3 unlicensed (holds Windows, no Exchange licence), u5
// trial. Skype (retired): 3 entitlements, 1 active (u2), out of the overall
// figure. Overall usage 5 ÷ 3 = 166.7 %, adjusted 2 ÷ 3 = 66.7 %.
// Inactive licensed users: u2 (active only in Skype) = 1.
// Excluded: FLOW_FREE 10000 / 2 (u4, u6) free; SHAREPOINTSTORAGE 10 / 0 free.
// Renewals: SPE_E3 renews 2027-01-31 (auto-renew, P1Y, monthly); SPE_E5
// trialEnds 2026-12-20.
func TestMicrosoftShapedDocuments(t *testing.T) {
	f := newFixture(t)
	// The report first: without the tenant's SKUs its shared name lands on
	// the first product of that name, and is settled once they arrive.
	f.mustIngest(t, source.KindActiveUserDetail, []byte(tailspinReport), t0)
	if got := skusOf(rowsOf(t, f)["2C3D4E5F60718293A4B5C6D7E8F90A1B"]); !slices.Equal(got, []string{"WIN10_PRO_ENT_SUB"}) {
		t.Errorf("before the SKUs: u3 holds %v, want [WIN10_PRO_ENT_SUB]", got)
	}
	f.mustIngest(t, source.KindSubscribedSkus, []byte(tailspinSkus), t0.Add(1))
	f.mustIngest(t, source.KindPartnerCenterSubs, []byte(tailspinPartnerCenter), t0.Add(2))
	// Known only from Graph: named by its organization, never by its id.
	f.mustIngest(t, "", []byte(`{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#organization",
 "value": [{"id": "6F9A0C1E-1111-4222-8333-944455556666", "displayName": "Tailspin Toys",
  "verifiedDomains": [{"isDefault": true, "isInitial": false, "name": "tailspintoys.com", "type": "Managed"}]}]}`), t0.Add(3))

	fig := figuresOf(t, f).Figures
	if fig.Customer.Name != "Tailspin Toys" || fig.Customer.TenantID != "6f9a0c1e-1111-4222-8333-944455556666" {
		t.Errorf("customer %+v, want Tailspin Toys with its tenant id", fig.Customer)
	}
	got := map[string]string{}
	for _, p := range fig.Products {
		got[p.SKU] = fmt.Sprintf("%d/%d counted=%v unknown=%v", p.Sold.Total(), p.Assigned, p.Counted, p.UnknownProduct)
	}
	want := map[string]string{
		"EMSPREMIUM":            "0/1 counted=false unknown=false",
		"SPE_E3":                "10/3 counted=true unknown=false",
		"SPE_E5":                "0/1 counted=false unknown=false",
		"Win10_VDA_E3":          "5/1 counted=true unknown=false",
		"CONTOSO MYSTERY SUITE": "0/1 counted=false unknown=true",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("products\n got %v\nwant %v", got, want)
	}
	d := fig.Deployment()
	if d.Sold != (license.ChannelCounts{Own: 8, Unknown: 7}) || d.Assigned != 4 || d.Unassigned != 11 {
		t.Errorf("deployment %+v, want own 8 unknown 7, assigned 4, unassigned 11", d)
	}
	if p := license.Percent(d.Assigned, d.Sold.Total()); pct(p) != "26.7" {
		t.Errorf("deployment %s %%, want 26.7", pct(p))
	}
	w, _ := fig.Window(28)
	var ex, sk license.WorkloadFigures
	for _, x := range w.Workloads {
		switch x.Workload {
		case license.Exchange:
			ex = x
		case license.Skype:
			sk = x
		}
	}
	if ex.Entitlements != 3 || ex.Active != 5 || ex.CountedActive != 2 || ex.Uncounted != (license.Uncounted{FormerLicensee: 1, Unlicensed: 1, Trial: 1}) {
		t.Errorf("exchange %+v", ex)
	}
	if sk.Entitlements != 3 || sk.Active != 1 || !sk.Retired {
		t.Errorf("skype %+v, want 3 entitlements, 1 active, retired", sk)
	}
	u := w.Usage()
	if pct(license.Percent(u.Active, u.Entitlements)) != "166.7" || pct(license.Percent(u.CountedActive, u.Entitlements)) != "66.7" || w.InactiveLicensedUsers != 1 {
		t.Errorf("usage %+v inactive %d, want 166.7 %%, adjusted 66.7 %%, 1 inactive", u, w.InactiveLicensedUsers)
	}
	if fmt.Sprint(fig.Excluded) != "[{FLOW_FREE Microsoft Power Automate Free 10000 2 free} {SHAREPOINTSTORAGE Office 365 Extra File Storage 10 0 free}]" {
		t.Errorf("excluded %+v", fig.Excluded)
	}
	var renewals []string
	for _, p := range fig.Products {
		for _, r := range p.Renewals {
			auto := "?"
			if r.AutoRenew != nil {
				auto = fmt.Sprint(*r.AutoRenew)
			}
			renewals = append(renewals, fmt.Sprintf("%s %s %s %d auto=%s %s %s", p.SKU, r.Kind, r.Date, r.Quantity, auto, r.TermDuration, r.BillingCycle))
		}
	}
	if want := "[SPE_E3 renews 2027-01-31 8 auto=true P1Y monthly SPE_E5 trialEnds 2026-12-20 2 auto=false  none]"; fmt.Sprint(renewals) != want {
		t.Errorf("renewals %v\nwant %s", renewals, want)
	}
	// The stored users (what the users export writes) carry part numbers.
	rows := rowsOf(t, f)
	if got := skusOf(rows["2C3D4E5F60718293A4B5C6D7E8F90A1B"]); fmt.Sprint(got) != "[Win10_VDA_E3]" {
		t.Errorf("u3 holds %v, want [Win10_VDA_E3]", got)
	}
	if got := skusOf(rows["5F60718293A4B5C6D7E8F90A1B2C3D4E"]); fmt.Sprint(got) != "[SPE_E3 FLOW_FREE EMSPREMIUM]" {
		t.Errorf("u6 holds %v, want [SPE_E3 FLOW_FREE EMSPREMIUM]", got)
	}
}

func skusOf(r store.UserRow) []string {
	var out []string
	for _, l := range r.User.Licenses {
		out = append(out, l.SKU)
	}
	return out
}

// Figures stored under older rules are brought up to today's by Recompute,
// from the kept documents alone. Tailspin is ingested by a service that
// still counts Skype for Business (as version 1 did): overall usage (5 + 1)
// ÷ (3 + 3) = 100.0 %, no inactive licensed user (u2's Skype activity
// counted). Recompute under the defaults gives the version 2 figures of
// TestMicrosoftShapedDocuments: 166.7 %, 1 inactive licensed user; the
// version moves on by one and the headline (SUMMARY) follows.
func TestRecomputeBringsStoredFiguresUpToDate(t *testing.T) {
	f := newFixture(t)
	old := New(f.store, Config{RetiredWorkloads: []license.Workload{}})
	for i, doc := range []struct {
		kind source.Kind
		body string
	}{{source.KindActiveUserDetail, tailspinReport}, {source.KindSubscribedSkus, tailspinSkus}, {source.KindPartnerCenterSubs, tailspinPartnerCenter}} {
		if _, err := old.Ingest(t.Context(), Request{Tenant: partner, CustomerID: customer, Kind: doc.kind, Body: strings.NewReader(doc.body), Now: t0.Add(time.Duration(i))}); err != nil {
			t.Fatal(err)
		}
	}
	before := figuresOf(t, f)
	if s := summaryOf(t, f); pct(s.UsagePercent) != "100.0" || s.InactiveLicensedUsers != 0 {
		t.Fatalf("before: usage %s, inactive %d; want 100.0 and 0", pct(s.UsagePercent), s.InactiveLicensedUsers)
	}
	version, err := f.svc.Recompute(t.Context(), partner, customer, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if version != before.Version+1 {
		t.Errorf("version %d, want %d", version, before.Version+1)
	}
	if s := summaryOf(t, f); pct(s.UsagePercent) != "166.7" || s.InactiveLicensedUsers != 1 || s.Unassigned != 11 {
		t.Errorf("after: usage %s, inactive %d, unassigned %d; want 166.7, 1, 11", pct(s.UsagePercent), s.InactiveLicensedUsers, s.Unassigned)
	}
	if got := len(rowsOf(t, f)); got != 7 {
		t.Errorf("%d users after recomputing, want the 7 kept", got)
	}
	if _, err := f.svc.Recompute(t.Context(), partner, "nobody", t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("recompute of an unknown customer: %v, want ErrNotFound", err)
	}
}
