// Package rollup is the AggregateFunction: it keeps every tenant's
// portfolio roll-up up to date from the table's stream.
//
// The event source mapping (template.yaml) delivers only the records of
// FIGURES items (filter criteria on SK), with old and new images. Each
// record's difference is applied to the roll-up exactly once, however often
// and in whatever order records arrive: see pkg/store/rollup.go for how
// (sharded roll-up items, a marker per applied record, optimistic
// revisions).
//
// Failures are reported per record (batchItemFailures, identified by the
// record's SequenceNumber): Lambda then retries from the first failed
// record, and the records after it that did succeed come again and are
// skipped as duplicates. A record that keeps failing is isolated by
// BisectBatchOnFunctionError and, after MaximumRetryAttempts, sent to the
// on-failure queue; `cmd/repair-rollup` then recomputes the roll-up from
// the customers' figures.
package rollup

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/licenseinsights/licenseinsights/pkg/observe"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

// Aggregator applies stream records of FIGURES items to the roll-ups.
type Aggregator struct {
	store *store.Store
	now   func() time.Time
}

// New builds the AggregateFunction's handler on its store (pkg/app wires
// it into the Lambda function, whose entry point is Handle).
func New(st *store.Store) *Aggregator {
	return &Aggregator{store: st, now: time.Now}
}

// Handle applies a batch of stream records and reports the ones that
// failed.
func (a *Aggregator) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	resp := events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{}}
	fail := func(rec *events.DynamoDBEventRecord, err error) {
		slog.ErrorContext(ctx, "roll-up record failed", "sequenceNumber", rec.Change.SequenceNumber,
			"eventName", rec.EventName, "error", err.Error())
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: rec.Change.SequenceNumber})
	}

	changes := make([]store.FiguresChange, 0, len(ev.Records))
	records := make([]*events.DynamoDBEventRecord, 0, len(ev.Records))
	skipped := 0
	for i := range ev.Records {
		rec := &ev.Records[i]
		c, ok, err := changeOf(rec)
		switch {
		case err != nil:
			fail(rec, err)
		case !ok:
			skipped++
		default:
			changes = append(changes, c)
			records = append(records, rec)
		}
	}

	var results []store.ChangeResult
	_ = observe.Step(ctx, observe.StepRollup, func(ctx context.Context) error {
		results = a.store.ApplyFiguresChanges(ctx, changes, a.now)
		return nil
	})
	// The reclaim calendar follows the same records, each applied by state
	// (store.ApplyReclaimChange): a failure fails the record, and the
	// roll-up part of its retry is a duplicate.
	_ = observe.Step(ctx, observe.StepRollup, func(ctx context.Context) error {
		a.applyReclaim(ctx, changes, results)
		return nil
	})
	now := a.now()
	applied, duplicates := 0, 0
	var lag time.Duration
	for i, r := range results {
		switch r.Outcome {
		case store.Applied:
			applied++
			if created := records[i].Change.ApproximateCreationDateTime.Time; !created.IsZero() {
				lag = max(lag, now.Sub(created))
			}
		case store.Duplicate:
			duplicates++
		default:
			fail(records[i], r.Err)
		}
	}
	if applied > 0 {
		observe.Emit("", observe.Metric{Name: observe.RollupLagSeconds, Value: lag.Seconds(), Unit: observe.Seconds})
	}
	slog.InfoContext(ctx, "roll-up batch", "records", len(ev.Records), "applied", applied,
		"duplicates", duplicates, "skipped", skipped, "failed", len(resp.BatchItemFailures), "lagSeconds", lag.Seconds())
	return resp, nil
}

// applyReclaim applies the changes whose roll-up part went through to the
// reclaim calendar: one customer's changes in record order, different
// customers at once (at most reclaimWorkers). A failure fails the record.
func (a *Aggregator) applyReclaim(ctx context.Context, changes []store.FiguresChange, results []store.ChangeResult) {
	groups := map[string][]int{}
	var order []string
	for i, r := range results {
		if r.Outcome != store.Applied && r.Outcome != store.Duplicate {
			continue
		}
		k := changes[i].Tenant.ID() + "\x00" + changes[i].CustomerID
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	sem := make(chan struct{}, reclaimWorkers)
	var wg sync.WaitGroup
	for _, k := range order {
		idx := groups[k]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			for n, i := range idx {
				if _, err := a.store.ApplyReclaimChange(ctx, changes[i]); err != nil {
					// This record and the customer's later ones fail: they
					// come again in order.
					for _, j := range idx[n:] {
						results[j] = store.ChangeResult{Err: fmt.Errorf("reclaim calendar: %w", err)}
					}
					return
				}
			}
		}()
	}
	wg.Wait()
}

// reclaimWorkers bounds the customers whose calendar lines are written at once.
const reclaimWorkers = 8

// changeOf reads one record; ok is false for a record that is not about a
// FIGURES item.
func changeOf(rec *events.DynamoDBEventRecord) (store.FiguresChange, bool, error) {
	keys, err := Image(rec.Change.Keys)
	if err != nil {
		return store.FiguresChange{}, false, fmt.Errorf("keys: %w", err)
	}
	oldImage, err := Image(rec.Change.OldImage)
	if err != nil {
		return store.FiguresChange{}, false, fmt.Errorf("old image: %w", err)
	}
	newImage, err := Image(rec.Change.NewImage)
	if err != nil {
		return store.FiguresChange{}, false, fmt.Errorf("new image: %w", err)
	}
	return store.FiguresChangeOf(rec.Change.SequenceNumber, keys, oldImage, newImage)
}

// Image converts a stream image, as Lambda's event carries it, into the
// attribute values the DynamoDB client uses.
func Image(image map[string]events.DynamoDBAttributeValue) (map[string]types.AttributeValue, error) {
	if image == nil {
		return nil, nil
	}
	out := make(map[string]types.AttributeValue, len(image))
	for name, v := range image {
		av, err := attributeValue(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", name, err)
		}
		out[name] = av
	}
	return out, nil
}

func attributeValue(v events.DynamoDBAttributeValue) (types.AttributeValue, error) {
	switch v.DataType() {
	case events.DataTypeString:
		return &types.AttributeValueMemberS{Value: v.String()}, nil
	case events.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: v.Number()}, nil
	case events.DataTypeBinary:
		return &types.AttributeValueMemberB{Value: v.Binary()}, nil
	case events.DataTypeBoolean:
		return &types.AttributeValueMemberBOOL{Value: v.Boolean()}, nil
	case events.DataTypeNull:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case events.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: v.StringSet()}, nil
	case events.DataTypeNumberSet:
		return &types.AttributeValueMemberNS{Value: v.NumberSet()}, nil
	case events.DataTypeBinarySet:
		return &types.AttributeValueMemberBS{Value: v.BinarySet()}, nil
	case events.DataTypeList:
		list := v.List()
		out := make([]types.AttributeValue, len(list))
		for i, x := range list {
			av, err := attributeValue(x)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			out[i] = av
		}
		return &types.AttributeValueMemberL{Value: out}, nil
	case events.DataTypeMap:
		m, err := Image(v.Map())
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	}
	return nil, fmt.Errorf("unsupported attribute type %v", v.DataType())
}
