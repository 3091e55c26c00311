// Command aggregate is the AggregateFunction: it applies customers' figure
// changes from the table stream to the tenants' portfolio roll-ups.
package main

import (
	"github.com/licenseinsights/licenseinsights/pkg/awsenv"
	"github.com/licenseinsights/licenseinsights/pkg/worker/rollup"
)

func main() { awsenv.Start("aggregate", rollup.New) }
