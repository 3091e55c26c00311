package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"github.com/licenseinsights/licenseinsights/pkg/export/job"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// An export job is one item, T#<t> / EXPORT#<id> (see keys.go). Its id
// starts with its creation time, so the tenant's jobs sort by time in the
// partition and "newest first" is a descending Query.
//
// Its life cycle is package job's (pkg/export/job).

// The job's life cycle (statuses, stall limits, the transitions' errors)
// is the export domain's, in pkg/export/job; these names keep the store's
// callers as they were.
type (
	ExportJob    = job.Job
	ExportStatus = job.Status
)

// The statuses of an export job.
const (
	ExportPending   = job.Pending
	ExportRunning   = job.Running
	ExportSucceeded = job.Succeeded
	ExportFailed    = job.Failed
)

// The job item's lifetime and the stall limits (see package job).
const (
	ExportRetention    = job.Retention
	ExportPendingLimit = job.PendingLimit
	ExportLeaseGrace   = job.LeaseGrace
)

// Errors of the job's transitions (see package job).
var (
	ErrExportFinished  = job.ErrFinished
	ErrExportBusy      = job.ErrBusy
	ErrExportLeaseLost = job.ErrLeaseLost
)

// Attribute names of the job item.
const (
	attrExportID       = "exportId"
	attrExportDataset  = "dataset"
	attrExportCustomer = "customerId"
	attrExportFormat   = "format"
	attrExportGzip     = "gzip"
	attrExportStatus   = "status"
	attrExportAttempt  = "attempt"
	attrExportLease    = "leaseUntil" // N, Unix milliseconds (compared in conditions)
	attrExportRows     = "rows"
	attrExportBytes    = "bytes"
	attrExportObject   = "objectKey"
	attrExportFilename = "filename"
	attrExportReason   = "reason"
	attrExportCreated  = "createdAt"
	attrExportStarted  = "startedAt"
	attrExportDone     = "completedAt"
)

// Export ids are 26 characters of Crockford base32: 10 for the creation
// time in milliseconds, 16 (80 bits) of randomness. Fixed width keeps the
// lexical order of the ids the order of their times (like a ULID).
const (
	exportIDLen     = 26
	exportTimeChars = 10
	crockford       = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
)

// NewExportID is a new export id for a job created at now.
func NewExportID(now time.Time) string {
	var b [exportIDLen]byte
	ms := uint64(now.UnixMilli())
	for i := exportTimeChars - 1; i >= 0; i-- {
		b[i] = crockford[ms&31]
		ms >>= 5
	}
	var random [exportIDLen - exportTimeChars]byte
	_, _ = rand.Read(random[:]) // crypto/rand.Read never fails on Linux
	for i, r := range random {
		b[exportTimeChars+i] = crockford[r&31]
	}
	return string(b[:])
}

// ValidExportID reports whether id has the shape NewExportID makes. Callers
// answer "not found" for anything else, without a read.
func ValidExportID(id string) bool {
	if len(id) != exportIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if strings.IndexByte(crockford, id[i]) < 0 {
			return false
		}
	}
	return true
}

// ParseExportKey reads the tenant and export id back from a job item's key,
// as a table stream record carries it.
func ParseExportKey(pk, sk string) (license.Tenant, string, error) {
	raw, ok := strings.CutPrefix(pk, "T#")
	if !ok || strings.Contains(raw, "#") {
		return license.Tenant{}, "", fmt.Errorf("key %s/%s is not an export job's: partition is not T#<tenant>", pk, sk)
	}
	t, err := license.NewTenant(raw)
	if err != nil {
		return license.Tenant{}, "", fmt.Errorf("key %s/%s: %w", pk, sk, err)
	}
	id, ok := strings.CutPrefix(sk, ExportSKPrefix)
	if !ok || !ValidExportID(id) {
		return license.Tenant{}, "", fmt.Errorf("key %s/%s is not an export job's: sort key is not EXPORT#<export id>", pk, sk)
	}
	return t, id, nil
}

// CreateExport writes a new pending job. The id must come from NewExportID;
// an existing item with that key is never overwritten.
func (s *Store) CreateExport(ctx context.Context, t license.Tenant, job ExportJob) error {
	if !ValidExportID(job.ID) {
		return fmt.Errorf("creating export: id %q is not an export id", job.ID)
	}
	if job.CreatedAt.IsZero() {
		return errors.New("creating export: no creation time")
	}
	k, err := ExportKey(t, job.ID)
	if err != nil {
		return err
	}
	job.Status, job.Attempt = ExportPending, 0
	job.ExpiresAt = job.CreatedAt.Add(ExportRetention)
	item := withKey(encodeExport(job), k)
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table, Item: item,
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	})
	if err != nil {
		return fmt.Errorf("creating export %s: %w", job.ID, err)
	}
	return nil
}

