package exports_test

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/licenseinsights/licenseinsights/pkg/app"
	"github.com/licenseinsights/licenseinsights/pkg/license/licensetest"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/licenseinsights/licenseinsights/internal/devstack/devstacktest"
	"github.com/licenseinsights/licenseinsights/pkg/api/exports"
	"github.com/licenseinsights/licenseinsights/pkg/awsenv"
	"github.com/licenseinsights/licenseinsights/pkg/config"
	"github.com/licenseinsights/licenseinsights/pkg/ingest"
	"github.com/licenseinsights/licenseinsights/pkg/source"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

func TestMain(m *testing.M) { devstacktest.Main(m) }

// stack is the two export functions on a fresh table and bucket, invoked
// the way Lambda invokes them: with the JSON of the event.
type stack struct {
	env     *awsenv.Env
	store   *store.Store
	api     lambda.Handler
	worker  lambda.Handler
	streams *dynamodbstreams.Client
	ingest  *ingest.Service
	s3      *s3.Client
}

func newStack(t *testing.T) *stack {
	t.Helper()
	db, table := devstacktest.Table(t)
	s3c, bucket := devstacktest.Bucket(t)
	env := &awsenv.Env{DynamoDB: db, S3: s3c, Table: table, Bucket: bucket}
	cfg := config.Default()
	api, err := app.Export(env, cfg)
	if err != nil {
		t.Fatal(err)
	}
	worker, err := app.ExportWorker(env, cfg)
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(db, table)
	return &stack{
		env: env, store: st, api: api, worker: worker,
		streams: devstacktest.Streams(t),
		ingest:  ingest.New(st, ingest.Config{}),
		s3:      s3c,
	}
}

// ingestSnapshot ingests a native snapshot for tenant.
func (s *stack) ingestSnapshot(t *testing.T, tenant string, doc any) {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	id := doc.(snapshot).Customer.ID
	if _, err := s.ingest.Ingest(context.Background(), ingest.Request{
		Tenant: licensetest.Tenant(t, tenant), CustomerID: id, Kind: source.KindSnapshot, Body: strings.NewReader(string(b)),
	}); err != nil {
		t.Fatalf("ingesting %s: %v", id, err)
	}
}

// request is one API call.
type request struct {
	tenant, role string
	method       string
	resource     string // the template's path, e.g. /v1/exports/{exportId}
	params       map[string]string
	query        map[string]string
	body         string
}

type response struct {
	Status  int
	Headers map[string]string
	Body    []byte
}

// call sends r as API Gateway sends a proxy request to the function.
func (s *stack) call(t *testing.T, r request) response {
	t.Helper()
	if r.role == "" {
		r.role = "writer"
	}
	path := r.resource
	for k, v := range r.params {
		path = strings.ReplaceAll(path, "{"+k+"}", v)
	}
	ev := map[string]any{
		"resource":              r.resource,
		"path":                  path,
		"httpMethod":            r.method,
		"headers":               map[string]string{"Content-Type": "application/json"},
		"queryStringParameters": r.query,
		"pathParameters":        r.params,
		"requestContext": map[string]any{
			"resourcePath": r.resource, "httpMethod": r.method, "path": "/prod" + path, "stage": "prod",
			"requestId":  fmt.Sprintf("req-%d", time.Now().UnixNano()),
			"authorizer": map[string]any{"tenant": r.tenant, "role": r.role},
		},
		"body":            r.body,
		"isBase64Encoded": false,
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.api.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, path, err)
	}
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("%s %s: response %s: %v", r.method, path, out, err)
	}
	return response{Status: resp.StatusCode, Headers: resp.Headers, Body: []byte(resp.Body)}
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("response %d %s: %v", r.Status, r.Body, err)
	}
	return v
}

// createExport posts body as tenant and returns the new export.
func (s *stack) createExport(t *testing.T, tenant, body string) exports.Export {
	t.Helper()
	resp := s.call(t, request{tenant: tenant, method: http.MethodPost, resource: "/v1/exports", body: body})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("POST /v1/exports %s: %d %s", body, resp.Status, resp.Body)
	}
	e := decode[exports.Export](t, resp)
	if e.Status != "pending" || e.ExportID == "" || resp.Headers["Location"] != "/v1/exports/"+e.ExportID {
		t.Fatalf("created %+v, Location %q", e, resp.Headers["Location"])
	}
	return e
}

