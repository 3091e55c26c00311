package rollup

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/licenseinsights/licenseinsights/internal/devstack/devstacktest"
	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/portfoliogen"
	"github.com/licenseinsights/licenseinsights/pkg/store"
	"github.com/licenseinsights/licenseinsights/pkg/worker/rollup/rolluptest"
)

func TestMain(m *testing.M) { devstacktest.Main(m) }

func TestImageConvertsEveryType(t *testing.T) {
	in := map[string]events.DynamoDBAttributeValue{
		"s":    events.NewStringAttribute("text"),
		"n":    events.NewNumberAttribute("42"),
		"b":    events.NewBinaryAttribute([]byte{1, 2}),
		"bool": events.NewBooleanAttribute(true),
		"null": events.NewNullAttribute(),
		"ss":   events.NewStringSetAttribute([]string{"a", "b"}),
		"ns":   events.NewNumberSetAttribute([]string{"1", "2"}),
		"bs":   events.NewBinarySetAttribute([][]byte{{3}}),
		"l":    events.NewListAttribute([]events.DynamoDBAttributeValue{events.NewStringAttribute("x"), events.NewNumberAttribute("1")}),
		"m":    events.NewMapAttribute(map[string]events.DynamoDBAttributeValue{"k": events.NewBooleanAttribute(false)}),
	}
	want := map[string]types.AttributeValue{
		"s":    &types.AttributeValueMemberS{Value: "text"},
		"n":    &types.AttributeValueMemberN{Value: "42"},
		"b":    &types.AttributeValueMemberB{Value: []byte{1, 2}},
		"bool": &types.AttributeValueMemberBOOL{Value: true},
		"null": &types.AttributeValueMemberNULL{Value: true},
		"ss":   &types.AttributeValueMemberSS{Value: []string{"a", "b"}},
		"ns":   &types.AttributeValueMemberNS{Value: []string{"1", "2"}},
		"bs":   &types.AttributeValueMemberBS{Value: [][]byte{{3}}},
		"l":    &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: "x"}, &types.AttributeValueMemberN{Value: "1"}}},
		"m":    &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": &types.AttributeValueMemberBOOL{Value: false}}},
	}
	got, err := Image(in)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Image = %#v\nwant %#v", got, want)
	}
	if got, err := Image(nil); got != nil || err != nil {
		t.Errorf("Image(nil) = %v, %v", got, err)
	}
}

// The template's event source mapping is what the handler relies on: only
// FIGURES records, partial batch responses, bisection, bounded retries and
// an on-failure destination.
func TestTemplateEventSource(t *testing.T) {
	var src *infra.StreamSource
	for _, s := range devstacktest.Template().StreamSources() {
		if s.Function == "AggregateFunction" {
			src = &s
		}
	}
	if src == nil {
		t.Fatal("template.yaml has no stream event source for AggregateFunction")
	}
	if !slices.Equal(src.FilterPatterns, []string{`{"dynamodb":{"Keys":{"SK":{"S":["FIGURES"]}}}}`}) {
		t.Errorf("filter patterns %q: the handler expects only FIGURES records", src.FilterPatterns)
	}
	if !src.ReportBatchItemFailures || !src.BisectOnError || src.MaxRetries < 1 || src.MaxRetries > 100 {
		t.Errorf("event source %+v: want ReportBatchItemFailures, bisection and a bounded retry count", src)
	}
}

type fixture struct {
	db      *dynamodb.Client
	table   string
	store   *store.Store
	handler lambda.Handler
	stream  *rolluptest.Stream
	tenant  license.Tenant
	filter  []string
}

func newFixture(t *testing.T, tenant string) *fixture {
	t.Helper()
	db, table := devstacktest.Table(t)
	h := lambda.NewHandler(New(store.New(db, table, store.WithWorkers(8))).Handle)
	stream, err := rolluptest.Open(t.Context(), db, devstacktest.Streams(t), table)
	if err != nil {
		t.Fatal(err)
	}
	tn, err := license.NewTenant(tenant)
	if err != nil {
		t.Fatal(err)
	}
	var filter []string
	for _, s := range devstacktest.Template().StreamSources() {
		if s.Function == "AggregateFunction" {
			filter = s.FilterPatterns
		}
	}
	return &fixture{db: db, table: table, store: store.New(db, table), handler: h, stream: stream, tenant: tn, filter: filter}
}

