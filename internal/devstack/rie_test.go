package devstack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/licenseinsights/licenseinsights/internal/devstack"
	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// demoDate is the report date of the demo portfolio the events run
// against. It is fixed, and before the date of ingest-post-report.json's
// snapshot (2026-11-20), so that snapshot is newer and accepted.
const demoDate = "2026-11-01"

// result is what the emulator answered for one event.
type result struct {
	raw []byte
	// For API Gateway proxy events: the proxy response and its body.
	status int
	body   map[string]any
	// For a function error: Lambda's error document.
	errorMessage, errorType string
}

// expectation checks one event's result.
type expectation func(t *testing.T, r result)

// expectations has one entry per file under events/ (the test fails for a
// file without one, and for an entry without a file). Each states the
// status (or function error) and one field that shows the event did what
// it is for.
var expectations = map[string]expectation{
	// IngestFunction
	"ingest-post-report.json":    api(200, equals("status", "accepted"), equals("reportDate", "2026-11-20")),
	"ingest-create-upload.json":  api(201, equals("status", "pending"), hasField("uploadUrl")),
	"ingest-get-upload.json":     api(404, equals("error.code", "not_found")),
	"ingest-upload-arrived.json": handledWithoutError(),
	// A customer the demo portfolio does not have: deleting a demo
	// customer would change what the other events read.
	"ingest-delete-customer.json": api(404, equals("error.code", "not_found")),
	"ingest-put-prices.json":      api(200, equals("source", "tenant"), equals("currency", "EUR")),

	// AuthorizerFunction: an expired token is refused with exactly the
	// message API Gateway turns into 401.
	"authorizer-token.json": functionError("Unauthorized"),

	// AggregateFunction: the four FIGURES changes are applied, none fails.
	"aggregate-figures-changed.json": batchResponse(0),

	// ExportFunction: a new job is pending; the id the other files name
	// does not exist in a fresh stack.
	"export-create.json": api(202, equals("status", "pending"), hasField("exportId")),
	"export-get.json":    api(404, equals("error.code", "not_found")),
	"export-link.json":   api(404, equals("error.code", "not_found")),
	"export-list.json":   api(200, nonEmptyList("items")),

	// ExportWorkerFunction: a job whose item is not in the table is
	// skipped, not retried.
	"exportworker-export-requested.json": batchResponse(0),

	// CollectFunction: the stack's connection to Microsoft is not
	// configured, so a run over two listed customers is created (and its
	// customers fail with the reason, in the background), the schedule's
	// run is off (COLLECT_TENANT is empty), and the listed run id does not
	// exist.
	"collect-start.json":         api(202, equals("status", "running"), equals("counts.pending", 2)),
	"collect-list.json":          api(200, hasField("items")),
	"collect-get.json":           api(404, equals("error.code", "not_found")),
	"collect-put-customers.json": api(200, equals("source", "list")),
	"collect-schedule.json":      handledWithoutError(),

	// CollectorFunction: a message of a run the table does not have is
	// dropped, not delivered again.
	"collector-queue-message.json": batchResponse(0),

	// InsightsFunction, on the demo customers.
	"insights-get-history.json":    api(200, nonEmptyList("items")),
	"insights-get-insights.json":   api(200, equals("customerId", "woodgrove-travel-gmbh"), equals("windowDays", 28)),
	"insights-list-customers.json": api(200, nonEmptyList("items")),
	"insights-get-reclaim.json":    api(200, equals("customerId", "woodgrove-travel-gmbh"), equals("days", 90), hasField("totals")),

	// PortfolioFunction, over the demo portfolio; the analytics rows obey
	// the files' filters.
	"portfolio-get.json":        api(200, equals("windowDays", 28), hasField("bands")),
	"portfolio-history.json":    api(200, nonEmptyList("items")),
	"portfolio-reclaim.json":    api(200, equals("days", 90), hasField("totals")),
	"portfolio-deployment.json": api(200, nonEmptyList("value"), everyRow("value", "customerId", "woodgrove-travel-gmbh", "contoso-finance-plc"), everyRow("value", "channel", "own", "partner", "unknown")),
	"portfolio-usage.json":      api(200, nonEmptyList("value"), everyRow("value", "workloadCode", "EXO", "TEAMS")),
}

