// Command ingest is the IngestFunction: report documents, uploads and the
// S3 events that ingest uploaded documents.
package main

import (
	"github.com/licenseinsights/licenseinsights/pkg/awsenv"
	"github.com/licenseinsights/licenseinsights/pkg/handler/reports"
)

func main() { awsenv.Start("ingest", reports.New) }
