// Command export is the ExportFunction: POST/GET /v1/exports,
// GET /v1/exports/{exportId} and POST /v1/exports/{exportId}/link.
package main

import (
	"github.com/licenseinsights/licenseinsights/pkg/api/exports"
	"github.com/licenseinsights/licenseinsights/pkg/awsenv"
)

func main() { awsenv.Start("export", exports.New) }
