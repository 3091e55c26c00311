// Command authorizer is the API's JWT authorizer (AuthorizerFunction).
package main

import (
	"github.com/licenseinsights/licenseinsights/pkg/authorizer"
	"github.com/licenseinsights/licenseinsights/pkg/awsenv"
)

func main() { awsenv.Start("authorizer", authorizer.New) }
