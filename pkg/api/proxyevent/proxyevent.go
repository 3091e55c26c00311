// Package proxyevent builds the event API Gateway (REST API, Lambda proxy
// integration) hands an API function once the authorizer has let the caller
// in. The handlers' tests and the benchmarks build their calls with it, so
// that every call has the shape the functions meet in AWS.
package proxyevent

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Request is one API call.
type Request struct {
	Method   string            // "" is GET
	Resource string            // as template.yaml writes it, e.g. /v1/customers/{customerId}/insights
	Path     map[string]string // path parameters, substituted into Resource
	Query    map[string]string
	Body     string
	// Tenant and Role are what the authorizer put into its context; an
	// empty Role is left out (a token without a role).
	Tenant, Role string
	// Headers nil is Accept: application/json.
	Headers map[string]string
	// Authorizer adds entries to the authorizer context.
	Authorizer map[string]any
}

// Event is the proxy event of r.
func (r Request) Event() events.APIGatewayProxyRequest {
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	path := r.Resource
	for k, v := range r.Path {
		path = strings.ReplaceAll(path, "{"+k+"}", v)
	}
	headers := r.Headers
	if headers == nil {
		headers = map[string]string{"Accept": "application/json"}
	}
	auth := map[string]any{"principalId": "user@" + r.Tenant, "tenant": r.Tenant}
	if r.Role != "" {
		auth["role"] = r.Role
	}
	for k, v := range r.Authorizer {
		auth[k] = v
	}
	return events.APIGatewayProxyRequest{
		Resource:                        r.Resource,
		Path:                            path,
		HTTPMethod:                      method,
		Headers:                         headers,
		MultiValueHeaders:               multi(headers),
		QueryStringParameters:           r.Query,
		MultiValueQueryStringParameters: multi(r.Query),
		PathParameters:                  r.Path,
		Body:                            r.Body,
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID:    "123456789012",
			ResourceID:   "abc123",
			Stage:        "prod",
			RequestID:    "test-request",
			ResourcePath: r.Resource,
			HTTPMethod:   method,
			Path:         "/prod" + path,
			APIID:        "api0001",
			Protocol:     "HTTP/1.1",
			Authorizer:   auth,
		},
	}
}

// JSON is the event as Lambda delivers it to the function.
func (r Request) JSON() []byte {
	b, err := json.Marshal(r.Event())
	if err != nil {
		panic(err) // strings and maps of strings only: cannot fail
	}
	return b
}

// multi is API Gateway's multi-value form of a single-value map (nil for
// none).
func multi(m map[string]string) map[string][]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string][]string, len(m))
	for k, v := range m {
		out[k] = []string{v}
	}
	return out
}
