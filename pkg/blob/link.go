package blob

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Link is a presigned download link and the time it stops working.
type Link struct {
	URL       string
	ExpiresAt time.Time
}

// MaxLinkLifetime is the longest a SigV4 presigned URL can be valid.
const MaxLinkLifetime = 7 * 24 * time.Hour

// minLinkLifetime: a link that would live less than this is not worth
// handing out (the credentials are about to be refreshed).
const minLinkLifetime = 10 * time.Second

// ErrCredentialsExpiring: the signing credentials expire too soon to sign a
// usable link; asking again after they are refreshed works.
var ErrCredentialsExpiring = errors.New("the signing credentials expire too soon to sign a download link")

// PresignDownload signs a GET of key that downloads as filename
// (Content-Disposition: attachment) and is valid for ttl from now — or less:
// a URL signed with temporary credentials (a Lambda role's) stops working
// when they expire, whatever it says, so when the credentials report an
// expiry the link's lifetime is cut to it and ExpiresAt never promises more
// than the link can keep. Credentials that report no expiry (an IAM user's
// keys; also the keys Lambda hands a function, which do not say when they
// end) leave ttl as asked, capped at MaxLinkLifetime.
func (s *Store) PresignDownload(ctx context.Context, key, filename string, ttl time.Duration, now time.Time) (Link, error) {
	ttl = min(ttl, MaxLinkLifetime)
	creds, err := s.client.Options().Credentials.Retrieve(ctx)
	if err != nil {
		return Link{}, fmt.Errorf("presign get %s: credentials: %w", key, err)
	}
	if creds.CanExpire {
		// Whole seconds: X-Amz-Expires counts seconds, and rounding down
		// keeps the promise.
		left := creds.Expires.Sub(now).Truncate(time.Second)
		if left < minLinkLifetime {
			return Link{}, fmt.Errorf("presign get %s: %w (they expire at %s)", key, ErrCredentialsExpiring, creds.Expires.UTC().Format(time.RFC3339))
		}
		ttl = min(ttl, left)
	}
	ttl = ttl.Truncate(time.Second)
	req, err := s.presign.PresignGetObject(ctx, &s3.GetObjectInput{
		Bucket:                     &s.bucket,
		Key:                        &key,
		ResponseContentDisposition: aws.String(ContentDisposition(filename)),
	}, s3.WithPresignExpires(ttl), func(o *s3.PresignOptions) {
		o.ClientOptions = append(o.ClientOptions, func(o *s3.Options) {
			// Sign with exactly the credentials whose expiry was read.
			o.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return creds, nil })
		})
	})
	if err != nil {
		return Link{}, fmt.Errorf("presign get %s: %w", key, err)
	}
	return Link{URL: req.URL, ExpiresAt: now.Add(ttl).UTC()}, nil
}

// ContentDisposition is the attachment header for filename. Filenames here
// are built from dataset names and dates (letters, digits, '-', '.'), so the
// plain quoted form is exact; anything else is replaced rather than escaped.
func ContentDisposition(filename string) string {
	b := []byte(filename)
	for i, c := range b {
		if !(c == '-' || c == '.' || c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			b[i] = '_'
		}
	}
	return `attachment; filename="` + string(b) + `"`
}
