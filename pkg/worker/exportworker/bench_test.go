package exportworker

import (
	"context"
	"errors"
	"fmt"
	"github.com/licenseinsights/licenseinsights/pkg/blob"
	"github.com/licenseinsights/licenseinsights/pkg/config"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/licenseinsights/licenseinsights/internal/devstack/devstacktest"
	"github.com/licenseinsights/licenseinsights/pkg/export"
	"github.com/licenseinsights/licenseinsights/pkg/license"
	"github.com/licenseinsights/licenseinsights/pkg/portfoliogen"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

// TestExportThroughput measures exporting one customer's users from
// DynamoDB Local: rows per second and peak memory of this process (Go heap
// in use and resident set) for
//
//	plain   a bare Query loop over the generation's partitions, counting
//	        items — the floor any export sits on;
//	csv     export.Write into io.Discard (read, decode, format);
//	worker  the whole job: claim, CSV, multipart upload to the S3 server,
//	        completion.
//
// It is a measurement, not a gate: it runs only when asked, e.g.
//
//	LI_EXPORT_BENCH_USERS=100000,1000000 go test ./pkg/worker/exportworker -run TestExportThroughput -v -timeout 60m
//
// What it does assert: every row arrives, and memory stays far below what
// holding the rows would take.
func TestExportThroughput(t *testing.T) {
	sizes := os.Getenv("LI_EXPORT_BENCH_USERS")
	if sizes == "" {
		t.Skip("set LI_EXPORT_BENCH_USERS=100000,1000000 to measure export throughput and memory")
	}
	db, table := devstacktest.Table(t)
	s3c, bucket := devstacktest.Bucket(t)
	w := New(store.New(db, table), blob.New(s3c, bucket), config.Default())
	st := store.New(db, table, store.WithWorkers(8))
	tn, _ := license.NewTenant("bench")
	ctx := context.Background()

	for _, field := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n < 1 {
			t.Fatalf("LI_EXPORT_BENCH_USERS: %q is not a user count", field)
		}
		id := fmt.Sprintf("bench-%d", n)
		start := time.Now()
		shards := seedUsers(t, st, tn, id, n)
		t.Logf("%d users: seeded in %s over %d shards", n, time.Since(start).Round(time.Second), shards)

		cf, err := st.Figures(ctx, tn, id)
		if err != nil {
			t.Fatal(err)
		}
		// Two rounds, the three runs interleaved, best of each kept: the
		// machine is shared, and a slow moment should not land on one kind
		// of run only.
		var plain, csvOnly, full measurement
		var bytes int64
		for round := range 2 {
			best(&plain, measure(t, func() int64 { return plainQuery(t, db, table, tn, id, cf.Generation, cf.Shards) }))
			best(&csvOnly, measure(t, func() int64 {
				res, err := export.Write(ctx, st, export.Request{Tenant: tn, Dataset: export.Users, CustomerID: id}, io.Discard)
				if err != nil {
					t.Fatal(err)
				}
				return res.Rows
			}))
			job := store.ExportJob{ID: store.NewExportID(time.Now()), Dataset: "users", CustomerID: id, Format: "csv", CreatedAt: time.Now()}
			if err := st.CreateExport(ctx, tn, job); err != nil {
				t.Fatal(err)
			}
			best(&full, measure(t, func() int64 {
				if err := w.Run(ctx, tn, job.ID); err != nil {
					t.Fatal(err)
				}
				j, err := st.Export(ctx, tn, job.ID, time.Now())
				if err != nil || j.Status != store.ExportSucceeded {
					t.Fatalf("job %+v, %v", j, err)
				}
				bytes = j.Bytes
				return j.Rows
			}))
			t.Logf("round %d done, load average %s", round+1, loadAverage())
		}
		for name, m := range map[string]measurement{"plain": plain, "csv": csvOnly, "worker": full} {
			if m.rows != int64(n) {
				t.Errorf("%s read %d rows of %d", name, m.rows, n)
			}
		}
		t.Logf("%d users, file %.1f MiB (best of 2 rounds; peaks are the higher of the two):", n, float64(bytes)/(1<<20))
		for _, r := range []struct {
			name string
			m    measurement
		}{{"plain Query loop", plain}, {"export → io.Discard", csvOnly}, {"worker → S3", full}} {
			t.Logf("  %-20s %8.0f rows/s  %6.2f× plain  %6.1f s  peak heap %6.1f MiB  peak RSS %6.1f MiB",
				r.name, r.m.rate(), r.m.rate()/plain.rate(), r.m.elapsed.Seconds(), mib(r.m.peakHeap), mib(r.m.peakRSS))
		}
		// Bounded: 1M rows are ~300 MB of CSV; the worker holds a few
		// 8 MiB parts and a page of items.
		if full.peakHeap > 160<<20 {
			t.Errorf("the worker's heap peaked at %.0f MiB: memory is not bounded", mib(full.peakHeap))
		}
	}
}