// deliver reads the stream's new records, keeps what the template's filter
// lets through, and invokes the handler in batches of 100 (the template's
// BatchSize), as Lambda would. It returns the records delivered.
func (f *fixture) deliver(t *testing.T) []events.DynamoDBEventRecord {
	t.Helper()
	all, err := f.stream.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	records, err := rolluptest.Filter(all, f.filter)
	if err != nil {
		t.Fatal(err)
	}
	f.invoke(t, records, nil)
	return records
}

// invoke sends records and checks the failures are exactly wantFailed.
func (f *fixture) invoke(t *testing.T, records []events.DynamoDBEventRecord, wantFailed []string) {
	t.Helper()
	failures, err := rolluptest.Invoke(t.Context(), f.handler, records, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range failures {
		got = append(got, x.ItemIdentifier)
	}
	if !slices.Equal(got, wantFailed) {
		t.Fatalf("batch item failures %v, want %v", got, wantFailed)
	}
}

// generated are n small realistic customers computed by the engine.
func generated(t *testing.T, seed int64, n int) []*license.Figures {
	t.Helper()
	d, _ := license.ParseDate("2026-11-20")
	cfg := portfoliogen.Config{Seed: seed, Customers: n, Users: 25, ReportDate: d}
	out, err := portfoliogen.AllFigures(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// commit writes a customer's figures as the ingest does (FIGURES, SUMMARY,
// RANK... in one transaction).
func (f *fixture) commit(t *testing.T, fig *license.Figures, expected int64) {
	t.Helper()
	err := f.store.Commit(t.Context(), store.Commit{
		Tenant: f.tenant, CustomerID: fig.Customer.ID, ExpectedVersion: expected, Generation: expected + 1, Shards: 1,
		Figures: fig, Source: store.SourceRecord{Kind: "snapshot", SHA256: strconv.FormatInt(expected, 10)},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// commitNew commits new customers' figures and gives their ids.
func (f *fixture) commitNew(t *testing.T, figures []*license.Figures) []string {
	t.Helper()
	var ids []string
	for _, fig := range figures {
		f.commit(t, fig, 0)
		ids = append(ids, fig.Customer.ID)
	}
	return ids
}

// replayAll delivers every record of the deliveries again, then again in
// reverse (Lambda delivers at least once, in any order across batches),
// and checks the roll-up is still the sum of the customers ids.
func (f *fixture) replayAll(t *testing.T, ids []string, deliveries ...[]events.DynamoDBEventRecord) {
	t.Helper()
	all := slices.Concat(deliveries...)
	f.invoke(t, all, nil)
	f.assertSum(t, ids, "after replaying every record")
	slices.Reverse(all)
	f.invoke(t, all, nil)
	f.assertSum(t, ids, "after replaying every record again, in reverse")
}

// assertSum checks the roll-up against the sum of the FIGURES items the
// customers have now, read back from the table.
func (f *fixture) assertSum(t *testing.T, ids []string, when string) {
	t.Helper()
	var want license.Portfolio
	for _, id := range ids {
		cf, err := f.store.Figures(t.Context(), f.tenant, id)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		want.Add(&cf.Figures)
	}
	got, err := f.store.Portfolio(t.Context(), f.tenant)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Portfolio.SameCounts(&want) {
		t.Fatalf("%s: the roll-up is not the sum of the customers\n got %+v\nwant %+v", when,
			store.HeadlineOfPortfolio(&got.Portfolio), store.HeadlineOfPortfolio(&want))
	}
	if got.Portfolio.Customers != len(ids) {
		t.Fatalf("%s: %d customers, want %d", when, got.Portfolio.Customers, len(ids))
	}
}

// The stream records DynamoDB Local really produces — inserts, changes and
// a removal — keep the roll-up equal to the sum of the customers, delivered
// once, again, and twice more.
func TestAggregateFromTheTableStream(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "tenant-stream")
	figures := generated(t, 7, 16)
	ids := f.commitNew(t, figures[:12])
	first := f.deliver(t)
	if len(first) != 12 {
		t.Fatalf("the filter let %d records through for 12 new customers", len(first))
	}
	f.assertSum(t, ids, "after 12 inserts")

	// Change four customers (new figures under the same ids), remove one.
	for i := range 4 {
		next := *figures[12+i]
		next.Customer = figures[i].Customer
		f.commit(t, &next, 1)
	}
	removed := ids[5]
	for _, sk := range []string{"FIGURES", "SUMMARY", "RANK"} {
		pk, _ := store.CustomerPK(f.tenant, removed)
		if _, err := f.db.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{TableName: aws.String(f.table), Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk},
		}}); err != nil {
			t.Fatal(err)
		}
	}
	ids = slices.DeleteFunc(ids, func(id string) bool { return id == removed })
	second := f.deliver(t)
	names := map[string]int{}
	for _, r := range second {
		names[r.EventName]++
	}
	if names["MODIFY"] != 4 || names["REMOVE"] != 1 || len(second) != 5 {
		t.Fatalf("second delivery: %v", names)
	}
	f.assertSum(t, ids, "after 4 changes and a removal")

	// Lambda delivers at least once: every record again, twice, in reverse.
	f.replayAll(t, ids, first, second)
}

// Records of other items (no filter, as a misconfigured mapping would send
// them) are skipped; a record that cannot be read is reported by its
// sequence number, and the rest of the batch is applied.
func TestAggregateReportsFailuresBySequenceNumber(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "tenant-fail")
	figures := generated(t, 9, 3)
	f.commit(t, figures[0], 0)
	all, err := f.stream.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 3 {
		t.Fatalf("one commit gave %d stream records", len(all))
	}
	f.invoke(t, all, nil) // FIGURES applied; SUMMARY, RANK, SOURCE… skipped
	f.assertSum(t, []string{figures[0].Customer.ID}, "after an unfiltered batch")

	f.commit(t, figures[1], 0)
	f.commit(t, figures[2], 0)
	all, err = f.stream.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := rolluptest.Filter(all, f.filter)
	if err != nil {
		t.Fatal(err)
	}
	if len(fresh) != 2 {
		t.Fatalf("%d FIGURES records for two commits", len(fresh))
	}
	// A broken copy of a real record first, then the real ones.
	broken := fresh[0]
	broken.Change.SequenceNumber = "900000000000000000001"
	img := map[string]events.DynamoDBAttributeValue{}
	for k, v := range broken.Change.NewImage {
		img[k] = v
	}
	img["figures"] = events.NewStringAttribute("{not json")
	broken.Change.NewImage = img
	f.invoke(t, []events.DynamoDBEventRecord{broken, fresh[0], fresh[1]}, []string{"900000000000000000001"})
	f.assertSum(t, []string{figures[0].Customer.ID, figures[1].Customer.ID, figures[2].Customer.ID}, "after a batch with a broken record")
}

// The sample event under events/ is a real stream event of the demo
// tenant: applied by the handler it leaves exactly the customer it
// describes in the roll-up; applied again it changes nothing.
func TestSampleEvent(t *testing.T) {
	t.Parallel()
	ev, want := sampleEvent(t)
	if *updateEvents {
		writeSampleEvent(t, ev)
	}
	f := newFixture(t, "demo-partner")
	payload := readSampleEvent(t)
	for range 2 {
		out, err := f.handler.Invoke(t.Context(), payload)
		if err != nil {
			t.Fatal(err)
		}
		var resp events.DynamoDBEventResponse
		if err := json.Unmarshal(out, &resp); err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("response %s (%v)", out, err)
		}
		got, err := f.store.Portfolio(t.Context(), f.tenant)
		if err != nil {
			t.Fatal(err)
		}
		var p license.Portfolio
		p.Add(want)
		if !got.Portfolio.SameCounts(&p) {
			t.Fatalf("the sample event leaves %+v, want %+v", store.HeadlineOfPortfolio(&got.Portfolio), store.HeadlineOfPortfolio(&p))
		}
	}
	generated, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var stored bytes.Buffer
	if err := json.Compact(&stored, payload); err != nil {
		t.Fatal(err)
	}
	if stored.String() != string(generated) {
		t.Errorf("events/%s is not what the test generates: run go test ./pkg/worker/rollup -run TestSampleEvent -update-events", sampleEventFile)
	}
}
