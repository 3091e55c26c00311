package devstack

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
	"github.com/licenseinsights/licenseinsights/pkg/api"
)

// MaxRequestBytes is API Gateway's payload limit: larger bodies are refused
// with 413 before any function runs.
const MaxRequestBytes = 10 << 20

// integrationTimeout is API Gateway's limit on a synchronous integration:
// past it the caller gets 504 while the function may still be running.
const integrationTimeout = 29 * time.Second

// The gateway's own answers, as the template's GatewayResponses write them.
const (
	unauthorizedBody = `{"error":{"code":"unauthorized","message":"a valid bearer token is required","details":[]}}`
	tooLargeBody     = `{"error":{"code":"payload_too_large","message":"the body exceeds 10 MB: use POST /v1/uploads for large files","details":[]}}`
)

// Gateway stands in for API Gateway with the template's routes: it matches
// a request to a route, establishes the caller from a local bearer token
// (where AWS would run the JWT authorizer), builds the REST API proxy event
// AWS would deliver, invokes the route's function and writes its answer.
type Gateway struct {
	routes []gatewayRoute
	tokens map[string]Token
	log    *slog.Logger
	stage  string
}

type gatewayRoute struct {
	infra.Route
	segments []string // the path split at '/', "{name}" for parameters
	fn       *Function
	missing  string // when fn is nil: why (no handler registered)
}

// NewGateway builds a gateway over routes. functions maps logical ids to
// their hosted function; a route whose function is absent answers 501 and
// says so. log may be nil.
func NewGateway(routes []infra.Route, functions map[string]*Function, tokens []Token, log *slog.Logger) (*Gateway, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g := &Gateway{tokens: map[string]Token{}, log: log, stage: "local"}
	for _, t := range tokens {
		g.tokens[t.Name] = t
	}
	seen := map[string]bool{}
	for _, r := range routes {
		key := r.Method + " " + r.Path
		if seen[key] {
			return nil, fmt.Errorf("devstack: route %s is declared twice in the template (second: %s.%s)", key, r.Function, r.Event)
		}
		seen[key] = true
		gr := gatewayRoute{Route: r, segments: splitPath(r.Path), fn: functions[r.Function]}
		if gr.fn == nil {
			gr.missing = r.Function + " has no constructor in pkg/app.Functions"
		}
		for _, s := range gr.segments {
			if strings.HasPrefix(s, "{") != strings.HasSuffix(s, "}") {
				return nil, fmt.Errorf("devstack: route %s: segment %q has an unbalanced brace", key, s)
			}
		}
		g.routes = append(g.routes, gr)
	}
	return g, nil
}

// AddToken lets one more token in (the demo loader's, which nobody else
// knows).
func (g *Gateway) AddToken(t Token) { g.tokens[t.Name] = t }

func splitPath(p string) []string {
	return strings.Split(strings.Trim(p, "/"), "/")
}

// match finds the route for method and path. Literal segments win over
// parameters, segment by segment from the left, as API Gateway chooses.
// pathExists tells a wrong method (405) from an unknown path (404).
func (g *Gateway) match(method, escapedPath string) (route *gatewayRoute, params map[string]string, pathExists bool) {
	// Split before unescaping, so that an encoded '/' stays inside its
	// path parameter.
	segs := splitPath(escapedPath)
	for i, s := range segs {
		segs[i] = pathUnescape(s)
	}
	var best *gatewayRoute
	var bestParams map[string]string
	for i := range g.routes {
		r := &g.routes[i]
		p, ok := matchSegments(r.segments, segs)
		if !ok {
			continue
		}
		pathExists = true
		if r.Method != method && r.Method != "ANY" {
			continue
		}
		if best == nil || moreSpecific(r, best) {
			best, bestParams = r, p
		}
	}
	return best, bestParams, pathExists
}

