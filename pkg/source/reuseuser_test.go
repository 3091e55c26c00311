package source

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/licenseinsights/licenseinsights/internal/goroutinetest"
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
// its bytes: none with ReuseUser (the key and display name are a view of
// the row's buffer), and the names and the user's own licence and
// workload backing without.
//
// With ReuseUser what is allocated is the reader's: the batches of rows
// and each row's buffers, once, so many rows are needed to see it is not
// per row.
func TestActiveUserDetailAllocationsPerRow(t *testing.T) {
	const rows = 100_000
	data, err := io.ReadAll(newReportGenerator(rows))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		reuse bool
		max   float64
	}{{true, 0.05}, {false, 2.1}} {
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

// lines is the generated report of n users as lines, the header first.
func generatedLines(t *testing.T, n int) []string {
	t.Helper()
	data, err := io.ReadAll(newReportGenerator(n))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// With ReuseUser the rows are read on a goroutine of their own and
// checked on the caller's, in batches: problems found on either side, in
// rows on both sides of batch boundaries, come out as one goroutine finds
// them.
func TestPipedRowsMatchInline(t *testing.T) {
	lines := generatedLines(t, 3*pipedRows+40)
	edit := func(at int, f func(string) string) { lines[at] = f(lines[at]) }
	edit(pipedRows-1, func(l string) string { return strings.Replace(l, "@contoso.com", "@contoso.com\"", 1) }) // malformed
	edit(pipedRows, func(l string) string { return strings.Replace(l, "2025-01-01", "2025-13-01", 1) })         // a bad date
	lines[2*pipedRows+1] = lines[pipedRows+7]                                                                   // a key given twice
	edit(2*pipedRows+2, func(l string) string { return strings.Replace(l, "2026-11-20", "2026-11-21", 1) })     // another refresh date
	// A quoted name over two lines: the lines of the rows after it move
	// on by one.
	quotedAt := 3*pipedRows + 3
	edit(quotedAt, func(l string) string {
		return strings.Replace(l, fmt.Sprintf(",User %d,", quotedAt-1), ",\"Name, with a comma\nand a second line\",", 1)
	})
	lines = append(lines, "2026-11-20,short row") // the last line, one more problem
	data := []byte(strings.Join(lines, "\n") + "\n")
	for _, skip := range []bool{false, true} {
		sameWithReuseUser(t, data, skip)
	}
	doc, users, err := parseCopying(data, Options{SkipInvalid: true, ReuseUser: true})
	if err != nil {
		t.Fatal(err)
	}
	rows := len(lines) - 1
	if len(users) != rows-5 || doc.SkippedTotal != 5 {
		t.Fatalf("kept %d of %d rows, %d problems %+v; want all but the five edited", len(users), rows, doc.SkippedTotal, doc.Skipped)
	}
	wantLines := []int{pipedRows, pipedRows + 1, 2*pipedRows + 2, 2*pipedRows + 3, len(lines) + 1}
	for i, pr := range doc.Skipped {
		if pr.Line != wantLines[i] {
			t.Errorf("problem %d at line %d, want %d: %+v", i, pr.Line, wantLines[i], pr)
		}
	}
	if got := users[quotedAt-1-4].DisplayName; got != "Name, with a comma\nand a second line" { // four rows before it skipped
		t.Errorf("the quoted name reads %q", got)
	}
}

// A callback's error stops the rows on both goroutines, mid-batch, and is
// Parse's; no goroutine is left reading.
func TestPipedRowsStopWithTheCallback(t *testing.T) {
	data := []byte(strings.Join(generatedLines(t, 5*pipedRows), "\n"))
	stop := errors.New("stop")
	before := runtime.NumGoroutine()
	for _, at := range []int{1, pipedRows, pipedRows + 1, 4*pipedRows + 3} {
		n := 0
		_, err := Parse(bytes.NewReader(data), KindActiveUserDetail, Options{ReuseUser: true}, func(u license.User) error {
			if want := fmt.Sprintf("user%d@contoso.com", n); u.Key != want {
				t.Fatalf("user %d is %q, want %q", n, u.Key, want)
			}
			if n++; n == at {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != at {
			t.Fatalf("Parse gave %v after %d users; want the callback's error after %d", err, n, at)
		}
	}
	goroutinetest.Check(t, before)
}

// A reading error past the first batches is Parse's error with ReuseUser
// as without, after the same users.
func TestPipedRowsReadingError(t *testing.T) {
	data := []byte(strings.Join(generatedLines(t, 2000), "\n"))
	broken := errors.New("connection reset")
	var counts [2]int
	for i, reuse := range []bool{false, true} {
		_, err := Parse(io.MultiReader(bytes.NewReader(data[:len(data)/2]), &failingReader{broken}), KindActiveUserDetail, Options{ReuseUser: reuse}, func(license.User) error {
			counts[i]++
			return nil
		})
		if !errors.Is(err, broken) {
			t.Fatalf("ReuseUser %v: Parse gave %v, want the reader's error", reuse, err)
		}
	}
	if counts[0] != counts[1] || counts[0] == 0 {
		t.Errorf("users before the error: %d without ReuseUser, %d with", counts[0], counts[1])
	}
}
