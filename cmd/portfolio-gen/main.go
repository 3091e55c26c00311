// Command portfolio-gen writes a realistic CSP partner portfolio as the
// source documents License Insights ingests:
//
//	go run ./cmd/portfolio-gen -customers 50 -users 200 -seed 1 -out DIR
//
// writes DIR/<customerId>/<kind>.<json|csv> for every customer and kind
// (-formats picks kinds) and prints a one-line summary. With -out - and one
// customer and one format, the document goes to standard output.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/portfoliogen"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "portfolio-gen:", err)
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("portfolio-gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	customers := fs.Int("customers", 50, "number of customers")
	users := fs.Int("users", 200, "mean users per customer (sizes vary ±50 % unless -exact)")
	exact := fs.Bool("exact", false, "give every customer exactly -users users")
	seed := fs.Int64("seed", 1, "random seed; the same seed gives the same bytes")
	out := fs.String("out", "", "output directory, or - for standard output (one customer, one format)")
	formats := fs.String("formats", "all", "comma-separated kinds: "+kindList()+", or all")
	date := fs.String("date", "", "report date YYYY-MM-DD (default: today, UTC)")
	partner := fs.String("partner-tenant", "", "the partner's own tenant id (default: derived from -seed)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *out == "" {
		return errors.New("-out is required: a directory, or - for standard output")
	}
	if *customers < 1 {
		return fmt.Errorf("-customers must be at least 1, not %d", *customers)
	}
	if *users < 0 {
		return fmt.Errorf("-users must not be negative, not %d", *users)
	}
	kinds, err := parseKinds(*formats)
	if err != nil {
		return err
	}
	reportDate := license.DateOf(time.Now())
	if *date != "" {
		if reportDate, err = license.ParseDate(*date); err != nil {
			return fmt.Errorf("-date: %w", err)
		}
	}
	cfg := portfoliogen.Config{
		Seed: *seed, Customers: *customers, Users: *users, Exact: *exact,
		ReportDate: reportDate, PartnerTenantID: *partner,
	}
	specs := portfoliogen.Customers(cfg)

	if *out == "-" {
		if len(specs) != 1 || len(kinds) != 1 {
			return fmt.Errorf("-out - writes one document: give -customers 1 and one kind in -formats (have %d customers, %d kinds)", len(specs), len(kinds))
		}
		return portfoliogen.Write(stdout, kinds[0], cfg, specs[0])
	}

	start := time.Now()
	totalUsers, files := 0, 0
	for _, c := range specs {
		dir := filepath.Join(*out, c.ID)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		for _, k := range kinds {
			if err := writeFile(filepath.Join(dir, string(k)+"."+k.Ext()), k, cfg, c); err != nil {
				return err
			}
			files++
		}
		totalUsers += c.Users
	}
	fmt.Fprintf(stdout, "portfolio-gen: %d customers, %d users, %d files in %s (seed %d, report date %s, partner tenant %s) in %s\n",
		len(specs), totalUsers, files, *out, *seed, reportDate, cfg.PartnerTenant(), time.Since(start).Round(time.Millisecond))
	return nil
}

func writeFile(path string, k portfoliogen.Kind, cfg portfoliogen.Config, c portfoliogen.CustomerSpec) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := portfoliogen.Write(f, k, cfg, c); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

func parseKinds(s string) ([]portfoliogen.Kind, error) {
	if s == "all" || s == "" {
		return portfoliogen.Kinds, nil
	}
	var kinds []portfoliogen.Kind
	for _, name := range strings.Split(s, ",") {
		k, err := portfoliogen.ParseKind(strings.TrimSpace(name))
		if err != nil {
			return nil, fmt.Errorf("-formats: %w", err)
		}
		kinds = append(kinds, k)
	}
	return kinds, nil
}

func kindList() string {
	names := make([]string, len(portfoliogen.Kinds))
	for i, k := range portfoliogen.Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}
