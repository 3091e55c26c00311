package store

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// SeedItems are the items Commit writes for c, as plain items to put: no
// version condition, no transaction. The benchmark harness fills a tenant
// with 10,000 customers this way, 25 items to a BatchWriteItem, in a
// fraction of the time 10,000 transactions take; what it then measures
// (the portfolio read) sees exactly the items ingests would have left.
//
// Never for live data: without the condition, a concurrent ingest's commit
// could be overwritten, and without the transaction a reader could see a
// customer half written.
func (s *Store) SeedItems(c Commit) ([]map[string]types.AttributeValue, error) {
	writes, err := s.commitItems(c)
	if err != nil {
		return nil, fmt.Errorf("seeding %s: %w", c.CustomerID, err)
	}
	items := make([]map[string]types.AttributeValue, 0, len(writes))
	for _, w := range writes {
		if w.Put == nil {
			return nil, fmt.Errorf("seeding %s: a commit write that is not a put cannot be seeded", c.CustomerID)
		}
		items = append(items, w.Put.Item)
	}
	return items, nil
}
