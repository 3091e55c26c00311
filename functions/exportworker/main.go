// Command exportworker is the ExportWorkerFunction: an export job's INSERT
// record on the table stream → the job's CSV file in S3.
package main

import (
	"github.com/licenseinsights/licenseinsights/pkg/awsenv"
	"github.com/licenseinsights/licenseinsights/pkg/worker/exportworker"
)

func main() { awsenv.Start("exportworker", exportworker.New) }
