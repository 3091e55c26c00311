package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/licenseinsights/licenseinsights/internal/devstack/devstacktest"
	"github.com/licenseinsights/licenseinsights/pkg/catalog"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/source"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

func TestMain(m *testing.M) { devstacktest.Main(m) }

const customer = "fabrikam"

var (
	partner = mustTenant("partner-a")
	t0      = time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
)

func mustTenant(id string) license.Tenant {
	t, err := license.NewTenant(id)
	if err != nil {
		panic(err)
	}
	return t
}

func day(s string) license.Date {
	d, err := license.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

type fixture struct {
	svc    *Service
	store  *store.Store
	client *dynamodb.Client
	table  string
}

func newFixture(t *testing.T) *fixture {
	client, table := devstacktest.Table(t)
	st := store.New(client, table)
	return &fixture{svc: New(st, Config{ProductName: catalog.Name}), store: st, client: client, table: table}
}

func (f *fixture) ingest(t *testing.T, kind source.Kind, body []byte, now time.Time) (*Outcome, error) {
	t.Helper()
	return f.svc.Ingest(context.Background(), Request{
		Tenant: partner, CustomerID: customer, Kind: kind, Body: bytes.NewReader(body), Now: now,
	})
}

func (f *fixture) mustIngest(t *testing.T, kind source.Kind, body []byte, now time.Time) *Outcome {
	t.Helper()
	out, err := f.ingest(t, kind, body, now)
	if err != nil {
		t.Fatalf("ingest %s: %v", kind, err)
	}
	return out
}

// ---- documents ----------------------------------------------------------

// snapshotJSON renders a native snapshot (docs/definitions.md#the-native-snapshot) of the given content.
func snapshotJSON(name string, reportDate license.Date, subs []license.Subscription, users []license.User) []byte {
	type use struct {
		Licensed     bool   `json:"licensed"`
		LastActivity string `json:"lastActivity,omitempty"`
	}
	type lic struct {
		SKU          string `json:"sku"`
		AssignedDate string `json:"assignedDate,omitempty"`
	}
	type user struct {
		Key         string         `json:"key"`
		DisplayName string         `json:"displayName,omitempty"`
		Deleted     bool           `json:"deleted"`
		Licenses    []lic          `json:"licenses"`
		Workloads   map[string]use `json:"workloads"`
	}
	doc := struct {
		Schema        string                 `json:"schema"`
		Customer      license.Customer       `json:"customer"`
		ReportDate    license.Date           `json:"reportDate"`
		Subscriptions []license.Subscription `json:"subscriptions"`
		Users         []user                 `json:"users"`
	}{"license-snapshot/v1", license.Customer{ID: customer, Name: name}, reportDate, subs, []user{}}
	for _, u := range users {
		x := user{Key: u.Key, DisplayName: u.DisplayName, Deleted: u.Deleted, Licenses: []lic{}, Workloads: map[string]use{}}
		for _, l := range u.Licenses {
			x.Licenses = append(x.Licenses, lic{l.SKU, l.AssignedDate.String()})
		}
		for _, w := range u.Workloads {
			x.Workloads[string(w.Workload)] = use{w.Licensed, w.LastActivity.String()}
		}
		doc.Users = append(doc.Users, x)
	}
	b, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		panic(err)
	}
	return b
}

// partnerCenterJSON renders a Partner Center subscriptions list.
func partnerCenterJSON(subs ...license.Subscription) []byte {
	var items []map[string]any
	for _, s := range subs {
		items = append(items, map[string]any{
			"id": s.ID, "offerId": "CFQ7TTC0LFLZ:0002", "offerName": s.Name, "quantity": s.Quantity,
			"status": string(s.Status), "isTrial": s.Trial, "billingCycle": "monthly",
			"attributes": map[string]string{"objectType": "Subscription"},
		})
	}
	b, _ := json.Marshal(map[string]any{"totalCount": len(items), "items": items, "attributes": map[string]string{"objectType": "Collection"}})
	return b
}

var audHeader = []string{"Report Refresh Date", "User Principal Name", "Display Name", "Is Deleted", "Deleted Date",
	"Has Exchange License", "Has OneDrive License", "Has SharePoint License", "Has Skype For Business License",
	"Has Yammer License", "Has Teams License", "Exchange Last Activity Date", "OneDrive Last Activity Date",
	"SharePoint Last Activity Date", "Skype For Business Last Activity Date", "Yammer Last Activity Date",
	"Teams Last Activity Date", "Exchange License Assign Date", "OneDrive License Assign Date",
	"SharePoint License Assign Date", "Skype For Business License Assign Date", "Yammer License Assign Date",
	"Teams License Assign Date", "Assigned Products"}

// audRow is one user of the Graph active user detail report: licensed for
// exchange, sharepoint and teams when licensed, with the given activity.
type audRow struct {
	upn, name            string
	deleted, licensed    bool
	exchange, sharepoint string // last activity dates
	assigned             string
}

