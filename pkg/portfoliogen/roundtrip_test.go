package portfoliogen_test

import (
	"bytes"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/licenseinsights/licenseinsights/pkg/catalog"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/portfoliogen"
	"github.com/licenseinsights/licenseinsights/pkg/source"
)

// The round trip: every generated document is detected and parsed by
// pkg/source, the ingestion's own parser, and must give back the users and
// subscriptions of the ground truth; and the figures computed from the
// parsed documents must be those computed from the ground truth.

// sourceKind is the parser's name for a generator kind (the same strings).
func sourceKind(t *testing.T, k portfoliogen.Kind) source.Kind {
	t.Helper()
	sk, err := source.ParseKind(string(k))
	if err != nil {
		t.Fatal(err)
	}
	return sk
}

// parsed is one document read back.
type parsed struct {
	doc   *source.Document
	users []license.User
}

func parse(t *testing.T, kind portfoliogen.Kind, cfg portfoliogen.Config, c portfoliogen.CustomerSpec) parsed {
	t.Helper()
	raw := document(t, kind, cfg, c)
	want := sourceKind(t, kind)
	if got, err := source.Detect(raw[:min(len(raw), source.DetectSize)]); err != nil || got != want {
		t.Errorf("%s: Detect says %q (%v), want %q", c.ID, got, err, want)
	}
	var out parsed
	opts := source.Options{PartnerTenantID: cfg.PartnerTenant(), CustomerID: c.ID}
	doc, err := source.Parse(bytes.NewReader(raw), want, opts, func(u license.User) error {
		out.users = append(out.users, u)
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %s does not parse: %v", c.ID, kind, err)
	}
	if doc.SkippedTotal != 0 {
		t.Fatalf("%s: %s: %d rows skipped: %v", c.ID, kind, doc.SkippedTotal, doc.Skipped)
	}
	out.doc = doc
	return out
}

// sameUser compares a parsed user with the ground truth: key, name, deleted
// flag, the SKUs held with their assign dates, and every workload's
// licensing and activity. With earliestDate, every licence must carry the
// user's earliest assign date instead: the Graph report has one date per
// workload, not per SKU, and the parser gives each licence the earliest.
func sameUser(got, want license.User, earliestDate bool) bool {
	if got.Key != want.Key || got.DisplayName != want.DisplayName || got.Deleted != want.Deleted || len(got.Licenses) != len(want.Licenses) {
		return false
	}
	held := map[string]license.Date{}
	earliest := license.NoDate
	for _, l := range want.Licenses {
		held[l.SKU] = l.AssignedDate
		if earliest == license.NoDate || l.AssignedDate < earliest {
			earliest = l.AssignedDate
		}
	}
	for _, l := range got.Licenses {
		d, ok := held[l.SKU]
		if earliestDate {
			d = earliest
		}
		if !ok || d != l.AssignedDate {
			return false
		}
	}
	uses := func(u license.User) map[license.Workload]license.WorkloadUse {
		m := map[license.Workload]license.WorkloadUse{}
		for _, w := range u.Workloads {
			m[w.Workload] = w
		}
		return m
	}
	return maps.Equal(uses(got), uses(want))
}

func sameSubscription(got, want license.Subscription) bool {
	return strings.EqualFold(got.ID, want.ID) && got.SKU == want.SKU && got.Quantity == want.Quantity && got.Status == want.Status &&
		got.Trial == want.Trial && got.Channel == want.Channel && got.RenewalDate == want.RenewalDate
}

func TestRoundTripThroughTheParsers(t *testing.T) {
	cfg, specs := sampleCustomers(t)
	for _, c := range specs {
		tr := groundTruth(t, cfg, c)

		// The snapshot gives everything back exactly.
		snap := parse(t, portfoliogen.KindSnapshot, cfg, c)
		if snap.doc.ReportDate != reportDate || snap.doc.Customer == nil || snap.doc.Customer.ID != c.ID || snap.doc.Users != c.Users {
			t.Errorf("%s: snapshot read as date %s, customer %+v, %d users", c.ID, snap.doc.ReportDate, snap.doc.Customer, snap.doc.Users)
		}
		if len(snap.users) != len(tr.users) {
			t.Fatalf("%s: snapshot gave %d users, want %d", c.ID, len(snap.users), len(tr.users))
		}
		for i := range snap.users {
			if !sameUser(snap.users[i], tr.users[i], false) {
				t.Fatalf("%s: snapshot user %d read as %+v, want %+v", c.ID, i, snap.users[i], tr.users[i])
			}
		}
		if len(snap.doc.Subscriptions) != len(tr.subs) {
			t.Fatalf("%s: snapshot gave %d subscriptions, want %d", c.ID, len(snap.doc.Subscriptions), len(tr.subs))
		}
		for i, s := range snap.doc.Subscriptions {
			if !sameSubscription(s, tr.subs[i]) {
				t.Errorf("%s: snapshot subscription read as %+v, want %+v", c.ID, s, tr.subs[i])
			}
		}

		// The Graph report: the same users, licences by product name.
		report := parse(t, portfoliogen.KindGraphActiveUserDetail, cfg, c)
		if report.doc.ReportDate != reportDate || len(report.users) != c.Users {
			t.Fatalf("%s: report read as date %s with %d users, want %s and %d", c.ID, report.doc.ReportDate, len(report.users), reportDate, c.Users)
		}
		for i := range report.users {
			if !sameUser(report.users[i], tr.users[i], true) {
				t.Fatalf("%s: report user %d read as %+v, want %+v", c.ID, i, report.users[i], tr.users[i])
			}
		}

		// Directory subscriptions: every subscription, channel included
		// (ownerTenantId read against the partner's tenant).
		dir := parse(t, portfoliogen.KindGraphDirectorySubscriptions, cfg, c)
		if len(dir.doc.Subscriptions) != len(tr.subs) {
			t.Fatalf("%s: directory gave %d subscriptions, want %d", c.ID, len(dir.doc.Subscriptions), len(tr.subs))
		}
		for i, s := range dir.doc.Subscriptions {
			if !sameSubscription(s, tr.subs[i]) {
				t.Errorf("%s: directory subscription read as %+v, want %+v", c.ID, s, tr.subs[i])
			}
		}

		// Partner Center: the partner's own subscriptions. Its lifecycle
		// calls grace "expired": still not counted, which is what matters.
		pc := parse(t, portfoliogen.KindPartnerCenterSubscriptions, cfg, c)
		var own []license.Subscription
		for _, s := range tr.subs {
			if s.Channel == license.ChannelOwn {
				own = append(own, s)
			}
		}
		if len(pc.doc.Subscriptions) != len(own) {
			t.Fatalf("%s: Partner Center gave %d subscriptions, want the %d own ones", c.ID, len(pc.doc.Subscriptions), len(own))
		}
		for i, s := range pc.doc.Subscriptions {
			want := own[i]
			if want.Status == license.StatusGrace {
				want.Status = license.StatusExpired
			}
			if !sameSubscription(s, want) {
				t.Errorf("%s: Partner Center subscription read as %+v, want %+v", c.ID, s, want)
			}
		}

		// subscribedSkus: per SKU and state, the seats of all channels.
		// Graph has no trial flag here, so trial seats are enabled seats.
		skus := parse(t, portfoliogen.KindGraphSubscribedSkus, cfg, c)
		type key struct {
			sku    string
			status license.Status
		}
		want, got := map[key]int{}, map[key]int{}
		for _, s := range tr.subs {
			want[key{s.SKU, s.Status}] += s.Quantity
		}
		for _, s := range skus.doc.Subscriptions {
			if s.Channel != license.ChannelUnknown || s.Trial {
				t.Errorf("%s: subscribedSkus gave %+v, want channel unknown and no trial flag", c.ID, s)
			}
			got[key{s.SKU, s.Status}] += s.Quantity
		}
		if !maps.Equal(got, want) {
			t.Errorf("%s: subscribedSkus seats %v, want %v", c.ID, got, want)
		}
	}
}

// TestFiguresAgreeAcrossSources computes the docs/definitions.md#figures figures three ways —
// from the ground truth, from the parsed snapshot, and from the parsed
// Graph report with the parsed directory subscriptions — and holds them
// against each other.
func TestFiguresAgreeAcrossSources(t *testing.T) {
	cfg, specs := sampleCustomers(t)
	for _, c := range specs {
		tr := groundTruth(t, cfg, c)
		compute := func(subs []license.Subscription, users []license.User) license.Figures {
			return license.Compute(license.Input{
				Customer: license.Customer{ID: c.ID, Name: c.Name}, ReportDate: reportDate,
				Subscriptions: subs, Users: users, ProductName: catalog.Name,
			}).Figures
		}
		truth := compute(tr.subs, tr.users)
		snap := parse(t, portfoliogen.KindSnapshot, cfg, c)
		fromSnapshot := compute(snap.doc.Subscriptions, snap.users)
		report := parse(t, portfoliogen.KindGraphActiveUserDetail, cfg, c)
		dir := parse(t, portfoliogen.KindGraphDirectorySubscriptions, cfg, c)
		fromGraph := compute(dir.doc.Subscriptions, report.users)

		for _, n := range license.Windows {
			a, _ := truth.Window(n)
			b, _ := fromSnapshot.Window(n)
			g, _ := fromGraph.Window(n)
			if !slices.Equal(a.Workloads, b.Workloads) || a.InactiveLicensedUsers != b.InactiveLicensedUsers {
				t.Errorf("%s: %d-day figures from the snapshot %+v, from the truth %+v", c.ID, n, b, a)
			}
			// The report gives each licence the earliest workload assign
			// date, which can change who of a SKU's holders is entitled
			// but never who is active.
			for i, w := range g.Workloads {
				if w.Workload != a.Workloads[i].Workload || w.Active != a.Workloads[i].Active {
					t.Errorf("%s: %d-day %s active %d from Graph, %d from the truth", c.ID, n, w.Workload, w.Active, a.Workloads[i].Active)
				}
			}
		}
		if len(fromGraph.Products) != len(truth.Products) || len(fromSnapshot.Products) != len(truth.Products) {
			t.Fatalf("%s: %d products from Graph, %d from the snapshot, %d in truth", c.ID, len(fromGraph.Products), len(fromSnapshot.Products), len(truth.Products))
		}
		for i, p := range truth.Products {
			for _, other := range []license.ProductFigures{fromSnapshot.Products[i], fromGraph.Products[i]} {
				if other.SKU != p.SKU || other.Sold != p.Sold || other.Assigned != p.Assigned || other.Counted != p.Counted {
					t.Errorf("%s: product %+v, want %+v", c.ID, other, p)
				}
			}
		}
	}
}

// TestDirectoryPagesInOneDocument writes directory/subscriptions as Graph
// pages them, two subscriptions to a page, all pages in one document, and
// reads them back through pkg/source: the same subscriptions as the single
// page, none lost or counted twice (docs/definitions.md#sources, paged lists).
func TestDirectoryPagesInOneDocument(t *testing.T) {
	cfg, specs := sampleCustomers(t)
	paged := 0
	for _, c := range specs {
		tr := groundTruth(t, cfg, c)
		var buf bytes.Buffer
		if err := portfoliogen.WriteDirectorySubscriptionsPages(&buf, cfg, c, 2); err != nil {
			t.Fatal(err)
		}
		raw := buf.Bytes()
		// ⌈subscriptions / 2⌉ pages, each but the last naming the next.
		pages := (len(tr.subs) + 1) / 2
		if n := bytes.Count(raw, []byte(`"@odata.context"`)); n != pages {
			t.Fatalf("%s: %d subscriptions written as %d pages, want %d", c.ID, len(tr.subs), n, pages)
		}
		if n := bytes.Count(raw, []byte(`"@odata.nextLink"`)); n != pages-1 {
			t.Fatalf("%s: %d next links over %d pages", c.ID, n, pages)
		}
		if pages > 1 {
			paged++
		}
		kind := sourceKind(t, portfoliogen.KindGraphDirectorySubscriptions)
		if got, err := source.Detect(raw[:min(len(raw), source.DetectSize)]); err != nil || got != kind {
			t.Errorf("%s: Detect says %q (%v), want %q", c.ID, got, err, kind)
		}
		doc, err := source.Parse(bytes.NewReader(raw), kind, source.Options{PartnerTenantID: cfg.PartnerTenant(), CustomerID: c.ID}, nil)
		if err != nil {
			t.Fatalf("%s: paged directory does not parse: %v", c.ID, err)
		}
		if doc.SkippedTotal != 0 || len(doc.Subscriptions) != len(tr.subs) {
			t.Fatalf("%s: paged directory gave %d subscriptions (%d skipped: %v), want %d", c.ID, len(doc.Subscriptions), doc.SkippedTotal, doc.Skipped, len(tr.subs))
		}
		for i, s := range doc.Subscriptions {
			if !sameSubscription(s, tr.subs[i]) {
				t.Errorf("%s: paged subscription %d read as %+v, want %+v", c.ID, i, s, tr.subs[i])
			}
		}
	}
	if paged == 0 {
		t.Error("no sample customer has more than one page")
	}
}
