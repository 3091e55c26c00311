package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// A collection run (docs/definitions.md#collection-from-microsoft) is one item, T#<t> / COLLECTION#<id>, holding
// the run's status and a counter per customer state; each customer of the
// run is one item in the run's own partition, T#<t>#RUN#<id> / CUST#<c>.
// A customer moves between states with a transaction that updates its item
// (conditioned on the state it was read in) and moves one unit between the
// run's counters, so the counts are exact whatever is redelivered:
//
//	pending ──claim──▶ running ──finish──▶ succeeded | failed
//	                     ▲  │
//	                     └──┘ claim again once the lease ran out
//
// The run is succeeded when no customer is pending or running (a
// customer's failure never fails the run), failed when its customers could
// not be listed.

// Customer states of a collection run.
const (
	CollectPending   = "pending"
	CollectRunning   = "running"
	CollectSucceeded = "succeeded"
	CollectFailed    = "failed"
	CollectSkipped   = "skipped"
)

// CollectStates lists the states in the order the API shows their counts.
var CollectStates = []string{CollectPending, CollectRunning, CollectSucceeded, CollectFailed, CollectSkipped}

// Run statuses.
const (
	RunRunning   = "running"
	RunSucceeded = "succeeded"
	RunFailed    = "failed"
)

// CollectionRetention is how long run items live (TTL): the collected
// documents are kept 7 days, the record of what happened 30.
const CollectionRetention = 30 * 24 * time.Hour

// ErrCollectTaken: the customer is finished in this run, or another
// attempt holds its lease; a redelivered message has nothing to do.
var ErrCollectTaken = errors.New("the customer is already collected or being collected in this run")

// Collection is a run as stored.
type Collection struct {
	ID         string         `json:"collectionId"`
	Trigger    string         `json:"trigger"` // "schedule" | "api" | "startup"
	Status     string         `json:"status"`
	Reason     string         `json:"reason,omitempty"` // why a run failed
	StartedAt  time.Time      `json:"startedAt"`
	FinishedAt *time.Time     `json:"finishedAt,omitempty"`
	Counts     map[string]int `json:"counts"`
}

// CollectOutcome is one customer of a run.
type CollectOutcome struct {
	CustomerID string         `json:"customerId"`
	Name       string         `json:"name,omitempty"`
	State      string         `json:"state"`
	Code       string         `json:"code,omitempty"`
	Message    string         `json:"message,omitempty"`
	Problems   []any          `json:"problems,omitempty"`
	Documents  []CollectedDoc `json:"documents,omitempty"`
	Attempts   int            `json:"attempts"`
	UpdatedAt  time.Time      `json:"updatedAt"`
	// LeaseUntil is when a running attempt is presumed dead.
	LeaseUntil *time.Time `json:"-"`
}

// CollectedDoc is one document a customer's collection wrote.
type CollectedDoc struct {
	Kind     string `json:"kind"`
	UploadID string `json:"uploadId"`
	Status   string `json:"status,omitempty"` // the ingest's: accepted, unchanged…
}

const (
	skCollectionPrefix = "COLLECTION#"
	skRunCustomer      = "CUST#"
	skCollectCustomers = "COLLECTCUSTOMERS"
	attrRun            = "run"
	attrOutcome        = "outcome"
	attrState          = "state"
	attrAttempt        = "attempt"
)

func countAttr(state string) string { return "n_" + state }

// CollectionKey is a run.
func CollectionKey(t license.Tenant, id string) (Key, error) {
	return tenantItemKey(t, skCollectionPrefix, id)
}

// RunCustomerKey is one customer of a run, in the run's partition.
func RunCustomerKey(t license.Tenant, runID, customerID string) (Key, error) {
	k, err := CollectionKey(t, runID)
	if err != nil {
		return Key{}, err
	}
	if err := license.ValidCustomerID(customerID); err != nil {
		return Key{}, err
	}
	return Key{PK: k.PK + "#RUN#" + runID, SK: skRunCustomer + customerID}, nil
}

// CollectCustomersKey is the partner's own list of customers to collect.
func CollectCustomersKey(t license.Tenant) (Key, error) {
	tp, err := tenantPrefix(t)
	if err != nil {
		return Key{}, err
	}
	return Key{PK: tp, SK: skCollectCustomers}, nil
}