// Export reads one job (strongly consistent). ErrNotFound for a missing
// job, another tenant's, and one past its retention that TTL has not
// removed yet.
func (s *Store) Export(ctx context.Context, t license.Tenant, id string, now time.Time) (*ExportJob, error) {
	if !ValidExportID(id) {
		return nil, fmt.Errorf("export %q: %w", id, ErrNotFound)
	}
	k, err := ExportKey(t, id)
	if err != nil {
		return nil, err
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: keyOf(k), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("reading export %s: %w", id, err)
	}
	if out.Item == nil {
		return nil, fmt.Errorf("export %s: %w", id, ErrNotFound)
	}
	job, err := decodeExport(out.Item)
	if err != nil {
		return nil, err
	}
	if !job.ExpiresAt.IsZero() && !now.Before(job.ExpiresAt) {
		return nil, fmt.Errorf("export %s (expired): %w", id, ErrNotFound)
	}
	return &job, nil
}

// Exports lists the tenant's jobs newest first, at most limit of them,
// starting after the job id after ("" for the newest). next is the id to
// continue after, "" at the end. Jobs past their retention are left out.
func (s *Store) Exports(ctx context.Context, t license.Tenant, limit int, after string, now time.Time) (jobs []ExportJob, next string, err error) {
	pk, err := tenantPrefix(t)
	if err != nil {
		return nil, "", err
	}
	if limit < 1 {
		return nil, "", fmt.Errorf("listing exports: limit %d is not positive", limit)
	}
	in := &dynamodb.QueryInput{
		TableName:              &s.table,
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :prefix)"),
		FilterExpression:       aws.String("#exp > :now"),
		ExpressionAttributeNames: map[string]string{
			"#exp": attrExpiresAt,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":     &types.AttributeValueMemberS{Value: pk},
			":prefix": &types.AttributeValueMemberS{Value: ExportSKPrefix},
			":now":    numberAttr(now.Unix()),
		},
		ScanIndexForward: aws.Bool(false),
	}
	if after != "" {
		k, err := ExportKey(t, after)
		if err != nil || !ValidExportID(after) {
			return nil, "", fmt.Errorf("listing exports after %q: not an export id", after)
		}
		in.ExclusiveStartKey = keyOf(k)
	}
	// A filter is applied after Limit, so pages are read until limit jobs
	// are found or the partition's export jobs end.
	for len(jobs) < limit {
		in.Limit = aws.Int32(int32(limit - len(jobs)))
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, "", fmt.Errorf("listing exports: %w", err)
		}
		for _, item := range out.Items {
			job, err := decodeExport(item)
			if err != nil {
				return nil, "", err
			}
			jobs = append(jobs, job)
		}
		if out.LastEvaluatedKey == nil {
			return jobs, "", nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	// limit jobs found and more may follow: the next page starts after the
	// last one returned.
	return jobs, jobs[len(jobs)-1].ID, nil
}

