package source

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// The snapshot's fast path (snapshotfast.go) must answer exactly what the
// encoding/json walk answers: the same users, document and problems. These
// tests hold the two to each other, on chosen inputs and on random ones.

// snapshotRun is what one parse of a snapshot gave.
type snapshotRun struct {
	doc   *Document
	users []license.User
	err   error
}

// parseSnapshotWith parses data as Parse does past its prelude (byte order
// mark, encoding), with the fast path or the walk alone. chunk > 0 feeds
// the fast path at most chunk bytes a read, to move its buffer boundaries.
func parseSnapshotWith(data []byte, opts Options, legacy bool, chunk int) snapshotRun {
	var run snapshotRun
	onUser := func(u license.User) error {
		// With ReuseUser the arrays and strings are the parser's: keep a
		// copy.
		u.Key, u.DisplayName = strings.Clone(u.Key), strings.Clone(u.DisplayName)
		u.Licenses = append([]license.License(nil), u.Licenses...)
		u.Workloads = append([]license.WorkloadUse(nil), u.Workloads...)
		if len(u.Licenses) == 0 {
			u.Licenses = nil
		}
		if len(u.Workloads) == 0 {
			u.Workloads = nil
		}
		run.users = append(run.users, u)
		return nil
	}
	p := &parser{opts: opts, onUser: onUser, doc: &Document{Kind: KindSnapshot, HasSubscriptions: true, HasUsers: true}}
	var r io.Reader = bytes.NewReader(data)
	if chunk > 0 { // both ways: the walk's messages depend on it too
		r = &chunkReader{r: r, n: chunk}
	}
	if legacy {
		run.err = p.legacySnapshot(r)
	} else {
		run.err = p.snapshot(r)
	}
	if run.err == nil && p.invalid.Total > 0 {
		run.err = &p.invalid
	}
	run.doc = p.doc
	return run
}

// chunkReader reads at most n bytes at a time.
type chunkReader struct {
	r io.Reader
	n int
}

func (c *chunkReader) Read(b []byte) (int, error) {
	if len(b) > c.n {
		b = b[:c.n]
	}
	return c.r.Read(b)
}

// sameSnapshot fails t when the fast path and the walk, reading data in
// the same chunks, disagree.
//
// One difference is allowed, and only in the problem that ends a broken
// document: walkSnapshot names a syntax error by decoding again, from the
// failing token on, the bytes it has read so far (syntaxProblem), so where
// a second syntax error closely follows the first its message and line
// depend on how far the decoder had read, which is the reader's chunking
// for the walk alone, and the point where it took over for the fast path.
func sameSnapshot(t *testing.T, data []byte, opts Options, chunk int) {
	t.Helper()
	want := parseSnapshotWith(data, opts, true, chunk)
	got := parseSnapshotWith(data, opts, false, chunk)
	if !reflect.DeepEqual(got.err, want.err) && !sameButSyntaxError(got.err, want.err) {
		t.Fatalf("input %q (opts %+v, chunk %d):\nerror %v\nwant  %v", clip(data), opts, chunk, got.err, want.err)
	}
	if !reflect.DeepEqual(got.doc, want.doc) {
		t.Fatalf("input %q (opts %+v, chunk %d):\ndocument %+v\nwant     %+v", clip(data), opts, chunk, got.doc, want.doc)
	}
	if !reflect.DeepEqual(got.users, want.users) {
		t.Fatalf("input %q (opts %+v, chunk %d):\nusers %+v\nwant  %+v", clip(data), opts, chunk, got.users, want.users)
	}
}

// sameButSyntaxError reports whether a and b are InvalidErrors that differ
// only in their last problem, both being broken JSON (see sameSnapshot).
func sameButSyntaxError(a, b error) bool {
	var x, y *InvalidError
	if !errors.As(a, &x) || !errors.As(b, &y) || x.Total != y.Total || len(x.Problems) != len(y.Problems) || len(x.Problems) == 0 {
		return false
	}
	n := len(x.Problems) - 1
	last := func(p Problem) bool { return p.Column == "" && strings.HasPrefix(p.Reason, "invalid JSON: ") }
	return reflect.DeepEqual(x.Problems[:n], y.Problems[:n]) && last(x.Problems[n]) && last(y.Problems[n])
}

