package source

import (
	"fmt"
	"strings"
	"testing"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

func TestParseSubscribedSkus(t *testing.T) {
	doc, users := mustParse(t, readTestdata(t, "subscribedskus.json"), KindSubscribedSkus, Options{})
	if len(users) != 0 || doc.HasUsers || !doc.HasSubscriptions || doc.ReportDate != license.NoDate || doc.Customer != nil {
		t.Errorf("document = %+v", doc)
	}
	if doc.Rows != 4 {
		t.Errorf("Rows = %d, want 4 SKUs", doc.Rows)
	}
	const e3, visio, flow = "05e9a617-0261-4cee-bb44-138d3ef5d965", "c5928f49-12ba-48f7-ada3-0d743a3601d5", "f30db892-07e9-47e9-837c-80727f46fd3d"
	checkSubscriptions(t, doc.Subscriptions, []license.Subscription{
		// SPE_E3: enabled 14 → active, warning 2 → grace; zero buckets none.
		{ID: e3 + "/enabled", SKU: "SPE_E3", Name: "Microsoft 365 E3", Quantity: 14, Status: license.StatusActive, Channel: license.ChannelUnknown},
		{ID: e3 + "/warning", SKU: "SPE_E3", Name: "Microsoft 365 E3", Quantity: 2, Status: license.StatusGrace, Channel: license.ChannelUnknown},
		// The skuId was upper case: ids are lower-cased.
		{ID: visio + "/suspended", SKU: "VISIOCLIENT", Name: "Visio Plan 2", Quantity: 3, Status: license.StatusSuspended, Channel: license.ChannelUnknown},
		{ID: visio + "/lockedOut", SKU: "VISIOCLIENT", Name: "Visio Plan 2", Quantity: 1, Status: license.StatusDisabled, Channel: license.ChannelUnknown},
		{ID: flow + "/enabled", SKU: "FLOW_FREE", Name: "Microsoft Power Automate Free", Quantity: 10000, Status: license.StatusActive, Channel: license.ChannelUnknown},
		// Not in the catalogue: no name, the part number stays.
		{ID: "7d0c5b2a-1e3f-4a5b-9c8d-7e6f5a4b3c2d/enabled", SKU: "CONTOSO_ADDON", Quantity: 5, Status: license.StatusActive, Channel: license.ChannelUnknown},
	})
}

const partnerTenant = "aaaaaaaa-1111-4222-8333-444455556666"

func TestParseDirectorySubscriptions(t *testing.T) {
	doc, _ := mustParse(t, readTestdata(t, "directorysubscriptions.json"), KindDirectorySubs, Options{PartnerTenantID: partnerTenant})
	if doc.Rows != 4 || doc.HasUsers || !doc.HasSubscriptions {
		t.Errorf("document = %+v", doc)
	}
	checkSubscriptions(t, doc.Subscriptions, []license.Subscription{
		// commerceSubscriptionId (lower-cased) is the id; owned by the
		// partner's tenant (different case) → own; Enabled → active.
		{ID: "b1f2c3d4-1111-4222-8333-944455556666", SKU: "SPE_E3", Name: "Microsoft 365 E3", Quantity: 10, Status: license.StatusActive,
			Channel: license.ChannelOwn, RenewalDate: date(t, "2027-01-31")},
		// Another partner's tenant with ownerType Company → partner
		// (ownerType never decides); Warning → grace.
		{ID: "c2e3d4f5-2222-4333-9444-a55566667777", SKU: "SPE_E3", Name: "Microsoft 365 E3", Quantity: 4, Status: license.StatusGrace,
			Channel: license.ChannelPartner, RenewalDate: date(t, "2026-12-01")},
		// Empty commerce id → id; no skuPartNumber → the catalogue's SKU
		// for the skuId; "enabled" in lower case; trial; no owner tenant →
		// direct; null nextLifecycleDateTime → none.
		{ID: "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f", SKU: "POWER_BI_PRO", Name: "Power BI Pro", Quantity: 25, Status: license.StatusActive,
			Trial: true, Channel: license.ChannelDirect},
		// Another partner's tenant → partner; LockedOut → disabled.
		{ID: "d3f4e5a6-3333-4444-a555-b66677778888", SKU: "VISIOCLIENT", Name: "Visio Plan 2", Quantity: 2, Status: license.StatusDisabled,
			Channel: license.ChannelPartner, RenewalDate: date(t, "2026-12-20")},
	})
}

// docs/definitions.md#sources, the channel rule, row by row: ownerTenantId alone decides, ownerType never does.
func TestDirectoryChannel(t *testing.T) {
	const other = "bbbbbbbb-0000-4000-8000-000000000000"
	tests := []struct {
		ownerTenant, partner string
		want                 license.Channel
	}{
		{partnerTenant, partnerTenant, license.ChannelOwn},
		{strings.ToUpper(partnerTenant), partnerTenant, license.ChannelOwn}, // GUIDs in either case
		{other, partnerTenant, license.ChannelPartner},                      // another partner's tenant, whatever its ownerType
		{"", partnerTenant, license.ChannelDirect},                          // empty or null: bought from Microsoft
		{"", "", license.ChannelDirect},
		{other, "", license.ChannelUnknown}, // no PARTNER_TENANT_ID: own and partner look alike
		{partnerTenant, "", license.ChannelUnknown},
	}
	for _, tt := range tests {
		if got := directoryChannel(tt.ownerTenant, tt.partner); got != tt.want {
			t.Errorf("directoryChannel(%q, %q) = %s, want %s", tt.ownerTenant, tt.partner, got, tt.want)
		}
	}
}

func TestParsePartnerCenterSubscriptions(t *testing.T) {
	yes := true
	doc, _ := mustParse(t, readTestdata(t, "partnercenter.json"), KindPartnerCenterSubs, Options{})
	if doc.Rows != 4 {
		t.Errorf("Rows = %d, want 4 records", doc.Rows)
	}
	checkSubscriptions(t, doc.Subscriptions, []license.Subscription{
		// The offer name maps to SPE_E3; the id, lower-cased, is the one
		// Graph gives as commerceSubscriptionId.
		// autoRenewEnabled, termDuration and billingCycle are the renewal's
		// details (docs/definitions.md#renewals).
		{ID: "b1f2c3d4-1111-4222-8333-944455556666", SKU: "SPE_E3", Name: "Microsoft 365 E3", Quantity: 10, Status: license.StatusActive,
			Channel: license.ChannelOwn, RenewalDate: date(t, "2027-01-30"), AutoRenew: &yes, TermDuration: "P1Y", BillingCycle: "monthly"},
		{ID: "e4a5b6c7-4444-4555-b666-c77788889999", SKU: "SPB", Name: "Microsoft 365 Business Premium", Quantity: 5, Status: license.StatusSuspended,
			Channel: license.ChannelOwn, RenewalDate: date(t, "2026-12-15"), BillingCycle: "annual"},
		// An offer the catalogue does not know keeps its name as SKU;
		// pending → disabled (not yet usable) and Pending (never a renewal).
		{ID: "f5b6c7d8-5555-4666-8777-d88899990000", SKU: "Contoso Backup for Microsoft 365", Name: "Contoso Backup for Microsoft 365", Quantity: 3,
			Status: license.StatusDisabled, Trial: true, Channel: license.ChannelOwn, BillingCycle: "monthly", Pending: true},
		// The usage-based Azure plan is not a seat licence: left out.
	})
}

func TestPartnerCenterStatuses(t *testing.T) {
	for in, want := range map[string]license.Status{
		"active": license.StatusActive, "Suspended": license.StatusSuspended, "deleted": license.StatusDeleted,
		"expired": license.StatusExpired, "disabled": license.StatusDisabled, "pending": license.StatusDisabled,
		"none": license.StatusDisabled, "somethingNew": license.StatusDisabled,
	} {
		doc := `[{"id": "x", "offerName": "Office 365 E3", "quantity": 1, "status": "` + in + `"}]`
		d, _ := mustParse(t, doc, KindPartnerCenterSubs, Options{})
		if len(d.Subscriptions) != 1 || d.Subscriptions[0].Status != want {
			t.Errorf("status %q → %+v, want %s", in, d.Subscriptions, want)
		}
	}
}

// Graph wraps lists in "value", Partner Center in "items"; bare arrays
// work too, and null lists are empty.
func TestParseListShapes(t *testing.T) {
	rec := `{"id": "x", "offerName": "Office 365 E3", "quantity": 2, "status": "active"}`
	for name, doc := range map[string]string{
		"bare array":     "[" + rec + "]",
		"graph value":    `{"@odata.context": "x", "@odata.nextLink": "y", "value": [` + rec + `]}`,
		"partner center": `{"totalCount": 1, "items": [` + rec + `], "links": {}, "attributes": {"objectType": "Collection"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			d, _ := mustParse(t, doc, KindPartnerCenterSubs, Options{})
			checkSubscriptions(t, d.Subscriptions, []license.Subscription{{ID: "x", SKU: "ENTERPRISEPACK", Name: "Office 365 E3", Quantity: 2, Status: license.StatusActive, Channel: license.ChannelOwn}})
		})
	}
	// An empty list is fine for subscription kinds: the customer has none.
	for _, doc := range []string{`[]`, `{"value": []}`, `{"value": null}`} {
		d, _ := mustParse(t, doc, KindDirectorySubs, Options{})
		if d.Rows != 0 || len(d.Subscriptions) != 0 {
			t.Errorf("%s: %+v", doc, d)
		}
	}
}

func TestParseListErrors(t *testing.T) {
	tests := []struct {
		name string
		kind Kind
		doc  string
		want []wantProblem
	}{
		{"sku without prepaid units", KindSubscribedSkus,
			"{\"value\": [\n  {\"skuId\": \"05e9a617-0261-4cee-bb44-138d3ef5d965\", \"skuPartNumber\": \"SPE_E3\"}\n]}",
			[]wantProblem{{2, "value[0].prepaidUnits", "is required"}}},
		{"negative and fractional units", KindSubscribedSkus,
			"{\"value\": [\n  {\"skuPartNumber\": \"SPE_E3\", \"consumedUnits\": 2,\n   \"prepaidUnits\": {\n     \"enabled\": -4,\n     \"warning\": 2.5}}\n]}",
			[]wantProblem{{4, "value[0].prepaidUnits.enabled", "must be 0 or more, not -4"}, {5, "value[0].prepaidUnits.warning", "must be a whole number"}}},
		{"unknown sku id without part number", KindSubscribedSkus,
			`[{"skuId": "00000000-0000-0000-0000-000000000001", "prepaidUnits": {"enabled": 1}}]`,
			[]wantProblem{{1, "[0].skuId", "is not in the SKU catalogue"}}},
		{"record not an object", KindSubscribedSkus, `{"value": [1]}`,
			[]wantProblem{{1, "value[0]", "must be a JSON object, not a number"}}},
		{"no list", KindSubscribedSkus, `{"@odata.context": "x"}`,
			[]wantProblem{{1, "", "no list found"}}},
		{"list not an array", KindSubscribedSkus, `{"value": {"skuPartNumber": "SPE_E3"}}`,
			[]wantProblem{{1, "value", "must be a JSON array"}}},
		{"a scalar document", KindSubscribedSkus, `"SPE_E3"`,
			[]wantProblem{{1, "", "want a JSON array or object"}}},
		{"bad directory fields", KindDirectorySubs,
			"{\"value\": [\n{\"id\": \"a\", \"skuPartNumber\": \"SPE_E3\", \"status\": \"Paused\", \"nextLifecycleDateTime\": \"soon\"}\n]}",
			[]wantProblem{
				{2, "value[0].totalLicenses", "is required"},
				{2, "value[0].nextLifecycleDateTime", `timestamp "soon" does not start with a YYYY-MM-DD date`},
				{2, "value[0].status", `"Paused" is not a companySubscription status`},
			}},
		{"directory subscription without id", KindDirectorySubs,
			`[{"skuPartNumber": "SPE_E3", "status": "Enabled", "totalLicenses": 1}]`,
			[]wantProblem{{1, "[0].id", "is required (or commerceSubscriptionId)"}}},
		{"same subscription twice", KindDirectorySubs,
			"[\n{\"commerceSubscriptionId\": \"ABC\", \"skuPartNumber\": \"SPE_E3\", \"status\": \"Enabled\", \"totalLicenses\": 1},\n" +
				"{\"commerceSubscriptionId\": \"abc\", \"skuPartNumber\": \"SPE_E3\", \"status\": \"Enabled\", \"totalLicenses\": 1}\n]",
			[]wantProblem{{3, "[1]", `subscription id "abc" appears twice (first at line 2)`}}},
		{"bad partner center fields", KindPartnerCenterSubs,
			"{\"totalCount\": 1, \"items\": [{\n  \"offerName\": \"Office 365 E3\",\n  \"quantity\": \"5\",\n  \"isTrial\": \"yes\",\n  \"status\": \"active\"}]}",
			[]wantProblem{
				{1, "items[0].id", "is required"},
				{3, "items[0].quantity", "must be a number, not a string"},
				{4, "items[0].isTrial", "must be true or false, not a string"},
			}},
		{"partner center record without any name", KindPartnerCenterSubs,
			`[{"id": "x", "quantity": 1, "status": "active"}]`,
			[]wantProblem{{1, "[0].offerName", "is required (or friendlyName)"}}},
		{"quantity too large", KindPartnerCenterSubs,
			`[{"id": "x", "offerName": "Office 365 E3", "quantity": 99999999999, "status": "active"}]`,
			[]wantProblem{{1, "[0].quantity", "is too large"}}},
		{"two lists", KindPartnerCenterSubs,
			`{"items": [], "value": []}`,
			[]wantProblem{{1, "value", "a second list"}}},
		{"broken json", KindPartnerCenterSubs,
			"{\"items\": [\n  {\"id\": \"x\",\n   \"quantity\": 1,,\n   \"status\": \"active\"}]}",
			[]wantProblem{{3, "", "invalid JSON"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblems(t, invalid(t, tt.doc, tt.kind, Options{}), tt.want)
		})
	}
}

func TestParseListSkipInvalid(t *testing.T) {
	doc := `{"value": [
  {"commerceSubscriptionId": "a", "skuPartNumber": "SPE_E3", "status": "Enabled", "totalLicenses": 3},
  {"commerceSubscriptionId": "b", "skuPartNumber": "SPE_E3", "status": "Enabled", "totalLicenses": -3},
  {"commerceSubscriptionId": "c", "skuPartNumber": "SPE_E5", "status": "Deleted", "totalLicenses": 0}
]}`
	d, _ := mustParse(t, doc, KindDirectorySubs, Options{SkipInvalid: true})
	checkSubscriptions(t, d.Subscriptions, []license.Subscription{
		// No ownerTenantId: bought from Microsoft (docs/definitions.md#sources, the channel rule).
		{ID: "a", SKU: "SPE_E3", Name: "Microsoft 365 E3", Quantity: 3, Status: license.StatusActive, Channel: license.ChannelDirect},
		{ID: "c", SKU: "SPE_E5", Name: "Microsoft 365 E5", Quantity: 0, Status: license.StatusDeleted, Channel: license.ChannelDirect},
	})
	checkProblems(t, d.Skipped, []wantProblem{{3, "value[1].totalLicenses", "must be 0 or more"}})
	if d.Rows != 3 || d.SkippedTotal != 1 {
		t.Fatalf("Rows %d SkippedTotal %d", d.Rows, d.SkippedTotal)
	}
}

// A record larger than MaxRowBytes stops the parse with a problem instead
// of taking memory without bound.
func TestParseRecordTooLarge(t *testing.T) {
	doc := `{"value": [{"skuPartNumber": "` + strings.Repeat("A", 2*MaxRowBytes) + `"}]}`
	checkProblems(t, invalid(t, doc, KindSubscribedSkus, Options{}), []wantProblem{{1, "", "larger than 4 MiB"}})
}

// Unknown members may be huge: they are skipped token by token, within the
// row limit per token.
func TestParseSkipsLargeUnknownMembers(t *testing.T) {
	big := `"links": [` + strings.Repeat(`{"uri": "/x", "method": "GET"},`, 150_000) + `{}],`
	doc := `{"totalCount": 1, ` + big + ` "items": [{"id": "x", "offerName": "Office 365 E3", "quantity": 2, "status": "active"}]}`
	d, _ := mustParse(t, doc, KindPartnerCenterSubs, Options{})
	if len(d.Subscriptions) != 1 {
		t.Fatalf("subscriptions = %+v", d.Subscriptions)
	}
}

// docs/definitions.md#sources, paged lists: two pages of one list sent as one document — the
// envelopes one after another, or a JSON array of them — give every record
// of both pages (3 + 2 = 5 subscriptions), never the second page alone.
func TestPagedListsMerge(t *testing.T) {
	page1 := `{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directory/subscriptions",
 "@odata.nextLink": "https://graph.microsoft.com/v1.0/directory/subscriptions?$skiptoken=X1",
 "value": [
  {"commerceSubscriptionId": "a", "skuPartNumber": "SPE_E3", "status": "Enabled", "totalLicenses": 3},
  {"commerceSubscriptionId": "b", "skuPartNumber": "SPE_E5", "status": "Enabled", "totalLicenses": 2},
  {"commerceSubscriptionId": "c", "skuPartNumber": "EMS", "status": "Warning", "totalLicenses": 1}]}`
	page2 := `{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directory/subscriptions",
 "value": [
  {"commerceSubscriptionId": "d", "skuId": "6a0f6da5-0b87-4190-a6ae-9bb5a2b9546a", "status": "Enabled", "totalLicenses": 4},
  {"commerceSubscriptionId": "e", "skuPartNumber": "VISIOCLIENT", "status": "Enabled", "totalLicenses": 5}]}`
	for name, doc := range map[string]string{
		"concatenated":   page1 + "\r\n" + page2,
		"array of pages": "[" + page1 + ",\n" + page2 + "]",
	} {
		t.Run(name, func(t *testing.T) {
			d, _ := mustParse(t, doc, KindDirectorySubs, Options{})
			var got []string
			total := 0
			for _, s := range d.Subscriptions {
				got = append(got, s.ID+"="+s.SKU)
				total += s.Quantity
			}
			// d has no skuPartNumber: its skuId is WIN10_VDA_E3, one of the
			// products outside the catalogue's old 66.
			if want := "[a=SPE_E3 b=SPE_E5 c=EMS d=WIN10_VDA_E3 e=VISIOCLIENT]"; fmt.Sprint(got) != want || total != 15 || d.Rows != 5 {
				t.Errorf("subscriptions %v (total %d, rows %d), want %s, 15 licences, 5 rows", got, total, d.Rows, want)
			}
		})
	}
	// Partner Center pages carry links.next with a continuation token.
	pc1 := `{"totalCount": 1, "items": [{"id": "p1", "offerName": "Microsoft 365 E3", "quantity": 2, "status": "active"}],
 "links": {"next": {"uri": "/v1/customers/x/subscriptions?size=1", "method": "GET", "headers": [{"key": "MS-ContinuationToken", "value": "abc"}]}},
 "attributes": {"objectType": "Collection"}}`
	pc2 := `{"totalCount": 1, "items": [{"id": "p2", "offerName": "Microsoft 365 E5", "quantity": 3, "status": "active"}],
 "links": {"self": {"uri": "/v1/customers/x/subscriptions", "method": "GET", "headers": []}}, "attributes": {"objectType": "Collection"}}`
	d, _ := mustParse(t, pc1+pc2, KindPartnerCenterSubs, Options{})
	if len(d.Subscriptions) != 2 || d.Subscriptions[0].ID != "p1" || d.Subscriptions[1].SKU != "SPE_E5" {
		t.Errorf("partner center pages: %+v, want p1 and p2", d.Subscriptions)
	}
	// A problem in the second page is reported on its own line.
	bad := page1 + "\n" + `{"value": [{"commerceSubscriptionId": "z", "skuPartNumber": "SPE_E3", "status": "Enabled", "totalLicenses": -1}]}`
	checkProblems(t, invalid(t, bad, KindDirectorySubs, Options{}), []wantProblem{{7, "value[0].totalLicenses", "must be 0 or more"}})
}

// docs/definitions.md#sources, 6: Graph's organization answer names the customer.
func TestParseOrganization(t *testing.T) {
	doc := `{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#organization",
 "value": [{"id": "6F9A0C1E-1111-4222-8333-944455556666", "displayName": "Tailspin Toys", "tenantType": "AAD",
  "verifiedDomains": [{"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": true, "isInitial": false, "name": "tailspintoys.com", "type": "Managed"},
                      {"capabilities": "Email", "isDefault": false, "isInitial": true, "name": "tailspintoys.onmicrosoft.com", "type": "Managed"}]}]}`
	if k, err := Detect([]byte(doc)); err != nil || k != KindOrganization {
		t.Errorf("Detect = %q, %v; want %s", k, err, KindOrganization)
	}
	d, users := mustParse(t, doc, KindOrganization, Options{})
	if d.Customer == nil || *d.Customer != (license.Customer{Name: "Tailspin Toys", TenantID: "6f9a0c1e-1111-4222-8333-944455556666"}) ||
		fmt.Sprint(d.Domains) != "[tailspintoys.com tailspintoys.onmicrosoft.com]" || d.HasUsers || d.HasSubscriptions || len(users) != 0 {
		t.Errorf("organization: customer %+v, domains %v, has users %v, subscriptions %v", d.Customer, d.Domains, d.HasUsers, d.HasSubscriptions)
	}
	checkProblems(t, invalid(t, `{"value": [{"id": "x", "displayName": ""}]}`, KindOrganization, Options{}), []wantProblem{{1, "value[0].displayName", "must not be empty"}})
	checkProblems(t, invalid(t, `{"value": []}`, KindOrganization, Options{}), []wantProblem{{1, "", "no organization found"}})
}
