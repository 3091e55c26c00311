package source

import (
	"math/rand"
	"reflect"
	"strings"
	"testing"

	"github.com/licenseinsights/licenseinsights/pkg/catalog"
)

// productSKUsBefore is productSKUs as it was before productNames: the
// reference the reader's own is held to.
func productSKUsBefore(field string) []string {
	parts := strings.Split(field, "+")
	var skus []string
	add := func(sku string) {
		for _, s := range skus {
			if s == sku {
				return
			}
		}
		skus = append(skus, sku)
	}
	named := func(name string) string {
		if prod, ok := catalog.ByName(name); ok {
			return prod.SKU
		}
		return strings.TrimSpace(name)
	}
	for i := 0; i < len(parts); {
		matched := false
		for j := min(len(parts), i+maxNamePieces); j > i+1; j-- {
			if joined := strings.Join(parts[i:j], "+"); len(catalog.ByNameAll(joined)) > 0 {
				add(named(joined))
				i, matched = j, true
				break
			}
		}
		if matched {
			continue
		}
		name := strings.TrimSpace(parts[i])
		i++
		if name == "" {
			continue
		}
		add(named(name))
	}
	return skus
}

// Random Assigned Products values built from catalogue names (some holding
// "+" themselves), unknown names, spaces, letter case and empty pieces:
// one productNames, its memo filling up over the values, gives what the
// function it replaced gave.
func TestProductNamesAgreesWithBefore(t *testing.T) {
	var names []string
	for _, p := range catalog.All() {
		names = append(names, p.Name)
	}
	extra := []string{"", " ", "UNKNOWN PRODUCT", "unknown product", "A", "E3", " SECURITY E3", "ENTERPRISE MOBILITY ", "Microsoft 365 E3 "}
	rng := rand.New(rand.NewSource(1))
	var pn productNames
	var buf []string
	for range 20_000 {
		var pieces []string
		for range 1 + rng.Intn(5) {
			switch n := rng.Intn(10); {
			case n < 6:
				pieces = append(pieces, names[rng.Intn(len(names))])
			case n < 7:
				pieces = append(pieces, strings.ToLower(names[rng.Intn(len(names))]))
			default:
				pieces = append(pieces, extra[rng.Intn(len(extra))])
			}
		}
		field := strings.Join(pieces, "+")
		buf = pn.skus([]byte(field), buf)
		want := productSKUsBefore(field)
		if len(buf) != len(want) || (len(want) > 0 && !reflect.DeepEqual(buf, want)) {
			t.Fatalf("skus(%q) = %q, want %q", field, buf, want)
		}
	}
	if len(pn.names) == 0 || len(pn.names) > maxProductNames {
		t.Fatalf("%d names remembered", len(pn.names))
	}
}

// Past the cache of whole values, a value made of names seen before costs
// no allocation.
func TestProductNamesAllocations(t *testing.T) {
	var pn productNames
	field := []byte("OFFICE 365 E3+ENTERPRISE MOBILITY + SECURITY E3+SOMETHING ELSE")
	buf := pn.skus(field, nil)
	if allocs := testing.AllocsPerRun(100, func() { buf = pn.skus(field, buf) }); allocs != 0 {
		t.Fatalf("%v allocations a value, want 0", allocs)
	}
	if want := productSKUsBefore(string(field)); !reflect.DeepEqual(buf, want) {
		t.Fatalf("skus = %q, want %q", buf, want)
	}
}