func clip(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}

// fastSnapshotSeeds are inputs that reach each branch of the fast path and
// of its hand-over to the walk.
var fastSnapshotSeeds = []string{
	`{"schema":"license-snapshot/v1","customer":{"id":"c1"},"reportDate":"2026-11-20","users":[{"key":"a"}]}`,
	// Escapes everywhere, surrogate pairs, a lone surrogate, bad UTF-8.
	`{"schema":"license-snapshot/v1","customer":{"id":"c1"},"reportDate":"2026-11-20","users":[` +
		`{"k\u0065y":" a\u00e9\ud83d\ude00\"\\\/\b\f\n\r\t ","displayName":"\ud800x\udc00 ` + "\xff\xfe\xc3" + `","licenses":[{"sku":"SPE_\u0045\u0033","assignedDate":" 2025-01-01 "}],` +
		`"workloads":{"exch\u0061nge":{"licensed":true,"lastActivity":"2026-11-19"},"OneDrive":{"licensed":false,"lastActivity":"2026-11-20"},"SharePoint":{"licensed":true}}}]}`,
	// Members given twice, SKUs listed twice, workloads merged.
	`{"schema":"license-snapshot/v1","customer":{"id":"c1"},"reportDate":"2026-11-20","users":[` +
		`{"key":"a","key":"b"},{"key":"c","licenses":[{"sku":"X"},{"sku":"x"}]},` +
		`{"key":"d","workloads":{"teams":{},"teams":{"licensed":true}}},{"key":"e","licenses":[{"sku":"X","sku":"Y"}]},` +
		`{"key":"f","workloads":{"onedrive":{"licensed":true},"sharepoint":{"lastActivity":"2026-01-01"},"skypeforbusiness":{"licensed":true},"zeta":{},"Alpha":{}}},` +
		`{"key":"a"},{"key":" a "}]}`,
	// Wrong types, nulls, numbers, unknown members.
	`{"schema":"license-snapshot/v1","x":[1,-2.5e+3,{"y":null}],"customer":{"id":"c1"},"reportDate":"2026-11-20","users":[` +
		`{"key":null},{"key":1},{"key":"g","displayName":null,"deleted":null,"licenses":null,"workloads":null,"extra":[true,false,{}]},` +
		`{"key":"h","deleted":"yes"},{"key":"i","licenses":{}},{"key":"j","workloads":[]},{"key":"k","licenses":[null]},` +
		`{"key":"l","workloads":{"teams":null}},{"key":"m","workloads":{"bad name":{}}},{"key":"n","licenses":[{"sku":"X","assignedDate":"2026-02-30"}]},` +
		`{"key":"o","workloads":{"teams":{"licensed":"true"}}},[],null,"p",7,{"key":""},{"key":"   "}]}`,
	// Top-level hand-overs: "Users", users twice, users null, not an object.
	`{"schema":"license-snapshot/v1","customer":{"id":"c1"},"reportDate":"2026-11-20","Users":[],"users":[{"key":"a"}]}`,
	`{"schema":"license-snapshot/v1","customer":{"id":"c1"},"reportDate":"2026-11-20","users":[{"key":"a"}],"users":[]}`,
	`{"schema":"license-snapshot/v1","customer":{"id":"c1"},"reportDate":"2026-11-20","users":null}`,
	`{"schema":"license-snapshot/v1","customer":{"id":"c1"},"reportDate":"2026-11-20","users":{}}`,
	`[{"key":"a"}]`,
	``,
	`   `,
	// Broken JSON in a user, between users, after the document.
	"{\"schema\":\"license-snapshot/v1\",\n\"customer\":{\"id\":\"c1\"},\n\"reportDate\":\"2026-11-20\",\n\"users\":[\n{\"key\":\"a\"},\n{\"key\":\"b\",}\n]}",
	"{\"schema\":\"license-snapshot/v1\",\n\"customer\":{\"id\":\"c1\"},\n\"reportDate\":\"2026-11-20\",\n\"users\":[\n{\"key\":\"a\"}\n{\"key\":\"b\"}\n]}",
	"{\"schema\":\"license-snapshot/v1\",\n\"customer\":{\"id\":\"c1\"},\n\"reportDate\":\"2026-11-20\",\n\"users\":[\n{\"key\":\"a\"},\n]}",
	"{\"schema\":\"license-snapshot/v1\",\n\"customer\":{\"id\":\"c1\"},\n\"reportDate\":\"2026-11-20\",\n\"users\":[\n{\"key\":\"a\"}\n]}\n{}",
	"{\"schema\":\"license-snapshot/v1\",\n\"customer\":{\"id\":\"c1\"},\n\"reportDate\":\"2026-11-20\",\n\"users\":[\n{\"key\":\"a\"}\n]}\nx",
	"{\"schema\":\"license-snapshot/v1\",\n\"customer\":{\"id\":\"c1\"},\n\"reportDate\":\"2026-11-20\",\n\"users\":[\n{\"key\":\"a\"}\n]",
	"{\"schema\":\"license-snapshot/v1\" \"customer\":{\"id\":\"c1\"}}",
	"{\"users\":[{\"key\":\"a\u0001\"}]}",
	"{\"users\":[{\"key\":\"a\\x\"}]}",
	"{\"users\":[{\"key\":\"a\"}, 01]}",
	"{\"users\":[{\"key\":\"a\", \"n\": [1.]}]}",
	"{\"users\":[{\"key\":\"a\", \"n\": tru}]}",
}

