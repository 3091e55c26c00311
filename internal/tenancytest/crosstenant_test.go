package tenancytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/licenseinsights/licenseinsights/internal/apitest"
	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// routeCase is how the suite attacks one route of template.yaml.
type routeCase struct {
	// write marks a case that changes tenant B's data; such cases run
	// after every read-only one, whose expectations are B's data as the
	// set-up made it.
	write bool
	// asWrongTenant calls the route as tenant B with tenant A's ids and
	// checks that nothing of A comes back.
	asWrongTenant func(t *testing.T, w *world)
	// probe is a well-formed request of the route as tenant B, for the
	// token checks (no token, unknown token, reader role), which run after
	// every case.
	probe func(w *world) (target string, body []byte)
	// reader is the status B's reader token gets for the probe: 403 for
	// every write route, and for the export routes, which
	// pkg/api/exports keeps to writers (exports carry user data).
	reader int
}

// cases covers every route of template.yaml, keyed "METHOD /path" exactly
// as the template writes it.
func cases() map[string]routeCase {
	// A's collection run, made by whichever collection case runs first
	// (A's connection to Microsoft is not configured, so its run fails at
	// once with its reason: it exists, which is all these cases need).
	var runA string
	collectionOfA := func(t *testing.T, w *world) string {
		if runA == "" {
			var run struct{ CollectionID string }
			want(t, "A starts a collection", w.call(t, tokenA, http.MethodPost, "/v1/collections", nil), http.StatusAccepted, &run)
			runA = run.CollectionID
		}
		return runA
	}
	const missingCollectionID = "20200101t000000-0123456789ab"
	return map[string]routeCase{
		"POST /v1/collections": {
			write: true,
			asWrongTenant: func(t *testing.T, w *world) {
				a := collectionOfA(t, w)
				var run struct{ CollectionID string }
				want(t, "B starts a collection", w.asB(t, http.MethodPost, "/v1/collections", nil), http.StatusAccepted, &run)
				if run.CollectionID == a || run.CollectionID == "" {
					t.Fatalf("B's run %q, A's %q: want a run of B's own", run.CollectionID, a)
				}
				w.sameAsMissing(t, http.MethodGet, path("/v1/collections/%s"), nil, a, missingCollectionID)
			},
			probe:  func(*world) (string, []byte) { return "/v1/collections", nil },
			reader: http.StatusForbidden,
		},

		"GET /v1/collections": {
			asWrongTenant: func(t *testing.T, w *world) {
				a := collectionOfA(t, w)
				var p page[struct{ CollectionID string }]
				want(t, "B's runs", w.asB(t, http.MethodGet, "/v1/collections?limit=500", nil), http.StatusOK, &p)
				for _, r := range p.Items {
					if r.CollectionID == a {
						t.Errorf("B's runs list A's run %s", a)
					}
				}
			},
			probe:  func(*world) (string, []byte) { return "/v1/collections", nil },
			reader: http.StatusOK,
		},

		"GET /v1/collections/{collectionId}": {
			asWrongTenant: func(t *testing.T, w *world) {
				w.sameAsMissing(t, http.MethodGet, path("/v1/collections/%s"), nil, collectionOfA(t, w), missingCollectionID)
			},
			probe:  func(*world) (string, []byte) { return "/v1/collections/" + missingCollectionID, nil },
			reader: http.StatusNotFound,
		},

		"PUT /v1/collection/customers": {
			write: true,
			asWrongTenant: func(t *testing.T, w *world) {
				const ofA, ofB = "0b1c2d3e-0000-4000-8000-00000000000a", "0b1c2d3e-0000-4000-8000-00000000000b"
				want(t, "A lists its customers", w.call(t, tokenA, http.MethodPut, "/v1/collection/customers", jsonBody(map[string]any{"customerIds": []string{ofA}})), http.StatusOK, nil)
				want(t, "B lists its customers", w.asB(t, http.MethodPut, "/v1/collection/customers", jsonBody(map[string]any{"customerIds": []string{ofB}})), http.StatusOK, nil)
				var got struct{ CustomerIDs []string }
				want(t, "A's list", w.call(t, tokenA, http.MethodGet, "/v1/collection/customers", nil), http.StatusOK, &got)
				if !slices.Equal(got.CustomerIDs, []string{ofA}) {
					t.Errorf("A's list after B's: %v, want [%s]", got.CustomerIDs, ofA)
				}
			},
			probe: func(*world) (string, []byte) {
				return "/v1/collection/customers", jsonBody(map[string]any{"customerIds": []string{"0b1c2d3e-0000-4000-8000-00000000000b"}})
			},
			reader: http.StatusForbidden,
		},

		"GET /v1/collection/customers": {
			asWrongTenant: func(t *testing.T, w *world) {
				// Read-only cases run before every write: neither tenant
				// has a list yet, so B sees none (never one of A's).
				var got struct {
					CustomerIDs []string
					Source      string
				}
				want(t, "B's list", w.asB(t, http.MethodGet, "/v1/collection/customers", nil), http.StatusOK, &got)
				if len(got.CustomerIDs) != 0 || got.Source != "partner-center" {
					t.Errorf("B's list before any PUT: %+v, want none (partner-center)", got)
				}
			},
			probe:  func(*world) (string, []byte) { return "/v1/collection/customers", nil },
			reader: http.StatusOK,
		},

		"POST /v1/customers/{customerId}/reports": {
			write: true,
			asWrongTenant: func(t *testing.T, w *world) {
				// B sends a new document for acme, an id A also has. It is
				// B's acme that changes; A's acme stays as it was (checked
				// here and, byte for byte with all of A's views, at the end).
				var out struct{ Status string }
				want(t, "B posts acme", w.asB(t, http.MethodPost, "/v1/customers/acme/reports?kind=snapshot", snapshot(tenantB, acmeB2, w.date)), http.StatusOK, &out)
				if out.Status != "accepted" {
					t.Fatalf("B's acme document: status %q, want accepted", out.Status)
				}
				w.waitIdle(t)
				var got insights
				want(t, "B's acme", w.asB(t, http.MethodGet, "/v1/customers/acme/insights", nil), http.StatusOK, &got)
				checkInsights(t, "B's acme after B's post", got, acmeB2)
				want(t, "A's acme", w.call(t, tokenA, http.MethodGet, "/v1/customers/acme/insights", nil), http.StatusOK, &got)
				checkInsights(t, "A's acme after B's post", got, customersA[0])
			},
			probe: func(w *world) (string, []byte) {
				return "/v1/customers/acme/reports?kind=snapshot", snapshot(tenantB, acmeB2, w.date)
			},
			reader: http.StatusForbidden,
		},

		"DELETE /v1/customers/{customerId}": {
			write: true,
			asWrongTenant: func(t *testing.T, w *world) {
				// B deleting A's customer gets exactly a missing customer's
				// answer; A's views (compared byte for byte at the end)
				// keep it.
				w.sameAsMissing(t, http.MethodDelete, path("/v1/customers/%s"), nil, aOnly, missingCustomerID)
				if r := w.call(t, tokenA, http.MethodGet, "/v1/customers/"+aOnly+"/insights", nil); r.Status != http.StatusOK {
					t.Fatalf("A's %s after B's delete: %d", aOnly, r.Status)
				}
			},
			probe:  func(*world) (string, []byte) { return "/v1/customers/acme", nil },
			reader: http.StatusForbidden,
		},

		"POST /v1/uploads": {
			write: true,
			asWrongTenant: func(t *testing.T, w *world) {
				// B uploads a document for initech, an id only A has so far.
				// The upload lands under B's prefix and makes a customer of
				// B's; A's initech stays as it was.
				var up upload
				want(t, "B creates an upload", w.asB(t, http.MethodPost, "/v1/uploads", jsonBody(map[string]string{"customerId": initechB.ID, "kind": "snapshot"})), http.StatusCreated, &up)
				if !strings.Contains(up.UploadURL, "/uploads/"+tenantB+"/") {
					t.Errorf("B's upload URL is not under B's prefix: %s", up.UploadURL)
				}
				w.uploadB = up.UploadID
				w.put(t, up.UploadURL, snapshot(tenantB, initechB, w.date))
				w.waitIdle(t)

				var done upload
				want(t, "B's upload", w.asB(t, http.MethodGet, "/v1/uploads/"+up.UploadID, nil), http.StatusOK, &done)
				if done.Status != "succeeded" {
					t.Fatalf("B's upload is %q, want succeeded", done.Status)
				}
				var got insights
				want(t, "B's initech", w.asB(t, http.MethodGet, "/v1/customers/initech/insights", nil), http.StatusOK, &got)
				checkInsights(t, "B's initech after B's upload", got, initechB)
				want(t, "A's initech", w.call(t, tokenA, http.MethodGet, "/v1/customers/initech/insights", nil), http.StatusOK, &got)
				checkInsights(t, "A's initech after B's upload", got, customersA[2])
				// And the other way round: B's upload is not A's.
				if r := w.call(t, tokenA, http.MethodGet, "/v1/uploads/"+up.UploadID, nil); r.Status != http.StatusNotFound {
					t.Errorf("A reads B's upload: %s, want 404", r)
				}
			},
			probe: func(w *world) (string, []byte) {
				return "/v1/uploads", jsonBody(map[string]string{"customerId": "acme", "kind": "snapshot"})
			},
			reader: http.StatusForbidden,
		},

		"GET /v1/uploads/{uploadId}": {
			asWrongTenant: func(t *testing.T, w *world) {
				if r := w.call(t, tokenA, http.MethodGet, "/v1/uploads/"+w.uploadA, nil); r.Status != http.StatusOK {
					t.Fatalf("A reads its own upload: %s", r)
				}
				w.sameAsMissing(t, http.MethodGet, path("/v1/uploads/%s"), nil, w.uploadA, missingUploadID)
			},
			probe:  func(w *world) (string, []byte) { return "/v1/uploads/" + w.uploadB, nil },
			reader: http.StatusOK,
		},

		"GET /v1/customers": {
			asWrongTenant: func(t *testing.T, w *world) {
				own := byID(customersB)
				// Every order and every band filter lists B's customers
				// only, with B's figures; the unfiltered orders list all
				// of them.
				for _, q := range []string{"", "?sort=name", "?sort=-usage", "?sort=deployment", "?band=low", "?band=medium", "?band=high", "?band=unknown"} {
					var p page[headline]
					want(t, "B's list "+q, w.asB(t, http.MethodGet, "/v1/customers"+q, nil), http.StatusOK, &p)
					var ids []string
					for _, h := range p.Items {
						checkHeadline(t, "B's list "+q, h, own)
						ids = append(ids, h.CustomerID)
					}
					if !strings.Contains(q, "band") {
						slices.Sort(ids)
						if wantIDs := slices.Sorted(maps.Keys(own)); !slices.Equal(ids, wantIDs) {
							t.Errorf("B's list %s: customers %v, want %v", q, ids, wantIDs)
						}
					}
				}
				// A's cursor handed to B continues B's list, or is refused;
				// it never reaches into A's.
				var pa page[headline]
				want(t, "A's first page", w.call(t, tokenA, http.MethodGet, "/v1/customers?limit=1", nil), http.StatusOK, &pa)
				if pa.NextCursor == nil {
					t.Fatal("A's first page of one has no nextCursor although A has four customers")
				}
				r := w.asB(t, http.MethodGet, "/v1/customers?cursor="+url.QueryEscape(*pa.NextCursor), nil)
				switch r.Status {
				case http.StatusOK:
					var p page[headline]
					want(t, "B with A's cursor", r, http.StatusOK, &p)
					for _, h := range p.Items {
						checkHeadline(t, "B with A's cursor", h, own)
					}
				case http.StatusBadRequest:
				default:
					t.Errorf("B with A's cursor: %s, want 200 with B's customers or 400", r)
				}
			},
			probe:  func(*world) (string, []byte) { return "/v1/customers", nil },
			reader: http.StatusOK,
		},

		"GET /v1/customers/{customerId}/insights": {
			asWrongTenant: func(t *testing.T, w *world) {
				// The ids both tenants have answer B's customer.
				for _, c := range customersB {
					var got insights
					want(t, "B's "+c.ID, w.asB(t, http.MethodGet, "/v1/customers/"+c.ID+"/insights", nil), http.StatusOK, &got)
					checkInsights(t, "B's "+c.ID, got, c)
				}
				// An id only A has is not found, like one nobody has, in
				// every window.
				w.sameAsMissing(t, http.MethodGet, path("/v1/customers/%s/insights"), nil, aOnlyRead, missingCustomerID)
				w.sameAsMissing(t, http.MethodGet, path("/v1/customers/%s/insights?window=7"), nil, aOnlyRead, missingCustomerID)
			},
			probe:  func(*world) (string, []byte) { return "/v1/customers/acme/insights", nil },
			reader: http.StatusOK,
		},

		"GET /v1/customers/{customerId}/history": {
			asWrongTenant: func(t *testing.T, w *world) {
				for _, c := range customersB[:2] { // acme and globex: ids A has too
					var p page[historyPoint]
					want(t, "B's history of "+c.ID, w.asB(t, http.MethodGet, "/v1/customers/"+c.ID+"/history", nil), http.StatusOK, &p)
					if len(p.Items) == 0 {
						t.Errorf("B's history of %s is empty", c.ID)
					}
					for _, h := range p.Items {
						if h.LicensesSold != c.Sold || h.LicensesAssigned != c.Users || h.Entitlements != c.Users || h.ActiveEntitlements != c.Active {
							t.Errorf("B's history of %s on %s: sold %d assigned %d entitlements %d active %d; B sent %d %d %d %d",
								c.ID, h.Date, h.LicensesSold, h.LicensesAssigned, h.Entitlements, h.ActiveEntitlements, c.Sold, c.Users, c.Users, c.Active)
						}
					}
				}
				w.sameAsMissing(t, http.MethodGet, path("/v1/customers/%s/history"), nil, aOnlyRead, missingCustomerID)
			},
			probe:  func(*world) (string, []byte) { return "/v1/customers/acme/history", nil },
			reader: http.StatusOK,
		},

		"PUT /v1/prices": {
			write: true,
			asWrongTenant: func(t *testing.T, w *world) {
				// B's list is B's: A's (GBP, set up) stays as it was.
				var p priceList
				want(t, "B puts its prices", w.asB(t, http.MethodPut, "/v1/prices", []byte(pricesB)), http.StatusOK, &p)
				want(t, "B's prices", w.asB(t, http.MethodGet, "/v1/prices", nil), http.StatusOK, &p)
				if p.Currency == nil || *p.Currency != "CHF" || len(p.Prices) != 1 || p.Prices[0].MonthlyPrice != 22.22 {
					t.Errorf("B's prices after B's PUT: %+v, want CHF 22.22", p)
				}
				want(t, "A's prices", w.call(t, tokenA, http.MethodGet, "/v1/prices", nil), http.StatusOK, &p)
				if p.Currency == nil || *p.Currency != "GBP" || len(p.Prices) != 1 || p.Prices[0].MonthlyPrice != 11.11 {
					t.Errorf("A's prices after B's PUT: %+v, want A's GBP 11.11", p)
				}
			},
			probe:  func(*world) (string, []byte) { return "/v1/prices", []byte(pricesB) },
			reader: http.StatusForbidden,
		},

		"GET /v1/prices": {
			asWrongTenant: func(t *testing.T, w *world) {
				var p priceList
				want(t, "B's prices", w.asB(t, http.MethodGet, "/v1/prices", nil), http.StatusOK, &p)
				if p.Source == "tenant" || p.Currency != nil && *p.Currency == "GBP" {
					t.Errorf("B reads %+v before putting any list: A's GBP list leaked", p)
				}
				if r := w.asB(t, http.MethodGet, "/v1/prices?sku=SPE_E3", nil); r.Status == http.StatusOK && strings.Contains(string(r.Body), "11.11") {
					t.Errorf("B's SPE_E3 price is A's: %s", r)
				}
			},
			probe:  func(*world) (string, []byte) { return "/v1/prices", nil },
			reader: http.StatusOK,
		},

		"GET /v1/customers/{customerId}/reclaim": {
			asWrongTenant: func(t *testing.T, w *world) {
				for _, c := range customersB {
					var r reclaimDoc
					want(t, "B's reclaim of "+c.ID, w.asB(t, http.MethodGet, "/v1/customers/"+c.ID+"/reclaim", nil), http.StatusOK, &r)
					if r.CustomerName != c.Name || r.Currency == "GBP" {
						t.Errorf("B's reclaim of %s: %s in %q, want B's %s and not A's prices", c.ID, r.CustomerName, r.Currency, c.Name)
					}
				}
				w.sameAsMissing(t, http.MethodGet, path("/v1/customers/%s/reclaim"), nil, aOnlyRead, missingCustomerID)
			},
			probe:  func(*world) (string, []byte) { return "/v1/customers/acme/reclaim", nil },
			reader: http.StatusOK,
		},

		"GET /v1/portfolio/reclaim": {
			asWrongTenant: func(t *testing.T, w *world) {
				// B's calendar holds B's customers only, and its totals are
				// the sums of B's customers' own calendars.
				var p reclaimDoc
				want(t, "B's calendar", w.asB(t, http.MethodGet, "/v1/portfolio/reclaim?limit=500", nil), http.StatusOK, &p)
				own := byID(customersB)
				for _, it := range p.Items {
					if c, ok := own[it.CustomerID]; !ok || it.CustomerName != c.Name {
						t.Errorf("B's calendar has %s (%s), not one of B's customers", it.CustomerID, it.CustomerName)
					}
				}
				sums := map[license.ReclaimKind]int{}
				for _, c := range customersB {
					var r reclaimDoc
					want(t, "B's reclaim of "+c.ID, w.asB(t, http.MethodGet, "/v1/customers/"+c.ID+"/reclaim", nil), http.StatusOK, &r)
					for _, x := range r.Totals {
						sums[x.Kind] += x.Seats
					}
				}
				for _, x := range p.Totals {
					if x.Seats != sums[x.Kind] {
						t.Errorf("B's calendar %s: %d seats, want the sum of B's customers %d", x.Kind, x.Seats, sums[x.Kind])
					}
				}
			},
			probe:  func(*world) (string, []byte) { return "/v1/portfolio/reclaim", nil },
			reader: http.StatusOK,
		},

		"GET /v1/portfolio": {
			asWrongTenant: func(t *testing.T, w *world) {
				w.checkPortfolio(t, customersB)
			},
			probe:  func(*world) (string, []byte) { return "/v1/portfolio", nil },
			reader: http.StatusOK,
		},

		"GET /v1/portfolio/history": {
			asWrongTenant: func(t *testing.T, w *world) {
				b := sum(customersB)
				var p page[historyPoint]
				want(t, "B's portfolio history", w.asB(t, http.MethodGet, "/v1/portfolio/history?limit=500", nil), http.StatusOK, &p)
				if len(p.Items) == 0 {
					t.Fatal("B's portfolio history is empty")
				}
				// The last day is B's portfolio as it stands; no day holds
				// more than B has (A's customers would push every sum up).
				last := p.Items[len(p.Items)-1]
				got := totals{last.Customers, last.LicensesSold, last.LicensesAssigned, last.Entitlements, last.ActiveEntitlements}
				if got != b {
					t.Errorf("B's portfolio history on %s: %+v, want B's %+v", last.Date, got, b)
				}
				for _, h := range p.Items {
					if h.Customers > b.Customers || h.LicensesSold > b.Sold || h.LicensesAssigned > b.Assigned {
						t.Errorf("B's portfolio history on %s: %+v exceeds all B has (%+v)", h.Date, h, b)
					}
				}
			},
			probe:  func(*world) (string, []byte) { return "/v1/portfolio/history", nil },
			reader: http.StatusOK,
		},

		"GET /v1/analytics/licenses/deployment": analyticsCase("/v1/analytics/licenses/deployment", "deployment", "sold", "deployed",
			func(r analyticsRow) (int, int) { return deref(r.LicensesSold), deref(r.LicensesDeployed) },
			func(b totals) (int, int) { return b.Sold, b.Assigned }),

		"GET /v1/analytics/licenses/usage": analyticsCase("/v1/analytics/licenses/usage", "usage", "qualified", "active",
			func(r analyticsRow) (int, int) { return deref(r.LicensesQualified), deref(r.LicensesActive) },
			func(b totals) (int, int) { return b.Entitlements, b.Active }),

		"POST /v1/exports": {
			write: true,
			asWrongTenant: func(t *testing.T, w *world) {
				// A customer only A has is refused like one nobody has.
				body := func(id string) string {
					return string(jsonBody(map[string]string{"dataset": "users", "customerId": id, "format": "csv"}))
				}
				w.sameAsMissing(t, http.MethodPost, fixed("/v1/exports"), body, aOnly, missingCustomerID)
				// An id both have exports B's customer: B's users only.
				globex := customersB[1]
				var job exportJob
				want(t, "B exports globex", w.asB(t, http.MethodPost, "/v1/exports", []byte(body(globex.ID))), http.StatusAccepted, &job)
				w.waitIdle(t)
				rows := w.exportRows(t, job.ExportID)
				var keys []string
				for _, r := range rows {
					if r["customerId"] != globex.ID || r["customerName"] != globex.Name {
						t.Errorf("B's globex export has a row of %q %q", r["customerId"], r["customerName"])
					}
					keys = append(keys, r["userKey"])
				}
				var wantKeys []string
				for i := range globex.Users {
					wantKeys = append(wantKeys, userKey(tenantB, globex, i))
				}
				slices.Sort(keys)
				if !slices.Equal(keys, wantKeys) {
					t.Errorf("B's globex export has users %v, want B's %v", keys, wantKeys)
				}
			},
			probe: func(*world) (string, []byte) {
				return "/v1/exports", jsonBody(map[string]string{"dataset": "customers", "format": "csv"})
			},
			reader: http.StatusForbidden,
		},

		"GET /v1/exports": {
			asWrongTenant: func(t *testing.T, w *world) {
				var p page[exportJob]
				want(t, "B's exports", w.asB(t, http.MethodGet, "/v1/exports?limit=500", nil), http.StatusOK, &p)
				var ids []string
				for _, e := range p.Items {
					ids = append(ids, e.ExportID)
				}
				if !slices.Equal(ids, []string{w.exportB}) {
					t.Errorf("B's exports: %v, want only B's %s (A's is %s)", ids, w.exportB, w.exportA)
				}
			},
			probe:  func(*world) (string, []byte) { return "/v1/exports", nil },
			reader: http.StatusForbidden,
		},

		"GET /v1/exports/{exportId}": {
			asWrongTenant: func(t *testing.T, w *world) {
				if r := w.call(t, tokenA, http.MethodGet, "/v1/exports/"+w.exportA, nil); r.Status != http.StatusOK {
					t.Fatalf("A reads its own export: %s", r)
				}
				w.sameAsMissing(t, http.MethodGet, path("/v1/exports/%s"), nil, w.exportA, missingExportID)
				// B's own customers export holds B's customers, no others.
				var names []string
				for _, r := range w.exportRows(t, w.exportB) {
					names = append(names, r["customerName"])
				}
				var wantNames []string
				for _, c := range customersB {
					wantNames = append(wantNames, c.Name)
				}
				slices.Sort(names)
				slices.Sort(wantNames)
				if !slices.Equal(names, wantNames) {
					t.Errorf("B's customers export: %v, want B's %v", names, wantNames)
				}
			},
			probe:  func(w *world) (string, []byte) { return "/v1/exports/" + w.exportB, nil },
			reader: http.StatusForbidden,
		},

		"POST /v1/exports/{exportId}/link": {
			asWrongTenant: func(t *testing.T, w *world) {
				if r := w.call(t, tokenA, http.MethodPost, "/v1/exports/"+w.exportA+"/link", nil); r.Status != http.StatusOK {
					t.Fatalf("A links its own export: %s", r)
				}
				w.sameAsMissing(t, http.MethodPost, path("/v1/exports/%s/link"), nil, w.exportA, missingExportID)
				var e exportJob
				want(t, "B links its own export", w.asB(t, http.MethodPost, "/v1/exports/"+w.exportB+"/link", nil), http.StatusOK, &e)
				if e.DownloadURL == nil {
					t.Error("B's own link has no downloadUrl")
				}
			},
			probe:  func(w *world) (string, []byte) { return "/v1/exports/" + w.exportB + "/link", nil },
			reader: http.StatusForbidden,
		},
	}
}

