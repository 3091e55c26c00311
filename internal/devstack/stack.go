// Package devstack runs the whole system on one machine, as template.yaml
// describes it: DynamoDB Local and versitygw (through internal/devstack/infra),
// the table and the bucket, every function's handler hosted in this
// process, a gateway serving the template's API routes with local bearer
// tokens in place of the JWT authorizer, and the template's event sources
// (the table stream's consumers and the S3 upload trigger) feeding the
// functions the JSON events Lambda would.
//
// `make run` (cmd/devstack) starts it; integration tests and the benchmark
// harness start it too, and use WaitIdle to wait until every event source
// has caught up.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-xray-sdk-go/v2/strategy/ctxmissing"
	"github.com/aws/aws-xray-sdk-go/v2/xray"

	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
	"github.com/licenseinsights/licenseinsights/pkg/app"
	"github.com/licenseinsights/licenseinsights/pkg/awsenv"
	"github.com/licenseinsights/licenseinsights/pkg/config"
)

// Default names of the local table and bucket.
const (
	DefaultTableName  = "license-insights"
	DefaultBucketName = "license-insights-data"
)

// DemoPartnerTenantID is the partner's own Entra tenant id locally when
// neither PARTNER_TENANT_ID nor the template sets one, so that the demo
// portfolio's directory subscriptions owned by the partner count as "own".
const DemoPartnerTenantID = "0fa30596-9353-43b7-9a08-58f1e7624da0"

// Options configure Start. The zero value starts everything on free ports
// with the default token, the full registry and a temporary directory.
type Options struct {
	// APIAddr is where the API listens, "127.0.0.1:3000" for `make run`;
	// "" picks a free loopback port.
	APIAddr string
	// Tokens are the accepted bearer tokens; nil means DefaultTokens.
	Tokens []Token
	// Functions maps logical ids to handler constructors; nil means
	// app.Functions(), the constructors the functions' mains use.
	Functions map[string]awsenv.NewFunc
	// RequireAllFunctions makes a template function without a handler an
	// error; otherwise its routes answer 501 and a warning is logged.
	RequireAllFunctions bool
	// Getenv overrides the functions' configuration (the template's
	// environment, parameters at their defaults) variable by variable;
	// nil means os.Getenv. TABLE_NAME and BUCKET_NAME are always the
	// stack's own.
	Getenv func(string) string
	// Template is template.yaml's path; "" means the repository's.
	Template string
	// Dir holds the S3 data and the on-failure file; "" means a temporary
	// directory that Stop removes.
	Dir string
	// DynamoDBEndpoint uses a running DynamoDB Local instead of starting
	// one (tests share theirs); the table is created there under
	// TableName, which must then be unused.
	DynamoDBEndpoint string
	// DynamoDBJavaOptions go to DynamoDB Local's JVM (see
	// infra.DynamoDBOptions.JavaOptions); nil means its quick-start
	// defaults.
	DynamoDBJavaOptions []string
	TableName           string // "" means DefaultTableName
	BucketName          string // "" means DefaultBucketName
	// Log receives the stack's own log (requests, deliveries, failures);
	// nil discards it. ServiceLog receives DynamoDB Local's and
	// versitygw's output; nil discards it.
	Log        *slog.Logger
	ServiceLog io.Writer
	// StreamPoll is the stream consumers' pause when idle; 0 means 150 ms.
	StreamPoll time.Duration
	// RetryBackoff, when set, replaces the pauses between retries of
	// failed deliveries (tests make them 0).
	RetryBackoff func(attempt int) time.Duration
	// Web, when set, serves every path outside /v1 on the API's address
	// (the dashboard, pkg/web), as CloudFront does in front of the API in
	// AWS.
	Web http.Handler
}

// Stack is a running local system.
type Stack struct {
	APIURL           string // http://127.0.0.1:<port>
	DynamoDBEndpoint string
	S3               *infra.S3 // endpoint and credentials
	Table, Bucket    string
	Dir              string
	FailureFile      string // batches and events given up on, JSON lines
	Tokens           []Token
	// PartnerTenantID is the functions' PARTNER_TENANT_ID.
	PartnerTenantID string
	// Functions are the hosted functions by logical id.
	Functions map[string]*Function
	// Skipped lists the template's functions not hosted, with the reason.
	Skipped map[string]string
	// Timings of the start-up steps, in order.
	Timings []Timing

	env       *awsenv.Env
	gateway   *Gateway
	feeds     []*StreamFeed
	consumers []*StreamConsumer
	s3events  *S3Events
	log       *slog.Logger

	dynamo    *infra.DynamoDB // nil when the caller's
	api, hook *http.Server
	cancel    context.CancelFunc
	workers   sync.WaitGroup
	workerErr chan error
	removeDir bool
	// tableCreated: in a DynamoDB Local the caller runs, Stop deletes it.
	tableCreated bool
	tableClient  *dynamodb.Client
	stopOnce     sync.Once
	stopErr      error
}

