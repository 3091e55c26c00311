package catalog

import "strings"

// Resolver maps what a source calls a product — a part number in any case,
// a display name, a Graph report's upper-case name — to the part number the
// customer's figures use, in the spelling of the customer's own
// subscriptions (Graph writes Win10_VDA_E3 where Microsoft's list has
// WIN10_VDA_E3; the figures compare part numbers exactly).
//
// The order (docs/definitions.md#subscriptions-and-products): the customer's own part numbers; the
// catalogue's part numbers; the catalogue's names, where a name two
// products share goes to the one the customer holds; the display names of
// the customer's own SKUs; else the value as given, which the figures then
// flag as an unknown product.
type Resolver struct {
	ownSKU  map[string]string // upper-cased part number → customer's spelling
	ownName map[string]string // nameKey of a customer SKU's name → its part number
}

// NewResolver is a Resolver for a customer holding these SKUs; names[i] is
// the name the customer's source gives skus[i] ("" when none).
func NewResolver(skus, names []string) *Resolver {
	r := &Resolver{ownSKU: map[string]string{}, ownName: map[string]string{}}
	for i, sku := range skus {
		if sku == "" {
			continue
		}
		if _, ok := r.ownSKU[strings.ToUpper(sku)]; !ok {
			r.ownSKU[strings.ToUpper(sku)] = sku
		}
		if i < len(names) && names[i] != "" {
			if _, ok := r.ownName[nameKey(names[i])]; !ok {
				r.ownName[nameKey(names[i])] = sku
			}
		}
	}
	return r
}

// SKU is the part number v stands for, and whether it is a product the
// catalogue or the customer knows (false: an unknown product, kept as v).
func (r *Resolver) SKU(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if s, ok := r.ownSKU[strings.ToUpper(v)]; ok {
		return s, true
	}
	if p, ok := BySKU(v); ok {
		// A product the customer does not hold, named alike to one it
		// does: a report's shared name resolved before the customer's
		// subscriptions were known is settled now.
		for _, s := range Siblings(p.SKU) {
			if own, held := r.ownSKU[strings.ToUpper(s.SKU)]; held {
				return own, true
			}
		}
		return p.SKU, true
	}
	if all := ByNameAll(v); len(all) > 0 {
		for _, p := range all {
			if s, ok := r.ownSKU[strings.ToUpper(p.SKU)]; ok {
				return s, true
			}
		}
		// The customer holds none of them: the preferred one, so the same
		// name always lands on the same product.
		return all[0].SKU, true
	}
	if s, ok := r.ownName[nameKey(v)]; ok {
		return s, true
	}
	return v, false
}

// Known reports whether sku is a part number the catalogue or the
// customer's own subscriptions know.
func (r *Resolver) Known(sku string) bool {
	if _, ok := r.ownSKU[strings.ToUpper(sku)]; ok {
		return true
	}
	_, ok := BySKU(sku)
	return ok
}
