package customers

import (
	"bytes"
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/portfoliogen"
	"github.com/licenseinsights/licenseinsights/pkg/view"
)

// generated ingests a generated portfolio through the POST route and gives
// its customer ids.
func generated(t *testing.T, s *stack, tenant string, cfg portfoliogen.Config) []portfoliogen.CustomerSpec {
	t.Helper()
	specs := portfoliogen.Customers(cfg)
	docs := map[string]string{}
	for _, c := range specs {
		var b bytes.Buffer
		if err := portfoliogen.WriteSnapshot(&b, cfg, c); err != nil {
			t.Fatal(err)
		}
		docs[c.ID] = b.String()
	}
	s.postAll(t, tenant, docs)
	return specs
}

// listItem is an item of the list as the route encodes it (conforms checks
// its shape against openapi.yaml, as history's HistoryPoint is checked).
type listItem = view.Headline

type listPage struct {
	Items      []listItem `json:"items"`
	NextCursor *string    `json:"nextCursor"`
}

func (s *stack) listPage(t *testing.T, tenant string, query map[string]string) (listPage, response) {
	t.Helper()
	resp := s.get(t, tenant, RouteList, nil, query)
	var p listPage
	if resp.status == http.StatusOK {
		conforms(t, RouteList, resp)
		if err := json.Unmarshal([]byte(resp.body), &p); err != nil {
			t.Fatal(err)
		}
	}
	return p, resp
}

// readAll pages through the list with the given query.
func (s *stack) readAll(t *testing.T, tenant string, query map[string]string, limit int) []listItem {
	t.Helper()
	var all []listItem
	q := map[string]string{"limit": strconv.Itoa(limit)}
	for k, v := range query {
		q[k] = v
	}
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("the cursor never ends")
		}
		p, resp := s.listPage(t, tenant, q)
		if resp.status != http.StatusOK {
			t.Fatalf("%v: %d %s", q, resp.status, resp.body)
		}
		if len(p.Items) > limit {
			t.Fatalf("%v: a page of %d items", q, len(p.Items))
		}
		all = append(all, p.Items...)
		if p.NextCursor == nil {
			return all
		}
		if len(p.Items) != limit {
			t.Fatalf("%v: a short page (%d) that has a next cursor", q, len(p.Items))
		}
		q["cursor"] = *p.NextCursor
	}
}

// inOrder compares two neighbours of a list sorted by sort; the order is
// the index's: by value, unknown values last in both directions, ties by
// customer id (reversed when descending).
func inOrder(sort string, a, b listItem) bool {
	desc := strings.HasPrefix(sort, "-")
	var c int
	switch strings.TrimPrefix(sort, "-") {
	case "name":
		c = cmp.Compare(strings.ToLower(a.CustomerName)+"#"+a.CustomerID, strings.ToLower(b.CustomerName)+"#"+b.CustomerID)
	default:
		pa, pb := a.UsagePercent, b.UsagePercent
		if strings.TrimPrefix(sort, "-") == "deployment" {
			pa, pb = a.DeploymentPercent, b.DeploymentPercent
		}
		switch {
		case pa == nil && pb != nil:
			return false
		case pa != nil && pb == nil:
			return true
		case pa == nil && pb == nil:
			c = cmp.Compare(a.CustomerID, b.CustomerID)
		default:
			c = cmp.Or(cmp.Compare(*pa, *pb), cmp.Compare(a.CustomerID, b.CustomerID))
		}
	}
	if desc {
		return c > 0
	}
	return c < 0
}

