package blob

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Presigning is computed locally (no request is sent), so these tests need
// no server; the integration tests of the exports prove that a real S3
// server accepts the links, and refuses tampered and expired ones.

func storeWith(creds aws.Credentials) *Store {
	client := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://127.0.0.1:9"),
		UsePathStyle: true,
		Credentials:  aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return creds, nil }),
	})
	return New(client, "bucket")
}

func TestPresignDownloadLifetime(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		creds       aws.Credentials
		ttl         time.Duration
		wantExpires string // X-Amz-Expires, seconds
		wantAt      time.Time
	}{
		{
			name:  "long-term keys: as asked",
			creds: aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"},
			ttl:   time.Hour, wantExpires: "3600", wantAt: now.Add(time.Hour),
		},
		{
			name:  "session credentials outliving the link: as asked",
			creds: aws.Credentials{AccessKeyID: "ASIA", SecretAccessKey: "secret", SessionToken: "token", CanExpire: true, Expires: now.Add(6 * time.Hour)},
			ttl:   time.Hour, wantExpires: "3600", wantAt: now.Add(time.Hour),
		},
		{
			// The role session ends in 10 min 30.5 s: the link can work
			// 630 s at most, and says so.
			name:  "session credentials ending first: cut to them",
			creds: aws.Credentials{AccessKeyID: "ASIA", SecretAccessKey: "secret", SessionToken: "token", CanExpire: true, Expires: now.Add(10*time.Minute + 30*time.Second + 500*time.Millisecond)},
			ttl:   time.Hour, wantExpires: "630", wantAt: now.Add(630 * time.Second),
		},
		{
			name:  "beyond SigV4's seven days: capped",
			creds: aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"},
			ttl:   30 * 24 * time.Hour, wantExpires: "604800", wantAt: now.Add(7 * 24 * time.Hour),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			link, err := storeWith(tt.creds).PresignDownload(context.Background(), "exports/p/ID/users-2026-11-20.csv", "users-2026-11-20.csv", tt.ttl, now)
			if err != nil {
				t.Fatal(err)
			}
			if !link.ExpiresAt.Equal(tt.wantAt) {
				t.Errorf("ExpiresAt %s, want %s", link.ExpiresAt, tt.wantAt)
			}
			u, err := url.Parse(link.URL)
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			if got := q.Get("X-Amz-Expires"); got != tt.wantExpires {
				t.Errorf("X-Amz-Expires %s, want %s", got, tt.wantExpires)
			}
			if got, want := q.Get("response-content-disposition"), `attachment; filename="users-2026-11-20.csv"`; got != want {
				t.Errorf("response-content-disposition %q, want %q", got, want)
			}
			if got := q.Get("X-Amz-Security-Token"); got != tt.creds.SessionToken {
				t.Errorf("security token %q, want the signing credentials' %q", got, tt.creds.SessionToken)
			}
			if u.Path != "/bucket/exports/p/ID/users-2026-11-20.csv" {
				t.Errorf("path %s", u.Path)
			}
		})
	}
}

func TestPresignDownloadCredentialsAboutToExpire(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	s := storeWith(aws.Credentials{AccessKeyID: "ASIA", SecretAccessKey: "secret", SessionToken: "token", CanExpire: true, Expires: now.Add(5 * time.Second)})
	_, err := s.PresignDownload(context.Background(), "k", "f.csv", time.Hour, now)
	if !errors.Is(err, ErrCredentialsExpiring) {
		t.Errorf("error %v, want ErrCredentialsExpiring", err)
	}
}

func TestContentDisposition(t *testing.T) {
	tests := map[string]string{
		"users-2026-11-20.csv":        `attachment; filename="users-2026-11-20.csv"`,
		"customers-2026-11-20.csv.gz": `attachment; filename="customers-2026-11-20.csv.gz"`,
		`a"b\c;d`:                     `attachment; filename="a_b_c_d"`,
	}
	for in, want := range tests {
		if got := ContentDisposition(in); got != want {
			t.Errorf("ContentDisposition(%q) = %q, want %q", in, got, want)
		}
	}
}
