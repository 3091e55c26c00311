// Package blob is the S3 adapter: presigned links for uploads and downloads,
// streamed reads of uploaded documents and streamed multipart writes of
// exports. Object keys always start with a tenant prefix built here.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/licenseinsights/licenseinsights/pkg/license"
)

// Key prefixes; the bucket's lifecycle rules in template.yaml expire each.
const (
	UploadsPrefix = "uploads/"
	ExportsPrefix = "exports/"
)

// ErrNotFound is returned for a missing object.
var ErrNotFound = errors.New("object not found")

// Store reads and writes one bucket.
type Store struct {
	client  *s3.Client
	presign *s3.PresignClient
	bucket  string
}

// Upload sends parts of 8 MiB, three at a time: an upload of any size holds
// about 40 MiB of buffers.
const (
	uploadPartSize    = 8 << 20
	uploadConcurrency = 3
)

// New is a Store on bucket.
func New(client *s3.Client, bucket string) *Store {
	return &Store{client: client, presign: s3.NewPresignClient(client), bucket: bucket}
}

// Bucket is the bucket's name.
func (s *Store) Bucket() string { return s.bucket }

// UploadKey is where an upload's document lands: the tenant and upload id are
// in the key, so the object's arrival alone tells ingestion whose it is.
func UploadKey(t license.Tenant, uploadID string) (string, error) {
	if !t.Valid() {
		return "", license.ErrNoTenant
	}
	return UploadsPrefix + t.ID() + "/" + uploadID, nil
}

// ExportKey is where an export's file is written.
func ExportKey(t license.Tenant, exportID, filename string) (string, error) {
	if !t.Valid() {
		return "", license.ErrNoTenant
	}
	return ExportsPrefix + t.ID() + "/" + exportID + "/" + filename, nil
}

// PresignPut signs a PUT of key valid for ttl.
func (s *Store) PresignPut(ctx context.Context, key string, ttl time.Duration) (string, error) {
	req, err := s.presign.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: &key},
		s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("presign put %s: %w", key, err)
	}
	return req.URL, nil
}

// PresignGet signs a GET of key valid for ttl that downloads as filename.
func (s *Store) PresignGet(ctx context.Context, key, filename string, ttl time.Duration) (string, error) {
	req, err := s.presign.PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket:                     &s.bucket,
		Key:                        &key,
		ResponseContentDisposition: aws.String(fmt.Sprintf("attachment; filename=%q", filename)),
	}, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("presign get %s: %w", key, err)
	}
	return req.URL, nil
}

// Open streams an object; the caller closes it.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, int64, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		var nsk *types.NoSuchKey
		if errors.As(err, &nsk) {
			return nil, 0, ErrNotFound
		}
		return nil, 0, fmt.Errorf("get %s: %w", key, err)
	}
	return out.Body, aws.ToInt64(out.ContentLength), nil
}

// Upload streams r into key as a multipart upload with bounded buffers
// (about part size × (concurrency + 2)); on error — r's included — the
// multipart upload is aborted, so no partial object ever appears. An r
// shorter than one part is sent as a single PUT.
func (s *Store) Upload(ctx context.Context, key, contentType string, r io.Reader) error {
	tm := transfermanager.New(s.client, func(o *transfermanager.Options) {
		o.PartSizeBytes = uploadPartSize
		// The first part is read whole before the upload starts; at the
		// part size it is one buffer like the others.
		o.MultipartUploadThreshold = uploadPartSize
		o.Concurrency = uploadConcurrency
		// Abort with a context of its own: an upload stopped by its
		// context's deadline must still be aborted.
		o.FailTimeout = 10 * time.Second
	})
	_, err := tm.UploadObject(ctx, &transfermanager.UploadObjectInput{
		Bucket:      &s.bucket,
		Key:         &key,
		Body:        r,
		ContentType: &contentType,
	})
	if err != nil {
		return fmt.Errorf("upload %s: %w", key, err)
	}
	return nil
}

// Delete removes key (missing is fine).
func (s *Store) Delete(ctx context.Context, key string) error {
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &key})
	return err
}
