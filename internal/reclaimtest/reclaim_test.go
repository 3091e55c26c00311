// Package reclaimtest drives the reclaim calendar end to end on the local
// stack (DynamoDB Local, versitygw, the functions as template.yaml wires
// them, the table stream): both price-list forms, one customer's calendar,
// and the portfolio calendar kept by the stream consumer, which must equal
// the sum over the customers after ingests, changes, replays and removals.
package reclaimtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/licenseinsights/licenseinsights/internal/apitest"
	"github.com/licenseinsights/licenseinsights/internal/devstack"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

const (
	token  = "reclaim-writer"
	tenant = "reclaim-partner"
)

type env struct {
	stack *devstack.Stack
	http  *http.Client
	d     license.Date
}

func (e *env) call(t *testing.T, method, target, contentType string, body []byte) apitest.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, e.stack.APIURL+target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return apitest.Do(t, e.http, req)
}

func (e *env) want(t *testing.T, what string, r apitest.Response, status int, v any) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: %d %s, want %d", what, r.Status, r.Body, status)
	}
	if v != nil {
		if err := json.Unmarshal(r.Body, v); err != nil {
			t.Fatalf("%s: %v in %s", what, err, r.Body)
		}
	}
}

// user is one snapshot user holding sku, active at D−1 or never.
type user struct {
	key, sku string
	active   bool
}

type sub struct {
	id, sku string
	qty     int
	renewal int // days after D, 0: no date
}

// snapshot is a native snapshot of one customer at date d.
func snapshot(id string, d license.Date, subs []sub, users []user) []byte {
	var ss []map[string]any
	for _, s := range subs {
		m := map[string]any{"id": s.id, "sku": s.sku, "quantity": s.qty, "status": "active", "trial": false, "channel": "own"}
		if s.renewal > 0 {
			m["renewalDate"] = d.AddDays(s.renewal).String()
		}
		ss = append(ss, m)
	}
	var us []map[string]any
	for _, u := range users {
		w := map[string]any{"licensed": true}
		if u.active {
			w["lastActivity"] = d.AddDays(-1).String()
		}
		us = append(us, map[string]any{"key": u.key, "displayName": u.key,
			"licenses":  []map[string]any{{"sku": u.sku, "assignedDate": "2025-01-01"}},
			"workloads": map[string]any{"exchange": w}})
	}
	b, _ := json.Marshal(map[string]any{"schema": "license-snapshot/v1", "customer": map[string]any{"id": id, "name": strings.ToUpper(id)},
		"reportDate": d.String(), "subscriptions": ss, "users": us})
	return b
}

func users(prefix, sku string, active, idle int) []user {
	var out []user
	for i := range active + idle {
		out = append(out, user{key: fmt.Sprintf("%s%02d@x.test", prefix, i), sku: sku, active: i < active})
	}
	return out
}

type reclaimDoc struct {
	Days       int                    `json:"days"`
	Currency   string                 `json:"currency"`
	Items      []license.ReclaimItem  `json:"items"`
	Totals     []license.ReclaimTotal `json:"totals"`
	NextCursor *string                `json:"nextCursor"`
}

func money(p *float64) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprintf("%.2f", *p)
}

// totalsString writes totals as "kind seats/unpriced monthly perTerm; …".
func totalsString(ts []license.ReclaimTotal) string {
	var parts []string
	for _, x := range ts {
		parts = append(parts, fmt.Sprintf("%s %d/%d %s %s", x.Kind, x.Seats, x.UnpricedSeats, money(x.Monthly), money(x.PerTerm)))
	}
	return strings.Join(parts, "; ")
}

// portfolio reads every page of the portfolio calendar.
func (e *env) portfolio(t *testing.T, days int) reclaimDoc {
	t.Helper()
	var all reclaimDoc
	target := fmt.Sprintf("/v1/portfolio/reclaim?days=%d&limit=2", days)
	for range 50 {
		var p reclaimDoc
		e.want(t, "portfolio reclaim", e.call(t, http.MethodGet, target, "", nil), http.StatusOK, &p)
		all.Days, all.Currency, all.Totals = p.Days, p.Currency, p.Totals
		all.Items = append(all.Items, p.Items...)
		if p.NextCursor == nil {
			return all
		}
		target = fmt.Sprintf("/v1/portfolio/reclaim?days=%d&limit=2&cursor=%s", days, *p.NextCursor)
	}
	t.Fatal("the portfolio calendar never ends")
	return all
}

