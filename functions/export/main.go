// Command export is the ExportFunction: POST/GET /v1/exports,
// GET /v1/exports/{exportId} and POST /v1/exports/{exportId}/link.
package main

import (
	"github.com/licenseinsights/licenseinsights/pkg/awsenv"
	"github.com/licenseinsights/licenseinsights/pkg/handler/exports"
)

func main() { awsenv.Start("export", exports.New) }
