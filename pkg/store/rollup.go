package store

// # The portfolio roll-up
//
// docs/definitions.md#platform: reading the portfolio must cost the same for 10 customers as for
// 50,000. The tenant's portfolio (license.Portfolio: counts only, summed over
// customers) is therefore kept up to date from the table's stream: every
// change of a customer's FIGURES item arrives as a record with the old and
// the new image, and its difference (Portfolio.Apply(old, new)) is added to
// the roll-up. Differences commute, so records of different customers may be
// applied in any order, and a customer's records too.
//
// Sharding. The roll-up is RollupShards items, T#<t>#ROLLUP#<n>, each the
// sum over the customers whose id hashes to n, each in a partition of its
// own. A batch of stream records is grouped by shard and each group is one
// transaction: a batch of 100 records costs at most 8 shard writes, not 100,
// and a partner ingesting thousands of customers at once spreads those
// writes over 8 partitions (a single item takes about 1,000 write units a
// second; a shard write is one transaction over a few-KB item). Readers sum
// the 8 items, which one BatchGetItem returns: constant cost.
//
// Exactly once. Lambda delivers stream records at least once and retries
// from the first failed record, so a record may come again, alone or in a
// later batch. Each applied record leaves a marker
// T#<t>#C#<c> / APPLIED#<version or DEL<v>>#<sequence number> (TTL 3 days,
// longer than a record can stay in the stream), written in the same
// transaction as the shard, conditioned on not existing: a record delivered
// twice cancels on its marker and is skipped. The shard is written with an
// optimistic condition on its revision (rev), so two concurrent batches
// never lose each other's differences; the loser re-reads and retries.
// Markers sit in the customers' partitions, so that a burst of records does
// not make a hot partition of the tenant's.
//
// History. Each shard write also writes T#<t> / PDAY#<day>#<n>: the shard's
// headline counts at the start of that (UTC, processing) day and after the
// write. The portfolio of a day is the sum over shards of each shard's last
// state that day, carried forward over days without changes.
//
// Repair. RepairRollup recomputes the shards from the customers' FIGURES
// items (the truth the roll-up is derived from) and overwrites those that
// differ. Run it once the stream has caught up (the RollupLagSeconds metric
// near 0), for example after records went to the on-failure queue: a record
// still in flight when the repair reads the figures would be counted twice
// once it is applied.

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// RollupShards is the number of roll-up shards of every tenant. Changing it
// needs a repair (RepairRollup) of every tenant, since customers move
// between shards.
const RollupShards = 8

const (
	// appliedRetention keeps a marker longer than a record can live in the
	// stream (24 hours) plus Lambda's retries.
	appliedRetention = 3 * 24 * time.Hour
	// PortfolioHistoryRetention is how long a PDAY item lives.
	PortfolioHistoryRetention = 400 * 24 * time.Hour
	// maxChangesPerTransaction: TransactWriteItems takes 100 actions; the
	// shard and its day item take two.
	maxChangesPerTransaction = 98
	// rollupAttempts bounds the optimistic retries of one shard write.
	rollupAttempts = 12
)

// Attribute names of the roll-up items.
const (
	attrPortfolio = "portfolio"
	attrRev       = "rev"
	attrDay       = "day"
	attrDayOpen   = "dayOpen"
	attrOpen      = "open"
	attrClose     = "close"
	attrShard     = "shard"
	attrDate      = "date"
)

// RollupShardOf is the roll-up shard of a customer: FNV-1a 32 of its id
// modulo RollupShards.
func RollupShardOf(customerID string) int {
	h := fnv.New32a()
	h.Write([]byte(customerID))
	return int(h.Sum32() % RollupShards)
}

// PortfolioHeadline is the part of a portfolio that history keeps: counts
// only, so that the headlines of shards add up.
type PortfolioHeadline struct {
	Customers int                `json:"customers"`
	Bands     license.BandCounts `json:"bands"`
	// Sold and Assigned are over each customer's counted SKUs.
	Sold     license.ChannelCounts `json:"sold"`
	Assigned int                   `json:"assigned"`
	// Usage in the default window, summed over workloads.
	Entitlements          int `json:"entitlements"`
	Active                int `json:"active"`
	CountedActive         int `json:"countedActive"`
	InactiveLicensedUsers int `json:"inactiveLicensedUsers"`
}

