// Package api turns API Gateway proxy events into calls of the product's
// handlers: it establishes the tenant from the authorizer context (and from
// nowhere else), routes by the API resource, validates common parameters and
// writes every error in the one JSON shape of docs/definitions.md#the-api.
package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/observe"
)

// Role is what the caller may do. It comes from the authorizer context.
type Role string

// Roles: readers see figures; writers may also ingest and export.
const (
	RoleReader Role = "reader"
	RoleWriter Role = "writer"
)

// Authorizer context keys set by functions/authorizer (and by the local
// stack's gateway, which stands in for it).
const (
	ContextTenant = "tenant"
	ContextRole   = "role"
)

// MaxBodyBytes is the largest body a direct POST may carry: Lambda's 6 MB
// synchronous payload limit, less room for the event envelope. Larger files
// go through POST /v1/uploads.
const MaxBodyBytes = 5 << 20

// Request is one API call with its established tenant and role.
type Request struct {
	Event  events.APIGatewayProxyRequest
	Tenant license.Tenant
	Role   Role
}

// PathParam is a path parameter of the route.
func (r *Request) PathParam(name string) string { return r.Event.PathParameters[name] }

// Query is a query string parameter ("" when absent).
func (r *Request) Query(name string) string { return r.Event.QueryStringParameters[name] }

// QueryInt reads an integer query parameter in [lo, hi], def when absent.
func (r *Request) QueryInt(name string, def, lo, hi int) (int, error) {
	s := r.Query(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, BadRequest(fmt.Sprintf("query parameter %q must be a whole number from %d to %d", name, lo, hi), Detail{Field: name, Value: s})
	}
	return n, nil
}

// QueryDate reads a YYYY-MM-DD query parameter (the zero Date when absent).
func (r *Request) QueryDate(name string) (license.Date, error) {
	s := r.Query(name)
	d, err := license.ParseDate(s)
	if err != nil {
		return 0, BadRequest(fmt.Sprintf("query parameter %q must be a date, YYYY-MM-DD", name), Detail{Field: name, Value: s})
	}
	return d, nil
}

// QueryBool reads true/false (absent = false).
func (r *Request) QueryBool(name string) (bool, error) {
	switch r.Query(name) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, BadRequest(fmt.Sprintf("query parameter %q must be true or false", name), Detail{Field: name, Value: r.Query(name)})
}

// CustomerID is the validated {customerId} path parameter.
func (r *Request) CustomerID() (string, error) {
	id := r.PathParam("customerId")
	if err := license.ValidCustomerID(id); err != nil {
		return "", BadRequest(err.Error(), Detail{Field: "customerId", Value: id})
	}
	return id, nil
}

// Window is the validated ?window= (default 28).
func (r *Request) Window() (int, error) {
	s := r.Query("window")
	if s == "" {
		return license.DefaultWindow, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || !license.ValidWindow(n) {
		return 0, BadRequest("window must be one of 7, 28, 30, 90, 180 (days)", Detail{Field: "window", Value: s})
	}
	return n, nil
}

// Body is the request body, decoded from base64 when API Gateway encoded it.
func (r *Request) Body() ([]byte, error) {
	if !r.Event.IsBase64Encoded {
		return []byte(r.Event.Body), nil
	}
	b, err := base64.StdEncoding.DecodeString(r.Event.Body)
	if err != nil {
		return nil, BadRequest("the body is not valid base64")
	}
	return b, nil
}

// DecodeJSON decodes a JSON body into v, rejecting unknown fields.
func (r *Request) DecodeJSON(v any) error {
	b, err := r.Body()
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytesReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return BadRequest("the body is not the expected JSON: " + err.Error())
	}
	return nil
}

// Response is what a handler returns.
type Response = events.APIGatewayProxyResponse

// HandlerFunc handles one route.
type HandlerFunc func(ctx context.Context, r *Request) (Response, error)

type route struct {
	h     HandlerFunc
	write bool
}

// Router dispatches by HTTP method and API resource (the template's path
// with {placeholders}, which API Gateway reports as the event's Resource).
type Router struct {
	routes map[string]route
}

// NewRouter is an empty Router.
func NewRouter() *Router { return &Router{routes: map[string]route{}} }

// Read registers a route any authenticated caller of the tenant may use.
func (rt *Router) Read(method, resource string, h HandlerFunc) {
	rt.routes[method+" "+resource] = route{h: h}
}

// Write registers a route that needs the writer role (ingest, export).
func (rt *Router) Write(method, resource string, h HandlerFunc) {
	rt.routes[method+" "+resource] = route{h: h, write: true}
}