// CreateCollection writes a new run with every customer pending (ids
// distinct and valid: the caller deduplicates). A run with no customer is
// succeeded at once.
func (s *Store) CreateCollection(ctx context.Context, t license.Tenant, run Collection, customerIDs []string, names map[string]string) error {
	k, err := CollectionKey(t, run.ID)
	if err != nil {
		return err
	}
	expires := numberAttr(run.StartedAt.Add(CollectionRetention).Unix())
	run.Counts = map[string]int{CollectPending: len(customerIDs)}
	if run.Status == "" {
		run.Status = RunRunning
		if len(customerIDs) == 0 {
			run.Status = RunSucceeded
			run.FinishedAt = &run.StartedAt
		}
	}
	// The customers first: a run visible with fewer items than its
	// pending count would never finish.
	reqs := make([]types.WriteRequest, 0, len(customerIDs))
	for _, c := range customerIDs {
		ck, err := RunCustomerKey(t, run.ID, c)
		if err != nil {
			return err
		}
		item := keyOf(ck)
		o := CollectOutcome{CustomerID: c, Name: names[c], State: CollectPending, UpdatedAt: run.StartedAt}
		if err := putJSON(item, attrOutcome, o); err != nil {
			return err
		}
		item[attrState] = &types.AttributeValueMemberS{Value: CollectPending}
		item[attrAttempt] = numberAttr(0)
		item[attrExpiresAt] = expires
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	if err := s.batchWriteAll(ctx, reqs); err != nil {
		return fmt.Errorf("writing the run's customers: %w", err)
	}
	item := keyOf(k)
	if err := putJSON(item, attrRun, run); err != nil {
		return err
	}
	item[attrStatus] = &types.AttributeValueMemberS{Value: run.Status}
	for _, st := range CollectStates {
		item[countAttr(st)] = numberAttr(int64(run.Counts[st]))
	}
	item[attrExpiresAt] = expires
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table, Item: item,
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	})
	if err != nil {
		return fmt.Errorf("creating run %s: %w", run.ID, err)
	}
	return nil
}

// batchWriteAll writes reqs 25 at a time.
func (s *Store) batchWriteAll(ctx context.Context, reqs []types.WriteRequest) error {
	for len(reqs) > 0 {
		n := min(len(reqs), 25)
		if err := s.batchWrite(ctx, reqs[:n]); err != nil {
			return err
		}
		reqs = reqs[n:]
	}
	return nil
}

func decodeCollection(item map[string]types.AttributeValue) (Collection, error) {
	var c Collection
	if err := getJSON(item, attrRun, &c); err != nil {
		return c, err
	}
	c.Status = stringOf(item, attrStatus)
	c.Counts = map[string]int{}
	for _, st := range CollectStates {
		n, err := intOf(item, countAttr(st))
		if err != nil {
			return c, err
		}
		c.Counts[st] = int(n)
	}
	if f, err := intOf(item, "finishedAt"); err == nil && f > 0 {
		ft := time.Unix(f, 0).UTC()
		c.FinishedAt = &ft
	}
	return c, nil
}

// GetCollection reads a run; ErrNotFound for an unknown id or another
// tenant's run.
func (s *Store) GetCollection(ctx context.Context, t license.Tenant, id string) (*Collection, error) {
	k, err := CollectionKey(t, id)
	if err != nil {
		return nil, ErrNotFound
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: keyOf(k), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("get run %s: %w", id, err)
	}
	if out.Item == nil {
		return nil, ErrNotFound
	}
	c, err := decodeCollection(out.Item)
	return &c, err
}

// Collections lists runs, newest first (ids start with their time).
func (s *Store) Collections(ctx context.Context, t license.Tenant, limit int, after string) ([]Collection, string, error) {
	pk, err := tenantPrefix(t)
	if err != nil {
		return nil, "", err
	}
	in := &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":     &types.AttributeValueMemberS{Value: pk},
			":prefix": &types.AttributeValueMemberS{Value: skCollectionPrefix},
		},
		ScanIndexForward: aws.Bool(false),
		Limit:            aws.Int32(int32(limit)),
	}
	if after != "" {
		k, err := CollectionKey(t, after)
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = keyOf(k)
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, "", fmt.Errorf("listing runs: %w", err)
	}
	runs := make([]Collection, 0, len(out.Items))
	for _, item := range out.Items {
		c, err := decodeCollection(item)
		if err != nil {
			return nil, "", err
		}
		runs = append(runs, c)
	}
	next := ""
	if out.LastEvaluatedKey != nil && len(runs) > 0 {
		next = runs[len(runs)-1].ID
	}
	return runs, next, nil
}

