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
	"slices"
	"strings"

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
	var err error
	if rec.Change.Keys, err = image(d.Keys); err != nil {
		return rec, err
	}
	if rec.Change.NewImage, err = image(d.NewImage); err != nil {
		return rec, err
	}
	if rec.Change.OldImage, err = image(d.OldImage); err != nil {
		return rec, err
	}
	return rec, nil
}

func image(m map[string]st.AttributeValue) (map[string]events.DynamoDBAttributeValue, error) {
	if m == nil {
		return nil, nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(m))
	for k, v := range m {
		av, err := attribute(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
		out[k] = av
	}
	return out, nil
}

func attribute(v st.AttributeValue) (events.DynamoDBAttributeValue, error) {
	switch v := v.(type) {
	case *st.AttributeValueMemberS:
		return events.NewStringAttribute(v.Value), nil
	case *st.AttributeValueMemberN:
		return events.NewNumberAttribute(v.Value), nil
	case *st.AttributeValueMemberB:
		return events.NewBinaryAttribute(v.Value), nil
	case *st.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(v.Value), nil
	case *st.AttributeValueMemberNULL:
		return events.NewNullAttribute(), nil
	case *st.AttributeValueMemberSS:
		return events.NewStringSetAttribute(v.Value), nil
	case *st.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(v.Value), nil
	case *st.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(v.Value), nil
	case *st.AttributeValueMemberL:
		list := make([]events.DynamoDBAttributeValue, len(v.Value))
		for i, x := range v.Value {
			av, err := attribute(x)
			if err != nil {
				return av, err
			}
			list[i] = av
		}
		return events.NewListAttribute(list), nil
	case *st.AttributeValueMemberM:
		m, err := image(v.Value)
		if err != nil {
			return events.DynamoDBAttributeValue{}, err
		}
		return events.NewMapAttribute(m), nil
	}
	return events.DynamoDBAttributeValue{}, fmt.Errorf("unsupported attribute value %T", v)
}

// Filter keeps the records that match at least one of the patterns, as
// Lambda event filtering does for a DynamoDB event source: the pattern is
// matched against the record's JSON; an object matches field by field, an
// array of values matches a field equal to one of them, and {"prefix": p}
// a string starting with p. No pattern keeps everything.
func Filter(records []events.DynamoDBEventRecord, patterns []string) ([]events.DynamoDBEventRecord, error) {
	if len(patterns) == 0 {
		return records, nil
	}
	parsed := make([]map[string]any, len(patterns))
	for i, p := range patterns {
		if err := json.Unmarshal([]byte(p), &parsed[i]); err != nil {
			return nil, fmt.Errorf("filter pattern %s: %w", p, err)
		}
	}
	var out []events.DynamoDBEventRecord
	for _, r := range records {
		b, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			return nil, err
		}
		if slices.ContainsFunc(parsed, func(p map[string]any) bool { return matches(p, doc) }) {
			out = append(out, r)
		}
	}
	return out, nil
}

func matches(pattern map[string]any, doc map[string]any) bool {
	for k, want := range pattern {
		got, ok := doc[k]
		if !ok {
			return false
		}
		switch want := want.(type) {
		case map[string]any:
			sub, ok := got.(map[string]any)
			if !ok || !matches(want, sub) {
				return false
			}
		case []any:
			if !slices.ContainsFunc(want, func(w any) bool { return matchValue(w, got) }) {
				return false
			}
		default:
			return false // a pattern's leaves are arrays
		}
	}
	return true
}

func matchValue(want, got any) bool {
	if m, ok := want.(map[string]any); ok {
		p, isPrefix := m["prefix"].(string)
		s, isString := got.(string)
		return isPrefix && isString && strings.HasPrefix(s, p)
	}
	return want == got
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
