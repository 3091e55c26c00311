package infra

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3 is a running versitygw serving the posix directory Dir as S3, with
// signature checking on: requests and presigned links must be signed with
// AccessKey/SecretKey.
type S3 struct {
	Endpoint  string // http://127.0.0.1:<port>
	AccessKey string
	SecretKey string
	Region    string
	Dir       string // one sub-directory per bucket
	proc      *process
}

// StartS3 starts versitygw on a free loopback port over dir (created if
// missing) with a fresh random key pair, and returns once it answers signed
// requests. ctx bounds the server's life: cancelling it stops the server.
func StartS3(ctx context.Context, dir string) (*S3, error) {
	return StartS3With(ctx, S3Options{Dir: dir})
}

// versitygwEnv is this process's environment without versitygw's own
// settings (VGW_*, ROOT_*), which would otherwise switch on features or
// credentials behind the flags' back.
func versitygwEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "VGW_") || strings.HasPrefix(kv, "ROOT_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func (s *S3) ping(ctx context.Context) error {
	_, err := s.Client().ListBuckets(ctx, &s3.ListBucketsInput{}, func(o *s3.Options) { o.RetryMaxAttempts = 1 })
	return err
}

// Client returns an S3 client for this server, path-style, since bucket
// names are not resolvable host names on loopback.
func (s *S3) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       s.Region,
		Credentials:  aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, "")),
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
	})
}

// Stop stops the server and waits until it has exited. The objects stay in
// Dir.
func (s *S3) Stop() error { return s.proc.Stop() }

func randomHex(bytes int) string {
	b := make([]byte, bytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b)
}
