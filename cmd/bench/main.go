// Command bench measures License Insights on the local stack and prints one
// table, each figure beside a reference measured in the same run:
//
//	go run ./cmd/bench [-runs 3] [-large] [-out bench-results.json] [-only ingest,export]
//
// (`make bench`). See internal/bench and BENCHMARKS.md.
package main

import (
	"os"

	"github.com/licenseinsights/licenseinsights/internal/bench"
)

func main() { os.Exit(bench.Main(os.Args[1:], os.Stdout, os.Stderr)) }