func TestFastSnapshotMatchesWalk(t *testing.T) {
	seeds := append([]string{readTestdata(t, "snapshot.json")}, fastSnapshotSeeds...)
	for _, s := range seeds {
		for _, opts := range []Options{{}, {SkipInvalid: true}, {ReuseUser: true}, {SkipInvalid: true, ReuseUser: true, CustomerID: "c1"}} {
			for _, chunk := range []int{0, 1, 7} {
				sameSnapshot(t, []byte(s), opts, chunk)
				for cut := 1; cut < len(s); cut += max(1, len(s)/17) {
					sameSnapshot(t, []byte(s[:cut]), opts, chunk)
				}
			}
		}
	}
}

// Values past the fast path's buffer, records past MaxRowBytes and a
// reader that fails go to the walk, which answers as before.
func TestFastSnapshotLimits(t *testing.T) {
	head := `{"schema":"license-snapshot/v1","customer":{"id":"c1"},"reportDate":"2026-11-20",`
	big := strings.Repeat("x", fastMaxValue+10)
	huge := strings.Repeat("x", MaxRowBytes+10)
	for _, doc := range []string{
		head + `"users":[{"key":"a"},{"key":"b","displayName":"` + big + `"},{"key":"c"}]}`,
		head + `"users":[{"key":"a"},{"key":"b","displayName":"` + huge + `"},{"key":"c"}]}`,
		head + `"generator":"` + big + `","users":[{"key":"a"}]}`,
		head + `"generator":"` + huge + `","users":[{"key":"a"}]}`,
		head + `"generator":[` + strings.Repeat(`"x",`, MaxRowBytes/4) + `1],"users":[{"key":"a"}]}`,
		head + `"users":[{"key":"a"}` + strings.Repeat(" ", fastMaxValue+fastChunk+10) + `,{"key":"b"}]}`,
		head + `"users":[{"key":"a"}]}` + strings.Repeat("\n", MaxRowBytes+10),
		head + `"users":[{"key":"a","x":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}]}`,
		head + `"users":[{"key":"a","x":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}]}`,
	} {
		sameSnapshot(t, []byte(doc), Options{}, 0)
	}
	failing := head + `"users":[` + strings.Repeat(`{"key":"u"},`, 10) + `{"key":"v"}]}`
	for cut := 1; cut < len(failing); cut += 13 {
		cause := errors.New("connection reset")
		read := func(legacy bool) snapshotRun {
			p := &parser{onUser: func(license.User) error { return nil }, doc: &Document{Kind: KindSnapshot}}
			r := io.MultiReader(strings.NewReader(failing[:cut]), errReader{cause})
			var err error
			if legacy {
				err = p.legacySnapshot(r)
			} else {
				err = p.snapshot(r)
			}
			return snapshotRun{doc: p.doc, err: err}
		}
		want, got := read(true), read(false)
		if !errors.Is(want.err, cause) || !errors.Is(got.err, cause) {
			t.Fatalf("cut %d: error %v, want %v", cut, got.err, want.err)
		}
	}
}

