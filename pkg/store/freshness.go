package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// skCollected is the customer's last successful collection from
// Microsoft (docs/definitions.md#collection-from-microsoft, data freshness).
const skCollected = "COLLECTED"

// CollectedKey is the customer's last collection.
func CollectedKey(t license.Tenant, customerID string) (Key, error) {
	return customerKey(t, customerID, skCollected)
}

// Freshness says how current a customer's data is: when it was last
// collected, whether its reports conceal names, and each source's report
// date.
type Freshness struct {
	LastCollectedAt *time.Time
	CollectionID    string
	ConcealedNames  *bool
	Sources         []SourceDate // in kind order
}

// SourceDate is one current source document's dates.
type SourceDate struct {
	Kind       string
	ReportDate license.Date
	AcceptedAt time.Time
}

// RecordCollected notes a successful collection of the customer.
func (s *Store) RecordCollected(ctx context.Context, t license.Tenant, customerID, collectionID string, at time.Time, concealed *bool) error {
	k, err := CollectedKey(t, customerID)
	if err != nil {
		return err
	}
	item := keyOf(k)
	item["collectedAt"] = &types.AttributeValueMemberS{Value: at.UTC().Format(time.RFC3339Nano)}
	item["collectionId"] = &types.AttributeValueMemberS{Value: collectionID}
	if concealed != nil {
		item["concealedNames"] = &types.AttributeValueMemberBOOL{Value: *concealed}
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item}); err != nil {
		return fmt.Errorf("recording %s's collection: %w", customerID, err)
	}
	return nil
}

// Freshness reads the customer's last collection and its sources' dates
// in one BatchGetItem (the source kinds are given: their keys are known),
// projecting away the sources' stored subscriptions.
func (s *Store) Freshness(ctx context.Context, t license.Tenant, customerID string, kinds []string) (*Freshness, error) {
	ck, err := CollectedKey(t, customerID)
	if err != nil {
		return nil, err
	}
	keys := []map[string]types.AttributeValue{keyOf(ck)}
	for _, kind := range kinds {
		k, err := SourceKey(t, customerID, kind)
		if err != nil {
			return nil, err
		}
		keys = append(keys, keyOf(k))
	}
	req := map[string]types.KeysAndAttributes{s.table: {
		Keys:                     keys,
		ProjectionExpression:     aws.String("#sk, #kind, #rd, #acc, #col, #cid, #con"),
		ExpressionAttributeNames: map[string]string{"#sk": attrSK, "#kind": "kind", "#rd": "reportDate", "#acc": "acceptedAt", "#col": "collectedAt", "#cid": "collectionId", "#con": "concealedNames"},
	}}
	f := &Freshness{}
	for attempt := 0; len(req) > 0; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, min(s.retryBase<<min(attempt, 8), s.retryMax)); err != nil {
				return nil, err
			}
		}
		out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, fmt.Errorf("reading %s's freshness: %w", customerID, err)
		}
		for _, item := range out.Responses[s.table] {
			sk := stringOf(item, attrSK)
			if sk == skCollected {
				if at, err := time.Parse(time.RFC3339Nano, stringOf(item, "collectedAt")); err == nil {
					f.LastCollectedAt = &at
				}
				f.CollectionID = stringOf(item, "collectionId")
				if b, ok := item["concealedNames"].(*types.AttributeValueMemberBOOL); ok {
					f.ConcealedNames = &b.Value
				}
				continue
			}
			d := SourceDate{Kind: strings.TrimPrefix(sk, skSourcePrefix)}
			d.ReportDate, _ = license.ParseDate(stringOf(item, "reportDate"))
			d.AcceptedAt, _ = time.Parse(time.RFC3339Nano, stringOf(item, "acceptedAt"))
			f.Sources = append(f.Sources, d)
		}
		req = out.UnprocessedKeys
	}
	slices.SortFunc(f.Sources, func(a, b SourceDate) int {
		return slices.Index(kinds, a.Kind) - slices.Index(kinds, b.Kind)
	})
	return f, nil
}
