package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/licenseinsights/licenseinsights/internal/devstack/devstacktest"
	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
)

// figuresPattern is template.yaml's filter of the AggregateFunction's stream.
const figuresPattern = `{"dynamodb":{"Keys":{"SK":{"S":["FIGURES"]}}}}`

func TestMain(m *testing.M) { devstacktest.Main(m) }

// recorder is a tiny stream handler: it keeps every payload it gets and
// answers what decide says for each batch.
type recorder struct {
	mu       sync.Mutex
	payloads [][]byte
	batches  [][]string // the SK of each record, per invocation
	decide   func(sks []string, seqs []string) (events.DynamoDBEventResponse, error)
}

func (r *recorder) handle(_ context.Context, payload json.RawMessage) (events.DynamoDBEventResponse, error) {
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return events.DynamoDBEventResponse{}, err
	}
	var sks, seqs []string
	for _, rec := range ev.Records {
		sks = append(sks, rec.Change.Keys["SK"].String())
		seqs = append(seqs, rec.Change.SequenceNumber)
	}
	r.mu.Lock()
	r.payloads = append(r.payloads, slices.Clone(payload))
	r.batches = append(r.batches, sks)
	r.mu.Unlock()
	if r.decide == nil {
		return events.DynamoDBEventResponse{}, nil
	}
	return r.decide(sks, seqs)
}

func (r *recorder) seen() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.batches)
}

// streamUnderTest is a feed with one consumer over a fresh table.
type streamUnderTest struct {
	feed     *StreamFeed
	consumer *StreamConsumer
}

// startConsumer runs a consumer of a fresh table's stream for the test.
func startConsumer(t *testing.T, source infra.StreamSource, rec *recorder) (*dynamodb.Client, string, *streamUnderTest, string) {
	t.Helper()
	db, table := devstacktest.Table(t)
	desc, err := db.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	failureFile := filepath.Join(t.TempDir(), "failures.jsonl")
	fn := &Function{LogicalID: source.Function, Handler: lambda.NewHandler(rec.handle), Timeout: 10 * time.Second}
	feed := NewStreamFeed(devstacktest.Streams(t), aws.ToString(desc.Table.LatestStreamArn), nil, 50*time.Millisecond)
	c, err := feed.Subscribe(source, fn, StreamConsumerConfig{
		FailureFile: failureFile, Backoff: func(int) time.Duration { return 0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- feed.Run(ctx) }()
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		for range 2 {
			if err := <-done; err != context.Canceled {
				t.Errorf("stream reader or consumer ended with %v, want context.Canceled", err)
			}
		}
	})
	return db, table, &streamUnderTest{feed: feed, consumer: c}, failureFile
}

func put(t *testing.T, db *dynamodb.Client, table, pk, sk string, n int) {
	t.Helper()
	_, err := db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]ddbtypes.AttributeValue{
		"PK": &ddbtypes.AttributeValueMemberS{Value: pk},
		"SK": &ddbtypes.AttributeValueMemberS{Value: sk},
		"n":  &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(n)},
	}})
	if err != nil {
		t.Fatal(err)
	}
}

func waitIdle(t *testing.T, s *streamUnderTest) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := s.feed.WaitIdle(ctx); err != nil {
		t.Fatalf("feed WaitIdle: %v", err)
	}
	if err := s.consumer.WaitIdle(ctx); err != nil {
		t.Fatalf("consumer WaitIdle: %v", err)
	}
}

