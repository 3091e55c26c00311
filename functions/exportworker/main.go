// Command exportworker is the ExportWorkerFunction: an export job's INSERT
// record on the table stream → the job's CSV file in S3.
package main

import (
	"github.com/licenseinsights/licenseinsights/pkg/app"
	"github.com/licenseinsights/licenseinsights/pkg/awsenv"
)

// The handler is wired in pkg/app.ExportWorker.
func main() { awsenv.Start("exportworker", app.ExportWorker) }