func activeUserDetailCSV(reportDate string, rows ...audRow) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(audHeader)
	tf := func(v bool) string {
		if v {
			return "True"
		}
		return "False"
	}
	for _, r := range rows {
		lic, products, assign := r.licensed, "", ""
		if lic {
			products, assign = "MICROSOFT 365 E3", r.assigned
		}
		_ = w.Write([]string{reportDate, r.upn, r.name, tf(r.deleted), "",
			tf(lic), tf(lic), tf(lic), "False", "False", tf(lic),
			r.exchange, "", r.sharepoint, "", "", "",
			assign, assign, assign, "", "", assign, products})
	}
	w.Flush()
	return b.Bytes()
}

// ---- the customer of the hand-worked example --------------------------

func e3(id string, qty int) license.Subscription {
	return license.Subscription{ID: id, SKU: "SPE_E3", Name: "Microsoft 365 E3", Quantity: qty,
		Status: license.StatusActive, Channel: license.ChannelOwn}
}

// fabrikam on 2026-11-20: 2 SPE_E3 sold (own) and four users.
//
//	alice  E3 assigned 2025-01-01  exchange L 11-19, sharepoint L (onedrive 11-10), teams L
//	bob    E3 assigned 2025-03-15  exchange L 10-01, teams L
//	erin   E3 assigned 2026-06-01  exchange L 11-15      (third holder: over-assigned)
//	carol  deleted, no licence     exchange 11-05
//
// Entitled: alice and bob (oldest two of three holders for 2 sold).
// Deployment: 3 assigned ÷ 2 sold = 150 %, unassigned 0.
// 28 days (active when last > 10-23):
//
//	exchange:   entitlements 2 (alice, bob); active 3 (alice, erin, carol);
//	            counted 1 (alice); uncounted: erin inactiveSubscription,
//	            carol formerLicensee
//	sharepoint: entitlements 1 (alice); active 1; counted 1
//	teams:      entitlements 2; active 0
//
// Totals 5 entitlements, 4 active, 2 counted: usage 80.0 % (band high),
// adjusted 40.0 %; inactive licensed users: bob. Deployment 150 % ≥ 90 and
// usage 80 % ≥ 80: an upsell candidate under the default thresholds.
func fabrikamUsers() []license.User {
	lic := func(d string) []license.License { return []license.License{{SKU: "SPE_E3", AssignedDate: day(d)}} }
	return []license.User{
		{Key: "alice@fabrikam.com", DisplayName: "Alice", Licenses: lic("2025-01-01"), Workloads: []license.WorkloadUse{
			{Workload: "exchange", Licensed: true, LastActivity: day("2026-11-19")},
			{Workload: "sharepoint", Licensed: true},
			{Workload: "onedrive", Licensed: true, LastActivity: day("2026-11-10")},
			{Workload: "teams", Licensed: true},
		}},
		{Key: "bob@fabrikam.com", DisplayName: "Bob", Licenses: lic("2025-03-15"), Workloads: []license.WorkloadUse{
			{Workload: "exchange", Licensed: true, LastActivity: day("2026-10-01")},
			{Workload: "teams", Licensed: true},
		}},
		{Key: "erin@fabrikam.com", DisplayName: "Erin", Licenses: lic("2026-06-01"), Workloads: []license.WorkloadUse{
			{Workload: "exchange", Licensed: true, LastActivity: day("2026-11-15")},
		}},
		{Key: "carol@fabrikam.com", DisplayName: "Carol", Deleted: true, Workloads: []license.WorkloadUse{
			{Workload: "exchange", LastActivity: day("2026-11-05")},
		}},
	}
}

func fabrikamSnapshot() []byte {
	return snapshotJSON("Fabrikam Inc", day("2026-11-20"), []license.Subscription{e3("s1", 2)}, fabrikamUsers())
}

// ---- expectations -------------------------------------------------------

// parsed is a document as the parsers read it: the independent input for
// the expected figures.
func parse(t *testing.T, kind source.Kind, body []byte) (*source.Document, []license.User) {
	t.Helper()
	var users []license.User
	doc, err := source.Parse(bytes.NewReader(body), kind, source.Options{CustomerID: customer}, func(u license.User) error {
		users = append(users, u)
		return nil
	})
	if err != nil {
		t.Fatalf("parsing the test's %s: %v", kind, err)
	}
	return doc, users
}

func figuresOf(t *testing.T, f *fixture) *store.CustomerFigures {
	t.Helper()
	cf, err := f.store.Figures(context.Background(), partner, customer)
	if err != nil {
		t.Fatal(err)
	}
	return cf
}

