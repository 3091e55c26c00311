package store

// The portfolio reclaim calendar (docs/definitions.md#the-reclaim-calendar):
// items kept beside the roll-up from the same FIGURES stream records, so
// that GET /v1/portfolio/reclaim reads a page of lines and eight small
// totals items whatever the number of customers.
//
// Per customer the lines are a function of its current FIGURES alone, so
// each record is applied by state, not by difference: the customer's
// RECLAIMSET item names the FIGURES version it reflects, its line keys and
// its contribution to the totals; a record replaces them in one
// transaction conditioned on the set read, and a record whose version is
// not newer than the set's is a duplicate. Replays, redeliveries and
// out-of-order records count nothing twice.
//
// Lines carry seats and dates but no kind and no money: the kind depends
// on the horizon asked, the money on the price list in force when read —
// a new price list or horizon needs no recomputation.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// ReclaimShards is how many totals items the calendar's totals are spread
// over (by customer), so that concurrent ingests rarely meet on one.
const ReclaimShards = 8

// ReclaimWindow is the activity window of the maintained lines' idle
// holders: the default window.
const ReclaimWindow = license.DefaultWindow

const (
	skReclaimSet      = "RECLAIMSET"
	skReclaimTotal    = "TOTAL"
	reclaimLinePrefix = "L#"
	attrLine          = "line"
	attrLineKeys      = "lineKeys"
	attrContrib       = "contrib"
	attrRemoved       = "removed"
	// attrRemovedBy is the sequence number of the stream record that left
	// the tombstone: an INSERT record from before it is a replay of the
	// removed customer, one from after it a customer created again.
	attrRemovedBy = "removedBy"
	// reclaimTombstoneTTL keeps a removed customer's tombstone as long as
	// the roll-up keeps its APPLIED markers.
	reclaimTombstoneTTL = 3 * 24 * time.Hour
	// maxReclaimLines bounds a customer's lines so that replacing them
	// fits one transaction (100 actions, with the set and the totals).
	maxReclaimLines = 48
)

// ReclaimSetKey is the customer's RECLAIMSET item.
func ReclaimSetKey(t license.Tenant, customerID string) (Key, error) {
	return customerKey(t, customerID, skReclaimSet)
}

// ReclaimPartition is T#<t>#RECLAIM, the partition of the calendar lines.
func ReclaimPartition(t license.Tenant) (string, error) { return tenantPartition(t, "#RECLAIM") }

// ReclaimTotalKey is totals shard n.
func ReclaimTotalKey(t license.Tenant, n int) (Key, error) {
	pk, err := tenantPartition(t, "#RECLAIMTOTAL#"+strconv.Itoa(n))
	if err != nil {
		return Key{}, err
	}
	return Key{PK: pk, SK: skReclaimTotal}, nil
}

// reclaimLineSK orders the lines by date (undated last), then customer,
// SKU, holders before subscriptions, subscription.
func reclaimLineSK(l license.ReclaimLine) string {
	date := "9999-12-31"
	if l.Date != license.NoDate {
		date = l.Date.String()
	}
	kind := "S"
	if l.Holders {
		kind = "H"
	}
	return reclaimLinePrefix + date + "#" + l.CustomerID + "#" + truncateBytes(l.SKU, 200) + "#" + kind + "#" + truncateBytes(l.SubscriptionID, 200)
}

func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func reclaimShard(customerID string) int {
	h := fnv.New32a()
	h.Write([]byte(customerID))
	return int(h.Sum32() % ReclaimShards)
}

// storedLine is a line as the table keeps it: with the fields the API does
// not show (Holders, Terms).
type storedLine struct {
	license.ReclaimLine
	Holders bool           `json:"holders,omitempty"`
	Terms   []license.Term `json:"terms,omitempty"`
}

// reclaimContrib names a line's contribution to the totals: idle holders
// by SKU and the terms they are priced from ("H|sku|term,cycle;…"), other
// seats by horizon, kind, SKU, term and cycle ("S<days>|kind|sku|term|cycle").
func reclaimContrib(lines []license.ReclaimLine) map[string]int {
	out := map[string]int{}
	for _, l := range lines {
		if l.Holders {
			var terms []string
			for _, t := range l.Terms {
				terms = append(terms, t.TermDuration+","+t.BillingCycle)
			}
			out["H|"+l.SKU+"|"+strings.Join(terms, ";")] += l.Seats
			continue
		}
		for _, h := range license.ReclaimHorizons {
			out[fmt.Sprintf("S%d|%s|%s|%s|%s", h, l.KindWithin(h), l.SKU, l.TermDuration, l.BillingCycle)] += l.Seats
		}
	}
	return out
}

