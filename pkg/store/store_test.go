package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/licenseinsights/licenseinsights/internal/devstack/devstacktest"
	"github.com/licenseinsights/licenseinsights/pkg/license"
)

func TestMain(m *testing.M) { devstacktest.Main(m) }

func date(t testing.TB, s string) license.Date {
	t.Helper()
	d, err := license.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func newStore(t testing.TB) (*Store, *dynamodb.Client) {
	client, table := devstacktest.Table(t)
	return New(client, table), client
}

// smallCustomer is Fabrikam on 2026-11-20 with 10 sold SPE_E3 (own) and
// four users:
//
//	alice  SPE_E3  exchange licensed, active 2026-11-19         entitled
//	bob    SPE_E3  exchange licensed, last active 2026-10-01    entitled
//	carol  deleted, exchange activity 2026-11-18                not entitled
//	dave   no licence, exchange activity 2026-11-20             not entitled
//
// 28-day window, exchange: entitlements 2 (alice, bob); active 3 (alice,
// carol, dave); counted active 1 (alice); uncounted formerLicensee 2 (carol
// deleted, dave holds nothing). Deployment: 2 assigned of 10 sold = 20 %,
// unassigned 8. Usage over workloads: 3 active ÷ 2 entitlements = 150 %
// (only exchange has entitlements), band high.
func smallCustomer(t testing.TB) (license.Input, license.Result) {
	d := date(t, "2026-11-20")
	lic := func(day string) []license.License {
		return []license.License{{SKU: "SPE_E3", AssignedDate: date(t, day)}}
	}
	ex := func(licensed bool, last string) []license.WorkloadUse {
		return []license.WorkloadUse{{Workload: license.Exchange, Licensed: licensed, LastActivity: date(t, last)}}
	}
	in := license.Input{
		Customer:   license.Customer{ID: "fabrikam", Name: "Fabrikam Inc"},
		ReportDate: d,
		Subscriptions: []license.Subscription{{
			ID: "s1", SKU: "SPE_E3", Name: "Microsoft 365 E3", Quantity: 10,
			Status: license.StatusActive, Channel: license.ChannelOwn, RenewalDate: date(t, "2027-01-31"),
		}},
		Users: []license.User{
			{Key: "alice@fabrikam.com", DisplayName: "Alice", Licenses: lic("2025-01-01"), Workloads: ex(true, "2026-11-19")},
			{Key: "bob@fabrikam.com", DisplayName: "Bob", Licenses: lic("2025-02-01"), Workloads: ex(true, "2026-10-01")},
			{Key: "carol@fabrikam.com", Deleted: true, Workloads: ex(false, "2026-11-18")},
			{Key: "dave#1@fabrikam.com", Workloads: ex(false, "2026-11-20")},
		},
	}
	return in, license.Compute(in)
}

// commitSmall writes the small customer as a first version.
func commitSmall(t *testing.T, ctx context.Context, s *Store, tn license.Tenant) (license.Input, license.Result, int64) {
	t.Helper()
	in, res := smallCustomer(t)
	gen, err := s.NextGeneration(ctx, tn, "fabrikam")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WriteUsers(ctx, tn, "fabrikam", gen, 3, in.Users, res.Entitled); err != nil {
		t.Fatal(err)
	}
	err = s.Commit(ctx, Commit{
		Tenant: tn, CustomerID: "fabrikam", ExpectedVersion: 0,
		Generation: gen, Shards: 3, Users: len(in.Users), UsersKind: "snapshot",
		Figures: &res.Figures,
		Source: SourceRecord{
			Kind: "snapshot", SHA256: "abc123", AcceptedAt: time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC),
			ReportDate: in.ReportDate, Rows: 5, Users: 4, HasSubscriptions: true, HasUsers: true,
			Subscriptions: in.Subscriptions, Support: &license.Support{HowToTickets: 3, Tickets: 10, WindowDays: 28},
		},
		Support:       &license.Support{HowToTickets: 3, Tickets: 10, WindowDays: 28},
		Subscriptions: in.Subscriptions,
		Now:           time.Date(2026, 11, 21, 8, 0, 1, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	return in, res, gen
}

func TestCommitAndReadBack(t *testing.T) {
	ctx := context.Background()
	s, client := newStore(t)
	tn := tenant(t, "partner-a")
	in, res, gen := commitSmall(t, ctx, s, tn)

	f, err := s.Figures(ctx, tn, "fabrikam")
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != 1 || f.Generation != gen || f.Shards != 3 || f.Users != 4 || f.UsersKind != "snapshot" {
		t.Errorf("FIGURES = version %d gen %d shards %d users %d kind %q, want 1 %d 3 4 snapshot",
			f.Version, f.Generation, f.Shards, f.Users, f.UsersKind, gen)
	}
	if !reflect.DeepEqual(f.Figures, res.Figures) {
		t.Errorf("figures read back differ:\n got %+v\nwant %+v", f.Figures, res.Figures)
	}
	if f.Support == nil || *f.Support != (license.Support{HowToTickets: 3, Tickets: 10, WindowDays: 28}) {
		t.Errorf("support = %+v", f.Support)
	}

	subs, err := s.Subscriptions(ctx, tn, "fabrikam")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(subs, in.Subscriptions) {
		t.Errorf("subscriptions = %+v, want %+v", subs, in.Subscriptions)
	}

	st, err := s.LoadState(ctx, tn, "fabrikam")
	if err != nil {
		t.Fatal(err)
	}
	src, ok := st.Sources["snapshot"]
	if st.Version() != 1 || !ok || src.SHA256 != "abc123" || src.ReportDate != in.ReportDate ||
		!reflect.DeepEqual(src.Subscriptions, in.Subscriptions) || src.Support == nil || !src.HasUsers {
		t.Errorf("state = version %d, source %+v", st.Version(), src)
	}

	// The summary: see smallCustomer for the working.
	sumKey, _ := SummaryKey(tn, "fabrikam")
	out, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table()), Key: keyOf(sumKey)})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := DecodeSummary(out.Item)
	if err != nil {
		t.Fatal(err)
	}
	if sum.CustomerName != "Fabrikam Inc" || sum.ReportDate != in.ReportDate || sum.Sold != 10 || sum.SoldByChannel.Own != 10 ||
		sum.Assigned != 2 || *sum.DeploymentPercent != 20 || sum.Unassigned != 8 ||
		sum.Entitlements != 2 || sum.ActiveEntitlements != 3 || sum.CountedActive != 1 ||
		*sum.UsagePercent != 150 || *sum.AdjustedUsagePercent != 50 || sum.Band != "high" ||
		sum.Version != 1 || sum.Users != 4 {
		t.Errorf("summary = %+v", sum)
	}
	if got := stringOf(out.Item, "reportDate"); got != "2026-11-20" {
		t.Errorf("reportDate stored as %q, want the readable 2026-11-20", got)
	}
	wantIndex := map[string]string{
		"GSI1PK": "T#partner-a#NAME", "GSI1SK": "fabrikam inc#fabrikam",
		"GSI2PK": "T#partner-a#USAGE", "GSI2SK": "1#0001500#fabrikam",
		"GSI3PK": "T#partner-a#DEPLOY", "GSI3SK": "1#0000200#fabrikam",
	}
	for a, v := range wantIndex {
		if got := stringOf(out.Item, a); got != v {
			t.Errorf("SUMMARY %s = %q, want %q", a, got, v)
		}
	}

	// Reachable through the name index, as the customer list reads it.
	q, err := client.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(s.Table()), IndexName: aws.String(IndexGSI1),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "T#partner-a#UNASSIGNED"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Items) != 1 || stringOf(q.Items[0], "SK") != "RANK" || stringOf(q.Items[0], "GSI1SK") != "9999999991#fabrikam" {
		t.Errorf("most-unassigned index has %d items: %v", len(q.Items), q.Items)
	}
	// Not an upsell candidate (Upsell false): the sparse index is empty.
	rankKey, _ := RankKey(tn, "fabrikam")
	out, _ = client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table()), Key: keyOf(rankKey)})
	if _, ok := out.Item["GSI2PK"]; ok {
		t.Error("RANK carries an upsell key without being a candidate")
	}

	dayKey, _ := DayKey(tn, "fabrikam", in.ReportDate)
	out, _ = client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table()), Key: keyOf(dayKey)})
	exp, err := intOf(out.Item, "expiresAt")
	if err != nil || out.Item == nil {
		t.Fatalf("DAY item %v: %v", out.Item, err)
	}
	// 2026-11-20 + 400 days = 2027-12-25, midnight UTC.
	if want := time.Date(2027, 12, 25, 0, 0, 0, 0, time.UTC).Unix(); exp != want {
		t.Errorf("DAY expiresAt = %d, want %d", exp, want)
	}

	// The rows stream back as written.
	var rows []UserRow
	if err := s.Users(ctx, tn, "fabrikam", func(r UserRow) error { rows = append(rows, r); return nil }); err != nil {
		t.Fatal(err)
	}
	checkRows(t, rows, in.Users, res.Entitled)

	// Another tenant cannot see any of it.
	other := tenant(t, "partner-b")
	if _, err := s.Figures(ctx, other, "fabrikam"); !errors.Is(err, ErrNotFound) {
		t.Errorf("other tenant's Figures: %v, want ErrNotFound", err)
	}
	if err := s.Users(ctx, other, "fabrikam", func(UserRow) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Errorf("other tenant's Users: %v, want ErrNotFound", err)
	}
}

