package portfolio

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"github.com/licenseinsights/licenseinsights/pkg/api"
	"github.com/licenseinsights/licenseinsights/pkg/api/proxyevent"
	"github.com/licenseinsights/licenseinsights/pkg/config"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/licenseinsights/licenseinsights/internal/devstack/devstacktest"
	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
	"github.com/licenseinsights/licenseinsights/pkg/analytics"
	"github.com/licenseinsights/licenseinsights/pkg/ingest"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/portfoliogen"
	"github.com/licenseinsights/licenseinsights/pkg/source"
	"github.com/licenseinsights/licenseinsights/pkg/store"
	"github.com/licenseinsights/licenseinsights/pkg/view"
	"github.com/licenseinsights/licenseinsights/pkg/worker/rollup"
	"github.com/licenseinsights/licenseinsights/pkg/worker/rollup/rolluptest"
)

func TestMain(m *testing.M) { devstacktest.Main(m) }

// callCounter counts DynamoDB API calls by operation.
type callCounter struct {
	mu    sync.Mutex
	calls map[string]int
}

func (c *callCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = map[string]int{}
	return out
}

// stack is the pipeline of one tenant: the ingest service, the table's
// stream, the AggregateFunction and the PortfolioFunction, on DynamoDB Local.
type stack struct {
	db        *dynamodb.Client
	table     string
	store     *store.Store
	ingest    *ingest.Service
	aggregate lambda.Handler
	api       lambda.Handler
	calls     *callCounter
	stream    *rolluptest.Stream
	filter    []string
	tenant    license.Tenant
	gen       portfoliogen.Config
	ids       []string // current customers
}

func newStack(t *testing.T, tenant string, customers int) *stack {
	t.Helper()
	db, table := devstacktest.Table(t)
	s := &stack{db: db, table: table, store: store.New(db, table), calls: &callCounter{calls: map[string]int{}}}
	var err error
	if s.tenant, err = license.NewTenant(tenant); err != nil {
		t.Fatal(err)
	}
	day, _ := license.ParseDate("2026-11-20")
	s.gen = portfoliogen.Config{Seed: 1, Customers: customers, Users: 20, ReportDate: day}
	s.ingest = ingest.New(s.store, ingest.Config{PartnerTenantID: s.gen.PartnerTenant()})
	s.aggregate = lambda.NewHandler(rollup.New(store.New(db, table, store.WithWorkers(8))).Handle)
	counted := dynamodb.New(db.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("countCalls",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					s.calls.mu.Lock()
					s.calls.calls[awsmiddleware.GetOperationName(ctx)]++
					s.calls.mu.Unlock()
					return next.HandleInitialize(ctx, in)
				}), middleware.Before)
		})
	})
	s.api = api.LambdaHandler(New(store.New(counted, table, store.WithWorkers(8)), config.Default()))
	if s.stream, err = rolluptest.Open(t.Context(), db, devstacktest.Streams(t), table); err != nil {
		t.Fatal(err)
	}
	for _, src := range devstacktest.Template().StreamSources() {
		if src.Function == "AggregateFunction" {
			s.filter = src.FilterPatterns
		}
	}
	if len(s.filter) == 0 {
		t.Fatal("template.yaml gives AggregateFunction no filter")
	}
	return s
}

// ingestSnapshot sends customer c's native snapshot of the given day
// through the ingest service.
func (s *stack) ingestSnapshot(t *testing.T, c portfoliogen.CustomerSpec, day license.Date) {
	t.Helper()
	cfg := s.gen
	cfg.ReportDate = day
	var doc bytes.Buffer
	if err := portfoliogen.WriteSnapshot(&doc, cfg, c); err != nil {
		t.Fatal(err)
	}
	out, err := s.ingest.Ingest(t.Context(), ingest.Request{Tenant: s.tenant, CustomerID: c.ID, Kind: source.KindSnapshot, Body: &doc})
	if err != nil {
		t.Fatalf("ingesting %s: %v", c.ID, err)
	}
	if out.Status != ingest.StatusAccepted {
		t.Fatalf("ingesting %s: %s", c.ID, out.Status)
	}
	if !slices.Contains(s.ids, c.ID) {
		s.ids = append(s.ids, c.ID)
	}
}