func rowsOf(t *testing.T, f *fixture) map[string]store.UserRow {
	t.Helper()
	rows := map[string]store.UserRow{}
	err := f.store.Users(context.Background(), partner, customer, func(r store.UserRow) error {
		if _, dup := rows[r.User.Key]; dup {
			t.Errorf("user %q streamed twice", r.User.Key)
		}
		rows[r.User.Key] = r
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// checkRows: the current rows are exactly users, with the entitled flags
// of the computation.
func checkRows(t *testing.T, f *fixture, users []license.User, entitled []bool) {
	t.Helper()
	rows := rowsOf(t, f)
	if len(rows) != len(users) {
		t.Errorf("%d user rows, want %d", len(rows), len(users))
	}
	for i, u := range users {
		r, ok := rows[u.Key]
		if !ok {
			t.Errorf("user %q has no row", u.Key)
			continue
		}
		if r.Entitled != entitled[i] || r.User.Deleted != u.Deleted || r.User.DisplayName != u.DisplayName ||
			!reflect.DeepEqual(r.User.Licenses, u.Licenses) || !sameWorkloads(r.User.Workloads, u.Workloads) {
			t.Errorf("row %q = %+v, want %+v entitled %v", u.Key, r, u, entitled[i])
		}
	}
}

func sameWorkloads(a, b []license.WorkloadUse) bool {
	key := func(w []license.WorkloadUse) []string {
		var s []string
		for _, x := range w {
			s = append(s, fmt.Sprint(x))
		}
		slices.Sort(s)
		return s
	}
	return slices.Equal(key(a), key(b))
}

// generations lists the generations with user rows in the table (a test
// may scan; the service never does).
func generations(t *testing.T, f *fixture) []int64 {
	t.Helper()
	prefix, _ := store.CustomerPK(partner, customer)
	prefix += "#G#"
	seen := map[int64]bool{}
	p := dynamodb.NewScanPaginator(f.client, &dynamodb.ScanInput{TableName: &f.table, ProjectionExpression: aws.String("PK")})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range page.Items {
			pk := item["PK"].(*types.AttributeValueMemberS).Value
			if rest, ok := strings.CutPrefix(pk, prefix); ok {
				var g int64
				if _, err := fmt.Sscanf(rest, "%d#", &g); err != nil {
					t.Fatalf("odd generation key %q", pk)
				}
				seen[g] = true
			}
		}
	}
	var gens []int64
	for g := range seen {
		gens = append(gens, g)
	}
	slices.Sort(gens)
	return gens
}

func getItem(t *testing.T, f *fixture, k store.Key) map[string]types.AttributeValue {
	t.Helper()
	out, err := f.client.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &f.table, Key: map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: k.PK}, "SK": &types.AttributeValueMemberS{Value: k.SK},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func summaryOf(t *testing.T, f *fixture) store.Summary {
	t.Helper()
	k, _ := store.SummaryKey(partner, customer)
	item := getItem(t, f, k)
	if item == nil {
		t.Fatal("no SUMMARY item")
	}
	s, err := store.DecodeSummary(item)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func pct(p *float64) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprintf("%.1f", *p)
}

// ---- tests --------------------------------------------------------------

func TestSnapshotIngest(t *testing.T) {
	f := newFixture(t)
	body := fabrikamSnapshot()
	out := f.mustIngest(t, source.KindSnapshot, body, t0)
	if out.Status != StatusAccepted || out.Kind != source.KindSnapshot || out.Version != 1 ||
		out.ReportDate != day("2026-11-20") || out.Users != 4 || out.Subscriptions != 1 {
		t.Errorf("outcome = %+v", out)
	}

	// FIGURES equal license.Compute on the same input.
	doc, users := parse(t, source.KindSnapshot, body)
	want := license.Compute(license.Input{
		Customer:      *doc.Customer,
		ReportDate:    doc.ReportDate,
		Subscriptions: license.CombineSubscriptions(license.Sources{Snapshot: &license.SubscriptionSet{Subscriptions: doc.Subscriptions}}),
		Users:         users,
		ProductName:   catalog.Name,
	})
	cf := figuresOf(t, f)
	if !reflect.DeepEqual(cf.Figures, want.Figures) {
		t.Errorf("stored figures differ from Compute:\n got %+v\nwant %+v", cf.Figures, want.Figures)
	}
	if cf.Version != 1 || cf.Users != 4 || cf.Shards != 1 || cf.UsersKind != string(source.KindSnapshot) {
		t.Errorf("FIGURES version %d users %d shards %d kind %q", cf.Version, cf.Users, cf.Shards, cf.UsersKind)
	}

	// SUMMARY, by hand (see fabrikamUsers).
	s := summaryOf(t, f)
	got := fmt.Sprintf("%s %s sold=%d assigned=%d deploy=%s unassigned=%d ent=%d active=%d counted=%d usage=%s adjusted=%s inactive=%d band=%s upsell=%v",
		s.CustomerName, s.ReportDate, s.Sold, s.Assigned, pct(s.DeploymentPercent), s.Unassigned, s.Entitlements,
		s.ActiveEntitlements, s.CountedActive, pct(s.UsagePercent), pct(s.AdjustedUsagePercent), s.InactiveLicensedUsers, s.Band, s.Upsell)
	const wantSummary = "Fabrikam Inc 2026-11-20 sold=2 assigned=3 deploy=150.0 unassigned=0 ent=5 active=4 counted=2 usage=80.0 adjusted=40.0 inactive=1 band=high upsell=true"
	if got != wantSummary {
		t.Errorf("summary\n got %s\nwant %s", got, wantSummary)
	}
	w, _ := cf.Figures.Window(28)
	ex := w.Workloads[0]
	if ex.Workload != license.Exchange || ex.Entitlements != 2 || ex.Active != 3 || ex.CountedActive != 1 ||
		ex.Uncounted != (license.Uncounted{FormerLicensee: 1, InactiveSubscription: 1}) {
		t.Errorf("exchange, 28 days = %+v", ex)
	}

	// The upsell list carries it, highest usage first: 9999999 − 800.
	rk, _ := store.RankKey(partner, customer)
	if got := getItem(t, f, rk)["GSI2SK"]; got == nil || got.(*types.AttributeValueMemberS).Value != "9999199#fabrikam" {
		t.Errorf("RANK upsell key = %v", got)
	}

	// DAY item of the report date.
	dk, _ := store.DayKey(partner, customer, day("2026-11-20"))
	if item := getItem(t, f, dk); item == nil || item["expiresAt"] == nil {
		t.Errorf("DAY item = %v, want one with expiresAt", item)
	}

	// Rows: alice and bob entitled, erin (over-assigned) and carol not.
	checkRows(t, f, users, want.Entitled)
	if !slices.Equal(want.Entitled, []bool{true, true, false, false}) {
		t.Errorf("entitled = %v, want alice and bob", want.Entitled)
	}
	if g := generations(t, f); !slices.Equal(g, []int64{cf.Generation}) {
		t.Errorf("generations %v, want only the current %d", g, cf.Generation)
	}
}

func TestSameDocumentIsUnchanged(t *testing.T) {
	f := newFixture(t)
	body := fabrikamSnapshot()
	f.mustIngest(t, source.KindSnapshot, body, t0)
	before := figuresOf(t, f)

	// Same bytes, kind detected this time: nothing is written.
	out := f.mustIngest(t, "", body, t0.Add(time.Hour))
	if out.Status != StatusUnchanged || out.Version != 1 || out.Kind != source.KindSnapshot {
		t.Errorf("outcome = %+v, want unchanged at version 1", out)
	}
	after := figuresOf(t, f)
	if after.Version != 1 || after.Generation != before.Generation || !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Errorf("FIGURES changed: version %d gen %d updated %v", after.Version, after.Generation, after.UpdatedAt)
	}
	// Not even a generation number was taken.
	gk, _ := store.GenCounterKey(partner, customer)
	if got := getItem(t, f, gk)["gen"].(*types.AttributeValueMemberN).Value; got != "1" {
		t.Errorf("generation counter = %s, want 1", got)
	}

	// One byte more (a trailing newline) is another document.
	out = f.mustIngest(t, source.KindSnapshot, append(slices.Clone(body), '\n'), t0.Add(2*time.Hour))
	if out.Status != StatusAccepted || out.Version != 2 {
		t.Errorf("changed bytes: outcome = %+v, want accepted at version 2", out)
	}
	st, _ := f.store.LoadState(context.Background(), partner, customer)
	sum := sha256.Sum256(append(slices.Clone(body), '\n'))
	if got := st.Sources["snapshot"].SHA256; got != hex.EncodeToString(sum[:]) {
		t.Errorf("stored hash %s is not the SHA-256 of the whole document", got)
	}
}

func TestOlderReportIsStale(t *testing.T) {
	f := newFixture(t)
	f.mustIngest(t, source.KindSnapshot, fabrikamSnapshot(), t0)

	users := fabrikamUsers()[:2]
	older := snapshotJSON("Fabrikam Inc", day("2026-11-19"), []license.Subscription{e3("s1", 2)}, users)
	if _, err := f.ingest(t, source.KindSnapshot, older, t0.Add(time.Hour)); !errors.Is(err, ErrStale) {
		t.Errorf("older snapshot: %v, want ErrStale", err)
	}
	olderAUD := activeUserDetailCSV("2026-11-19", audRow{upn: "zed@fabrikam.com", licensed: true, assigned: "2025-01-01"})
	if _, err := f.ingest(t, source.KindActiveUserDetail, olderAUD, t0.Add(time.Hour)); !errors.Is(err, ErrStale) {
		t.Errorf("older active user report: %v, want ErrStale", err)
	}
	if cf := figuresOf(t, f); cf.Version != 1 || cf.Users != 4 {
		t.Errorf("a stale document changed FIGURES: version %d users %d", cf.Version, cf.Users)
	}

	// The same date again: the later document wins.
	same := snapshotJSON("Fabrikam Inc", day("2026-11-20"), []license.Subscription{e3("s1", 2)}, users)
	if out := f.mustIngest(t, source.KindSnapshot, same, t0.Add(2*time.Hour)); out.Version != 2 {
		t.Errorf("same-date snapshot: version %d, want 2", out.Version)
	}
	// A newer users report of the other kind replaces the users; the
	// snapshot's subscriptions stay.
	newer := activeUserDetailCSV("2026-11-21",
		audRow{upn: "zed@fabrikam.com", name: "Zed", licensed: true, exchange: "2026-11-21", assigned: "2025-01-01"})
	f.mustIngest(t, source.KindActiveUserDetail, newer, t0.Add(3*time.Hour))
	cf := figuresOf(t, f)
	if cf.Users != 1 || cf.UsersKind != string(source.KindActiveUserDetail) || cf.Figures.ReportDate != day("2026-11-21") {
		t.Errorf("after a newer report: users %d from %q on %s", cf.Users, cf.UsersKind, cf.Figures.ReportDate)
	}
	if d := cf.Figures.Deployment(); d.Sold.Total() != 2 || d.Assigned != 1 || cf.Figures.Customer.Name != "Fabrikam Inc" {
		t.Errorf("after a newer report: sold %d assigned %d name %q; want the snapshot's 2 sold and name kept",
			d.Sold.Total(), d.Assigned, cf.Figures.Customer.Name)
	}
	// …and now the snapshot is older than the current users.
	if _, err := f.ingest(t, source.KindSnapshot, fabrikamSnapshot(), t0.Add(4*time.Hour)); !errors.Is(err, ErrStale) {
		t.Errorf("snapshot older than the current report: %v, want ErrStale", err)
	}
}

func TestSubscriptionsDocumentRecomputes(t *testing.T) {
	f := newFixture(t)
	snap := fabrikamSnapshot()
	f.mustIngest(t, source.KindSnapshot, snap, t0)
	genBefore := figuresOf(t, f).Generation

	// Partner Center: s1 (matches the snapshot's, stays 2) and a new own
	// subscription pc-2 of 1 more E3. Sold 3: erin, the third holder, is
	// now entitled. Exchange: entitlements 3, active 3, counted 2 (alice,
	// erin); uncounted only carol (formerLicensee). Deployment 3 ÷ 3.
	pc := partnerCenterJSON(e3("s1", 2), e3("pc-2", 1))
	out := f.mustIngest(t, source.KindPartnerCenterSubs, pc, t0.Add(time.Hour))
	if out.Status != StatusAccepted || out.Version != 2 || out.Users != 0 || out.Subscriptions != 2 {
		t.Errorf("outcome = %+v", out)
	}

	snapDoc, users := parse(t, source.KindSnapshot, snap)
	pcDoc, _ := parse(t, source.KindPartnerCenterSubs, pc)
	want := license.Compute(license.Input{
		Customer:   *snapDoc.Customer,
		ReportDate: snapDoc.ReportDate,
		Subscriptions: license.CombineSubscriptions(license.Sources{
			Snapshot:      &license.SubscriptionSet{Subscriptions: snapDoc.Subscriptions, AcceptedAt: t0},
			PartnerCenter: &license.SubscriptionSet{Subscriptions: pcDoc.Subscriptions, AcceptedAt: t0.Add(time.Hour)},
		}),
		Users:       users,
		ProductName: catalog.Name,
	})
	cf := figuresOf(t, f)
	if !reflect.DeepEqual(cf.Figures, want.Figures) {
		t.Errorf("figures differ from Compute:\n got %+v\nwant %+v", cf.Figures, want.Figures)
	}
	if d := cf.Figures.Deployment(); d.Sold.Total() != 3 || d.Sold.Own != 3 || d.Assigned != 3 {
		t.Errorf("deployment = %+v, want 3 sold (own), 3 assigned", d)
	}
	w, _ := cf.Figures.Window(28)
	if ex := w.Workloads[0]; ex.Entitlements != 3 || ex.CountedActive != 2 || ex.Uncounted != (license.Uncounted{FormerLicensee: 1}) {
		t.Errorf("exchange = %+v", ex)
	}
	if !slices.Equal(want.Entitled, []bool{true, true, true, false}) {
		t.Errorf("entitled = %v, want erin too", want.Entitled)
	}
	checkRows(t, f, users, want.Entitled)
	if cf.Generation == genBefore || cf.UsersKind != string(source.KindSnapshot) || cf.Users != 4 {
		t.Errorf("generation %d (before %d), users %d from %q", cf.Generation, genBefore, cf.Users, cf.UsersKind)
	}
	if g := generations(t, f); !slices.Equal(g, []int64{cf.Generation}) {
		t.Errorf("generations %v, want only %d", g, cf.Generation)
	}
	subs, err := f.store.Subscriptions(context.Background(), partner, customer)
	if err != nil || len(subs) != 2 {
		t.Errorf("combined subscriptions %+v, %v; want s1 and pc-2", subs, err)
	}
}

func TestSubscriptionsBeforeAnyUsers(t *testing.T) {
	f := newFixture(t)
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	out := f.mustIngest(t, "", partnerCenterJSON(e3("pc-1", 5)), now)
	if out.Kind != source.KindPartnerCenterSubs || out.Version != 1 {
		t.Errorf("outcome = %+v", out)
	}
	cf := figuresOf(t, f)
	// No users: 5 sold, nothing assigned (0 %), usage unknown; the date is
	// the acceptance day and the name the customer id.
	s := summaryOf(t, f)
	if cf.Users != 0 || cf.UsersKind != "" || s.ReportDate != day("2026-12-03") || s.CustomerName != customer ||
		s.Sold != 5 || s.Assigned != 0 || pct(s.DeploymentPercent) != "0.0" || s.UsagePercent != nil || s.Band != "unknown" || s.Unassigned != 5 {
		t.Errorf("FIGURES users %d kind %q; summary %+v", cf.Users, cf.UsersKind, s)
	}
	if rows := rowsOf(t, f); len(rows) != 0 {
		t.Errorf("%d user rows, want none", len(rows))
	}
}

func TestBadDocumentsWriteNothing(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name  string
		kind  source.Kind
		body  string
		check func(error) bool
	}{
		{"undetectable", "", "hello, world", func(err error) bool { return errors.Is(err, ErrKind) }},
		{"unknown kind", "spreadsheet", "{}", func(err error) bool { return errors.Is(err, ErrKind) }},
		{"invalid snapshot", source.KindSnapshot,
			`{"schema":"license-snapshot/v1","customer":{"id":"fabrikam"},"reportDate":"2026-13-01","subscriptions":[],"users":[{"key":"a"}]}`,
			func(err error) bool { var inv *source.InvalidError; return errors.As(err, &inv) }},
		{"another customer's snapshot", source.KindSnapshot,
			string(bytes.Replace(fabrikamSnapshot(), []byte(`"id": "fabrikam"`), []byte(`"id": "contoso"`), 1)),
			func(err error) bool { var inv *source.InvalidError; return errors.As(err, &inv) }},
	}
	for _, tt := range tests {
		if _, err := f.ingest(t, tt.kind, []byte(tt.body), t0); !tt.check(err) {
			t.Errorf("%s: err = %v (%T)", tt.name, err, err)
		}
	}
	if _, err := f.store.Figures(context.Background(), partner, customer); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after bad documents: FIGURES %v, want none", err)
	}
	if g := generations(t, f); len(g) != 0 {
		t.Errorf("generations %v, want none", g)
	}
	if _, err := f.svc.Ingest(context.Background(), Request{CustomerID: customer, Body: strings.NewReader("{}")}); !errors.Is(err, license.ErrNoTenant) {
		t.Errorf("no tenant: %v", err)
	}
}