// checkRows compares rows (any order) with users and their entitled flags.
func checkRows(t *testing.T, rows []UserRow, users []license.User, entitled []bool) {
	t.Helper()
	want := map[string]UserRow{}
	for i, u := range users {
		want[u.Key] = UserRow{User: u, Entitled: entitled[i]}
	}
	if len(rows) != len(want) {
		t.Errorf("%d rows, want %d", len(rows), len(want))
	}
	for _, r := range rows {
		w, ok := want[r.User.Key]
		if !ok {
			t.Errorf("unexpected row %q", r.User.Key)
			continue
		}
		if !reflect.DeepEqual(normal(r), normal(w)) {
			t.Errorf("row %q:\n got %+v\nwant %+v", r.User.Key, r, w)
		}
	}
}

// normal makes empty and nil slices equal.
func normal(r UserRow) UserRow {
	if len(r.User.Licenses) == 0 {
		r.User.Licenses = nil
	}
	if len(r.User.Workloads) == 0 {
		r.User.Workloads = nil
	}
	return r
}

func TestCommitConflict(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	tn := tenant(t, "partner-a")
	_, res, gen := commitSmall(t, ctx, s, tn)

	commit := func(expected int64) error {
		return s.Commit(ctx, Commit{
			Tenant: tn, CustomerID: "fabrikam", ExpectedVersion: expected, Generation: gen, Shards: 3, Users: 4,
			Figures: &res.Figures, Source: SourceRecord{Kind: "partner-center-subscriptions", SHA256: fmt.Sprint(expected), HasSubscriptions: true},
		})
	}
	if err := commit(0); !errors.Is(err, ErrConflict) {
		t.Errorf("commit expecting no figures over version 1: %v, want ErrConflict", err)
	}
	if err := commit(1); err != nil {
		t.Errorf("commit expecting version 1: %v", err)
	}
	if err := commit(1); !errors.Is(err, ErrConflict) {
		t.Errorf("second commit expecting version 1: %v, want ErrConflict", err)
	}
	f, err := s.Figures(ctx, tn, "fabrikam")
	if err != nil || f.Version != 2 {
		t.Fatalf("after one good second commit: version %v, %v; want 2", f, err)
	}
	// The failed transaction wrote nothing: the source is the good one's.
	st, _ := s.LoadState(ctx, tn, "fabrikam")
	if got := st.Sources["partner-center-subscriptions"].SHA256; got != "1" {
		t.Errorf("source written by the commit of version 2 has hash %q, want 1", got)
	}
}

