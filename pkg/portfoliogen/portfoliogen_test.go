package portfoliogen_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"slices"
	"testing"

	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/portfoliogen"
)

var reportDate = mustDate("2026-11-20")

func mustDate(s string) license.Date {
	d, err := license.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func config(seed int64, customers, users int) portfoliogen.Config {
	return portfoliogen.Config{Seed: seed, Customers: customers, Users: users, ReportDate: reportDate}
}

// document renders one customer's document of a kind.
func document(t testing.TB, kind portfoliogen.Kind, cfg portfoliogen.Config, c portfoliogen.CustomerSpec) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := portfoliogen.Write(&buf, kind, cfg, c); err != nil {
		t.Fatalf("%s of %s: %v", kind, c.ID, err)
	}
	return buf.Bytes()
}

func TestCustomersAreDeterministicAndUnique(t *testing.T) {
	a := portfoliogen.Customers(config(1, 7000, 100))
	b := portfoliogen.Customers(config(1, 7000, 100))
	if !slices.Equal(a, b) {
		t.Fatal("the same seed gave different customers")
	}
	c := portfoliogen.Customers(config(2, 7000, 100))
	if slices.Equal(a, c) {
		t.Fatal("seeds 1 and 2 gave the same customers")
	}
	// 7000 customers go past the 6400 name combinations, so the numbered
	// second round is exercised too.
	ids := map[string]bool{}
	tenants := map[string]bool{}
	for _, x := range a {
		if err := license.ValidCustomerID(x.ID); err != nil {
			t.Fatalf("customer %d: %v", x.Index, err)
		}
		if ids[x.ID] {
			t.Fatalf("customer id %q repeats", x.ID)
		}
		ids[x.ID] = true
		if tenants[x.TenantID] {
			t.Fatalf("tenant id %q repeats", x.TenantID)
		}
		tenants[x.TenantID] = true
		if x.Name == "" || x.Domain == "" {
			t.Fatalf("customer %d has no name or domain: %+v", x.Index, x)
		}
	}
	if len(portfoliogen.Customers(config(1, 0, 100))) != 0 {
		t.Fatal("zero customers asked for, some given")
	}
}

func TestCustomerSizesVaryWithinHalfTheMean(t *testing.T) {
	const mean = 200
	specs := portfoliogen.Customers(config(3, 400, mean))
	sizes := map[int]bool{}
	total := 0
	for _, c := range specs {
		if c.Users < mean/2 || c.Users > mean*3/2 {
			t.Errorf("%s has %d users, outside %d ± 50 %%", c.ID, c.Users, mean)
		}
		sizes[c.Users] = true
		total += c.Users
	}
	// 400 draws from the 201 sizes 100…300 hit far more than 50 of them,
	// and their mean is within 5 % of 200 (σ of the mean ≈ 58/√400 ≈ 3).
	if len(sizes) < 50 {
		t.Errorf("only %d different sizes among 400 customers", len(sizes))
	}
	if avg := float64(total) / float64(len(specs)); avg < 190 || avg > 210 {
		t.Errorf("mean size %.1f, want about %d", avg, mean)
	}

	exact := config(3, 50, mean)
	exact.Exact = true
	for _, c := range portfoliogen.Customers(exact) {
		if c.Users != mean {
			t.Fatalf("Exact: %s has %d users, want %d", c.ID, c.Users, mean)
		}
	}
}

func TestWritersAreDeterministic(t *testing.T) {
	cfg := config(11, 3, 150)
	other := config(12, 3, 150)
	specs := portfoliogen.Customers(cfg)
	otherSpecs := portfoliogen.Customers(other)
	for _, kind := range portfoliogen.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			for i, c := range specs {
				first := document(t, kind, cfg, c)
				second := document(t, kind, cfg, c)
				if !bytes.Equal(first, second) {
					t.Fatalf("%s: the same seed gave different bytes", c.ID)
				}
				if bytes.Equal(first, document(t, kind, other, otherSpecs[i])) {
					t.Fatalf("customer %d: seeds 11 and 12 gave the same bytes", i)
				}
			}
		})
	}
}

func TestWritersNeedAReportDate(t *testing.T) {
	cfg := config(1, 1, 10)
	c := portfoliogen.Customers(cfg)[0]
	cfg.ReportDate = license.NoDate
	for _, kind := range portfoliogen.Kinds {
		if err := portfoliogen.Write(io.Discard, kind, cfg, c); err == nil {
			t.Errorf("%s: no error without a report date", kind)
		}
	}
	if err := portfoliogen.Write(io.Discard, "excel", config(1, 1, 10), c); err == nil {
		t.Error("unknown kind: no error")
	}
}

