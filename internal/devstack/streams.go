package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
)

// StreamConsumer is Lambda's event source mapping for one DynamoDB stream
// event of the template. A StreamFeed reads the table's stream and hands
// it every record, shard by shard (a parent before its children); the
// consumer drops records that match none of the FilterCriteria, batches
// the rest (BatchSize, MaximumBatchingWindow), invokes the function with
// the DynamoDBEvent Lambda would send, and handles failures as Lambda
// does: ReportBatchItemFailures re-delivers from the first failed record,
// BisectBatchOnFunctionError splits a failing batch, and after
// MaximumRetryAttempts (or MaximumRecordAge) the batch is given up and
// written to the on-failure file, standing in for the template's SQS
// on-failure destination.
type StreamConsumer struct {
	source    infra.StreamSource
	filters   infra.Filters
	fn        *Function
	streamARN string
	failures  *failureLog
	log       *slog.Logger
	poll      time.Duration
	backoff   func(attempt int) time.Duration

	mu    sync.Mutex
	inbox []inboxItem
	wake  chan struct{}

	shards map[string]*shard // by shard id, while they hold records
	order  []string          // shard ids in the order they appeared

	idle        idleSignal
	invocations atomic.Int64 // for the stack's WaitIdle
}

// inboxItem is a record the feed handed on, or (closed) the news that its
// shard has ended.
type inboxItem struct {
	shard  string
	record streamRecord
	closed bool
}

// shard is what the consumer holds back of one stream shard.
type shard struct {
	id      string
	closed  bool
	pending []streamRecord
	firstAt time.Time // when the oldest pending record arrived
}

// streamRecord is one record as Lambda delivers it.
type streamRecord struct {
	event events.DynamoDBEventRecord
	at    time.Time // ApproximateCreationDateTime
	view  any       // the JSON form the filters read
}

// StreamConsumerConfig holds what Subscribe needs besides the template's
// event.
type StreamConsumerConfig struct {
	// FailureFile receives batches given up on, one JSON line each.
	FailureFile string
	Log         *slog.Logger
	// Poll bounds the pause when there is nothing to do; 0 means 150 ms.
	Poll time.Duration
	// Backoff is the pause before retry number attempt (1, 2, ...); nil
	// means 100 ms doubling up to 2 s.
	Backoff func(attempt int) time.Duration
}

func newStreamConsumer(source infra.StreamSource, fn *Function, streamARN string, cfg StreamConsumerConfig) (*StreamConsumer, error) {
	filters, err := infra.CompileFilters(source.FilterPatterns)
	if err != nil {
		return nil, fmt.Errorf("devstack: %s.%s FilterCriteria: %w", source.Function, source.Event, err)
	}
	if source.BatchSize < 1 || source.BatchSize > 10000 {
		return nil, fmt.Errorf("devstack: %s.%s: BatchSize %d is outside 1..10000", source.Function, source.Event, source.BatchSize)
	}
	c := &StreamConsumer{
		source: source, filters: filters, fn: fn, streamARN: streamARN,
		failures: &failureLog{path: cfg.FailureFile}, log: cfg.Log, poll: cfg.Poll, backoff: cfg.Backoff,
		wake: make(chan struct{}, 1), shards: map[string]*shard{},
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.log = c.log.With("function", source.Function, "event", source.Event)
	if c.poll <= 0 {
		c.poll = 150 * time.Millisecond
	}
	if c.backoff == nil {
		c.backoff = func(attempt int) time.Duration {
			return min(100*time.Millisecond<<min(attempt-1, 5), 2*time.Second)
		}
	}
	c.idle.init()
	return c, nil
}

// Invocations counts the invocations made so far.
func (c *StreamConsumer) Invocations() int64 { return c.invocations.Load() }

// Name is "<function>.<event>", as the template names the event.
func (c *StreamConsumer) Name() string { return c.source.Function + "." + c.source.Event }

// push is the feed handing on what it read.
func (c *StreamConsumer) push(items []inboxItem) {
	c.mu.Lock()
	c.inbox = append(c.inbox, items...)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *StreamConsumer) take() []inboxItem {
	c.mu.Lock()
	defer c.mu.Unlock()
	items := c.inbox
	c.inbox = nil
	return items
}

// Run delivers until ctx ends.
func (c *StreamConsumer) Run(ctx context.Context) error {
	defer c.idle.stop()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		items := c.take()
		for _, it := range items {
			s := c.shards[it.shard]
			if s == nil {
				s = &shard{id: it.shard}
				c.shards[it.shard] = s
				c.order = append(c.order, it.shard)
			}
			if it.closed {
				s.closed = true
				continue
			}
			if !c.filters.Match(it.record.view) {
				continue // filtered out: Lambda drops it and moves on
			}
			if len(s.pending) == 0 {
				s.firstAt = time.Now()
			}
			s.pending = append(s.pending, it.record)
		}
		delivered := c.deliverDue(ctx)
		held := false
		wait := c.poll
		for _, s := range c.shards {
			if len(s.pending) > 0 {
				held = true
				wait = min(wait, max(c.source.MaxBatchingWindow-time.Since(s.firstAt), time.Millisecond))
			}
		}
		if len(items) == 0 && !delivered && !held {
			c.idle.mark()
		}
		if delivered || len(items) > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.wake:
		case <-time.After(wait):
		}
	}
}