// TestEveryRouteHasACrossTenantCase fails when template.yaml gains a route
// without a case here, or loses one a case still names.
func TestEveryRouteHasACrossTenantCase(t *testing.T) {
	cs := cases()
	apitest.CoverRoutes(t, cs, "cross-tenant", "internal/tenancytest", nil)
	for key, c := range cs {
		if c.asWrongTenant == nil || c.probe == nil || c.reader == 0 {
			t.Errorf("case %s is incomplete", key)
		}
		if (strings.HasPrefix(key, "POST ") || strings.HasPrefix(key, "DELETE ")) && c.reader != http.StatusForbidden {
			t.Errorf("case %s: a reader must get 403 on a write route", key)
		}
	}
}

// TestCrossTenant runs every case against the local stack: tenant B, with
// its own customers under the same ids as tenant A's, tries A's resources
// on every route; then every route is tried without a token, with an
// unknown one and with B's reader token; finally all of A's views must
// read exactly as before B did anything.
func TestCrossTenant(t *testing.T) {
	cs := cases()
	routes := apitest.Routes(t)
	start := time.Now()
	w := startWorld(t)
	w.setUp(t)
	t.Logf("stack and set-up: %v", time.Since(start).Round(time.Millisecond))
	before := w.viewsOfA(t)

	// A missing case fails TestEveryRouteHasACrossTenantCase.
	apitest.RunReadsThenWrites(t, routes, cs, func(_ infra.Route, c routeCase) bool { return c.write },
		func(t *testing.T, _ string, c routeCase) { c.asWrongTenant(t, w) })

	t.Run("tokens", func(t *testing.T) {
		for _, r := range routes {
			key := r.Method + " " + r.Path
			c, ok := cs[key]
			if !ok {
				continue
			}
			target, body := c.probe(w)
			for _, token := range []string{"", "not-a-token"} {
				got := w.call(t, token, r.Method, target, body)
				var e struct {
					Error struct{ Code string } `json:"error"`
				}
				if got.Status != http.StatusUnauthorized || json.Unmarshal(got.Body, &e) != nil || e.Error.Code != "unauthorized" {
					t.Errorf("%s with token %q: %s, want 401 unauthorized", key, token, got)
				}
			}
			got := w.call(t, tokenBReader, r.Method, target, body)
			noTraceOfA(t, key+" as B's reader", got.Body)
			if got.Status != c.reader {
				t.Errorf("%s as B's reader: %s, want %d", key, got, c.reader)
			}
		}
	})

	// What B wrote went to B: its portfolio is the set-up's with acme
	// replaced and initech added (the readers' refused posts changed
	// nothing).
	w.waitIdle(t)
	t.Run("B's writes stayed B's", func(t *testing.T) {
		w.checkPortfolio(t, []customer{acmeB2, customersB[1], customersB[2], initechB})
	})

	t.Run("A's views are unchanged", func(t *testing.T) {
		after := w.viewsOfA(t)
		for _, target := range slices.Sorted(maps.Keys(before)) {
			if before[target] != after[target] {
				t.Errorf("A's %s changed while B acted:\nbefore: %s\n after: %s", target, apitest.Truncate(before[target], 800), apitest.Truncate(after[target], 800))
			}
		}
	})
}

