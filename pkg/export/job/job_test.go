package job

import (
	"testing"
	"time"
)

// TestEffective: a job nothing will move any more reads as failed, with a
// reason; one still within its limits keeps its status. The limits are
// PendingLimit (2 h) after creation and LeaseGrace (15 min) after the lease.
func TestEffective(t *testing.T) {
	created := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	lease := created.Add(5 * time.Minute)
	tests := []struct {
		name string
		job  Job
		now  time.Time
		want Status
	}{
		{"pending, 1 h 59 min old", Job{Status: Pending, CreatedAt: created}, created.Add(119 * time.Minute), Pending},
		{"pending, 2 h 1 min old", Job{Status: Pending, CreatedAt: created}, created.Add(121 * time.Minute), Failed},
		{"running, lease out 14 min ago", Job{Status: Running, CreatedAt: created, LeaseUntil: lease}, lease.Add(14 * time.Minute), Running},
		{"running, lease out 16 min ago", Job{Status: Running, CreatedAt: created, LeaseUntil: lease}, lease.Add(16 * time.Minute), Failed},
		{"succeeded long ago", Job{Status: Succeeded, CreatedAt: created}, created.Add(48 * time.Hour), Succeeded},
	}
	for _, tt := range tests {
		got := tt.job.Effective(tt.now)
		if got.Status != tt.want {
			t.Errorf("%s: status %s, want %s", tt.name, got.Status, tt.want)
		}
		if (got.Status == Failed) != (got.Reason != "") {
			t.Errorf("%s: a failed job says why and no other does; reason %q", tt.name, got.Reason)
		}
	}
}

// TestFinished: only succeeded and failed jobs are over.
func TestFinished(t *testing.T) {
	for s, want := range map[Status]bool{Pending: false, Running: false, Succeeded: true, Failed: true} {
		if s.Finished() != want {
			t.Errorf("%s.Finished() = %v, want %v", s, !want, want)
		}
	}
}
