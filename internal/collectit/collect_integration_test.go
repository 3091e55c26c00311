package collectit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/licenseinsights/licenseinsights/internal/devstack/devstacktest"
	"github.com/licenseinsights/licenseinsights/internal/msemulator"
	"github.com/licenseinsights/licenseinsights/pkg/api/reports"
	"github.com/licenseinsights/licenseinsights/pkg/app"
	"github.com/licenseinsights/licenseinsights/pkg/blob"
	"github.com/licenseinsights/licenseinsights/pkg/collect"
	"github.com/licenseinsights/licenseinsights/pkg/config"
	"github.com/licenseinsights/licenseinsights/pkg/ingest"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/portfoliogen"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

func TestMain(m *testing.M) { devstacktest.Main(m) }

const (
	clientID = "6f1d3c0a-1b2c-4d5e-8f90-a1b2c3d4e5f6"
	secret   = "collect~secret"
)

type world struct {
	emu    *msemulator.Server
	cfg    portfoliogen.Config
	store  *store.Store
	runner *collect.Runner
	ingest *reports.Handler
	queue  *memQueue
	bucket string
	s3     *s3.Client
	dynamo *dynamodb.Client
	table  string
}

// memQueue keeps what the starter sends; the test delivers it, as SQS
// would, to the collector (Runner.Handle) with a few workers.
type memQueue struct {
	mu   sync.Mutex
	msgs []collect.Message
}

func (q *memQueue) Send(_ context.Context, m []collect.Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.msgs = append(q.msgs, m...)
	return nil
}

func (q *memQueue) take() []collect.Message {
	q.mu.Lock()
	defer q.mu.Unlock()
	m := q.msgs
	q.msgs = nil
	return m
}

