package ingest

import (
	"github.com/licenseinsights/licenseinsights/pkg/catalog"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/spill"
)

// ResolveProducts rewrites the users' licences to the part numbers of the
// customer's figures (docs/definitions.md#subscriptions-and-products): a Graph report names products by
// upper-case display names, some of which Microsoft gives to two products
// and some it does not publish, which only the customer's own subscriptions
// settle. It runs on every ingest, over the users of the new document or
// those kept from the last one, so a report that arrived before the
// subscriptions is settled once they come. Each distinct name is resolved
// once, and every replay of the users gives the part numbers (spill.Map;
// a part number resolves to itself). It returns whether a SKU is a known
// product, for the figures' unknownProduct flag.
func ResolveProducts(users *spill.Users, subs []license.Subscription) func(string) bool {
	skus := make([]string, len(subs))
	names := make([]string, len(subs))
	for i, s := range subs {
		skus[i], names[i] = s.SKU, s.Name
	}
	r := catalog.NewResolver(skus, names)
	users.Map(func(v string) string {
		sku, _ := r.SKU(v)
		return sku
	})
	return r.Known
}
