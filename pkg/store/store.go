package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// Errors callers branch on.
var (
	// ErrNotFound: the item does not exist (for a customer: no figures yet,
	// or another tenant's customer, which is the same thing by key design).
	ErrNotFound = errors.New("not found")
	// ErrConflict: the customer's figures moved on since they were read.
	ErrConflict = errors.New("the customer's figures were changed by another ingest")
)

// Store is the DynamoDB single table.
type Store struct {
	db            *dynamodb.Client
	table         string
	workers       int
	retryAttempts int
	retryBase     time.Duration
	retryMax      time.Duration
}

// Option tunes a Store.
type Option func(*Store)

// WithWorkers sets how many batch writes (and partition sweeps) run at once;
// the default is 4.
func WithWorkers(n int) Option { return func(s *Store) { s.workers = max(n, 1) } }

// New is a Store on table through client. The client is expected to carry
// its own tracing (X-Ray) and retry configuration.
func New(client *dynamodb.Client, table string, opts ...Option) *Store {
	s := &Store{
		db: client, table: table, workers: 4,
		retryAttempts: 12, retryBase: 25 * time.Millisecond, retryMax: 2 * time.Second,
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Table is the table's name.
func (s *Store) Table() string { return s.table }

// Attribute names of the FIGURES item.
const (
	attrVersion      = "version"
	attrGeneration   = "gen"
	attrShards       = "shards"
	attrUserCount    = "users"
	attrReportDate   = "reportDate"
	attrUpdatedAt    = "updatedAt"
	attrUsersKind    = "usersKind"
	attrCustomerName = "customerName"
)

// CustomerFigures is the FIGURES item: the figures of every window, plus
// where the users behind them are (generation, shards).
type CustomerFigures struct {
	Figures license.Figures
	// Version counts commits, from 1; every Commit is conditioned on it.
	Version    int64
	Generation int64
	Shards     int
	Users      int
	// UsersKind is the kind of the document the users came from ("" when
	// only subscriptions were ingested so far).
	UsersKind string
	// Support is the help-desk demand of the current snapshot, if it had one.
	Support   *license.Support
	UpdatedAt time.Time
}

func decodeFigures(item map[string]types.AttributeValue) (*CustomerFigures, error) {
	var (
		f   CustomerFigures
		err error
	)
	if f.Version, err = intOf(item, attrVersion); err != nil {
		return nil, err
	}
	if f.Generation, err = intOf(item, attrGeneration); err != nil {
		return nil, err
	}
	shards, err := intOf(item, attrShards)
	if err != nil {
		return nil, err
	}
	users, err := intOf(item, attrUserCount)
	if err != nil {
		return nil, err
	}
	f.Shards, f.Users = int(shards), int(users)
	f.UsersKind = stringOf(item, attrUsersKind)
	if err := getJSON(item, attrFigures, &f.Figures); err != nil {
		return nil, err
	}
	if _, ok := item[attrSupport]; ok {
		f.Support = new(license.Support)
		if err := getJSON(item, attrSupport, f.Support); err != nil {
			return nil, err
		}
	}
	if ts := stringOf(item, attrUpdatedAt); ts != "" {
		if f.UpdatedAt, err = time.Parse(time.RFC3339Nano, ts); err != nil {
			return nil, fmt.Errorf("attribute %s: %w", attrUpdatedAt, err)
		}
	}
	return &f, nil
}

// Figures reads a customer's FIGURES item (strongly consistent).
func (s *Store) Figures(ctx context.Context, t license.Tenant, customerID string) (*CustomerFigures, error) {
	k, err := FiguresKey(t, customerID)
	if err != nil {
		return nil, err
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: keyOf(k), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("reading figures of %s: %w", customerID, err)
	}
	if out.Item == nil {
		return nil, fmt.Errorf("figures of customer %s: %w", customerID, ErrNotFound)
	}
	f, err := decodeFigures(out.Item)
	if err != nil {
		return nil, fmt.Errorf("figures of customer %s: %w", customerID, err)
	}
	return f, nil
}

// Subscriptions reads the customer's combined subscriptions.
func (s *Store) Subscriptions(ctx context.Context, t license.Tenant, customerID string) ([]license.Subscription, error) {
	k, err := SubscriptionsKey(t, customerID)
	if err != nil {
		return nil, err
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: keyOf(k)})
	if err != nil {
		return nil, fmt.Errorf("reading subscriptions of %s: %w", customerID, err)
	}
	if out.Item == nil {
		return nil, fmt.Errorf("subscriptions of customer %s: %w", customerID, ErrNotFound)
	}
	var subs []license.Subscription
	if err := getJSON(out.Item, attrSubscriptions, &subs); err != nil {
		return nil, fmt.Errorf("subscriptions of customer %s: %w", customerID, err)
	}
	return subs, nil
}

// State is what an ingest needs to know of a customer before it computes.
type State struct {
	// Figures is the FIGURES item, nil when the customer has none yet
	// (then Version 0 is what Commit expects).
	Figures *CustomerFigures
	// Sources are the accepted documents by kind.
	Sources map[string]SourceRecord
}

// Version is the version a Commit must expect.
func (st *State) Version() int64 {
	if st.Figures == nil {
		return 0
	}
	return st.Figures.Version
}

// LoadState reads FIGURES, then the SOURCE# items. The order matters: a
// commit landing between the two reads shows as newer sources with an older
// version, and the Commit conditioned on that older version then fails
// instead of writing figures computed from a mixed state.
func (s *Store) LoadState(ctx context.Context, t license.Tenant, customerID string) (*State, error) {
	pk, err := CustomerPK(t, customerID)
	if err != nil {
		return nil, err
	}
	st := &State{Sources: map[string]SourceRecord{}}
	f, err := s.Figures(ctx, t, customerID)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return nil, err
	default:
		st.Figures = f
	}
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: pk}, ":prefix": &types.AttributeValueMemberS{Value: skSourcePrefix},
		},
		ConsistentRead: aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading sources of %s: %w", customerID, err)
		}
		for _, item := range page.Items {
			r, err := decodeSource(item)
			if err != nil {
				return nil, fmt.Errorf("customer %s: %w", customerID, err)
			}
			st.Sources[r.Kind] = r
		}
	}
	return st, nil
}

