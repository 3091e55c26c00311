package source

import (
	"bytes"
	"io"
	"runtime"
	"strconv"
	"testing"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// reportGenerator synthesises an active user detail report of n rows as it
// is read: the file never exists in memory, so the heap a parse uses is the
// parser's own.
type reportGenerator struct {
	n, next int
	buf     []byte
	pending []byte
}

func newReportGenerator(n int) *reportGenerator {
	g := &reportGenerator{n: n}
	g.pending = append(g.buf[:0], reportHeader...)
	g.pending = append(g.pending, '\n')
	return g
}

var generatedProducts = []string{
	"MICROSOFT 365 E3",
	"MICROSOFT 365 E3+MICROSOFT POWER AUTOMATE FREE",
	"OFFICE 365 E1+POWER BI PRO",
	"MICROSOFT 365 BUSINESS STANDARD+MICROSOFT TEAMS EXPLORATORY",
	"",
}

func (g *reportGenerator) Read(p []byte) (int, error) {
	for len(g.pending) == 0 {
		if g.next == g.n {
			return 0, io.EOF
		}
		i := g.next
		g.next++
		b := g.buf[:0]
		b = append(b, "2026-11-20,user"...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, "@contoso.com,User "...)
		b = strconv.AppendInt(b, int64(i), 10)
		if i%50 == 0 {
			b = append(b, ",True,2026-10-02,"...)
		} else {
			b = append(b, ",False,,"...)
		}
		b = append(b, "True,True,True,False,False,True,"...)
		day := strconv.Itoa(10 + i%20)
		b = append(b, "2026-11-"+day+",2026-11-"+day+",,,,2026-11-"+day+","...)
		b = append(b, "2025-01-01,2025-01-01,2025-01-01,,,2025-02-01,"...)
		b = append(b, generatedProducts[i%len(generatedProducts)]...)
		b = append(b, '\n')
		g.buf, g.pending = b, b
	}
	n := copy(p, g.pending)
	g.pending = g.pending[n:]
	return n, nil
}

// heapInUse is the heap in use after a full collection: the bytes in
// spans holding live objects (HeapInuse), which counts fragmentation too and
// so is the stricter measure.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// TestParseMemoryIsBoundedByARow is the proof of "memory bounded by one
// row": 200,000 rows (about 45 MB of CSV) are parsed from a reader that
// synthesises them, users are discarded, and the heap in use, sampled after
// a GC every 20,000 rows during the parse, must stay under 16 MiB. A parser
// that kept its users would need well over 100 MB.
func TestParseMemoryIsBoundedByARow(t *testing.T) {
	if testing.Short() {
		t.Skip("parses 200,000 rows")
	}
	const rows, bound = 200_000, 16 << 20
	base := heapInUse()
	var peak uint64
	users := 0
	doc, err := Parse(newReportGenerator(rows), KindActiveUserDetail, Options{}, func(u license.User) error {
		users++
		if users%20_000 == 0 {
			if h := heapInUse(); h > peak {
				peak = h
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if doc.Users != rows || users != rows || doc.Rows != rows {
		t.Fatalf("Users %d, onUser %d, Rows %d; want %d", doc.Users, users, doc.Rows, rows)
	}
	grown := int64(peak) - int64(base)
	t.Logf("heap in use before %d KiB, peak during parse %d KiB (%+d KiB)", base>>10, peak>>10, grown>>10)
	if peak > bound {
		t.Fatalf("heap in use reached %d KiB while parsing, want under %d KiB", peak>>10, bound>>10)
	}
}

// The generator itself must produce what the parser accepts, or the memory
// test would prove nothing.
func TestReportGenerator(t *testing.T) {
	b, err := io.ReadAll(newReportGenerator(3))
	if err != nil {
		t.Fatal(err)
	}
	if lines := bytes.Count(b, []byte{'\n'}); lines != 4 {
		t.Fatalf("generated %d lines, want header + 3", lines)
	}
	_, users := mustParse(t, string(b), KindActiveUserDetail, Options{})
	if len(users) != 3 || users[1].Key != "user1@contoso.com" || len(users[1].Licenses) != 2 || users[1].Licenses[1].SKU != "FLOW_FREE" {
		t.Fatalf("users = %+v", users)
	}
	if !users[0].Deleted || users[1].Deleted {
		t.Fatalf("every 50th user should be deleted: %+v", users[:2])
	}
}

// BenchmarkParseActiveUserDetail parses a 100,000-row report; rows/s is
// reported beside the usual figures (run with -benchmem).
func BenchmarkParseActiveUserDetail(b *testing.B) {
	benchmarkParseActiveUserDetail(b, Options{})
}

// BenchmarkParseActiveUserDetailReuseUser is the same parse as the ingest
// runs it, one User reused for every row: what is left per row is the key
// and display name.
func BenchmarkParseActiveUserDetailReuseUser(b *testing.B) {
	benchmarkParseActiveUserDetail(b, Options{ReuseUser: true})
}

func benchmarkParseActiveUserDetail(b *testing.B, opts Options) {
	const rows = 100_000
	data, err := io.ReadAll(newReportGenerator(rows))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		doc, err := Parse(bytes.NewReader(data), KindActiveUserDetail, opts, func(license.User) error { return nil })
		if err != nil || doc.Users != rows {
			b.Fatalf("Parse: %v, %d users", err, doc.Users)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// snapshotGenerator synthesises a native snapshot of n users as it is read.
type snapshotGenerator struct {
	n, next int
	done    bool
	pending []byte
}

func (g *snapshotGenerator) Read(p []byte) (int, error) {
	for len(g.pending) == 0 {
		switch {
		case g.done:
			return 0, io.EOF
		case g.next == 0 && g.pending == nil:
			g.pending = []byte(snapshotHead + `  "subscriptions": [{"id": "s1", "sku": "SPE_E3", "quantity": 100000, "status": "active"}],` + "\n  \"users\": [\n")
			continue
		case g.next == g.n:
			g.pending, g.done = []byte("\n  ]\n}\n"), true
			continue
		}
		i := g.next
		g.next++
		b := make([]byte, 0, 400)
		if i > 0 {
			b = append(b, ",\n"...)
		}
		b = append(b, `    {"key": "user`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `@contoso.com", "displayName": "User `...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `", "licenses": [{"sku": "SPE_E3", "assignedDate": "2025-01-01"}],
     "workloads": {"exchange": {"licensed": true, "lastActivity": "2026-11-19"}, "onedrive": {"licensed": true, "lastActivity": null},
                   "sharepoint": {"licensed": true, "lastActivity": "2026-11-02"}, "teams": {"licensed": true}}}`...)
		g.pending = b
	}
	n := copy(p, g.pending)
	g.pending = g.pending[n:]
	return n, nil
}

// The JSON path streams too: 100,000 users (about 40 MB of snapshot) with
// the heap in use sampled during the parse. What grows is only the 12-byte-a-user
// set of key hashes that proves keys unique.
func TestParseSnapshotMemoryIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("parses 100,000 users")
	}
	const users, bound = 100_000, 16 << 20
	var peak uint64
	seen := 0
	doc, err := Parse(&snapshotGenerator{n: users}, KindSnapshot, Options{}, func(u license.User) error {
		seen++
		if seen%20_000 == 0 {
			if h := heapInUse(); h > peak {
				peak = h
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if doc.Users != users || seen != users || doc.Rows != users+1 {
		t.Fatalf("Users %d, onUser %d, Rows %d", doc.Users, seen, doc.Rows)
	}
	t.Logf("peak heap in use during parse %d KiB", peak>>10)
	if peak > bound {
		t.Fatalf("heap in use reached %d KiB while parsing, want under %d KiB", peak>>10, bound>>10)
	}
}

// BenchmarkParseSnapshot parses a 20,000-user native snapshot.
func BenchmarkParseSnapshot(b *testing.B) {
	const users = 20_000
	data, err := io.ReadAll(&snapshotGenerator{n: users})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		doc, err := Parse(bytes.NewReader(data), KindSnapshot, Options{}, func(license.User) error { return nil })
		if err != nil || doc.Users != users {
			b.Fatalf("Parse: %v, %d users", err, doc.Users)
		}
	}
	b.ReportMetric(float64(users)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