// remove deletes a customer's items as a delete would: FIGURES (whose
// REMOVE record the roll-up takes), SUMMARY and RANK.
func (s *stack) remove(t *testing.T, id string) {
	t.Helper()
	pk, err := store.CustomerPK(s.tenant, id)
	if err != nil {
		t.Fatal(err)
	}
	var items []types.TransactWriteItem
	for _, sk := range []string{"FIGURES", "SUMMARY", "RANK"} {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table), Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk},
		}}})
	}
	if _, err := s.db.TransactWriteItems(t.Context(), &dynamodb.TransactWriteItemsInput{TransactItems: items}); err != nil {
		t.Fatal(err)
	}
	s.ids = slices.DeleteFunc(s.ids, func(x string) bool { return x == id })
}

// deliver feeds the stream's new records to the AggregateFunction as Lambda
// would (the template's filter, batches of 100) and returns them.
func (s *stack) deliver(t *testing.T) []events.DynamoDBEventRecord {
	t.Helper()
	all, err := s.stream.Read(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	records, err := rolluptest.Filter(all, s.filter)
	if err != nil {
		t.Fatal(err)
	}
	s.redeliver(t, records)
	return records
}

func (s *stack) redeliver(t *testing.T, records []events.DynamoDBEventRecord) {
	t.Helper()
	failures, err := rolluptest.Invoke(t.Context(), s.aggregate, records, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(failures) > 0 {
		t.Fatalf("the aggregate function reported failures %v", failures)
	}
}

// apiEvent is the API Gateway proxy event of a GET, with the authorizer
// context the JWT authorizer sets.
func apiEvent(t *testing.T, tenant, resource string, query map[string]string) []byte {
	t.Helper()
	return proxyevent.Request{Resource: resource, Query: query, Tenant: tenant, Role: "reader"}.JSON()
}

// get calls the PortfolioFunction and returns the status and body.
func (s *stack) get(t *testing.T, resource string, query map[string]string) (int, []byte) {
	t.Helper()
	return s.getAs(t, s.tenant.ID(), resource, query)
}

func (s *stack) getAs(t *testing.T, tenant, resource string, query map[string]string) (int, []byte) {
	t.Helper()
	out, err := s.api.Invoke(t.Context(), apiEvent(t, tenant, resource, query))
	if err != nil {
		t.Fatal(err)
	}
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, []byte(resp.Body)
}

// current reads the FIGURES of the current customers, in name order (as
// the customers-by-name index lists them).
func (s *stack) current(t *testing.T) []*store.CustomerFigures {
	t.Helper()
	var out []*store.CustomerFigures
	for _, id := range s.ids {
		cf, err := s.store.Figures(t.Context(), s.tenant, id)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, cf)
	}
	slices.SortFunc(out, func(a, b *store.CustomerFigures) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.Figures.Customer.Name), strings.ToLower(b.Figures.Customer.Name)),
			strings.Compare(a.Figures.Customer.ID, b.Figures.Customer.ID))
	})
	return out
}

