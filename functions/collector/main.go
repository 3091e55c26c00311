// Command collector is the CollectorFunction: one customer per SQS
// message, collected from Graph and Partner Center into uploads/.
package main

import (
	"github.com/licenseinsights/licenseinsights/pkg/app"
	"github.com/licenseinsights/licenseinsights/pkg/awsenv"
)

func main() { awsenv.Start("collector", app.Collector) }
