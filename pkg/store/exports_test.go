package store

import (
	"context"
	"errors"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

func TestExportIDs(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 50 {
		id := NewExportID(t0.Add(time.Duration(i) * time.Millisecond))
		if !ValidExportID(id) {
			t.Fatalf("NewExportID made %q, which ValidExportID refuses", id)
		}
		ids = append(ids, id)
	}
	if !sort.StringsAreSorted(ids) {
		t.Errorf("ids made a millisecond apart do not sort by time: %q", ids)
	}
	if a, b := NewExportID(t0), NewExportID(t0); a == b {
		t.Errorf("two ids of the same millisecond are equal: %s", a)
	}
	for _, bad := range []string{"", "01JD0000000000000000000000X", "01JD000000000000000000000", "01jd00000000000000000000000"[:26], "01JD00000000000000000000#0", "01JD0000000000000000000O00"} {
		if ValidExportID(bad) {
			t.Errorf("ValidExportID(%q) = true", bad)
		}
	}

	tn := tenant(t, "partner-a")
	id := NewExportID(t0)
	k, err := ExportKey(tn, id)
	if err != nil {
		t.Fatal(err)
	}
	gotT, gotID, err := ParseExportKey(k.PK, k.SK)
	if err != nil || gotT != tn || gotID != id {
		t.Errorf("ParseExportKey(%s, %s) = %v, %s, %v", k.PK, k.SK, gotT, gotID, err)
	}
	for _, bad := range []Key{
		{"T#partner-a#C#x", "EXPORT#" + id}, // a customer partition
		{"T#partner-a", "UPLOAD#" + id},
		{"T#partner-a", "EXPORT#not-an-id"},
		{"T#", "EXPORT#" + id},
		{"X#partner-a", "EXPORT#" + id},
	} {
		if _, _, err := ParseExportKey(bad.PK, bad.SK); err == nil {
			t.Errorf("ParseExportKey(%s, %s) accepted", bad.PK, bad.SK)
		}
	}
}

func TestExportEffective(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		job  ExportJob
		now  time.Time
		want ExportStatus
	}{
		{"fresh pending", ExportJob{Status: ExportPending, CreatedAt: t0}, t0.Add(time.Minute), ExportPending},
		{"pending at the limit", ExportJob{Status: ExportPending, CreatedAt: t0}, t0.Add(ExportPendingLimit), ExportPending},
		{"pending past the limit", ExportJob{Status: ExportPending, CreatedAt: t0}, t0.Add(ExportPendingLimit + time.Second), ExportFailed},
		{"running, lease live", ExportJob{Status: ExportRunning, CreatedAt: t0, LeaseUntil: t0.Add(15 * time.Minute)}, t0.Add(10 * time.Minute), ExportRunning},
		{"running, lease just out", ExportJob{Status: ExportRunning, CreatedAt: t0, LeaseUntil: t0.Add(15 * time.Minute)}, t0.Add(20 * time.Minute), ExportRunning},
		{"running, lease long out", ExportJob{Status: ExportRunning, CreatedAt: t0, LeaseUntil: t0.Add(15 * time.Minute)}, t0.Add(31 * time.Minute), ExportFailed},
		{"succeeded stays", ExportJob{Status: ExportSucceeded, CreatedAt: t0}, t0.Add(48 * time.Hour), ExportSucceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.job.Effective(tt.now)
			if got.Status != tt.want {
				t.Errorf("status %s, want %s", got.Status, tt.want)
			}
			if got.Status == ExportFailed && got.Reason == "" {
				t.Error("a stalled job is failed without a reason")
			}
		})
	}
}

func newJob(now time.Time, customerID string) ExportJob {
	return ExportJob{ID: NewExportID(now), Dataset: "users", CustomerID: customerID, Format: "csv", Gzip: true, CreatedAt: now}
}

// claimedJob is the set-up of the lease tests: partner-a's new users job,
// created at t0 (2026-11-20 10:00 UTC) and claimed at t0 by attempt 1 with
// a lease that ends lease later.
func claimedJob(t *testing.T, lease time.Duration) (*Store, license.Tenant, ExportJob, time.Time) {
	t.Helper()
	ctx := context.Background()
	s, _ := newStore(t)
	tn := tenant(t, "partner-a")
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	job := newJob(t0, "")
	if err := s.CreateExport(ctx, tn, job); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ClaimExport(ctx, tn, job.ID, t0, t0.Add(lease)); err != nil {
		t.Fatal(err)
	}
	return s, tn, job, t0
}

