// Command aggregate is the AggregateFunction: it applies customers' figure
// changes from the table stream to the tenants' portfolio roll-ups.
package main

import (
	"github.com/licenseinsights/licenseinsights/pkg/app"
	"github.com/licenseinsights/licenseinsights/pkg/awsenv"
)

// The handler is wired in pkg/app.Aggregate.
func main() { awsenv.Start("aggregate", app.Aggregate) }
