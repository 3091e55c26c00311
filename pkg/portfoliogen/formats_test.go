package portfoliogen_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/licenseinsights/licenseinsights/pkg/catalog"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/portfoliogen"
)

// The tests below read every document back with encoding/json and
// encoding/csv and hold it against the generator's ground truth (EachUser,
// Subscriptions) and against the other documents of the same customer.

// truth is one customer as EachUser and Subscriptions give it.
type truth struct {
	users []license.User
	subs  []license.Subscription
	// assigned counts the non-deleted users holding each SKU (docs/definitions.md#figures).
	assigned map[string]int
}

func groundTruth(t *testing.T, cfg portfoliogen.Config, c portfoliogen.CustomerSpec) truth {
	t.Helper()
	tr := truth{subs: portfoliogen.Subscriptions(cfg, c), assigned: map[string]int{}}
	err := portfoliogen.EachUser(cfg, c, func(u *license.User) error {
		cp := *u
		cp.Licenses = append([]license.License(nil), u.Licenses...)
		cp.Workloads = append([]license.WorkloadUse(nil), u.Workloads...)
		tr.users = append(tr.users, cp)
		if !u.Deleted {
			for _, l := range u.Licenses {
				tr.assigned[l.SKU]++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.users) != c.Users {
		t.Fatalf("EachUser gave %d users, the spec says %d", len(tr.users), c.Users)
	}
	return tr
}

// sampleCustomers are a few customers that together show every shape the
// formats must carry: concealed and named users, several SKUs, a lapsed
// subscription, a trial, and purchases through every channel.
func sampleCustomers(t *testing.T) (portfoliogen.Config, []portfoliogen.CustomerSpec) {
	t.Helper()
	cfg := config(21, 60, 120)
	wants := map[string]func(c portfoliogen.CustomerSpec, subs []license.Subscription) bool{
		"concealed": func(c portfoliogen.CustomerSpec, _ []license.Subscription) bool { return c.Concealed },
		"named":     func(c portfoliogen.CustomerSpec, _ []license.Subscription) bool { return !c.Concealed },
		"3+ SKUs": func(_ portfoliogen.CustomerSpec, subs []license.Subscription) bool {
			skus := map[string]bool{}
			for _, s := range subs {
				skus[s.SKU] = true
			}
			return len(skus) >= 3
		},
		"lapsed own": func(_ portfoliogen.CustomerSpec, subs []license.Subscription) bool {
			return slices.ContainsFunc(subs, func(s license.Subscription) bool {
				return s.Status != license.StatusActive && s.Channel == license.ChannelOwn
			})
		},
		"trial": func(_ portfoliogen.CustomerSpec, subs []license.Subscription) bool {
			return slices.ContainsFunc(subs, func(s license.Subscription) bool { return s.Trial })
		},
		"partner": func(_ portfoliogen.CustomerSpec, subs []license.Subscription) bool {
			return slices.ContainsFunc(subs, func(s license.Subscription) bool { return s.Channel == license.ChannelPartner })
		},
		"direct": func(_ portfoliogen.CustomerSpec, subs []license.Subscription) bool {
			return slices.ContainsFunc(subs, func(s license.Subscription) bool { return s.Channel == license.ChannelDirect })
		},
	}
	var out []portfoliogen.CustomerSpec
	for _, c := range portfoliogen.Customers(cfg) {
		subs := portfoliogen.Subscriptions(cfg, c)
		taken := false
		for _, name := range slices.Sorted(maps.Keys(wants)) {
			if wants[name](c, subs) {
				delete(wants, name)
				taken = true
			}
		}
		if taken {
			out = append(out, c)
		}
	}
	if len(wants) > 0 {
		t.Fatalf("seed 21 has no customer that is %v", slices.Sorted(maps.Keys(wants)))
	}
	return cfg, out
}

type snapshotDoc struct {
	Schema   string `json:"schema"`
	Customer struct {
		ID, Name, TenantID string
	} `json:"customer"`
	ReportDate    string `json:"reportDate"`
	Subscriptions []struct {
		ID          string `json:"id"`
		SKU         string `json:"sku"`
		Name        string `json:"name"`
		Quantity    int    `json:"quantity"`
		Status      string `json:"status"`
		Trial       bool   `json:"trial"`
		Channel     string `json:"channel"`
		RenewalDate string `json:"renewalDate"`
	} `json:"subscriptions"`
	Support *license.Support `json:"support"`
	Users   []struct {
		Key         string `json:"key"`
		DisplayName string `json:"displayName"`
		Deleted     bool   `json:"deleted"`
		Licenses    []struct {
			SKU          string `json:"sku"`
			AssignedDate string `json:"assignedDate"`
		} `json:"licenses"`
		Workloads map[string]struct {
			Licensed     *bool   `json:"licensed"`
			LastActivity *string `json:"lastActivity"`
		} `json:"workloads"`
	} `json:"users"`
}

func TestSnapshotMatchesTheGroundTruth(t *testing.T) {
	cfg, specs := sampleCustomers(t)
	for _, c := range specs {
		tr := groundTruth(t, cfg, c)
		var doc snapshotDoc
		if err := json.Unmarshal(document(t, portfoliogen.KindSnapshot, cfg, c), &doc); err != nil {
			t.Fatalf("%s: snapshot is not JSON: %v", c.ID, err)
		}
		if doc.Schema != "license-snapshot/v1" || doc.Customer.ID != c.ID || doc.Customer.Name != c.Name ||
			doc.Customer.TenantID != c.TenantID || doc.ReportDate != "2026-11-20" {
			t.Fatalf("%s: header %q %+v %q", c.ID, doc.Schema, doc.Customer, doc.ReportDate)
		}
		if doc.Support == nil || doc.Support.WindowDays != 28 || doc.Support.HowToTickets > doc.Support.Tickets {
			t.Errorf("%s: support %+v", c.ID, doc.Support)
		}
		if len(doc.Subscriptions) != len(tr.subs) {
			t.Fatalf("%s: %d subscriptions, want %d", c.ID, len(doc.Subscriptions), len(tr.subs))
		}
		for i, s := range doc.Subscriptions {
			want := tr.subs[i]
			if s.ID != want.ID || s.SKU != want.SKU || s.Quantity != want.Quantity || s.Status != string(want.Status) ||
				s.Trial != want.Trial || s.Channel != string(want.Channel) || s.RenewalDate != want.RenewalDate.String() {
				t.Errorf("%s: subscription %d is %+v, want %+v", c.ID, i, s, want)
			}
			if s.Name != catalog.Name(s.SKU) || s.Quantity < 1 {
				t.Errorf("%s: subscription %s: name %q, quantity %d", c.ID, s.ID, s.Name, s.Quantity)
			}
		}
		if len(doc.Users) != c.Users {
			t.Fatalf("%s: %d users, want %d", c.ID, len(doc.Users), c.Users)
		}
		keys := map[string]bool{}
		for i, u := range doc.Users {
			want := tr.users[i]
			if u.Key != want.Key || u.DisplayName != want.DisplayName || u.Deleted != want.Deleted || len(u.Licenses) != len(want.Licenses) {
				t.Fatalf("%s: user %d is %q/%q/%v/%d licences, want %+v", c.ID, i, u.Key, u.DisplayName, u.Deleted, len(u.Licenses), want)
			}
			if keys[u.Key] {
				t.Fatalf("%s: user key %q repeats", c.ID, u.Key)
			}
			keys[u.Key] = true
			for j, l := range u.Licenses {
				if l.SKU != want.Licenses[j].SKU || l.AssignedDate != want.Licenses[j].AssignedDate.String() {
					t.Errorf("%s: %s licence %d is %+v, want %+v", c.ID, u.Key, j, l, want.Licenses[j])
				}
			}
			if len(u.Workloads) != 6 {
				t.Fatalf("%s: %s has workloads %v, want the six of the Graph report", c.ID, u.Key, u.Workloads)
			}
			for _, name := range []string{"exchange", "onedrive", "sharepoint", "teams", "yammer", "skype"} {
				w, ok := u.Workloads[name]
				if !ok || w.Licensed == nil {
					t.Fatalf("%s: %s has no %s or no licensed flag", c.ID, u.Key, name)
				}
				if w.LastActivity != nil {
					d, err := license.ParseDate(*w.LastActivity)
					if err != nil || d > reportDate || d <= reportDate.AddDays(-180) {
						t.Errorf("%s: %s %s last activity %q is not in the 180 days up to the report date", c.ID, u.Key, name, *w.LastActivity)
					}
				}
			}
		}
	}
}

var (
	concealedHash = regexp.MustCompile(`^[0-9A-F]{32}$`)
	upn           = regexp.MustCompile(`^[a-z]+\.[a-z]+[0-9]*@[a-z0-9]+\.com$`)
)

func TestActiveUserDetailIsGraphsCSV(t *testing.T) {
	cfg, specs := sampleCustomers(t)
	for _, c := range specs {
		tr := groundTruth(t, cfg, c)
		raw := document(t, portfoliogen.KindGraphActiveUserDetail, cfg, c)
		if !bytes.HasPrefix(raw, []byte("\xEF\xBB\xBFReport Refresh Date,User Principal Name,")) {
			t.Fatalf("%s: report does not start with the BOM and header: %q", c.ID, raw[:min(len(raw), 60)])
		}
		r := csv.NewReader(bytes.NewReader(raw[3:]))
		rows, err := r.ReadAll()
		if err != nil {
			t.Fatalf("%s: report is not CSV: %v", c.ID, err)
		}
		header := "Report Refresh Date,User Principal Name,Display Name,Is Deleted,Deleted Date," +
			"Has Exchange License,Has OneDrive License,Has SharePoint License,Has Skype For Business License,Has Yammer License,Has Teams License," +
			"Exchange Last Activity Date,OneDrive Last Activity Date,SharePoint Last Activity Date,Skype For Business Last Activity Date,Yammer Last Activity Date,Teams Last Activity Date," +
			"Exchange License Assign Date,OneDrive License Assign Date,SharePoint License Assign Date,Skype For Business License Assign Date,Yammer License Assign Date,Teams License Assign Date," +
			"Assigned Products"
		if got := strings.Join(rows[0], ","); got != header {
			t.Fatalf("%s: header\n%s\nwant\n%s", c.ID, got, header)
		}
		if len(rows)-1 != c.Users {
			t.Fatalf("%s: %d rows, want %d users", c.ID, len(rows)-1, c.Users)
		}
		if n := bytes.Count(raw, []byte("\r\n")); n != c.Users+1 {
			t.Errorf("%s: %d CRLF line ends, want %d", c.ID, n, c.Users+1)
		}
		for i, row := range rows[1:] {
			want := tr.users[i]
			if row[0] != "2026-11-20" || row[1] != want.Key || row[2] != want.DisplayName {
				t.Fatalf("%s: row %d starts %q, want the report date and %q / %q", c.ID, i+1, row[:3], want.Key, want.DisplayName)
			}
			if c.Concealed != concealedHash.MatchString(row[1]) || c.Concealed != concealedHash.MatchString(row[2]) {
				t.Fatalf("%s (concealed %v): user %q / %q", c.ID, c.Concealed, row[1], row[2])
			}
			if !c.Concealed && !upn.MatchString(row[1]) {
				t.Fatalf("%s: user principal name %q", c.ID, row[1])
			}
			if row[3] != map[bool]string{true: "True", false: "False"}[want.Deleted] || (row[4] != "") != want.Deleted {
				t.Errorf("%s: %s deleted %q on %q, want %v", c.ID, want.Key, row[3], row[4], want.Deleted)
			}
			for col := 5; col <= 10; col++ {
				if row[col] != "True" && row[col] != "False" {
					t.Fatalf("%s: %s %s is %q", c.ID, want.Key, rows[0][col], row[col])
				}
			}
			for col := 11; col <= 22; col++ {
				if row[col] == "" {
					continue
				}
				if _, err := time.Parse("2006-01-02", row[col]); err != nil {
					t.Fatalf("%s: %s %s is %q", c.ID, want.Key, rows[0][col], row[col])
				}
			}
			// A workload's licence assign date is that of one of the
			// user's licences when the workload is licensed, else empty.
			for k := range 6 {
				assign := row[17+k]
				ok := assign == ""
				if row[5+k] == "True" {
					ok = slices.ContainsFunc(want.Licenses, func(l license.License) bool { return l.AssignedDate.String() == assign })
				}
				if !ok {
					t.Fatalf("%s: %s %s is %q with %s %s; licences %+v", c.ID, want.Key, rows[0][17+k], assign, rows[0][5+k], row[5+k], want.Licenses)
				}
			}
			// Assigned Products: the upper-case catalogue names of the
			// user's licences, joined with "+".
			var names []string
			for _, l := range want.Licenses {
				names = append(names, strings.ToUpper(catalog.Name(l.SKU)))
			}
			if row[23] != strings.Join(names, "+") {
				t.Errorf("%s: %s assigned products %q, want %q", c.ID, want.Key, row[23], strings.Join(names, "+"))
			}
			for _, name := range strings.Split(row[23], "+") {
				if _, ok := catalog.ByName(name); name != "" && !ok {
					t.Errorf("%s: product %q is not in the catalogue", c.ID, name)
				}
			}
			// The report's licence flags and activity agree with the
			// snapshot's once OneDrive joins SharePoint.
			licensed := map[license.Workload]bool{}
			last := map[license.Workload]license.Date{}
			for k, name := range []string{"exchange", "onedrive", "sharepoint", "skype", "yammer", "teams"} {
				w := license.NormalizeWorkload(name)
				licensed[w] = licensed[w] || row[5+k] == "True"
				d, _ := license.ParseDate(row[11+k])
				last[w] = max(last[w], d)
			}
			for _, use := range want.Workloads {
				if licensed[use.Workload] != use.Licensed || last[use.Workload] != use.LastActivity {
					t.Errorf("%s: %s %s licensed %v last %s in the report, %v %s in truth", c.ID, want.Key, use.Workload,
						licensed[use.Workload], last[use.Workload], use.Licensed, use.LastActivity)
				}
			}
		}
	}
}

type subscribedSkusDoc struct {
	Context string `json:"@odata.context"`
	Value   []struct {
		AccountID        string `json:"accountId"`
		AppliesTo        string `json:"appliesTo"`
		CapabilityStatus string `json:"capabilityStatus"`
		ConsumedUnits    int    `json:"consumedUnits"`
		ID               string `json:"id"`
		PrepaidUnits     struct {
			Enabled, LockedOut, Suspended, Warning int
		} `json:"prepaidUnits"`
		SkuID           string   `json:"skuId"`
		SkuPartNumber   string   `json:"skuPartNumber"`
		SubscriptionIDs []string `json:"subscriptionIds"`
	} `json:"value"`
}

func TestSubscribedSkusSumTheSubscriptions(t *testing.T) {
	cfg, specs := sampleCustomers(t)
	for _, c := range specs {
		tr := groundTruth(t, cfg, c)
		var doc subscribedSkusDoc
		if err := json.Unmarshal(document(t, portfoliogen.KindGraphSubscribedSkus, cfg, c), &doc); err != nil {
			t.Fatalf("%s: not JSON: %v", c.ID, err)
		}
		if doc.Context != "https://graph.microsoft.com/v1.0/$metadata#subscribedSkus" {
			t.Errorf("%s: @odata.context %q", c.ID, doc.Context)
		}
		// Expected buckets per SKU: active → enabled (trials included: Graph
		// has no trial flag here), grace → warning, suspended → suspended.
		type buckets struct{ enabled, warning, suspended, subs int }
		want := map[string]*buckets{}
		for _, s := range tr.subs {
			b := want[s.SKU]
			if b == nil {
				b = &buckets{}
				want[s.SKU] = b
			}
			b.subs++
			switch s.Status {
			case license.StatusActive:
				b.enabled += s.Quantity
			case license.StatusGrace:
				b.warning += s.Quantity
			case license.StatusSuspended:
				b.suspended += s.Quantity
			default:
				t.Fatalf("%s: unexpected status %s", c.ID, s.Status)
			}
		}
		if len(doc.Value) != len(want) {
			t.Fatalf("%s: %d SKUs, want %d", c.ID, len(doc.Value), len(want))
		}
		for _, v := range doc.Value {
			w := want[v.SkuPartNumber]
			p, ok := catalog.BySKU(v.SkuPartNumber)
			if w == nil || !ok || v.SkuID != p.SKUID {
				t.Fatalf("%s: SKU %s / %s is not one of its subscriptions' or not the catalogue's", c.ID, v.SkuPartNumber, v.SkuID)
			}
			if v.PrepaidUnits.Enabled != w.enabled || v.PrepaidUnits.Warning != w.warning || v.PrepaidUnits.Suspended != w.suspended ||
				v.PrepaidUnits.LockedOut != 0 || len(v.SubscriptionIDs) != w.subs {
				t.Errorf("%s: %s prepaid %+v over %d subscriptions, want %+v", c.ID, v.SkuPartNumber, v.PrepaidUnits, len(v.SubscriptionIDs), *w)
			}
			if v.ConsumedUnits != tr.assigned[v.SkuPartNumber] {
				t.Errorf("%s: %s consumedUnits %d, want the %d non-deleted users holding it", c.ID, v.SkuPartNumber, v.ConsumedUnits, tr.assigned[v.SkuPartNumber])
			}
			// Extra file storage is the company's (an excluded product,
			// docs/definitions.md#excluded-products); every other SKU a user's.
			appliesTo := "User"
			if v.SkuPartNumber == "SHAREPOINTSTORAGE" {
				appliesTo = "Company"
			}
			if v.AccountID != c.TenantID || v.ID != c.TenantID+"_"+v.SkuID || v.AppliesTo != appliesTo {
				t.Errorf("%s: %s account %q id %q appliesTo %q", c.ID, v.SkuPartNumber, v.AccountID, v.ID, v.AppliesTo)
			}
			status := "Enabled"
			switch {
			case w.enabled > 0:
			case w.warning > 0:
				status = "Warning"
			default:
				status = "Suspended"
			}
			if v.CapabilityStatus != status {
				t.Errorf("%s: %s capabilityStatus %q, want %q", c.ID, v.SkuPartNumber, v.CapabilityStatus, status)
			}
		}
	}
}

func TestDirectorySubscriptionsCarryTheChannel(t *testing.T) {
	cfg, specs := sampleCustomers(t)
	cfg.PartnerTenantID = "0f0f0f0f-1111-4222-8333-444444444444"
	for _, c := range specs {
		tr := groundTruth(t, cfg, c)
		var doc struct {
			Value []struct {
				CommerceSubscriptionID string  `json:"commerceSubscriptionId"`
				CreatedDateTime        string  `json:"createdDateTime"`
				ID                     string  `json:"id"`
				IsTrial                bool    `json:"isTrial"`
				NextLifecycleDateTime  string  `json:"nextLifecycleDateTime"`
				OwnerTenantID          *string `json:"ownerTenantId"`
				OwnerType              string  `json:"ownerType"`
				SkuID                  string  `json:"skuId"`
				SkuPartNumber          string  `json:"skuPartNumber"`
				Status                 string  `json:"status"`
				TotalLicenses          int     `json:"totalLicenses"`
			} `json:"value"`
		}
		if err := json.Unmarshal(document(t, portfoliogen.KindGraphDirectorySubscriptions, cfg, c), &doc); err != nil {
			t.Fatalf("%s: not JSON: %v", c.ID, err)
		}
		if len(doc.Value) != len(tr.subs) {
			t.Fatalf("%s: %d subscriptions, want %d", c.ID, len(doc.Value), len(tr.subs))
		}
		status := map[license.Status]string{license.StatusActive: "Enabled", license.StatusGrace: "Warning", license.StatusSuspended: "Suspended"}
		for i, v := range doc.Value {
			want := tr.subs[i]
			p, _ := catalog.BySKU(want.SKU)
			if v.ID != want.ID || v.CommerceSubscriptionID != want.ID || v.SkuPartNumber != want.SKU || v.SkuID != p.SKUID ||
				v.TotalLicenses != want.Quantity || v.IsTrial != want.Trial || v.Status != status[want.Status] {
				t.Errorf("%s: subscription %d is %+v, want %+v", c.ID, i, v, want)
			}
			if next, err := time.Parse(time.RFC3339, v.NextLifecycleDateTime); err != nil || license.DateOf(next) != want.RenewalDate {
				t.Errorf("%s: %s nextLifecycleDateTime %q, want %s", c.ID, v.ID, v.NextLifecycleDateTime, want.RenewalDate)
			}
			if _, err := time.Parse(time.RFC3339, v.CreatedDateTime); err != nil {
				t.Errorf("%s: %s createdDateTime %q", c.ID, v.ID, v.CreatedDateTime)
			}
			// ownerTenantId alone gives the channel back (docs/definitions.md#sources, the channel rule).
			var channel license.Channel
			switch {
			case v.OwnerTenantID == nil:
				channel = license.ChannelDirect
			case *v.OwnerTenantID == cfg.PartnerTenantID:
				channel = license.ChannelOwn
			case *v.OwnerTenantID != "":
				channel = license.ChannelPartner
			}
			if channel != want.Channel {
				t.Errorf("%s: %s ownerTenantId %v reads as channel %q, want %q", c.ID, v.ID, v.OwnerTenantID, channel, want.Channel)
			}
		}
	}
}

func TestPartnerCenterListsOnlyOwnSubscriptions(t *testing.T) {
	cfg, specs := sampleCustomers(t)
	for _, c := range specs {
		tr := groundTruth(t, cfg, c)
		var doc struct {
			TotalCount int `json:"totalCount"`
			Items      []struct {
				ID                string   `json:"id"`
				OfferID           string   `json:"offerId"`
				OfferName         string   `json:"offerName"`
				Quantity          int      `json:"quantity"`
				Status            string   `json:"status"`
				IsTrial           bool     `json:"isTrial"`
				BillingCycle      string   `json:"billingCycle"`
				CommitmentEndDate string   `json:"commitmentEndDate"`
				SuspensionReasons []string `json:"suspensionReasons"`
				Attributes        struct {
					ObjectType string `json:"objectType"`
				} `json:"attributes"`
			} `json:"items"`
			Attributes struct {
				ObjectType string `json:"objectType"`
			} `json:"attributes"`
		}
		if err := json.Unmarshal(document(t, portfoliogen.KindPartnerCenterSubscriptions, cfg, c), &doc); err != nil {
			t.Fatalf("%s: not JSON: %v", c.ID, err)
		}
		var own []license.Subscription
		for _, s := range tr.subs {
			if s.Channel == license.ChannelOwn {
				own = append(own, s)
			}
		}
		if doc.TotalCount != len(own) || len(doc.Items) != len(own) || doc.Attributes.ObjectType != "Collection" {
			t.Fatalf("%s: totalCount %d, %d items, objectType %q; want %d own subscriptions in a Collection",
				c.ID, doc.TotalCount, len(doc.Items), doc.Attributes.ObjectType, len(own))
		}
		status := map[license.Status]string{license.StatusActive: "active", license.StatusGrace: "expired", license.StatusSuspended: "suspended"}
		for i, it := range doc.Items {
			want := own[i]
			byName, okName := catalog.ByName(it.OfferName)
			byID, okID := catalog.BySKUID(it.OfferID)
			if !okName || !okID || byName.SKU != want.SKU || byID.SKU != want.SKU {
				t.Errorf("%s: offer %q / %q does not name SKU %s", c.ID, it.OfferID, it.OfferName, want.SKU)
			}
			if it.ID != want.ID || it.Quantity != want.Quantity || it.IsTrial != want.Trial || it.Status != status[want.Status] ||
				it.Attributes.ObjectType != "Subscription" {
				t.Errorf("%s: item %d is %+v, want %+v", c.ID, i, it, want)
			}
			if (it.Status != "active") != (len(it.SuspensionReasons) > 0) {
				t.Errorf("%s: %s status %q with suspension reasons %v", c.ID, it.ID, it.Status, it.SuspensionReasons)
			}
			if end, err := time.Parse(time.RFC3339, it.CommitmentEndDate); err != nil || license.DateOf(end) != want.RenewalDate {
				t.Errorf("%s: %s commitmentEndDate %q, want %s", c.ID, it.ID, it.CommitmentEndDate, want.RenewalDate)
			}
		}
	}
}

func TestDocumentsOfAnEmptyCustomerAreValid(t *testing.T) {
	cfg := config(1, 1, 0)
	cfg.Exact = true
	c := portfoliogen.Customers(cfg)[0]
	for _, kind := range portfoliogen.Kinds {
		raw := document(t, kind, cfg, c)
		if kind == portfoliogen.KindGraphActiveUserDetail {
			if n := bytes.Count(raw, []byte("\n")); n != 1 {
				t.Errorf("empty report has %d lines, want the header only", n)
			}
			continue
		}
		if !json.Valid(raw) {
			t.Errorf("%s of an empty customer is not JSON: %s", kind, raw)
		}
	}
}

func TestJSONEscaping(t *testing.T) {
	cfg := config(1, 1, 3)
	c := portfoliogen.Customers(cfg)[0]
	c.Name = "Quote \" Back \\ Tab \t Ünïcode \u2028 Ctl \x01"
	var doc snapshotDoc
	if err := json.Unmarshal(document(t, portfoliogen.KindSnapshot, cfg, c), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Customer.Name != c.Name {
		t.Errorf("name came back as %q, want %q", doc.Customer.Name, c.Name)
	}
}
