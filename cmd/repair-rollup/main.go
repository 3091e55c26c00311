// Command repair-rollup recomputes tenants' portfolio roll-ups from their
// customers' FIGURES items and compares them with what the AggregateFunction
// built; with -write it overwrites the shards that differ.
//
//	TABLE_NAME=license-insights-Table-… repair-rollup -tenant demo-partner [-write]
//
// Run it once the table stream has caught up (the RollupLagSeconds metric
// near zero), for example after stream records went to the aggregate
// function's on-failure queue: a record still on its way when the figures
// are read would be counted twice once it arrives. The shards are written
// conditioned on their revision, so a shard the stream changed meanwhile is
// reported, not overwritten; run the command again.
//
// AWS settings come from the environment as for any SDK tool
// (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB for DynamoDB Local).
//
// Exit status: 0 when every roll-up matches (or was repaired), 3 when
// differences were found without -write, 1 on errors.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/licenseinsights/licenseinsights/pkg/app"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

// Exit statuses.
const (
	exitOK          = 0
	exitError       = 1
	exitDifferences = 3
)

func main() {
	ctx := context.Background()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, app.OpenStore))
}

// run is the command with its store opener injected (tests give DynamoDB
// Local's).
func run(ctx context.Context, args []string, stdout, stderr io.Writer, open func(context.Context, string) (*store.Store, error)) int {
	fs := flag.NewFlagSet("repair-rollup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tenants := fs.String("tenant", "", "comma-separated tenant ids to check (required)")
	write := fs.Bool("write", false, "overwrite the shards that differ (default: only compare)")
	table := fs.String("table", "", "table name (default: $TABLE_NAME)")
	if err := fs.Parse(args); err != nil {
		return exitError
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "repair-rollup: %v\n", err)
		return exitError
	}
	if fs.NArg() > 0 {
		return fail(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	list, err := license.ParseTenants(*tenants)
	if err != nil {
		return fail(fmt.Errorf("-tenant: %w", err))
	}
	if len(list) == 0 {
		return fail(errors.New("-tenant is required: the tenant ids whose roll-ups to check"))
	}
	st, err := open(ctx, *table)
	if err != nil {
		return fail(err)
	}

	status := exitOK
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "tenant\tshard\tcustomers (stored)\tcustomers (computed)\tassigned (stored)\tassigned (computed)\tstate")
	for _, t := range list {
		report, err := st.RepairRollup(ctx, t, *write, time.Now())
		for _, r := range report {
			state := "ok"
			switch {
			case r.Repaired:
				state = "repaired"
			case r.Differs:
				state = "DIFFERS"
				status = exitDifferences
			}
			fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%s\n", t.ID(), r.Shard, r.Stored.Customers, r.Computed.Customers, r.Stored.Assigned, r.Computed.Assigned, state)
		}
		if err != nil {
			w.Flush()
			return fail(fmt.Errorf("tenant %s: %w", t.ID(), err))
		}
	}
	if err := w.Flush(); err != nil {
		return fail(err)
	}
	if status == exitDifferences {
		fmt.Fprintln(stderr, "repair-rollup: roll-ups differ from the customers' figures; run again with -write to repair them")
	}
	return status
}
