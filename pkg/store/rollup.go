package store

// # The portfolio roll-up
//
// SPEC §6: reading the portfolio must cost the same for 10 customers as for
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
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
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
		Customers: h.Customers + o.Customers,
		Bands: license.BandCounts{
			Low: h.Bands.Low + o.Bands.Low, Medium: h.Bands.Medium + o.Bands.Medium,
			High: h.Bands.High + o.Bands.High, Unknown: h.Bands.Unknown + o.Bands.Unknown,
		},
		Sold:                  h.Sold.Plus(o.Sold),
		Assigned:              h.Assigned + o.Assigned,
		Entitlements:          h.Entitlements + o.Entitlements,
		Active:                h.Active + o.Active,
		CountedActive:         h.CountedActive + o.CountedActive,
		InactiveLicensedUsers: h.InactiveLicensedUsers + o.InactiveLicensedUsers,
	}
}

// AddPortfolio adds src's counts to dst: the sum of two disjoint sets of
// customers, in the canonical form Portfolio.Add gives (products by SKU,
// windows and workloads in the engine's order). It is what sums the shards.
func AddPortfolio(dst, src *license.Portfolio) {
	dst.Customers += src.Customers
	dst.Bands = PortfolioHeadline{Bands: dst.Bands}.Plus(PortfolioHeadline{Bands: src.Bands}).Bands
	dst.Deployed.Sold = dst.Deployed.Sold.Plus(src.Deployed.Sold)
	dst.Deployed.Assigned += src.Deployed.Assigned
	dst.Deployed.Unassigned += src.Deployed.Unassigned
	dst.Excluded = license.SumExcluded(dst.Excluded, src.Excluded, +1)
	for i, x := range src.Products {
		j, found := slices.BinarySearchFunc(dst.Products, x.SKU, func(p license.ProductFigures, sku string) int {
			return strings.Compare(p.SKU, sku)
		})
		if !found {
			dst.Products = slices.Insert(dst.Products, j, license.ProductFigures{SKU: x.SKU})
			dst.CountedCustomers = slices.Insert(dst.CountedCustomers, j, 0)
		}
		p := &dst.Products[j]
		if p.Name == "" {
			p.Name = x.Name
		}
		p.Sold = p.Sold.Plus(x.Sold)
		p.Assigned += x.Assigned
		if i < len(src.CountedCustomers) {
			dst.CountedCustomers[j] += src.CountedCustomers[i]
		}
		p.Counted = dst.CountedCustomers[j] > 0
	}
	for _, w := range src.Windows {
		j := slices.IndexFunc(dst.Windows, func(x license.WindowFigures) bool { return x.Days == w.Days })
		if j < 0 {
			j, _ = slices.BinarySearchFunc(dst.Windows, w.Days, func(x license.WindowFigures, days int) int {
				return compareWindowDays(x.Days, days)
			})
			dst.Windows = slices.Insert(dst.Windows, j, license.WindowFigures{Days: w.Days})
		}
		dw := &dst.Windows[j]
		dw.InactiveLicensedUsers += w.InactiveLicensedUsers
		for _, x := range w.Workloads {
			k := slices.IndexFunc(dw.Workloads, func(y license.WorkloadFigures) bool { return y.Workload == x.Workload })
			if k < 0 {
				k, _ = slices.BinarySearchFunc(dw.Workloads, x.Workload, func(y license.WorkloadFigures, name license.Workload) int {
					return compareWorkloadNames(y.Workload, name)
				})
				dw.Workloads = slices.Insert(dw.Workloads, k, license.WorkloadFigures{Workload: x.Workload})
			}
			y := &dw.Workloads[k]
			y.Entitlements += x.Entitlements
			y.Active += x.Active
			y.CountedActive += x.CountedActive
			y.Uncounted = y.Uncounted.Plus(x.Uncounted)
			y.Retired = y.Retired || x.Retired
		}
	}
}

// compareWindowDays orders windows as license.Windows lists them, others
// after them by length (the engine's order).
func compareWindowDays(a, b int) int {
	ra, rb := slices.Index(license.Windows, a), slices.Index(license.Windows, b)
	switch {
	case ra >= 0 && rb >= 0:
		return ra - rb
	case ra >= 0:
		return -1
	case rb >= 0:
		return 1
	}
	return a - b
}

