package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
	"github.com/licenseinsights/licenseinsights/pkg/api"
	"github.com/licenseinsights/licenseinsights/pkg/observe"
	"github.com/licenseinsights/licenseinsights/pkg/web"
)

// Environment variables of `make run`: README.md ("The two commands")'s, and two that size the
// demo portfolio.
const (
	APIPortEnv       = "API_PORT"       // default 3000
	DemoDataEnv      = "DEMO_DATA"      // "0" starts without demo data
	DemoCustomersEnv = "DEMO_CUSTOMERS" // default 40
	DemoUsersEnv     = "DEMO_USERS"     // mean users per customer, default 100
)

// Demo portfolio defaults for `make run`. DynamoDB Local writes one item at
// a time behind one lock, so a start's cost is mostly the demo users: 40
// customers of about 100 users (4,261 users with seed 1) keep a restart
// under 20 s on a two-core machine; DEMO_USERS=150 makes 6,392.
const (
	defaultDemoCustomers = 40
	defaultDemoUsers     = 100
)

// Main is `make run`: it starts the stack on API_PORT with LOCAL_API_TOKENS,
// loads the demo portfolio unless DEMO_DATA=0, prints where everything
// listens, and on SIGINT or SIGTERM stops everything it started. It returns
// the process's exit code.
func Main(getenv func(string) string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, getenv, stdout, stderr); err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(stderr, "devstack: interrupted; everything started has been stopped")
			return 130
		}
		fmt.Fprintln(stderr, "error:", err)
		if errors.Is(err, infra.ErrToolsMissing) {
			fmt.Fprintln(stderr, "devstack: run `make tools` (or use `make run`, which does)")
		}
		return 1
	}
	return 0
}

func run(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	began := time.Now()
	port, err := intEnv(getenv, APIPortEnv, 3000, 1, 65535)
	if err != nil {
		return err
	}
	tokens, err := ParseTokens(getenv(TokensEnv))
	if err != nil {
		return err
	}
	demo := getenv(DemoDataEnv) != "0"
	customers, err := intEnv(getenv, DemoCustomersEnv, defaultDemoCustomers, 1, 10000)
	if err != nil {
		return err
	}
	users, err := intEnv(getenv, DemoUsersEnv, defaultDemoUsers, 1, 100000)
	if err != nil {
		return err
	}

	dir, err := os.MkdirTemp("", "license-insights-local-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	logPath := filepath.Join(dir, "stack.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	// The handlers log JSON lines and EMF metrics, as in Lambda; here they
	// go to the log file, and only the stack's warnings reach the terminal.
	observe.Setup("devstack", logFile)
	observe.SetMetricsOutput(logFile)
	log := slog.New(&teeHandler{
		file:    slog.NewJSONHandler(logFile, nil),
		console: slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}),
	})

	partner := getenv("PARTNER_TENANT_ID")
	if partner == "" {
		partner = DemoPartnerTenantID
	}
	ms, err := connectMicrosoft(getenv, dir, demoPortfolio(customers, users, partner))
	if err != nil {
		return err
	}
	defer ms.close()
	getenv = ms.getenv

	fmt.Fprintln(stdout, "License Insights — local stack (template.yaml, no AWS)")
	fmt.Fprintln(stdout, "  starting DynamoDB Local and versitygw, creating the table and the bucket…")
	s, err := Start(ctx, Options{
		APIAddr:             "127.0.0.1:" + strconv.Itoa(port),
		Tokens:              tokens,
		RequireAllFunctions: true,
		Getenv:              getenv,
		Dir:                 dir,
		Log:                 log,
		ServiceLog:          logFile,
		Web:                 dashboard(),
	})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(stdout, "\nstopping: gateway, event sources, versitygw, DynamoDB Local…")
		if err := s.Stop(); err != nil {
			fmt.Fprintln(stderr, "devstack:", err)
		}
		fmt.Fprintln(stdout, "stopped.")
	}()
	for _, t := range s.Timings {
		fmt.Fprintf(stdout, "  %-40s %6.1fs\n", t.Step, t.Duration.Seconds())
	}

	if demo {
		// The demo portfolio arrives as a partner's would: one collection
		// run from Microsoft (the emulator, or your endpoints), each
		// document written under uploads/ and taken by the ingest.
		seeded := time.Now()
		fmt.Fprintln(stdout, "  collecting the demo portfolio from Microsoft (POST /v1/collections)…")
		progress := newProgress(stdout, "  customers collected")
		run, err := s.Collect(ctx, 30*time.Minute, progress.update)
		progress.finish()
		if err != nil {
			return fmt.Errorf("collecting the demo data: %w", err)
		}
		fmt.Fprintf(stdout, "  %-40s %6.1fs\n", fmt.Sprintf("collection %s: %s", run.CollectionID, run.Status), time.Since(seeded).Seconds())
		fmt.Fprintf(stdout, "    customers: %d succeeded, %d failed (GET /v1/collections/%s lists each outcome)\n", run.Counts["succeeded"], run.Counts["failed"], run.CollectionID)
		if run.Reason != nil {
			fmt.Fprintf(stdout, "    %s\n", *run.Reason)
		}
	} else {
		fmt.Fprintf(stdout, "  no demo data and no start-up collection (%s=0)\n", DemoDataEnv)
	}

	fmt.Fprintf(stdout, "\nready in %.1fs\n\n", time.Since(began).Seconds())
	printEndpoints(stdout, s, ms, logPath)
	<-ctx.Done()
	return nil
}

