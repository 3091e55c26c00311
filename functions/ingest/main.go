// Command ingest is the IngestFunction: report documents, uploads and the
// S3 events that ingest uploaded documents.
package main

import (
	"github.com/licenseinsights/licenseinsights/pkg/api/reports"
	"github.com/licenseinsights/licenseinsights/pkg/awsenv"
)

func main() { awsenv.Start("ingest", reports.New) }