func TestSkipInvalidRows(t *testing.T) {
	f := newFixture(t)
	csv := activeUserDetailCSV("2026-11-20",
		audRow{upn: "a@fabrikam.com", licensed: true, exchange: "2026-11-20", assigned: "2025-01-01"},
		audRow{upn: "b@fabrikam.com", licensed: true, exchange: "not-a-date", assigned: "2025-01-01"},
	)
	if _, err := f.ingest(t, source.KindActiveUserDetail, csv, t0); err == nil {
		t.Fatal("a report with a bad row was accepted without SkipInvalid")
	}
	out, err := f.svc.Ingest(context.Background(), Request{
		Tenant: partner, CustomerID: customer, Body: bytes.NewReader(csv), SkipInvalid: true, Now: t0,
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.Users != 1 || len(out.Skipped) != 1 || out.Skipped[0].Line != 3 {
		t.Errorf("outcome = %+v, want 1 user and line 3 skipped", out)
	}
	if rows := rowsOf(t, f); len(rows) != 1 {
		t.Errorf("%d rows, want 1", len(rows))
	}
}

// TestConcurrentIngests: a snapshot, a Partner Center list and a newer
// active user report race for one customer. Whatever the interleaving, the
// end state is the computation of the sources that ended up current, and
// exactly one generation of rows is left.
func TestConcurrentIngests(t *testing.T) {
	f := newFixture(t)
	docs := []struct {
		kind source.Kind
		body []byte
	}{
		{source.KindSnapshot, fabrikamSnapshot()},
		{source.KindPartnerCenterSubs, partnerCenterJSON(e3("s1", 2), e3("pc-2", 3))},
		{source.KindActiveUserDetail, activeUserDetailCSV("2026-11-21",
			audRow{upn: "alice@fabrikam.com", name: "Alice", licensed: true, exchange: "2026-11-21", assigned: "2025-01-01"},
			audRow{upn: "frank@fabrikam.com", name: "Frank", licensed: true, sharepoint: "2026-11-01", assigned: "2026-02-01"},
			audRow{upn: "gus@fabrikam.com", name: "Gus", deleted: true, exchange: "2026-11-20"},
		)},
	}
	start := make(chan struct{})
	errs := make([]error, len(docs))
	var wg sync.WaitGroup
	for i, d := range docs {
		wg.Go(func() {
			<-start
			_, errs[i] = f.svc.Ingest(context.Background(), Request{
				Tenant: partner, CustomerID: customer, Kind: d.kind, Body: bytes.NewReader(d.body),
				Now: t0.Add(time.Duration(i) * time.Second),
			})
		})
	}
	close(start)
	wg.Wait()
	accepted := 0
	for i, err := range errs {
		switch {
		case err == nil:
			accepted++
		case errors.Is(err, ErrConflict):
		case errors.Is(err, ErrStale) && docs[i].kind == source.KindSnapshot:
			// The report (11-21) got in first: the snapshot (11-20) is older.
		default:
			t.Errorf("%s: %v", docs[i].kind, err)
		}
	}
	if accepted == 0 {
		t.Fatal("no ingest succeeded")
	}

	// Recompute from what is current, independently of the service.
	st, err := f.store.LoadState(context.Background(), partner, customer)
	if err != nil {
		t.Fatal(err)
	}
	cf := st.Figures
	var sets license.Sources
	var users []license.User
	cust := license.Customer{ID: customer, Name: customer}
	for _, d := range docs {
		rec, ok := st.Sources[string(d.kind)]
		if !ok {
			continue
		}
		sum := sha256.Sum256(d.body)
		if rec.SHA256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("source %s has hash %s, not the test document's", d.kind, rec.SHA256)
		}
		doc, docUsers := parse(t, d.kind, d.body)
		set := &license.SubscriptionSet{Subscriptions: doc.Subscriptions, AcceptedAt: rec.AcceptedAt}
		switch d.kind {
		case source.KindSnapshot:
			sets.Snapshot = set
			cust = *doc.Customer
		case source.KindPartnerCenterSubs:
			sets.PartnerCenter = set
		}
		if string(d.kind) == cf.UsersKind {
			users = docUsers
		}
	}
	want := license.Compute(license.Input{
		Customer: cust, ReportDate: st.Sources[cf.UsersKind].ReportDate,
		Subscriptions: license.CombineSubscriptions(sets), Users: users, ProductName: catalog.Name,
	})
	if !reflect.DeepEqual(cf.Figures, want.Figures) {
		t.Errorf("final figures are not Compute of the final sources (errors %v):\n got %+v\nwant %+v", errs, cf.Figures, want.Figures)
	}
	if cf.Version != int64(accepted) {
		t.Errorf("version %d after %d accepted ingests", cf.Version, accepted)
	}
	checkRows(t, f, users, want.Entitled)
	if g := generations(t, f); !slices.Equal(g, []int64{cf.Generation}) {
		t.Errorf("generations %v, want exactly the current %d", g, cf.Generation)
	}
}

// crashAfter makes a client that behaves until n BatchWriteItem calls went
// through and then fails every call, as if the ingest's Lambda died: not
// even its clean-up reaches the table.
func crashAfter(client *dynamodb.Client, n int32) *dynamodb.Client {
	var calls, done atomic.Int32
	var crashed atomic.Bool
	firstDone := make(chan struct{})
	return dynamodb.New(client.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("simulatedCrash",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					// Each batch's fate is decided by its own call number, so
					// that parallel writers cannot fail the first n batches;
					// and the crash waits for those n to land, or its error
					// would cancel them in flight and leave nothing half
					// written.
					if _, ok := in.Parameters.(*dynamodb.BatchWriteItemInput); ok {
						if calls.Add(1) <= n {
							out, md, err := next.HandleInitialize(ctx, in)
							if done.Add(1) == n {
								close(firstDone)
							}
							return out, md, err
						}
						select {
						case <-firstDone:
						case <-ctx.Done():
						}
						crashed.Store(true)
					}
					if crashed.Load() {
						return middleware.InitializeOutput{}, middleware.Metadata{}, errors.New("simulated crash")
					}
					return next.HandleInitialize(ctx, in)
				}), middleware.Before)
		})
	})
}

