// Command devstack is `make run`: the whole system on this machine, as
// template.yaml describes it, with DynamoDB Local, versitygw, demo data and
// the API on http://127.0.0.1:3000 (API_PORT). See internal/devstack/devstack.
package main

import (
	"os"

	"github.com/licenseinsights/licenseinsights/internal/devstack"
)

func main() { os.Exit(devstack.Main(os.Getenv, os.Stdout, os.Stderr)) }