// assertPortfolio checks GET /v1/portfolio against the sum of the current
// customers' figures: every block, the bands, and the ranked lists.
func (s *stack) assertPortfolio(t *testing.T, when string) {
	t.Helper()
	customers := s.current(t)
	var sum license.Portfolio
	var summaries []store.Summary
	for _, cf := range customers {
		sum.Add(&cf.Figures)
		x := store.SummaryOf(&cf.Figures)
		summaries = append(summaries, x)
	}
	for _, window := range []int{28, 7} {
		status, body := s.get(t, RoutePortfolio, map[string]string{"window": fmt.Sprint(window), "top": "3"})
		if status != 200 {
			t.Fatalf("%s: GET /v1/portfolio: %d %s", when, status, body)
		}
		var got map[string]any
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		lists := map[string]any{}
		for _, k := range []string{"lowestUsage", "mostUnassigned", "upsellCandidates", "mostIdleCopilot"} {
			lists[k] = got[k]
			delete(got, k)
		}
		want := roundTrip(t, struct {
			WindowDays int                `json:"windowDays"`
			Customers  int                `json:"customers"`
			Bands      license.BandCounts `json:"bands"`
			view.Blocks
			Copilot *view.Copilot `json:"copilot,omitempty"`
		}{window, len(customers), sum.Bands, view.PortfolioBlocks(&sum, window), view.CopilotOf(sum.Copilot.Figures(), window, license.DefaultCopilotHabitualDays)})
		if !reflect.DeepEqual(got, want) {
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(want)
			t.Fatalf("%s: GET /v1/portfolio?window=%d is not the sum of the customers\n got %s\nwant %s", when, window, gb, wb)
		}
		if window == 28 {
			s.assertLists(t, when, lists, summaries, 3)
		}
	}
}

// assertLists checks the ranked lists against the customers' headlines.
func (s *stack) assertLists(t *testing.T, when string, got map[string]any, summaries []store.Summary, top int) {
	t.Helper()
	tenths := func(p *float64) int { return int(math.Round(*p * 10)) }
	ids := func(list []store.Summary) []any {
		out := []any{}
		for _, x := range list[:min(top, len(list))] {
			out = append(out, x.CustomerID)
		}
		return out
	}
	known := slices.DeleteFunc(slices.Clone(summaries), func(x store.Summary) bool { return x.UsagePercent == nil })
	slices.SortFunc(known, func(a, b store.Summary) int {
		return cmp.Or(cmp.Compare(tenths(a.UsagePercent), tenths(b.UsagePercent)), strings.Compare(a.CustomerID, b.CustomerID))
	})
	unassigned := slices.DeleteFunc(slices.Clone(summaries), func(x store.Summary) bool { return x.Unassigned == 0 })
	slices.SortFunc(unassigned, func(a, b store.Summary) int {
		return cmp.Or(cmp.Compare(b.Unassigned, a.Unassigned), strings.Compare(a.CustomerID, b.CustomerID))
	})
	upsell := slices.DeleteFunc(slices.Clone(summaries), func(x store.Summary) bool {
		return x.UsagePercent == nil || x.DeploymentPercent == nil ||
			*x.UsagePercent < license.DefaultUpsellUsagePercent || *x.DeploymentPercent < license.DefaultUpsellDeploymentPercent
	})
	slices.SortFunc(upsell, func(a, b store.Summary) int {
		return cmp.Or(cmp.Compare(tenths(b.UsagePercent), tenths(a.UsagePercent)), strings.Compare(a.CustomerID, b.CustomerID))
	})
	for name, want := range map[string][]any{"lowestUsage": ids(known), "mostUnassigned": ids(unassigned), "upsellCandidates": ids(upsell)} {
		var gotIDs []any
		for _, x := range got[name].([]any) {
			gotIDs = append(gotIDs, x.(map[string]any)["customerId"])
		}
		if len(gotIDs) == 0 {
			gotIDs = []any{}
		}
		if !reflect.DeepEqual(gotIDs, want) {
			t.Errorf("%s: %s = %v, want %v", when, name, gotIDs, want)
		}
	}
	if len(known) == 0 || len(unassigned) == 0 {
		t.Fatalf("%s: the test portfolio must have customers in the lists (usage known: %d, unassigned: %d)", when, len(known), len(unassigned))
	}
}

