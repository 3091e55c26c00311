// Command portfolio is the PortfolioFunction: the portfolio roll-up, its
// history and the Partner Center–compatible analytics rows.
package main

import (
	"github.com/licenseinsights/licenseinsights/pkg/app"
	"github.com/licenseinsights/licenseinsights/pkg/awsenv"
)

// The handler is wired in pkg/app.Portfolio.
func main() { awsenv.Start("portfolio", app.Portfolio) }