// compareWorkloadNames orders the standard workloads first, in their order,
// then the others by name (the engine's order).
func compareWorkloadNames(a, b license.Workload) int {
	ra, rb := slices.Index(license.StandardWorkloads, a), slices.Index(license.StandardWorkloads, b)
	switch {
	case ra >= 0 && rb >= 0:
		return ra - rb
	case ra >= 0:
		return -1
	case rb >= 0:
		return 1
	}
	return strings.Compare(string(a), string(b))
}

// ParseCustomerPK splits T#<t>#C#<c> into the tenant and the customer id.
func ParseCustomerPK(pk string) (license.Tenant, string, error) {
	rest, ok := strings.CutPrefix(pk, "T#")
	if !ok {
		return license.Tenant{}, "", fmt.Errorf("key %q is not a customer partition T#<tenant>#C#<customer>", pk)
	}
	tenantID, customerID, ok := strings.Cut(rest, "#C#")
	if !ok {
		return license.Tenant{}, "", fmt.Errorf("key %q is not a customer partition T#<tenant>#C#<customer>", pk)
	}
	t, err := license.NewTenant(tenantID)
	if err != nil {
		return license.Tenant{}, "", fmt.Errorf("key %q: %w", pk, err)
	}
	if err := license.ValidCustomerID(customerID); err != nil {
		return license.Tenant{}, "", fmt.Errorf("key %q: %w", pk, err)
	}
	return t, customerID, nil
}

// FiguresChange is one stream record of a customer's FIGURES item.
type FiguresChange struct {
	Tenant     license.Tenant
	CustomerID string
	// RecordID is the stream record's sequence number: what identifies the
	// record when Lambda delivers it again.
	RecordID string
	// Old is nil for an insert, New for a removal.
	Old, New               *license.Figures
	OldVersion, NewVersion int64
}

// marker is the change part of the APPLIED key: the new version, or
// DEL<old version> for a removal.
func (c *FiguresChange) marker() string {
	if c.New == nil {
		return "DEL" + strconv.FormatInt(c.OldVersion, 10)
	}
	return strconv.FormatInt(c.NewVersion, 10)
}