func TestStreamConsumerFiltersBatchesAndShapesEvents(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	source := infra.StreamSource{
		Function: "AggregateFunction", Event: "FiguresChanged", StartingPosition: "TRIM_HORIZON",
		BatchSize: 2, FilterPatterns: []string{figuresPattern}, MaxRetries: -1, ReportBatchItemFailures: true,
	}
	db, table, c, _ := startConsumer(t, source, rec)

	put(t, db, table, "T#a#C#c1", "FIGURES", 1)
	put(t, db, table, "T#a#C#c1", "SUB#1", 1) // filtered out
	put(t, db, table, "T#a#C#c2", "FIGURES", 1)
	put(t, db, table, "T#a#C#c1", "FIGURES", 2) // MODIFY
	_, err := db.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: map[string]ddbtypes.AttributeValue{
		"PK": &ddbtypes.AttributeValueMemberS{Value: "T#a#C#c2"}, "SK": &ddbtypes.AttributeValueMemberS{Value: "FIGURES"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	waitIdle(t, c)

	// Four FIGURES changes pass the filter; SUB#1 does not. Batches hold at
	// most two records and keep the stream's order.
	var all []string
	var names []string
	for _, p := range rec.payloads {
		var ev events.DynamoDBEvent
		if err := json.Unmarshal(p, &ev); err != nil {
			t.Fatal(err)
		}
		if len(ev.Records) > 2 {
			t.Errorf("a batch of %d records, BatchSize is 2", len(ev.Records))
		}
		for _, r := range ev.Records {
			all = append(all, r.Change.Keys["PK"].String()+"/"+r.Change.Keys["SK"].String())
			names = append(names, r.EventName)
		}
	}
	wantKeys := []string{"T#a#C#c1/FIGURES", "T#a#C#c2/FIGURES", "T#a#C#c1/FIGURES", "T#a#C#c2/FIGURES"}
	if !slices.Equal(all, wantKeys) {
		t.Errorf("delivered %v, want %v", all, wantKeys)
	}
	if want := []string{"INSERT", "INSERT", "MODIFY", "REMOVE"}; !slices.Equal(names, want) {
		t.Errorf("event names %v, want %v", names, want)
	}

	// The JSON is Lambda's: look at the raw field names of one MODIFY record.
	var modify map[string]json.RawMessage
	for _, p := range rec.payloads {
		var raw struct {
			Records []map[string]json.RawMessage
		}
		if err := json.Unmarshal(p, &raw); err != nil {
			t.Fatal(err)
		}
		for _, r := range raw.Records {
			if string(r["eventName"]) == `"MODIFY"` {
				modify = r
			}
		}
	}
	if modify == nil {
		t.Fatal("no MODIFY record delivered")
	}
	for _, field := range []string{"eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "eventSourceARN", "dynamodb"} {
		if _, ok := modify[field]; !ok {
			t.Errorf("record lacks %q: %v", field, keys(modify))
		}
	}
	if got := string(modify["eventSource"]); got != `"aws:dynamodb"` {
		t.Errorf("eventSource %s", got)
	}
	if got := string(modify["eventSourceARN"]); !strings.Contains(got, "/stream/") || !strings.Contains(got, table) {
		t.Errorf("eventSourceARN %s is not the table's stream", got)
	}
	var change map[string]json.RawMessage
	if err := json.Unmarshal(modify["dynamodb"], &change); err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"ApproximateCreationDateTime", "Keys", "NewImage", "OldImage", "SequenceNumber", "SizeBytes", "StreamViewType"} {
		if _, ok := change[field]; !ok {
			t.Errorf("dynamodb lacks %q: %v", field, keys(change))
		}
	}
	if got := string(change["StreamViewType"]); got != `"NEW_AND_OLD_IMAGES"` {
		t.Errorf("StreamViewType %s", got)
	}
	// The MODIFY changed n from 1 to 2.
	if !strings.Contains(string(change["OldImage"]), `"n":{"N":"1"}`) || !strings.Contains(string(change["NewImage"]), `"n":{"N":"2"}`) {
		t.Errorf("images: old %s new %s", change["OldImage"], change["NewImage"])
	}
	var when float64
	if err := json.Unmarshal(change["ApproximateCreationDateTime"], &when); err != nil || when < 1.7e9 {
		t.Errorf("ApproximateCreationDateTime %s is not epoch seconds", change["ApproximateCreationDateTime"])
	}
}

func keys(m map[string]json.RawMessage) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestStreamConsumerRedeliversFromFirstReportedFailure(t *testing.T) {
	t.Parallel()
	var once sync.Once
	rec := &recorder{}
	rec.decide = func(sks, seqs []string) (events.DynamoDBEventResponse, error) {
		var resp events.DynamoDBEventResponse
		// The first time b and d are in a batch, report both failed: the
		// lowest (b) is where delivery starts again.
		if i := slices.Index(sks, "b"); i >= 0 && slices.Contains(sks, "d") {
			once.Do(func() {
				j := slices.Index(sks, "d")
				resp.BatchItemFailures = []events.DynamoDBBatchItemFailure{{ItemIdentifier: seqs[j]}, {ItemIdentifier: seqs[i]}}
			})
		}
		return resp, nil
	}
	source := infra.StreamSource{
		Function: "F", Event: "E", StartingPosition: "TRIM_HORIZON", BatchSize: 10,
		MaxBatchingWindow: 500 * time.Millisecond, MaxRetries: 3, ReportBatchItemFailures: true,
	}
	db, table, c, failureFile := startConsumer(t, source, rec)
	for i, sk := range []string{"a", "b", "c", "d"} {
		put(t, db, table, "P", sk, i)
	}
	waitIdle(t, c)

	// Whatever the batching, every record arrives, a exactly once (it
	// succeeded before the failure), and b, c and d once more after the
	// failed batch, starting at b.
	var flat []string
	for _, b := range rec.seen() {
		flat = append(flat, b...)
	}
	count := func(sk string) int {
		n := 0
		for _, s := range flat {
			if s == sk {
				n++
			}
		}
		return n
	}
	failedBatch := -1
	for i, b := range rec.seen() {
		if slices.Contains(b, "b") && slices.Contains(b, "d") {
			failedBatch = i
			break
		}
	}
	if failedBatch < 0 {
		t.Fatalf("b and d never came in one batch: %v", rec.seen())
	}
	retry := rec.seen()[failedBatch+1]
	if retry[0] != "b" {
		t.Errorf("after the failure delivery restarted at %q, want b (the lowest failed record): batches %v", retry[0], rec.seen())
	}
	if count("a") != 1 || count("b") != 2 || count("c") != 2 || count("d") != 2 {
		t.Errorf("deliveries a=%d b=%d c=%d d=%d, want 1 2 2 2: batches %v", count("a"), count("b"), count("c"), count("d"), rec.seen())
	}
	if _, err := os.Stat(failureFile); !os.IsNotExist(err) {
		t.Errorf("a failure file was written (%v) though the retry succeeded", err)
	}
}

func TestStreamConsumerBisectsAndGivesUpOnPoison(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	rec.decide = func(sks, _ []string) (events.DynamoDBEventResponse, error) {
		if slices.Contains(sks, "poison") {
			return events.DynamoDBEventResponse{}, fmt.Errorf("cannot digest poison")
		}
		return events.DynamoDBEventResponse{}, nil
	}
	source := infra.StreamSource{
		Function: "F", Event: "E", StartingPosition: "TRIM_HORIZON", BatchSize: 4,
		MaxBatchingWindow: 500 * time.Millisecond, BisectOnError: true, MaxRetries: 2,
	}
	db, table, c, failureFile := startConsumer(t, source, rec)
	for i, sk := range []string{"a", "b", "poison", "c"} {
		put(t, db, table, "P", sk, i)
	}
	waitIdle(t, c)

	// Every good record gets through in a successful batch; poison is
	// given up after 1 + MaximumRetryAttempts (2) invocations that held it.
	delivered := map[string]bool{}
	poisonCalls := 0
	for _, b := range rec.seen() {
		if slices.Contains(b, "poison") {
			poisonCalls++
			continue
		}
		for _, sk := range b {
			delivered[sk] = true
		}
	}
	for _, sk := range []string{"a", "b", "c"} {
		if !delivered[sk] {
			t.Errorf("%s was never delivered in a successful batch: %v", sk, rec.seen())
		}
	}
	if poisonCalls != 3 {
		t.Errorf("poison was in %d invocations, want 3 (the first and 2 retries): %v", poisonCalls, rec.seen())
	}
	data, err := os.ReadFile(failureFile)
	if err != nil {
		t.Fatalf("no on-failure file: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 1 {
		t.Fatalf("on-failure file has %d entries, want 1:\n%s", len(lines), data)
	}
	var entry struct {
		RequestContext struct {
			Condition              string `json:"condition"`
			ApproximateInvokeCount int    `json:"approximateInvokeCount"`
		} `json:"requestContext"`
		ResponseContext struct {
			FunctionError string `json:"functionError"`
		} `json:"responseContext"`
		Info struct {
			BatchSize int `json:"batchSize"`
		} `json:"DDBStreamBatchInfo"`
		Records []events.DynamoDBEventRecord `json:"records"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &entry); err != nil {
		t.Fatal(err)
	}
	if entry.RequestContext.Condition != "RetryAttemptsExhausted" || entry.Info.BatchSize != 1 ||
		len(entry.Records) != 1 || entry.Records[0].Change.Keys["SK"].String() != "poison" ||
		!strings.Contains(entry.ResponseContext.FunctionError, "cannot digest poison") {
		t.Errorf("on-failure entry: %s", lines[0])
	}
}

func TestLambdaRecordDeliversUnknownEventNamesAsRemove(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	rec := lambdaRecord(types.Record{
		EventName: "UNKNOWN_TO_SDK_VERSION",
		EventID:   aws.String("id-1"),
		Dynamodb: &types.StreamRecord{
			ApproximateCreationDateTime: &at,
			Keys:                        map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "p"}},
			OldImage: map[string]types.AttributeValue{
				"PK":        &types.AttributeValueMemberS{Value: "p"},
				"expiresAt": &types.AttributeValueMemberN{Value: "100"},
				"tags":      &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberBOOL{Value: true}}},
			},
			SequenceNumber: aws.String("42"),
			StreamViewType: types.StreamViewTypeNewAndOldImages,
		},
	}, "arn:aws:dynamodb:ddblocal:000000000000:table/t/stream/x")
	b, err := json.Marshal(rec.event)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, want := range []string{
		`"eventName":"REMOVE"`,
		`"userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"}`,
		`"ApproximateCreationDateTime":1795168800`,
		`"expiresAt":{"N":"100"}`,
		`"tags":{"L":[{"BOOL":true}]}`,
		`"eventVersion":"1.1"`,
		`"awsRegion":"us-east-1"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("record %s lacks %s", got, want)
		}
	}
}

