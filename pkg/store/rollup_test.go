package store

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/licenseinsights/licenseinsights/internal/devstack/devstacktest"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/portfoliogen"
)

// rollupReportDate is the report date of the generated customers.
const rollupReportDate = "2026-11-20"

// generatedFigures are n realistic customers (portfoliogen, ~30 users each)
// computed by the engine: many SKUs, channels, trials and extra workloads.
func generatedFigures(t testing.TB, seed int64, n int) []*license.Figures {
	t.Helper()
	d, err := license.ParseDate(rollupReportDate)
	if err != nil {
		t.Fatal(err)
	}
	cfg := portfoliogen.Config{Seed: seed, Customers: n, Users: 30, ReportDate: d}
	out, err := portfoliogen.AllFigures(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sumOf is the portfolio built the obvious way: Add every customer.
func sumOf(figures ...*license.Figures) license.Portfolio {
	var p license.Portfolio
	for _, f := range figures {
		p.Add(f)
	}
	return p
}

// The shards summed by license.Portfolio.Merge give exactly the portfolio of all
// customers added one by one, in any order of the shards.
func TestAddPortfolioSumsShards(t *testing.T) {
	figures := generatedFigures(t, 11, 40)
	want := sumOf(figures...)

	var shards [RollupShards]license.Portfolio
	for _, f := range figures {
		shards[RollupShardOf(f.Customer.ID)].Add(f)
	}
	used := 0
	for _, s := range shards {
		if s.Customers > 0 {
			used++
		}
	}
	if used < 6 {
		t.Fatalf("40 customers landed in only %d of %d shards: the test would not test merging", used, RollupShards)
	}
	var forward, backward license.Portfolio
	for n := range shards {
		forward.Merge(&shards[n])
		backward.Merge(&shards[RollupShards-1-n])
	}
	if !reflect.DeepEqual(forward, want) {
		t.Errorf("shards summed in order differ from the portfolio of all customers\n got %+v\nwant %+v", forward, want)
	}
	if !reflect.DeepEqual(backward, want) {
		t.Errorf("shards summed in reverse order differ from the portfolio of all customers")
	}
	// Adding the zero portfolio changes nothing.
	forward.Merge(&license.Portfolio{})
	if !reflect.DeepEqual(forward, want) {
		t.Error("adding an empty shard changed the sum")
	}
}

func TestHeadlineOfPortfolio(t *testing.T) {
	// Two customers:
	//   a: SPE_E3 counted, sold own 10, assigned 8; exchange 8 entitled, 6 active, 5 counted; 2 inactive.
	//   b: SPE_E3 counted, sold direct 4, assigned 5; trial SKU assigned 3 (not counted);
	//      exchange 5 entitled, 6 active, 4 counted; 0 inactive.
	// Headline: customers 2, sold own 10 + direct 4, assigned 8 + 5 = 13 (the
	// trial's 3 stay out), entitlements 13, active 12, counted 9, inactive 2.
	// Bands: a 6/8 = 75 % medium, b 6/5 = 120 % high.
	a := &license.Figures{Customer: license.Customer{ID: "a"},
		Products: []license.ProductFigures{{SKU: "SPE_E3", Sold: license.ChannelCounts{Own: 10}, Assigned: 8, Counted: true}},
		Windows: []license.WindowFigures{{Days: 28, InactiveLicensedUsers: 2,
			Workloads: []license.WorkloadFigures{{Workload: license.Exchange, Entitlements: 8, Active: 6, CountedActive: 5}}}}}
	b := &license.Figures{Customer: license.Customer{ID: "b"},
		Products: []license.ProductFigures{
			{SKU: "SPE_E3", Sold: license.ChannelCounts{Direct: 4}, Assigned: 5, Counted: true},
			{SKU: "TRIAL", Assigned: 3},
		},
		Windows: []license.WindowFigures{{Days: 28,
			Workloads: []license.WorkloadFigures{{Workload: license.Exchange, Entitlements: 5, Active: 6, CountedActive: 4}}}}}
	p := sumOf(a, b)
	got := HeadlineOfPortfolio(&p)
	want := PortfolioHeadline{
		Customers: 2, Bands: license.BandCounts{Medium: 1, High: 1},
		Sold: license.ChannelCounts{Own: 10, Direct: 4}, Assigned: 13,
		Entitlements: 13, Active: 12, CountedActive: 9, InactiveLicensedUsers: 2,
	}
	if got != want {
		t.Errorf("headline %+v\nwant %+v", got, want)
	}
	if sum := want.Plus(want); sum.Customers != 4 || sum.Bands.High != 2 || sum.Sold.Own != 20 || sum.CountedActive != 18 {
		t.Errorf("Plus: %+v", sum)
	}
}

func TestParseCustomerPK(t *testing.T) {
	tn, id, err := ParseCustomerPK("T#demo-partner#C#contoso.ltd@x")
	if err != nil || tn.ID() != "demo-partner" || id != "contoso.ltd@x" {
		t.Errorf("got %q %q %v", tn.ID(), id, err)
	}
	for _, bad := range []string{"", "T#", "T#demo", "X#demo#C#c", "T##C#c", "T#demo#C#", "T#demo#C#a#G#1#S#0", "T#de mo#C#c"} {
		if _, _, err := ParseCustomerPK(bad); err == nil {
			t.Errorf("ParseCustomerPK(%q) accepted", bad)
		}
	}
}

// figuresImage is a FIGURES item as the stream carries it.
func figuresImage(t testing.TB, tenant, customer string, f *license.Figures, version int64) map[string]types.AttributeValue {
	t.Helper()
	item := map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "T#" + tenant + "#C#" + customer}, "SK": &types.AttributeValueMemberS{Value: "FIGURES"},
		"version": numberAttr(version), "gen": numberAttr(1), "shards": numberAttr(1),
	}
	if err := putJSON(item, attrFigures, f); err != nil {
		t.Fatal(err)
	}
	return item
}

