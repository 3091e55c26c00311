// Command ingest is the IngestFunction: report documents, uploads and the
// S3 events that ingest uploaded documents.
package main

import (
	"github.com/licenseinsights/licenseinsights/pkg/app"
	"github.com/licenseinsights/licenseinsights/pkg/awsenv"
)

// The handler is wired in pkg/app.Ingest.
func main() { awsenv.Start("ingest", app.Ingest) }
