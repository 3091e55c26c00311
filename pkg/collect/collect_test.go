package collect

// These tests run the connector against the Microsoft emulator
// (internal/msemulator) over real HTTPS on 127.0.0.1: the same token
// library, TLS, redirects and paging as against Microsoft. Waits are
// recorded rather than slept, so no assertion depends on timing.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/licenseinsights/licenseinsights/internal/msemulator"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/portfoliogen"
)

const (
	testClientID = "11111111-2222-3333-4444-555555555555"
	testSecret   = "s3cret~value"
)

type fixture struct {
	emu    *msemulator.Server
	client *Client
	mu     sync.Mutex
	waits  []time.Duration
}

func portfolio(customers int) portfoliogen.Config {
	d, _ := license.ParseDate("2026-12-01")
	return portfoliogen.Config{Seed: 15, Customers: customers, Users: 12, ReportDate: d}
}

func start(t *testing.T, customers, pageSize int, secret string) *fixture {
	t.Helper()
	emu, err := msemulator.Start(msemulator.Config{Portfolio: portfolio(customers), ClientID: testClientID, ClientSecret: testSecret, PageSize: pageSize}, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	hc := emu.Client()
	tokens, err := NewTokens(emu.URL, testClientID, secret, hc)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{
		Endpoints: Endpoints{Login: emu.URL, Graph: emu.URL, PartnerCenter: emu.URL},
		Tokens:    tokens, PartnerTenantID: emu.PartnerTenantID(), HTTPClient: hc,
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{emu: emu, client: c}
	c.http.sleep = func(_ context.Context, d time.Duration) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.waits = append(f.waits, d)
		return nil
	}
	return f
}

// values decodes a merged paged document: its JSON values one after
// another, each an envelope with a "value" (Graph) or "items" (Partner
// Center) array. It returns the number of pages and every element.
func values(t *testing.T, doc []byte, member string) (pages int, out []json.RawMessage) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(doc))
	for {
		var env map[string]json.RawMessage
		if err := dec.Decode(&env); errors.Is(err, io.EOF) {
			return pages, out
		} else if err != nil {
			t.Fatalf("page %d: %v", pages+1, err)
		}
		pages++
		var list []json.RawMessage
		if err := json.Unmarshal(env[member], &list); err != nil {
			t.Fatalf("page %d %s: %v", pages, member, err)
		}
		out = append(out, list...)
	}
}

func generated(t *testing.T, kind portfoliogen.Kind, c portfoliogen.CustomerSpec) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := portfoliogen.Write(&b, kind, portfolio(0), c); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func doc(t *testing.T, got *Customer, kind string) []byte {
	t.Helper()
	for _, d := range got.Documents {
		if d.Kind == kind {
			return d.Body
		}
	}
	t.Fatalf("no %s document among %d", kind, len(got.Documents))
	return nil
}

// mostSubscriptions is the customer with the longest subscription list,
// so that a page size of 1 gives the most pages.
func mostSubscriptions(t *testing.T, f *fixture) (portfoliogen.CustomerSpec, int) {
	best, n := portfoliogen.CustomerSpec{}, -1
	for _, c := range f.emu.Customers() {
		_, v := values(t, generated(t, portfoliogen.KindGraphDirectorySubscriptions, c), "value")
		if len(v) > n {
			best, n = c, len(v)
		}
	}
	return best, n
}