// setUp ingests both tenants' customers through the API, makes one upload
// for A, one export each, and waits until the roll-ups and exports are
// done.
func (w *world) setUp(t *testing.T) {
	t.Helper()
	for _, c := range customersA {
		w.ingest(t, tokenA, tenantA, c)
	}
	for _, c := range customersB {
		w.ingest(t, tokenB, tenantB, c)
	}
	// A's price list, in a currency B never uses.
	want(t, "A puts its prices", w.call(t, tokenA, http.MethodPut, "/v1/prices", []byte(pricesA)), http.StatusOK, nil)

	var up upload
	want(t, "A creates an upload", w.call(t, tokenA, http.MethodPost, "/v1/uploads", jsonBody(map[string]string{"customerId": "acme", "kind": "snapshot"})), http.StatusCreated, &up)
	w.uploadA = up.UploadID
	w.put(t, up.UploadURL, snapshot(tenantA, customersA[0], w.date))

	var job exportJob
	want(t, "A exports users", w.call(t, tokenA, http.MethodPost, "/v1/exports", jsonBody(map[string]string{"dataset": "users", "format": "csv"})), http.StatusAccepted, &job)
	w.exportA = job.ExportID
	want(t, "B exports customers", w.call(t, tokenB, http.MethodPost, "/v1/exports", jsonBody(map[string]string{"dataset": "customers", "format": "csv"})), http.StatusAccepted, &job)
	w.exportB = job.ExportID
	w.waitIdle(t)

	// The things B will be denied exist and work for their owner.
	var done upload
	want(t, "A's upload", w.call(t, tokenA, http.MethodGet, "/v1/uploads/"+w.uploadA, nil), http.StatusOK, &done)
	if done.Status != "succeeded" {
		t.Fatalf("A's upload is %q, want succeeded", done.Status)
	}
	for _, e := range []struct{ token, id string }{{tokenA, w.exportA}, {tokenB, w.exportB}} {
		want(t, "export "+e.id, w.call(t, e.token, http.MethodGet, "/v1/exports/"+e.id, nil), http.StatusOK, &job)
		if job.Status != "succeeded" {
			t.Fatalf("export %s is %q, want succeeded", e.id, job.Status)
		}
	}
	w.checkPortfolioOf(t, tokenA, customersA)
}