// NextGeneration hands out the customer's next generation number. The
// counter only grows (ADD is atomic), so a number is never reused, not even
// after an ingest crashed between taking it and committing.
func (s *Store) NextGeneration(ctx context.Context, t license.Tenant, customerID string) (int64, error) {
	k, err := GenCounterKey(t, customerID)
	if err != nil {
		return 0, err
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       keyOf(k),
		UpdateExpression:          aws.String("ADD #gen :one"),
		ExpressionAttributeNames:  map[string]string{"#gen": attrGeneration},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": numberAttr(1)},
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return 0, fmt.Errorf("taking a generation for %s: %w", customerID, err)
	}
	return intOf(out.Attributes, attrGeneration)
}

// Commit is one ingest's result, written atomically.
type Commit struct {
	Tenant     license.Tenant
	CustomerID string
	// ExpectedVersion is the FIGURES version the figures were computed
	// from; 0 means FIGURES must not exist yet. The new version is
	// ExpectedVersion+1.
	ExpectedVersion int64
	// Generation and Shards locate the users written by WriteUsers.
	Generation int64
	Shards     int
	Users      int
	UsersKind  string
	Figures    *license.Figures
	// Source is the accepted document; it replaces SOURCE#<its kind>.
	Source SourceRecord
	// Support is the current snapshot's help-desk demand (nil: none).
	Support *license.Support
	// Subscriptions are the combined subscriptions of the new state.
	Subscriptions []license.Subscription
	// Upsell puts the customer on the upsell candidates list.
	Upsell bool
	// Replaced is the kind whose current document the partner replaced on
	// purpose (?replace=true), recorded on the day's history point; "" for
	// an ordinary ingest, which leaves an earlier record of the day alone.
	Replaced string
	Now      time.Time
}

// Commit writes FIGURES (conditioned on the expected version), SUMMARY,
// RANK, SOURCE#<kind>, SUBSCRIPTIONS and DAY#<report date> in one
// TransactWriteItems: readers see all of it or none. ErrConflict when the
// version moved on (or another transaction held the item).
func (s *Store) Commit(ctx context.Context, c Commit) error {
	items, err := s.commitItems(c)
	if err != nil {
		return fmt.Errorf("committing %s: %w", c.CustomerID, err)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	var cancelled *types.TransactionCanceledException
	if errors.As(err, &cancelled) {
		for _, r := range cancelled.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ConditionalCheckFailed", "TransactionConflict":
				return fmt.Errorf("committing %s at version %d: %w", c.CustomerID, c.ExpectedVersion+1, ErrConflict)
			}
		}
	}
	var inProgress *types.TransactionInProgressException
	if errors.As(err, &inProgress) {
		return fmt.Errorf("committing %s: %w", c.CustomerID, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("committing %s: %w", c.CustomerID, err)
	}
	return nil
}

