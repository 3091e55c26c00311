// Package apitest holds what the suites that drive the API end to end
// (internal/tenancytest, internal/apicontract) share: the routes they must
// each cover, and one way to send a request and keep the whole answer.
package apitest

import (
	"io"
	"net/http"
	"testing"

	"github.com/licenseinsights/licenseinsights/internal/devstack"
)

// Routes are the API routes of the repository's template.yaml; a suite
// checks that it has a case for each.
func Routes(t testing.TB) []devstack.Route {
	t.Helper()
	tmpl, err := devstack.RepoTemplate()
	if err != nil {
		t.Fatal(err)
	}
	routes := tmpl.Routes()
	if len(routes) == 0 {
		t.Fatal("template.yaml declares no API route")
	}
	return routes
}

// Response is an answer read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends req with client and reads the whole answer; a transport error
// fails the test.
func Do(t testing.TB, client *http.Client, req *http.Request) Response {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", req.Method, req.URL, err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}
