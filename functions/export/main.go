// Command export is the ExportFunction: POST/GET /v1/exports,
// GET /v1/exports/{exportId} and POST /v1/exports/{exportId}/link.
package main

import (
	"github.com/licenseinsights/licenseinsights/pkg/app"
	"github.com/licenseinsights/licenseinsights/pkg/awsenv"
)

// The handler is wired in pkg/app.Export.
func main() { awsenv.Start("export", app.Export) }