func TestBatchItemFailures(t *testing.T) {
	batch := []streamRecord{{}, {}, {}}
	for i, seq := range []string{"100", "200", "300"} {
		batch[i].event.Change.SequenceNumber = seq
	}
	tests := []struct {
		name     string
		response string
		want     int
	}{
		{"no response", ``, -1},
		{"null", `null`, -1},
		{"empty object", `{}`, -1},
		{"empty list", `{"batchItemFailures":[]}`, -1},
		{"one failure", `{"batchItemFailures":[{"itemIdentifier":"200"}]}`, 1},
		{"lowest of several", `{"batchItemFailures":[{"itemIdentifier":"300"},{"itemIdentifier":"200"}]}`, 1},
		{"first record", `{"batchItemFailures":[{"itemIdentifier":"100"}]}`, 0},
		{"empty identifier fails all", `{"batchItemFailures":[{"itemIdentifier":""}]}`, 0},
		{"unknown identifier fails all", `{"batchItemFailures":[{"itemIdentifier":"999"}]}`, 0},
	}
	for _, tt := range tests {
		got, _ := batchItemFailures([]byte(tt.response), batch, discardLogger())
		if got != tt.want {
			t.Errorf("%s: re-deliver from %d, want %d", tt.name, got, tt.want)
		}
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