func TestCollectFollowsPagesAndTheReportRedirect(t *testing.T) {
	f := start(t, 4, 1, testSecret)
	c, n := mostSubscriptions(t, f)
	if n < 3 {
		t.Fatalf("the generated customer has %d subscriptions; the test needs 3+ for 3+ pages", n)
	}
	got, err := f.client.Collect(t.Context(), c.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != c.Name {
		t.Errorf("name %q, want %q (Graph organization's displayName)", got.Name, c.Name)
	}
	var kinds []string
	for _, d := range got.Documents {
		kinds = append(kinds, d.Kind)
	}
	want := []string{KindOrganization, KindSubscribedSkus, KindDirectorySubs, KindActiveUserDetail, KindPartnerCenter}
	downloadsWant := 1
	if portfoliogen.HasCopilot(portfolio(0), c) {
		// A Copilot customer: its usage report follows the users, also
		// through a download URL (TestCollectFetchesTheCopilotReportOfCopilotCustomersOnly).
		want = slices.Insert(want, 4, KindCopilotUsage)
		downloadsWant = 2
	}
	if !slices.Equal(kinds, want) {
		t.Errorf("kinds %v, want %v", kinds, want)
	}

	// Page size 1: one page asked per subscription, merged in order into
	// one collection whose elements are the whole generated list.
	docs, subs := values(t, doc(t, got, KindDirectorySubs), "value")
	_, all := values(t, generated(t, portfoliogen.KindGraphDirectorySubscriptions, c), "value")
	if docs != 1 || len(subs) != n {
		t.Errorf("directory/subscriptions: %d documents, %d subscriptions; want 1 and %d", docs, len(subs), n)
	}
	pages := 0
	for _, r := range f.emu.Requests() {
		if strings.HasPrefix(r.Path, "/v1.0/directory/subscriptions") {
			pages++
		}
	}
	if pages != n {
		t.Errorf("%d pages of directory/subscriptions asked, want %d", pages, n)
	}
	for i := range min(len(subs), len(all)) {
		if !jsonEqual(subs[i], all[i]) {
			t.Errorf("subscription %d differs from the generated one", i)
		}
	}

	// The report: byte for byte the CSV Graph's download URL serves, and
	// the download was asked for without an Authorization header (the
	// emulator, like storage, answers 403 to one).
	if r := doc(t, got, KindActiveUserDetail); !bytes.Equal(r, generated(t, portfoliogen.KindGraphActiveUserDetail, c)) {
		t.Errorf("report differs from the generated CSV (%d bytes vs %d)", len(r), len(generated(t, portfoliogen.KindGraphActiveUserDetail, c)))
	}
	var redirects, downloads int
	for _, r := range f.emu.Requests() {
		if strings.HasPrefix(r.Path, "/v1.0/reports/") {
			redirects++
			if r.Status != http.StatusFound || !r.Authorization {
				t.Errorf("report request: %d, authorization %v; want 302 with the token", r.Status, r.Authorization)
			}
		}
		if strings.HasPrefix(r.Path, "/download/") {
			downloads++
			if r.Authorization || r.Status != http.StatusOK {
				t.Errorf("download: status %d, authorization %v; want 200 without a token", r.Status, r.Authorization)
			}
		}
	}
	if redirects != 1 || downloads != downloadsWant {
		t.Errorf("%d report requests and %d downloads, want 1 and %d", redirects, downloads, downloadsWant)
	}
	if got.ConcealedNames == nil || *got.ConcealedNames != c.Concealed {
		t.Errorf("concealed names %v, want %v", got.ConcealedNames, c.Concealed)
	}
}

func TestCollectReusesTheCachedToken(t *testing.T) {
	f := start(t, 2, 100, testSecret)
	c := f.emu.Customers()[0]
	for range 2 {
		if _, err := f.client.Collect(t.Context(), c.TenantID); err != nil {
			t.Fatal(err)
		}
	}
	// Two collections of one customer: one Graph token for the customer
	// and one Partner Center token for the partner, each asked once.
	tokens := map[string]int{}
	for _, r := range f.emu.Requests() {
		if strings.HasSuffix(r.Path, "/oauth2/v2.0/token") {
			tokens[strings.Split(r.Path, "/")[1]]++
		}
	}
	if tokens[c.TenantID] != 1 || tokens[f.emu.PartnerTenantID()] != 1 || len(tokens) != 2 {
		t.Errorf("token requests per tenant %v, want one for %s and one for the partner", tokens, c.TenantID)
	}
}

func TestListCustomersFollowsTheContinuationToken(t *testing.T) {
	f := start(t, 7, 2, testSecret)
	got, err := f.client.ListCustomers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var want []CustomerRef
	for _, c := range f.emu.Customers() {
		want = append(want, CustomerRef{TenantID: c.TenantID, Name: c.Name, Domain: c.Domain})
	}
	if !slices.Equal(got, want) {
		t.Errorf("customers %v\nwant %v", got, want)
	}
	// 7 customers, 2 a page: pages of 2, 2, 2, 1; every page after the
	// first sent with the continuation token.
	var pages int
	for _, r := range f.emu.Requests() {
		if strings.HasPrefix(r.Path, "/v1/customers?") {
			pages++
			if r.Status != http.StatusOK {
				t.Errorf("%s answered %d", r.Path, r.Status)
			}
		}
	}
	if pages != 4 {
		t.Errorf("%d pages asked, want 4", pages)
	}
}

func TestThrottledThenSuccessHonoursRetryAfter(t *testing.T) {
	f := start(t, 2, 100, testSecret)
	c := f.emu.Customers()[1]
	f.emu.Throttle(c.TenantID, 2, 7)
	if _, err := f.client.Collect(t.Context(), c.TenantID); err != nil {
		t.Fatal(err)
	}
	// Two 429s with Retry-After: 7 → two waits of exactly 7 s.
	if !slices.Equal(f.waits, []time.Duration{7 * time.Second, 7 * time.Second}) {
		t.Errorf("waits %v, want [7s 7s]", f.waits)
	}
	if n := countStatus(f, http.StatusTooManyRequests); n != 2 {
		t.Errorf("%d answers 429, want 2", n)
	}
}

func TestThrottledPastTheRetriesIsThrottled(t *testing.T) {
	f := start(t, 1, 100, testSecret)
	c := f.emu.Customers()[0]
	f.emu.Throttle(c.TenantID, 100, 120)
	_, err := f.client.Collect(t.Context(), c.TenantID)
	if CodeOf(err) != CodeThrottled {
		t.Fatalf("code %s (%v), want throttled", CodeOf(err), err)
	}
	// Five tries; Retry-After 120 s is capped at a minute: four waits.
	if !slices.Equal(f.waits, []time.Duration{time.Minute, time.Minute, time.Minute, time.Minute}) {
		t.Errorf("waits %v, want four of 1m", f.waits)
	}
	if n := countStatus(f, http.StatusTooManyRequests); n != 5 {
		t.Errorf("%d answers 429, want 5 (DefaultRetry.MaxAttempts)", n)
	}
}

func TestUnavailableIsRetriedWithJitterThenSourceError(t *testing.T) {
	f := start(t, 1, 100, testSecret)
	c := f.emu.Customers()[0]
	f.emu.Unavailable(c.TenantID, 2)
	if _, err := f.client.Collect(t.Context(), c.TenantID); err != nil {
		t.Fatalf("two 503s then success: %v", err)
	}
	// No Retry-After: full jitter, the n-th wait within [0, 0.5 s·2^(n-1)].
	if len(f.waits) != 2 || f.waits[0] > 500*time.Millisecond || f.waits[1] > time.Second {
		t.Errorf("waits %v, want two within [0,0.5s] and [0,1s]", f.waits)
	}

	f.emu.Unavailable(c.TenantID, 5)
	_, err := f.client.Collect(t.Context(), c.TenantID)
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeSourceError || !strings.Contains(e.Message, "next run retries") {
		t.Fatalf("got %v, want source-error saying the next run retries", err)
	}
}

func TestTokenRefusalsMapToOutcomes(t *testing.T) {
	f := start(t, 2, 100, testSecret)
	c := f.emu.Customers()[0]
	f.emu.Unconsent(c.TenantID)
	_, err := f.client.Collect(t.Context(), c.TenantID)
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeNotConsented || !strings.Contains(e.Message, "AADSTS65001") || !strings.Contains(e.Message, "consent") {
		t.Errorf("unconsented tenant: %v, want not-consented naming AADSTS65001 and how to consent", err)
	}
	// The other customer is unaffected.
	if _, err := f.client.Collect(t.Context(), f.emu.Customers()[1].TenantID); err != nil {
		t.Errorf("the consented customer: %v", err)
	}
	_, err = f.client.Collect(t.Context(), "00000000-0000-4000-8000-000000000000")
	if CodeOf(err) != CodeNotFound {
		t.Errorf("unknown tenant: %v, want not-found", err)
	}
	_, err = f.client.Collect(t.Context(), "../../evil")
	if CodeOf(err) != CodeNotFound {
		t.Errorf("a path as tenant: %v, want not-found before any request", err)
	}

	wrong := start(t, 1, 100, "wrong-secret")
	_, err = wrong.client.Collect(t.Context(), wrong.emu.Customers()[0].TenantID)
	if !errors.As(err, &e) || e.Code != CodeForbidden || !strings.Contains(e.Message, "secret") {
		t.Errorf("wrong secret: %v, want forbidden about the secret", err)
	}
}

func TestReportSettingsForbiddenIsUnknownNotAFailure(t *testing.T) {
	f := start(t, 1, 100, testSecret)
	c := f.emu.Customers()[0]
	f.emu.ForbidReportSettings(c.TenantID)
	got, err := f.client.Collect(t.Context(), c.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ConcealedNames != nil {
		t.Errorf("concealed names %v, want unknown (nil)", *got.ConcealedNames)
	}
	// A second emulator (same portfolio) whose tenant conceals names.
	f2 := start(t, 1, 100, testSecret)
	f2.emu.Conceal(c.TenantID, true)
	got, err = f2.client.Collect(t.Context(), c.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ConcealedNames == nil || !*got.ConcealedNames {
		t.Errorf("concealed names %v, want true", got.ConcealedNames)
	}
}

func countStatus(f *fixture, status int) int {
	n := 0
	for _, r := range f.emu.Requests() {
		if r.Status == status {
			n++
		}
	}
	return n
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}
