package source

import (
	"bytes"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// parseCopying parses data and keeps a deep copy of every user handed
// over, as a ReuseUser callback must.
func parseCopying(data []byte, opts Options) (*Document, []license.User, error) {
	var users []license.User
	doc, err := Parse(bytes.NewReader(data), KindActiveUserDetail, opts, func(u license.User) error {
		u.Key, u.DisplayName = strings.Clone(u.Key), strings.Clone(u.DisplayName)
		u.Licenses = slices.Clone(u.Licenses)
		u.Workloads = slices.Clone(u.Workloads)
		users = append(users, u)
		return nil
	})
	return doc, users, err
}

// With ReuseUser the parser hands over the same users, documents and
// errors as without it: only who owns the memory differs.
func sameWithReuseUser(t *testing.T, data []byte, skip bool) {
	t.Helper()
	opts := Options{SkipInvalid: skip, PartnerTenantID: partnerTenant}
	wantDoc, want, wantErr := parseCopying(data, opts)
	opts.ReuseUser = true
	gotDoc, got, gotErr := parseCopying(data, opts)
	if !reflect.DeepEqual(gotErr, wantErr) {
		t.Fatalf("%q: ReuseUser gives error %v, without %v", data, gotErr, wantErr)
	}
	if !reflect.DeepEqual(gotDoc, wantDoc) {
		t.Fatalf("%q: ReuseUser gives document %+v, without %+v", data, gotDoc, wantDoc)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: ReuseUser gives users %+v, without %+v", data, got, want)
	}
}

func TestActiveUserDetailReuseUser(t *testing.T) {
	generated, err := io.ReadAll(newReportGenerator(500))
	if err != nil {
		t.Fatal(err)
	}
	// Users with more products than the reused backing holds, then fewer,
	// then none: the grown slice is reused and cut back.
	many := reportHeader + "\n" +
		reportRow("a@x.com", "OFFICE 365 E3+POWER BI PRO+VISIO PLAN 2+PROJECT PLAN 3") + "\n" +
		reportRow("b@x.com", "OFFICE 365 E1") + "\n" +
		reportRow("c@x.com", "") + "\n" +
		reportRow("d@x.com", "OFFICE 365 E3+POWER BI PRO+VISIO PLAN 2") + "\n"
	for _, data := range []string{
		readTestdata(t, "activeuserdetail.csv"),
		readTestdata(t, "activeuserdetail-concealed.csv"),
		string(generated),
		many,
		strings.ReplaceAll(many, "\n", "\r\n"),
		strings.Replace(many, "False", "Maybe", 1),
	} {
		for _, skip := range []bool{false, true} {
			sameWithReuseUser(t, []byte(data), skip)
		}
	}
}

func FuzzActiveUserDetailReuseUser(f *testing.F) {
	for _, name := range []string{"activeuserdetail.csv", "activeuserdetail-concealed.csv"} {
		data := []byte(readTestdata(f, name))
		f.Add(data, false)
		f.Add(data, true)
	}
	f.Fuzz(func(t *testing.T, data []byte, skip bool) {
		sameWithReuseUser(t, data, skip)
	})
}

// The allocations a row, which are what a million-row report costs beyond
// its bytes: the key and display name with ReuseUser (one string), and
// the user's own licence and workload backing without.
func TestActiveUserDetailAllocationsPerRow(t *testing.T) {
	const rows = 20_000
	data, err := io.ReadAll(newReportGenerator(rows))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		reuse bool
		max   float64
	}{{true, 1.1}, {false, 2.1}} {
		allocs := testing.AllocsPerRun(1, func() {
			doc, err := Parse(bytes.NewReader(data), KindActiveUserDetail, Options{ReuseUser: tc.reuse}, nil)
			if err != nil || doc.Users != rows {
				t.Fatalf("Parse: %v, %d users", err, doc.Users)
			}
		})
		if perRow := allocs / rows; perRow > tc.max {
			t.Errorf("ReuseUser %v: %.3f allocations a row, want at most %.1f", tc.reuse, perRow, tc.max)
		}
	}
}