// sumOfCustomers is the calendar made from each customer's own route.
func (e *env) sumOfCustomers(t *testing.T, ids []string, days int) reclaimDoc {
	t.Helper()
	var all reclaimDoc
	for _, id := range ids {
		var c reclaimDoc
		e.want(t, "reclaim of "+id, e.call(t, http.MethodGet, fmt.Sprintf("/v1/customers/%s/reclaim?days=%d", id, days), "", nil), http.StatusOK, &c)
		all.Items = append(all.Items, c.Items...)
		all.Currency = c.Currency
	}
	license.SortReclaimItems(all.Items)
	all.Totals = license.ReclaimTotals(all.Items)
	return all
}

func (e *env) checkSum(t *testing.T, step string, ids []string, days int) reclaimDoc {
	t.Helper()
	p := e.portfolio(t, days)
	s := e.sumOfCustomers(t, ids, days)
	if got, want := totalsString(p.Totals), totalsString(s.Totals); got != want {
		t.Errorf("%s, %d days: portfolio totals %s\nwant the sum over customers %s", step, days, got, want)
	}
	gb, _ := json.Marshal(p.Items)
	wb, _ := json.Marshal(s.Items)
	if !bytes.Equal(gb, wb) {
		t.Errorf("%s, %d days: portfolio items\n%s\nwant the customers'\n%s", step, days, gb, wb)
	}
	return p
}