func keysOf(item map[string]types.AttributeValue) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"PK": item["PK"], "SK": item["SK"]}
}

func TestFiguresChangeOf(t *testing.T) {
	figures := generatedFigures(t, 3, 2)
	oldImg := figuresImage(t, "demo", "c1", figures[0], 4)
	newImg := figuresImage(t, "demo", "c1", figures[1], 5)

	c, ok, err := FiguresChangeOf("100", keysOf(newImg), oldImg, newImg)
	if err != nil || !ok {
		t.Fatalf("modify: %v %v", ok, err)
	}
	if c.Tenant.ID() != "demo" || c.CustomerID != "c1" || c.RecordID != "100" || c.OldVersion != 4 || c.NewVersion != 5 ||
		!reflect.DeepEqual(c.Old, figures[0]) || !reflect.DeepEqual(c.New, figures[1]) || c.marker() != "5" {
		t.Errorf("modify change %+v", c)
	}
	c, ok, err = FiguresChangeOf("101", keysOf(oldImg), oldImg, nil)
	if err != nil || !ok || c.New != nil || c.marker() != "DEL4" {
		t.Errorf("remove: %+v %v %v", c, ok, err)
	}
	c, ok, err = FiguresChangeOf("102", keysOf(newImg), nil, newImg)
	if err != nil || !ok || c.Old != nil || c.marker() != "5" {
		t.Errorf("insert: %+v %v %v", c, ok, err)
	}

	// Not a FIGURES item: not the roll-up's business.
	other := map[string]types.AttributeValue{"PK": newImg["PK"], "SK": &types.AttributeValueMemberS{Value: "SUMMARY"}}
	if _, ok, err := FiguresChangeOf("103", other, nil, other); ok || err != nil {
		t.Errorf("a SUMMARY record: ok %v, err %v", ok, err)
	}

	broken := figuresImage(t, "demo", "c1", figures[0], 4)
	broken[attrFigures] = &types.AttributeValueMemberS{Value: "{not json"}
	noFigures := figuresImage(t, "demo", "c1", figures[0], 4)
	delete(noFigures, attrFigures)
	badKey := figuresImage(t, "demo", "c1", figures[0], 4)
	badKey["PK"] = &types.AttributeValueMemberS{Value: "T#demo#X#c1"}
	for name, tc := range map[string]struct {
		id               string
		keys, old, image map[string]types.AttributeValue
	}{
		"undecodable figures": {"1", keysOf(broken), nil, broken},
		"no figures":          {"1", keysOf(noFigures), nil, noFigures},
		"bad key":             {"1", keysOf(badKey), nil, badKey},
		"no images":           {"1", keysOf(newImg), nil, nil},
		"no sequence number":  {"", keysOf(newImg), nil, newImg},
	} {
		if _, _, err := FiguresChangeOf(tc.id, tc.keys, tc.old, tc.image); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSamePortfolio(t *testing.T) {
	figures := generatedFigures(t, 5, 4)
	a, b := sumOf(figures...), sumOf(figures...)
	b.Products[0].Name = "another name"
	if !a.SameCounts(&b) {
		t.Error("product names must not matter")
	}
	b.Products[0].Assigned++
	if a.SameCounts(&b) {
		t.Error("a changed count must matter")
	}
}

// portfolioDays carries each shard's state forward and back as documented.
func TestPortfolioDays(t *testing.T) {
	h := func(customers int) PortfolioHeadline { return PortfolioHeadline{Customers: customers} }
	// Shard 0: day 10 opens at 0, closes at 3; day 12 opens 3, closes 5.
	// Shard 1: first change on day 11, from 7 (what it had before) to 8.
	// Shard 2: no items: its current state, 100, throughout.
	entries := []portfolioDayEntry{
		{date: 12, shard: 0, open: h(3), close: h(5)},
		{date: 11, shard: 1, open: h(7), close: h(8)},
		{date: 10, shard: 0, open: h(0), close: h(3)},
	}
	current := [RollupShards]PortfolioHeadline{0: h(5), 1: h(8), 2: h(100)}
	got := portfolioDays(entries, &current, 8, 14)
	// Days before the first item (8, 9) are left out.
	//   10: 3 + 7 (shard 1 before its first change) + 100 = 110
	//   11: 3 + 8 + 100 = 111
	//   12: 5 + 8 + 100 = 113, and so on to 14.
	want := []int{110, 111, 113, 113, 113}
	var customers []int
	for i, d := range got {
		customers = append(customers, d.Headline.Customers)
		if d.Date != license.Date(10+i) {
			t.Errorf("day %d is %v", i, d.Date)
		}
	}
	if !slices.Equal(customers, want) {
		t.Errorf("customers per day %v, want %v", customers, want)
	}
	if got := portfolioDays(entries, &current, 11, 11); len(got) != 1 || got[0].Headline.Customers != 111 {
		t.Errorf("one day: %+v", got)
	}
	if got := portfolioDays(nil, &current, 1, 20); got != nil {
		t.Errorf("no history at all gives %v, want nothing", got)
	}
}

// --- against DynamoDB Local ---

func rollupStore(t testing.TB) (*Store, *dynamodb.Client) {
	client, table := devstacktest.Table(t)
	return New(client, table, WithWorkers(4)), client
}

func fixedClock(s string) func() time.Time {
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return func() time.Time { return at }
}

// changeLog builds stream-like changes with increasing sequence numbers.
type changeLog struct {
	tenant  license.Tenant
	seq     int
	current map[string]*license.Figures
	version map[string]int64
}

func newChangeLog(t testing.TB, tenant string) *changeLog {
	tn, err := license.NewTenant(tenant)
	if err != nil {
		t.Fatal(err)
	}
	return &changeLog{tenant: tn, current: map[string]*license.Figures{}, version: map[string]int64{}}
}

// put is an insert or modify of the customer's figures.
func (l *changeLog) put(id string, f *license.Figures) FiguresChange {
	l.seq++
	c := FiguresChange{Tenant: l.tenant, CustomerID: id, RecordID: fmt.Sprintf("%021d", l.seq),
		Old: l.current[id], OldVersion: l.version[id], New: f, NewVersion: l.version[id] + 1}
	l.current[id], l.version[id] = f, l.version[id]+1
	return c
}

// remove deletes the customer; versions start again at 1 afterwards, as
// the ingest's first commit does.
func (l *changeLog) remove(id string) FiguresChange {
	l.seq++
	c := FiguresChange{Tenant: l.tenant, CustomerID: id, RecordID: fmt.Sprintf("%021d", l.seq), Old: l.current[id], OldVersion: l.version[id]}
	delete(l.current, id)
	delete(l.version, id)
	return c
}

func (l *changeLog) sum() license.Portfolio {
	var p license.Portfolio
	for _, f := range l.current {
		p.Add(f)
	}
	return p
}

func outcomes(results []ChangeResult) map[Outcome]int {
	out := map[Outcome]int{}
	for _, r := range results {
		out[r.Outcome]++
	}
	return out
}

func assertRollup(t *testing.T, s *Store, l *changeLog, when string) {
	t.Helper()
	r, err := s.Portfolio(t.Context(), l.tenant)
	if err != nil {
		t.Fatal(err)
	}
	want := l.sum()
	if !r.Portfolio.SameCounts(&want) {
		t.Fatalf("%s: roll-up differs from the sum of the customers\n got %+v\nwant %+v", when, HeadlineOfPortfolio(&r.Portfolio), HeadlineOfPortfolio(&want))
	}
	var shards PortfolioHeadline
	for _, h := range r.Shards {
		shards = shards.Plus(h)
	}
	if shards != HeadlineOfPortfolio(&want) {
		t.Errorf("%s: the shards' headlines do not add up to the portfolio's", when)
	}
}

// Inserts, modifications and removals, delivered in and out of order and
// more than once, leave the roll-up equal to the sum of the current
// figures.
func TestApplyFiguresChangesExactlyOnce(t *testing.T) {
	t.Parallel()
	s, _ := rollupStore(t)
	ctx := t.Context()
	figures := generatedFigures(t, 21, 60)
	l := newChangeLog(t, "tenant-a")
	now := fixedClock("2026-11-20T09:00:00Z")

	var inserts []FiguresChange
	for i, f := range figures[:40] {
		inserts = append(inserts, l.put("c"+strconv.Itoa(i), f))
	}
	if got := outcomes(s.ApplyFiguresChanges(ctx, inserts, now)); got[Applied] != 40 {
		t.Fatalf("inserts: %v", got)
	}
	assertRollup(t, s, l, "after inserts")

	// The same records again (Lambda's at-least-once delivery): nothing changes.
	if got := outcomes(s.ApplyFiguresChanges(ctx, inserts, now)); got[Duplicate] != 40 {
		t.Fatalf("replayed inserts: %v", got)
	}
	assertRollup(t, s, l, "after replaying the inserts")

	// Modify 20 customers twice each, remove 5, and deliver in reverse order
	// with some of the inserts mixed in again.
	var batch []FiguresChange
	for i := range 20 {
		batch = append(batch, l.put("c"+strconv.Itoa(i), figures[40+i]))
	}
	for i := range 20 {
		batch = append(batch, l.put("c"+strconv.Itoa(i), figures[(i+7)%40]))
	}
	for i := 30; i < 35; i++ {
		batch = append(batch, l.remove("c"+strconv.Itoa(i)))
	}
	slices.Reverse(batch)
	batch = append(batch, inserts[20:30]...)
	got := outcomes(s.ApplyFiguresChanges(ctx, batch, now))
	if got[Applied] != 45 || got[Duplicate] != 10 || got[Failed] != 0 {
		t.Fatalf("mixed batch: %v", got)
	}
	assertRollup(t, s, l, "after modifications and removals out of order")

	// A removed customer created again starts at version 1 again: its new
	// records are not mistaken for the old ones.
	again := l.put("c30", figures[3])
	if again.NewVersion != 1 {
		t.Fatalf("re-created customer at version %d", again.NewVersion)
	}
	if got := outcomes(s.ApplyFiguresChanges(ctx, []FiguresChange{again, again}, now)); got[Applied] != 1 || got[Duplicate] != 1 {
		t.Fatalf("re-created customer (twice in one call): %v", got)
	}
	assertRollup(t, s, l, "after re-creating a customer")
}

// Concurrent appliers (Lambda runs one per stream shard) contend for the
// same roll-up shards; optimistic retries lose nothing.
func TestApplyFiguresChangesConcurrently(t *testing.T) {
	t.Parallel()
	s, _ := rollupStore(t)
	ctx := t.Context()
	figures := generatedFigures(t, 31, 48)
	l := newChangeLog(t, "tenant-b")
	var changes []FiguresChange
	for i, f := range figures {
		changes = append(changes, l.put("k"+strconv.Itoa(i), f))
	}
	var wg sync.WaitGroup
	results := make([][]ChangeResult, 6)
	for w := range 6 {
		wg.Go(func() {
			var mine []FiguresChange
			for i := w; i < len(changes); i += 6 {
				mine = append(mine, changes[i])
			}
			results[w] = s.ApplyFiguresChanges(ctx, mine, time.Now)
		})
	}
	wg.Wait()
	for w, r := range results {
		for i, x := range r {
			if x.Outcome != Applied {
				t.Errorf("worker %d change %d: %v %v", w, i, x.Outcome, x.Err)
			}
		}
	}
	assertRollup(t, s, l, "after concurrent application")
}

// History: each day's portfolio is every shard's last state that day,
// carried forward over quiet days.
func TestPortfolioHistory(t *testing.T) {
	t.Parallel()
	s, _ := rollupStore(t)
	ctx := t.Context()
	figures := generatedFigures(t, 41, 30)
	l := newChangeLog(t, "tenant-h")

	apply := func(when string, changes ...FiguresChange) license.Portfolio {
		t.Helper()
		if got := outcomes(s.ApplyFiguresChanges(ctx, changes, fixedClock(when))); got[Applied] != len(changes) {
			t.Fatalf("%s: %v", when, got)
		}
		return l.sum()
	}
	var day1 []FiguresChange
	for i := range 20 {
		day1 = append(day1, l.put("h"+strconv.Itoa(i), figures[i]))
	}
	apply("2026-11-01T08:00:00Z", day1...)
	// Later the same day: more customers. The day's figure is the last state.
	var day1b []FiguresChange
	for i := 20; i < 25; i++ {
		day1b = append(day1b, l.put("h"+strconv.Itoa(i), figures[i]))
	}
	p1 := apply("2026-11-01T22:00:00Z", day1b...)
	// Day 3: two removals, one change.
	p3 := apply("2026-11-03T12:00:00Z", l.remove("h1"), l.remove("h2"), l.put("h3", figures[29]))

	first, _ := license.ParseDate("2026-11-01")
	days, err := s.PortfolioHistory(ctx, l.tenant, first.AddDays(-1), first.AddDays(6))
	if err != nil {
		t.Fatal(err)
	}
	// The range starts the day before the first change: the list starts on
	// 2026-11-01 and runs to 2026-11-07, the 2nd carrying the 1st forward.
	want := []license.Portfolio{p1, p1, p3, p3, p3, p3, p3}
	if len(days) != len(want) {
		t.Fatalf("%d days, want %d: %+v", len(days), len(want), days)
	}
	for i, d := range days {
		if d.Date != first.AddDays(i) {
			t.Errorf("day %d is %s", i, d.Date)
		}
		if h := HeadlineOfPortfolio(&want[i]); d.Headline != h {
			t.Errorf("%s: headline %+v\nwant %+v", d.Date, d.Headline, h)
		}
	}
	if p1.Customers != 25 || p3.Customers != 23 {
		t.Fatalf("test set-up: %d and %d customers", p1.Customers, p3.Customers)
	}
}

// commitFigures stores a customer through the ingest's Commit (FIGURES,
// SUMMARY, RANK...), with no users: what the repair and the listing read.
func commitFigures(t testing.TB, s *Store, tn license.Tenant, id string, f *license.Figures, expected int64, upsell bool) {
	t.Helper()
	err := s.Commit(t.Context(), Commit{
		Tenant: tn, CustomerID: id, ExpectedVersion: expected, Generation: expected + 1, Shards: 1,
		Figures: f, Source: SourceRecord{Kind: "snapshot", SHA256: strconv.Itoa(int(expected))}, Upsell: upsell,
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The repair recomputes from the FIGURES items and agrees with the
// incremental roll-up; a damaged shard is found and mended.
func TestRepairRollupAgreesWithIncremental(t *testing.T) {
	t.Parallel()
	s, client := rollupStore(t)
	ctx := t.Context()
	figures := generatedFigures(t, 51, 16)
	l := newChangeLog(t, "tenant-r")
	var changes []FiguresChange
	for i, f := range figures {
		id := "r" + strconv.Itoa(i)
		f.Customer.ID = id
		commitFigures(t, s, l.tenant, id, f, 0, false)
		changes = append(changes, l.put(id, f))
	}
	if got := outcomes(s.ApplyFiguresChanges(ctx, changes, time.Now)); got[Applied] != len(changes) {
		t.Fatalf("apply: %v", got)
	}
	report, err := s.RepairRollup(ctx, l.tenant, false, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var customers int
	for _, r := range report {
		if r.Differs || r.Repaired {
			t.Errorf("shard %d differs from the recomputed figures: stored %+v, computed %+v", r.Shard, r.Stored, r.Computed)
		}
		customers += r.Computed.Customers
	}
	if customers != len(figures) {
		t.Errorf("the repair counted %d customers, want %d", customers, len(figures))
	}

	// Damage one shard: count a customer twice, as a lost marker would.
	victim := changes[0]
	victim.RecordID = "999999"
	if got := outcomes(s.ApplyFiguresChanges(ctx, []FiguresChange{victim}, time.Now)); got[Applied] != 1 {
		t.Fatalf("damage: %v", got)
	}
	report, err = s.RepairRollup(ctx, l.tenant, true, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range report {
		damaged := r.Shard == RollupShardOf(victim.CustomerID)
		if r.Differs != damaged || r.Repaired != damaged {
			t.Errorf("shard %d: differs %v, repaired %v; only shard %d was damaged", r.Shard, r.Differs, r.Repaired, RollupShardOf(victim.CustomerID))
		}
		if damaged && r.Stored.Customers != r.Computed.Customers+1 {
			t.Errorf("damaged shard: stored %d customers, computed %d", r.Stored.Customers, r.Computed.Customers)
		}
	}
	assertRollup(t, s, l, "after the repair")

	// The stream goes on after a repair: the next change applies on the
	// repaired shard.
	next := l.put("r5", figures[9])
	if got := outcomes(s.ApplyFiguresChanges(ctx, []FiguresChange{next}, time.Now)); got[Applied] != 1 {
		t.Fatalf("after repair: %v", got)
	}
	assertRollup(t, s, l, "after a change following the repair")

	// A customer whose FIGURES item is gone (removed) is not counted, even
	// though its SUMMARY still lists it.
	k, _ := FiguresKey(l.tenant, "r7")
	if _, err := client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.Table()), Key: keyOf(k)}); err != nil {
		t.Fatal(err)
	}
	computed, err := s.RecomputeRollup(ctx, l.tenant)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, p := range computed {
		total += p.Customers
	}
	if total != len(figures)-1 {
		t.Errorf("recomputed %d customers after removing one of %d", total, len(figures))
	}
}

// The ranked lists come from their indexes in their order.
func TestRankedCustomers(t *testing.T) {
	t.Parallel()
	s, _ := rollupStore(t)
	tn, _ := license.NewTenant("tenant-rank")
	// usage = active ÷ entitlements (exchange only); unassigned = sold − assigned.
	//   low:    2/10 = 20 %,  sold 10, assigned 10 → unassigned 0
	//   mid:    6/10 = 60 %,  sold 30, assigned 10 → unassigned 20
	//   high:   9/10 = 90 %,  sold 12, assigned 10 → unassigned 2, upsell
	//   top:   12/10 = 120 %, sold 10, assigned 10 → upsell
	//   none:   no entitlements → unknown usage, sold 5, assigned 0 → unassigned 5
	mk := func(id string, sold, assigned, ent, active int) *license.Figures {
		return &license.Figures{Customer: license.Customer{ID: id, Name: "Name " + id}, ReportDate: 20777,
			Products: []license.ProductFigures{{SKU: "SPE_E3", Sold: license.ChannelCounts{Own: sold}, Assigned: assigned, Counted: true}},
			Windows: []license.WindowFigures{{Days: 28, Workloads: []license.WorkloadFigures{
				{Workload: license.Exchange, Entitlements: ent, Active: active, CountedActive: min(ent, active)}}}}}
	}
	commitFigures(t, s, tn, "low", mk("low", 10, 10, 10, 2), 0, false)
	commitFigures(t, s, tn, "mid", mk("mid", 30, 10, 10, 6), 0, false)
	commitFigures(t, s, tn, "high", mk("high", 12, 10, 10, 9), 0, true)
	commitFigures(t, s, tn, "top", mk("top", 10, 10, 10, 12), 0, true)
	commitFigures(t, s, tn, "none", mk("none", 5, 0, 0, 0), 0, false)

	ids := func(list RankedList, limit int) []string {
		t.Helper()
		got, err := s.RankedCustomers(t.Context(), tn, list, limit)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, x := range got {
			out = append(out, x.CustomerID)
		}
		return out
	}
	if got := ids(LowestUsage, 10); !slices.Equal(got, []string{"low", "mid", "high", "top"}) {
		t.Errorf("lowest usage %v (unknown usage must not be listed)", got)
	}
	if got := ids(LowestUsage, 2); !slices.Equal(got, []string{"low", "mid"}) {
		t.Errorf("lowest usage, top 2: %v", got)
	}
	if got := ids(MostUnassigned, 10); !slices.Equal(got, []string{"mid", "none", "high"}) {
		t.Errorf("most unassigned %v", got)
	}
	if got := ids(UpsellCandidates, 10); !slices.Equal(got, []string{"top", "high"}) {
		t.Errorf("upsell candidates %v", got)
	}
}

// callCounter counts the DynamoDB API calls a client makes (retries of one
// call are not counted again: they happen below the Initialize step).
type callCounter struct {
	mu    sync.Mutex
	calls map[string]int
}

func countingClient(client *dynamodb.Client) (*dynamodb.Client, *callCounter) {
	c := &callCounter{calls: map[string]int{}}
	counted := dynamodb.New(client.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("countCalls",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					c.mu.Lock()
					c.calls[awsmiddleware.GetOperationName(ctx)]++
					c.mu.Unlock()
					return next.HandleInitialize(ctx, in)
				}), middleware.Before)
		})
	})
	return counted, c
}