func roundTrip(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// The whole way: customers are ingested, changed and one removed; the
// stream records DynamoDB Local produces go through the AggregateFunction;
// GET /v1/portfolio equals the sum of the customers every time, also after
// every record is delivered twice more. A portfolio read costs four
// DynamoDB calls.
func TestPortfolioFollowsTheCustomers(t *testing.T) {
	t.Parallel()
	s := newStack(t, "demo-partner", 10)
	specs := portfoliogen.Customers(s.gen)
	day := s.gen.ReportDate

	for _, c := range specs[:8] {
		s.ingestSnapshot(t, c, day)
	}
	first := s.deliver(t)
	s.assertPortfolio(t, "after ingesting 8 customers")

	s.calls.take()
	if status, _ := s.get(t, RoutePortfolio, nil); status != 200 {
		t.Fatal(status)
	}
	if calls := s.calls.take(); !reflect.DeepEqual(calls, map[string]int{"BatchGetItem": 1, "Query": 4}) {
		t.Errorf("GET /v1/portfolio made %v", calls)
	}

	// The next day's reports for three customers, two new customers, one removed.
	for _, c := range specs[:3] {
		s.ingestSnapshot(t, c, day.AddDays(1))
	}
	for _, c := range specs[8:] {
		s.ingestSnapshot(t, c, day)
	}
	s.remove(t, specs[4].ID)
	second := s.deliver(t)
	kinds := map[string]int{}
	for _, r := range second {
		kinds[r.EventName]++
	}
	if kinds["MODIFY"] != 3 || kinds["INSERT"] != 2 || kinds["REMOVE"] != 1 {
		t.Fatalf("second delivery: %v", kinds)
	}
	s.assertPortfolio(t, "after changes, new customers and a removal")

	all := slices.Concat(first, second)
	s.redeliver(t, all)
	s.assertPortfolio(t, "after every record was delivered again")
	slices.Reverse(all)
	s.redeliver(t, all)
	s.assertPortfolio(t, "after every record was delivered a third time, in reverse")

	// Another tenant sees nothing of this portfolio.
	status, body := s.getAs(t, "other-partner", RoutePortfolio, nil)
	var other Portfolio
	if err := json.Unmarshal(body, &other); status != 200 || err != nil || other.Customers != 0 ||
		len(other.LowestUsage)+len(other.MostUnassigned)+len(other.UpsellCandidates) != 0 {
		t.Errorf("another tenant's portfolio: %d %s", status, body)
	}

	// The history: everything was applied today, so one day, today's
	// portfolio.
	status, body = s.get(t, RouteHistory, nil)
	var history view.Page[HistoryPoint]
	if err := json.Unmarshal(body, &history); status != 200 || err != nil {
		t.Fatalf("history: %d %s", status, body)
	}
	var sum license.Portfolio
	for _, cf := range s.current(t) {
		sum.Add(&cf.Figures)
	}
	h := store.HeadlineOfPortfolio(&sum)
	today := license.DateOf(time.Now())
	// One day — two if the test ran across midnight (UTC).
	if len(history.Items) < 1 || len(history.Items) > 2 || history.NextCursor != nil {
		t.Fatalf("history %s", body)
	}
	p := history.Items[len(history.Items)-1]
	if p.Date != today.String() || p.Customers != 9 || p.LicensesSold != h.Sold.Total() || p.LicensesAssigned != h.Assigned ||
		p.Entitlements != h.Entitlements || p.ActiveEntitlements != h.Active || p.Bands != h.Bands ||
		!reflect.DeepEqual(p.UsagePercent, license.Percent(h.Active, h.Entitlements)) {
		t.Errorf("history point %+v, want today's headline %+v", p, h)
	}
	for _, bad := range []map[string]string{{"from": "2026-13-01"}, {"from": "2026-11-20", "to": "2026-11-01"}, {"limit": "0"}, {"cursor": "!!"}} {
		if status, body := s.get(t, RouteHistory, bad); status != 400 {
			t.Errorf("history %v: %d %s, want 400", bad, status, body)
		}
	}
	for _, bad := range []map[string]string{{"window": "14"}, {"top": "101"}, {"top": "0"}} {
		if status, body := s.get(t, RoutePortfolio, bad); status != 400 {
			t.Errorf("portfolio %v: %d %s, want 400", bad, status, body)
		}
	}

	s.assertAnalytics(t)
}

// analyticsPage is the analytics envelope.
type analyticsPage struct {
	Value      []map[string]any `json:"value"`
	NextLink   *string          `json:"@nextLink"`
	TotalCount int              `json:"totalCount"`
}

// assertAnalytics checks the Partner Center–compatible routes against rows
// made from the current figures.
func (s *stack) assertAnalytics(t *testing.T) {
	t.Helper()
	customers := s.current(t)
	var deployRows, usageRows []analytics.Row
	for _, cf := range customers {
		deployRows = analytics.DeploymentRows(deployRows, cf.Figures.Customer.ID, &cf.Figures, cf.UpdatedAt)
		usageRows = analytics.UsageRows(usageRows, cf.Figures.Customer.ID, &cf.Figures, 28, cf.UpdatedAt)
	}
	expect := func(ds *analytics.Dataset, rows []analytics.Row, p analytics.Params) []byte {
		q, err := analytics.ParseQuery(ds, p)
		if err != nil {
			t.Fatal(err)
		}
		page, total := q.Run(rows)
		route := RouteDeployment
		if ds == analytics.Usage {
			route = RouteUsage
		}
		return q.Encode(page, total, maxResponseBytes, func(n int) string { return q.NextLink(route, n) }).Body
	}

	// Every deployment row, exactly as made from the figures.
	status, body := s.get(t, RouteDeployment, nil)
	if want := expect(analytics.Deployment, deployRows, analytics.Params{}); status != 200 || !bytes.Equal(body, want) {
		t.Fatalf("deployment rows: %d\n got %.600s\nwant %.600s", status, body, want)
	}
	if len(deployRows) < 10 {
		t.Fatalf("only %d deployment rows: the test portfolio is too small to page through", len(deployRows))
	}

	// Filtered and grouped usage rows: Exchange and SharePoint summed over
	// customers.
	query := map[string]string{"filter": "workloadCode eq 'EXO' or (workloadCode eq 'SPO')", "groupby": "workloadCode"}
	status, body = s.get(t, RouteUsage, query)
	var page analyticsPage
	if err := json.Unmarshal(body, &page); status != 200 || err != nil {
		t.Fatalf("usage: %d %s", status, body)
	}
	var exo, spo [2]int
	for _, cf := range customers {
		w, _ := cf.Figures.Window(28)
		for _, x := range w.Workloads {
			switch x.Workload {
			case license.Exchange:
				exo[0], exo[1] = exo[0]+x.Entitlements, exo[1]+x.Active
			case license.SharePoint:
				spo[0], spo[1] = spo[0]+x.Entitlements, spo[1]+x.Active
			}
		}
	}
	if page.TotalCount != 2 || len(page.Value) != 2 || page.NextLink != nil ||
		page.Value[0]["workloadCode"] != "EXO" || page.Value[0]["licensesQualified"] != float64(exo[0]) || page.Value[0]["licensesActive"] != float64(exo[1]) ||
		page.Value[1]["workloadCode"] != "SPO" || page.Value[1]["licensesQualified"] != float64(spo[0]) || page.Value[1]["licensesActive"] != float64(spo[1]) {
		t.Errorf("grouped usage %s, want EXO %v and SPO %v (qualified, active)", body, exo, spo)
	}
	if want := expect(analytics.Usage, usageRows, analytics.Params{Filter: query["filter"], GroupBy: query["groupby"]}); !bytes.Equal(body, want) {
		t.Errorf("grouped usage body\n got %s\nwant %s", body, want)
	}

	// Paging with top and skip, following @nextLink.
	var collected []map[string]any
	next := map[string]string{"top": "4"}
	for pages := 0; next != nil; pages++ {
		if pages > len(deployRows) {
			t.Fatal("paging does not end")
		}
		status, body := s.get(t, RouteDeployment, next)
		var p analyticsPage
		if err := json.Unmarshal(body, &p); status != 200 || err != nil {
			t.Fatalf("page %v: %d %s", next, status, body)
		}
		if p.TotalCount != len(deployRows) {
			t.Fatalf("totalCount %d, want %d", p.TotalCount, len(deployRows))
		}
		collected = append(collected, p.Value...)
		next = nil
		if p.NextLink != nil {
			u, err := url.Parse(*p.NextLink)
			if err != nil || u.Path != RouteDeployment {
				t.Fatalf("@nextLink %q", *p.NextLink)
			}
			next = map[string]string{}
			for k, v := range u.Query() {
				next[k] = v[0]
			}
		}
	}
	var all analyticsPage
	_, body = s.get(t, RouteDeployment, nil)
	if err := json.Unmarshal(body, &all); err != nil || !reflect.DeepEqual(collected, all.Value) {
		t.Errorf("pages of 4 following @nextLink give %d rows, not the %d rows of one page", len(collected), len(all.Value))
	}

	// Malformed parameters are 400 with where and why.
	for _, c := range []struct {
		query    map[string]string
		field    string
		position float64
	}{
		{map[string]string{"filter": "channel eq 'own' and"}, "filter", 21},
		{map[string]string{"filter": "colour eq 'red'"}, "filter", 1},
		{map[string]string{"filter": "(channel eq 'own'"}, "filter", 1},
		{map[string]string{"groupby": "channel,,productId"}, "groupby", 9},
		{map[string]string{"top": "10001"}, "top", 0},
		{map[string]string{"skip": "-1"}, "skip", 0},
	} {
		status, body := s.get(t, RouteDeployment, c.query)
		var e struct {
			Error struct {
				Code    string           `json:"code"`
				Message string           `json:"message"`
				Details []map[string]any `json:"details"`
			} `json:"error"`
		}
		if err := json.Unmarshal(body, &e); status != 400 || err != nil || e.Error.Code != "bad_request" || len(e.Error.Details) != 1 ||
			e.Error.Details[0]["field"] != c.field || (c.position > 0 && e.Error.Details[0]["position"] != c.position) {
			t.Errorf("%v: %d %s, want 400 about %s at %v", c.query, status, body, c.field, c.position)
		}
	}
	// The usage rows have workloads; the deployment rows do not.
	if status, _ := s.get(t, RouteDeployment, map[string]string{"filter": "workloadCode eq 'EXO'"}); status != 400 {
		t.Errorf("deployment rows filtered by workloadCode: %d, want 400", status)
	}
}

// The sample events under events/ (for sam local invoke) are answered by
// the handler for the demo tenant, with rows for the demo customers they
// name.
func TestSampleEvents(t *testing.T) {
	t.Parallel()
	s := newStack(t, "demo-partner", 3)
	for _, c := range portfoliogen.Customers(s.gen) {
		s.ingestSnapshot(t, c, s.gen.ReportDate)
	}
	s.deliver(t)
	root, err := infra.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(root, "events", "portfolio-*.json"))
	if err != nil || len(files) != 5 {
		t.Fatalf("sample events %v (%v), want five", files, err)
	}
	for _, file := range files {
		payload, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		out, err := s.api.Invoke(t.Context(), payload)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		var resp events.APIGatewayProxyResponse
		if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s (%v)", file, resp.StatusCode, resp.Body, err)
		}
		var body map[string]any
		if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		switch filepath.Base(file) {
		case "portfolio-get.json":
			if body["customers"] != 3.0 {
				t.Errorf("%s: %s", file, resp.Body)
			}
		case "portfolio-history.json":
			if len(body["items"].([]any)) == 0 {
				t.Errorf("%s: %s", file, resp.Body)
			}
		case "portfolio-reclaim.json":
			// The calendar the stream consumer kept for the demo customers.
			if items, _ := body["items"].([]any); body["days"] != 90.0 || len(items) == 0 {
				t.Errorf("%s: %.300s", file, resp.Body)
			}
		default:
			if body["totalCount"].(float64) == 0 {
				t.Errorf("%s: no rows for the demo customers: %.300s", file, resp.Body)
			}
		}
	}
}