// ingest posts c's snapshot as token's tenant.
func (w *world) ingest(t *testing.T, token, tenant string, c customer) {
	t.Helper()
	var out struct {
		Status string
		Users  int
	}
	want(t, tenant+" posts "+c.ID, w.call(t, token, http.MethodPost, "/v1/customers/"+c.ID+"/reports?kind=snapshot", snapshot(tenant, c, w.date)), http.StatusOK, &out)
	if out.Status != "accepted" || out.Users != c.Users {
		t.Fatalf("%s's %s: %+v, want accepted with %d users", tenant, c.ID, out, c.Users)
	}
}

// put uploads body to a presigned URL, as a client of POST /v1/uploads does.
func (w *world) put(t *testing.T, presigned string, body []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, presigned, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if r := w.send(t, req); r.Status != http.StatusOK {
		t.Fatalf("PUT to the presigned upload URL: %s", r)
	}
}

// checkPortfolio checks B's portfolio against B's customers.
func (w *world) checkPortfolio(t *testing.T, own []customer) {
	t.Helper()
	w.checkPortfolioOf(t, tokenB, own)
}

func (w *world) checkPortfolioOf(t *testing.T, token string, own []customer) {
	t.Helper()
	var p portfolio
	r := w.call(t, token, http.MethodGet, "/v1/portfolio?top=100", nil)
	if token == tokenB {
		noTraceOfA(t, "B's portfolio", r.Body)
	}
	want(t, "portfolio", r, http.StatusOK, &p)
	s := sum(own)
	if p.Customers != s.Customers {
		t.Errorf("portfolio of %s: %d customers, want %d", token, p.Customers, s.Customers)
	}
	checkBlocks(t, "portfolio of "+token, p.blocks, s)
	ids := byID(own)
	for name, list := range map[string][]headline{"lowestUsage": p.LowestUsage, "mostUnassigned": p.MostUnassigned, "upsellCandidates": p.UpsellCandidates} {
		for _, h := range list {
			checkHeadline(t, fmt.Sprintf("portfolio of %s, %s", token, name), h, ids)
		}
	}
}

