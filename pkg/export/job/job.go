// Package job is an export job's life cycle: its statuses, the limits after
// which a stalled job is failed, and the errors of its transitions. The
// store (pkg/store/exports.go) keeps the job item and makes the transitions
// with conditional writes, so that a stream record delivered twice, or a
// retry after a crash, can never make a second file or add counts twice:
//
//	pending ──claim──▶ running ──complete──▶ succeeded
//	   ▲                │  │
//	   └────release─────┘  └──fail──▶ failed
//
// A claim takes a lease (until the claiming invocation's deadline) and
// increments the attempt number; complete, fail and release are conditioned
// on that attempt still holding the job. A running job whose lease has run
// out can be claimed again: its worker is known to be dead.
package job

import (
	"errors"
	"time"
)

// Status is where an export job is in its life.
type Status string

// The statuses of an export job (docs/definitions.md#the-api).
const (
	Pending   Status = "pending"
	Running   Status = "running"
	Succeeded Status = "succeeded"
	Failed    Status = "failed"
)

// Retention is how long a job item lives (TTL expiresAt) after its
// creation. It matches the bucket's lifecycle rule for exports/ (30 days in
// template.yaml), so a job is not listed long after its file is gone.
const Retention = 30 * 24 * time.Hour

// Stall limits: a job that no worker took within PendingLimit, or
// whose worker's lease ran out LeaseGrace ago, is reported as failed
// (Job.Effective): the table stream drops records after an hour
// (template.yaml MaximumRecordAgeInSeconds), so no worker will come.
const (
	PendingLimit = 2 * time.Hour
	LeaseGrace   = 15 * time.Minute
)

// Errors of the job's state machine.
var (
	// ErrFinished: the job already succeeded or failed; a redelivered
	// stream record has nothing to do.
	ErrFinished = errors.New("the export job has already finished")
	// ErrBusy: another attempt holds an unexpired lease on the job.
	ErrBusy = errors.New("another attempt is running the export job")
	// ErrLeaseLost: the attempt no longer holds the job (its lease ran
	// out and a newer attempt claimed it); its outcome must not be recorded.
	ErrLeaseLost = errors.New("the attempt no longer holds the export job")
)

// Job is an export job item.
type Job struct {
	ID         string
	Dataset    string
	CustomerID string // "" for every customer of the tenant
	Format     string
	Gzip       bool
	Status     Status
	// Attempt counts claims, from 1 (0 while pending and never claimed).
	Attempt    int
	LeaseUntil time.Time
	// Rows (without the header) and Bytes (of the object as stored) are
	// set when the job succeeds, never added to.
	Rows      int64
	Bytes     int64
	ObjectKey string
	Filename  string
	// Reason says why a failed job failed, in words for the caller.
	Reason      string
	CreatedAt   time.Time
	StartedAt   time.Time
	CompletedAt time.Time
	// ExpiresAt is when the item's TTL removes it.
	ExpiresAt time.Time
}

// Effective is the job as a caller should see it at now: a job stuck in
// pending or running past the stall limits is failed, with a reason, since
// nothing will move it any more.
func (j Job) Effective(now time.Time) Job {
	switch {
	case j.Status == Pending && now.Sub(j.CreatedAt) > PendingLimit:
		j.Status = Failed
		j.Reason = "no export worker started the job; create a new export"
	case j.Status == Running && now.Sub(j.LeaseUntil) > LeaseGrace:
		j.Status = Failed
		j.Reason = "the export worker stopped before it finished; create a new export"
	}
	return j
}

// Finished reports whether a job in status s is over (succeeded or failed):
// nothing moves it any more.
func (s Status) Finished() bool { return s == Succeeded || s == Failed }
