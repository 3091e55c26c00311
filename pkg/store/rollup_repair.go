package store

// Repairing the roll-up: recomputing the shards from the customers'
// FIGURES items (see rollup.go for the roll-up as a whole).

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

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
	_, p, err := s.customersByName(t, attrPK, nil)
	if err != nil {
		return err
	}
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
			Differs:  !st.Portfolio.SameCounts(&computed[n]),
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
