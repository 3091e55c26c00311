// Package apitest holds what the suites that drive the API end to end
// (internal/tenancytest, internal/apicontract, internal/browsertest) share: starting and waiting
// on the local stack, the routes they must each cover, and one way to send
// a request and keep the whole answer.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/licenseinsights/licenseinsights/internal/devstack"
	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
	"github.com/licenseinsights/licenseinsights/pkg/observe"
)

// Routes are the API routes of the repository's template.yaml; a suite
// checks that it has a case for each.
func Routes(t testing.TB) []infra.Route {
	t.Helper()
	tmpl, err := infra.RepoTemplate()
	if err != nil {
		t.Fatal(err)
	}
	routes := tmpl.Routes()
	if len(routes) == 0 {
		t.Fatal("template.yaml declares no API route")
	}
	return routes
}

// CoverRoutes checks that cases (keyed "METHOD /path") has a case for every
// route of template.yaml and none for a route it does not declare; check,
// when not nil, asserts more of each route's case. suite and pkg name the
// suite in the messages ("contract", "internal/apicontract").
func CoverRoutes[C any](t *testing.T, cases map[string]C, suite, pkg string, check func(r infra.Route, key string, c C)) {
	t.Helper()
	declared := map[string]bool{}
	for _, r := range Routes(t) {
		key := r.Method + " " + r.Path
		declared[key] = true
		c, ok := cases[key]
		if !ok {
			t.Errorf("template.yaml route %s (%s) has no %s case in %s", key, r.Function, suite, pkg)
			continue
		}
		if check != nil {
			check(r, key, c)
		}
	}
	for key := range cases {
		if !declared[key] {
			t.Errorf("%s case %s names no route of template.yaml", suite, key)
		}
	}
}

// RunReadsThenWrites runs each route's case as a sub-test named by its key:
// first the cases write says do not write (their checks expect the
// set-up's data, which the writes add to), then the writes. A route
// without a case is passed over (CoverRoutes reports it).
func RunReadsThenWrites[C any](t *testing.T, routes []infra.Route, cases map[string]C, write func(r infra.Route, c C) bool, run func(t *testing.T, key string, c C)) {
	t.Helper()
	for _, writes := range []bool{false, true} {
		for _, r := range routes {
			key := r.Method + " " + r.Path
			c, ok := cases[key]
			if !ok || write(r, c) != writes {
				continue
			}
			t.Run(key, func(t *testing.T) { run(t, key, c) })
		}
	}
}

// Response is an answer read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// String is the status and the start of the body, for failure messages.
func (r Response) String() string {
	return fmt.Sprintf("%d %s", r.Status, Truncate(string(r.Body), 800))
}

// Decode reads the JSON body into v; a body that is not fails the test.
func (r Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("the body is not the expected JSON: %v: %s", err, r)
	}
}

// Truncate keeps the first n bytes of s, marking a cut with "…".
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// NewRequest is a request to the API at url: body, when not nil, sent as
// JSON; token, when not "", as the bearer token.
func NewRequest(t testing.TB, method, url, token string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
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

// StartStack starts the local stack with opts and stops it when the test
// ends. The functions log every request and emit a metric line per ingest:
// their logs are cut to warnings and their metrics dropped, so that only
// what goes wrong shows beside a failing assertion.
func StartStack(t testing.TB, opts devstack.Options) *devstack.Stack {
	t.Helper()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	observe.SetMetricsOutput(io.Discard)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stack, err := devstack.Start(ctx, opts)
	if err != nil {
		t.Fatalf("starting the local stack: %v", err)
	}
	t.Cleanup(func() {
		if err := stack.Stop(); err != nil {
			t.Errorf("stopping the local stack: %v", err)
		}
	})
	for _, step := range stack.Timings {
		t.Logf("local stack: %s in %v", step.Step, step.Duration.Round(time.Millisecond))
	}
	return stack
}

// StartSuite starts the local stack as the end-to-end suites run it: with
// tokens (devstack.ParseTokens' "token=tenant[:reader],…"), every function
// of the template required, and redelivery without back-off, on top of
// opts.
func StartSuite(t testing.TB, tokens string, opts devstack.Options) *devstack.Stack {
	t.Helper()
	parsed, err := devstack.ParseTokens(tokens)
	if err != nil {
		t.Fatal(err)
	}
	opts.Tokens = parsed
	opts.RequireAllFunctions = true
	opts.RetryBackoff = func(int) time.Duration { return 0 }
	return StartStack(t, opts)
}

// WaitIdle waits until the stack's stream consumers (roll-up, export
// worker) and upload trigger have handled everything written so far.
func WaitIdle(t testing.TB, stack *devstack.Stack) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := stack.WaitIdle(ctx); err != nil {
		t.Fatalf("waiting for the event sources: %v", err)
	}
}