// Timing is one measured start-up step.
type Timing struct {
	Step     string
	Duration time.Duration
}

// Start brings the stack up and returns once the API answers and every
// event source runs. On error, whatever was started is stopped.
func Start(ctx context.Context, opts Options) (_ *Stack, err error) {
	quietXRay()
	s := &Stack{log: opts.Log, Skipped: map[string]string{}, Functions: map[string]*Function{}, workerErr: make(chan error, 16)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	defer func() {
		if err != nil {
			_ = s.Stop()
		}
	}()
	step := s.timer()

	tmplPath := opts.Template
	if tmplPath == "" {
		root, err := infra.RepoRoot()
		if err != nil {
			return nil, err
		}
		tmplPath = filepath.Join(root, "template.yaml")
	}
	tmpl, err := infra.LoadTemplate(tmplPath)
	if err != nil {
		return nil, err
	}
	registry, err := checkRegistry(tmpl, opts, s.log)
	if err != nil {
		return nil, err
	}
	if s.Tokens = opts.Tokens; s.Tokens == nil {
		if s.Tokens, err = ParseTokens(""); err != nil {
			return nil, err
		}
	}
	s.Table, s.Bucket = cmp(opts.TableName, DefaultTableName), cmp(opts.BucketName, DefaultBucketName)
	if s.Dir = opts.Dir; s.Dir == "" {
		if s.Dir, err = os.MkdirTemp("", "license-insights-local-"); err != nil {
			return nil, fmt.Errorf("devstack: %w", err)
		}
		s.removeDir = true
	} else if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("devstack: %w", err)
	}
	s.FailureFile = filepath.Join(s.Dir, "on-failure.jsonl")

	// The services live until Stop, not until the caller's ctx ends; but
	// while starting, ctx's end (Ctrl-C) stops them.
	life, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	detach := context.AfterFunc(ctx, cancel)
	defer detach()

	// versitygw posts a test event to its webhook while starting, so the
	// receiver listens first; it forwards to the S3 event source once built.
	hookListener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("devstack: listening for S3 events: %w", err)
	}
	hookHandler := &switchHandler{}
	s.hook = &http.Server{Handler: hookHandler, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.hook.Serve(hookListener) }()

	var dynamoErr, s3Err error
	var wg sync.WaitGroup
	if opts.DynamoDBEndpoint == "" {
		wg.Go(func() {
			s.dynamo, dynamoErr = infra.StartDynamoDB(life, infra.DynamoDBOptions{Log: opts.ServiceLog, JavaOptions: opts.DynamoDBJavaOptions})
		})
	}
	wg.Go(func() {
		s.S3, s3Err = infra.StartS3With(life, infra.S3Options{
			Dir: filepath.Join(s.Dir, "s3"), EventWebhookURL: "http://" + hookListener.Addr().String() + "/", Log: opts.ServiceLog,
		})
	})
	wg.Wait()
	if err := errors.Join(dynamoErr, s3Err); err != nil {
		return nil, err
	}
	s.DynamoDBEndpoint = opts.DynamoDBEndpoint
	if s.dynamo != nil {
		s.DynamoDBEndpoint = s.dynamo.Endpoint
	}
	step("services (DynamoDB Local, versitygw)")

	dynamo := dynamodb.New(dynamodb.Options{
		Region: infra.Region, BaseEndpoint: aws.String(s.DynamoDBEndpoint),
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider("local", "local", "")),
	})
	if err := infra.CreateTable(ctx, dynamo, tmpl, s.Table); err != nil {
		return nil, err
	}
	s.tableCreated, s.tableClient = true, dynamo
	if err := infra.CreateBucket(ctx, s.S3.Client(), s.Bucket); err != nil {
		return nil, err
	}
	step("table and bucket from template.yaml")

	s.env = &awsenv.Env{DynamoDB: dynamo, S3: s.S3.Client(), Table: s.Table, Bucket: s.Bucket}
	refs, err := s.localRefs(tmpl)
	if err != nil {
		return nil, err
	}
	if err := s.hostFunctions(tmpl, registry, opts, refs); err != nil {
		return nil, err
	}
	step("functions")

	if s.gateway, err = NewGateway(tmpl.Routes(), s.Functions, s.Tokens, s.log.With("component", "gateway")); err != nil {
		return nil, err
	}
	apiAddr := cmp(opts.APIAddr, "127.0.0.1:0")
	apiListener, err := net.Listen("tcp", apiAddr)
	if err != nil {
		return nil, fmt.Errorf("devstack: the API cannot listen on %s: %w (set API_PORT to another port)", apiAddr, err)
	}
	s.APIURL = "http://" + apiListener.Addr().String()
	var handler http.Handler = s.gateway
	if opts.Web != nil {
		mux := http.NewServeMux()
		mux.Handle("/v1/", s.gateway)
		mux.Handle("/", opts.Web)
		handler = mux
	}
	s.api = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.api.Serve(apiListener) }()

	if err := s.startStreams(ctx, life, tmpl, dynamo, opts, refs); err != nil {
		return nil, err
	}
	if s.s3events, err = NewS3Events(tmpl.EventBridgeSources(), s.Functions, refs, S3EventsConfig{
		Bucket: s.Bucket, Client: s.S3.Client(), FailureFile: s.FailureFile,
		Log: s.log.With("component", "s3-events"), Retries: -1, Backoff: opts.RetryBackoff,
	}); err != nil {
		return nil, err
	}
	hookHandler.set(s.s3events.Webhook())
	s.run(life, "S3 events", s.s3events.Run)
	step("gateway and event sources")
	return s, nil
}

