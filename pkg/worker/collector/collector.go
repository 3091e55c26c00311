// Package collector is the CollectorFunction: the collection queue's
// messages, one customer each, collected from Graph and Partner Center
// through pkg/collect into uploads/, where the ingest takes them.
package collector

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/licenseinsights/licenseinsights/pkg/collect"
)

// Collector takes SQS batches of collect.Message.
type Collector struct {
	runner *collect.Runner
}

// New builds the CollectorFunction's handler on the collection runner
// (pkg/app wires it; its entry point is Batch).
func New(runner *collect.Runner) *Collector { return &Collector{runner: runner} }

// Batch collects an SQS batch, reporting only the messages to deliver
// again: a message that can never succeed (not JSON; the runner drops an
// invalid tenant itself) is dropped rather than retried into the
// dead-letter queue.
func (c *Collector) Batch(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, rec := range ev.Records {
		var m collect.Message
		if err := json.Unmarshal([]byte(rec.Body), &m); err != nil {
			slog.ErrorContext(ctx, "collect message is not JSON: dropped", "messageId", rec.MessageId)
			continue
		}
		if err := c.runner.Handle(ctx, m); err != nil {
			slog.WarnContext(ctx, "collect message to be delivered again", "messageId", rec.MessageId, "error", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return resp, nil
}
