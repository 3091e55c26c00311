package bench

import (
	"context"
	"errors"
	"fmt"
	"github.com/licenseinsights/licenseinsights/pkg/app"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/licenseinsights/licenseinsights/internal/devstack"
	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
	"github.com/licenseinsights/licenseinsights/pkg/awsenv"
	"github.com/licenseinsights/licenseinsights/pkg/config"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

// The roll-up catch-up: a child ingests 1,000 customers of a new tenant
// through the ingest service, 8 at once; then the AggregateFunction starts
// on the table's stream, fed exactly as the template's event source mapping
// describes it (TRIM_HORIZON, batch size, batching window, the filter on
// FIGURES items) by the local stack's stream reader, in this process. The
// clock runs from its start until the portfolio the roll-up holds is the
// exact sum of the customers' figures.
//
// The shared table is used, not one of the run's own: DynamoDB Local
// writes several times slower to a stream-enabled table made after the
// first (measured: 200 small ingests in 48–58 s against 5–8 s), which
// would measure DynamoDB Local, not the roll-up. So the aggregator reads
// the whole stream from its start, as a new event source mapping would,
// and filters out everything but FIGURES records: the warm-up's and the
// earlier runs' records too, and the warm-up's 100 customers' figures are
// rolled up in the first run. The roll-up path runs first for that
// reason, while the stream is short.

// rollupPoll is how often the roll-up is compared with the figures.
const rollupPoll = 100 * time.Millisecond

func benchRollup(ctx context.Context, r *runner) ([]Figure, error) {
	n := r.rollupCustomers()
	src, fn, err := r.aggregateSource()
	if err != nil {
		return nil, err
	}
	var catchUp, rate, ingestSecs []float64
	for i := range r.opts.Runs {
		ingested, caught, err := r.rollupRun(ctx, fmt.Sprintf("rollup-%d", i+1), n, src, fn)
		if err != nil {
			return nil, err
		}
		catchUp, rate, ingestSecs = append(catchUp, caught), append(rate, float64(n)/caught), append(ingestSecs, ingested)
		r.progress("rollup", "run %d/%d: %d customers ingested in %.1f s; the roll-up caught up with them in %.2f s (%.0f customers/s)",
			i+1, r.opts.Runs, n, ingested, caught, float64(n)/caught)
	}
	cas := fmt.Sprintf("%d customers", n)
	const name = "roll-up catch-up"
	return []Figure{
		figure(name, cas, "aggregator start to exact portfolio", "s", catchUp),
		figure(name, cas, "customers rolled up", "customers/s", rate),
		figure(name, cas, "the ingests before it, 8 at once", "s", ingestSecs),
	}, nil
}

// aggregateSource is the template's stream event of the AggregateFunction
// and the function, built as its main builds it.
func (r *runner) aggregateSource() (infra.StreamSource, *devstack.Function, error) {
	for _, src := range r.stack.template.StreamSources() {
		if src.Function != "AggregateFunction" {
			continue
		}
		var timeout time.Duration
		for _, f := range r.stack.template.Functions() {
			if f.LogicalID == src.Function {
				timeout = f.Timeout
			}
		}
		return src, &devstack.Function{LogicalID: src.Function, Timeout: timeout}, nil
	}
	return infra.StreamSource{}, nil, errors.New("template.yaml has no stream event for AggregateFunction")
}

// rollupRun ingests n customers of tenant, then runs the aggregator on the
// table's stream until the tenant's roll-up is exact.
func (r *runner) rollupRun(ctx context.Context, tenant string, n int, src infra.StreamSource, proto *devstack.Function) (ingested, caught float64, err error) {
	const table = benchTable
	t, err := license.NewTenant(tenant)
	if err != nil {
		return 0, 0, err
	}
	db := r.stack.DynamoDB()
	st := store.New(db, table, store.WithWorkers(8))
	start := time.Now()
	if err := r.populate(ctx, "rollup", populateParams{Table: table, Tenant: tenant, Customers: n, Users: 20, Seed: 4, Workers: 8}); err != nil {
		return 0, 0, err
	}
	ingested = time.Since(start).Seconds()

	shards, err := st.RecomputeRollup(ctx, t)
	if err != nil {
		return 0, 0, err
	}
	var want license.Portfolio
	for i := range shards {
		want.Merge(&shards[i])
	}
	if want.Customers != n {
		return 0, 0, fmt.Errorf("the figures of %d customers were found, not %d", want.Customers, n)
	}

	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return 0, 0, err
	}
	h, err := app.Aggregate(&awsenv.Env{DynamoDB: db, Table: table}, config.Default())
	if err != nil {
		return 0, 0, err
	}
	fn := *proto
	fn.Handler = h
	feed := devstack.NewStreamFeed(r.stack.dynamo.StreamsClient(), aws.ToString(desc.Table.LatestStreamArn), nil, 0)
	consumer, err := feed.Subscribe(src, &fn, devstack.StreamConsumerConfig{FailureFile: filepath.Join(r.scratch, tenant+"-failures.jsonl")})
	if err != nil {
		return 0, 0, err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	errs := make(chan error, 2)
	begin := time.Now()
	go func() { errs <- feed.Run(runCtx) }()
	go func() { errs <- consumer.Run(runCtx) }()

	deadline := begin.Add(10 * time.Minute)
	for {
		got, err := st.Portfolio(ctx, t)
		if err != nil {
			return 0, 0, err
		}
		if got.Portfolio.SameCounts(&want) {
			return ingested, time.Since(begin).Seconds(), nil
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("the roll-up counts %d customers, not %d, 10 minutes after the aggregator started (%d invocations)",
				got.Portfolio.Customers, n, consumer.Invocations())
		}
		select {
		case <-ctx.Done():
			return 0, 0, ctx.Err()
		case err := <-errs:
			return 0, 0, fmt.Errorf("the stream reader stopped: %w", err)
		case <-time.After(rollupPoll):
		}
	}
}