// ReclaimTotalLine is one entry of the totals: seats of one kind for one
// SKU and term (idle holders: with the terms they are priced from).
type ReclaimTotalLine struct {
	Kind  license.ReclaimKind
	SKU   string
	Term  license.Term
	Terms []license.Term // idle holders only
	Seats int
}

// ParseReclaimTotals reads the summed totals attributes for horizon days.
func ParseReclaimTotals(sums map[string]int, days int) []ReclaimTotalLine {
	var out []ReclaimTotalLine
	prefix := "S" + strconv.Itoa(days) + "|"
	for _, k := range slices.Sorted(maps.Keys(sums)) {
		n := sums[k]
		if n == 0 {
			continue
		}
		switch {
		case strings.HasPrefix(k, "H|"):
			parts := strings.SplitN(k, "|", 3)
			if len(parts) != 3 {
				continue
			}
			tl := ReclaimTotalLine{Kind: license.ReclaimReassignNow, SKU: parts[1], Seats: n}
			if parts[2] != "" {
				for _, t := range strings.Split(parts[2], ";") {
					term, cycle, _ := strings.Cut(t, ",")
					tl.Terms = append(tl.Terms, license.Term{TermDuration: term, BillingCycle: cycle})
				}
			}
			out = append(out, tl)
		case strings.HasPrefix(k, prefix):
			parts := strings.Split(strings.TrimPrefix(k, prefix), "|")
			if len(parts) != 4 {
				continue
			}
			out = append(out, ReclaimTotalLine{Kind: license.ReclaimKind(parts[0]), SKU: parts[1], Term: license.Term{TermDuration: parts[2], BillingCycle: parts[3]}, Seats: n})
		}
	}
	return out
}

// ApplyReclaimChange brings the customer's calendar lines and its share of
// the totals to what c's new image says (none for a removal). Applied, or
// Duplicate when the calendar already reflects that version or a newer one.
func (s *Store) ApplyReclaimChange(ctx context.Context, c FiguresChange) (Outcome, error) {
	return s.applyReclaimRetrying(ctx, c, false)
}

func (s *Store) applyReclaimRetrying(ctx context.Context, c FiguresChange, rebuild bool) (Outcome, error) {
	for attempt := 0; ; attempt++ {
		out, err := s.applyReclaim(ctx, c, rebuild)
		if !errors.Is(err, ErrConflict) {
			return out, err
		}
		if attempt+1 >= s.retryAttempts || !s.backoff(ctx, attempt) {
			return 0, fmt.Errorf("reclaim calendar of %s: %w", c.CustomerID, err)
		}
	}
}

