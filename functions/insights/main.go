// Command insights is the InsightsFunction: the customer list, one
// customer's insights and its history.
package main

import (
	"github.com/licenseinsights/licenseinsights/pkg/awsenv"
	"github.com/licenseinsights/licenseinsights/pkg/handler/customers"
)

func main() { awsenv.Start("insights", customers.New) }