// TestExportLifecycle walks a job through every transition against
// DynamoDB Local, and checks that each wrong one is refused.
func TestExportLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	tn, other := tenant(t, "partner-a"), tenant(t, "partner-b")
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	job := newJob(t0, "fabrikam")

	if err := s.CreateExport(ctx, tn, job); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateExport(ctx, tn, job); err == nil {
		t.Error("a second job with the same id was written over the first")
	}
	got, err := s.Export(ctx, tn, job.ID, t0)
	if err != nil {
		t.Fatal(err)
	}
	want := job
	want.Status, want.ExpiresAt = ExportPending, t0.Add(ExportRetention)
	if *got != want {
		t.Errorf("read back\n%+v\nwant\n%+v", *got, want)
	}
	if _, err := s.Export(ctx, other, job.ID, t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("another tenant reading the job: %v, want ErrNotFound", err)
	}

	// Attempt 1 claims it, with a lease.
	lease := t0.Add(15 * time.Minute)
	claimed, err := s.ClaimExport(ctx, tn, job.ID, t0.Add(time.Second), lease)
	if err != nil {
		t.Fatal(err)
	}
	if claimed.Status != ExportRunning || claimed.Attempt != 1 || !claimed.LeaseUntil.Equal(lease) || !claimed.StartedAt.Equal(t0.Add(time.Second)) {
		t.Errorf("claimed %+v, want running attempt 1 until %s", claimed, lease)
	}
	if _, err := s.ClaimExport(ctx, other, job.ID, t0.Add(time.Second), lease); !errors.Is(err, ErrNotFound) {
		t.Errorf("another tenant claiming: %v, want ErrNotFound", err)
	}
	// A duplicate delivery while attempt 1 lives is turned away.
	if _, err := s.ClaimExport(ctx, tn, job.ID, t0.Add(time.Minute), lease); !errors.Is(err, ErrExportBusy) {
		t.Errorf("claiming a held job: %v, want ErrExportBusy", err)
	}
	outcome := ExportOutcome{Rows: 4, Bytes: 512, ObjectKey: "exports/partner-a/" + job.ID + "/users-2026-11-20.csv.gz", Filename: "users-2026-11-20.csv.gz"}
	if err := s.CompleteExport(ctx, tn, job.ID, 2, outcome, t0.Add(2*time.Minute)); !errors.Is(err, ErrExportLeaseLost) {
		t.Errorf("completing with an attempt that never claimed: %v, want ErrExportLeaseLost", err)
	}
	if err := s.CompleteExport(ctx, tn, job.ID, 1, outcome, t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	done, err := s.Export(ctx, tn, job.ID, t0.Add(3*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != ExportSucceeded || done.Rows != 4 || done.Bytes != 512 || done.ObjectKey != outcome.ObjectKey ||
		done.Filename != outcome.Filename || !done.CompletedAt.Equal(t0.Add(2*time.Minute)) || !done.LeaseUntil.IsZero() {
		t.Errorf("completed job %+v", done)
	}

	// Succeeded only once: no claim, no second completion, no failure.
	if _, err := s.ClaimExport(ctx, tn, job.ID, t0.Add(time.Hour), t0.Add(2*time.Hour)); !errors.Is(err, ErrExportFinished) {
		t.Errorf("claiming a finished job: %v, want ErrExportFinished", err)
	}
	if err := s.CompleteExport(ctx, tn, job.ID, 1, ExportOutcome{Rows: 8, Bytes: 1024}, t0.Add(time.Hour)); !errors.Is(err, ErrExportLeaseLost) {
		t.Errorf("completing twice: %v, want ErrExportLeaseLost", err)
	}
	if err := s.FailExport(ctx, tn, job.ID, 1, "late", t0.Add(time.Hour)); !errors.Is(err, ErrExportLeaseLost) {
		t.Errorf("failing a succeeded job: %v, want ErrExportLeaseLost", err)
	}
	again, err := s.Export(ctx, tn, job.ID, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if again.Rows != 4 || again.Bytes != 512 || again.Status != ExportSucceeded {
		t.Errorf("after refused updates the job is %+v, want it unchanged", again)
	}
	// Past its retention the job is gone even before TTL removes it.
	if _, err := s.Export(ctx, tn, job.ID, t0.Add(ExportRetention)); !errors.Is(err, ErrNotFound) {
		t.Errorf("reading a job past its retention: %v, want ErrNotFound", err)
	}
}

// TestExportTakeover: a worker that died holding a job (its lease ran out)
// is replaced by attempt 2; attempt 1's late outcome is refused, so the
// counts are those of the attempt that finished, set once.
func TestExportTakeover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, tn, job, t0 := claimedJob(t, time.Minute)
	second, err := s.ClaimExport(ctx, tn, job.ID, t0.Add(2*time.Minute), t0.Add(17*time.Minute))
	if err != nil {
		t.Fatalf("claiming after the lease ran out: %v", err)
	}
	if second.Attempt != 2 {
		t.Errorf("attempt %d, want 2", second.Attempt)
	}
	if err := s.CompleteExport(ctx, tn, job.ID, 1, ExportOutcome{Rows: 99}, t0.Add(3*time.Minute)); !errors.Is(err, ErrExportLeaseLost) {
		t.Errorf("the dead attempt completing: %v, want ErrExportLeaseLost", err)
	}
	if err := s.FailExport(ctx, tn, job.ID, 2, "the data changed", t0.Add(4*time.Minute)); err != nil {
		t.Fatal(err)
	}
	failed, err := s.Export(ctx, tn, job.ID, t0.Add(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if failed.Status != ExportFailed || failed.Reason != "the data changed" || failed.Rows != 0 || failed.ObjectKey != "" {
		t.Errorf("failed job %+v", failed)
	}
}

// TestExportRelease: an attempt that could not finish gives the job back,
// and the retry claims it at once as attempt 2.
func TestExportRelease(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, tn, job, t0 := claimedJob(t, 15*time.Minute)
	if err := s.ReleaseExport(ctx, tn, job.ID, 3); !errors.Is(err, ErrExportLeaseLost) {
		t.Errorf("releasing with a wrong attempt: %v, want ErrExportLeaseLost", err)
	}
	if err := s.ReleaseExport(ctx, tn, job.ID, 1); err != nil {
		t.Fatal(err)
	}
	again, err := s.ClaimExport(ctx, tn, job.ID, t0.Add(time.Second), t0.Add(15*time.Minute))
	if err != nil {
		t.Fatalf("claiming a released job: %v", err)
	}
	if again.Attempt != 2 {
		t.Errorf("attempt %d, want 2", again.Attempt)
	}
}

func TestExportsNewestFirst(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	tn, other := tenant(t, "partner-a"), tenant(t, "partner-b")
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	// Five live jobs a minute apart, one past its retention, and another
	// tenant's job in between.
	var want []string
	for i := range 5 {
		j := newJob(now.Add(time.Duration(i-10)*time.Minute), "")
		if err := s.CreateExport(ctx, tn, j); err != nil {
			t.Fatal(err)
		}
		want = append([]string{j.ID}, want...)
	}
	if err := s.CreateExport(ctx, tn, newJob(now.Add(-ExportRetention-time.Hour), "")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateExport(ctx, other, newJob(now.Add(-7*time.Minute), "")); err != nil {
		t.Fatal(err)
	}

	var got []string
	after := ""
	for page := 0; ; page++ {
		jobs, next, err := s.Exports(ctx, tn, 2, after, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) > 2 {
			t.Fatalf("page %d has %d jobs, limit 2", page, len(jobs))
		}
		for _, j := range jobs {
			got = append(got, j.ID)
		}
		if next == "" {
			break
		}
		if page > 5 {
			t.Fatal("the list does not end")
		}
		after = next
	}
	if !slices.Equal(got, want) {
		t.Errorf("listed\n%q\nwant newest first\n%q", got, want)
	}
	if _, _, err := s.Exports(ctx, tn, 2, "not-an-id", now); err == nil {
		t.Error("a bad cursor id was accepted")
	}
}

func TestEachCustomerID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t)
	tn, other := tenant(t, "partner-a"), tenant(t, "partner-b")
	commit := func(tn license.Tenant, id, name string) {
		t.Helper()
		in := license.Input{
			Customer: license.Customer{ID: id, Name: name}, ReportDate: date(t, "2026-11-20"),
			Users: []license.User{{Key: "u@" + id}},
		}
		res := license.Compute(in)
		gen, err := s.NextGeneration(ctx, tn, id)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.WriteUsers(ctx, tn, id, gen, 1, in.Users, res.Entitled); err != nil {
			t.Fatal(err)
		}
		if err := s.Commit(ctx, Commit{Tenant: tn, CustomerID: id, Generation: gen, Shards: 1, Users: 1,
			Figures: &res.Figures, Source: SourceRecord{Kind: "snapshot", HasUsers: true}}); err != nil {
			t.Fatal(err)
		}
	}
	commit(tn, "zeta", "Zeta Ltd")
	commit(tn, "alpha-2", "alpha Inc") // names sort case-blind
	commit(tn, "mid", "Midway")
	commit(other, "other", "Another partner's customer")

	var got []string
	if err := s.EachCustomerID(ctx, tn, func(id string) error { got = append(got, id); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"alpha-2", "mid", "zeta"}; !slices.Equal(got, want) {
		t.Errorf("customers %q, want %q", got, want)
	}
	stop := errors.New("stop")
	if err := s.EachCustomerID(ctx, tn, func(string) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("the callback's error was not returned: %v", err)
	}
}