// ClaimExport makes attempt n+1 the holder of a pending job (or of a
// running one whose lease ran out) until leaseUntil, and returns the job as
// claimed. ErrNotFound, ErrExportFinished (with the job) or ErrExportBusy
// when it cannot be claimed.
func (s *Store) ClaimExport(ctx context.Context, t license.Tenant, id string, now, leaseUntil time.Time) (*ExportJob, error) {
	k, err := ExportKey(t, id)
	if err != nil {
		return nil, err
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table,
		Key:       keyOf(k),
		UpdateExpression: aws.String("SET #status = :running, #attempt = if_not_exists(#attempt, :zero) + :one, " +
			"#lease = :lease, #started = :now REMOVE #reason"),
		ConditionExpression: aws.String("attribute_exists(PK) AND (#status = :pending OR (#status = :running AND #lease < :nowms))"),
		ExpressionAttributeNames: map[string]string{
			"#status": attrExportStatus, "#attempt": attrExportAttempt, "#lease": attrExportLease,
			"#started": attrExportStarted, "#reason": attrExportReason,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":running": &types.AttributeValueMemberS{Value: string(ExportRunning)},
			":pending": &types.AttributeValueMemberS{Value: string(ExportPending)},
			":zero":    numberAttr(0),
			":one":     numberAttr(1),
			":lease":   numberAttr(leaseUntil.UnixMilli()),
			":nowms":   numberAttr(now.UnixMilli()),
			":now":     &types.AttributeValueMemberS{Value: now.UTC().Format(time.RFC3339Nano)},
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		// Tell the caller why, from the item as it is now.
		job, err := s.Export(ctx, t, id, now)
		if err != nil {
			return nil, err
		}
		if job.Status.Finished() {
			return job, fmt.Errorf("claiming export %s: %w", id, ErrExportFinished)
		}
		return job, fmt.Errorf("claiming export %s (attempt %d holds it until %s): %w", id, job.Attempt, job.LeaseUntil.Format(time.RFC3339), ErrExportBusy)
	}
	if err != nil {
		return nil, fmt.Errorf("claiming export %s: %w", id, err)
	}
	job, err := decodeExport(out.Attributes)
	if err != nil {
		return nil, err
	}
	return &job, nil
}

// ExportOutcome is what a finished attempt records.
type ExportOutcome struct {
	Rows      int64
	Bytes     int64
	ObjectKey string
	Filename  string
}

// CompleteExport marks the job succeeded with its counts, if attempt still
// holds it; ErrExportLeaseLost otherwise. Counts are set, never added, so a
// job completes with the counts of the one attempt that wrote its file.
func (s *Store) CompleteExport(ctx context.Context, t license.Tenant, id string, attempt int, o ExportOutcome, now time.Time) error {
	return s.finishExport(ctx, t, id, attempt, "SET #status = :to, #rows = :rows, #bytes = :bytes, #object = :object, #file = :file, #done = :now REMOVE #lease",
		map[string]string{"#rows": attrExportRows, "#bytes": attrExportBytes, "#object": attrExportObject, "#file": attrExportFilename, "#done": attrExportDone, "#lease": attrExportLease},
		map[string]types.AttributeValue{
			":to":     &types.AttributeValueMemberS{Value: string(ExportSucceeded)},
			":rows":   numberAttr(o.Rows),
			":bytes":  numberAttr(o.Bytes),
			":object": &types.AttributeValueMemberS{Value: o.ObjectKey},
			":file":   &types.AttributeValueMemberS{Value: o.Filename},
			":now":    &types.AttributeValueMemberS{Value: now.UTC().Format(time.RFC3339Nano)},
		})
}

// FailExport marks the job failed with a reason for the caller, if attempt
// still holds it; ErrExportLeaseLost otherwise.
func (s *Store) FailExport(ctx context.Context, t license.Tenant, id string, attempt int, reason string, now time.Time) error {
	return s.finishExport(ctx, t, id, attempt, "SET #status = :to, #reason = :reason, #done = :now REMOVE #lease, #rows, #bytes, #object, #file",
		map[string]string{"#reason": attrExportReason, "#done": attrExportDone, "#lease": attrExportLease, "#rows": attrExportRows, "#bytes": attrExportBytes, "#object": attrExportObject, "#file": attrExportFilename},
		map[string]types.AttributeValue{
			":to":     &types.AttributeValueMemberS{Value: string(ExportFailed)},
			":reason": &types.AttributeValueMemberS{Value: reason},
			":now":    &types.AttributeValueMemberS{Value: now.UTC().Format(time.RFC3339Nano)},
		})
}

// ReleaseExport gives the job back (pending) so that a retry of the stream
// record can claim it at once, if attempt still holds it.
func (s *Store) ReleaseExport(ctx context.Context, t license.Tenant, id string, attempt int) error {
	return s.finishExport(ctx, t, id, attempt, "SET #status = :to REMOVE #lease",
		map[string]string{"#lease": attrExportLease},
		map[string]types.AttributeValue{":to": &types.AttributeValueMemberS{Value: string(ExportPending)}})
}

// finishExport applies update to a running job held by attempt.
func (s *Store) finishExport(ctx context.Context, t license.Tenant, id string, attempt int, update string, names map[string]string, values map[string]types.AttributeValue) error {
	k, err := ExportKey(t, id)
	if err != nil {
		return err
	}
	names["#status"] = attrExportStatus
	names["#attempt"] = attrExportAttempt
	values[":running"] = &types.AttributeValueMemberS{Value: string(ExportRunning)}
	values[":attempt"] = numberAttr(int64(attempt))
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       keyOf(k),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String("#status = :running AND #attempt = :attempt"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return fmt.Errorf("export %s, attempt %d: %w", id, attempt, ErrExportLeaseLost)
	}
	if err != nil {
		return fmt.Errorf("updating export %s: %w", id, err)
	}
	return nil
}

// EachCustomerID calls fn with the id of every customer of the tenant, in
// name order: the GSI1 customers-by-name list, read page by page with only
// the id projected (an export of every customer starts here).
func (s *Store) EachCustomerID(ctx context.Context, t license.Tenant, fn func(customerID string) error) error {
	pk, p, err := s.customersByName(t, "#id", map[string]string{"#id": "customerId"})
	if err != nil {
		return err
	}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing customers: %w", err)
		}
		for _, item := range page.Items {
			id := stringOf(item, "customerId")
			if id == "" {
				return fmt.Errorf("listing customers: a %s item has no customerId", pk)
			}
			if err := fn(id); err != nil {
				return err
			}
		}
	}
	return nil
}