func TestReclaimCalendarOnTheStack(t *testing.T) {
	tokens, err := devstack.ParseTokens(token + "=" + tenant)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{
		stack: apitest.StartStack(t, devstack.Options{Tokens: tokens, RequireAllFunctions: true, RetryBackoff: func(int) time.Duration { return 0 }}),
		http:  &http.Client{Timeout: time.Minute},
		d:     license.DateOf(time.Now()),
	}
	d := e.d

	// The partner's CSV. E3 36.00 and Business Standard 12.50 for any term.
	var pl struct {
		Source, Form string
		Currency     *string
		Prices       []license.Price
		Rows         *int
	}
	e.want(t, "PUT the partner's prices", e.call(t, http.MethodPut, "/v1/prices", "text/csv",
		[]byte("sku,monthlyPrice,currency\nSPE_E3,36.00,EUR\nO365_BUSINESS_PREMIUM,12.50,EUR\n")), http.StatusOK, &pl)
	if pl.Source != "tenant" || pl.Form != "partner" || pl.Currency == nil || *pl.Currency != "EUR" || len(pl.Prices) != 2 || pl.Rows == nil || *pl.Rows != 2 {
		t.Fatalf("PUT answer %+v", pl)
	}
	// Two currencies: refused whole, line 3's currency named; the list in
	// force is unchanged.
	r := e.call(t, http.MethodPut, "/v1/prices", "text/csv", []byte("sku,monthlyPrice,currency\nSPE_E3,30,EUR\nSPE_E5,57,USD\n"))
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), `"line":3,"column":"currency"`) {
		t.Fatalf("two currencies: %d %s, want 422 naming line 3, currency", r.Status, r.Body)
	}
	e.want(t, "GET prices after the refusal", e.call(t, http.MethodGet, "/v1/prices", "", nil), http.StatusOK, &pl)
	if len(pl.Prices) != 2 || pl.Prices[1].SKU != "SPE_E3" || pl.Prices[1].MonthlyPrice != 36 {
		t.Fatalf("prices after a refused PUT: %+v, want the two of the first list", pl.Prices)
	}

	// c1: E3 s1 (10, renews D+10); 6 holders, 2 idle → unassigned 4 reduce
	//     at D+10, 2 reassignNow.
	// c2: E3 s1 (5, D+100) and s2 (3, D+20); 4 holders all active →
	//     unassigned 4: s2 first (3), then s1 (1). 30 days: reduce 3, locked 1.
	// c3: Business Standard s1 (3, undated); 3 holders, 1 idle → 1
	//     reassignNow, nothing unassigned.
	docs := map[string][]byte{
		"c1": snapshot("c1", d, []sub{{"s1", "SPE_E3", 10, 10}}, users("a", "SPE_E3", 4, 2)),
		"c2": snapshot("c2", d, []sub{{"s1", "SPE_E3", 5, 100}, {"s2", "SPE_E3", 3, 20}}, users("b", "SPE_E3", 4, 0)),
		"c3": snapshot("c3", d, []sub{{"s1", "O365_BUSINESS_PREMIUM", 3, 0}}, users("c", "O365_BUSINESS_PREMIUM", 2, 1)),
	}
	ids := []string{"c1", "c2", "c3"}
	for _, id := range ids {
		e.want(t, "ingest "+id, e.call(t, http.MethodPost, "/v1/customers/"+id+"/reports?kind=snapshot", "application/json", docs[id]), http.StatusOK, nil)
	}
	apitest.WaitIdle(t, e.stack)

	// One customer: c1 within 30 days. Holders 2 × 36 = 72.00; reduction 4
	// × 36 = 144.00 a month, no per-term money (the snapshot gives no term).
	var c1 reclaimDoc
	e.want(t, "c1's reclaim", e.call(t, http.MethodGet, "/v1/customers/c1/reclaim?days=30", "", nil), http.StatusOK, &c1)
	if got, want := totalsString(c1.Totals), "reassignNow 2/0 72.00 null; reduceAtRenewal 4/0 144.00 null; lockedUntil 0/0 null null"; got != want {
		t.Errorf("c1 totals %s\nwant %s", got, want)
	}
	if len(c1.Items) != 2 || c1.Items[1].SubscriptionID != "s1" || c1.Items[1].DaysLeft == nil || *c1.Items[1].DaysLeft != 10 {
		t.Errorf("c1 items %+v", c1.Items)
	}

	// The portfolio within 30 days: reassignNow 2 + 1 = 3 seats, 72.00 +
	// 12.50 = 84.50; reduce 4 (c1) + 3 (c2 s2) = 7 × 36 = 252.00; locked
	// 1 (c2 s1) = 36.00. Within 180 days c2 s1 (D+100) is reducible too.
	p := e.checkSum(t, "after the ingests", ids, 30)
	if got, want := totalsString(p.Totals), "reassignNow 3/0 84.50 null; reduceAtRenewal 7/0 252.00 null; lockedUntil 1/0 36.00 null"; got != want {
		t.Errorf("portfolio totals %s\nwant %s", got, want)
	}
	p = e.checkSum(t, "after the ingests", ids, 180)
	if got, want := totalsString(p.Totals), "reassignNow 3/0 84.50 null; reduceAtRenewal 8/0 288.00 null; lockedUntil 0/0 null null"; got != want {
		t.Errorf("portfolio totals, 180 days %s\nwant %s", got, want)
	}
	for i := 1; i < len(p.Items); i++ {
		if license.CompareReclaimItems(p.Items[i-1], p.Items[i]) > 0 {
			t.Errorf("portfolio items out of date order at %d: %+v then %+v", i, p.Items[i-1], p.Items[i])
		}
	}

	// Partner Center's price sheet replaces the list: E3 P1Y Annual 420 →
	// 35.00 a month; Business Standard is not in it (no money, never 0).
	sheet := "ChangeIndicator,ProductTitle,ProductId,SkuId,SkuTitle,Publisher,SkuDescription,UnitOfMeasure,TermDuration,BillingPlan,Market,Currency,UnitPrice,PricingTierRangeMin,PricingTierRangeMax,EffectiveStartDate,EffectiveEndDate,Tags,ERP Price,Segment\n" +
		"Unchanged,Microsoft 365 E3,CFQ7TTC0LFLZ,0001,Microsoft 365 E3,Microsoft Corporation,Microsoft 365 E3,1 License,P1Y,Annual,FR,EUR,420.00,,,2026-11-01T00:00:00Z,9999-12-31T23:59:59Z,License,504.00,Commercial\n"
	e.want(t, "PUT the price sheet", e.call(t, http.MethodPut, "/v1/prices", "text/csv", []byte(sheet)), http.StatusOK, &pl)
	if pl.Form != "partner-center-price-sheet" || len(pl.Prices) != 1 || pl.Prices[0].MonthlyPrice != 35 {
		t.Fatalf("price sheet answer %+v", pl)
	}
	// Prices apply when read: 2 × 35 = 70.00 and c3's unpriced holder;
	// 7 × 35 = 245.00; 1 × 35 = 35.00.
	p = e.checkSum(t, "after the price sheet", ids, 30)
	if got, want := totalsString(p.Totals), "reassignNow 3/1 70.00 null; reduceAtRenewal 7/0 245.00 null; lockedUntil 1/0 35.00 null"; got != want {
		t.Errorf("portfolio totals with the sheet %s\nwant %s", got, want)
	}

	// A change: c1 assigns 2 more (8 holders, 2 idle) on D+1 → 2
	// unassigned, renewal in 9 days.
	e.want(t, "c1 changes", e.call(t, http.MethodPost, "/v1/customers/c1/reports?kind=snapshot", "application/json",
		snapshot("c1", d.AddDays(1), []sub{{"s1", "SPE_E3", 10, 9}}, users("a", "SPE_E3", 6, 2))), http.StatusOK, nil)
	apitest.WaitIdle(t, e.stack)
	p = e.checkSum(t, "after a change", ids, 30)
	if got, want := totalsString(p.Totals), "reassignNow 3/1 70.00 null; reduceAtRenewal 5/0 175.00 null; lockedUntil 1/0 35.00 null"; got != want {
		t.Errorf("portfolio totals after the change %s\nwant %s", got, want)
	}

	// Replays: a record of c1's current version and one of an older
	// version come again; neither counts.
	st := store.New(e.stack.Env().DynamoDB, e.stack.Env().Table)
	tn, _ := license.NewTenant(tenant)
	cur, err := st.Figures(t.Context(), tn, "c1")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []int64{cur.Version, cur.Version - 1} {
		out, err := st.ApplyReclaimChange(t.Context(), store.FiguresChange{Tenant: tn, CustomerID: "c1", RecordID: "replay", New: &cur.Figures, NewVersion: v})
		if err != nil || out != store.Duplicate {
			t.Fatalf("replay of version %d: %v, %v; want a duplicate", v, out, err)
		}
	}
	e.checkSum(t, "after replays", ids, 30)
	// Rebuilding from the figures (as the bench seeds) changes nothing.
	if n, err := st.RebuildReclaim(t.Context(), tn); err != nil || n != 3 {
		t.Fatalf("rebuild: %d customers, %v; want 3", n, err)
	}
	p = e.checkSum(t, "after a rebuild", ids, 30)
	if got, want := totalsString(p.Totals), "reassignNow 3/1 70.00 null; reduceAtRenewal 5/0 175.00 null; lockedUntil 1/0 35.00 null"; got != want {
		t.Errorf("portfolio totals after the rebuild %s\nwant %s", got, want)
	}

	// A removal of c2 (its FIGURES item deleted): its lines and totals go,
	// once however often the record comes.
	c2, err := st.Figures(t.Context(), tn, "c2")
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []store.Outcome{store.Applied, store.Duplicate} {
		out, err := st.ApplyReclaimChange(t.Context(), store.FiguresChange{Tenant: tn, CustomerID: "c2", RecordID: fmt.Sprint("del", i), Old: &c2.Figures, OldVersion: c2.Version})
		if err != nil || out != want {
			t.Fatalf("removal %d: %v, %v; want %v", i, out, err, want)
		}
	}
	// A record of c2 from before the removal, delivered again, adds
	// nothing back.
	if out, err := st.ApplyReclaimChange(t.Context(), store.FiguresChange{Tenant: tn, CustomerID: "c2", RecordID: "late",
		Old: &c2.Figures, New: &c2.Figures, OldVersion: c2.Version - 1, NewVersion: c2.Version}); err != nil || out != store.Duplicate {
		t.Fatalf("c2's record after its removal: %v, %v; want a duplicate", out, err)
	}
	// c1: holders 2, reduce 2; c3: holder 1 (unpriced).
	p = e.portfolio(t, 30)
	if got, want := totalsString(p.Totals), "reassignNow 3/1 70.00 null; reduceAtRenewal 2/0 70.00 null; lockedUntil 0/0 null null"; got != want {
		t.Errorf("portfolio totals after c2's removal %s\nwant %s", got, want)
	}
	for _, it := range p.Items {
		if it.CustomerID == "c2" {
			t.Errorf("c2's line is still in the calendar: %+v", it)
		}
	}
}