// GET /v1/customers pages through more customers than a page holds in
// every order: no duplicates, no gaps, each page in order, the band filter
// exact, and every item's headline figures as the insights give them.
func TestListCustomers(t *testing.T) {
	t.Parallel()
	s := newStack(t, testConfig(t))
	const tenant = "tenant-list"
	d, _ := license.ParseDate(reportDate)
	specs := generated(t, s, tenant, portfoliogen.Config{Seed: 7, Customers: 13, Users: 12, ReportDate: d})
	// A customer with subscriptions but no users yet has no usage figure:
	// it must come last by usage.
	s.post(t, tenant, "zz-empty", snapshot{
		Customer: map[string]any{"id": "zz-empty", "name": "Aardvark Empty"}, ReportDate: reportDate,
		Subscriptions: []map[string]any{{"id": "s1", "sku": "SPB", "name": "Microsoft 365 Business Premium", "quantity": 5, "status": "active", "channel": "own"}},
		Users:         []snapUser{},
	}.json(t))
	// Another tenant's customer never shows.
	s.post(t, "tenant-other", "fabrikam", fabrikamSnapshot(t))

	ids := []string{"zz-empty"}
	for _, c := range specs {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)

	// The reference: every customer's headline, as its insights give it.
	want := map[string]listItem{}
	for _, id := range ids {
		resp := insightsOf(t, s, tenant, id, nil)
		var in struct {
			CustomerName, ReportDate, Band string
			Deployment                     struct {
				LicensesSold, LicensesAssigned, Unassigned int
				Percent                                    *float64
			}
			Usage struct {
				Entitlements, ActiveEntitlements int
				Percent                          *float64
			}
		}
		if err := json.Unmarshal([]byte(resp.body), &in); err != nil || resp.status != http.StatusOK {
			t.Fatalf("insights of %s: %d %s", id, resp.status, resp.body)
		}
		want[id] = listItem{
			CustomerID: id, CustomerName: in.CustomerName, ReportDate: in.ReportDate,
			UsagePercent: in.Usage.Percent, DeploymentPercent: in.Deployment.Percent,
			LicensesSold: in.Deployment.LicensesSold, LicensesAssigned: in.Deployment.LicensesAssigned, Unassigned: in.Deployment.Unassigned,
			Entitlements: in.Usage.Entitlements, ActiveEntitlements: in.Usage.ActiveEntitlements, Band: in.Band,
		}
	}
	if want["zz-empty"].UsagePercent != nil || want["zz-empty"].Band != "unknown" {
		t.Fatalf("test set-up: the empty customer has usage %v, band %s", want["zz-empty"].UsagePercent, want["zz-empty"].Band)
	}

	for _, sort := range []string{"", "name", "-name", "usage", "-usage", "deployment", "-deployment"} {
		for _, limit := range []int{5, 14, 500} {
			query := map[string]string{}
			if sort != "" {
				query["sort"] = sort
			}
			items := s.readAll(t, tenant, query, limit)
			var got []string
			for i, it := range items {
				got = append(got, it.CustomerID)
				if w := want[it.CustomerID]; !sameItem(it, w) {
					t.Errorf("sort=%s: item %+v, insights say %+v", sort, it, w)
				}
				order := cmp.Or(sort, "name")
				if i > 0 && !inOrder(order, items[i-1], it) {
					t.Errorf("sort=%s limit=%d: %s before %s", sort, limit, items[i-1].CustomerID, it.CustomerID)
				}
			}
			sorted := slices.Clone(got)
			slices.Sort(sorted)
			if !slices.Equal(sorted, ids) {
				t.Errorf("sort=%s limit=%d: listed %v, want each of %v exactly once", sort, limit, got, ids)
			}
		}
	}

	// Bands: each customer in exactly the band of its figures, in every order.
	for _, sort := range []string{"name", "-usage", "deployment"} {
		seen := map[string]string{}
		for _, band := range license.Bands {
			for _, it := range s.readAll(t, tenant, map[string]string{"sort": sort, "band": string(band)}, 2) {
				if it.Band != string(band) {
					t.Errorf("band=%s sort=%s: %s is %s", band, sort, it.CustomerID, it.Band)
				}
				if prev, dup := seen[it.CustomerID]; dup {
					t.Errorf("sort=%s: %s listed in %s and %s", sort, it.CustomerID, prev, band)
				}
				seen[it.CustomerID] = string(band)
			}
		}
		if len(seen) != len(ids) {
			t.Errorf("sort=%s: the bands list %d customers, want %d", sort, len(seen), len(ids))
		}
	}

	// Cursors continue only the list they came from.
	first, _ := s.listPage(t, tenant, map[string]string{"sort": "usage", "limit": "3"})
	if first.NextCursor == nil {
		t.Fatal("test set-up: no second page")
	}
	cursor := *first.NextCursor
	second, resp := s.listPage(t, tenant, map[string]string{"sort": "usage", "limit": "3", "cursor": cursor})
	if resp.status != http.StatusOK || len(second.Items) != 3 {
		t.Fatalf("the genuine cursor: %d %s", resp.status, resp.body)
	}
	for name, q := range map[string]map[string]string{
		"another sort":      {"sort": "name", "limit": "3", "cursor": cursor},
		"another direction": {"sort": "-usage", "limit": "3", "cursor": cursor},
		"another band":      {"sort": "usage", "band": "high", "limit": "3", "cursor": cursor},
		"garbage":           {"sort": "usage", "limit": "3", "cursor": "not-a-cursor!"},
		"tampered":          {"sort": "usage", "limit": "3", "cursor": cursor[:len(cursor)-4]},
	} {
		_, resp := s.listPage(t, tenant, q)
		if got := errorCode(t, resp); got != "400 bad_request" {
			t.Errorf("%s: %s %s", name, got, resp.body)
		}
	}
	_, resp = s.listPage(t, "tenant-other", map[string]string{"sort": "usage", "limit": "3", "cursor": cursor})
	if got := errorCode(t, resp); got != "400 bad_request" {
		t.Errorf("another tenant's cursor: %s %s", got, resp.body)
	}
	for _, q := range []map[string]string{
		{"limit": "0"}, {"limit": "501"}, {"limit": "ten"}, {"sort": "size"}, {"sort": "--usage"}, {"band": "huge"},
	} {
		_, resp := s.listPage(t, tenant, q)
		if got := errorCode(t, resp); got != "400 bad_request" {
			t.Errorf("%v: %s", q, got)
		}
		conforms(t, RouteList, resp)
	}
	// The default page is 50: everything here, no cursor.
	p, _ := s.listPage(t, tenant, nil)
	if len(p.Items) != len(ids) || p.NextCursor != nil {
		t.Errorf("default page: %d items, cursor %v", len(p.Items), p.NextCursor)
	}
	// Another tenant sees only its own.
	p, _ = s.listPage(t, "tenant-other", nil)
	if len(p.Items) != 1 || p.Items[0].CustomerID != "fabrikam" {
		t.Errorf("tenant-other lists %+v", p.Items)
	}
}

