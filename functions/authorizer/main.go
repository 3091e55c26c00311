// Command authorizer is the API's JWT authorizer (AuthorizerFunction).
package main

import (
	"github.com/licenseinsights/licenseinsights/pkg/awsenv"
	"github.com/licenseinsights/licenseinsights/pkg/handler/authorizer"
)

func main() { awsenv.Start("authorizer", authorizer.New) }