// CollectOutcomes pages a run's customers in customer id order.
func (s *Store) CollectOutcomes(ctx context.Context, t license.Tenant, runID string, limit int, after string) ([]CollectOutcome, string, error) {
	k, err := RunCustomerKey(t, runID, "x")
	if err != nil {
		return nil, "", err
	}
	in := &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: k.PK},
		},
		Limit: aws.Int32(int32(limit)),
	}
	if after != "" {
		ak, err := RunCustomerKey(t, runID, after)
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = keyOf(ak)
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, "", fmt.Errorf("listing run %s: %w", runID, err)
	}
	res := make([]CollectOutcome, 0, len(out.Items))
	for _, item := range out.Items {
		var o CollectOutcome
		if err := getJSON(item, attrOutcome, &o); err != nil {
			return nil, "", err
		}
		res = append(res, o)
	}
	next := ""
	if out.LastEvaluatedKey != nil && len(res) > 0 {
		next = res[len(res)-1].CustomerID
	}
	return res, next, nil
}

// ClaimCollect makes this attempt the holder of a pending customer (or of
// a running one whose lease ran out) until leaseUntil. ErrCollectTaken
// when the customer is finished or another attempt holds it; ErrNotFound
// when the run has no such customer.
func (s *Store) ClaimCollect(ctx context.Context, t license.Tenant, runID, customerID string, now, leaseUntil time.Time) (*CollectOutcome, error) {
	k, err := RunCustomerKey(t, runID, customerID)
	if err != nil {
		return nil, err
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: keyOf(k), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("get run customer %s: %w", customerID, err)
	}
	if out.Item == nil {
		return nil, ErrNotFound
	}
	var o CollectOutcome
	if err := getJSON(out.Item, attrOutcome, &o); err != nil {
		return nil, err
	}
	lease, _ := intOf(out.Item, attrLease)
	attempt, _ := intOf(out.Item, attrAttempt)
	prev := stringOf(out.Item, attrState)
	switch {
	case prev == CollectPending:
	case prev == CollectRunning && now.Unix() > lease:
	default:
		return nil, ErrCollectTaken
	}
	o.State, o.Attempts, o.UpdatedAt, o.LeaseUntil = CollectRunning, int(attempt)+1, now, &leaseUntil
	if err := s.moveCollect(ctx, t, runID, k, prev, attempt, &o, leaseUntil.Unix()); err != nil {
		return nil, err
	}
	return &o, nil
}

// FinishCollect records a claimed customer's outcome (succeeded, failed or
// skipped), if this attempt still holds it, and finishes the run when it
// was the last one.
func (s *Store) FinishCollect(ctx context.Context, t license.Tenant, runID string, o *CollectOutcome, now time.Time) error {
	k, err := RunCustomerKey(t, runID, o.CustomerID)
	if err != nil {
		return err
	}
	o.UpdatedAt = now
	attempt := int64(o.Attempts)
	if err := s.moveCollect(ctx, t, runID, k, CollectRunning, attempt, o, 0); err != nil {
		return err
	}
	return s.finishRunIfDone(ctx, t, runID, now)
}