// applyReclaim: rebuild also replaces a set of the same version (its lines
// are made again from the figures).
func (s *Store) applyReclaim(ctx context.Context, c FiguresChange, rebuild bool) (Outcome, error) {
	t := c.Tenant
	setKey, err := ReclaimSetKey(t, c.CustomerID)
	if err != nil {
		return 0, err
	}
	got, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: keyOf(setKey), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return 0, fmt.Errorf("get reclaim set of %s: %w", c.CustomerID, err)
	}
	var (
		oldVersion int64 = -1
		oldKeys    []string
		oldContrib = map[string]int{}
		removed    bool
		removedBy  string
	)
	if got.Item != nil {
		if oldVersion, err = int64Of(got.Item, attrVersion); err != nil {
			return 0, err
		}
		if b, ok := got.Item[attrRemoved].(*types.AttributeValueMemberBOOL); ok {
			removed = b.Value
		}
		if v, ok := got.Item[attrRemovedBy].(*types.AttributeValueMemberS); ok {
			removedBy = v.Value
		}
		if err := getJSON(got.Item, attrLineKeys, &oldKeys); err != nil {
			return 0, err
		}
		if err := getJSON(got.Item, attrContrib, &oldContrib); err != nil {
			return 0, err
		}
	}
	// A removal is of the version it removes: the set must not be newer.
	// It leaves a tombstone at that version, so that records of the
	// removed customer that come again later add nothing back; a new
	// customer under the id (an INSERT record, no old image) starts afresh.
	version := c.NewVersion
	switch {
	case c.New == nil:
		version = c.OldVersion
		if got.Item == nil || removed || oldVersion > version {
			return Duplicate, nil
		}
	case removed && c.Old == nil:
		if removedBy != "" && compareSequence(c.RecordID, removedBy) <= 0 {
			return Duplicate, nil // the removed customer's own INSERT, replayed
		}
		oldVersion = -1
	case oldVersion > version || oldVersion == version && !rebuild:
		return Duplicate, nil
	}

	var lines []license.ReclaimLine
	if c.New != nil {
		f := *c.New
		f.Customer.ID = c.CustomerID
		lines = license.ReclaimLines(&f, ReclaimWindow)
	}
	if len(lines) > maxReclaimLines {
		return 0, fmt.Errorf("customer %s has %d reclaim lines, more than the %d one transaction replaces", c.CustomerID, len(lines), maxReclaimLines)
	}
	pk, err := ReclaimPartition(t)
	if err != nil {
		return 0, err
	}
	var items []types.TransactWriteItem
	newKeys := make([]string, 0, len(lines))
	for _, l := range lines {
		sk := reclaimLineSK(l)
		newKeys = append(newKeys, sk)
		item := keyOf(Key{PK: pk, SK: sk})
		if err := putJSON(item, attrLine, storedLine{ReclaimLine: l, Holders: l.Holders, Terms: l.Terms}); err != nil {
			return 0, err
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: item}})
	}
	for _, sk := range oldKeys {
		if !slices.Contains(newKeys, sk) {
			items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: keyOf(Key{PK: pk, SK: sk})}})
		}
	}

	// The set, conditioned on what was read.
	cond, names, values := "attribute_not_exists(PK)", map[string]string(nil), map[string]types.AttributeValue(nil)
	if got.Item != nil {
		cond = "#v = :read"
		names = map[string]string{"#v": attrVersion}
		values = map[string]types.AttributeValue{":read": got.Item[attrVersion]}
	}
	newContrib := reclaimContrib(lines)
	{
		set := keyOf(setKey)
		set[attrVersion] = numberAttr(version)
		if c.New == nil {
			// The tombstone outlives any redelivery (records are retried
			// for at most a day), then goes.
			set[attrRemoved] = &types.AttributeValueMemberBOOL{Value: true}
			set[attrRemovedBy] = &types.AttributeValueMemberS{Value: c.RecordID}
			set[attrExpiresAt] = numberAttr(time.Now().Add(reclaimTombstoneTTL).Unix())
		}
		if err := putJSON(set, attrLineKeys, newKeys); err != nil {
			return 0, err
		}
		if err := putJSON(set, attrContrib, newContrib); err != nil {
			return 0, err
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: set,
			ConditionExpression: &cond, ExpressionAttributeNames: names, ExpressionAttributeValues: values}})
	}

	// The totals: ADD the difference of the customer's contribution.
	delta := map[string]int{}
	for k, n := range newContrib {
		delta[k] += n
	}
	for k, n := range oldContrib {
		delta[k] -= n
	}
	var adds []string
	addNames := map[string]string{}
	addValues := map[string]types.AttributeValue{}
	for i, k := range slices.Sorted(maps.Keys(delta)) {
		if delta[k] == 0 {
			continue
		}
		n, v := "#a"+strconv.Itoa(i), ":a"+strconv.Itoa(i)
		adds = append(adds, n+" "+v)
		addNames[n] = "t_" + k
		addValues[v] = numberAttr(int64(delta[k]))
	}
	if len(adds) > 0 {
		tk, err := ReclaimTotalKey(t, reclaimShard(c.CustomerID))
		if err != nil {
			return 0, err
		}
		expr := "ADD " + strings.Join(adds, ", ")
		items = append(items, types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: keyOf(tk),
			UpdateExpression: &expr, ExpressionAttributeNames: addNames, ExpressionAttributeValues: addValues}})
	}
	if len(items) > 100 {
		return 0, fmt.Errorf("customer %s: %d writes, more than one transaction takes", c.CustomerID, len(items))
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	var cancelled *types.TransactionCanceledException
	if errors.As(err, &cancelled) {
		for _, r := range cancelled.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ConditionalCheckFailed", "TransactionConflict":
				return 0, ErrConflict
			}
		}
	}
	var inProgress *types.TransactionInProgressException
	if errors.As(err, &inProgress) {
		return 0, ErrConflict
	}
	if err != nil {
		return 0, fmt.Errorf("reclaim calendar of %s: %w", c.CustomerID, err)
	}
	return Applied, nil
}

func int64Of(item map[string]types.AttributeValue, name string) (int64, error) {
	n, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("attribute %s is missing or not a number", name)
	}
	return strconv.ParseInt(n.Value, 10, 64)
}

// ReclaimPage is one page of the portfolio calendar.
type ReclaimPage struct {
	Lines []license.ReclaimLine
	// Next is the sort key to continue after ("" on the last page).
	Next string
}