func matchSegments(pattern, segs []string) (map[string]string, bool) {
	var params map[string]string
	for i, p := range pattern {
		if strings.HasPrefix(p, "{") {
			name := strings.Trim(p, "{}")
			if greedy, ok := strings.CutSuffix(name, "+"); ok {
				if i >= len(segs) {
					return nil, false
				}
				if params == nil {
					params = map[string]string{}
				}
				params[greedy] = strings.Join(segs[i:], "/")
				return params, true
			}
			if i >= len(segs) || segs[i] == "" {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[name] = segs[i]
			continue
		}
		if i >= len(segs) || segs[i] != p {
			return nil, false
		}
	}
	return params, len(pattern) == len(segs)
}

// moreSpecific: the first segment where the two differ decides; a literal
// beats a parameter; an exact method beats ANY.
func moreSpecific(a, b *gatewayRoute) bool {
	for i := 0; i < len(a.segments) && i < len(b.segments); i++ {
		al, bl := !strings.HasPrefix(a.segments[i], "{"), !strings.HasPrefix(b.segments[i], "{")
		if al != bl {
			return al
		}
	}
	return a.Method != "ANY" && b.Method == "ANY"
}

// ServeHTTP is the local API.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	requestID := newRequestID()
	w.Header().Set("X-Amzn-RequestId", requestID)
	status := g.serve(w, r, requestID)
	g.log.Info("api", "method", r.Method, "path", r.URL.Path, "status", status, "ms", time.Since(start).Milliseconds())
}

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request, requestID string) int {
	route, params, pathExists := g.match(r.Method, r.URL.EscapedPath())
	if route == nil {
		if pathExists {
			return writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", fmt.Sprintf("%s is not a method of %s in template.yaml", r.Method, r.URL.Path))
		}
		return writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no route %s %s in template.yaml", r.Method, r.URL.Path))
	}
	token, ok := g.authorize(r.Header.Get("Authorization"))
	if !ok {
		return writeRaw(w, http.StatusUnauthorized, unauthorizedBody)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestBytes+1))
	if err != nil {
		return writeError(w, http.StatusBadRequest, "bad_request", "reading the request body: "+err.Error())
	}
	if len(body) > MaxRequestBytes {
		return writeRaw(w, http.StatusRequestEntityTooLarge, tooLargeBody)
	}
	if route.fn == nil {
		return writeError(w, http.StatusNotImplemented, "not_implemented", "the local stack cannot serve this route yet: "+route.missing)
	}
	ev := g.ProxyEvent(r, route.Route, params, body, token, requestID)
	payload, err := json.Marshal(ev)
	if err != nil {
		return writeError(w, http.StatusInternalServerError, "internal", "encoding the proxy event: "+err.Error())
	}
	out, err := invokeWithin(r.Context(), route.fn, payload, integrationTimeout)
	if errors.Is(err, errIntegrationTimeout) {
		return writeRaw(w, http.StatusGatewayTimeout, `{"message": "Endpoint request timed out"}`)
	}
	if err != nil {
		// API Gateway hides a function error behind a bare 502.
		g.log.Error("function error", "function", route.Function, "route", route.Method+" "+route.Path, "error", err.Error())
		return writeRaw(w, http.StatusBadGateway, `{"message": "Internal server error"}`)
	}
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode == 0 {
		g.log.Error("malformed Lambda proxy response", "function", route.Function, "response", truncate(string(out), 300))
		return writeRaw(w, http.StatusBadGateway, `{"message": "Internal server error"}`)
	}
	return writeProxyResponse(w, resp, g.log)
}

var errIntegrationTimeout = errors.New("integration timed out")

// invokeWithin runs the invocation and gives up waiting after limit, as
// API Gateway does; the invocation itself runs on to its own timeout.
func invokeWithin(ctx context.Context, fn *Function, payload []byte, limit time.Duration) ([]byte, error) {
	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1)
	// The function's context is not the HTTP request's: a client that hangs
	// up does not cancel a Lambda invocation either.
	go func() {
		out, err := fn.Invoke(context.WithoutCancel(ctx), payload)
		done <- result{out, err}
	}()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case res := <-done:
		return res.out, res.err
	case <-timer.C:
		return nil, errIntegrationTimeout
	}
}

// authorize reads "Bearer <token>" by the authorizer's own rule
// (api.BearerToken): no header or an unknown token is 401.
func (g *Gateway) authorize(header string) (Token, bool) {
	value, ok := api.BearerToken(header)
	if !ok {
		return Token{}, false
	}
	t, ok := g.tokens[value]
	return t, ok
}