// deliverDue sends every due batch, shard by shard in the order shards
// appeared (a parent's records before its children's), and forgets shards
// that have ended and been emptied.
func (c *StreamConsumer) deliverDue(ctx context.Context) (delivered bool) {
	for _, id := range c.order {
		s := c.shards[id]
		for c.due(s) && ctx.Err() == nil {
			n := min(len(s.pending), c.source.BatchSize)
			batch := slices.Clone(s.pending[:n])
			s.pending = s.pending[n:]
			s.firstAt = time.Now() // the rest starts a new window
			c.deliver(ctx, s.id, batch)
			delivered = true
		}
	}
	c.order = slices.DeleteFunc(c.order, func(id string) bool {
		s := c.shards[id]
		if s.closed && len(s.pending) == 0 {
			delete(c.shards, id)
			return true
		}
		return false
	})
	return delivered
}

// WaitIdle returns once the consumer has completed a round, begun after
// this call, in which it received nothing, held nothing back and invoked
// nothing. Called after its feed's WaitIdle, it means every record written
// before that call has been handled.
func (c *StreamConsumer) WaitIdle(ctx context.Context) error { return c.idle.wait(ctx) }

// due: a full batch goes at once; a partial one when the batching window
// since its first record has passed, or its shard has ended.
func (c *StreamConsumer) due(s *shard) bool {
	if len(s.pending) == 0 {
		return false
	}
	if len(s.pending) >= c.source.BatchSize || s.closed {
		return true
	}
	return time.Since(s.firstAt) >= c.source.MaxBatchingWindow
}

// filterView is the record as Lambda's filters see it: its JSON form.
func filterView(rec events.DynamoDBEventRecord) any {
	b, err := json.Marshal(rec)
	if err != nil {
		return nil
	}
	v, err := infra.DecodeEvent(b)
	if err != nil {
		return nil
	}
	return v
}

// deliver invokes the function with batch until it succeeds or is given up.
func (c *StreamConsumer) deliver(ctx context.Context, shardID string, batch []streamRecord) {
	c.deliverFrom(ctx, shardID, batch, 0)
}

func (c *StreamConsumer) deliverFrom(ctx context.Context, shardID string, batch []streamRecord, attempts int) {
	for len(batch) > 0 && ctx.Err() == nil {
		if c.source.MaxRecordAge > 0 {
			var expired []streamRecord
			batch, expired = splitExpired(batch, c.source.MaxRecordAge)
			if len(expired) > 0 {
				c.giveUp(shardID, expired, attempts, "MaximumRecordAgeExceeded", "")
			}
			if len(batch) == 0 {
				return
			}
		}
		failedFrom, functionErr := c.invoke(ctx, batch)
		if failedFrom < 0 {
			return
		}
		batch = batch[failedFrom:]
		attempts++
		if c.source.MaxRetries >= 0 && attempts > c.source.MaxRetries {
			c.giveUp(shardID, batch, attempts, "RetryAttemptsExhausted", functionErr)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(c.backoff(attempts)):
		}
		if functionErr != "" && c.source.BisectOnError && len(batch) > 1 {
			half := len(batch) / 2
			c.deliverFrom(ctx, shardID, batch[:half], attempts)
			c.deliverFrom(ctx, shardID, batch[half:], attempts)
			return
		}
	}
}

// invoke sends one batch. failedFrom is -1 when the whole batch succeeded,
// else the index of the first record to deliver again; functionErr is the
// function's error message when it failed as a whole.
func (c *StreamConsumer) invoke(ctx context.Context, batch []streamRecord) (failedFrom int, functionErr string) {
	ev := events.DynamoDBEvent{Records: make([]events.DynamoDBEventRecord, len(batch))}
	for i, r := range batch {
		ev.Records[i] = r.event
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		c.log.Error("encoding the batch", "error", err.Error())
		return 0, err.Error()
	}
	c.invocations.Add(1)
	out, err := c.fn.Invoke(ctx, payload)
	if err != nil {
		c.log.Warn("batch failed", "records", len(batch), "error", err.Error())
		return 0, err.Error()
	}
	if !c.source.ReportBatchItemFailures {
		return -1, ""
	}
	return batchItemFailures(out, batch, c.log)
}