func (s *Store) commitItems(c Commit) ([]types.TransactWriteItem, error) {
	if c.Figures == nil {
		return nil, errors.New("no figures")
	}
	if c.Generation < 1 || c.Shards < 1 || c.Shards > MaxShards {
		return nil, fmt.Errorf("generation %d with %d shards is not a written generation", c.Generation, c.Shards)
	}
	if c.Figures.ReportDate.IsZero() {
		return nil, errors.New("figures have no report date")
	}
	if c.Now.IsZero() {
		c.Now = time.Now()
	}
	c.Now = c.Now.UTC()
	t, id := c.Tenant, c.CustomerID
	version := c.ExpectedVersion + 1

	figKey, err := FiguresKey(t, id)
	if err != nil {
		return nil, err
	}
	figures := withKey(map[string]types.AttributeValue{
		attrVersion:      numberAttr(version),
		attrGeneration:   numberAttr(c.Generation),
		attrShards:       numberAttr(int64(c.Shards)),
		attrUserCount:    numberAttr(int64(c.Users)),
		attrReportDate:   &types.AttributeValueMemberS{Value: c.Figures.ReportDate.String()},
		attrUpdatedAt:    &types.AttributeValueMemberS{Value: c.Now.Format(time.RFC3339Nano)},
		attrCustomerName: &types.AttributeValueMemberS{Value: c.Figures.Customer.Name},
	}, figKey)
	if c.UsersKind != "" {
		figures[attrUsersKind] = &types.AttributeValueMemberS{Value: c.UsersKind}
	}
	if err := putJSON(figures, attrFigures, c.Figures); err != nil {
		return nil, err
	}
	if c.Support != nil {
		if err := putJSON(figures, attrSupport, c.Support); err != nil {
			return nil, err
		}
	}
	put := &types.Put{TableName: &s.table, Item: figures}
	if c.ExpectedVersion == 0 {
		put.ConditionExpression = aws.String("attribute_not_exists(PK)")
	} else {
		put.ConditionExpression = aws.String("#v = :v")
		put.ExpressionAttributeNames = map[string]string{"#v": attrVersion}
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": numberAttr(c.ExpectedVersion)}
	}
	items := []types.TransactWriteItem{{Put: put}}
	add := func(item map[string]types.AttributeValue) {
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: item}})
	}

	sum := SummaryOf(c.Figures)
	sum.CustomerID = id
	sum.Upsell = c.Upsell
	sum.Users = c.Users
	sum.Version = version
	sum.UpdatedAt = c.Now

	k, err := SummaryKey(t, id)
	if err != nil {
		return nil, err
	}
	idx, err := summaryIndexKeys(t, id, sum.CustomerName, sum.UsagePercent, sum.DeploymentPercent)
	if err != nil {
		return nil, err
	}
	item, err := summaryItem(sum, k, idx)
	if err != nil {
		return nil, err
	}
	add(item)

	if k, err = RankKey(t, id); err != nil {
		return nil, err
	}
	if idx, err = rankIndexKeys(t, id, sum.Unassigned, sum.UsagePercent, sum.Upsell); err != nil {
		return nil, err
	}
	cidx, err := copilotRankKey(t, id, sum.CopilotIdleSeats)
	if err != nil {
		return nil, err
	}
	idx = append(idx, cidx...)
	if item, err = summaryItem(sum, k, idx); err != nil {
		return nil, err
	}
	add(item)

	if k, err = SourceKey(t, id, c.Source.Kind); err != nil {
		return nil, err
	}
	if item, err = sourceItem(c.Source, k); err != nil {
		return nil, err
	}
	add(item)

	if k, err = SubscriptionsKey(t, id); err != nil {
		return nil, err
	}
	subs := c.Subscriptions
	if subs == nil {
		subs = []license.Subscription{}
	}
	item = withKey(map[string]types.AttributeValue{
		attrVersion: numberAttr(version), attrUpdatedAt: &types.AttributeValueMemberS{Value: c.Now.Format(time.RFC3339Nano)},
	}, k)
	if err := putJSON(item, attrSubscriptions, subs); err != nil {
		return nil, err
	}
	add(item)

	if k, err = DayKey(t, id, c.Figures.ReportDate); err != nil {
		return nil, err
	}
	sum.Replaced = c.Replaced
	if item, err = summaryItem(sum, k, nil); err != nil {
		return nil, err
	}
	expires := c.Figures.ReportDate.Time().Add(HistoryRetention).Unix()
	item[attrExpiresAt] = &types.AttributeValueMemberN{Value: strconv.FormatInt(expires, 10)}
	// An update, not a put: a later ingest of the same day rewrites the
	// figures but keeps the record that a document was replaced.
	items = append(items, types.TransactWriteItem{Update: updateAll(s.table, item, summaryOptional)})
	return items, nil
}

// summaryOptional are the Summary's attributes that are left out when
// empty: an update must remove them then, or the day would keep the old
// figure.
var summaryOptional = []string{"deploymentPercent", "usagePercent", "adjustedUsagePercent"}

// updateAll is the Update that sets every attribute of item but its key,
// and removes those of optional that item lacks.
func updateAll(table string, item map[string]types.AttributeValue, optional []string) *types.Update {
	names := map[string]string{}
	values := map[string]types.AttributeValue{}
	var set []string
	i := 0
	for name, v := range item {
		if name == attrPK || name == attrSK {
			continue
		}
		n, val := fmt.Sprintf("#a%d", i), fmt.Sprintf(":v%d", i)
		names[n], values[val] = name, v
		set = append(set, n+" = "+val)
		i++
	}
	sort.Strings(set)
	expr := "SET " + strings.Join(set, ", ")
	var remove []string
	for _, name := range optional {
		if _, ok := item[name]; !ok {
			n := fmt.Sprintf("#r%d", len(remove))
			names[n] = name
			remove = append(remove, n)
		}
	}
	if len(remove) > 0 {
		expr += " REMOVE " + strings.Join(remove, ", ")
	}
	return &types.Update{
		TableName:                 aws.String(table),
		Key:                       map[string]types.AttributeValue{attrPK: item[attrPK], attrSK: item[attrSK]},
		UpdateExpression:          aws.String(expr),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}
}
