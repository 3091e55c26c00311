// Command recompute-figures computes every customer's figures of the given
// tenants again from their kept documents, under the rules of this build
// (SPEC version 2: the full product catalogue, excluded products, retired
// workloads, one unassigned figure, renewals), and commits each as a new
// version through the same path as an ingest — FIGURES, SUMMARY, ranked
// lists, today's history point, and the portfolio roll-up through the
// table's stream.
//
//	TABLE_NAME=license-insights-Table-… recompute-figures -tenant demo-partner [-customer id]
//
// Run it once after deploying a build whose figures differ from the stored
// ones (for version 2: right after the upgrade). It is safe to run again
// and alongside ingests: each commit is conditioned on the version it read.
// Configuration comes from the same environment variables as the functions
// (PARTNER_TENANT_ID, EXCLUDED_SKUS, INCLUDED_SKUS, RETIRED_WORKLOADS, …);
// AWS settings as for any SDK tool (AWS_PROFILE, AWS_REGION,
// AWS_ENDPOINT_URL_DYNAMODB for DynamoDB Local).
//
// Not recoverable from the kept documents: channels of directory
// subscriptions parsed by version 1 (ownerTenantId was reduced to a channel)
// and company-level exclusions (appliesTo was dropped). Send those
// customers' directory/subscriptions and subscribedSkus again.
//
// Exit status: 0 when every customer was recomputed, 1 otherwise.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/licenseinsights/licenseinsights/pkg/app"
	"io"
	"os"
	"time"

	"github.com/licenseinsights/licenseinsights/pkg/config"
	"github.com/licenseinsights/licenseinsights/pkg/ingest"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

func main() {
	ctx := context.Background()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv, app.OpenStore))
}

// run is the command with its environment and store opener injected.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, open func(context.Context, string) (*store.Store, error)) int {
	fs := flag.NewFlagSet("recompute-figures", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tenants := fs.String("tenant", "", "comma-separated tenant ids (required)")
	only := fs.String("customer", "", "recompute only this customer")
	table := fs.String("table", "", "table name (default: $TABLE_NAME)")
	if err := fs.Parse(args); err != nil {
		return 1
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "recompute-figures: %v\n", err)
		return 1
	}
	list, err := license.ParseTenants(*tenants)
	if err != nil {
		return fail(fmt.Errorf("-tenant: %w", err))
	}
	if len(list) == 0 {
		return fail(errors.New("-tenant is required: the tenant ids whose customers to recompute"))
	}
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return fail(err)
	}
	st, err := open(ctx, *table)
	if err != nil {
		return fail(err)
	}
	svc := ingest.New(st, app.IngestConfig(cfg))
	failed := 0
	for _, t := range list {
		ids := []string{*only}
		if *only == "" {
			if ids, err = customerIDs(ctx, st, t); err != nil {
				return fail(fmt.Errorf("tenant %s: %w", t.ID(), err))
			}
		}
		for _, id := range ids {
			version, err := svc.Recompute(ctx, t, id, time.Now())
			if err != nil {
				failed++
				fmt.Fprintf(stdout, "%s\t%s\tFAILED: %v\n", t.ID(), id, err)
				continue
			}
			fmt.Fprintf(stdout, "%s\t%s\tversion %d\n", t.ID(), id, version)
		}
	}
	if failed > 0 {
		return fail(fmt.Errorf("%d customers not recomputed; run the command again", failed))
	}
	return 0
}

// customerIDs lists every customer of t, by name.
func customerIDs(ctx context.Context, st *store.Store, t license.Tenant) ([]string, error) {
	var ids []string
	q := store.ListQuery{Sort: store.SortByName, Limit: store.MaxPageSize}
	for {
		page, err := st.ListCustomers(ctx, t, q)
		if err != nil {
			return nil, err
		}
		for _, s := range page.Items {
			ids = append(ids, s.CustomerID)
		}
		if page.Next == nil {
			return ids, nil
		}
		q.After = page.Next
	}
}