func newWorld(t *testing.T, customers, users, pageSize int) *world {
	t.Helper()
	d, _ := license.ParseDate(time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02"))
	cfg := portfoliogen.Config{Seed: 1515, Customers: customers, Users: users, ReportDate: d}
	emu, err := msemulator.Start(msemulator.Config{Portfolio: cfg, ClientID: clientID, ClientSecret: secret, PageSize: pageSize}, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	db, table := devstacktest.Table(t)
	s3c, bucket := devstacktest.Bucket(t)
	appCfg := config.Default()
	appCfg.PartnerTenantID = emu.PartnerTenantID()
	// The IngestFunction's handler as pkg/app.Ingest builds it.
	st := store.New(db, table)
	h := reports.New(ingest.New(st, app.IngestConfig(appCfg)), st, blob.New(s3c, bucket), appCfg)
	tokens, err := collect.NewTokens(emu.URL, clientID, secret, emu.Client())
	if err != nil {
		t.Fatal(err)
	}
	client, err := collect.New(collect.Config{
		Endpoints: collect.Endpoints{Login: emu.URL, Graph: emu.URL, PartnerCenter: emu.URL},
		Tokens:    tokens, PartnerTenantID: emu.PartnerTenantID(), HTTPClient: emu.Client(),
		// Retry-After is honoured as sent; the tests send 1 s.
		Retry: collect.Retry{MaxAttempts: 5, BaseDelay: 10 * time.Millisecond, MaxRetryAfter: 2 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	q := &memQueue{}
	w := &world{emu: emu, cfg: cfg, store: st, ingest: h, queue: q, bucket: bucket, s3: s3c, dynamo: db, table: table,
		runner: &collect.Runner{Store: st, Blob: blob.New(s3c, bucket), Source: client, Queue: q, IngestWait: 2 * time.Minute, Poll: 50 * time.Millisecond}}
	w.pumpUploads(t)
	return w
}

// pumpUploads stands in for S3's EventBridge notification: every new
// object under uploads/ becomes the "Object Created" event the ingest
// function receives.
func (w *world) pumpUploads(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		infra.FeedNewObjects(ctx, w.s3, w.bucket, blob.UploadsPrefix, 4, 50*time.Millisecond, func(ctx context.Context, key string) {
			detail, _ := json.Marshal(map[string]any{"bucket": map[string]any{"name": w.bucket}, "object": map[string]any{"key": key}})
			if err := w.ingest.ObjectCreated(ctx, events.EventBridgeEvent{DetailType: "Object Created", Source: "aws.s3", Detail: detail}); err != nil && ctx.Err() == nil {
				t.Errorf("ingest of %s: %v", key, err)
			}
		})
	}()
}

// deliver hands every queued message to the collector, workers at once,
// and returns the messages delivered.
func (w *world) deliver(t *testing.T, workers int) []collect.Message {
	t.Helper()
	msgs := w.queue.take()
	var wg sync.WaitGroup
	ch := make(chan collect.Message)
	for range workers {
		wg.Go(func() {
			for m := range ch {
				if err := w.runner.Handle(t.Context(), m); err != nil {
					t.Errorf("collect %s: %v", m.CustomerID, err)
				}
			}
		})
	}
	for _, m := range msgs {
		ch <- m
	}
	close(ch)
	wg.Wait()
	return msgs
}

func tenant(t *testing.T, id string) license.Tenant {
	t.Helper()
	tn, err := license.NewTenant(id)
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

func outcomes(t *testing.T, w *world, tn license.Tenant, runID string) map[string]store.CollectOutcome {
	t.Helper()
	out := map[string]store.CollectOutcome{}
	after := ""
	for pages := 0; ; pages++ {
		page, next, err := w.store.CollectOutcomes(t.Context(), tn, runID, 7, after)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page {
			out[o.CustomerID] = o
		}
		if next == "" {
			return out
		}
		after = next
	}
}

// postDirect ingests the generated documents of customer c for tenant tn
// as a partner would POST them (the same ingest service, no connector).
func (w *world) postDirect(t *testing.T, tn license.Tenant, c portfoliogen.CustomerSpec) {
	t.Helper()
	// Graph's organization answer as a partner would save it (the shape of
	// GET /organization: a value array with the tenant's id, display name
	// and verified domains), written here, not by the emulator.
	org := fmt.Sprintf(`{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#organization","value":[{"id":%q,"displayName":%q,"verifiedDomains":[{"name":%q,"isDefault":true,"isInitial":false,"type":"Managed"}]}]}`, c.TenantID, c.Name, c.Domain)
	if status, body := w.post(t, tn, c.TenantID, "graph-organization", org); status != 200 {
		t.Fatalf("direct POST of graph-organization for %s: %d %s", c.TenantID, status, body)
	}
	for _, kind := range []portfoliogen.Kind{portfoliogen.KindGraphSubscribedSkus, portfoliogen.KindGraphDirectorySubscriptions, portfoliogen.KindGraphActiveUserDetail, portfoliogen.KindPartnerCenterSubscriptions} {
		var b bytes.Buffer
		if err := portfoliogen.Write(&b, kind, w.cfg, c); err != nil {
			t.Fatal(err)
		}
		status, body := w.post(t, tn, c.TenantID, string(kind), b.String())
		if status != 200 {
			t.Fatalf("direct POST of %s for %s: %d %s", kind, c.TenantID, status, body)
		}
	}
	// The Copilot usage report, after the users, as the collector sends
	// it: only a customer holding Copilot seats has one.
	if portfoliogen.HasCopilot(w.cfg, c) {
		var b bytes.Buffer
		if err := portfoliogen.WriteCopilotUsage(&b, w.cfg, c); err != nil {
			t.Fatal(err)
		}
		if status, body := w.post(t, tn, c.TenantID, string(portfoliogen.KindGraphCopilotUsage), b.String()); status != 200 {
			t.Fatalf("direct POST of the Copilot report for %s: %d %s", c.TenantID, status, body)
		}
	}
}

func (w *world) post(t *testing.T, tn license.Tenant, customer, kind, body string) (int, string) {
	t.Helper()
	ev := events.APIGatewayProxyRequest{
		Resource: "/v1/customers/{customerId}/reports", Path: "/v1/customers/" + customer + "/reports", HTTPMethod: "POST",
		PathParameters: map[string]string{"customerId": customer}, QueryStringParameters: map[string]string{"kind": kind}, Body: body,
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "t", Authorizer: map[string]any{"tenant": tn.ID(), "role": "writer"}},
	}
	payload, _ := json.Marshal(ev)
	out, err := w.ingest.Invoke(t.Context(), payload)
	if err != nil {
		t.Fatal(err)
	}
	r := out.(events.APIGatewayProxyResponse)
	return r.StatusCode, r.Body
}

// TestRunOverFiftyCustomersEqualsDirectIngest: a run over 50 customers
// (Partner Center's list in 25 pages of 2; directory subscriptions in
// pages of 2) ends with every customer's figures equal to those of the
// same generated documents POSTed directly for another tenant, and a
// second run the same day finds every document unchanged.
func TestRunOverFiftyCustomersEqualsDirectIngest(t *testing.T) {
	w := newWorld(t, 50, 8, 2)
	// Partner Center pages are asked 500 at a time and answered PageSize
	// (2) at a time: 50 customers are 25 pages.
	collected, direct := tenant(t, "collected"), tenant(t, "direct")
	run, err := w.runner.Start(t.Context(), collected, "api", nil)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != store.RunRunning || run.Counts[store.CollectPending] != 50 {
		t.Fatalf("started run: %+v, want running with 50 pending", run)
	}
	msgs := w.deliver(t, 4)
	if len(msgs) != 50 {
		t.Fatalf("%d messages queued, want one per customer (50)", len(msgs))
	}
	got, err := w.store.GetCollection(t.Context(), collected, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.RunSucceeded || got.Counts[store.CollectSucceeded] != 50 || got.Counts[store.CollectPending] != 0 || got.Counts[store.CollectRunning] != 0 || got.FinishedAt == nil {
		for _, o := range outcomes(t, w, collected, run.ID) {
			if o.State != store.CollectSucceeded {
				t.Errorf("%s: %s %s %v", o.CustomerID, o.Code, o.Message, o.Problems)
			}
		}
		t.Fatalf("finished run: %+v, want succeeded with 50 succeeded", got)
	}
	outs := outcomes(t, w, collected, run.ID)
	copilotCustomers := 0
	for _, c := range w.emu.Customers() {
		o := outs[c.TenantID]
		// organization, subscribedSkus, directory subscriptions, the
		// activity report and Partner Center's subscriptions: 5; a
		// customer holding Copilot seats also has the Copilot usage report
		// (docs/definitions.md#collection-from-microsoft): 6.
		want := 5
		hasCopilot := portfoliogen.HasCopilot(w.cfg, c)
		if hasCopilot {
			want, copilotCustomers = 6, copilotCustomers+1
		}
		if o.State != store.CollectSucceeded || o.Name != c.Name || len(o.Documents) != want || o.Message != "" {
			t.Errorf("%s: %+v, want succeeded, named %q, %d documents, no message", c.TenantID, o, c.Name, want)
			continue
		}
		if hasCopilot && o.Documents[4].Kind != string(portfoliogen.KindGraphCopilotUsage) {
			t.Errorf("%s: document 5 is %s, want the Copilot report right after the users", c.TenantID, o.Documents[4].Kind)
		}
		w.postDirect(t, direct, c)
		a, err := w.store.Figures(t.Context(), collected, c.TenantID)
		if err != nil {
			t.Fatal(err)
		}
		b, err := w.store.Figures(t.Context(), direct, c.TenantID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a.Figures, b.Figures) || a.Users != b.Users {
			t.Errorf("%s: collected figures differ from the direct ones\ncollected %+v\ndirect    %+v", c.TenantID, a.Figures, b.Figures)
		}
		// The copilot block (compared whole above) is there, from the
		// report: dated by it, with the v2 CSV's active days.
		if cp := a.Figures.Copilot; hasCopilot && (cp == nil || !cp.HasReport || cp.ReportDate != w.cfg.ReportDate || cp.ActiveDays == nil || cp.Assigned == 0) {
			t.Errorf("%s: copilot block %+v, want one from the report of %s with active days", c.TenantID, cp, w.cfg.ReportDate)
		} else if !hasCopilot && cp != nil {
			t.Errorf("%s holds no Copilot seats but has a copilot block %+v", c.TenantID, cp)
		}
		// dataFreshness: collected by this run, concealment as the
		// tenant's report settings say, four sources of the report date.
		f, err := w.store.Freshness(t.Context(), collected, c.TenantID, []string{"snapshot", "graph-subscribed-skus", "graph-active-user-detail", "graph-directory-subscriptions", "partner-center-subscriptions"})
		if err != nil {
			t.Fatal(err)
		}
		if f.LastCollectedAt == nil || f.CollectionID != run.ID || f.ConcealedNames == nil || *f.ConcealedNames != c.Concealed || len(f.Sources) != 4 {
			t.Errorf("%s: freshness %+v, want collected by %s, concealed %v, 4 sources", c.TenantID, f, run.ID, c.Concealed)
		}
		// Only the report is dated by Microsoft (its refresh date); the
		// subscription lists are the state when fetched, dated by their
		// acceptance alone.
		for _, src := range f.Sources {
			want := license.NoDate
			if src.Kind == "graph-active-user-detail" {
				want = w.cfg.ReportDate
			}
			if src.ReportDate != want || src.AcceptedAt.IsZero() {
				t.Errorf("%s: %s report date %s accepted %s, want %s and a time", c.TenantID, src.Kind, src.ReportDate, src.AcceptedAt, want)
			}
		}
	}
	// The generator gives Copilot seats to about a third of the customers
	// with a suite of 5+ users: the run must have covered some, and asked
	// the Copilot report of exactly those.
	if copilotCustomers == 0 {
		t.Fatalf("no generated customer holds Copilot seats: the test proves nothing about the Copilot report")
	}
	var pcPages, copilotAsked int
	for _, r := range w.emu.Requests() {
		if strings.HasPrefix(r.Path, "/v1.0/copilot/reports/") {
			copilotAsked++
		}
		if strings.HasPrefix(r.Path, "/v1/customers?") {
			pcPages++
		}
	}
	if copilotAsked != copilotCustomers {
		t.Errorf("the Copilot report was asked %d times, want once per Copilot customer (%d)", copilotAsked, copilotCustomers)
	}
	if pcPages != 25 {
		t.Errorf("%d Partner Center customer pages, want 25 (50 customers, 2 a page)", pcPages)
	}

	// A second run the same day: every document the ingest already holds.
	run2, err := w.runner.Start(t.Context(), collected, "api", nil)
	if err != nil {
		t.Fatal(err)
	}
	w.deliver(t, 4)
	for id, o := range outcomes(t, w, collected, run2.ID) {
		for _, d := range o.Documents {
			if d.Status != "unchanged" {
				t.Errorf("second run, %s %s: %q, want unchanged", id, d.Kind, d.Status)
			}
		}
	}
}

// TestFailuresAreOutcomesAndRedeliveryCountsNothingTwice: one run over
// six customers where one is not consented, one throttles twice (then
// succeeds), one answers 503 twice (then succeeds) and one serves a report
// the ingest refuses; every message is then delivered a second time.
func TestFailuresAreOutcomesAndRedeliveryCountsNothingTwice(t *testing.T) {
	w := newWorld(t, 6, 5, 100)
	cs := w.emu.Customers()
	w.emu.Unconsent(cs[0].TenantID)
	w.emu.Throttle(cs[1].TenantID, 2, 1)
	w.emu.Unavailable(cs[2].TenantID, 2)
	w.emu.BreakReport(cs[3].TenantID, true)
	tn := tenant(t, "acme")
	var ids []string
	for _, c := range cs {
		ids = append(ids, strings.ToUpper(c.TenantID)) // as a person may paste them
	}
	ids = append(ids, cs[5].TenantID) // twice in one run: collected once
	run, err := w.runner.Start(t.Context(), tn, "api", ids)
	if err != nil {
		t.Fatal(err)
	}
	msgs := w.deliver(t, 3)
	if len(msgs) != 6 {
		t.Fatalf("%d messages, want 6 (the duplicate id collapses)", len(msgs))
	}
	before := map[string]int64{}
	for _, c := range cs[1:] {
		if c == cs[3] {
			continue
		}
		f, err := w.store.Figures(t.Context(), tn, c.TenantID)
		if err != nil {
			t.Fatalf("%s: %v", c.TenantID, err)
		}
		before[c.TenantID] = f.Version
	}
	// Redelivery of every message: nothing collected or counted again.
	w.queue.Send(t.Context(), msgs)
	w.deliver(t, 3)

	got, err := w.store.GetCollection(t.Context(), tn, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{store.CollectPending: 0, store.CollectRunning: 0, store.CollectSucceeded: 4, store.CollectFailed: 2, store.CollectSkipped: 0}
	if got.Status != store.RunSucceeded || !reflect.DeepEqual(got.Counts, want) {
		t.Fatalf("run %+v, want succeeded with counts %v", got, want)
	}
	outs := outcomes(t, w, tn, run.ID)
	if o := outs[cs[0].TenantID]; o.State != store.CollectFailed || o.Code != string(collect.CodeNotConsented) || !strings.Contains(o.Message, "consent") || o.Attempts != 1 {
		t.Errorf("unconsented: %+v", o)
	}
	if o := outs[cs[3].TenantID]; o.State != store.CollectFailed || o.Code != string(collect.CodeRejected) || len(o.Problems) == 0 {
		t.Errorf("broken report: %+v, want rejected with its problems", o)
	} else if p := fmt.Sprint(o.Problems[0]); !strings.Contains(p, "line") {
		t.Errorf("the first problem %s does not name its line", p)
	}
	for _, c := range []portfoliogen.CustomerSpec{cs[1], cs[2], cs[4], cs[5]} {
		if o := outs[c.TenantID]; o.State != store.CollectSucceeded || o.Attempts != 1 {
			t.Errorf("%s: %+v, want succeeded in one attempt", c.TenantID, o)
		}
		f, err := w.store.Figures(t.Context(), tn, c.TenantID)
		if err != nil || f.Version != before[c.TenantID] {
			t.Errorf("%s: version %v after redelivery, want %d (%v)", c.TenantID, f, before[c.TenantID], err)
		}
	}
	var throttled, unavailable int
	for _, r := range w.emu.Requests() {
		switch {
		case r.Status == 429 && r.Tenant == cs[1].TenantID:
			throttled++
		case r.Status == 503 && r.Tenant == cs[2].TenantID:
			unavailable++
		}
	}
	if throttled != 2 || unavailable != 2 {
		t.Errorf("%d 429s and %d 503s answered, want 2 and 2", throttled, unavailable)
	}
}

// TestCopilotReportRefusedLeavesTheCustomerSucceeded: Graph answers 403 to
// a Copilot customer's usage report. The customer still succeeds with its
// five other documents, its outcome's message says the report was not
// collected and what to grant, and its copilot block has the seats (from
// the subscriptions and users) but no report. A customer without Copilot
// in the same run is never asked for the report.
func TestCopilotReportRefusedLeavesTheCustomerSucceeded(t *testing.T) {
	w := newWorld(t, 12, 8, 100)
	var with, without *portfoliogen.CustomerSpec
	for _, c := range w.emu.Customers() {
		switch {
		case portfoliogen.HasCopilot(w.cfg, c) && with == nil:
			with = &c
		case !portfoliogen.HasCopilot(w.cfg, c) && without == nil:
			without = &c
		}
	}
	if with == nil || without == nil {
		t.Fatalf("the generated portfolio needs a customer with Copilot seats and one without (%v, %v)", with, without)
	}
	w.emu.ForbidCopilotReport(with.TenantID)
	tn := tenant(t, "acme")
	run, err := w.runner.Start(t.Context(), tn, "api", []string{with.TenantID, without.TenantID})
	if err != nil {
		t.Fatal(err)
	}
	w.deliver(t, 2)
	got, err := w.store.GetCollection(t.Context(), tn, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.RunSucceeded || got.Counts[store.CollectSucceeded] != 2 {
		t.Fatalf("run %+v, want succeeded with 2 customers succeeded", got)
	}
	outs := outcomes(t, w, tn, run.ID)
	o := outs[with.TenantID]
	var kinds []string
	for _, d := range o.Documents {
		kinds = append(kinds, d.Kind)
	}
	want := []string{"graph-organization", "graph-subscribed-skus", "graph-directory-subscriptions", "graph-active-user-detail", "partner-center-subscriptions"}
	if o.State != store.CollectSucceeded || o.Code != "" || !slices.Equal(kinds, want) {
		t.Errorf("Copilot customer refused the report: %+v (kinds %v), want succeeded with %v", o, kinds, want)
	}
	if !strings.Contains(o.Message, "Copilot usage report was not collected") || !strings.Contains(o.Message, "Reports.Read.All") {
		t.Errorf("message %q, want it to say the Copilot report was not collected and to grant Reports.Read.All", o.Message)
	}
	f, err := w.store.Figures(t.Context(), tn, with.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	if cp := f.Figures.Copilot; cp == nil || cp.HasReport || cp.Assigned == 0 {
		t.Errorf("copilot block %+v, want the seats without a report", cp)
	}
	if o := outs[without.TenantID]; o.State != store.CollectSucceeded || len(o.Documents) != 5 || o.Message != "" {
		t.Errorf("customer without Copilot: %+v, want succeeded, 5 documents, no message", o)
	}
	for _, r := range w.emu.Requests() {
		if strings.HasPrefix(r.Path, "/v1.0/copilot/") && r.Tenant == without.TenantID {
			t.Errorf("the Copilot report was asked of a customer without Copilot: %s", r.Path)
		}
	}
}