// customersByName pages through the tenant's GSI1 customers-by-name list
// (partition pk), reading only projection of each item.
func (s *Store) customersByName(t license.Tenant, projection string, names map[string]string) (pk string, _ *dynamodb.QueryPaginator, _ error) {
	pk, err := NamePartition(t)
	if err != nil {
		return "", nil, err
	}
	return pk, dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(IndexGSI1),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
		ProjectionExpression:      aws.String(projection),
		ExpressionAttributeNames:  names,
	}), nil
}

func encodeExport(j ExportJob) map[string]types.AttributeValue {
	str := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	item := map[string]types.AttributeValue{
		attrExportID:      str(j.ID),
		attrExportDataset: str(j.Dataset),
		attrExportFormat:  str(j.Format),
		attrExportGzip:    &types.AttributeValueMemberBOOL{Value: j.Gzip},
		attrExportStatus:  str(string(j.Status)),
		attrExportAttempt: numberAttr(int64(j.Attempt)),
		attrExportCreated: str(j.CreatedAt.UTC().Format(time.RFC3339Nano)),
		attrExpiresAt:     numberAttr(j.ExpiresAt.Unix()),
	}
	if j.CustomerID != "" {
		item[attrExportCustomer] = str(j.CustomerID)
	}
	return item
}

func decodeExport(item map[string]types.AttributeValue) (ExportJob, error) {
	j := ExportJob{
		ID:         stringOf(item, attrExportID),
		Dataset:    stringOf(item, attrExportDataset),
		CustomerID: stringOf(item, attrExportCustomer),
		Format:     stringOf(item, attrExportFormat),
		Status:     ExportStatus(stringOf(item, attrExportStatus)),
		ObjectKey:  stringOf(item, attrExportObject),
		Filename:   stringOf(item, attrExportFilename),
		Reason:     stringOf(item, attrExportReason),
	}
	bad := func(err error) (ExportJob, error) {
		return ExportJob{}, fmt.Errorf("export job %s: %w", j.ID, err)
	}
	if b, ok := item[attrExportGzip].(*types.AttributeValueMemberBOOL); ok {
		j.Gzip = b.Value
	}
	attempt, err := intOf(item, attrExportAttempt)
	if err != nil {
		return bad(err)
	}
	j.Attempt = int(attempt)
	if j.Rows, err = intOf(item, attrExportRows); err != nil {
		return bad(err)
	}
	if j.Bytes, err = intOf(item, attrExportBytes); err != nil {
		return bad(err)
	}
	lease, err := intOf(item, attrExportLease)
	if err != nil {
		return bad(err)
	}
	if lease != 0 {
		j.LeaseUntil = time.UnixMilli(lease).UTC()
	}
	expires, err := intOf(item, attrExpiresAt)
	if err != nil {
		return bad(err)
	}
	if expires != 0 {
		j.ExpiresAt = time.Unix(expires, 0).UTC()
	}
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{attrExportCreated, &j.CreatedAt}, {attrExportStarted, &j.StartedAt}, {attrExportDone, &j.CompletedAt}} {
		s := stringOf(item, f.name)
		if s == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return bad(fmt.Errorf("attribute %s: %w", f.name, err))
		}
		*f.dst = v.UTC()
	}
	if j.ID == "" || j.Status == "" {
		return bad(errors.New("item has no exportId or status"))
	}
	return j, nil
}
