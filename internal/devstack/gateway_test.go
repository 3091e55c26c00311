package devstack

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
	"github.com/licenseinsights/licenseinsights/pkg/api"
)

// The routes of template.yaml that make matching interesting: literal and
// parameter segments at the same depth, and nested resources.
var testRoutes = []infra.Route{
	{Function: "IngestFunction", Event: "PostReport", Method: "POST", Path: "/v1/customers/{customerId}/reports"},
	{Function: "IngestFunction", Event: "GetUpload", Method: "GET", Path: "/v1/uploads/{uploadId}"},
	{Function: "InsightsFunction", Event: "ListCustomers", Method: "GET", Path: "/v1/customers"},
	{Function: "InsightsFunction", Event: "GetInsights", Method: "GET", Path: "/v1/customers/{customerId}/insights"},
	{Function: "PortfolioFunction", Event: "GetPortfolio", Method: "GET", Path: "/v1/portfolio"},
	{Function: "PortfolioFunction", Event: "GetPortfolioHistory", Method: "GET", Path: "/v1/portfolio/history"},
	{Function: "ExportFunction", Event: "GetExport", Method: "GET", Path: "/v1/exports/{exportId}"},
	{Function: "ExportFunction", Event: "ListExportsLiteral", Method: "GET", Path: "/v1/exports/latest"},
	{Function: "ExportFunction", Event: "NewExportLink", Method: "POST", Path: "/v1/exports/{exportId}/link"},
	{Function: "MissingFunction", Event: "Nothing", Method: "GET", Path: "/v1/missing"},
}

// echo is a proxy handler that answers with the event it received.
type echo struct{ last events.APIGatewayProxyRequest }

func (e *echo) handle(_ context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	e.last = ev
	body, _ := json.Marshal(ev)
	return events.APIGatewayProxyResponse{StatusCode: 200, Body: string(body), Headers: map[string]string{"Content-Type": "application/json"}}, nil
}

