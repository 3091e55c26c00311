// Command authorizer is the API's JWT authorizer (AuthorizerFunction).
package main

import (
	"github.com/licenseinsights/licenseinsights/pkg/app"
	"github.com/licenseinsights/licenseinsights/pkg/awsenv"
)

// The handler is wired in pkg/app.Authorizer.
func main() { awsenv.StartWithoutAWS("authorizer", app.Authorizer) }