// FuzzSnapshotFastMatchesWalk holds the fast path to the walk on random
// documents, seeded from the snapshot fuzz corpus and the inputs above.
func FuzzSnapshotFastMatchesWalk(f *testing.F) {
	seeds := append([]string{readTestdata(f, "snapshot.json")}, fastSnapshotSeeds...)
	seeds = append(seeds, fuzzCorpus(f, "FuzzParseSnapshot")...)
	for _, s := range seeds {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(0x17))
	}
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		opts := Options{SkipInvalid: mode&1 != 0, ReuseUser: mode&2 != 0}
		sameSnapshot(t, data, opts, int(mode>>2))
	})
}

// FuzzSnapshotUsersFastMatchesWalk is FuzzSnapshotFastMatchesWalk with the
// random bytes as the users array's content of a valid document, so that
// the mutations reach the user decoder rather than break the header.
func FuzzSnapshotUsersFastMatchesWalk(f *testing.F) {
	for _, s := range []string{
		`{"key":"a"}`,
		`{"key":"alice@fabrikam.com","displayName":"Alice Smith","deleted":false,"licenses":[{"sku":"SPE_E3","assignedDate":"2025-01-01"}],` +
			`"workloads":{"exchange":{"licensed":true,"lastActivity":"2026-11-19"},"onedrive":{"licensed":true,"lastActivity":"2026-11-10"},` +
			`"sharepoint":{"licensed":true,"lastActivity":null},"teams":{"licensed":true},"yammer":{"licensed":false,"lastActivity":"2026-11-18"}}},` +
			`{"key":"bob@fabrikam.com","licenses":[{"sku":"SPE_E3"},{"sku":"POWER_BI_PRO","assignedDate":"2026-10-01"}]}`,
		`{"k\u0065y":"\ud83d\ude00 x ","displayName":"\ud800","licenses":[{"sku":"a"},{"sku":"A"}],"workloads":{"Teams":{},"teams":{}}}`,
		`{"key":"a","workloads":{"onedrive":{"licensed":true},"OneDrive":{"lastActivity":"2026-11-20"},"sharepoint":{}}},{"key":"a"}`,
	} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(0x13))
	}
	f.Fuzz(func(t *testing.T, users string, mode uint8) {
		doc := `{"schema":"license-snapshot/v1","customer":{"id":"c1"},"reportDate":"2026-11-20",` + "\n" + `"users":[` + users + "]}\n"
		opts := Options{SkipInvalid: mode&1 != 0, ReuseUser: mode&2 != 0}
		sameSnapshot(t, []byte(doc), opts, int(mode>>2))
	})
}

// The user callback's error stops the parse, at the same user both ways.
func TestFastSnapshotCallbackError(t *testing.T) {
	doc := []byte(`{"schema":"license-snapshot/v1","customer":{"id":"c1"},"reportDate":"2026-11-20","users":[{"key":"a"},{"key":"b"},{"key":"c"}]}`)
	stop := errors.New("stop")
	for _, legacy := range []bool{true, false} {
		var keys []string
		p := &parser{onUser: func(u license.User) error {
			keys = append(keys, u.Key)
			if u.Key == "b" {
				return stop
			}
			return nil
		}, doc: &Document{Kind: KindSnapshot}}
		var err error
		if legacy {
			err = p.legacySnapshot(bytes.NewReader(doc))
		} else {
			err = p.snapshot(bytes.NewReader(doc))
		}
		if err != stop || strings.Join(keys, ",") != "a,b" || p.doc.Users != 2 {
			t.Fatalf("legacy %v: error %v, users %v (%d)", legacy, err, keys, p.doc.Users)
		}
	}
}

