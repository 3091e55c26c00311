// Command insights is the InsightsFunction: the customer list, one
// customer's insights and its history.
package main

import (
	"github.com/licenseinsights/licenseinsights/pkg/app"
	"github.com/licenseinsights/licenseinsights/pkg/awsenv"
)

// The handler is wired in pkg/app.Insights.
func main() { awsenv.Start("insights", app.Insights) }