// crowd is n users holding E3, keyed by prefix.
func crowd(prefix string, n int) []license.User {
	users := make([]license.User, n)
	for i := range users {
		users[i] = license.User{
			Key: fmt.Sprintf("%s%03d@fabrikam.com", prefix, i), DisplayName: fmt.Sprintf("%s %d", prefix, i),
			Licenses:  []license.License{{SKU: "SPE_E3", AssignedDate: day("2025-01-01").AddDays(i)}},
			Workloads: []license.WorkloadUse{{Workload: "exchange", Licensed: true, LastActivity: day("2026-11-20").AddDays(-i % 40)}},
		}
	}
	return users
}

func TestCrashHalfWayKeepsPreviousState(t *testing.T) {
	f := newFixture(t)
	first := snapshotJSON("Fabrikam Inc", day("2026-11-20"), []license.Subscription{e3("s1", 50)}, crowd("old", 80))
	f.mustIngest(t, source.KindSnapshot, first, t0)
	before := figuresOf(t, f)
	_, oldUsers := parse(t, source.KindSnapshot, first)
	oldRows := rowsOf(t, f)

	// 80 users are 4 batches; the crash comes after 2 of them.
	crashing := New(store.New(crashAfter(f.client, 2), f.table), Config{ProductName: catalog.Name})
	second := snapshotJSON("Fabrikam Inc", day("2026-11-21"), []license.Subscription{e3("s1", 50)}, crowd("new", 80))
	_, err := crashing.Ingest(context.Background(), Request{
		Tenant: partner, CustomerID: customer, Kind: source.KindSnapshot, Body: bytes.NewReader(second), Now: t0.Add(time.Hour),
	})
	if err == nil || !strings.Contains(err.Error(), "simulated crash") {
		t.Fatalf("ingest through a crashing client: %v", err)
	}

	// The previous state is intact and complete…
	after := figuresOf(t, f)
	if after.Version != before.Version || after.Generation != before.Generation || !reflect.DeepEqual(after.Figures, before.Figures) {
		t.Errorf("FIGURES changed by a crashed ingest: version %d→%d gen %d→%d", before.Version, after.Version, before.Generation, after.Generation)
	}
	if rows := rowsOf(t, f); !reflect.DeepEqual(rows, oldRows) || len(rows) != len(oldUsers) {
		t.Errorf("rows after the crash: %d, want the %d of before, unchanged", len(rows), len(oldUsers))
	}
	// …and the crashed generation is half there.
	abandoned := before.Generation + 1
	if g := generations(t, f); !slices.Equal(g, []int64{before.Generation, abandoned}) {
		t.Fatalf("generations %v, want the current %d and the abandoned %d", g, before.Generation, abandoned)
	}
	n := 0
	for shard := range store.ShardsFor(80) {
		pk, _ := store.GenerationPK(partner, customer, abandoned, shard)
		out, err := f.client.Query(context.Background(), &dynamodb.QueryInput{
			TableName: &f.table, KeyConditionExpression: aws.String("PK = :pk"), Select: types.SelectCount,
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
		})
		if err != nil {
			t.Fatal(err)
		}
		n += int(out.Count)
	}
	if n == 0 || n >= 80 {
		t.Errorf("abandoned generation has %d rows, want part of 80", n)
	}

	// The next ingest sweeps it along with the replaced generation.
	third := snapshotJSON("Fabrikam Inc", day("2026-11-22"), []license.Subscription{e3("s1", 50)}, crowd("third", 30))
	f.mustIngest(t, source.KindSnapshot, third, t0.Add(2*time.Hour))
	cf := figuresOf(t, f)
	if g := generations(t, f); !slices.Equal(g, []int64{cf.Generation}) || cf.Generation <= abandoned {
		t.Errorf("generations %v after the next ingest, want only the new current %d", g, cf.Generation)
	}
	if rows := rowsOf(t, f); len(rows) != 30 {
		t.Errorf("%d rows, want the 30 of the third snapshot", len(rows))
	}
}

