package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// Upload statuses.
const (
	UploadPending    = "pending"    // URL issued, object not arrived yet
	UploadProcessing = "processing" // the object arrived, ingestion runs
	UploadSucceeded  = "succeeded"
	UploadFailed     = "failed"
)

// uploadTTL bounds how long an upload's record is kept; the bucket's
// lifecycle rule removes the object after the same time.
const uploadTTL = 7 * 24 * time.Hour

// uploadLease is how long a processing upload is left to its worker before
// a redelivered event may take it over, when the claim names no lease of its
// own (records written before leases followed the invocation's deadline;
// the ingest function's timeout is 15 minutes).
const uploadLease = 16 * time.Minute

// DefaultUploadLease is the lease of a claim made without a deadline (the
// local stack): Lambda's longest timeout and a margin.
const DefaultUploadLease = uploadLease

// MaxUploadAttempts is how many ingest attempts an upload gets: the first
// delivery of the object's event and Lambda's two retries of an
// asynchronous invocation. The attempt that reaches it and fails records
// the upload as failed instead of releasing it.
const MaxUploadAttempts = 3

// UploadLeaseGrace is how long after its lease a processing upload is
// still shown as processing: past it, no retry is coming (its worker was
// killed) and the upload reads as failed.
const UploadLeaseGrace = 5 * time.Minute

// Upload is a large document sent through a presigned PUT.
type Upload struct {
	ID          string `json:"uploadId"`
	CustomerID  string `json:"customerId"`
	Kind        string `json:"kind,omitempty"` // "" = detect
	SkipInvalid bool   `json:"skipInvalid"`
	// Replace takes the document as current even when older (ingest
	// Request.Replace).
	Replace     bool       `json:"replace,omitempty"`
	Status      string     `json:"status"`
	CreatedAt   time.Time  `json:"createdAt"`
	StartedAt   *time.Time `json:"startedAt,omitempty"`
	CompletedAt *time.Time `json:"completedAt,omitempty"`
	Attempts    int        `json:"attempts"`
	// LastError is why the last attempt failed when a retry is to come
	// (status pending again), so a caller polling sees what is happening.
	LastError string `json:"lastError,omitempty"`
	// LeaseUntil is when a processing upload's worker is surely gone (its
	// invocation's deadline and a margin); kept in an attribute of its own.
	LeaseUntil time.Time `json:"-"`
	// Result is the ingest outcome (succeeded) or the error body (failed),
	// as the API would have answered a direct POST.
	Result any `json:"result,omitempty"`
}

// ErrUploadTaken: the upload is done, or another worker holds its lease.
var ErrUploadTaken = errors.New("the upload is already processed or being processed")

const (
	attrUpload    = "upload"
	attrStatus    = "status"
	attrStartedAt = "startedAt"
	attrLease     = "leaseUntil" // N, Unix milliseconds
)

func (s *Store) putUpload(ctx context.Context, t license.Tenant, u *Upload, cond *expression.ConditionBuilder) error {
	k, err := UploadKey(t, u.ID)
	if err != nil {
		return err
	}
	item := keyOf(k)
	if err := putJSON(item, attrUpload, u); err != nil {
		return err
	}
	item[attrStatus] = &types.AttributeValueMemberS{Value: u.Status}
	item[attrExpiresAt] = numberAttr(u.CreatedAt.Add(uploadTTL).Unix())
	if u.StartedAt != nil {
		item[attrStartedAt] = numberAttr(u.StartedAt.Unix())
	}
	if !u.LeaseUntil.IsZero() && u.Status == UploadProcessing {
		item[attrLease] = numberAttr(u.LeaseUntil.UnixMilli())
	}
	in := &dynamodb.PutItemInput{TableName: &s.table, Item: item}
	if cond != nil {
		expr, err := expression.NewBuilder().WithCondition(*cond).Build()
		if err != nil {
			return err
		}
		in.ConditionExpression = expr.Condition()
		in.ExpressionAttributeNames = expr.Names()
		in.ExpressionAttributeValues = expr.Values()
	}
	_, err = s.db.PutItem(ctx, in)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ErrUploadTaken
	}
	if err != nil {
		return fmt.Errorf("put upload %s: %w", u.ID, err)
	}
	return nil
}

// CreateUpload records a new pending upload (its id must be new).
func (s *Store) CreateUpload(ctx context.Context, t license.Tenant, u Upload) error {
	u.Status = UploadPending
	cond := expression.AttributeNotExists(expression.Name(attrPK))
	if err := s.putUpload(ctx, t, &u, &cond); err != nil {
		if errors.Is(err, ErrUploadTaken) {
			return fmt.Errorf("upload id %s exists already", u.ID)
		}
		return err
	}
	return nil
}