// analytics reads every row of an analytics route as B, with an optional
// filter.
// analyticsCase is the case of an analytics route: B's rows sum two of
// their columns (of) to B's totals (want), and filtering on a customer only
// A has finds nothing.
func analyticsCase(route, what, first, second string, of func(analyticsRow) (int, int), want func(totals) (int, int)) routeCase {
	return routeCase{
		asWrongTenant: func(t *testing.T, w *world) {
			wantFirst, wantSecond := want(sum(customersB))
			rows := w.analytics(t, route, "")
			var gotFirst, gotSecond int
			for _, r := range rows {
				x, y := of(r)
				gotFirst += x
				gotSecond += y
			}
			if gotFirst != wantFirst || gotSecond != wantSecond {
				t.Errorf("B's %s rows: %s %d %s %d, want B's %d %d", what, first, gotFirst, second, gotSecond, wantFirst, wantSecond)
			}
			// Filtering on a customer only A has finds nothing.
			if rows := w.analytics(t, route, "customerId eq '"+aOnlyRead+"'"); len(rows) != 0 {
				t.Errorf("B's %s rows of %s: %+v, want none", what, aOnlyRead, rows)
			}
		},
		probe:  func(*world) (string, []byte) { return route, nil },
		reader: http.StatusOK,
	}
}

