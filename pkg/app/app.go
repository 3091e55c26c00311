// Package app is the composition root: one small constructor per function
// of template.yaml, each building clients → store and bucket → services →
// the handler. The functions' mains (functions/<name>/main.go) and the local
// stack (internal/devstack) both build their handlers here, so what runs
// locally is wired exactly as what runs in Lambda.
package app

import (
	"context"
	"errors"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/licenseinsights/licenseinsights/pkg/api"
	"github.com/licenseinsights/licenseinsights/pkg/api/collections"
	"github.com/licenseinsights/licenseinsights/pkg/api/customers"
	"github.com/licenseinsights/licenseinsights/pkg/api/exports"
	"github.com/licenseinsights/licenseinsights/pkg/api/portfolio"
	"github.com/licenseinsights/licenseinsights/pkg/api/reports"
	"github.com/licenseinsights/licenseinsights/pkg/authorizer"
	"github.com/licenseinsights/licenseinsights/pkg/awsenv"
	"github.com/licenseinsights/licenseinsights/pkg/blob"
	"github.com/licenseinsights/licenseinsights/pkg/catalog"
	"github.com/licenseinsights/licenseinsights/pkg/collect"
	"github.com/licenseinsights/licenseinsights/pkg/config"
	"github.com/licenseinsights/licenseinsights/pkg/ingest"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/store"
	"github.com/licenseinsights/licenseinsights/pkg/worker/collector"
	"github.com/licenseinsights/licenseinsights/pkg/worker/exportworker"
	"github.com/licenseinsights/licenseinsights/pkg/worker/rollup"
)

// Functions maps the logical id of every template.yaml function that works
// on the table and the bucket to its constructor; the local stack hosts
// them from here. The AuthorizerFunction is apart (Authorizer): it needs no
// AWS client, and locally the gateway's bearer tokens stand in for it.
func Functions() map[string]awsenv.NewFunc {
	return map[string]awsenv.NewFunc{
		"IngestFunction":       Ingest,
		"InsightsFunction":     Insights,
		"PortfolioFunction":    Portfolio,
		"AggregateFunction":    Aggregate,
		"ExportFunction":       Export,
		"ExportWorkerFunction": ExportWorker,
		"CollectFunction":      Collect,
		"CollectorFunction":    Collector,
	}
}

// Ingest is the IngestFunction: POST /v1/customers/{customerId}/reports,
// the uploads routes and the S3 events of uploaded documents.
func Ingest(env *awsenv.Env, cfg config.Config) (lambda.Handler, error) {
	if err := need(env, "ingest", true); err != nil {
		return nil, err
	}
	st := store.New(env.DynamoDB, env.Table)
	svc := ingest.New(st, IngestConfig(cfg))
	h := reports.New(svc, st, blob.New(env.S3, env.Bucket), cfg)
	return lambda.NewHandler(h.Invoke), nil
}

// IngestConfig is the ingest service's part of the configuration.
func IngestConfig(cfg config.Config) ingest.Config {
	return ingest.Config{
		PartnerTenantID:         cfg.PartnerTenantID,
		UpsellDeploymentPercent: cfg.UpsellDeploymentPercent,
		UpsellUsagePercent:      cfg.UpsellUsagePercent,
		ProductName:             catalog.Name,
		Exclusions:              license.NewExclusions(cfg.ExcludedSKUs, cfg.IncludedSKUs),
		RetiredWorkloads:        license.WorkloadsOf(cfg.RetiredWorkloads),
	}
}

// Insights is the InsightsFunction: the customer list, one customer's
// insights and its history.
func Insights(env *awsenv.Env, cfg config.Config) (lambda.Handler, error) {
	if err := need(env, "insights", false); err != nil {
		return nil, err
	}
	return api.LambdaHandler(customers.New(store.New(env.DynamoDB, env.Table), cfg)), nil
}

// Portfolio is the PortfolioFunction: the portfolio roll-up, its history
// and the analytics rows. Eight workers read the roll-up's shards at once.
func Portfolio(env *awsenv.Env, cfg config.Config) (lambda.Handler, error) {
	if err := need(env, "portfolio", false); err != nil {
		return nil, err
	}
	return api.LambdaHandler(portfolio.New(store.New(env.DynamoDB, env.Table, store.WithWorkers(8)), cfg)), nil
}

// Aggregate is the AggregateFunction: the table stream's figure changes →
// the tenants' portfolio roll-ups.
func Aggregate(env *awsenv.Env, _ config.Config) (lambda.Handler, error) {
	if err := need(env, "aggregate", false); err != nil {
		return nil, err
	}
	a := rollup.New(store.New(env.DynamoDB, env.Table, store.WithWorkers(8)))
	return lambda.NewHandler(a.Handle), nil
}

