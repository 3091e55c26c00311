package ingest

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"slices"
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

// TestMemoryIsFlat: what an ingest holds while it computes a customer's
// figures does not grow with the customer. The users wait in a spill file
// (memory kept to 1 MiB here, so both sizes go to disk), the engine keeps
// counts, and the one thing that does grow, the keys of holders tied at
// an over-assigned SKU's cut (Graph's report gives no assign dates, so
// every holder ties), is let go before the count.
//
// The heap is measured after a forced collection, on the last user of the
// engine's last replay: everything the figures need is then held.
func TestMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("parses 220,000 rows")
	}
	held := map[int]uint64{}
	for _, n := range []int{20_000, 200_000} {
		svc := New(nil, Config{SpillDir: t.TempDir(), SpillMemory: 1 << 20})
		base := heapInUse()
		p, err := svc.parse(Request{
			Tenant: partner, CustomerID: customer, Kind: source.KindActiveUserDetail,
			Body: &reportReader{n: n},
		})
		if err != nil {
			t.Fatal(err)
		}
		if p.users.Len() != n || !p.users.OnDisk() {
			t.Fatalf("%d users spilled (on disk: %v); want %d on disk", p.users.Len(), p.users.OnDisk(), n)
		}
		// Half the users can be entitled to E3: the cut falls among holders
		// with no assign date, so the keys settle it.
		subs := []license.Subscription{{ID: "e3", SKU: "SPE_E3", Name: "Microsoft 365 E3", Quantity: n / 2, Status: license.StatusActive, Channel: license.ChannelOwn}}
		known := ResolveProducts(p.users, subs)
		seen, entitled := 0, 0
		figures, err := license.ComputeStream(license.Input{ReportDate: p.doc.ReportDate, Subscriptions: subs, KnownProduct: known}, p.users.Replay,
			func(u *license.User, e bool) error {
				seen++
				if e {
					entitled++
				}
				if seen == n {
					held[n] = heapInUse() - min(base, heapInUse())
				}
				return nil
			})
		if err != nil {
			t.Fatal(err)
		}
		e3 := figures.Products[slices.IndexFunc(figures.Products, func(p license.ProductFigures) bool { return p.SKU == "SPE_E3" })]
		if entitled != n/2 || e3.Assigned != n {
			t.Fatalf("%d users: %d entitled, products %+v; want %d entitled of %d SPE_E3 holders", n, entitled, figures.Products, n/2, n)
		}
		t.Logf("%d users: %.2f MiB held while counting, spill %.1f MiB on disk", n, float64(held[n])/(1<<20), float64(p.users.Size())/(1<<20))
		p.users.Close()
	}
	if grew := int64(held[200_000]) - int64(held[20_000]); grew > 2<<20 {
		t.Errorf("ten times the users holds %.2f MiB more (%.2f against %.2f MiB): want under 2 MiB", float64(grew)/(1<<20), float64(held[200_000])/(1<<20), float64(held[20_000])/(1<<20))
	}
}