func (w *world) analytics(t *testing.T, route, filter string) []analyticsRow {
	t.Helper()
	target := route
	if filter != "" {
		target += "?filter=" + url.QueryEscape(filter)
	}
	var p analyticsPage
	want(t, "B's "+target, w.asB(t, http.MethodGet, target, nil), http.StatusOK, &p)
	if p.TotalCount != len(p.Value) {
		t.Fatalf("B's %s: %d rows of %d; the suite expects one page", target, len(p.Value), p.TotalCount)
	}
	own := byID(customersB)
	for _, r := range p.Value {
		if c, ok := own[r.CustomerID]; !ok || r.CustomerName != c.Name {
			t.Errorf("B's %s: a row of customer %q %q, which is not B's", target, r.CustomerID, r.CustomerName)
		}
	}
	return p.Value
}

// exportRows reads B's succeeded export through its presigned link.
func (w *world) exportRows(t *testing.T, id string) []map[string]string {
	t.Helper()
	var job exportJob
	want(t, "B's export "+id, w.asB(t, http.MethodGet, "/v1/exports/"+id, nil), http.StatusOK, &job)
	if job.Status != "succeeded" || job.DownloadURL == nil {
		t.Fatalf("B's export %s is %q without a link, want succeeded", id, job.Status)
	}
	rows := w.downloadCSV(t, *job.DownloadURL)
	for _, r := range rows {
		for _, v := range r {
			noTraceOfA(t, "B's export "+id, []byte(v))
		}
	}
	return rows
}