// HeadlineOfPortfolio is the headline of p (DefaultWindow usage).
func HeadlineOfPortfolio(p *license.Portfolio) PortfolioHeadline {
	h := PortfolioHeadline{
		Customers: p.Customers,
		Bands:     p.Bands,
		Sold:      p.Deployed.Sold,
		Assigned:  p.Deployed.Assigned,
	}
	if w, ok := p.Window(license.DefaultWindow); ok {
		u := w.Usage()
		h.Entitlements, h.Active, h.CountedActive = u.Entitlements, u.Active, u.CountedActive
		h.InactiveLicensedUsers = w.InactiveLicensedUsers
	}
	return h
}

// Plus is h + o, count by count.
func (h PortfolioHeadline) Plus(o PortfolioHeadline) PortfolioHeadline {
	return PortfolioHeadline{
		Customers:             h.Customers + o.Customers,
		Bands:                 h.Bands.Plus(o.Bands),
		Sold:                  h.Sold.Plus(o.Sold),
		Assigned:              h.Assigned + o.Assigned,
		Entitlements:          h.Entitlements + o.Entitlements,
		Active:                h.Active + o.Active,
		CountedActive:         h.CountedActive + o.CountedActive,
		InactiveLicensedUsers: h.InactiveLicensedUsers + o.InactiveLicensedUsers,
	}
}

// Outcome is what became of one change.
type Outcome int

// The outcomes.
const (
	Applied   Outcome = iota + 1
	Duplicate         // applied before: its marker exists
	Failed
)

// ChangeResult is one change's outcome; Err is set when it Failed.
type ChangeResult struct {
	Outcome Outcome
	Err     error
}

// ApplyFiguresChanges adds the changes' differences to their tenants'
// roll-ups, at most one transaction per shard and 98 changes. The results
// are in the order of the changes. A change that failed can be given again
// later, alone or with others: what was applied is never applied twice.
// now dates the markers and the history (nil: the clock).
func (s *Store) ApplyFiguresChanges(ctx context.Context, changes []FiguresChange, now func() time.Time) []ChangeResult {
	if now == nil {
		now = time.Now
	}
	results := make([]ChangeResult, len(changes))
	type groupKey struct {
		tenant string
		shard  int
	}
	groups := map[groupKey][]int{}
	var order []groupKey
	for i := range changes {
		c := &changes[i]
		if !c.Tenant.Valid() {
			results[i] = ChangeResult{Failed, license.ErrNoTenant}
			continue
		}
		k := groupKey{c.Tenant.ID(), RollupShardOf(c.CustomerID)}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	var chunks [][]int
	for _, k := range order {
		for idx := range slices.Chunk(groups[k], maxChangesPerTransaction) {
			chunks = append(chunks, idx)
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, s.workers)
	for _, idx := range chunks {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			s.applyChunk(ctx, changes, idx, results, now)
		}()
	}
	wg.Wait()
	return results
}

// shardState is a roll-up shard item as read.
type shardState struct {
	Portfolio license.Portfolio
	Rev       int64 // 0: the item does not exist
	Day       license.Date
	DayOpen   PortfolioHeadline
}

// applyChunk applies the changes idx (one tenant, one shard) in one
// transaction, retrying on conflicts and dropping duplicates.
func (s *Store) applyChunk(ctx context.Context, changes []FiguresChange, idx []int, results []ChangeResult, now func() time.Time) {
	t := changes[idx[0]].Tenant
	shard := RollupShardOf(changes[idx[0]].CustomerID)
	markerKeys := map[int]Key{}
	var pending []int
	for _, i := range idx {
		c := &changes[i]
		k, err := AppliedRecordKey(c.Tenant, c.CustomerID, c.marker(), c.RecordID)
		if err != nil {
			results[i] = ChangeResult{Failed, err}
			continue
		}
		// One transaction cannot write an item twice: a record given twice
		// in one call is a duplicate of itself.
		if slices.ContainsFunc(pending, func(j int) bool { return markerKeys[j] == k }) {
			results[i] = ChangeResult{Outcome: Duplicate}
			continue
		}
		markerKeys[i] = k
		pending = append(pending, i)
	}
	fail := func(err error) {
		for _, i := range pending {
			results[i] = ChangeResult{Failed, err}
		}
	}
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt == rollupAttempts {
			fail(fmt.Errorf("roll-up shard %d of %s: still conflicting after %d attempts", shard, t.ID(), rollupAttempts))
			return
		}
		if attempt > 0 && !s.backoff(ctx, attempt) {
			fail(ctx.Err())
			return
		}
		st, err := s.readShard(ctx, t, shard, true)
		if err != nil {
			fail(err)
			return
		}
		before := HeadlineOfPortfolio(&st.Portfolio)
		at := now()
		expires := at.Add(appliedRetention).Unix()
		actions := make([]types.TransactWriteItem, 0, len(pending)+2)
		for _, i := range pending {
			c := &changes[i]
			st.Portfolio.Apply(c.Old, c.New)
			actions = append(actions, types.TransactWriteItem{Put: &types.Put{
				TableName: &s.table,
				Item: withKey(map[string]types.AttributeValue{
					attrExpiresAt: numberAttr(expires),
					attrVersion:   numberAttr(max(c.NewVersion, c.OldVersion)),
				}, markerKeys[i]),
				ConditionExpression: aws.String("attribute_not_exists(PK)"),
			}})
		}
		writes, err := s.shardWrites(t, shard, st, before, at)
		if err != nil {
			fail(err)
			return
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: append(actions, writes...)})
		if err == nil {
			for _, i := range pending {
				results[i] = ChangeResult{Outcome: Applied}
			}
			return
		}
		var cancelled *types.TransactionCanceledException
		var inProgress *types.TransactionInProgressException
		switch {
		case errors.As(err, &cancelled):
			// Reasons are in the order of the actions: the markers first.
			var kept []int
			for j, i := range pending {
				if j < len(cancelled.CancellationReasons) && aws.ToString(cancelled.CancellationReasons[j].Code) == "ConditionalCheckFailed" {
					results[i] = ChangeResult{Outcome: Duplicate}
					continue
				}
				kept = append(kept, i)
			}
			if len(kept) < len(pending) {
				pending = kept
				attempt-- // a duplicate is not a conflict: retry at once
				continue
			}
			// The shard moved on (ConditionalCheckFailed on it) or another
			// transaction held an item (TransactionConflict): read again.
		case errors.As(err, &inProgress):
		default:
			fail(fmt.Errorf("writing roll-up shard %d of %s: %w", shard, t.ID(), err))
			return
		}
	}
}