// GetUpload reads one upload; ErrNotFound for an unknown id or another
// tenant's upload (the key carries the tenant).
func (s *Store) GetUpload(ctx context.Context, t license.Tenant, id string) (*Upload, error) {
	k, err := UploadKey(t, id)
	if err != nil {
		return nil, ErrNotFound
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: keyOf(k), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("get upload %s: %w", id, err)
	}
	if out.Item == nil {
		return nil, ErrNotFound
	}
	var u Upload
	if err := getJSON(out.Item, attrUpload, &u); err != nil {
		return nil, err
	}
	lease, err := intOf(out.Item, attrLease)
	if err != nil {
		return nil, err
	}
	if lease != 0 {
		u.LeaseUntil = time.UnixMilli(lease).UTC()
	} else if u.Status == UploadProcessing && u.StartedAt != nil {
		u.LeaseUntil = u.StartedAt.Add(uploadLease)
	}
	return &u, nil
}

// Effective is the upload as a caller should see it at now: one left
// processing past its lease and UploadLeaseGrace was abandoned by a worker
// that was killed (out of memory, timeout) after the last retry, and
// nothing will move it any more; it reads as failed, with what to do.
func (u Upload) Effective(now time.Time) Upload {
	if u.Status == UploadProcessing && !u.LeaseUntil.IsZero() && now.Sub(u.LeaseUntil) > UploadLeaseGrace {
		u.Status = UploadFailed
		done := u.LeaseUntil
		u.CompletedAt = &done
		u.Result = map[string]any{"error": map[string]any{
			"code":    "ingest_stopped",
			"message": fmt.Sprintf("the ingest of this upload stopped before it finished (attempt %d, the function was stopped); nothing was changed. Upload the document again with POST /v1/uploads, or split it if it is very large", u.Attempts),
			"details": []any{},
		}}
	}
	return u
}

// StartUpload moves an upload to processing for this worker until
// leaseUntil: from pending (never tried, or released by a failed attempt),
// or from processing whose lease ran out (a worker died). A duplicate
// delivery of the object's event gets ErrUploadTaken and must do nothing.
func (s *Store) StartUpload(ctx context.Context, t license.Tenant, id string, now, leaseUntil time.Time) (*Upload, error) {
	u, err := s.GetUpload(ctx, t, id)
	if err != nil {
		return nil, err
	}
	prev := u.Status
	var prevStarted int64
	if u.StartedAt != nil {
		prevStarted = u.StartedAt.Unix()
	}
	switch {
	case prev == UploadPending:
	case prev == UploadProcessing && u.StartedAt != nil && now.After(u.LeaseUntil):
	default:
		return nil, ErrUploadTaken
	}
	u.Status = UploadProcessing
	u.StartedAt = &now
	u.LeaseUntil = leaseUntil
	u.Attempts++
	// The condition re-checks what was read: two workers cannot both win.
	cond := expression.Name(attrStatus).Equal(expression.Value(prev))
	if prev == UploadProcessing {
		cond = cond.And(expression.Name(attrStartedAt).Equal(expression.Value(prevStarted)))
	}
	if err := s.putUpload(ctx, t, u, &cond); err != nil {
		return nil, err
	}
	return u, nil
}

// FinishUpload records the outcome of a processing upload, if this worker
// still holds it (ErrUploadTaken otherwise).
func (s *Store) FinishUpload(ctx context.Context, t license.Tenant, u *Upload, status string, result any, now time.Time) error {
	cond := heldBy(u)
	u.Status = status
	u.Result = result
	u.CompletedAt = &now
	u.LastError = ""
	return s.putUpload(ctx, t, u, &cond)
}

// ReleaseUpload gives a processing upload back (pending, with why the
// attempt failed) so that the next delivery of the object's event takes it
// at once instead of being dropped as a duplicate while the lease runs.
// Its attempts are kept: the attempt that reaches MaxUploadAttempts fails
// the upload instead (FinishUpload).
func (s *Store) ReleaseUpload(ctx context.Context, t license.Tenant, u *Upload, cause string) error {
	cond := heldBy(u)
	u.Status = UploadPending
	u.LastError = cause
	return s.putUpload(ctx, t, u, &cond)
}

// heldBy is the condition that the upload is still processing under the
// claim u was read with.
func heldBy(u *Upload) expression.ConditionBuilder {
	started := int64(0)
	if u.StartedAt != nil {
		started = u.StartedAt.Unix()
	}
	return expression.Name(attrStatus).Equal(expression.Value(UploadProcessing)).
		And(expression.Name(attrStartedAt).Equal(expression.Value(started)))
}