func (s *stack) getExport(t *testing.T, tenant, id string) (int, exports.Export) {
	t.Helper()
	resp := s.call(t, request{tenant: tenant, method: http.MethodGet, resource: "/v1/exports/{exportId}", params: map[string]string{"exportId": id}})
	if resp.Status != http.StatusOK {
		return resp.Status, exports.Export{}
	}
	return resp.Status, decode[exports.Export](t, resp)
}

// runWorker finds the INSERT record of the export's job item on the
// table's stream, as DynamoDB Local wrote it, and hands it to the worker in
// the event shape Lambda's event source mapping delivers.
func (s *stack) runWorker(t *testing.T, exportID string) events.DynamoDBEventResponse {
	t.Helper()
	rec := s.streamRecord(t, "EXPORT#"+exportID)
	return s.invokeWorker(t, rec)
}

func (s *stack) invokeWorker(t *testing.T, records ...map[string]any) events.DynamoDBEventResponse {
	t.Helper()
	payload, err := json.Marshal(map[string]any{"Records": records})
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.worker.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("worker: %v", err)
	}
	var resp events.DynamoDBEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("worker response %s: %v", out, err)
	}
	return resp
}

// streamRecord reads the table's stream from its start and returns the
// INSERT record of the item with sort key sk, as Lambda's JSON.
func (s *stack) streamRecord(t *testing.T, sk string) map[string]any {
	t.Helper()
	ctx := context.Background()
	table, err := s.env.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &s.env.Table})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(table.Table.LatestStreamArn)
	if arn == "" {
		t.Fatal("the table has no stream")
	}
	// Records are there once the write returned; reading the shards again
	// a few times only covers DynamoDB Local's lag in handing them out.
	for range 50 {
		stream, err := s.streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: &arn})
		if err != nil {
			t.Fatal(err)
		}
		for _, shard := range stream.StreamDescription.Shards {
			it, err := s.streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
				StreamArn: &arn, ShardId: shard.ShardId, ShardIteratorType: streamtypes.ShardIteratorTypeTrimHorizon,
			})
			if err != nil {
				t.Fatal(err)
			}
			iter := it.ShardIterator
			for iter != nil {
				out, err := s.streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iter})
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range out.Records {
					if r.EventName != streamtypes.OperationTypeInsert {
						continue
					}
					if v, ok := r.Dynamodb.Keys["SK"].(*streamtypes.AttributeValueMemberS); ok && v.Value == sk {
						return lambdaRecord(t, arn, r)
					}
				}
				if len(out.Records) == 0 {
					break // caught up with this shard
				}
				iter = out.NextShardIterator
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no INSERT record of %s on the stream", sk)
	return nil
}

// lambdaRecord is a stream record as Lambda hands it to a function.
func lambdaRecord(t *testing.T, arn string, r streamtypes.Record) map[string]any {
	t.Helper()
	return map[string]any{
		"eventID":        aws.ToString(r.EventID),
		"eventName":      string(r.EventName),
		"eventVersion":   aws.ToString(r.EventVersion),
		"eventSource":    "aws:dynamodb",
		"awsRegion":      aws.ToString(r.AwsRegion),
		"eventSourceARN": arn,
		"dynamodb": map[string]any{
			"ApproximateCreationDateTime": r.Dynamodb.ApproximateCreationDateTime.Unix(),
			"Keys":                        attributes(t, r.Dynamodb.Keys),
			"NewImage":                    attributes(t, r.Dynamodb.NewImage),
			"SequenceNumber":              aws.ToString(r.Dynamodb.SequenceNumber),
			"SizeBytes":                   aws.ToInt64(r.Dynamodb.SizeBytes),
			"StreamViewType":              string(r.Dynamodb.StreamViewType),
		},
	}
}

func attributes(t *testing.T, m map[string]streamtypes.AttributeValue) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = attribute(t, v)
	}
	return out
}

func attribute(t *testing.T, v streamtypes.AttributeValue) map[string]any {
	switch v := v.(type) {
	case *streamtypes.AttributeValueMemberS:
		return map[string]any{"S": v.Value}
	case *streamtypes.AttributeValueMemberN:
		return map[string]any{"N": v.Value}
	case *streamtypes.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": v.Value}
	case *streamtypes.AttributeValueMemberNULL:
		return map[string]any{"NULL": true}
	case *streamtypes.AttributeValueMemberM:
		return map[string]any{"M": attributes(t, v.Value)}
	case *streamtypes.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, x := range v.Value {
			l[i] = attribute(t, x)
		}
		return map[string]any{"L": l}
	}
	t.Fatalf("stream attribute %T not converted", v)
	return nil
}