func (c *callCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = map[string]int{}
	return out
}

// seedPortfolio writes what n committed and aggregated customers leave
// behind for the portfolio read: each customer's SUMMARY and RANK items (as
// Commit writes them, with their index keys) and the roll-up shards holding
// their sums. Written in bulk, because 10,000 commits through DynamoDB
// Local's transactions would take many minutes.
func seedPortfolio(t *testing.T, s *Store, tn license.Tenant, pool []*license.Figures, n int) {
	t.Helper()
	var shards [RollupShards]license.Portfolio
	reqs := make([]types.WriteRequest, 0, 2*n)
	for i := range n {
		id := fmt.Sprintf("c%05d", i)
		f := *pool[i%len(pool)]
		f.Customer.ID, f.Customer.Name = id, fmt.Sprintf("Customer %05d", i)
		shards[RollupShardOf(id)].Add(&f)
		sum := SummaryOf(&f)
		sum.Version, sum.Upsell = 1, i%4 == 0
		for _, kind := range []string{skSummary, skRank} {
			k, err := customerKey(tn, id, kind)
			if err != nil {
				t.Fatal(err)
			}
			var idx []IndexKey
			if kind == skSummary {
				idx, err = summaryIndexKeys(tn, id, sum.CustomerName, sum.UsagePercent, sum.DeploymentPercent)
			} else {
				idx, err = rankIndexKeys(tn, id, sum.Unassigned, sum.UsagePercent, sum.Upsell)
			}
			if err != nil {
				t.Fatal(err)
			}
			item, err := summaryItem(sum, k, idx)
			if err != nil {
				t.Fatal(err)
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		}
	}
	err := s.parallel(t.Context(), (len(reqs)+batchWriteMax-1)/batchWriteMax, func(ctx context.Context, i int) error {
		return s.batchWrite(ctx, reqs[i*batchWriteMax:min(len(reqs), (i+1)*batchWriteMax)])
	})
	if err != nil {
		t.Fatal(err)
	}
	for n := range shards {
		writes, err := s.shardWrites(tn, n, &shardState{Portfolio: shards[n]}, PortfolioHeadline{}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.db.TransactWriteItems(t.Context(), &dynamodb.TransactWriteItemsInput{TransactItems: writes}); err != nil {
			t.Fatal(err)
		}
	}
}

// costCustomers is the large portfolio of TestPortfolioReadCostIsConstant:
// PORTFOLIO_COST_CUSTOMERS, else 2,000 (500 with -short). Seeding 10,000
// customers into DynamoDB Local takes from half a minute on an idle machine
// to several on a busy one, so the 10,000 measurement is asked for:
//
//	PORTFOLIO_COST_CUSTOMERS=10000 go test ./pkg/store -run TestPortfolioReadCostIsConstant -v
func costCustomers(t *testing.T) int {
	if s := os.Getenv("PORTFOLIO_COST_CUSTOMERS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100000 {
			t.Fatalf("PORTFOLIO_COST_CUSTOMERS=%q: want 1–100000", s)
		}
		return n
	}
	if testing.Short() {
		return 500
	}
	return 2000
}

// Reading the portfolio — what GET /v1/portfolio asks of DynamoDB — makes
// the same four calls for 10 customers as for thousands (costCustomers),
// and reads only the top entries of each list. The medians of the read
// times are logged for the record; timings are not asserted.
func TestPortfolioReadCostIsConstant(t *testing.T) {
	t.Parallel()
	sizes := []int{10, costCustomers(t)}
	pool := generatedFigures(t, 61, 50)
	const reads, top = 21, 10
	type portfolio struct {
		n      int
		tenant license.Tenant
		reader *Store
		calls  *callCounter
		first  map[string]int
		times  []time.Duration
	}
	var ps []*portfolio
	for _, n := range sizes {
		client, table := devstacktest.Table(t)
		s := New(client, table, WithWorkers(8))
		tn, _ := license.NewTenant("cost-" + strconv.Itoa(n))
		start := time.Now()
		seedPortfolio(t, s, tn, pool, n)
		t.Logf("%d customers seeded in %v", n, time.Since(start).Round(time.Millisecond))
		counted, calls := countingClient(client)
		ps = append(ps, &portfolio{n: n, tenant: tn, reader: New(counted, table), calls: calls})
	}
	// The reads alternate between the portfolios, so that both meet the
	// same machine load and the same warmth of DynamoDB Local.
	for i := range reads {
		for _, p := range ps {
			begin := time.Now()
			got, err := p.reader.ReadPortfolio(t.Context(), p.tenant, top)
			elapsed := time.Since(begin)
			if err != nil {
				t.Fatal(err)
			}
			made := p.calls.take()
			if i == 0 {
				p.first = made
				// The answer is the whole portfolio, lists cut at top.
				if got.Rollup.Portfolio.Customers != p.n || len(got.LowestUsage) != min(p.n, top) ||
					len(got.MostUnassigned) == 0 || len(got.UpsellCandidates) == 0 {
					t.Fatalf("%d customers: read %d customers, lists of %d, %d, %d", p.n, got.Rollup.Portfolio.Customers,
						len(got.LowestUsage), len(got.MostUnassigned), len(got.UpsellCandidates))
				}
				continue // the first read warms connections and code paths
			}
			if !reflect.DeepEqual(made, p.first) {
				t.Errorf("%d customers: read %d made calls %v, the first made %v", p.n, i, made, p.first)
			}
			p.times = append(p.times, elapsed)
		}
	}
	var perSize []map[string]int
	for _, p := range ps {
		slices.Sort(p.times)
		t.Logf("portfolio read, %d customers: %v per read, median %v (min %v, max %v) over %d reads",
			p.n, p.first, p.times[len(p.times)/2].Round(10*time.Microsecond), p.times[0].Round(10*time.Microsecond),
			p.times[len(p.times)-1].Round(10*time.Microsecond), len(p.times))
		perSize = append(perSize, p.first)
	}
	want := map[string]int{"BatchGetItem": 1, "Query": 4} // the roll-up, then four ranked lists (mostIdleCopilot the fourth)
	for i, calls := range perSize {
		if !reflect.DeepEqual(calls, want) {
			t.Errorf("%d customers: a portfolio read made %v, want %v", sizes[i], calls, want)
		}
	}
}
