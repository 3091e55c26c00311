package source

import (
	"fmt"
	"testing"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// parseDate must agree with license.ParseDate on every input: every day of
// a span of years that covers leap rules, plus malformed and impossible
// dates.
func TestParseDateAgreesWithLicense(t *testing.T) {
	check := func(s string) {
		want, wantErr := license.ParseDate(s)
		got, err := parseDate(s)
		if got != want || (err == nil) != (wantErr == nil) {
			t.Errorf("parseDate(%q) = %d, %v; license.ParseDate = %d, %v", s, got, err, want, wantErr)
		}
	}
	for _, y := range []int{1, 1600, 1899, 1900, 1969, 1970, 1999, 2000, 2024, 2025, 2026, 2100, 2400, 9999} {
		for m := 0; m <= 13; m++ {
			for d := 0; d <= 32; d++ {
				check(fmt.Sprintf("%04d-%02d-%02d", y, m, d))
			}
		}
	}
	for _, s := range []string{"", "2026-1-20", "2026/11/20", "2026-11-2x", "+026-11-20", "2026-11-20T00:00:00Z", " 2026-11-20", "0000-01-01"} {
		check(s)
	}
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-11-20", "2024-02-29", "2023-02-29", "0000-00-00", "9999-12-31"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, wantErr := license.ParseDate(s)
		got, err := parseDate(s)
		if got != want || (err == nil) != (wantErr == nil) {
			t.Fatalf("parseDate(%q) = %d, %v; license.ParseDate = %d, %v", s, got, err, want, wantErr)
		}
	})
}

// The []byte form and the table of years agree with license.ParseDate on
// every day of the years around and in the table.
func TestParseDateBytesAndTableYears(t *testing.T) {
	for y := firstTableYear - 2; y <= firstTableYear+len(yearStart)+1; y++ {
		for m := 0; m <= 13; m++ {
			for d := 0; d <= 32; d++ {
				s := fmt.Sprintf("%04d-%02d-%02d", y, m, d)
				want, wantErr := license.ParseDate(s)
				got, err := parseDate([]byte(s))
				if got != want || (err == nil) != (wantErr == nil) {
					t.Fatalf("parseDate(%q) = %d, %v; license.ParseDate = %d, %v", s, got, err, want, wantErr)
				}
			}
		}
	}
}
