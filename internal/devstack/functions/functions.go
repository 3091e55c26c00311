// Package functions is the local stack's registry of the template's
// functions: each logical id of template.yaml mapped to the constructor its
// functions/<name>/main.go hands to awsenv.Start, so the stack runs the very
// handler the bootstrap runs, in-process.
package functions

import (
	"maps"

	"github.com/licenseinsights/licenseinsights/pkg/awsenv"
	"github.com/licenseinsights/licenseinsights/pkg/handler/authorizer"
	"github.com/licenseinsights/licenseinsights/pkg/handler/collections"
	"github.com/licenseinsights/licenseinsights/pkg/handler/customers"
	"github.com/licenseinsights/licenseinsights/pkg/handler/exports"
	"github.com/licenseinsights/licenseinsights/pkg/handler/exportworker"
	"github.com/licenseinsights/licenseinsights/pkg/handler/portfolio"
	"github.com/licenseinsights/licenseinsights/pkg/handler/reports"
	"github.com/licenseinsights/licenseinsights/pkg/handler/rollup"
)

// registry maps every function of template.yaml to its handler. The local
// stack refuses to start when the template declares a function missing
// here, or when an entry here names no function of the template.
var registry = map[string]awsenv.NewFunc{
	"AuthorizerFunction":   authorizer.New,
	"IngestFunction":       reports.New,
	"InsightsFunction":     customers.New,
	"PortfolioFunction":    portfolio.New,
	"AggregateFunction":    rollup.New,
	"ExportFunction":       exports.New,
	"ExportWorkerFunction": exportworker.New,
	"CollectFunction":      collections.New,
	"CollectorFunction":    collections.NewCollector,
}

// Registry returns a copy of the registry: logical id → handler constructor.
func Registry() map[string]awsenv.NewFunc { return maps.Clone(registry) }