// FiguresChangeOf reads a stream record: ok is false when the record is not
// about a FIGURES item (the event source's filter lets only those through;
// anything else is none of the roll-up's business). An image that cannot be
// decoded is an error: skipping it would silently corrupt the roll-up.
func FiguresChangeOf(recordID string, keys, oldImage, newImage map[string]types.AttributeValue) (c FiguresChange, ok bool, err error) {
	if stringOf(keys, attrSK) != skFigures {
		return FiguresChange{}, false, nil
	}
	if recordID == "" {
		return FiguresChange{}, false, errors.New("stream record without a sequence number")
	}
	c.RecordID = recordID
	if c.Tenant, c.CustomerID, err = ParseCustomerPK(stringOf(keys, attrPK)); err != nil {
		return FiguresChange{}, false, err
	}
	decode := func(image map[string]types.AttributeValue, which string) (*license.Figures, int64, error) {
		if len(image) == 0 {
			return nil, 0, nil
		}
		if _, has := image[attrFigures]; !has {
			return nil, 0, fmt.Errorf("%s image of %s has no %s attribute", which, c.CustomerID, attrFigures)
		}
		f, err := decodeFigures(image)
		if err != nil {
			return nil, 0, fmt.Errorf("%s image of %s: %w", which, c.CustomerID, err)
		}
		return &f.Figures, f.Version, nil
	}
	if c.Old, c.OldVersion, err = decode(oldImage, "old"); err != nil {
		return FiguresChange{}, false, err
	}
	if c.New, c.NewVersion, err = decode(newImage, "new"); err != nil {
		return FiguresChange{}, false, err
	}
	if c.Old == nil && c.New == nil {
		return FiguresChange{}, false, fmt.Errorf("record %s of %s has neither an old nor a new image: the stream must be NEW_AND_OLD_IMAGES", recordID, c.CustomerID)
	}
	return c, true, nil
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

// Rollup is a tenant's portfolio as the roll-up holds it.
type Rollup struct {
	Portfolio license.Portfolio
	// Shards are the headlines of the shards, in shard order.
	Shards [RollupShards]PortfolioHeadline
}

// Portfolio reads the tenant's roll-up: one BatchGetItem of the shards,
// whatever the number of customers. A tenant with no customers yet has the
// zero Portfolio.
func (s *Store) Portfolio(ctx context.Context, t license.Tenant) (*Rollup, error) {
	shards, err := s.readShards(ctx, t, false)
	if err != nil {
		return nil, err
	}
	r := &Rollup{}
	for n, st := range shards {
		AddPortfolio(&r.Portfolio, &st.Portfolio)
		r.Shards[n] = HeadlineOfPortfolio(&st.Portfolio)
	}
	return r, nil
}

// RankedList is one of the portfolio's ordered customer lists.
type RankedList int

// The ranked lists of GET /v1/portfolio.
const (
	LowestUsage RankedList = iota + 1
	MostUnassigned
	UpsellCandidates
)

// RankedCustomers is the first limit customers of a ranked list: one Query
// on the index kept in that order (see the access patterns in keys.go).
// lowestUsage lists only customers with a known usage figure.
func (s *Store) RankedCustomers(ctx context.Context, t license.Tenant, list RankedList, limit int) ([]Summary, error) {
	in := &dynamodb.QueryInput{TableName: &s.table, Limit: aws.Int32(int32(max(limit, 1)))}
	var pk string
	var err error
	switch list {
	case LowestUsage:
		pk, err = UsagePartition(t)
		in.IndexName = aws.String(IndexGSI2)
		in.KeyConditionExpression = aws.String("GSI2PK = :pk AND begins_with(GSI2SK, :known)")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":known": &types.AttributeValueMemberS{Value: "1#"}}
	case MostUnassigned:
		pk, err = UnassignedPartition(t)
		in.IndexName = aws.String(IndexGSI1)
		in.KeyConditionExpression = aws.String("GSI1PK = :pk")
	case UpsellCandidates:
		pk, err = UpsellPartition(t)
		in.IndexName = aws.String(IndexGSI2)
		in.KeyConditionExpression = aws.String("GSI2PK = :pk")
	default:
		return nil, fmt.Errorf("unknown ranked list %d", list)
	}
	if err != nil {
		return nil, err
	}
	if in.ExpressionAttributeValues == nil {
		in.ExpressionAttributeValues = map[string]types.AttributeValue{}
	}
	in.ExpressionAttributeValues[":pk"] = &types.AttributeValueMemberS{Value: pk}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("reading ranked list %d of %s: %w", list, t.ID(), err)
	}
	list2 := make([]Summary, 0, len(out.Items))
	for _, item := range out.Items {
		sum, err := DecodeSummary(item)
		if err != nil {
			return nil, err
		}
		list2 = append(list2, sum)
	}
	return list2, nil
}

// PortfolioRead is everything GET /v1/portfolio shows.
type PortfolioRead struct {
	Rollup           *Rollup
	LowestUsage      []Summary
	MostUnassigned   []Summary
	UpsellCandidates []Summary
}

// ReadPortfolio reads the roll-up and the first top entries of each ranked
// list: four requests (one BatchGetItem, three Queries with Limit top), sent
// at once, whatever the number of customers.
func (s *Store) ReadPortfolio(ctx context.Context, t license.Tenant, top int) (*PortfolioRead, error) {
	out := &PortfolioRead{}
	var errs [4]error
	var wg sync.WaitGroup
	wg.Go(func() { out.Rollup, errs[0] = s.Portfolio(ctx, t) })
	wg.Go(func() { out.LowestUsage, errs[1] = s.RankedCustomers(ctx, t, LowestUsage, top) })
	wg.Go(func() { out.MostUnassigned, errs[2] = s.RankedCustomers(ctx, t, MostUnassigned, top) })
	wg.Go(func() { out.UpsellCandidates, errs[3] = s.RankedCustomers(ctx, t, UpsellCandidates, top) })
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	return out, nil
}

// PortfolioDay is the portfolio's headline on one day.
type PortfolioDay struct {
	Date     license.Date
	Headline PortfolioHeadline
}

// portfolioDayEntry is one PDAY item.
type portfolioDayEntry struct {
	date        license.Date
	shard       int
	open, close PortfolioHeadline
}