// Routes lists "METHOD /resource" of every registered route.
func (rt *Router) Routes() []string {
	out := make([]string, 0, len(rt.routes))
	for k := range rt.routes {
		out = append(out, k)
	}
	return out
}

// Deadlines of a request's work. API Gateway ends every integration at 29
// s, after which the caller gets a bare 504 and the function runs on for
// nothing. Every store call of a request carries the request's deadline, so
// a store that hangs makes the request end early with a 503 and
// Retry-After (Unavailable) that a client knows to retry. Reads are short
// (a few GetItem or Query calls), so they get a tighter budget than writes,
// which parse and write a whole document.
const (
	ReadTimeout       = 10 * time.Second
	WriteTimeout      = 25 * time.Second
	RetryAfterSeconds = 5
)

// Handle is the Lambda handler: lambda.Start(router.Handle).
func (rt *Router) Handle(ctx context.Context, ev events.APIGatewayProxyRequest) (resp events.APIGatewayProxyResponse, _ error) {
	start := time.Now()
	ctx = observe.WithAttrs(ctx, slog.String("requestId", ev.RequestContext.RequestID))
	defer func() {
		if p := recover(); p != nil {
			slog.ErrorContext(ctx, "panic", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			resp = errorResponse(&Error{Status: http.StatusInternalServerError, Code: "internal", Message: "internal error"})
		}
		slog.InfoContext(ctx, "request", "method", ev.HTTPMethod, "resource", ev.Resource, "status", resp.StatusCode, "ms", time.Since(start).Milliseconds())
	}()

	tenant, role, err := Caller(ev)
	if err != nil {
		return errorResponse(err), nil
	}
	ctx = observe.WithAttrs(ctx, slog.String("tenant", tenant.ID()))
	ctx = observe.Annotate(ctx, "tenant", tenant.ID())

	r, ok := rt.routes[ev.HTTPMethod+" "+ev.Resource]
	if !ok {
		return errorResponse(&Error{Status: http.StatusNotFound, Code: "not_found", Message: fmt.Sprintf("no route %s %s", ev.HTTPMethod, ev.Resource)}), nil
	}
	if r.write && role != RoleWriter {
		return errorResponse(&Error{Status: http.StatusForbidden, Code: "forbidden", Message: "this route needs the writer role; the token has role " + string(role)}), nil
	}
	if len(ev.Body) > MaxBodyBytes*4/3+4 {
		return errorResponse(TooLarge()), nil
	}
	budget := ReadTimeout
	if r.write {
		budget = WriteTimeout
	}
	hctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	out, err := r.h(hctx, &Request{Event: ev, Tenant: tenant, Role: role})
	if err != nil {
		if ErrorOf(err) == nil {
			slog.ErrorContext(ctx, "handler failed", "error", err.Error())
			if errors.Is(err, context.DeadlineExceeded) && hctx.Err() != nil {
				err = Unavailable()
			}
		}
		return errorResponse(err), nil
	}
	return out, nil
}

// Caller establishes the tenant and role from the authorizer context — the
// only place they may come from. A missing tenant is 401, a malformed one or
// an unknown role 403, before any data is touched.
func Caller(ev events.APIGatewayProxyRequest) (license.Tenant, Role, error) {
	auth := ev.RequestContext.Authorizer
	raw, _ := auth[ContextTenant].(string)
	if raw == "" {
		return license.Tenant{}, "", &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "no tenant in the authorizer context: a valid bearer token is required"}
	}
	t, err := license.NewTenant(raw)
	if err != nil {
		return license.Tenant{}, "", &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "the token's tenant is not valid: " + err.Error()}
	}
	role := Role(fmt.Sprint(auth[ContextRole]))
	switch role {
	case RoleReader, RoleWriter:
	default:
		return license.Tenant{}, "", &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "the token carries no known role (reader or writer)"}
	}
	return t, role, nil
}

// Routed is what an API function's handler offers: its router.
type Routed interface{ Router() *Router }

// LambdaHandler is the Lambda handler of an API function: h's router
// behind API Gateway's proxy events (pkg/app builds every API function so).
func LambdaHandler(h Routed) lambda.Handler { return lambda.NewHandler(h.Router().Handle) }

// BearerToken reads an Authorization header's "Bearer <token>": the one
// rule for the authorizer and the local gateway. The scheme is matched
// without regard to case (RFC 6750 §2.1 and RFC 9110 §11.1: auth schemes
// are case-insensitive), so "bearer x" and "BEARER x" are "Bearer x".
func BearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", false
	}
	return token, true
}