type bodyCheck func(t *testing.T, body map[string]any)

// api expects an API Gateway proxy response with status whose JSON body
// passes the checks.
func api(status int, checks ...bodyCheck) expectation {
	return func(t *testing.T, r result) {
		t.Helper()
		if r.errorMessage != "" {
			t.Fatalf("function error %s: %s", r.errorType, r.errorMessage)
		}
		if r.status != status {
			t.Fatalf("statusCode %d, want %d; body %v", r.status, status, r.body)
		}
		for _, c := range checks {
			c(t, r.body)
		}
	}
}

// equals checks a field (a dotted path) of the body.
func equals(field string, want any) bodyCheck {
	return func(t *testing.T, body map[string]any) {
		t.Helper()
		if got := lookup(body, field); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v; body %v", field, got, want, body)
		}
	}
}

func hasField(field string) bodyCheck {
	return func(t *testing.T, body map[string]any) {
		t.Helper()
		if v := lookup(body, field); v == nil || v == "" {
			t.Errorf("%s is missing or empty: %v", field, body)
		}
	}
}

// everyRow checks that every item of the list at field has key set to one
// of allowed.
func everyRow(field, key string, allowed ...string) bodyCheck {
	return func(t *testing.T, body map[string]any) {
		t.Helper()
		list, _ := lookup(body, field).([]any)
		for i, item := range list {
			got := fmt.Sprint(lookup(item, key))
			if !slices.Contains(allowed, got) {
				t.Errorf("%s[%d].%s = %q, want one of %v", field, i, key, got, allowed)
			}
		}
	}
}

// nonEmptyList checks that field is a list with at least one item.
func nonEmptyList(field string) bodyCheck {
	return func(t *testing.T, body map[string]any) {
		t.Helper()
		if list, ok := lookup(body, field).([]any); !ok || len(list) == 0 {
			t.Errorf("%s is not a non-empty list: %v", field, lookup(body, field))
		}
	}
}

// batchResponse expects a stream handler's DynamoDBEventResponse with
// that many batchItemFailures.
func batchResponse(failures int) expectation {
	return func(t *testing.T, r result) {
		t.Helper()
		if r.errorMessage != "" {
			t.Fatalf("function error %s: %s", r.errorType, r.errorMessage)
		}
		var resp struct {
			BatchItemFailures []struct {
				ItemIdentifier string `json:"itemIdentifier"`
			} `json:"batchItemFailures"`
		}
		if err := json.Unmarshal(r.raw, &resp); err != nil {
			t.Fatalf("answer %s is not a DynamoDBEventResponse: %v", r.raw, err)
		}
		if len(resp.BatchItemFailures) != failures {
			t.Errorf("batchItemFailures %v, want %d", resp.BatchItemFailures, failures)
		}
	}
}

// handledWithoutError expects a successful invocation with no answer.
func handledWithoutError() expectation {
	return func(t *testing.T, r result) {
		t.Helper()
		if r.errorMessage != "" {
			t.Fatalf("function error %s: %s", r.errorType, r.errorMessage)
		}
		if s := strings.TrimSpace(string(r.raw)); s != "null" && s != "" {
			t.Errorf("answer %s, want none (null)", s)
		}
	}
}

func functionError(message string) expectation {
	return func(t *testing.T, r result) {
		t.Helper()
		if r.errorMessage != message {
			t.Errorf("function error %q (%s), want %q; answer %s", r.errorMessage, r.errorType, message, r.raw)
		}
	}
}

// lookup follows a dotted path through JSON objects ("error.code").
func lookup(v any, path string) any {
	for _, key := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[key]
	}
	return v
}

