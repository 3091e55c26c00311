package devstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
)

// StreamFeed reads one table stream for all of its consumers: every shard
// (a parent before its children, as Lambda keeps a key's order across a
// split), every record converted once to the record Lambda delivers, and
// handed to each consumer. In AWS each event source mapping reads the
// stream itself; here one reader halves what DynamoDB Local serialises
// for two consumers, which is most of its work after the writes.
type StreamFeed struct {
	client    *dynamodbstreams.Client
	streamARN string
	log       *slog.Logger
	poll      time.Duration
	latest    bool // every consumer starts at LATEST

	consumers []*StreamConsumer
	shards    map[string]*feedShard
	order     []string
	idle      idleSignal
}

type feedShard struct {
	id, parent string
	iterator   *string
	lastSeq    string
	closed     bool
}

// NewStreamFeed prepares a feed; Subscribe its consumers, then Run it and
// them.
func NewStreamFeed(client *dynamodbstreams.Client, streamARN string, log *slog.Logger, poll time.Duration) *StreamFeed {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if poll <= 0 {
		poll = 150 * time.Millisecond
	}
	f := &StreamFeed{client: client, streamARN: streamARN, log: log.With("stream", streamARN), poll: poll, shards: map[string]*feedShard{}}
	f.idle.init()
	return f
}

// Subscribe adds a consumer for one of the template's stream events.
// StartingPosition TRIM_HORIZON and LATEST are understood, but not mixed
// on one stream (one reader serves them all).
func (f *StreamFeed) Subscribe(source infra.StreamSource, fn *Function, cfg StreamConsumerConfig) (*StreamConsumer, error) {
	switch source.StartingPosition {
	case "TRIM_HORIZON", "LATEST":
	default:
		return nil, fmt.Errorf("devstack: %s.%s: StartingPosition %q is not TRIM_HORIZON or LATEST", source.Function, source.Event, source.StartingPosition)
	}
	latest := source.StartingPosition == "LATEST"
	if len(f.consumers) > 0 && latest != f.latest {
		return nil, fmt.Errorf("devstack: %s.%s: StartingPosition %s differs from the stream's other consumers'; the local stack reads a stream once for all of them", source.Function, source.Event, source.StartingPosition)
	}
	f.latest = latest
	if cfg.Poll <= 0 {
		cfg.Poll = f.poll
	}
	c, err := newStreamConsumer(source, fn, f.streamARN, cfg)
	if err != nil {
		return nil, err
	}
	f.consumers = append(f.consumers, c)
	return c, nil
}

// Run reads until ctx ends. It returns ctx's error, or the first error the
// stream itself gave.
func (f *StreamFeed) Run(ctx context.Context) error {
	defer f.idle.stop()
	var lastDescribe time.Time
	first := true
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		// Shards appear (DynamoDB rolls them over); look every second.
		if time.Since(lastDescribe) > time.Second {
			if err := f.discover(ctx, first); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return err
			}
			first, lastDescribe = false, time.Now()
		}
		read := 0
		for _, id := range f.order {
			s := f.shards[id]
			if s.closed {
				continue
			}
			if p, ok := f.shards[s.parent]; ok && !p.closed {
				continue
			}
			n, err := f.read(ctx, s)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return err
			}
			read += n
		}
		if read > 0 {
			continue
		}
		f.idle.mark()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(f.poll):
		}
	}
}

// WaitIdle returns once a read round begun after the call found nothing
// new: everything written before the call has been handed on.
func (f *StreamFeed) WaitIdle(ctx context.Context) error { return f.idle.wait(ctx) }

// discover lists the stream's shards and adds new ones. At the first look
// with StartingPosition LATEST, existing shards start at their end.
func (f *StreamFeed) discover(ctx context.Context, first bool) error {
	var start *string
	for {
		out, err := f.client.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(f.streamARN), ExclusiveStartShardId: start})
		if err != nil {
			return fmt.Errorf("devstack: describing stream %s: %w", f.streamARN, err)
		}
		for _, sh := range out.StreamDescription.Shards {
			id := aws.ToString(sh.ShardId)
			if _, known := f.shards[id]; known {
				continue
			}
			position := types.ShardIteratorTypeTrimHorizon
			if first && f.latest {
				position = types.ShardIteratorTypeLatest
			}
			it, err := f.client.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
				StreamArn: aws.String(f.streamARN), ShardId: sh.ShardId, ShardIteratorType: position,
			})
			if err != nil {
				return fmt.Errorf("devstack: shard iterator for %s: %w", id, err)
			}
			f.shards[id] = &feedShard{id: id, parent: aws.ToString(sh.ParentShardId), iterator: it.ShardIterator}
			f.order = append(f.order, id)
		}
		start = out.StreamDescription.LastEvaluatedShardId
		if start == nil {
			return nil
		}
	}
}