func cmp(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func (s *Stack) timer() func(string) {
	last := time.Now()
	return func(name string) {
		now := time.Now()
		s.Timings = append(s.Timings, Timing{Step: name, Duration: now.Sub(last)})
		last = now
	}
}

// localRefs maps the template's table and bucket logical ids to the local
// names, for !Ref in environments and event patterns.
func (s *Stack) localRefs(tmpl *infra.Template) (map[string]string, error) {
	refs := map[string]string{}
	for typ, name := range map[string]string{"AWS::DynamoDB::Table": s.Table, "AWS::S3::Bucket": s.Bucket} {
		ids, err := tmpl.LogicalIDs(typ)
		if err != nil {
			return nil, err
		}
		if len(ids) != 1 {
			return nil, fmt.Errorf("devstack: template.yaml has %d resources of type %s (%v); the local stack serves exactly one", len(ids), typ, ids)
		}
		refs[ids[0]] = name
	}
	// The collection queue is not served over SQS's API locally: an empty
	// COLLECT_QUEUE_URL makes the collect function hand each message to
	// its in-process stand-in (pkg/collect.LocalQueue), which delivers it
	// to the collector with the template's concurrency and redrive.
	queues, err := tmpl.LogicalIDs("AWS::SQS::Queue")
	if err != nil {
		return nil, err
	}
	for _, id := range queues {
		refs[id] = ""
	}
	return refs, nil
}

// hostFunctions builds the handler of every function that has an event
// the stack serves. The authorizer has none: the gateway's tokens stand
// in for it.
func (s *Stack) hostFunctions(tmpl *infra.Template, registry map[string]awsenv.NewFunc, opts Options, refs map[string]string) error {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	triggered := servedFunctions(tmpl)
	for _, f := range tmpl.Functions() {
		if !triggered[f.LogicalID] {
			s.Skipped[f.LogicalID] = "no API route or event source: the gateway's bearer tokens stand in for it"
			continue
		}
		newFunc, ok := registry[f.LogicalID]
		if !ok {
			s.Skipped[f.LogicalID] = "no constructor in pkg/app.Functions"
			continue
		}
		env, err := tmpl.ResolveEnvironment(f, refs)
		if err != nil {
			return err
		}
		if env["PARTNER_TENANT_ID"] == "" && getenv("PARTNER_TENANT_ID") == "" {
			env["PARTNER_TENANT_ID"] = DemoPartnerTenantID
		}
		lookup := func(name string) string {
			if name != "TABLE_NAME" && name != "BUCKET_NAME" {
				if v := getenv(name); v != "" {
					return v
				}
			}
			return env[name]
		}
		cfg, err := config.FromEnv(lookup)
		if err != nil {
			return fmt.Errorf("devstack: %s's configuration: %w", f.LogicalID, err)
		}
		s.PartnerTenantID = cfg.PartnerTenantID
		h, err := newFunc(s.env, cfg)
		if err != nil {
			return fmt.Errorf("devstack: building %s's handler: %w", f.LogicalID, err)
		}
		s.Functions[f.LogicalID] = &Function{LogicalID: f.LogicalID, Handler: h, Timeout: f.Timeout}
	}
	return nil
}

// servedFunctions are the functions an API route or an event source the
// stack serves reaches.
func servedFunctions(tmpl *infra.Template) map[string]bool {
	served := map[string]bool{}
	for _, r := range tmpl.Routes() {
		served[r.Function] = true
	}
	for _, src := range tmpl.StreamSources() {
		served[src.Function] = true
	}
	for _, src := range tmpl.EventBridgeSources() {
		served[src.Function] = true
	}
	return served
}

// checkRegistry compares the registry with the template before anything
// starts: an entry the template does not declare is an error (a stale
// registry), and so is a declared function without an entry when
// RequireAllFunctions is set; otherwise that one is a warning.
func checkRegistry(tmpl *infra.Template, opts Options, log *slog.Logger) (map[string]awsenv.NewFunc, error) {
	registry := opts.Functions
	if registry == nil {
		registry = app.Functions()
	}
	declared := map[string]bool{}
	var missing []string
	served := servedFunctions(tmpl)
	for _, f := range tmpl.Functions() {
		declared[f.LogicalID] = true
		// A function no served event reaches (the authorizer, whose part
		// the gateway's bearer tokens play) needs no constructor here.
		if _, ok := registry[f.LogicalID]; !ok && served[f.LogicalID] {
			missing = append(missing, f.LogicalID)
		}
	}
	var stale []string
	for id := range registry {
		if !declared[id] {
			stale = append(stale, id)
		}
	}
	if len(stale) > 0 {
		slices.Sort(stale)
		return nil, fmt.Errorf("devstack: the registry (pkg/app.Functions) has %s, which template.yaml does not declare", strings.Join(stale, ", "))
	}
	if len(missing) > 0 {
		if opts.RequireAllFunctions {
			return nil, fmt.Errorf("devstack: template.yaml declares %s, which pkg/app.Functions does not register", strings.Join(missing, ", "))
		}
		log.Warn("functions without a handler: their routes answer 501 and their events are not delivered", "functions", missing)
	}
	return registry, nil
}

// startStreams starts a consumer for every stream event source whose
// function is hosted.
func (s *Stack) startStreams(ctx, life context.Context, tmpl *infra.Template, dynamo *dynamodb.Client, opts Options, refs map[string]string) error {
	sources := tmpl.StreamSources()
	if len(sources) == 0 {
		return nil
	}
	desc, err := dynamo.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.Table)})
	if err != nil {
		return fmt.Errorf("devstack: describing %s: %w", s.Table, err)
	}
	streamARN := aws.ToString(desc.Table.LatestStreamArn)
	if streamARN == "" {
		return fmt.Errorf("devstack: table %s has no stream, but template.yaml has stream event sources", s.Table)
	}
	streams := dynamodbstreams.New(dynamodbstreams.Options{
		Region: infra.Region, BaseEndpoint: aws.String(s.DynamoDBEndpoint),
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider("local", "local", "")),
	})
	feed := NewStreamFeed(streams, streamARN, s.log.With("component", "stream"), opts.StreamPoll)
	for _, src := range sources {
		if src.Table != "" && refs[src.Table] != s.Table {
			return fmt.Errorf("devstack: %s.%s reads the stream of %s, which is not the template's table", src.Function, src.Event, src.Table)
		}
		fn := s.Functions[src.Function]
		if fn == nil {
			s.log.Warn("stream event source skipped: its function has no handler", "function", src.Function, "event", src.Event)
			continue
		}
		c, err := feed.Subscribe(src, fn, StreamConsumerConfig{
			FailureFile: s.FailureFile, Log: s.log.With("component", "stream"), Backoff: opts.RetryBackoff,
		})
		if err != nil {
			return err
		}
		s.consumers = append(s.consumers, c)
	}
	if len(s.consumers) == 0 {
		return nil
	}
	s.feeds = append(s.feeds, feed)
	s.run(life, "stream "+streamARN, feed.Run)
	for _, c := range s.consumers {
		s.run(life, c.Name(), c.Run)
	}
	return nil
}