// ReclaimLines reads up to limit calendar lines after the sort key after
// ("" from the start), in date order: one Query.
func (s *Store) ReclaimLines(ctx context.Context, t license.Tenant, limit int, after string) (*ReclaimPage, error) {
	pk, err := ReclaimPartition(t)
	if err != nil {
		return nil, err
	}
	in := &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :l)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: pk},
			":l":  &types.AttributeValueMemberS{Value: reclaimLinePrefix},
		},
		Limit: aws.Int32(int32(limit)),
	}
	if after != "" {
		if !strings.HasPrefix(after, reclaimLinePrefix) {
			return nil, errors.New("not a calendar position")
		}
		in.ExclusiveStartKey = keyOf(Key{PK: pk, SK: after})
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("query reclaim calendar: %w", err)
	}
	page := &ReclaimPage{Lines: make([]license.ReclaimLine, 0, len(out.Items))}
	for _, item := range out.Items {
		var sl storedLine
		if err := getJSON(item, attrLine, &sl); err != nil {
			return nil, err
		}
		l := sl.ReclaimLine
		l.Holders, l.Terms = sl.Holders, sl.Terms
		page.Lines = append(page.Lines, l)
	}
	if out.LastEvaluatedKey != nil && len(out.Items) == limit {
		page.Next = stringOf(out.LastEvaluatedKey, attrSK)
	}
	return page, nil
}

// ReclaimTotalsSums reads the totals shards (one BatchGetItem) and sums
// them.
func (s *Store) ReclaimTotalsSums(ctx context.Context, t license.Tenant) (map[string]int, error) {
	keys := make([]map[string]types.AttributeValue, 0, ReclaimShards)
	for n := range ReclaimShards {
		k, err := ReclaimTotalKey(t, n)
		if err != nil {
			return nil, err
		}
		keys = append(keys, keyOf(k))
	}
	sums := map[string]int{}
	req := map[string]types.KeysAndAttributes{s.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	for attempt := 0; len(req) > 0; attempt++ {
		out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, fmt.Errorf("read reclaim totals: %w", err)
		}
		for _, item := range out.Responses[s.table] {
			for name, v := range item {
				k, ok := strings.CutPrefix(name, "t_")
				if !ok {
					continue
				}
				n, ok := v.(*types.AttributeValueMemberN)
				if !ok {
					continue
				}
				x, err := strconv.Atoi(n.Value)
				if err != nil {
					return nil, fmt.Errorf("reclaim total %s: %w", k, err)
				}
				sums[k] += x
			}
		}
		req = out.UnprocessedKeys
		if len(req) > 0 && !s.backoff(ctx, attempt) {
			return nil, ctx.Err()
		}
	}
	return sums, nil
}

// RebuildReclaim makes the tenant's calendar lines again from every
// customer's current FIGURES, as if each customer's latest record came
// again (a set of a newer version is left alone): what the bench seeds its
// portfolios with, and a way to bring existing customers into the calendar
// (figures stored before the calendar existed have no stream record to
// replay). Its cost grows with the customers; workers run at once.
func (s *Store) RebuildReclaim(ctx context.Context, t license.Tenant) (int, error) {
	var refs []CustomerFiguresRef
	if err := s.EachCustomerFigures(ctx, t, func(r CustomerFiguresRef) error {
		refs = append(refs, r)
		return nil
	}); err != nil {
		return 0, err
	}
	var (
		next  = make(chan CustomerFiguresRef)
		errs  = make(chan error, s.workers)
		done  = 0
		count = make(chan int, s.workers)
	)
	for range s.workers {
		go func() {
			n := 0
			for r := range next {
				if _, err := s.applyReclaimRetrying(ctx, FiguresChange{Tenant: t, CustomerID: r.CustomerID, RecordID: "rebuild",
					New: &r.Figures, NewVersion: r.Version}, true); err != nil {
					errs <- err
					for range next { // drain
					}
					count <- n
					return
				}
				n++
			}
			count <- n
		}()
	}
	var first error
feed:
	for _, r := range refs {
		select {
		case next <- r:
		case first = <-errs:
			break feed
		}
	}
	close(next)
	for range s.workers {
		done += <-count
	}
	if first == nil {
		select {
		case first = <-errs:
		default:
		}
	}
	return done, first
}

// compareSequence orders two stream sequence numbers (decimal strings of
// different lengths: the longer, without leading zeros, is the later).
func compareSequence(a, b string) int {
	a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return cmp.Compare(len(a), len(b))
	}
	return strings.Compare(a, b)
}