// failingWriter accepts limit bytes, then fails.
type failingWriter struct{ limit, written int }

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(b []byte) (int, error) {
	if w.written+len(b) > w.limit {
		return 0, errDiskFull
	}
	w.written += len(b)
	return len(b), nil
}

func TestWritersReportWriteErrors(t *testing.T) {
	cfg := config(1, 1, 5000)
	cfg.Exact = true
	c := portfoliogen.Customers(cfg)[0]
	for _, kind := range portfoliogen.Kinds {
		w := &failingWriter{limit: 100}
		if err := portfoliogen.Write(w, kind, cfg, c); !errors.Is(err, errDiskFull) {
			t.Errorf("%s: error %v, want the writer's", kind, err)
		}
	}
}

func TestKinds(t *testing.T) {
	for _, k := range portfoliogen.Kinds {
		got, err := portfoliogen.ParseKind(string(k))
		if err != nil || got != k {
			t.Errorf("ParseKind(%q) = %q, %v", k, got, err)
		}
		want := "json"
		if k == portfoliogen.KindGraphActiveUserDetail {
			want = "csv"
		}
		if k.Ext() != want {
			t.Errorf("%s.Ext() = %q, want %q", k, k.Ext(), want)
		}
	}
	if _, err := portfoliogen.ParseKind("xlsx"); err == nil {
		t.Error("ParseKind accepted xlsx")
	}
}

func TestPartnerTenant(t *testing.T) {
	guid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, b := config(1, 1, 1).PartnerTenant(), config(2, 1, 1).PartnerTenant()
	if !guid.MatchString(a) || a == b || a != config(1, 1, 1).PartnerTenant() {
		t.Errorf("derived partner tenants %q (seed 1), %q (seed 2): want distinct, stable GUIDs", a, b)
	}
	cfg := config(1, 1, 1)
	cfg.PartnerTenantID = "11111111-2222-3333-4444-555555555555"
	if cfg.PartnerTenant() != cfg.PartnerTenantID {
		t.Errorf("PartnerTenant() = %q, want the configured one", cfg.PartnerTenant())
	}
}

// TestStreamingMemoryIsFlat writes a 200,000-user report and samples the
// live heap (after a forced GC) while it is written: a writer that kept the
// users would hold 200k × a few hundred bytes, tens of MiB.
func TestStreamingMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 200,000 rows")
	}
	cfg := config(5, 1, 200_000)
	cfg.Exact = true
	c := portfoliogen.Customers(cfg)[0]
	w := &heapSampler{every: 25}
	if err := portfoliogen.WriteActiveUserDetail(w, cfg, c); err != nil {
		t.Fatal(err)
	}
	w.sample()
	if w.bytes < 200_000*100 {
		t.Fatalf("only %d bytes written for 200,000 users", w.bytes)
	}
	const limit = 16 << 20
	if w.maxHeap > limit {
		t.Errorf("live heap reached %.1f MiB while streaming, want under %d MiB", float64(w.maxHeap)/(1<<20), limit>>20)
	}
	t.Logf("%d bytes, %d heap samples, max live heap %.1f MiB", w.bytes, w.samples, float64(w.maxHeap)/(1<<20))
}

// heapSampler discards what it is given and measures the live heap every
// so many writes.
type heapSampler struct {
	every, writes, samples int
	bytes                  int
	maxHeap                uint64
}

func (h *heapSampler) Write(b []byte) (int, error) {
	h.bytes += len(b)
	h.writes++
	if h.writes%h.every == 0 {
		h.sample()
	}
	return len(b), nil
}

func (h *heapSampler) sample() {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	h.maxHeap = max(h.maxHeap, m.HeapAlloc)
	h.samples++
}

func BenchmarkWriteActiveUserDetail(b *testing.B) {
	cfg := config(1, 1, 100_000)
	cfg.Exact = true
	c := portfoliogen.Customers(cfg)[0]
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := portfoliogen.WriteActiveUserDetail(io.Discard, cfg, c); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(c.Users)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func ExampleWriteSubscribedSkus() {
	cfg := portfoliogen.Config{Seed: 1, Customers: 1, Users: 10, ReportDate: mustDate("2026-11-20")}
	c := portfoliogen.Customers(cfg)[0]
	var buf bytes.Buffer
	if err := portfoliogen.WriteSubscribedSkus(&buf, cfg, c); err != nil {
		panic(err)
	}
	var doc struct {
		Value []struct {
			SkuPartNumber string `json:"skuPartNumber"`
		} `json:"value"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		panic(err)
	}
	fmt.Println(len(doc.Value) >= 1)
	// Output: true
}