// Export is the ExportFunction: the /v1/exports routes.
func Export(env *awsenv.Env, cfg config.Config) (lambda.Handler, error) {
	if err := need(env, "export", true); err != nil {
		return nil, err
	}
	h := exports.New(store.New(env.DynamoDB, env.Table), blob.New(env.S3, env.Bucket), cfg.ExportLink)
	return api.LambdaHandler(h), nil
}

// ExportWorker is the ExportWorkerFunction: an export job's INSERT record
// on the table stream → the job's CSV file in S3.
func ExportWorker(env *awsenv.Env, cfg config.Config) (lambda.Handler, error) {
	if err := need(env, "exportworker", true); err != nil {
		return nil, err
	}
	w := exportworker.New(store.New(env.DynamoDB, env.Table), blob.New(env.S3, env.Bucket), cfg)
	return lambda.NewHandler(w.Handle), nil
}

// Authorizer is the AuthorizerFunction: bearer JWT → tenant and role. It
// gets the token rules and no AWS client.
func Authorizer(cfg config.Config) (lambda.Handler, error) {
	a, err := authorizer.New(authorizer.Settings{Issuer: cfg.OIDCIssuer, Audience: cfg.OIDCAudience, TenantClaim: cfg.TenantClaim})
	if err != nil {
		return nil, err
	}
	return lambda.NewHandler(a.Authorize), nil
}

// need refuses to build a function whose clients or names are missing, so
// that it fails at start-up with the variable to set.
func need(env *awsenv.Env, function string, bucket bool) error {
	switch {
	case env == nil || env.DynamoDB == nil || env.Table == "":
		return errors.New("the " + function + " function needs a DynamoDB client and TABLE_NAME")
	case bucket && (env.S3 == nil || env.Bucket == ""):
		return errors.New("the " + function + " function needs an S3 client and BUCKET_NAME")
	}
	return nil
}

// Collect is the CollectFunction: the /v1/collections routes and the daily
// schedule's run, which enqueues one message per customer.
func Collect(env *awsenv.Env, cfg config.Config) (lambda.Handler, error) {
	if err := need(env, "collect", true); err != nil {
		return nil, err
	}
	runner, s, err := CollectRunner(context.Background(), env, cfg)
	if err != nil {
		return nil, err
	}
	h := collections.New(runner.Store, runner, s)
	return lambda.NewHandler(h.Invoke), nil
}

// Collector is the CollectorFunction: the collection queue's messages, one
// customer each.
func Collector(env *awsenv.Env, cfg config.Config) (lambda.Handler, error) {
	if err := need(env, "collector", true); err != nil {
		return nil, err
	}
	runner, _, err := CollectRunner(context.Background(), env, cfg)
	if err != nil {
		return nil, err
	}
	return lambda.NewHandler(collector.New(runner).Batch), nil
}

// CollectRunner wires the collection runner: the connection settings from
// the environment (the Microsoft client itself is built on first use), the
// table and bucket, and the queue — SQS when COLLECT_QUEUE_URL is set, else
// an in-process stand-in that runs the collector in this process (the
// local stack).
func CollectRunner(ctx context.Context, env *awsenv.Env, cfg config.Config) (*collect.Runner, collect.Settings, error) {
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	s, err := collect.SettingsFromEnv(getenv)
	if err != nil {
		return nil, collect.Settings{}, err
	}
	if s.PartnerTenantID == "" {
		s.PartnerTenantID = cfg.PartnerTenantID
	}
	st := store.New(env.DynamoDB, env.Table)
	runner := &collect.Runner{Store: st, Blob: blob.New(env.S3, env.Bucket), Source: &collect.Lazy{Settings: s}}
	if s.QueueURL != "" {
		q, err := collect.NewSQSQueue(ctx, s.QueueURL)
		if err != nil {
			return nil, collect.Settings{}, err
		}
		runner.Queue = q
	} else {
		runner.Queue = collect.NewLocalQueue(context.Background(), s.Concurrency, runner.Handle)
	}
	return runner, s, nil
}

// OpenStore opens the store the operator commands (cmd/recompute-figures,
// cmd/repair-rollup) work on: the table their -table flag names, else
// $TABLE_NAME, with the AWS settings read from the environment as the
// functions read theirs.
func OpenStore(ctx context.Context, table string) (*store.Store, error) {
	if table != "" {
		os.Setenv("TABLE_NAME", table)
	}
	env, err := awsenv.Load(ctx)
	if err != nil {
		return nil, err
	}
	return store.New(env.DynamoDB, env.Table), nil
}
