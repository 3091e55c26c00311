package source

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// parse runs Parse over data and collects the users it hands over.
func parse(t testing.TB, data string, kind Kind, opts Options) (*Document, []license.User, error) {
	t.Helper()
	var users []license.User
	doc, err := Parse(strings.NewReader(data), kind, opts, func(u license.User) error {
		users = append(users, u)
		return nil
	})
	return doc, users, err
}

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// mustParse parses a document that must be valid.
func mustParse(t *testing.T, data string, kind Kind, opts Options) (*Document, []license.User) {
	t.Helper()
	doc, users, err := parse(t, data, kind, opts)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if doc.Users != len(users) {
		t.Errorf("Document.Users = %d, but onUser was called %d times", doc.Users, len(users))
	}
	return doc, users
}

// invalid parses a document that must be rejected and returns its problems.
func invalid(t *testing.T, data string, kind Kind, opts Options) []Problem {
	t.Helper()
	_, _, err := parse(t, data, kind, opts)
	var inv *InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("Parse error = %v, want *InvalidError", err)
	}
	if inv.Total < len(inv.Problems) || len(inv.Problems) == 0 {
		t.Fatalf("InvalidError has %d problems, Total %d", len(inv.Problems), inv.Total)
	}
	return inv.Problems
}

// wantProblem is an expected problem: exact line and column, a reason
// containing the given text.
type wantProblem struct {
	line   int
	column string
	reason string
}

func checkProblems(t *testing.T, got []Problem, want []wantProblem) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d problems %v, want %d %v", len(got), got, len(want), want)
	}
	for i, w := range want {
		g := got[i]
		if g.Line != w.line || g.Column != w.column || !strings.Contains(g.Reason, w.reason) {
			t.Errorf("problem %d = {line %d, %q, %q}, want {line %d, %q, reason containing %q}",
				i, g.Line, g.Column, g.Reason, w.line, w.column, w.reason)
		}
	}
}

func date(t testing.TB, s string) license.Date {
	t.Helper()
	d, err := license.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func checkSubscriptions(t *testing.T, got, want []license.Subscription) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d subscriptions %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("subscription %d = %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func checkUsers(t *testing.T, got, want []license.User) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d users, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("user %d = %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestParseUnknownKind(t *testing.T) {
	_, err := Parse(strings.NewReader("{}"), Kind("excel"), Options{}, nil)
	if err == nil || !strings.Contains(err.Error(), "unknown kind") {
		t.Fatalf("err = %v, want unknown kind", err)
	}
}

// An error of the reader is the caller's (a dropped upload, say), not a
// problem of the document: it comes back wrapped, not as *InvalidError.
func TestParseReaderError(t *testing.T) {
	boom := errors.New("connection reset")
	for _, kind := range Kinds {
		t.Run(string(kind), func(t *testing.T) {
			r := io.MultiReader(strings.NewReader(`{"value": [`), &failingReader{boom})
			if kind == KindActiveUserDetail {
				r = io.MultiReader(strings.NewReader("Report Refresh Date,User"), &failingReader{boom})
			}
			_, err := Parse(r, kind, Options{}, nil)
			if !errors.Is(err, boom) {
				t.Fatalf("err = %v, want it to wrap %v", err, boom)
			}
			var inv *InvalidError
			if errors.As(err, &inv) {
				t.Fatalf("err is an InvalidError: %v", err)
			}
		})
	}
}

type failingReader struct{ err error }

func (f *failingReader) Read([]byte) (int, error) { return 0, f.err }

// A reader that reports io.ErrUnexpectedEOF (an upload cut short) is an
// I/O error too, not a truncated document.
func TestParseReaderCutShort(t *testing.T) {
	r := io.MultiReader(strings.NewReader(`{"value": [{"skuPartNumber": "SPE`), &failingReader{io.ErrUnexpectedEOF})
	_, err := Parse(r, KindSubscribedSkus, Options{}, nil)
	var inv *InvalidError
	if !errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &inv) {
		t.Fatalf("err = %v, want a wrapped io.ErrUnexpectedEOF", err)
	}
}

// onUser's error ends the parse and comes back unchanged.
func TestParseStopsOnUserError(t *testing.T) {
	stop := errors.New("store is full")
	for _, tc := range []struct {
		kind Kind
		file string
	}{{KindSnapshot, "snapshot.json"}, {KindActiveUserDetail, "activeuserdetail.csv"}} {
		t.Run(string(tc.kind), func(t *testing.T) {
			calls := 0
			doc, err := Parse(strings.NewReader(readTestdata(t, tc.file)), tc.kind, Options{}, func(license.User) error {
				calls++
				if calls == 2 {
					return stop
				}
				return nil
			})
			if err != stop {
				t.Fatalf("err = %v, want %v", err, stop)
			}
			if calls != 2 || doc.Users != 2 {
				t.Fatalf("onUser called %d times, Document.Users %d; want 2 and 2", calls, doc.Users)
			}
		})
	}
}

func TestInvalidErrorMessage(t *testing.T) {
	e := &InvalidError{Problems: []Problem{{Line: 3, Column: "Is Deleted", Reason: `"Maybe" is not True or False`}}, Total: 2}
	want := `invalid document: 2 problems, first: line 3, Is Deleted: "Maybe" is not True or False`
	if e.Error() != want {
		t.Fatalf("Error() = %q, want %q", e.Error(), want)
	}
}

// Without SkipInvalid at most MaxProblems are listed, but all are counted.
func TestProblemsAreCappedButCounted(t *testing.T) {
	var b strings.Builder
	b.WriteString(`[`)
	for i := 0; i < 150; i++ {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString(`{"id": "x` + strconv.Itoa(i) + `", "offerName": "Office 365 E3", "quantity": -1, "status": "active"}`)
	}
	b.WriteString("]")
	_, _, err := parse(t, b.String(), KindPartnerCenterSubs, Options{})
	var inv *InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("err = %v", err)
	}
	if len(inv.Problems) != MaxProblems || inv.Total != 150 {
		t.Fatalf("listed %d, total %d; want %d and 150", len(inv.Problems), inv.Total, MaxProblems)
	}
	if inv.Problems[99].Line != 100 || inv.Problems[99].Column != "[99].quantity" {
		t.Fatalf("100th problem = %+v, want line 100, [99].quantity", inv.Problems[99])
	}
}