// TestEventsUnderRuntimeInterfaceEmulator is what `sam local invoke -e`
// does for every events/ file: the function's bootstrap, built as Lambda
// runs it, behind the emulator's invoke API.
func TestEventsUnderRuntimeInterfaceEmulator(t *testing.T) {
	root, err := infra.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := infra.LoadTemplate(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tools, err := infra.FindTools()
	if err != nil {
		t.Fatal(err)
	}
	rieBin, err := tools.Binary("aws-lambda-rie")
	if err != nil {
		t.Fatal(err)
	}

	// Every file must name a function of the template and have an
	// expectation; every expectation must have its file.
	byDir := map[string]infra.Function{}
	for _, f := range tmpl.Functions() {
		byDir[filepath.Base(f.Dir)] = f
	}
	files, err := filepath.Glob(filepath.Join(root, "events", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no files under events/")
	}
	plan := map[string][]string{} // function dir → event files
	for _, path := range files {
		name := filepath.Base(path)
		dir, _, _ := strings.Cut(name, "-")
		if _, ok := byDir[dir]; !ok {
			t.Errorf("events/%s: no function of template.yaml lives in functions/%s (file names start with the function's directory)", name, dir)
			continue
		}
		if _, ok := expectations[name]; !ok {
			t.Errorf("events/%s has no expectation in this test: add one", name)
			continue
		}
		plan[dir] = append(plan[dir], path)
	}
	for name := range expectations {
		if _, err := os.Stat(filepath.Join(root, "events", name)); err != nil {
			t.Errorf("expectation for events/%s, which does not exist", name)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// The functions, built as Lambda runs them (custom runtime, no RPC),
	// for this machine's architecture so the emulator can run them.
	binDir := t.TempDir()
	started := time.Now()
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-ldflags=-s -w", "-o", binDir+string(filepath.Separator))
	for dir := range plan {
		build.Args = append(build.Args, "./"+byDir[dir].Dir)
	}
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the bootstraps: %v\n%s", err, out)
	}
	t.Logf("built %d bootstraps in %.1fs", len(plan), time.Since(started).Seconds())
	started = time.Now()

	// The services and data the events name: a local stack with a small
	// demo portfolio (the events use its first customers).
	stack, err := devstack.Start(t.Context(), devstack.Options{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatalf("starting the local stack: %v", err)
	}
	t.Cleanup(func() {
		if err := stack.Stop(); err != nil {
			t.Errorf("stopping the local stack: %v", err)
		}
	})
	date, _ := license.ParseDate(demoDate)
	if _, err := stack.LoadDemo(t.Context(), devstack.DemoOptions{Customers: 3, Users: 10, ReportDate: date}); err != nil {
		t.Fatalf("loading the demo portfolio: %v", err)
	}
	t.Logf("local stack with demo data in %.1fs", time.Since(started).Seconds())
	oidc := fakeIssuer(t)

	refs := map[string]string{}
	for typ, name := range map[string]string{"AWS::DynamoDB::Table": stack.Table, "AWS::S3::Bucket": stack.Bucket} {
		ids, err := tmpl.LogicalIDs(typ)
		if err != nil || len(ids) != 1 {
			t.Fatalf("resources of type %s: %v %v", typ, ids, err)
		}
		refs[ids[0]] = name
	}
	// The collection queue has no local SQS: an empty URL makes the
	// collect function use its in-process stand-in.
	queues, err := tmpl.LogicalIDs("AWS::SQS::Queue")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range queues {
		refs[id] = ""
	}

	dirs := make([]string, 0, len(plan))
	for dir := range plan {
		dirs = append(dirs, dir)
	}
	slices.Sort(dirs)
	for _, dir := range dirs {
		fn := byDir[dir]
		t.Run(dir, func(t *testing.T) {
			env, err := tmpl.ResolveEnvironment(fn, refs)
			if err != nil {
				t.Fatal(err)
			}
			env["AWS_REGION"] = infra.Region
			env["AWS_ACCESS_KEY_ID"] = stack.S3.AccessKey
			env["AWS_SECRET_ACCESS_KEY"] = stack.S3.SecretKey
			env["AWS_ENDPOINT_URL_DYNAMODB"] = stack.DynamoDBEndpoint
			env["AWS_ENDPOINT_URL_S3"] = stack.S3.Endpoint
			env["AWS_LAMBDA_FUNCTION_NAME"] = fn.LogicalID
			env["AWS_LAMBDA_FUNCTION_TIMEOUT"] = strconv.Itoa(int(fn.Timeout.Seconds()))
			env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = strconv.Itoa(fn.MemorySize)
			if _, ok := env["OIDC_ISSUER"]; ok {
				// The authorizer fetches the issuer's keys: from a local
				// stand-in, never from the internet.
				env["OIDC_ISSUER"] = oidc
			}
			emu := startEmulator(t, rieBin, filepath.Join(binDir, dir), env)
			for _, path := range plan[dir] {
				name := filepath.Base(path)
				t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
					payload, err := os.ReadFile(path)
					if err != nil {
						t.Fatal(err)
					}
					r := emu.invoke(t, payload)
					t.Logf("events/%s → %s", name, truncate(string(r.raw), 400))
					expectations[name](t, r)
				})
			}
		})
	}
}

// emulator is one aws-lambda-rie process serving one function.
type emulator struct {
	url    string
	cmd    *exec.Cmd
	output *syncBuffer
}

func startEmulator(t *testing.T, rieBin, bootstrap string, env map[string]string) *emulator {
	t.Helper()
	invokePort, apiPort := freePort(t), freePort(t)
	cmd := exec.Command(rieBin,
		"--runtime-interface-emulator-address", "127.0.0.1:"+strconv.Itoa(invokePort),
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(apiPort),
		bootstrap)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, killed with the test binary if that dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the emulator: %v", err)
	}
	e := &emulator{url: fmt.Sprintf("http://127.0.0.1:%d/2015-03-31/functions/function/invocations", invokePort), cmd: cmd, output: out}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(3 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			t.Logf("emulator output:\n%s", out.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", invokePort), time.Second)
		if err == nil {
			conn.Close()
			return e
		}
		select {
		case <-exited:
			t.Fatalf("the emulator exited while starting:\n%s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the emulator did not listen within 30 s:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// invoke posts an event as `sam local invoke` does and reads the answer:
// the function's response, or Lambda's error document for a function
// error.
func (e *emulator) invoke(t *testing.T, payload []byte) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("invoking: %v\nemulator output:\n%s", err, e.output.String())
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the emulator answered %s: %s", resp.Status, raw)
	}
	r := result{raw: raw}
	var doc map[string]any
	if json.Unmarshal(raw, &doc) != nil {
		return r
	}
	if msg, ok := doc["errorMessage"].(string); ok {
		r.errorMessage = msg
		r.errorType, _ = doc["errorType"].(string)
		return r
	}
	if code, ok := doc["statusCode"].(float64); ok {
		r.status = int(code)
		if body, ok := doc["body"].(string); ok && body != "" {
			_ = json.Unmarshal([]byte(body), &r.body)
		}
	}
	return r
}

// fakeIssuer serves an OIDC discovery document and the key that signed
// authorizer-token.json's JWT, so the authorizer checks the token for real
// (signature, then claims) without leaving the machine.
func fakeIssuer(t *testing.T) string {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			_ = json.NewEncoder(w).Encode(map[string]string{"issuer": srv.URL, "jwks_uri": srv.URL + "/keys"})
		case "/keys":
			_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
				"kty": "RSA", "use": "sig", "kid": eventsKeyID, "n": eventsKeyN, "e": "AQAB",
			}}})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// The public half of the RSA key that signed the JWT in
// authorizer-token.json (its private half was thrown away).
const (
	eventsKeyID = "li-events-2025"
	eventsKeyN  = "0w3Wr92IoGnsSzaJTO7yCXW0Pf394oikKkcDFLAtH_VBzv9Hji3bOkv669BW1ikvaX87t0bIWMVLWYVJ7OF1RM4MVaQ2iQ3tU_8oeJhyPZjFTFYUTgxgEUCmEsLfzRG6vv6rJKWJpFYoqvcJcfW1IftlkHFOG6T-kR0R2SI6hdoTGwAIg5fzN_KnDcj4-54yyNlLHXF569dZoov_B0mP-Xpu0Zi0ZdJSApvmtR6M35y-NQ6KtDR8J5WQLn3H1wp9hUCgKW2kB8eSolhcNtiuLVcVKC8WUmIgQgnFU3Mj1zCmVc9ekwDZSO3srdg6vWR_1WiX6GnVeO60VA6BozCbvw"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