// PortfolioHistory is the portfolio's headline for every day from from to
// to (inclusive) on which the tenant had a roll-up: one Query over the PDAY
// items (at most 401 days × 8 shards whatever the number of customers), and
// one read of the shards when a shard has no history left (it has not
// changed for longer than the history is kept).
func (s *Store) PortfolioHistory(ctx context.Context, t license.Tenant, from, to license.Date) ([]PortfolioDay, error) {
	tp, err := tenantPrefix(t)
	if err != nil {
		return nil, err
	}
	if from.IsZero() || to.IsZero() || from > to {
		return nil, fmt.Errorf("history range %s…%s is not a range of dates", from, to)
	}
	var entries []portfolioDayEntry
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :prefix)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: tp}, ":prefix": &types.AttributeValueMemberS{Value: "PDAY#"},
		},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading the portfolio history of %s: %w", t.ID(), err)
		}
		for _, item := range page.Items {
			e, err := decodeDayEntry(item)
			if err != nil {
				return nil, err
			}
			entries = append(entries, e)
		}
	}
	var seen [RollupShards]bool
	for _, e := range entries {
		seen[e.shard] = true
	}
	var current *[RollupShards]PortfolioHeadline
	if len(entries) > 0 && slices.Contains(seen[:], false) {
		r, err := s.Portfolio(ctx, t)
		if err != nil {
			return nil, err
		}
		current = &r.Shards
	}
	return portfolioDays(entries, current, from, to), nil
}

func decodeDayEntry(item map[string]types.AttributeValue) (portfolioDayEntry, error) {
	var e portfolioDayEntry
	n, err := intOf(item, attrShard)
	if err != nil || n < 0 || n >= RollupShards {
		return e, fmt.Errorf("portfolio history item %s has no valid shard number", stringOf(item, attrSK))
	}
	e.shard = int(n)
	if e.date, err = license.ParseDate(stringOf(item, attrDate)); err != nil || e.date.IsZero() {
		return e, fmt.Errorf("portfolio history item %s has no valid date", stringOf(item, attrSK))
	}
	if err := getJSON(item, attrOpen, &e.open); err != nil {
		return e, err
	}
	if err := getJSON(item, attrClose, &e.close); err != nil {
		return e, err
	}
	return e, nil
}

// portfolioDays sums, for each day from..to, every shard's state that day:
// the close of its item that day, else the close of its latest item before,
// else the open of its earliest item after (what it was before its first
// recorded change), else — a shard with no items at all — its current
// headline. Days before the tenant's first item are left out: there was no
// portfolio yet.
func portfolioDays(entries []portfolioDayEntry, current *[RollupShards]PortfolioHeadline, from, to license.Date) []PortfolioDay {
	if len(entries) == 0 {
		return nil
	}
	slices.SortFunc(entries, func(a, b portfolioDayEntry) int {
		if a.date != b.date {
			return int(a.date - b.date)
		}
		return a.shard - b.shard
	})
	first := entries[0].date
	var byShard [RollupShards][]portfolioDayEntry
	for _, e := range entries {
		byShard[e.shard] = append(byShard[e.shard], e)
	}
	var out []PortfolioDay
	var next [RollupShards]int // per shard: index of its first entry after the current day
	for d := max(from, first); d <= to; d++ {
		var sum PortfolioHeadline
		for n, list := range byShard {
			for next[n] < len(list) && list[next[n]].date <= d {
				next[n]++
			}
			switch {
			case next[n] > 0:
				sum = sum.Plus(list[next[n]-1].close)
			case len(list) > 0:
				sum = sum.Plus(list[0].open)
			case current != nil:
				sum = sum.Plus(current[n])
			}
		}
		out = append(out, PortfolioDay{Date: d, Headline: sum})
	}
	return out
}

// CustomerFiguresRef is a customer's FIGURES item with the customer's id.
type CustomerFiguresRef struct {
	CustomerID string
	*CustomerFigures
}