// The history runs from ?from= to ?to=, one item per day with the last
// state carried over quiet days, ?limit= days a page with a cursor.
func TestHistoryPages(t *testing.T) {
	t.Parallel()
	s := newStack(t, "tenant-history", 0)
	customer := func(id string, sold, assigned int) *license.Figures {
		return &license.Figures{Customer: license.Customer{ID: id, Name: id}, ReportDate: 20777,
			Products: []license.ProductFigures{{SKU: "SPE_E3", Sold: license.ChannelCounts{Own: sold}, Assigned: assigned, Counted: true}}}
	}
	apply := func(day string, changes ...store.FiguresChange) {
		t.Helper()
		at, _ := time.Parse(time.DateOnly, day)
		for _, r := range s.store.ApplyFiguresChanges(t.Context(), changes, func() time.Time { return at.Add(9 * time.Hour) }) {
			if r.Outcome != store.Applied {
				t.Fatalf("%s: %v %v", day, r.Outcome, r.Err)
			}
		}
	}
	a1, b1, a2 := customer("a", 10, 5), customer("b", 20, 20), customer("a", 10, 9)
	// 2026-10-01: a (10 sold, 5 assigned) and b (20, 20) → 30 sold, 25 assigned.
	// 2026-10-04: a now assigns 9 → 30 sold, 29 assigned.
	// 2026-10-06: b removed → 10 sold, 9 assigned.
	apply("2026-10-01",
		store.FiguresChange{Tenant: s.tenant, CustomerID: "a", RecordID: "1", New: a1, NewVersion: 1},
		store.FiguresChange{Tenant: s.tenant, CustomerID: "b", RecordID: "2", New: b1, NewVersion: 1})
	apply("2026-10-04", store.FiguresChange{Tenant: s.tenant, CustomerID: "a", RecordID: "3", Old: a1, OldVersion: 1, New: a2, NewVersion: 2})
	apply("2026-10-06", store.FiguresChange{Tenant: s.tenant, CustomerID: "b", RecordID: "4", Old: b1, OldVersion: 1})

	type day struct {
		date              string
		customers, sold   int
		assigned          int
		deploymentPercent float64
	}
	want := []day{
		{"2026-10-01", 2, 30, 25, 83.3}, {"2026-10-02", 2, 30, 25, 83.3}, {"2026-10-03", 2, 30, 25, 83.3},
		{"2026-10-04", 2, 30, 29, 96.7}, {"2026-10-05", 2, 30, 29, 96.7},
		{"2026-10-06", 1, 10, 9, 90}, {"2026-10-07", 1, 10, 9, 90},
	}
	var got []day
	query := map[string]string{"from": "2026-09-28", "to": "2026-10-07", "limit": "3"}
	for pages := 0; ; pages++ {
		status, body := s.get(t, RouteHistory, query)
		var page view.Page[HistoryPoint]
		if err := json.Unmarshal(body, &page); status != 200 || err != nil || pages > 5 {
			t.Fatalf("history page %d: %d %s", pages, status, body)
		}
		if len(page.Items) > 3 {
			t.Fatalf("page of %d items with limit 3", len(page.Items))
		}
		for _, p := range page.Items {
			got = append(got, day{p.Date, p.Customers, p.LicensesSold, p.LicensesAssigned, *p.DeploymentPercent})
		}
		if page.NextCursor == nil {
			break
		}
		query["cursor"] = *page.NextCursor
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("history\n got %v\nwant %v", got, want)
	}

	// A range before the first change is empty, not an error.
	status, body := s.get(t, RouteHistory, map[string]string{"from": "2026-01-01", "to": "2026-01-31"})
	if status != 200 || string(body) != `{"items":[],"nextCursor":null}` {
		t.Errorf("history before the portfolio existed: %d %s", status, body)
	}
}
