package ingest

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

// Recompute computes a customer's figures again from its kept documents
// (the accepted SOURCE# items and the current users) under today's rules,
// and commits them as a new version, exactly as an ingest would: the
// roll-up, ranked lists and history follow through the same stream. It is
// how figures stored under SPEC version 1 are brought up to version 2
// (cmd/recompute-figures). store.ErrNotFound when the customer has no
// figures.
//
// What the kept documents no longer hold cannot be recovered: a directory
// subscription's ownerTenantId and subscribedSkus' appliesTo were reduced
// to a channel and dropped when version 1 parsed them, so their channels
// and company-level exclusions are right only once those documents are
// sent again.
func (s *Service) Recompute(ctx context.Context, t license.Tenant, customerID string, now time.Time) (int64, error) {
	if !t.Valid() {
		return 0, license.ErrNoTenant
	}
	if err := license.ValidCustomerID(customerID); err != nil {
		return 0, err
	}
	req := Request{Tenant: t, CustomerID: customerID, Now: now.UTC()}
	for attempt := 1; ; attempt++ {
		version, err := s.try(ctx, req, nil)
		if err == nil || !errors.Is(err, store.ErrConflict) || attempt == attempts {
			return version, err
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(time.Duration(attempt) * (20*time.Millisecond + rand.N(60*time.Millisecond))):
		}
	}
}
