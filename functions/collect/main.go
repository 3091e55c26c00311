// Command collect is the CollectFunction: POST/GET /v1/collections,
// GET /v1/collections/{collectionId}, PUT/GET /v1/collection/customers and
// the daily schedule's run.
package main

import (
	"github.com/licenseinsights/licenseinsights/pkg/app"
	"github.com/licenseinsights/licenseinsights/pkg/awsenv"
)

func main() { awsenv.Start("collect", app.Collect) }
