// Command portfolio is the PortfolioFunction: the portfolio roll-up, its
// history and the Partner Center–compatible analytics rows.
package main

import (
	"github.com/licenseinsights/licenseinsights/pkg/api/portfolio"
	"github.com/licenseinsights/licenseinsights/pkg/awsenv"
)

func main() { awsenv.Start("portfolio", portfolio.New) }