// read takes what the shard has and hands it to every consumer.
func (f *StreamFeed) read(ctx context.Context, s *feedShard) (int, error) {
	out, err := f.client.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: s.iterator, Limit: aws.Int32(1000)})
	var expired *types.ExpiredIteratorException
	if errors.As(err, &expired) {
		// Iterators expire after 15 minutes; start again after the last
		// record handed on.
		in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(f.streamARN), ShardId: aws.String(s.id), ShardIteratorType: types.ShardIteratorTypeTrimHorizon}
		if s.lastSeq != "" {
			in.ShardIteratorType, in.SequenceNumber = types.ShardIteratorTypeAfterSequenceNumber, aws.String(s.lastSeq)
		}
		it, err := f.client.GetShardIterator(ctx, in)
		if err != nil {
			return 0, fmt.Errorf("devstack: renewing the iterator of shard %s: %w", s.id, err)
		}
		s.iterator = it.ShardIterator
		return 0, nil
	}
	var trimmed *types.TrimmedDataAccessException
	if errors.As(err, &trimmed) {
		f.log.Warn("shard trimmed past our position: records were lost", "shard", s.id)
		f.close(s)
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("devstack: reading shard %s: %w", s.id, err)
	}
	items := make([]inboxItem, 0, len(out.Records)+1)
	for _, r := range out.Records {
		rec := lambdaRecord(r, f.streamARN)
		s.lastSeq = rec.event.Change.SequenceNumber
		items = append(items, inboxItem{shard: s.id, record: rec})
	}
	if len(items) > 0 {
		for _, c := range f.consumers {
			c.push(items)
		}
	}
	s.iterator = out.NextShardIterator
	if s.iterator == nil {
		f.close(s)
	}
	return len(out.Records), nil
}

func (f *StreamFeed) close(s *feedShard) {
	s.closed = true
	for _, c := range f.consumers {
		c.push([]inboxItem{{shard: s.id, closed: true}})
	}
}

// Consumers are the feed's subscribers.
func (f *StreamFeed) Consumers() []*StreamConsumer { return f.consumers }

// lambdaRecord converts a stream record to the record Lambda delivers.
// DynamoDB Local reports TTL deletions with an event name the SDK does not
// know; Lambda delivers them as REMOVE by the DynamoDB service.
func lambdaRecord(r types.Record, streamARN string) streamRecord {
	d := r.Dynamodb
	if d == nil {
		d = &types.StreamRecord{}
	}
	rec := events.DynamoDBEventRecord{
		AWSRegion:      regionName,
		EventID:        aws.ToString(r.EventID),
		EventName:      string(r.EventName),
		EventSource:    "aws:dynamodb",
		EventVersion:   aws.ToString(r.EventVersion),
		EventSourceArn: streamARN,
		Change: events.DynamoDBStreamRecord{
			Keys:           infra.StreamImage(d.Keys),
			NewImage:       infra.StreamImage(d.NewImage),
			OldImage:       infra.StreamImage(d.OldImage),
			SequenceNumber: aws.ToString(d.SequenceNumber),
			SizeBytes:      aws.ToInt64(d.SizeBytes),
			StreamViewType: string(d.StreamViewType),
		},
	}
	if rec.EventVersion == "" {
		rec.EventVersion = "1.1"
	}
	var at time.Time
	if d.ApproximateCreationDateTime != nil {
		at = *d.ApproximateCreationDateTime
		rec.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: at}
	}
	switch r.EventName {
	case types.OperationTypeInsert, types.OperationTypeModify, types.OperationTypeRemove:
	default:
		rec.EventName = string(types.OperationTypeRemove)
		rec.UserIdentity = &events.DynamoDBUserIdentity{Type: "Service", PrincipalID: "dynamodb.amazonaws.com"}
	}
	if u := r.UserIdentity; u != nil {
		rec.UserIdentity = &events.DynamoDBUserIdentity{Type: aws.ToString(u.Type), PrincipalID: aws.ToString(u.PrincipalId)}
	}
	return streamRecord{event: rec, at: at, view: filterView(rec)}
}
