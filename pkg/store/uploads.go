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
// a redelivered event may take it over (the ingest function's timeout is 15
// minutes).
const uploadLease = 16 * time.Minute

// Upload is a large document sent through a presigned PUT.
type Upload struct {
	ID          string     `json:"uploadId"`
	CustomerID  string     `json:"customerId"`
	Kind        string     `json:"kind,omitempty"` // "" = detect
	SkipInvalid bool       `json:"skipInvalid"`
	Status      string     `json:"status"`
	CreatedAt   time.Time  `json:"createdAt"`
	StartedAt   *time.Time `json:"startedAt,omitempty"`
	CompletedAt *time.Time `json:"completedAt,omitempty"`
	Attempts    int        `json:"attempts"`
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
	return &u, nil
}

// StartUpload moves an upload to processing for this worker: from pending,
// or from processing whose lease ran out (a worker died). A duplicate
// delivery of the object's event gets ErrUploadTaken and must do nothing.
func (s *Store) StartUpload(ctx context.Context, t license.Tenant, id string, now time.Time) (*Upload, error) {
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
	case prev == UploadProcessing && u.StartedAt != nil && now.Sub(*u.StartedAt) > uploadLease:
	default:
		return nil, ErrUploadTaken
	}
	u.Status = UploadProcessing
	u.StartedAt = &now
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

// FinishUpload records the outcome of a processing upload.
func (s *Store) FinishUpload(ctx context.Context, t license.Tenant, u *Upload, status string, result any, now time.Time) error {
	started := int64(0)
	if u.StartedAt != nil {
		started = u.StartedAt.Unix()
	}
	u.Status = status
	u.Result = result
	u.CompletedAt = &now
	cond := expression.Name(attrStatus).Equal(expression.Value(UploadProcessing)).
		And(expression.Name(attrStartedAt).Equal(expression.Value(started)))
	return s.putUpload(ctx, t, u, &cond)
}
