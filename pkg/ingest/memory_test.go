package ingest

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/source"
)

// reportReader synthesises an active user detail report of n users row by
// row, so the test holds what the service holds and not the file.
type reportReader struct {
	n, next int
	buf     bytes.Buffer
}

func (r *reportReader) Read(p []byte) (int, error) {
	for r.buf.Len() < len(p) && r.next <= r.n {
		if r.next == 0 {
			r.buf.WriteString(strings.Join(audHeader, ",") + "\n")
		} else {
			i := r.next
			fmt.Fprintf(&r.buf, "2026-11-20,user%06d@contoso.example.com,User Number %d,False,,True,True,True,False,True,True,"+
				"2026-11-%02d,2026-10-%02d,,,2026-09-01,2026-11-%02d,2025-01-%02d,2025-01-01,2025-01-01,,2025-01-01,2025-01-01,"+
				"MICROSOFT 365 E3+POWER BI PRO\n", i, i, 1+i%20, 1+i%28, 1+i%19, 1+i%28)
		}
		r.next++
	}
	if r.buf.Len() == 0 {
		return 0, io.EOF
	}
	return r.buf.Read(p)
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestMemoryHoldingUsers: for a 100,000-user report, what an ingest keeps
// in memory (the parsed users and the computed figures and flags) stays
// well under the 128 MiB aimed at, while the file itself streams through.
// The store writes 25 rows at a time per worker, so nothing else grows with
// the user count.
func TestMemoryHoldingUsers(t *testing.T) {
	if testing.Short() {
		t.Skip("parses 100,000 rows")
	}
	const users = 100_000
	const limit = 96 << 20
	svc := New(nil, Config{})
	base := heapInUse()
	p, err := svc.parse(Request{
		Tenant: partner, CustomerID: customer, Kind: source.KindActiveUserDetail,
		Body: &reportReader{n: users},
	})
	if err != nil {
		t.Fatal(err)
	}
	result := license.Compute(license.Input{ReportDate: p.doc.ReportDate, Users: p.users})
	held := heapInUse() - base
	if len(p.users) != users || len(result.Entitled) != users {
		t.Fatalf("%d users parsed, %d flags; want %d", len(p.users), len(result.Entitled), users)
	}
	t.Logf("100,000 users held: %.1f MiB (%d bytes a user)", float64(held)/(1<<20), held/users)
	if held > limit {
		t.Errorf("holding %d users takes %.1f MiB, more than %d MiB", users, float64(held)/(1<<20), limit>>20)
	}
	runtime.KeepAlive(p)
	runtime.KeepAlive(result)
}