type measurement struct {
	rows              int64
	elapsed           time.Duration
	peakHeap, peakRSS uint64
}

func (m measurement) rate() float64 { return float64(m.rows) / m.elapsed.Seconds() }

// best keeps the faster run's time and the higher of the memory peaks.
func best(dst *measurement, m measurement) {
	if dst.rows == 0 || m.elapsed < dst.elapsed {
		dst.rows, dst.elapsed = m.rows, m.elapsed
	}
	dst.peakHeap, dst.peakRSS = max(dst.peakHeap, m.peakHeap), max(dst.peakRSS, m.peakRSS)
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// measure runs fn and samples the Go heap in use meanwhile; the resident
// set's high-water mark is reset before (Linux: clear_refs 5) and read
// after.
func measure(t *testing.T, fn func() int64) measurement {
	t.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Logf("cannot reset the RSS high-water mark: %v", err)
	}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	var (
		peak uint64
		wg   sync.WaitGroup
		stop = make(chan struct{})
	)
	wg.Go(func() {
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64()+sample[1].Value.Uint64())
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	start := time.Now()
	rows := fn()
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	return measurement{rows: rows, elapsed: elapsed, peakHeap: peak, peakRSS: vmHWM(t)}
}

// vmHWM is the process's peak resident set since the last reset.
func vmHWM(t *testing.T) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	return 0
}

// plainQuery reads every item of the generation with the same Query calls
// the export makes (consistent, page by page) and only counts them.
func plainQuery(t *testing.T, db *dynamodb.Client, table string, tn license.Tenant, id string, gen int64, shards int) int64 {
	var n int64
	for shard := range shards {
		pk, err := store.GenerationPK(tn, id, gen, shard)
		if err != nil {
			t.Fatal(err)
		}
		p := dynamodb.NewQueryPaginator(db, &dynamodb.QueryInput{
			TableName: &table, KeyConditionExpression: aws.String("PK = :pk"), ConsistentRead: aws.Bool(true),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
		})
		for p.HasMorePages() {
			page, err := p.NextPage(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			n += int64(len(page.Items))
		}
	}
	return n
}

// seedUsers writes n realistic generated users (pkg/portfoliogen) as the
// customer's current generation, 5,000 at a time so the seeding does not
// hold them all, and commits figures naming that generation.
func seedUsers(t *testing.T, st *store.Store, tn license.Tenant, id string, n int) int {
	t.Helper()
	ctx := context.Background()
	cfg := portfoliogen.Config{Seed: 7, Customers: 1, Users: n, Exact: true, ReportDate: mustDate(t, "2026-11-20")}
	spec := portfoliogen.Customers(cfg)[0]
	spec.ID = id
	gen, err := st.NextGeneration(ctx, tn, id)
	if err != nil {
		t.Fatal(err)
	}
	shards := store.ShardsFor(n)
	batch := make([]license.User, 0, 5000)
	flush := func() {
		entitled := make([]bool, len(batch))
		for i := range batch {
			entitled[i] = !batch[i].Deleted && len(batch[i].Licenses) > 0
		}
		if err := st.WriteUsers(ctx, tn, id, gen, shards, batch, entitled); err != nil {
			t.Fatal(err)
		}
		batch = batch[:0]
	}
	err = portfoliogen.EachUser(cfg, spec, func(u *license.User) error {
		c := *u
		c.Licenses, c.Workloads = slices.Clone(u.Licenses), slices.Clone(u.Workloads)
		batch = append(batch, c)
		if len(batch) == cap(batch) {
			flush()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	flush()
	// The figures only need to name the generation and its workloads for
	// an export; the counts are not what is measured.
	w := license.WindowFigures{Days: license.DefaultWindow}
	for _, x := range license.StandardWorkloads {
		w.Workloads = append(w.Workloads, license.WorkloadFigures{Workload: x})
	}
	figures := license.Figures{Customer: license.Customer{ID: id, Name: spec.Name}, ReportDate: cfg.ReportDate, Windows: []license.WindowFigures{w}}
	err = st.Commit(ctx, store.Commit{Tenant: tn, CustomerID: id, Generation: gen, Shards: shards, Users: n,
		Figures: &figures, Source: store.SourceRecord{Kind: "snapshot", HasUsers: true}})
	if errors.Is(err, store.ErrConflict) {
		// On a loaded machine the SDK may retry a transaction that had
		// gone through; what counts is that our generation is current.
		if cf, ferr := st.Figures(ctx, tn, id); ferr == nil && cf.Generation == gen {
			err = nil
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	return shards
}

func mustDate(t *testing.T, s string) license.Date {
	t.Helper()
	d, err := license.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
