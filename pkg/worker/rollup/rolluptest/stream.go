// Package rolluptest feeds stream consumers in tests the way Lambda does:
// it reads a table's stream from DynamoDB Local with the DynamoDB Streams
// API, turns the records into the events.DynamoDBEvent JSON Lambda
// delivers, keeps those the event source mapping's filter criteria (from
// template.yaml) let through, and invokes a lambda.Handler with batches of
// them.
package rolluptest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
	"slices"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	st "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
)

// Stream reads one table's stream, each call the records written since the
// previous one.
type Stream struct {
	client *dynamodbstreams.Client
	arn    string
	region string
	last   map[string]string // shard id → sequence number of the last record read
}

// Open finds the table's stream.
func Open(ctx context.Context, db *dynamodb.Client, streams *dynamodbstreams.Client, table string) (*Stream, error) {
	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return nil, err
	}
	if out.Table.LatestStreamArn == nil {
		return nil, fmt.Errorf("table %s has no stream", table)
	}
	return &Stream{client: streams, arn: *out.Table.LatestStreamArn, region: db.Options().Region, last: map[string]string{}}, nil
}

// Read returns the records written since the last Read (every record on
// the first), shard by shard in stream order, as Lambda's event records.
func (s *Stream) Read(ctx context.Context) ([]events.DynamoDBEventRecord, error) {
	var shards []st.Shard
	var start *string
	for {
		out, err := s.client.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: &s.arn, ExclusiveStartShardId: start})
		if err != nil {
			return nil, err
		}
		shards = append(shards, out.StreamDescription.Shards...)
		if start = out.StreamDescription.LastEvaluatedShardId; start == nil {
			break
		}
	}
	var records []events.DynamoDBEventRecord
	for _, sh := range shards {
		in := &dynamodbstreams.GetShardIteratorInput{StreamArn: &s.arn, ShardId: sh.ShardId, ShardIteratorType: st.ShardIteratorTypeTrimHorizon}
		if seq, ok := s.last[*sh.ShardId]; ok {
			in.ShardIteratorType, in.SequenceNumber = st.ShardIteratorTypeAfterSequenceNumber, aws.String(seq)
		}
		it, err := s.client.GetShardIterator(ctx, in)
		if err != nil {
			return nil, err
		}
		iterator := it.ShardIterator
		for iterator != nil {
			out, err := s.client.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: iterator})
			if err != nil {
				return nil, err
			}
			for _, r := range out.Records {
				rec, err := s.eventRecord(r)
				if err != nil {
					return nil, err
				}
				records = append(records, rec)
				s.last[*sh.ShardId] = rec.Change.SequenceNumber
			}
			if len(out.Records) == 0 {
				break // an open shard has no end: stop where it has no more
			}
			iterator = out.NextShardIterator
		}
	}
	return records, nil
}

// eventRecord is a Streams API record as Lambda's event carries it.
func (s *Stream) eventRecord(r st.Record) (events.DynamoDBEventRecord, error) {
	if r.Dynamodb == nil {
		return events.DynamoDBEventRecord{}, errors.New("stream record without its dynamodb part")
	}
	d := r.Dynamodb
	rec := events.DynamoDBEventRecord{
		AWSRegion:      aws.ToString(r.AwsRegion),
		EventID:        aws.ToString(r.EventID),
		EventName:      string(r.EventName),
		EventSource:    aws.ToString(r.EventSource),
		EventVersion:   aws.ToString(r.EventVersion),
		EventSourceArn: s.arn,
		Change: events.DynamoDBStreamRecord{
			SequenceNumber: aws.ToString(d.SequenceNumber),
			SizeBytes:      aws.ToInt64(d.SizeBytes),
			StreamViewType: string(d.StreamViewType),
		},
	}
	if rec.AWSRegion == "" {
		rec.AWSRegion = s.region
	}
	if d.ApproximateCreationDateTime != nil {
		rec.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: *d.ApproximateCreationDateTime}
	}
	rec.Change.Keys = infra.StreamImage(d.Keys)
	rec.Change.NewImage = infra.StreamImage(d.NewImage)
	rec.Change.OldImage = infra.StreamImage(d.OldImage)
	return rec, nil
}

// Filter keeps the records that match at least one of the patterns, as
// Lambda event filtering does for a DynamoDB event source (the local
// stack's matcher, infra.Filters). No pattern keeps everything.
func Filter(records []events.DynamoDBEventRecord, patterns []string) ([]events.DynamoDBEventRecord, error) {
	filters, err := infra.CompileFilters(patterns)
	if err != nil {
		return nil, err
	}
	var out []events.DynamoDBEventRecord
	for _, r := range records {
		b, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		doc, err := infra.DecodeEvent(b)
		if err != nil {
			return nil, err
		}
		if filters.Match(doc) {
			out = append(out, r)
		}
	}
	return out, nil
}

// Invoke delivers the records to h in batches of size, each as the JSON of
// an events.DynamoDBEvent, and collects the reported failures.
func Invoke(ctx context.Context, h lambda.Handler, records []events.DynamoDBEventRecord, size int) ([]events.DynamoDBBatchItemFailure, error) {
	var failures []events.DynamoDBBatchItemFailure
	for batch := range slices.Chunk(records, max(size, 1)) {
		payload, err := json.Marshal(events.DynamoDBEvent{Records: batch})
		if err != nil {
			return nil, err
		}
		out, err := h.Invoke(ctx, payload)
		if err != nil {
			return nil, fmt.Errorf("invoking the handler: %w", err)
		}
		var resp events.DynamoDBEventResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			return nil, fmt.Errorf("the handler's response %s: %w", out, err)
		}
		failures = append(failures, resp.BatchItemFailures...)
	}
	return failures, nil
}
