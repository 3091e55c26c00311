package portfoliogen

import "github.com/licenseinsights/licenseinsights/pkg/catalog"

// lookupProduct gives a part number's SKU GUID and product name from the
// project's catalogue, the same one the parsers read them back with.
func lookupProduct(sku string) (skuID, name string, ok bool) {
	p, ok := catalog.BySKU(sku)
	return p.SKUID, p.Name, ok
}
