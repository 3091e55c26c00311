// Package catalog maps Microsoft 365 SKUs between the three ways sources
// name them: the skuId GUID (Graph directory subscriptions, user licences),
// the SKU part number (Graph subscribedSkus, e.g. SPE_E3) and the product
// name (Partner Center offer names, the "Assigned Products" column of Graph
// usage reports, e.g. "MICROSOFT 365 E3").
//
// The data is products.csv, embedded at build time; it holds the common
// Microsoft 365 / Office 365 / Exchange / Teams / Business / EMS / Visio /
// Project / Power Platform SKUs, taken from Microsoft's "Product names and
// service plan identifiers for licensing" reference. A SKU that is not in
// the catalogue is not an error anywhere: sources keep the part number or
// name they were given, and only the display name is then unknown.
package catalog

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode"
)

// Product is one SKU.
type Product struct {
	SKUID string // skuId GUID, lower case
	SKU   string // SKU part number, e.g. SPE_E3
	Name  string // product display name, e.g. Microsoft 365 E3
}

//go:embed products.csv
var productsCSV string

// index is the catalogue, looked up three ways.
type index struct {
	products []Product
	bySKU    map[string]int // upper-cased part number → products index
	byID     map[string]int // lower-cased GUID
	byName   map[string]int // nameKey of display name and every other name
}

var catalogue = mustLoad(productsCSV)

func mustLoad(data string) *index {
	ix, err := load(strings.NewReader(data))
	if err != nil {
		// The data is compiled in: a bad row is a programming error that
		// the package's tests catch before anything ships.
		panic("catalog: products.csv: " + err.Error())
	}
	return ix
}

var guidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// load reads the catalogue CSV (header sku_id,sku,name,other_names; '#'
// starts a comment line) and refuses anything that would make a lookup
// ambiguous: a repeated GUID, part number or name.
func load(r io.Reader) (*index, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = 4
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("reading header: %w", err)
	}
	if strings.Join(header, ",") != "sku_id,sku,name,other_names" {
		return nil, fmt.Errorf("header is %q, want sku_id,sku,name,other_names", header)
	}
	ix := &index{bySKU: map[string]int{}, byID: map[string]int{}, byName: map[string]int{}}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		p := Product{SKUID: strings.ToLower(strings.TrimSpace(rec[0])), SKU: strings.TrimSpace(rec[1]), Name: strings.TrimSpace(rec[2])}
		if !guidPattern.MatchString(p.SKUID) {
			return nil, fmt.Errorf("line %d: sku_id %q is not a GUID", line, rec[0])
		}
		if p.SKU == "" || p.Name == "" {
			return nil, fmt.Errorf("line %d: sku and name are required", line)
		}
		i := len(ix.products)
		ix.products = append(ix.products, p)
		if err := add(ix.byID, p.SKUID, i, ix.products); err != nil {
			return nil, fmt.Errorf("line %d: sku_id %w", line, err)
		}
		if err := add(ix.bySKU, strings.ToUpper(p.SKU), i, ix.products); err != nil {
			return nil, fmt.Errorf("line %d: sku %w", line, err)
		}
		names := []string{p.Name}
		if rec[3] != "" {
			names = append(names, strings.Split(rec[3], "|")...)
		}
		for _, n := range names {
			k := nameKey(n)
			if k == "" {
				return nil, fmt.Errorf("line %d: empty name in %q", line, rec[3])
			}
			// The same name twice for one product is harmless (e.g. a
			// report name that only differs in case from the display name).
			if j, ok := ix.byName[k]; ok && j == i {
				continue
			}
			if err := add(ix.byName, k, i, ix.products); err != nil {
				return nil, fmt.Errorf("line %d: name %q %w", line, n, err)
			}
		}
	}
	return ix, nil
}

func add(m map[string]int, key string, i int, products []Product) error {
	if j, ok := m[key]; ok {
		return fmt.Errorf("%q is already used by %s", key, products[j].SKU)
	}
	m[key] = i
	return nil
}

// nameKey folds a product name for lookup: upper case, all white space
// removed, so "Microsoft 365 E3", "MICROSOFT 365 E3" and "Microsoft  365E3"
// meet.
func nameKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if unicode.IsSpace(r) {
			continue
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

// BySKU finds a product by SKU part number, case-insensitively.
func BySKU(sku string) (Product, bool) {
	return lookup(catalogue.bySKU, strings.ToUpper(strings.TrimSpace(sku)))
}

// BySKUID finds a product by its skuId GUID, case-insensitively.
func BySKUID(id string) (Product, bool) {
	return lookup(catalogue.byID, strings.ToLower(strings.TrimSpace(id)))
}

// ByName finds a product by its display name or any other name it goes by
// (older display names, Graph usage report names), ignoring case and white
// space.
func ByName(name string) (Product, bool) {
	return lookup(catalogue.byName, nameKey(name))
}

// Name is the display name of a SKU part number, or "" when the SKU is not
// in the catalogue.
func Name(sku string) string {
	p, _ := BySKU(sku)
	return p.Name
}

// All lists every product, in catalogue order.
func All() []Product {
	return append([]Product(nil), catalogue.products...)
}

func lookup(m map[string]int, key string) (Product, bool) {
	i, ok := m[key]
	if !ok {
		return Product{}, false
	}
	return catalogue.products[i], true
}
