package ingest

import (
	"github.com/licenseinsights/licenseinsights/pkg/catalog"
	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// resolveProducts rewrites the users' licences to the part numbers of the
// customer's figures (docs/definitions.md#subscriptions-and-products): a Graph report names products by
// upper-case display names, some of which Microsoft gives to two products
// and some it does not publish, which only the customer's own subscriptions
// settle. It runs on every ingest, over the users of the new document or
// those kept from the last one, so a report that arrived before the
// subscriptions is settled once they come. Users are rewritten in place
// (idempotent: a part number resolves to itself). It returns whether a SKU
// is a known product, for the figures' unknownProduct flag.
func resolveProducts(users []license.User, subs []license.Subscription) func(string) bool {
	skus := make([]string, len(subs))
	names := make([]string, len(subs))
	for i, s := range subs {
		skus[i], names[i] = s.SKU, s.Name
	}
	r := catalog.NewResolver(skus, names)
	memo := map[string]string{}
	for ui := range users {
		ls := users[ui].Licenses
		for li := range ls {
			v := ls[li].SKU
			sku, ok := memo[v]
			if !ok {
				sku, _ = r.SKU(v)
				memo[v] = sku
			}
			ls[li].SKU = sku
		}
	}
	return r.Known
}
