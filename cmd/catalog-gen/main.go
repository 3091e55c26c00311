// Command catalog-gen regenerates pkg/catalog/products.csv, the product
// catalogue the project embeds, from Microsoft's published "Product names and
// service plan identifiers for licensing" CSV:
//
//	go run ./cmd/catalog-gen -in product-names.csv -out pkg/catalog/products.csv
//
// Download the CSV from Microsoft's licensing reference page; then rebuild
// and run `go test ./pkg/catalog` (which proves the new table loads).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/licenseinsights/licenseinsights/pkg/catalog"
)

func main() {
	in := flag.String("in", "", "Microsoft's product names and service plan identifiers CSV")
	out := flag.String("out", "pkg/catalog/products.csv", "the embedded table to write")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "catalog-gen:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	if in == "" {
		return fmt.Errorf("-in is required: the path of Microsoft's CSV")
	}
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	var buf bytes.Buffer
	if err := catalog.Generate(f, &buf); err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	// Written only once the whole CSV has been read: a bad input never
	// leaves a half-written table behind.
	return os.WriteFile(out, buf.Bytes(), 0o644)
}
