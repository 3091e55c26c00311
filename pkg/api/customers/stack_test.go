package customers

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/licenseinsights/licenseinsights/pkg/api"
	"github.com/licenseinsights/licenseinsights/pkg/api/proxyevent"
	"github.com/licenseinsights/licenseinsights/pkg/blob"
	"github.com/licenseinsights/licenseinsights/pkg/catalog"
	"github.com/licenseinsights/licenseinsights/pkg/ingest"
	"github.com/licenseinsights/licenseinsights/pkg/store"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/licenseinsights/licenseinsights/internal/devstack/devstacktest"
	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
	"github.com/licenseinsights/licenseinsights/internal/openapi"
	"github.com/licenseinsights/licenseinsights/pkg/api/reports"
	"github.com/licenseinsights/licenseinsights/pkg/awsenv"
	"github.com/licenseinsights/licenseinsights/pkg/config"
)

func TestMain(m *testing.M) { devstacktest.Main(m) }

// stack is the InsightsFunction and the IngestFunction on a fresh table
// and bucket of the local services, called as Lambda calls them: through
// lambda.Handler.Invoke with the JSON event API Gateway sends.
type stack struct {
	insights lambda.Handler
	ingest   lambda.Handler
	handler  *Handler
	env      *awsenv.Env
	// calls counts the InsightsFunction's DynamoDB calls.
	calls atomic.Int64
}

func newStack(t testing.TB, cfg config.Config) *stack {
	t.Helper()
	client, table := devstacktest.Table(t)
	s3c, bucket := devstacktest.Bucket(t)
	env := &awsenv.Env{DynamoDB: client, S3: s3c, Table: table, Bucket: bucket}
	s := &stack{env: env}
	// The insights function gets a client of its own that counts its
	// calls, so that tests can hold it to "one or two calls".
	counted := *env
	counted.DynamoDB = dynamodb.New(client.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("CountCalls",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					s.calls.Add(1)
					return next.HandleInitialize(ctx, in)
				}), middleware.Before)
		})
	})
	// Built as pkg/app builds the two functions (which this package's
	// tests cannot import: app imports it).
	s.handler = New(store.New(counted.DynamoDB, counted.Table), cfg)
	s.insights = api.LambdaHandler(s.handler)
	st := store.New(env.DynamoDB, env.Table)
	s.ingest = lambda.NewHandler(reports.New(ingest.New(st, ingest.Config{
		PartnerTenantID:         cfg.PartnerTenantID,
		UpsellDeploymentPercent: cfg.UpsellDeploymentPercent,
		UpsellUsagePercent:      cfg.UpsellUsagePercent,
		ProductName:             catalog.Name,
	}), st, blob.New(env.S3, env.Bucket), cfg).Invoke)
	return s
}

// request is one API call.
type request struct {
	tenant, role string
	method       string
	resource     string // as template.yaml writes it, e.g. /v1/customers/{customerId}/insights
	path         map[string]string
	query        map[string]string
	body         string
}

// event is the API Gateway proxy event (REST API, Lambda proxy
// integration) that the request becomes, with the authorizer context the
// JWT authorizer sets.
func (r request) event() events.APIGatewayProxyRequest {
	role := r.role
	if role == "" {
		role = "reader"
	}
	return proxyevent.Request{
		Method: r.method, Resource: r.resource, Path: r.path, Query: r.query, Body: r.body,
		Tenant: r.tenant, Role: role,
		Headers:    map[string]string{"Authorization": "Bearer test", "Accept": "application/json"},
		Authorizer: map[string]any{"integrationLatency": 3},
	}.Event()
}

type response struct {
	status int
	body   string
}

func invoke(t testing.TB, h lambda.Handler, r request) response {
	t.Helper()
	payload, err := json.Marshal(r.event())
	if err != nil {
		t.Fatal(err)
	}
	out, err := h.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("%s %s: invoke: %v", r.method, r.resource, err)
	}
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("%s %s: the function answered %s: %v", r.method, r.resource, out, err)
	}
	return response{resp.StatusCode, resp.Body}
}

// post ingests a document through the IngestFunction's POST route.
func (s *stack) post(t testing.TB, tenant, customerID, body string) {
	t.Helper()
	resp := invoke(t, s.ingest, request{
		tenant: tenant, role: "writer", method: http.MethodPost, resource: "/v1/customers/{customerId}/reports",
		path: map[string]string{"customerId": customerID}, query: map[string]string{"kind": "snapshot"}, body: body,
	})
	if resp.status != http.StatusOK {
		t.Fatalf("ingesting %s for %s: %d %s", customerID, tenant, resp.status, resp.body)
	}
}

// postAll ingests several documents at once (two at a time: the machine
// has two cores).
func (s *stack) postAll(t testing.TB, tenant string, docs map[string]string) {
	t.Helper()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for id, body := range docs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			s.post(t, tenant, id, body)
		})
	}
	wg.Wait()
}

func (s *stack) get(t testing.TB, tenant, resource string, path, query map[string]string) response {
	t.Helper()
	return invoke(t, s.insights, request{tenant: tenant, method: http.MethodGet, resource: resource, path: path, query: query})
}

var (
	specOnce sync.Once
	spec     *openapi.Spec
	specErr  error
)

// apiSpec is the repository's openapi.yaml.
func apiSpec(t testing.TB) *openapi.Spec {
	t.Helper()
	specOnce.Do(func() {
		root, err := infra.RepoRoot()
		if err != nil {
			specErr = err
			return
		}
		spec, specErr = openapi.Load(filepath.Join(root, "openapi.yaml"))
	})
	if specErr != nil {
		t.Fatal(specErr)
	}
	return spec
}

// conforms checks a response against openapi.yaml.
func conforms(t testing.TB, resource string, resp response) {
	t.Helper()
	if err := apiSpec(t).ValidateResponse(http.MethodGet, resource, resp.status, []byte(resp.body)); err != nil {
		t.Errorf("GET %s %d does not conform to openapi.yaml:\n%v\nbody: %s", resource, resp.status, err, resp.body)
	}
}

// decode is a JSON body as generic values (numbers as float64).
func decode(t testing.TB, body string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, body)
	}
	return v
}

func pretty(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

func mustJSON(t testing.TB, s string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("expected JSON in the test is broken: %v", err)
	}
	return v
}

func errorCode(t testing.TB, resp response) string {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal([]byte(resp.body), &e); err != nil {
		t.Fatalf("error body %q: %v", resp.body, err)
	}
	return fmt.Sprintf("%d %s", resp.status, e.Error.Code)
}
