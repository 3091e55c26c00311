package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// StoredPrices is a tenant's price list as PUT /v1/prices accepted it.
type StoredPrices struct {
	license.PriceList
	// Form is the form the list came in (partner, partner-center-price-sheet).
	Form      string    `json:"form"`
	UpdatedAt time.Time `json:"updatedAt"`
}

const attrPrices = "prices"

// PutPrices replaces the tenant's price list whole: one PutItem, so a
// reader sees the old list or the new one, never a mix.
func (s *Store) PutPrices(ctx context.Context, t license.Tenant, p *StoredPrices) error {
	k, err := PricesKey(t)
	if err != nil {
		return err
	}
	item := keyOf(k)
	if err := putJSON(item, attrPrices, p); err != nil {
		return err
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item}); err != nil {
		return fmt.Errorf("put prices: %w", err)
	}
	return nil
}

// GetPrices is the tenant's price list, ErrNotFound when it has none.
func (s *Store) GetPrices(ctx context.Context, t license.Tenant) (*StoredPrices, error) {
	k, err := PricesKey(t)
	if err != nil {
		return nil, err
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: keyOf(k), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("get prices: %w", err)
	}
	if out.Item == nil {
		return nil, ErrNotFound
	}
	var p StoredPrices
	if err := getJSON(out.Item, attrPrices, &p); err != nil {
		return nil, err
	}
	return &p, nil
}