// ProxyEvent builds the REST API (v1) Lambda proxy event for r, as API
// Gateway builds it after the authorizer allowed token.
func (g *Gateway) ProxyEvent(r *http.Request, route infra.Route, params map[string]string, body []byte, token Token, requestID string) events.APIGatewayProxyRequest {
	now := time.Now().UTC()
	headers, multiHeaders := map[string]string{}, map[string][]string{}
	for name, values := range r.Header {
		multiHeaders[name] = slices.Clone(values)
		headers[name] = values[len(values)-1] // API Gateway keeps the last
	}
	if r.Host != "" {
		headers["Host"], multiHeaders["Host"] = r.Host, []string{r.Host}
	}
	var query map[string]string
	var multiQuery map[string][]string
	if values := r.URL.Query(); len(values) > 0 {
		query, multiQuery = map[string]string{}, map[string][]string{}
		for name, vs := range values {
			query[name] = vs[len(vs)-1]
			multiQuery[name] = slices.Clone(vs)
		}
	}
	sourceIP, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		sourceIP = r.RemoteAddr
	}
	text, isBase64 := encodeBody(body, r.Header.Get("Content-Type"))
	return events.APIGatewayProxyRequest{
		Resource:                        route.Path,
		Path:                            r.URL.Path,
		HTTPMethod:                      r.Method,
		Headers:                         headers,
		MultiValueHeaders:               multiHeaders,
		QueryStringParameters:           query,
		MultiValueQueryStringParameters: multiQuery,
		PathParameters:                  params,
		Body:                            text,
		IsBase64Encoded:                 isBase64,
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID:        Account,
			ResourceID:       resourceID(route),
			Stage:            g.stage,
			DomainName:       r.Host,
			DomainPrefix:     strings.Split(r.Host, ".")[0],
			RequestID:        requestID,
			Protocol:         r.Proto,
			Identity:         events.APIGatewayRequestIdentity{SourceIP: sourceIP, UserAgent: r.UserAgent()},
			ResourcePath:     route.Path,
			Path:             "/" + g.stage + r.URL.Path,
			HTTPMethod:       r.Method,
			RequestTime:      now.Format("02/Jan/2006:15:04:05 -0700"),
			RequestTimeEpoch: now.UnixMilli(),
			APIID:            "local",
			Authorizer: map[string]any{
				api.ContextTenant: token.Tenant.ID(),
				api.ContextRole:   string(token.Role),
				"principalId":     token.Name,
			},
		},
	}
}

// resourceID is a short stable id per resource path, as API Gateway has.
func resourceID(route infra.Route) string {
	var h uint32 = 2166136261
	for _, c := range []byte(route.Path) {
		h = (h ^ uint32(c)) * 16777619
	}
	return strconv.FormatUint(uint64(h%(36*36*36*36*36*36)), 36)
}

// encodeBody returns the body as the event carries it: text as is, and
// anything that is not text (not UTF-8, or a binary content type) in base64
// with IsBase64Encoded set.
func encodeBody(body []byte, contentType string) (string, bool) {
	if len(body) == 0 {
		return "", false
	}
	if utf8.Valid(body) && !binaryContentType(contentType) {
		return string(body), false
	}
	return base64.StdEncoding.EncodeToString(body), true
}

func binaryContentType(ct string) bool {
	if ct == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"), strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"):
		return false
	}
	switch mt {
	case "application/json", "application/xml", "application/x-www-form-urlencoded", "application/csv", "application/x-ndjson", "application/javascript":
		return false
	}
	return strings.HasPrefix(mt, "application/") || strings.HasPrefix(mt, "image/") ||
		strings.HasPrefix(mt, "audio/") || strings.HasPrefix(mt, "video/")
}

// writeProxyResponse writes a function's proxy response: status, headers
// (multi-value ones after single ones, as API Gateway merges them) and the
// body, decoded when the function sent it in base64.
func writeProxyResponse(w http.ResponseWriter, resp events.APIGatewayProxyResponse, log *slog.Logger) int {
	h := w.Header()
	for name, value := range resp.Headers {
		h.Set(name, value)
	}
	for name, values := range resp.MultiValueHeaders {
		h.Del(name)
		for _, v := range values {
			h.Add(name, v)
		}
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		decoded, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			log.Error("function sent isBase64Encoded with a body that is not base64", "error", err.Error())
			return writeRaw(w, http.StatusBadGateway, `{"message": "Internal server error"}`)
		}
		body = decoded
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
	return resp.StatusCode
}

func writeRaw(w http.ResponseWriter, status int, body string) int {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
	return status
}

// writeError answers in the API's error shape (docs/definitions.md#the-api) for the local
// gateway's own refusals.
func writeError(w http.ResponseWriter, status int, code, message string) int {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": code, "message": message, "details": []any{}}})
	return writeRaw(w, status, string(b))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// pathUnescape is url.PathUnescape that keeps the input when it is not
// valid escaping (API Gateway passes such paths through).
func pathUnescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}
