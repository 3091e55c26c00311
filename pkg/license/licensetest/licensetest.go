// Package licensetest holds the test helpers shared by the packages that
// build on pkg/license.
package licensetest

import (
	"testing"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// Tenant is license.NewTenant for ids a test knows to be valid: a bad one
// fails the test.
func Tenant(t testing.TB, id string) license.Tenant {
	t.Helper()
	tn, err := license.NewTenant(id)
	if err != nil {
		t.Fatal(err)
	}
	return tn
}
