package store

// The portfolio's history: the shards' daily headlines, carried forward
// over days without changes (see rollup.go for the roll-up as a whole).

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

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