func printEndpoints(w io.Writer, s *Stack, ms *microsoft, logPath string) {
	row := func(label, format string, args ...any) {
		fmt.Fprintf(w, "  %-16s %s\n", label, fmt.Sprintf(format, args...))
	}
	row("API", "%s  (every route of template.yaml)", s.APIURL)
	row("dashboard", "%s/  (sign in with a token below)", s.APIURL)
	if ms != nil && ms.emulator != nil {
		row("Microsoft", "%s  emulator: login, Graph, Partner Center (certificate %s)", ms.emulator.URL, ms.certFile)
	} else if ms != nil {
		row("Microsoft", "%s, %s, %s  (from the environment)", ms.getenv("LOGIN_BASE_URL"), ms.getenv("GRAPH_BASE_URL"), ms.getenv("PARTNER_CENTER_BASE_URL"))
	}
	for _, t := range s.Tokens {
		role := "writer"
		if t.Role == api.RoleReader {
			role = "reader"
		}
		row("token", "Authorization: Bearer %s  → tenant %s, %s", t.Name, t.Tenant.ID(), role)
	}
	row("try", "curl -H 'Authorization: Bearer %s' %s/v1/portfolio", s.Tokens[0].Name, s.APIURL)
	row("DynamoDB Local", "%s  table %s  (region %s, any access key)", s.DynamoDBEndpoint, s.Table, infra.Region)
	row("S3 (versitygw)", "%s  bucket %s  (path-style, signatures checked)", s.S3.Endpoint, s.Bucket)
	row("", "AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_REGION=%s", s.S3.AccessKey, s.S3.SecretKey, s.S3.Region)
	sources := s.EventSources()
	row("event sources", "%s", strings.Join(sources, ", "))
	var skipped []string
	for id, why := range s.Skipped {
		if id == "CollectorFunction" {
			// Its SQS queue is not served locally: CollectFunction hands
			// each message to the same collector in-process.
			why = "its queue's messages are collected in-process by CollectFunction (pkg/collect.LocalQueue)"
		}
		skipped = append(skipped, id+" ("+why+")")
	}
	slices.Sort(skipped)
	for _, sk := range skipped {
		row("not hosted", "%s", sk)
	}
	row("logs", "%s", logPath)
	row("on-failure", "%s", s.FailureFile)
	fmt.Fprintln(w, "\nCtrl-C stops everything.")
}

// progress shows "label [=====>    ] 12/48" on a terminal (rewriting one
// line) and a line per tenth elsewhere (CI logs).
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	label    string
	terminal bool
	lastTen  int
	started  bool
}

func newProgress(w io.Writer, label string) *progress {
	p := &progress{w: w, label: label, lastTen: -1}
	if f, ok := w.(*os.File); ok {
		if info, err := f.Stat(); err == nil && info.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

func (p *progress) update(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.started = true
	if p.terminal {
		const width = 30
		filled := width * done / max(total, 1)
		fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d", p.label, strings.Repeat("=", filled), strings.Repeat(" ", width-filled), done, total)
		return
	}
	if ten := 10 * done / max(total, 1); ten != p.lastTen {
		p.lastTen = ten
		fmt.Fprintf(p.w, "%s: %d/%d\n", p.label, done, total)
	}
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.terminal && p.started {
		fmt.Fprintln(p.w)
	}
}

// teeHandler sends every record to the log file and those at the
// console's level to the terminal.
type teeHandler struct {
	file, console slog.Handler
}

func (t *teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return t.file.Enabled(ctx, l) || t.console.Enabled(ctx, l)
}

func (t *teeHandler) Handle(ctx context.Context, r slog.Record) error {
	var errs []error
	if t.file.Enabled(ctx, r.Level) {
		errs = append(errs, t.file.Handle(ctx, r.Clone()))
	}
	if t.console.Enabled(ctx, r.Level) {
		errs = append(errs, t.console.Handle(ctx, r.Clone()))
	}
	return errors.Join(errs...)
}

func (t *teeHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &teeHandler{file: t.file.WithAttrs(attrs), console: t.console.WithAttrs(attrs)}
}

func (t *teeHandler) WithGroup(name string) slog.Handler {
	return &teeHandler{file: t.file.WithGroup(name), console: t.console.WithGroup(name)}
}

// intEnv reads a whole number in [lo, hi] from the environment.
func intEnv(getenv func(string) string, name string, def, lo, hi int) (int, error) {
	s := getenv(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s=%q: want a whole number from %d to %d", name, s, lo, hi)
	}
	return n, nil
}

// dashboard serves the built dashboard (web/dist) with a local sign-in:
// a token of LOCAL_API_TOKENS typed into the page.
func dashboard() http.Handler {
	root, err := infra.RepoRoot()
	if err != nil {
		root = "."
	}
	return web.Handler(web.Dir(root), web.Config{Auth: "local"})
}
