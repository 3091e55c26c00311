package store

// Reading the roll-up: the summed shards and the ranked lists of
// GET /v1/portfolio (see rollup.go for the roll-up as a whole).

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

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
		r.Portfolio.Merge(&st.Portfolio)
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
	// MostIdleCopilot: customers by idle Copilot seats, most first.
	MostIdleCopilot
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
	case MostIdleCopilot:
		pk, err = CopilotIdlePartition(t)
		in.IndexName = aws.String(IndexGSI3)
		in.KeyConditionExpression = aws.String("GSI3PK = :pk")
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
	MostIdleCopilot  []Summary
}

// ReadPortfolio reads the roll-up and the first top entries of each ranked
// list: five requests (one BatchGetItem, four Queries with Limit top), sent
// at once, whatever the number of customers.
func (s *Store) ReadPortfolio(ctx context.Context, t license.Tenant, top int) (*PortfolioRead, error) {
	out := &PortfolioRead{}
	var errs [5]error
	var wg sync.WaitGroup
	wg.Go(func() { out.Rollup, errs[0] = s.Portfolio(ctx, t) })
	wg.Go(func() { out.LowestUsage, errs[1] = s.RankedCustomers(ctx, t, LowestUsage, top) })
	wg.Go(func() { out.MostUnassigned, errs[2] = s.RankedCustomers(ctx, t, MostUnassigned, top) })
	wg.Go(func() { out.UpsellCandidates, errs[3] = s.RankedCustomers(ctx, t, UpsellCandidates, top) })
	wg.Go(func() { out.MostIdleCopilot, errs[4] = s.RankedCustomers(ctx, t, MostIdleCopilot, top) })
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	return out, nil
}