// run starts an event source; an error other than the stack stopping is
// logged and kept for WaitIdle to report.
func (s *Stack) run(ctx context.Context, name string, fn func(context.Context) error) {
	s.workers.Go(func() {
		err := fn(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Error("event source stopped", "source", name, "error", err.Error())
			select {
			case s.workerErr <- fmt.Errorf("devstack: event source %s stopped: %w", name, err):
			default:
			}
		}
	})
}

// EventSources names the running event sources ("<function>.<event>").
func (s *Stack) EventSources() []string {
	var out []string
	for _, c := range s.consumers {
		out = append(out, c.Name())
	}
	if s.s3events != nil {
		out = append(out, s.s3events.Rules()...)
	}
	return out
}

// Env is the functions' AWS environment: clients for the local table and
// bucket (tests read and write through it).
func (s *Stack) Env() *awsenv.Env { return s.env }

// AddToken lets one more bearer token into the gateway.
func (s *Stack) AddToken(t Token) { s.gateway.AddToken(t) }

// WaitIdle returns once every stream consumer and the S3 trigger have
// handled everything written before the call, including what their own
// invocations wrote meanwhile (an upload ingested changes figures, whose
// stream records feed the roll-up): it repeats until one full pass over
// the sources sees no invocation.
func (s *Stack) WaitIdle(ctx context.Context) error {
	for {
		select {
		case err := <-s.workerErr:
			return err
		default:
		}
		before := s.invocations()
		for _, f := range s.feeds {
			if err := f.WaitIdle(ctx); err != nil {
				return fmt.Errorf("devstack: waiting for the table stream: %w", err)
			}
		}
		for _, c := range s.consumers {
			if err := c.WaitIdle(ctx); err != nil {
				return fmt.Errorf("devstack: waiting for %s: %w", c.Name(), err)
			}
		}
		if s.s3events != nil {
			if err := s.s3events.WaitIdle(ctx); err != nil {
				return fmt.Errorf("devstack: waiting for the S3 events: %w", err)
			}
		}
		if s.invocations() == before {
			return nil
		}
	}
}