// failCommit makes a client whose TransactWriteItems fails: after the
// write reached the table (the answer is lost) or before it left.
func failCommit(client *dynamodb.Client, afterWrite bool) *dynamodb.Client {
	return dynamodb.New(client.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("failCommit",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					if _, ok := in.Parameters.(*dynamodb.TransactWriteItemsInput); !ok {
						return next.HandleInitialize(ctx, in)
					}
					if afterWrite {
						out, md, err := next.HandleInitialize(ctx, in)
						if err == nil {
							err = errors.New("connection reset reading the answer")
						}
						return out, md, err
					}
					return middleware.InitializeOutput{}, middleware.Metadata{}, errors.New("connection refused")
				}), middleware.Before)
		})
	})
}

// TestCommitFailures: a commit whose answer is lost took effect, so its
// generation must stay; a commit that never left must leave nothing.
func TestCommitFailures(t *testing.T) {
	f := newFixture(t)
	f.mustIngest(t, source.KindSnapshot, fabrikamSnapshot(), t0)
	before := figuresOf(t, f)

	refused := New(store.New(failCommit(f.client, false), f.table), Config{ProductName: catalog.Name})
	pc := partnerCenterJSON(e3("s1", 2), e3("pc-2", 1))
	if _, err := refused.Ingest(context.Background(), Request{Tenant: partner, CustomerID: customer, Body: bytes.NewReader(pc), Now: t0.Add(time.Hour)}); err == nil {
		t.Fatal("a commit that never left reported success")
	}
	if cf := figuresOf(t, f); cf.Version != before.Version || cf.Generation != before.Generation {
		t.Errorf("refused commit changed FIGURES to version %d gen %d", cf.Version, cf.Generation)
	}
	if g := generations(t, f); !slices.Equal(g, []int64{before.Generation}) {
		t.Errorf("after a refused commit: generations %v, want only %d (the new one cleaned up)", g, before.Generation)
	}

	lost := New(store.New(failCommit(f.client, true), f.table), Config{ProductName: catalog.Name})
	out, err := lost.Ingest(context.Background(), Request{Tenant: partner, CustomerID: customer, Body: bytes.NewReader(pc), Now: t0.Add(2 * time.Hour)})
	if err != nil {
		t.Fatalf("a commit whose answer was lost but which took effect: %v", err)
	}
	cf := figuresOf(t, f)
	if out.Version != 2 || cf.Version != 2 || cf.Generation == before.Generation {
		t.Errorf("outcome version %d, FIGURES version %d gen %d", out.Version, cf.Version, cf.Generation)
	}
	if rows := rowsOf(t, f); len(rows) != 4 {
		t.Errorf("%d rows in the committed generation, want all 4", len(rows))
	}
	if g := generations(t, f); !slices.Equal(g, []int64{cf.Generation}) {
		t.Errorf("generations %v, want only the committed %d", g, cf.Generation)
	}
}