// batchItemFailures reads a DynamoDBEventResponse as Lambda does: no
// response, an empty one, or no failures is success; the lowest reported
// sequence number is where re-delivery starts; an identifier that is empty
// or not in the batch fails the whole batch.
func batchItemFailures(out []byte, batch []streamRecord, log *slog.Logger) (int, string) {
	if len(out) == 0 || string(out) == "null" {
		return -1, ""
	}
	var resp events.DynamoDBEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		// Lambda treats an unreadable response as success too; say so.
		log.Warn("function response is not a DynamoDBEventResponse; taken as success", "response", truncate(string(out), 200))
		return -1, ""
	}
	if len(resp.BatchItemFailures) == 0 {
		return -1, ""
	}
	first := -1
	for _, f := range resp.BatchItemFailures {
		idx := slices.IndexFunc(batch, func(r streamRecord) bool { return r.event.Change.SequenceNumber == f.ItemIdentifier })
		if f.ItemIdentifier == "" || idx < 0 {
			log.Warn("batchItemFailures names a record not in the batch: the whole batch is retried", "itemIdentifier", f.ItemIdentifier)
			return 0, ""
		}
		if first < 0 || idx < first {
			first = idx
		}
	}
	log.Info("partial batch failure", "records", len(batch), "retryFrom", batch[first].event.Change.SequenceNumber)
	return first, ""
}

func splitExpired(batch []streamRecord, maxAge time.Duration) (fresh, expired []streamRecord) {
	cutoff := time.Now().Add(-maxAge)
	for _, r := range batch {
		if !r.at.IsZero() && r.at.Before(cutoff) {
			expired = append(expired, r)
		} else {
			fresh = append(fresh, r)
		}
	}
	return fresh, expired
}

// giveUp records a batch Lambda would send to the on-failure destination.
func (c *StreamConsumer) giveUp(shardID string, batch []streamRecord, attempts int, condition, functionErr string) {
	first, last := batch[0], batch[len(batch)-1]
	entry := map[string]any{
		"version":   "1.0",
		"timestamp": time.Now().UTC().Format(time.RFC3339Nano),
		"requestContext": map[string]any{
			"requestId":              newRequestID(),
			"functionArn":            c.fn.ARN(),
			"condition":              condition,
			"approximateInvokeCount": attempts,
		},
		"responseContext": map[string]any{"statusCode": 200, "executedVersion": "$LATEST", "functionError": functionErr},
		"DDBStreamBatchInfo": map[string]any{
			"shardId":                         shardID,
			"startSequenceNumber":             first.event.Change.SequenceNumber,
			"endSequenceNumber":               last.event.Change.SequenceNumber,
			"approximateArrivalOfFirstRecord": first.at.UTC().Format(time.RFC3339),
			"approximateArrivalOfLastRecord":  last.at.UTC().Format(time.RFC3339),
			"batchSize":                       len(batch),
			"streamArn":                       c.streamARN,
		},
		// Not in Lambda's message (which points at the stream); kept
		// locally because the local stream is gone once the stack stops.
		"records": recordsOf(batch),
	}
	c.log.Error("batch given up: written to the on-failure file", "condition", condition, "records", len(batch), "file", c.failures.path)
	if err := c.failures.write(entry); err != nil {
		c.log.Error("writing the on-failure file", "error", err.Error())
	}
}

func recordsOf(batch []streamRecord) []events.DynamoDBEventRecord {
	out := make([]events.DynamoDBEventRecord, len(batch))
	for i, r := range batch {
		out[i] = r.event
	}
	return out
}

// idleSignal lets WaitIdle wait for a fully idle polling round that began
// after it was called.
type idleSignal struct {
	mu      sync.Mutex
	started uint64        // rounds begun
	idleAt  uint64        // the latest round number found idle
	changed chan struct{} // closed and replaced at every mark
	stopped bool
}

func (s *idleSignal) init() { s.changed = make(chan struct{}); s.started = 1 }

// mark: the round that just ended was idle; a new one begins.
func (s *idleSignal) mark() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.idleAt = s.started
	s.started++
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *idleSignal) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	close(s.changed)
	s.changed = make(chan struct{})
}

// errStopped is WaitIdle's answer once the consumer no longer runs.
var errStopped = errors.New("devstack: the event source has stopped")

func (s *idleSignal) wait(ctx context.Context) error {
	s.mu.Lock()
	// The round under way may have read before our caller's write; only a
	// round that begins after this point counts.
	want := s.started + 1
	s.mu.Unlock()
	for {
		s.mu.Lock()
		if s.idleAt >= want {
			s.mu.Unlock()
			return nil
		}
		if s.stopped {
			s.mu.Unlock()
			return errStopped
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}