func sameItem(a, b listItem) bool {
	eq := func(x, y *float64) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return eq(a.UsagePercent, b.UsagePercent) && eq(a.DeploymentPercent, b.DeploymentPercent) &&
		a.CustomerID == b.CustomerID && a.CustomerName == b.CustomerName && a.ReportDate == b.ReportDate &&
		a.LicensesSold == b.LicensesSold && a.LicensesAssigned == b.LicensesAssigned && a.Unassigned == b.Unassigned &&
		a.Entitlements == b.Entitlements && a.ActiveEntitlements == b.ActiveEntitlements && a.Band == b.Band
}

type historyPage struct {
	Items      []HistoryPoint `json:"items"`
	NextCursor *string        `json:"nextCursor"`
}

func (s *stack) history(t *testing.T, tenant, customer string, query map[string]string) (historyPage, response) {
	t.Helper()
	resp := s.get(t, tenant, RouteHistory, map[string]string{"customerId": customer}, query)
	conforms(t, RouteHistory, resp)
	var p historyPage
	if resp.status == http.StatusOK {
		if err := json.Unmarshal([]byte(resp.body), &p); err != nil {
			t.Fatal(err)
		}
	}
	return p, resp
}

// GET /v1/customers/{id}/history: the daily headline figures, in date
// order, paged, bounded by from and to.
func TestHistory(t *testing.T) {
	t.Parallel()
	s := newStack(t, testConfig(t))
	const tenant = "tenant-history"
	// Northwind reports on three days; each day one more of its users
	// becomes active in exchange (n1 only, then n1 + n2, then all but n4…).
	days := []string{"2026-11-18", "2026-11-19", "2026-11-20"}
	for i, d := range days {
		var doc snapshot
		if err := json.Unmarshal([]byte(northwindSnapshot(t)), &doc); err != nil {
			t.Fatal(err)
		}
		doc.ReportDate = d
		for u := range doc.Users {
			use := used(true, "")
			if u <= i {
				use = used(true, d)
			}
			doc.Users[u].Workloads = map[string]snapUse{"exchange": use, "teams": used(true, "")}
		}
		s.post(t, tenant, "northwind", doc.json(t))
	}
	// Day i: exchange i+1 of 4 active, teams 0 of 4: usage (i+1) ÷ 8;
	// deployment 4 of 10 = 40.0 % every day; inactive 4 − (i+1).
	want := []HistoryPoint{
		{Date: days[0], LicensesSold: 10, LicensesAssigned: 4, DeploymentPercent: ptr(40.0), Unassigned: 6, Entitlements: 8, ActiveEntitlements: 1,
			UsagePercent: ptr(12.5), AdjustedUsagePercent: ptr(12.5), InactiveLicensedUsers: 3, Band: "low"},
		{Date: days[1], LicensesSold: 10, LicensesAssigned: 4, DeploymentPercent: ptr(40.0), Unassigned: 6, Entitlements: 8, ActiveEntitlements: 2,
			UsagePercent: ptr(25.0), AdjustedUsagePercent: ptr(25.0), InactiveLicensedUsers: 2, Band: "low"},
		{Date: days[2], LicensesSold: 10, LicensesAssigned: 4, DeploymentPercent: ptr(40.0), Unassigned: 6, Entitlements: 8, ActiveEntitlements: 3,
			UsagePercent: ptr(37.5), AdjustedUsagePercent: ptr(37.5), InactiveLicensedUsers: 1, Band: "low"},
	}
	p, resp := s.history(t, tenant, "northwind", nil)
	if resp.status != http.StatusOK {
		t.Fatalf("%d %s", resp.status, resp.body)
	}
	if got, _ := json.Marshal(p.Items); string(got) != string(must(json.Marshal(want))) || p.NextCursor != nil {
		t.Fatalf("history:\n got %s (cursor %v)\nwant %s", got, p.NextCursor, must(json.Marshal(want)))
	}

	// Pages of two: two, then one, in order.
	p1, _ := s.history(t, tenant, "northwind", map[string]string{"limit": "2"})
	if len(p1.Items) != 2 || p1.NextCursor == nil || p1.Items[0].Date != days[0] || p1.Items[1].Date != days[1] {
		t.Fatalf("first page: %+v", p1)
	}
	p2, _ := s.history(t, tenant, "northwind", map[string]string{"limit": "2", "cursor": *p1.NextCursor})
	if len(p2.Items) != 1 || p2.NextCursor != nil || p2.Items[0].Date != days[2] {
		t.Fatalf("second page: %+v", p2)
	}
	// from / to, both included.
	for _, tc := range []struct {
		from, to string
		want     []string
	}{
		{"2026-11-19", "", days[1:]},
		{"", "2026-11-19", days[:2]},
		{"2026-11-19", "2026-11-19", days[1:2]},
		{"2026-11-21", "", nil},
	} {
		q := map[string]string{}
		if tc.from != "" {
			q["from"] = tc.from
		}
		if tc.to != "" {
			q["to"] = tc.to
		}
		p, resp := s.history(t, tenant, "northwind", q)
		var got []string
		for _, it := range p.Items {
			got = append(got, it.Date)
		}
		if resp.status != http.StatusOK || !slices.Equal(got, tc.want) {
			t.Errorf("from=%s to=%s: %d %v, want %v", tc.from, tc.to, resp.status, got, tc.want)
		}
	}
	// Errors.
	for name, tc := range map[string]struct {
		tenant, customer string
		query            map[string]string
		want             string
	}{
		"unknown customer":        {tenant, "ghost", nil, "404 not_found"},
		"another tenant's":        {"tenant-other", "northwind", nil, "404 not_found"},
		"bad from":                {tenant, "northwind", map[string]string{"from": "19/11/2026"}, "400 bad_request"},
		"from after to":           {tenant, "northwind", map[string]string{"from": "2026-11-20", "to": "2026-11-19"}, "400 bad_request"},
		"limit":                   {tenant, "northwind", map[string]string{"limit": "0"}, "400 bad_request"},
		"another customer's page": {tenant, "ghost", map[string]string{"cursor": *p1.NextCursor}, "400 bad_request"},
		"garbage cursor":          {tenant, "northwind", map[string]string{"cursor": "%%%"}, "400 bad_request"},
	} {
		_, resp := s.history(t, tc.tenant, tc.customer, tc.query)
		if got := errorCode(t, resp); got != tc.want {
			t.Errorf("%s: %s %s, want %s", name, got, resp.body, tc.want)
		}
	}
}

func ptr(v float64) *float64 { return &v }

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