// EachCustomerFigures calls fn with every customer's FIGURES, in name order:
// the customers-by-name index, page by page, and a BatchGetItem of their
// FIGURES items per 100. Its cost grows with the number of customers: it is
// for listings (the analytics rows) and the repair, never for a figure that
// must cost the same at any size. A customer listed by the index without a
// FIGURES item (removed) is skipped.
func (s *Store) EachCustomerFigures(ctx context.Context, t license.Tenant, fn func(CustomerFiguresRef) error) error {
	pk, err := NamePartition(t)
	if err != nil {
		return err
	}
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(IndexGSI1),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
		ProjectionExpression:      aws.String("PK"),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing the customers of %s: %w", t.ID(), err)
		}
		var ids []string
		for _, item := range page.Items {
			_, id, err := ParseCustomerPK(stringOf(item, attrPK))
			if err != nil {
				return err
			}
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		figures, err := s.figuresOf(ctx, t, ids)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if f, ok := figures[id]; ok {
				if err := fn(CustomerFiguresRef{CustomerID: id, CustomerFigures: f}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// figuresOf batch-gets the FIGURES of the customers, 100 per call, up to
// s.workers calls at once.
func (s *Store) figuresOf(ctx context.Context, t license.Tenant, ids []string) (map[string]*CustomerFigures, error) {
	out := make(map[string]*CustomerFigures, len(ids))
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	sem := make(chan struct{}, s.workers)
	for chunk := range slices.Chunk(ids, 100) {
		keys := make([]map[string]types.AttributeValue, 0, len(chunk))
		for _, id := range chunk {
			k, err := FiguresKey(t, id)
			if err != nil {
				return nil, err
			}
			keys = append(keys, keyOf(k))
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			items, err := s.batchGet(ctx, keys, false)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				firstErr = cmpErr(firstErr, fmt.Errorf("reading figures of %s: %w", t.ID(), err))
				return
			}
			for _, item := range items {
				_, id, err := ParseCustomerPK(stringOf(item, attrPK))
				if err == nil {
					var f *CustomerFigures
					if f, err = decodeFigures(item); err == nil {
						out[id] = f
						continue
					}
				}
				firstErr = cmpErr(firstErr, fmt.Errorf("figures item %s: %w", stringOf(item, attrPK), err))
			}
		}()
	}
	wg.Wait()
	return out, firstErr
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// RecomputeRollup sums the customers' FIGURES into shards, exactly as the
// stream would have built them.
func (s *Store) RecomputeRollup(ctx context.Context, t license.Tenant) ([RollupShards]license.Portfolio, error) {
	var shards [RollupShards]license.Portfolio
	err := s.EachCustomerFigures(ctx, t, func(c CustomerFiguresRef) error {
		shards[RollupShardOf(c.CustomerID)].Add(&c.Figures)
		return nil
	})
	return shards, err
}

// ShardRepair is what RepairRollup found in one shard.
type ShardRepair struct {
	Shard    int
	Stored   PortfolioHeadline
	Computed PortfolioHeadline
	// Differs: the stored shard is not the sum of its customers' figures
	// (compared count by count, product names aside).
	Differs bool
	// Repaired: the computed shard was written.
	Repaired bool
}

// RepairRollup recomputes every roll-up shard of the tenant from the
// customers' FIGURES items and, when write is set, overwrites the shards that
// differ (conditioned on their revision, so a shard the stream changed in
// the meantime is reported, not overwritten: run the repair again). See the
// package notes on when to run it. On an error the report holds the shards
// dealt with before it.
func (s *Store) RepairRollup(ctx context.Context, t license.Tenant, write bool, now time.Time) ([]ShardRepair, error) {
	computed, err := s.RecomputeRollup(ctx, t)
	if err != nil {
		return nil, err
	}
	stored, err := s.readShards(ctx, t, true)
	if err != nil {
		return nil, err
	}
	out := make([]ShardRepair, RollupShards)
	for n := range RollupShards {
		st := stored[n]
		r := ShardRepair{
			Shard:    n,
			Stored:   HeadlineOfPortfolio(&st.Portfolio),
			Computed: HeadlineOfPortfolio(&computed[n]),
			Differs:  !SamePortfolio(&st.Portfolio, &computed[n]),
		}
		if r.Differs && write {
			before := r.Stored
			st.Portfolio = computed[n]
			writes, err := s.shardWrites(t, n, st, before, now)
			if err != nil {
				return out[:n], err
			}
			if _, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: writes}); err != nil {
				return out[:n], fmt.Errorf("writing repaired roll-up shard %d of %s (run the repair again if it changed meanwhile): %w", n, t.ID(), err)
			}
			r.Repaired = true
		}
		out[n] = r
	}
	return out, nil
}

// SamePortfolio compares two portfolios count by count. Product names are
// informational (the first name met is kept) and are left out.
func SamePortfolio(a, b *license.Portfolio) bool {
	strip := func(p *license.Portfolio) []byte {
		c := *p
		c.Products = slices.Clone(p.Products)
		for i := range c.Products {
			c.Products[i].Name = ""
		}
		out, _ := json.Marshal(&c) // counts and strings only: cannot fail
		return out
	}
	return string(strip(a)) == string(strip(b))
}