// moveCollect is one transition: the customer item from prev (at attempt)
// to o, and one unit from prev's counter to o.State's.
func (s *Store) moveCollect(ctx context.Context, t license.Tenant, runID string, k Key, prev string, attempt int64, o *CollectOutcome, lease int64) error {
	rk, err := CollectionKey(t, runID)
	if err != nil {
		return err
	}
	doc := map[string]types.AttributeValue{}
	if err := putJSON(doc, attrOutcome, o); err != nil {
		return err
	}
	update := types.Update{
		TableName:           &s.table,
		Key:                 keyOf(k),
		UpdateExpression:    aws.String("SET #o = :o, #s = :s, #a = :a, #l = :l"),
		ConditionExpression: aws.String("#s = :prev AND #a = :prevAttempt"),
		ExpressionAttributeNames: map[string]string{
			"#o": attrOutcome, "#s": attrState, "#a": attrAttempt, "#l": attrLease,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":o": doc[attrOutcome], ":s": &types.AttributeValueMemberS{Value: o.State},
			":a": numberAttr(int64(o.Attempts)), ":l": numberAttr(lease),
			":prev": &types.AttributeValueMemberS{Value: prev}, ":prevAttempt": numberAttr(attempt),
		},
	}
	items := []types.TransactWriteItem{{Update: &update}}
	if prev != o.State {
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName:                &s.table,
			Key:                      keyOf(rk),
			UpdateExpression:         aws.String("ADD #from :minus, #to :plus"),
			ExpressionAttributeNames: map[string]string{"#from": countAttr(prev), "#to": countAttr(o.State)},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":minus": numberAttr(-1), ":plus": numberAttr(1),
			},
		}})
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	var tc *types.TransactionCanceledException
	if errors.As(err, &tc) {
		for _, r := range tc.CancellationReasons {
			if aws.ToString(r.Code) == "ConditionalCheckFailed" {
				return ErrCollectTaken
			}
		}
	}
	if err != nil {
		return fmt.Errorf("recording %s's collection: %w", o.CustomerID, err)
	}
	return nil
}

// finishRunIfDone marks the run succeeded once nothing is pending or
// running; the condition makes it happen once.
func (s *Store) finishRunIfDone(ctx context.Context, t license.Tenant, runID string, now time.Time) error {
	rk, err := CollectionKey(t, runID)
	if err != nil {
		return err
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           &s.table,
		Key:                 keyOf(rk),
		UpdateExpression:    aws.String("SET #s = :done, finishedAt = :now"),
		ConditionExpression: aws.String("#s = :running AND #p = :zero AND #r = :zero"),
		ExpressionAttributeNames: map[string]string{
			"#s": attrStatus, "#p": countAttr(CollectPending), "#r": countAttr(CollectRunning),
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":done": &types.AttributeValueMemberS{Value: RunSucceeded}, ":running": &types.AttributeValueMemberS{Value: RunRunning},
			":zero": numberAttr(0), ":now": numberAttr(now.Unix()),
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil // not the last, or already finished
	}
	if err != nil {
		return fmt.Errorf("finishing run %s: %w", runID, err)
	}
	return nil
}

// FailCollection records a run that could not start (its customers could
// not be listed or enqueued), with the reason a partner reads.
func (s *Store) FailCollection(ctx context.Context, t license.Tenant, runID, reason string, now time.Time) error {
	rk, err := CollectionKey(t, runID)
	if err != nil {
		return err
	}
	run, err := s.GetCollection(ctx, t, runID)
	if err != nil {
		return err
	}
	run.Reason = reason
	doc := map[string]types.AttributeValue{}
	if err := putJSON(doc, attrRun, run); err != nil {
		return err
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                &s.table,
		Key:                      keyOf(rk),
		UpdateExpression:         aws.String("SET #s = :failed, finishedAt = :now, #run = :run"),
		ConditionExpression:      aws.String("#s = :running"),
		ExpressionAttributeNames: map[string]string{"#s": attrStatus, "#run": attrRun},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":failed": &types.AttributeValueMemberS{Value: RunFailed}, ":running": &types.AttributeValueMemberS{Value: RunRunning},
			":now": numberAttr(now.Unix()), ":run": doc[attrRun],
		},
	})
	return err
}

// PutCollectCustomers replaces the partner's own customer list.
func (s *Store) PutCollectCustomers(ctx context.Context, t license.Tenant, ids []string, now time.Time) error {
	k, err := CollectCustomersKey(t)
	if err != nil {
		return err
	}
	item := keyOf(k)
	if err := putJSON(item, "customers", ids); err != nil {
		return err
	}
	item["updatedAt"] = &types.AttributeValueMemberS{Value: now.UTC().Format(time.RFC3339)}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item})
	return err
}

// CollectCustomers reads the partner's own list: ok false when it never set
// one (then Partner Center lists the customers).
func (s *Store) CollectCustomers(ctx context.Context, t license.Tenant) (ids []string, updatedAt string, ok bool, err error) {
	k, err := CollectCustomersKey(t)
	if err != nil {
		return nil, "", false, err
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: keyOf(k), ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		return nil, "", false, err
	}
	if err := getJSON(out.Item, "customers", &ids); err != nil {
		return nil, "", false, err
	}
	return ids, stringOf(out.Item, "updatedAt"), true, nil
}