func newTestGateway(t *testing.T, handlers map[string]lambda.Handler) *Gateway {
	t.Helper()
	fns := map[string]*Function{}
	for id, h := range handlers {
		fns[id] = &Function{LogicalID: id, Handler: h}
	}
	tokens, err := ParseTokens("demo=demo-partner,ro=tenant-b:reader")
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewGateway(testRoutes, fns, tokens, nil)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func echoAll(e *echo) map[string]lambda.Handler {
	h := lambda.NewHandler(e.handle)
	return map[string]lambda.Handler{"IngestFunction": h, "InsightsFunction": h, "PortfolioFunction": h, "ExportFunction": h}
}

func do(g http.Handler, method, target, token string, body io.Reader, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	g.ServeHTTP(rec, req)
	return rec
}

func TestGatewayRoutes(t *testing.T) {
	e := &echo{}
	g := newTestGateway(t, echoAll(e))
	tests := []struct {
		method, path string
		resource     string
		params       map[string]string
	}{
		{"GET", "/v1/customers", "/v1/customers", nil},
		{"GET", "/v1/customers/", "/v1/customers", nil},
		{"GET", "/v1/customers/fabrikam/insights", "/v1/customers/{customerId}/insights", map[string]string{"customerId": "fabrikam"}},
		{"POST", "/v1/customers/a%2Fb/reports", "/v1/customers/{customerId}/reports", map[string]string{"customerId": "a/b"}},
		{"GET", "/v1/portfolio/history", "/v1/portfolio/history", nil},
		{"GET", "/v1/exports/latest", "/v1/exports/latest", nil},
		{"GET", "/v1/exports/e-17", "/v1/exports/{exportId}", map[string]string{"exportId": "e-17"}},
		{"POST", "/v1/exports/e-17/link", "/v1/exports/{exportId}/link", map[string]string{"exportId": "e-17"}},
	}
	for _, tt := range tests {
		rec := do(g, tt.method, tt.path, "demo", nil)
		if rec.Code != 200 {
			t.Errorf("%s %s: status %d: %s", tt.method, tt.path, rec.Code, rec.Body)
			continue
		}
		if e.last.Resource != tt.resource || e.last.RequestContext.ResourcePath != tt.resource {
			t.Errorf("%s %s: resource %q (context %q), want %q", tt.method, tt.path, e.last.Resource, e.last.RequestContext.ResourcePath, tt.resource)
		}
		if len(e.last.PathParameters) != len(tt.params) {
			t.Errorf("%s %s: path parameters %v, want %v", tt.method, tt.path, e.last.PathParameters, tt.params)
		}
		for k, v := range tt.params {
			if e.last.PathParameters[k] != v {
				t.Errorf("%s %s: path parameter %s = %q, want %q", tt.method, tt.path, k, e.last.PathParameters[k], v)
			}
		}
	}
}

func errorCode(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Details []any  `json:"details"`
		} `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("status %d body %q is not the error shape: %v", rec.Code, rec.Body, err)
	}
	if body.Error.Message == "" || body.Error.Details == nil {
		t.Errorf("error without message or details: %s", rec.Body)
	}
	return body.Error.Code
}

func TestGatewayRefusals(t *testing.T) {
	e := &echo{}
	handlers := echoAll(e)
	handlers["ExportFunction"] = lambda.NewHandler(func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{}, errors.New("boom")
	})
	g := newTestGateway(t, handlers)
	tests := []struct {
		name       string
		method     string
		path       string
		token      string
		header     []string
		body       io.Reader
		wantStatus int
		wantCode   string // "" when the body is not the API error shape
		wantBody   string // exact, when set
	}{
		{"no token", "GET", "/v1/portfolio", "", nil, nil, 401, "unauthorized", unauthorizedBody},
		{"unknown token", "GET", "/v1/portfolio", "nope", nil, nil, 401, "unauthorized", unauthorizedBody},
		{"basic scheme", "GET", "/v1/portfolio", "", []string{"Authorization", "Basic ZGVtbzpkZW1v"}, nil, 401, "unauthorized", unauthorizedBody},
		{"lower-case scheme", "GET", "/v1/portfolio", "", []string{"Authorization", "bearer demo"}, nil, 200, "", ""},
		{"upper-case scheme", "GET", "/v1/portfolio", "", []string{"Authorization", "BEARER demo"}, nil, 200, "", ""},
		{"scheme without token", "GET", "/v1/portfolio", "", []string{"Authorization", "Bearer "}, nil, 401, "unauthorized", unauthorizedBody},
		{"unknown path", "GET", "/v1/nothing", "demo", nil, nil, 404, "not_found", ""},
		{"too deep", "GET", "/v1/portfolio/history/x", "demo", nil, nil, 404, "not_found", ""},
		{"wrong method", "DELETE", "/v1/portfolio", "demo", nil, nil, 405, "method_not_allowed", ""},
		{"body over 10 MB", "POST", "/v1/customers/c/reports", "demo", nil, bytes.NewReader(make([]byte, MaxRequestBytes+1)), 413, "payload_too_large", tooLargeBody},
		{"no handler", "GET", "/v1/missing", "demo", nil, nil, 501, "not_implemented", ""},
		{"function error", "GET", "/v1/exports/e1", "demo", nil, nil, 502, "", `{"message": "Internal server error"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(g, tt.method, tt.path, tt.token, tt.body, tt.header...)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantCode != "" {
				if got := errorCode(t, rec); got != tt.wantCode {
					t.Errorf("error code %q, want %q", got, tt.wantCode)
				}
			}
			if tt.wantBody != "" && rec.Body.String() != tt.wantBody {
				t.Errorf("body %s, want %s", rec.Body, tt.wantBody)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
	// Exactly 10 MB is still accepted.
	rec := do(g, "POST", "/v1/customers/c/reports", "demo", bytes.NewReader(bytes.Repeat([]byte("a"), MaxRequestBytes)))
	if rec.Code != 200 || len(e.last.Body) != MaxRequestBytes {
		t.Errorf("a 10 MB body: status %d, body of %d bytes reached the function", rec.Code, len(e.last.Body))
	}
}

func TestGatewayBuildsTheProxyEvent(t *testing.T) {
	e := &echo{}
	g := newTestGateway(t, echoAll(e))
	rec := do(g, "GET", "/v1/customers/fabrikam/insights?window=7&tag=a&tag=b", "ro", nil,
		"X-Trace", "one", "X-Trace", "two", "User-Agent", "curl/8")
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	ev := e.last
	checks := []struct {
		what      string
		got, want any
	}{
		{"httpMethod", ev.HTTPMethod, "GET"},
		{"path", ev.Path, "/v1/customers/fabrikam/insights"},
		{"query window", ev.QueryStringParameters["window"], "7"},
		{"query tag (last value)", ev.QueryStringParameters["tag"], "b"},
		{"multi-value query tag", strings.Join(ev.MultiValueQueryStringParameters["tag"], ","), "a,b"},
		{"header (last value)", ev.Headers["X-Trace"], "two"},
		{"multi-value header", strings.Join(ev.MultiValueHeaders["X-Trace"], ","), "one,two"},
		{"authorizer tenant", ev.RequestContext.Authorizer[api.ContextTenant], "tenant-b"},
		{"authorizer role", ev.RequestContext.Authorizer[api.ContextRole], "reader"},
		{"authorizer principalId", ev.RequestContext.Authorizer["principalId"], "ro"},
		{"stage", ev.RequestContext.Stage, "local"},
		{"context path has the stage", ev.RequestContext.Path, "/local/v1/customers/fabrikam/insights"},
		{"context method", ev.RequestContext.HTTPMethod, "GET"},
		{"source IP", ev.RequestContext.Identity.SourceIP, "192.0.2.1"}, // httptest's client address
		{"user agent", ev.RequestContext.Identity.UserAgent, "curl/8"},
		{"request id set", ev.RequestContext.RequestID != "", true},
		{"request id answered", rec.Header().Get("X-Amzn-RequestId"), ev.RequestContext.RequestID},
		{"no body", ev.Body, ""},
		{"not base64", ev.IsBase64Encoded, false},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
		}
	}
	// The event reaches the API package's own parsing intact.
	tenant, role, err := api.Caller(ev)
	if err != nil || tenant.ID() != "tenant-b" || role != api.RoleReader {
		t.Errorf("api.Caller = %v, %v, %v", tenant.ID(), role, err)
	}

	// Without a query string, AWS sends null, not {}.
	do(g, "GET", "/v1/portfolio", "demo", nil)
	if e.last.QueryStringParameters != nil || e.last.MultiValueQueryStringParameters != nil || e.last.PathParameters != nil {
		t.Errorf("empty maps should be null: query %v, multi %v, path %v", e.last.QueryStringParameters, e.last.MultiValueQueryStringParameters, e.last.PathParameters)
	}
}

func TestGatewayBodies(t *testing.T) {
	e := &echo{}
	g := newTestGateway(t, echoAll(e))
	binary := []byte{0x50, 0x4b, 0x03, 0x04, 0xff, 0x00, 0x10}
	tests := []struct {
		name        string
		body        []byte
		contentType string
		wantBase64  bool
	}{
		{"json", []byte(`{"schema":"license-snapshot/v1"}`), "application/json", false},
		{"csv", []byte("Report Refresh Date,User Principal Name\n"), "text/csv", false},
		{"no content type, text", []byte("hello"), "", false},
		{"not UTF-8", binary, "", true},
		{"octet-stream", []byte("looks like text"), "application/octet-stream", true},
	}
	for _, tt := range tests {
		rec := do(g, "POST", "/v1/customers/c/reports", "demo", bytes.NewReader(tt.body), "Content-Type", tt.contentType)
		if rec.Code != 200 {
			t.Fatalf("%s: status %d", tt.name, rec.Code)
		}
		if e.last.IsBase64Encoded != tt.wantBase64 {
			t.Errorf("%s: isBase64Encoded %v, want %v", tt.name, e.last.IsBase64Encoded, tt.wantBase64)
		}
		// Whatever the encoding, pkg/api hands the handler the same bytes.
		got, err := (&api.Request{Event: e.last}).Body()
		if err != nil || !bytes.Equal(got, tt.body) {
			t.Errorf("%s: body decoded to %q (%v), want %q", tt.name, got, err, tt.body)
		}
	}
}

func TestGatewayWritesTheProxyResponse(t *testing.T) {
	respond := func(resp events.APIGatewayProxyResponse) lambda.Handler {
		return lambda.NewHandler(func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
			return resp, nil
		})
	}
	tests := []struct {
		name       string
		resp       events.APIGatewayProxyResponse
		wantStatus int
		wantBody   string
		wantHeader map[string]string
		wantMulti  map[string][]string
	}{
		{"json", events.APIGatewayProxyResponse{StatusCode: 201, Body: `{"ok":true}`, Headers: map[string]string{"Content-Type": "application/json", "Location": "/v1/exports/e1"}},
			201, `{"ok":true}`, map[string]string{"Location": "/v1/exports/e1"}, nil},
		{"base64 body", events.APIGatewayProxyResponse{StatusCode: 200, Body: base64.StdEncoding.EncodeToString([]byte("a,b\n1,2\n")), IsBase64Encoded: true, Headers: map[string]string{"Content-Type": "text/csv"}},
			200, "a,b\n1,2\n", map[string]string{"Content-Type": "text/csv"}, nil},
		{"multi-value header wins", events.APIGatewayProxyResponse{StatusCode: 200, Body: "x", Headers: map[string]string{"Set-Cookie": "a=1"}, MultiValueHeaders: map[string][]string{"Set-Cookie": {"b=2", "c=3"}}},
			200, "x", nil, map[string][]string{"Set-Cookie": {"b=2", "c=3"}}},
		{"default content type", events.APIGatewayProxyResponse{StatusCode: 404, Body: `{"error":{}}`},
			404, `{"error":{}}`, map[string]string{"Content-Type": "application/json"}, nil},
		{"no status code", events.APIGatewayProxyResponse{Body: "?"}, 502, `{"message": "Internal server error"}`, nil, nil},
		{"bad base64", events.APIGatewayProxyResponse{StatusCode: 200, Body: "!!", IsBase64Encoded: true}, 502, `{"message": "Internal server error"}`, nil, nil},
	}
	for _, tt := range tests {
		g := newTestGateway(t, map[string]lambda.Handler{"PortfolioFunction": respond(tt.resp)})
		rec := do(g, "GET", "/v1/portfolio", "demo", nil)
		if rec.Code != tt.wantStatus || rec.Body.String() != tt.wantBody {
			t.Errorf("%s: %d %q, want %d %q", tt.name, rec.Code, rec.Body, tt.wantStatus, tt.wantBody)
		}
		for k, v := range tt.wantHeader {
			if got := rec.Header().Get(k); got != v {
				t.Errorf("%s: header %s = %q, want %q", tt.name, k, got, v)
			}
		}
		for k, v := range tt.wantMulti {
			if got := rec.Header().Values(k); strings.Join(got, "|") != strings.Join(v, "|") {
				t.Errorf("%s: header %s = %v, want %v", tt.name, k, got, v)
			}
		}
	}
}

func TestParseTokens(t *testing.T) {
	tests := []struct {
		in   string
		want string // tokens joined as String() writes them
		err  string
	}{
		{"", "demo=demo-partner", ""},
		{"  ", "demo=demo-partner", ""},
		{"a=tenant-a,b=tenant-b:reader", "a=tenant-a b=tenant-b:reader", ""},
		{"a=tenant-a:writer, ,b=t.b", "a=tenant-a b=t.b", ""},
		{"a", "", "want token=tenant"},
		{"=tenant", "", "want token=tenant"},
		{"a=t1,a=t2", "", `token "a" is given twice`},
		{"a=t1:admin", "", `role "admin" is neither reader nor writer`},
		{"a=bad#tenant", "", "has a character other than"},
		{"my token=t", "", "cannot contain spaces"},
	}
	for _, tt := range tests {
		got, err := ParseTokens(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseTokens(%q) error %v, want it to say %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseTokens(%q): %v", tt.in, err)
			continue
		}
		var parts []string
		for _, tok := range got {
			parts = append(parts, tok.String())
		}
		if s := strings.Join(parts, " "); s != tt.want {
			t.Errorf("ParseTokens(%q) = %s, want %s", tt.in, s, tt.want)
		}
	}
}