func TestCommitRefusesBadInput(t *testing.T) {
	s, _ := newStore(t)
	_, res := smallCustomer(t)
	tn := tenant(t, "p")
	for name, c := range map[string]Commit{
		"no figures":    {Tenant: tn, CustomerID: "c", Generation: 1, Shards: 1, Source: SourceRecord{Kind: "snapshot"}},
		"no generation": {Tenant: tn, CustomerID: "c", Shards: 1, Figures: &res.Figures, Source: SourceRecord{Kind: "snapshot"}},
		"no kind":       {Tenant: tn, CustomerID: "c", Generation: 1, Shards: 1, Figures: &res.Figures},
		"zero tenant":   {CustomerID: "c", Generation: 1, Shards: 1, Figures: &res.Figures, Source: SourceRecord{Kind: "snapshot"}},
		"bad customer":  {Tenant: tn, CustomerID: "a#b", Generation: 1, Shards: 1, Figures: &res.Figures, Source: SourceRecord{Kind: "snapshot"}},
	} {
		if err := s.Commit(context.Background(), c); err == nil || errors.Is(err, ErrConflict) {
			t.Errorf("%s: Commit err = %v, want a validation error", name, err)
		}
	}
}

func TestNextGenerationNeverRepeats(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	tn := tenant(t, "p")
	var (
		mu   sync.Mutex
		seen []int64
		wg   sync.WaitGroup
	)
	for range 8 {
		wg.Go(func() {
			for range 5 {
				g, err := s.NextGeneration(ctx, tn, "c")
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seen = append(seen, g)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(seen)
	for i, g := range seen {
		if g != int64(i+1) {
			t.Fatalf("generations handed out %v, want 1…40 each once", seen)
		}
	}
}

// manyUsers makes n users whose contents depend on their index.
func manyUsers(n int, prefix string) ([]license.User, []bool) {
	users := make([]license.User, n)
	entitled := make([]bool, n)
	for i := range users {
		users[i] = license.User{
			Key:         fmt.Sprintf("%s%05d@example.com", prefix, i),
			DisplayName: fmt.Sprintf("User %d", i),
			Deleted:     i%17 == 0,
			Licenses:    []license.License{{SKU: "SPE_E3", AssignedDate: license.Date(19000 + i%300)}},
			Workloads: []license.WorkloadUse{
				{Workload: license.Exchange, Licensed: true, LastActivity: license.Date(20400 + i%50)},
				{Workload: license.Teams, Licensed: i%2 == 0},
				{Workload: "office", Licensed: true, LastActivity: license.Date(20410)},
			},
		}
		entitled[i] = i%3 != 0
	}
	return users, entitled
}

func TestUsersPerGenerationAndDelete(t *testing.T) {
	ctx := context.Background()
	s, client := newStore(t)
	tn := tenant(t, "p")
	usersA, entA := manyUsers(230, "a")
	usersB, entB := manyUsers(70, "b")
	if err := s.WriteUsers(ctx, tn, "c", 1, 4, usersA, entA); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteUsers(ctx, tn, "c", 2, 1, usersB, entB); err != nil {
		t.Fatal(err)
	}
	read := func(gen int64, shards int) []UserRow {
		var rows []UserRow
		if err := s.GenerationUsers(ctx, tn, "c", gen, shards, func(r UserRow) error { rows = append(rows, r); return nil }); err != nil {
			t.Fatal(err)
		}
		return rows
	}
	checkRows(t, read(1, 4), usersA, entA)
	checkRows(t, read(2, 1), usersB, entB)

	// Every shard of generation 1 got rows (230 users over 4 shards).
	for shard := range 4 {
		pk, _ := GenerationPK(tn, "c", 1, shard)
		if n := countPartition(t, client, s.Table(), pk); n == 0 {
			t.Errorf("shard %d of generation 1 is empty", shard)
		}
	}

	if err := s.DeleteGenerations(ctx, tn, "c", 1, 2); err != nil {
		t.Fatal(err)
	}
	if rows := read(1, 4); len(rows) != 0 {
		t.Errorf("generation 1 still has %d rows after its deletion", len(rows))
	}
	checkRows(t, read(2, 1), usersB, entB)
	if got := generationsPresent(t, client, s.Table(), tn, "c"); !reflect.DeepEqual(got, []int64{2}) {
		t.Errorf("generations in the table: %v, want [2]", got)
	}
}

// The shards are read several at once, yet the rows must reach the caller
// shard by shard and in key order within a shard, every one exactly once;
// a caller's error or a cancelled context must stop the readers.
func TestGenerationUsersInShardOrder(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	tn := tenant(t, "p")
	const shards = 3*readAhead + 1
	users, entitled := manyUsers(600, "o")
	if err := s.WriteUsers(ctx, tn, "c", 1, shards, users, entitled); err != nil {
		t.Fatal(err)
	}
	var rows []UserRow
	if err := s.GenerationUsers(ctx, tn, "c", 1, shards, func(r UserRow) error { rows = append(rows, r); return nil }); err != nil {
		t.Fatal(err)
	}
	checkRows(t, rows, users, entitled)
	for i := 1; i < len(rows); i++ {
		a, b := rows[i-1].User.Key, rows[i].User.Key
		sa, sb := ShardOf(a, shards), ShardOf(b, shards)
		if sa > sb || sa == sb && a >= b {
			t.Fatalf("row %d (%q, shard %d) after %q (shard %d): want shard order, then key order", i, b, sb, a, sa)
		}
	}

	stop := errors.New("enough")
	seen := 0
	err := s.GenerationUsers(ctx, tn, "c", 1, shards, func(UserRow) error {
		if seen++; seen == 100 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || seen != 100 {
		t.Errorf("caller stopping at row 100: error %v after %d rows, want %v after 100", err, seen, stop)
	}

	cancelled, cancel := context.WithCancel(ctx)
	seen = 0
	err = s.GenerationUsers(cancelled, tn, "c", 1, shards, func(UserRow) error {
		if seen++; seen == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("context cancelled at row 10: error %v after %d rows, want %v", err, seen, context.Canceled)
	}
}

func TestWriteUsersRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	s, client := newStore(t)
	tn := tenant(t, "p")
	users, ent := manyUsers(3, "x")
	dup := append(slices.Clone(users), users[1])
	for name, call := range map[string]func() error{
		"flag count":     func() error { return s.WriteUsers(ctx, tn, "c", 1, 1, users, ent[:2]) },
		"no shards":      func() error { return s.WriteUsers(ctx, tn, "c", 1, 0, users, ent) },
		"too many":       func() error { return s.WriteUsers(ctx, tn, "c", 1, MaxShards+1, users, ent) },
		"duplicate key":  func() error { return s.WriteUsers(ctx, tn, "c", 1, 1, dup, append(ent, true)) },
		"generation 0":   func() error { return s.WriteUsers(ctx, tn, "c", 0, 1, users, ent) },
		"zero tenant":    func() error { return s.WriteUsers(ctx, license.Tenant{}, "c", 1, 1, users, ent) },
		"empty user key": func() error { return s.WriteUsers(ctx, tn, "c", 1, 1, []license.User{{}}, []bool{false}) },
	} {
		if err := call(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := s.WriteUsers(ctx, tn, "c", 1, 1, users, ent); err != nil {
		t.Fatal(err)
	}
	if got := generationsPresent(t, client, s.Table(), tn, "c"); !reflect.DeepEqual(got, []int64{1}) {
		t.Errorf("generations: %v, want only the good write's [1]", got)
	}
}

// TestUsersNoticesAFlip: a generation replaced while Users reads it may
// lose rows under the reader, so Users says so.
func TestUsersNoticesAFlip(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	tn := tenant(t, "partner-a")
	in, res, _ := commitSmall(t, ctx, s, tn)
	flipped := false
	err := s.Users(ctx, tn, "fabrikam", func(UserRow) error {
		if flipped {
			return nil
		}
		flipped = true
		gen, err := s.NextGeneration(ctx, tn, "fabrikam")
		if err != nil {
			return err
		}
		if err := s.WriteUsers(ctx, tn, "fabrikam", gen, 1, in.Users, res.Entitled); err != nil {
			return err
		}
		return s.Commit(ctx, Commit{
			Tenant: tn, CustomerID: "fabrikam", ExpectedVersion: 1, Generation: gen, Shards: 1, Users: 4,
			Figures: &res.Figures, Source: SourceRecord{Kind: "snapshot", SHA256: "other"},
		})
	})
	if !errors.Is(err, ErrGenerationChanged) {
		t.Errorf("Users across a flip: %v, want ErrGenerationChanged", err)
	}
}

func TestUserRowRoundTrip(t *testing.T) {
	users := []license.User{
		{Key: "plain@x.com"},
		{Key: "8F3C2A91B7", DisplayName: "", Deleted: true},
		{
			Key: "full#key|with@odd.chars", DisplayName: "Zoë O'Brien, \"ZB\"",
			Licenses: []license.License{
				{SKU: "SPE_E3", AssignedDate: date(t, "2025-01-01")},
				{SKU: "ODD|SKU NAME"}, // a '|' inside an unknown product name, no date
			},
			Workloads: []license.WorkloadUse{
				{Workload: license.Exchange, Licensed: true, LastActivity: date(t, "2026-11-19")},
				{Workload: license.SharePoint, Licensed: false, LastActivity: date(t, "2026-11-01")},
				{Workload: license.Teams, Licensed: true},
				{Workload: "office"},
			},
		},
	}
	for i, u := range users {
		item, err := encodeUser("PK", &u, i == 2)
		if err != nil {
			t.Fatal(err)
		}
		r, err := decodeUser(item)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(normal(r), normal(UserRow{User: u, Entitled: i == 2})) {
			t.Errorf("round trip of %q:\n got %+v\nwant %+v", u.Key, r, u)
		}
	}
	// The compact form: no attributes for absent values.
	item, _ := encodeUser("PK", &users[0], false)
	if len(item) != 2 {
		t.Errorf("a bare user row has attributes %v, want only PK and SK", item)
	}
}

func countPartition(t *testing.T, client *dynamodb.Client, table, pk string) int {
	t.Helper()
	out, err := client.Query(context.Background(), &dynamodb.QueryInput{
		TableName: &table, KeyConditionExpression: aws.String("PK = :pk"), Select: types.SelectCount,
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return int(out.Count)
}

// generationsPresent scans the (test) table for the generations that have
// user rows for a customer: a test's view of what the store left behind.
func generationsPresent(t *testing.T, client *dynamodb.Client, table string, tn license.Tenant, customerID string) []int64 {
	t.Helper()
	prefix, _ := CustomerPK(tn, customerID)
	prefix += "#G#"
	found := map[int64]bool{}
	p := dynamodb.NewScanPaginator(client, &dynamodb.ScanInput{TableName: &table, ProjectionExpression: aws.String("PK")})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range page.Items {
			pk := stringOf(item, "PK")
			rest, ok := strings.CutPrefix(pk, prefix)
			if !ok {
				continue
			}
			var g int64
			var s int
			if _, err := fmt.Sscanf(strings.ReplaceAll(rest, "#", " "), "%d S %d", &g, &s); err != nil {
				t.Fatalf("odd generation key %q: %v", pk, err)
			}
			found[g] = true
		}
	}
	var gens []int64
	for g := range found {
		gens = append(gens, g)
	}
	slices.Sort(gens)
	return gens
}

func TestSweepGenerations(t *testing.T) {
	ctx := context.Background()
	s, client := newStore(t)
	tn := tenant(t, "p")
	write := func(gen int64, shards, n int) {
		t.Helper()
		users, ent := manyUsers(n, fmt.Sprintf("g%d-", gen))
		if err := s.WriteUsers(ctx, tn, "c", gen, shards, users, ent); err != nil {
			t.Fatal(err)
		}
	}
	present := func() []int64 { return generationsPresent(t, client, s.Table(), tn, "c") }

	// 1 was current (3 shards), 2 abandoned by a crash (its 5 shards are
	// unknown to the sweeper), 3 just committed.
	write(1, 3, 60)
	write(2, 5, 40)
	write(3, 2, 30)
	if err := s.SweepGenerations(ctx, tn, "c", 3, map[int64]int{1: 3}); err != nil {
		t.Fatal(err)
	}
	if got := present(); !reflect.DeepEqual(got, []int64{3}) {
		t.Fatalf("after sweeping below 3: generations %v, want [3]", got)
	}

	// 4 is committed but its sweep never runs (a crash right after the
	// commit); 5 is committed next: its sweep makes up for the lost one.
	write(4, 1, 10)
	write(5, 1, 10)
	if err := s.SweepGenerations(ctx, tn, "c", 5, map[int64]int{4: 1}); err != nil {
		t.Fatal(err)
	}
	if got := present(); !reflect.DeepEqual(got, []int64{5}) {
		t.Errorf("after sweeping below 5: generations %v, want [5]", got)
	}
	gk, _ := GenCounterKey(tn, "c")
	out, _ := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table()), Key: keyOf(gk)})
	if mark, _ := intOf(out.Item, attrSweptBelow); mark != 5 {
		t.Errorf("sweep mark %d, want 5", mark)
	}
	// A late sweep of an older commit neither deletes the current
	// generation nor moves the mark back.
	if err := s.SweepGenerations(ctx, tn, "c", 4, nil); err != nil {
		t.Fatal(err)
	}
	out, _ = client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table()), Key: keyOf(gk)})
	if mark, _ := intOf(out.Item, attrSweptBelow); mark != 5 || !reflect.DeepEqual(present(), []int64{5}) {
		t.Errorf("late sweep: mark %d, generations %v; want 5 and [5]", mark, present())
	}
}
