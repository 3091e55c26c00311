// Command insights is the InsightsFunction: the customer list, one
// customer's insights and its history.
package main

import (
	"github.com/licenseinsights/licenseinsights/pkg/api/customers"
	"github.com/licenseinsights/licenseinsights/pkg/awsenv"
)

func main() { awsenv.Start("insights", customers.New) }