// backoff waits before the attempt-th retry; false when ctx ended.
func (s *Store) backoff(ctx context.Context, attempt int) bool {
	d := min(s.retryBase<<min(attempt, 10), s.retryMax)
	return sleep(ctx, d/2+rand.N(d/2+1)) == nil
}

// shardWrites are the shard put (conditioned on the revision read) and its
// day item, after st.Portfolio changed from the headline before.
func (s *Store) shardWrites(t license.Tenant, shard int, st *shardState, before PortfolioHeadline, now time.Time) ([]types.TransactWriteItem, error) {
	// Days never go back, even if this writer's clock is behind the last's.
	day := max(license.DateOf(now), st.Day)
	open := before
	if st.Rev > 0 && st.Day == day {
		open = st.DayOpen
	}
	closing := HeadlineOfPortfolio(&st.Portfolio)

	k, err := RollupShardKey(t, shard)
	if err != nil {
		return nil, err
	}
	item := withKey(map[string]types.AttributeValue{
		attrRev:       numberAttr(st.Rev + 1),
		attrShard:     numberAttr(int64(shard)),
		attrDay:       &types.AttributeValueMemberS{Value: day.String()},
		attrUpdatedAt: &types.AttributeValueMemberS{Value: now.UTC().Format(time.RFC3339Nano)},
	}, k)
	if err := putJSON(item, attrPortfolio, &st.Portfolio); err != nil {
		return nil, fmt.Errorf("roll-up shard %d of %s: %w", shard, t.ID(), err)
	}
	if err := putJSON(item, attrDayOpen, open); err != nil {
		return nil, err
	}
	put := &types.Put{TableName: &s.table, Item: item}
	if st.Rev == 0 {
		put.ConditionExpression = aws.String("attribute_not_exists(PK)")
	} else {
		put.ConditionExpression = aws.String("#rev = :rev")
		put.ExpressionAttributeNames = map[string]string{"#rev": attrRev}
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":rev": numberAttr(st.Rev)}
	}

	dk, err := PortfolioDayShardKey(t, day, shard)
	if err != nil {
		return nil, err
	}
	dayItem := withKey(map[string]types.AttributeValue{
		attrShard:     numberAttr(int64(shard)),
		attrDate:      &types.AttributeValueMemberS{Value: day.String()},
		attrExpiresAt: numberAttr(day.Time().Add(PortfolioHistoryRetention).Unix()),
	}, dk)
	if err := putJSON(dayItem, attrOpen, open); err != nil {
		return nil, err
	}
	if err := putJSON(dayItem, attrClose, closing); err != nil {
		return nil, err
	}
	return []types.TransactWriteItem{{Put: put}, {Put: &types.Put{TableName: &s.table, Item: dayItem}}}, nil
}