func (s *Stack) invocations() int64 {
	var n int64
	for _, c := range s.consumers {
		n += c.Invocations()
	}
	if s.s3events != nil {
		n += s.s3events.Invocations()
	}
	return n
}

// Stop stops the gateway, the event sources, versitygw and DynamoDB Local
// (when the stack started it), waits for them to end, and removes a
// temporary directory. It is safe to call more than once.
func (s *Stack) Stop() error {
	s.stopOnce.Do(func() {
		var errs []error
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if s.api != nil {
			if err := s.api.Shutdown(shutdown); err != nil {
				errs = append(errs, fmt.Errorf("devstack: stopping the API: %w", err))
			}
		}
		if s.cancel != nil {
			s.cancel()
		}
		s.workers.Wait()
		if s.hook != nil {
			_ = s.hook.Shutdown(shutdown)
		}
		if s.S3 != nil {
			if err := s.S3.Stop(); err != nil {
				errs = append(errs, err)
			}
		}
		if s.dynamo != nil {
			if err := s.dynamo.Stop(); err != nil {
				errs = append(errs, err)
			}
		} else if s.tableCreated {
			if _, err := s.tableClient.DeleteTable(shutdown, &dynamodb.DeleteTableInput{TableName: aws.String(s.Table)}); err != nil {
				errs = append(errs, fmt.Errorf("devstack: deleting table %s: %w", s.Table, err))
			}
		}
		if s.removeDir && s.Dir != "" {
			if err := os.RemoveAll(s.Dir); err != nil {
				errs = append(errs, err)
			}
		}
		s.stopErr = errors.Join(errs...)
	})
	return s.stopErr
}

// switchHandler serves 204 until its real handler is set: versitygw's
// start-up test event arrives before the S3 event source exists.
type switchHandler struct {
	mu sync.RWMutex
	h  http.Handler
}

func (sw *switchHandler) set(h http.Handler) {
	sw.mu.Lock()
	sw.h = h
	sw.mu.Unlock()
}

func (sw *switchHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw.mu.RLock()
	h := sw.h
	sw.mu.RUnlock()
	if h == nil {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h.ServeHTTP(w, r)
}

// quietXRay stops the X-Ray SDK from logging an error for every traced
// step: outside Lambda there is no segment to attach subsegments to.
// (pkg/observe sets AWS_XRAY_CONTEXT_MISSING for this, but the SDK has read
// its configuration before that package's init runs.)
func quietXRay() {
	_ = xray.Configure(xray.Config{ContextMissingStrategy: ctxmissing.NewDefaultIgnoreErrorStrategy()})
}