// A realistic generated snapshot parses the same both ways, and its users
// all come from the fast path.
func TestFastSnapshotGenerated(t *testing.T) {
	data, err := io.ReadAll(&snapshotGenerator{n: 500})
	if err != nil {
		t.Fatal(err)
	}
	handed := 0
	resumeHook = func(resumeAt, string, int) { handed++ }
	defer func() { resumeHook = nil }()
	for _, opts := range []Options{{}, {ReuseUser: true}} {
		sameSnapshot(t, data, opts, 0)
		sameSnapshot(t, data, opts, 4093)
	}
	if handed > 0 {
		t.Fatalf("the fast path handed a well-formed document to the walk %d times", handed)
	}
}

// fuzzCorpus reads the []byte inputs of a fuzz target's corpus.
func fuzzCorpus(tb testing.TB, target string) []string {
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", target, "*"))
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if q, ok := strings.CutPrefix(line, "[]byte("); ok {
				s, err := strconv.Unquote(strings.TrimSuffix(q, ")"))
				if err != nil {
					tb.Fatal(fmt.Errorf("%s: %w", name, err))
				}
				out = append(out, s)
			}
		}
	}
	if len(out) == 0 {
		tb.Fatalf("no corpus for %s", target)
	}
	return out
}

// BenchmarkParseSnapshotReuseUser is BenchmarkParseSnapshot with
// Options.ReuseUser, as the ingest parses.
func BenchmarkParseSnapshotReuseUser(b *testing.B) {
	benchmarkSnapshot(b, Options{ReuseUser: true}, false)
}

// BenchmarkSnapshotWalkOnly is BenchmarkParseSnapshot read by the
// encoding/json walk alone (legacySnapshot), for comparison in one run.
func BenchmarkSnapshotWalkOnly(b *testing.B) {
	benchmarkSnapshot(b, Options{}, true)
}

func benchmarkSnapshot(b *testing.B, opts Options, legacy bool) {
	const users = 20_000
	data, err := io.ReadAll(&snapshotGenerator{n: users})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		p := &parser{opts: opts, onUser: func(license.User) error { return nil }, doc: &Document{Kind: KindSnapshot}}
		if legacy {
			err = p.legacySnapshot(bytes.NewReader(data))
		} else {
			err = p.snapshot(bytes.NewReader(data))
		}
		if err != nil || p.invalid.Total > 0 || p.doc.Users != users {
			b.Fatalf("parse: %v, %d problems, %d users", err, p.invalid.Total, p.doc.Users)
		}
	}
	b.ReportMetric(float64(users)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// The user decoder itself vouches for records with escapes, surrogate
// pairs, bad UTF-8, merged workloads and unknown members (the differential
// tests above then hold what it gives to the walk's users).
func TestUserDecoderVouches(t *testing.T) {
	for _, rec := range []string{
		`{"key":" a\u00e9\ud83d\ude00\"\\\/\b\f\n\r\t ","displayName":"\ud800x\udc00 ` + "\xff\xfe\xc3" + `"}`,
		`{"x":{"y":[1,2.5e-3,-0,true,null,"\u0000"]},"key":"k","licenses":[{"sku":" E3 ","assignedDate":" 2025-01-01 ","z":1},{"sku":"e5"}],"deleted":true}`,
		`{"key":"k","workloads":{"OneDrive":{"licensed":true},"sharepoint":{"lastActivity":"2026-11-20"},"SkypeForBusiness":{},"zz":{"licensed":null,"lastActivity":""},"Exchange":{"x":[]}}}`,
	} {
		var d userDecoder
		var names interner
		u, end, ok := d.user([]byte(rec+`, {"key":"next"}`), &names, false)
		if !ok || end != len(rec) {
			t.Fatalf("not vouched for (%v, end %d of %d): %s", ok, end, len(rec), rec)
		}
		for cut := range len(rec) { // a record cut short is never vouched for
			if _, _, ok := d.user([]byte(rec[:cut]), &names, false); ok {
				t.Fatalf("vouched for %q", rec[:cut])
			}
		}
		doc := `{"schema":"license-snapshot/v1","customer":{"id":"c1"},"reportDate":"2026-11-20","users":[` + rec + `]}`
		want := parseSnapshotWith([]byte(doc), Options{}, true, 0)
		if want.err != nil || len(want.users) != 1 || !reflect.DeepEqual(u, want.users[0]) {
			t.Fatalf("%s:\ngot  %+v\nwant %+v (%v)", rec, u, want.users, want.err)
		}
	}
}