func decodeShard(item map[string]types.AttributeValue) (*shardState, error) {
	st := &shardState{}
	if item == nil {
		return st, nil
	}
	var err error
	if st.Rev, err = intOf(item, attrRev); err != nil {
		return nil, err
	}
	if err := getJSON(item, attrPortfolio, &st.Portfolio); err != nil {
		return nil, err
	}
	if err := getJSON(item, attrDayOpen, &st.DayOpen); err != nil {
		return nil, err
	}
	if d := stringOf(item, attrDay); d != "" {
		if st.Day, err = license.ParseDate(d); err != nil {
			return nil, fmt.Errorf("attribute %s: %w", attrDay, err)
		}
	}
	return st, nil
}

func (s *Store) readShard(ctx context.Context, t license.Tenant, shard int, consistent bool) (*shardState, error) {
	k, err := RollupShardKey(t, shard)
	if err != nil {
		return nil, err
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: keyOf(k), ConsistentRead: aws.Bool(consistent)})
	if err != nil {
		return nil, fmt.Errorf("reading roll-up shard %d of %s: %w", shard, t.ID(), err)
	}
	st, err := decodeShard(out.Item)
	if err != nil {
		return nil, fmt.Errorf("roll-up shard %d of %s: %w", shard, t.ID(), err)
	}
	return st, nil
}

// readShards reads every shard of the tenant with one BatchGetItem (plus
// retries of keys DynamoDB left unprocessed).
func (s *Store) readShards(ctx context.Context, t license.Tenant, consistent bool) ([RollupShards]*shardState, error) {
	var out [RollupShards]*shardState
	keys := make([]map[string]types.AttributeValue, RollupShards)
	for n := range RollupShards {
		k, err := RollupShardKey(t, n)
		if err != nil {
			return out, err
		}
		keys[n] = keyOf(k)
	}
	items, err := s.batchGet(ctx, keys, consistent)
	if err != nil {
		return out, fmt.Errorf("reading the roll-up of %s: %w", t.ID(), err)
	}
	for _, item := range items {
		n, err := intOf(item, attrShard)
		if err != nil || n < 0 || n >= RollupShards {
			return out, fmt.Errorf("roll-up item %s has no valid shard number", stringOf(item, attrPK))
		}
		if out[n], err = decodeShard(item); err != nil {
			return out, fmt.Errorf("roll-up shard %d of %s: %w", n, t.ID(), err)
		}
	}
	for n := range out {
		if out[n] == nil {
			out[n] = &shardState{}
		}
	}
	return out, nil
}

// batchGet reads up to 100 keys, retrying unprocessed ones with backoff.
// The items come in no particular order; missing ones are left out.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue, consistent bool) ([]map[string]types.AttributeValue, error) {
	var items []map[string]types.AttributeValue
	req := map[string]types.KeysAndAttributes{s.table: {Keys: keys, ConsistentRead: aws.Bool(consistent)}}
	for attempt := 0; len(req) > 0 && len(req[s.table].Keys) > 0; attempt++ {
		if attempt > 0 {
			if attempt == s.retryAttempts {
				return nil, fmt.Errorf("%d keys still unprocessed after %d attempts", len(req[s.table].Keys), attempt)
			}
			if !s.backoff(ctx, attempt) {
				return nil, ctx.Err()
			}
		}
		out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, err
		}
		items = append(items, out.Responses[s.table]...)
		req = out.UnprocessedKeys
	}
	return items, nil
}