// viewsOfA reads, as A, every view A has of its data: the bodies by
// target, with the fields that change on every read (presigned links)
// removed.
func (w *world) viewsOfA(t *testing.T) map[string]string {
	t.Helper()
	targets := []string{
		"/v1/customers", "/v1/portfolio?top=100", "/v1/portfolio/history?limit=500",
		"/v1/analytics/licenses/deployment", "/v1/analytics/licenses/usage",
		"/v1/uploads/" + w.uploadA, "/v1/exports", "/v1/exports/" + w.exportA,
		"/v1/prices", "/v1/portfolio/reclaim?days=180&limit=500",
	}
	for _, c := range customersA {
		targets = append(targets, "/v1/customers/"+c.ID+"/insights", "/v1/customers/"+c.ID+"/history", "/v1/customers/"+c.ID+"/reclaim")
	}
	views := map[string]string{}
	for _, target := range targets {
		r := w.call(t, tokenA, http.MethodGet, target, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("A's %s: %s", target, r)
		}
		var v map[string]any
		if err := json.Unmarshal(r.Body, &v); err != nil {
			t.Fatalf("A's %s is not a JSON object: %v", target, err)
		}
		delete(v, "downloadUrl")
		delete(v, "expiresAt")
		views[target] = string(jsonBody(v))
	}
	return views
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// The two tenants' price lists, in currencies the other never uses.
const (
	pricesA = "sku,monthlyPrice,currency\nSPE_E3,11.11,GBP\n"
	pricesB = "sku,monthlyPrice,currency\nSPE_E3,22.22,CHF\n"
)

type priceList struct {
	Source   string          `json:"source"`
	Currency *string         `json:"currency"`
	Prices   []license.Price `json:"prices"`
}

type reclaimDoc struct {
	CustomerName string                 `json:"customerName"`
	Currency     string                 `json:"currency"`
	Items        []license.ReclaimItem  `json:"items"`
	Totals       []license.ReclaimTotal `json:"totals"`
}
