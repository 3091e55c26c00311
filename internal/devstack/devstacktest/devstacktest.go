// Package devstacktest gives integration tests real services: one DynamoDB
// Local and one versitygw per test binary, started by Main, and a fresh
// table or bucket per test, so tests are isolated and may run in parallel.
//
//	func TestMain(m *testing.M) { devstacktest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		t.Parallel()
//		client, table := devstacktest.Table(t)
//		...
//	}
//
// There is no skipping: without the tools Main fails and says to run
// `make tools`, because a storage test that did not run proves nothing.
package devstacktest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
)

// stack is what Main started for this test binary.
var stack struct {
	dynamo   *infra.DynamoDB
	s3       *infra.S3
	template *infra.Template
	dir      string // this binary's scratch directory: S3 objects, DynamoDB Local's metadata
}

// Main starts DynamoDB Local and the S3 server once for a test binary, runs
// the tests, stops both (also when the tests panic or the binary is
// interrupted), and exits with the tests' code.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if err := start(); err != nil {
		fmt.Fprintf(os.Stderr, "devstacktest: cannot start the local services: %v\n", err)
		if errors.Is(err, infra.ErrToolsMissing) {
			fmt.Fprintln(os.Stderr, "devstacktest: run `make tools` in the repository root, then the tests again")
		}
		stop()
		return 1
	}
	// An interrupted test binary would otherwise exit without its deferred
	// calls; the servers would still die (they get SIGKILL with their
	// parent) but the scratch directory would stay behind until the next run.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-signals
		stop()
		fmt.Fprintf(os.Stderr, "devstacktest: %v: local services stopped\n", sig)
		os.Exit(1)
	}()
	defer stop() // runs when m.Run panics too
	return m.Run()
}

func start() error {
	root, err := infra.RepoRoot()
	if err != nil {
		return err
	}
	if stack.template, err = infra.LoadTemplate(filepath.Join(root, "template.yaml")); err != nil {
		return err
	}
	removeStaleDirs()
	if stack.dir, err = os.MkdirTemp("", fmt.Sprintf("%s%d-", dirPrefix, os.Getpid())); err != nil {
		return fmt.Errorf("making a scratch directory: %w", err)
	}
	dynamoDir := filepath.Join(stack.dir, "dynamodb")
	if err := os.Mkdir(dynamoDir, 0o755); err != nil {
		return fmt.Errorf("making a scratch directory: %w", err)
	}
	// The servers live until stop, not until some request's context ends.
	ctx := context.Background()
	var wg sync.WaitGroup
	var dynamoErr, s3Err error
	wg.Go(func() {
		stack.dynamo, dynamoErr = infra.StartDynamoDB(ctx, infra.DynamoDBOptions{Dir: dynamoDir})
	})
	wg.Go(func() { stack.s3, s3Err = infra.StartS3(ctx, filepath.Join(stack.dir, "s3")) })
	wg.Wait()
	return errors.Join(dynamoErr, s3Err)
}

var stopOnce sync.Once

func stop() {
	stopOnce.Do(func() {
		if stack.dynamo != nil {
			if err := stack.dynamo.Stop(); err != nil {
				fmt.Fprintf(os.Stderr, "devstacktest: %v\n", err)
			}
		}
		if stack.s3 != nil {
			if err := stack.s3.Stop(); err != nil {
				fmt.Fprintf(os.Stderr, "devstacktest: %v\n", err)
			}
		}
		if stack.dir != "" {
			_ = os.RemoveAll(stack.dir)
		}
	})
}

// dirPrefix starts every scratch directory's name, followed by the owning
// test binary's pid.
const dirPrefix = "devstacktest-"

// removeStaleDirs deletes the scratch directories of test binaries that
// died without cleaning up (a panicking test or -timeout ends the binary
// before any deferred call runs). The servers are already gone: they get
// SIGKILL when their parent dies. Directories of live binaries are left
// alone, so binaries running side by side do not disturb one another.
func removeStaleDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*-*"))
	for _, dir := range dirs {
		pidText, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(dir), dirPrefix), "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(dir)
		}
	}
}

const notStarted = "devstacktest: the local services are not running: call devstacktest.Main(m) from TestMain in this package"

func mustStack(t testing.TB) {
	t.Helper()
	if stack.dynamo == nil || stack.s3 == nil {
		t.Fatal(notStarted)
	}
}

// Table creates a fresh, uniquely named table from template.yaml and
// deletes it at t.Cleanup.
func Table(t testing.TB) (client *dynamodb.Client, table string) {
	t.Helper()
	mustStack(t)
	client = stack.dynamo.Client()
	table = uniqueName(t.Name(), 200)
	if err := infra.CreateTable(t.Context(), client, stack.template, table); err != nil {
		t.Fatalf("devstacktest: %v", err)
	}
	t.Cleanup(func() {
		// t.Context is already cancelled when clean-ups run.
		if _, err := client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)}); err != nil {
			t.Errorf("devstacktest: deleting table %s: %v", table, err)
		}
	})
	return client, table
}

// Streams returns a DynamoDB Streams client for the tables Table creates.
func Streams(t testing.TB) *dynamodbstreams.Client {
	t.Helper()
	mustStack(t)
	return stack.dynamo.StreamsClient()
}

// Bucket creates a fresh bucket on the S3 server and removes it, with
// whatever the test left in it, at t.Cleanup.
func Bucket(t testing.TB) (client *s3.Client, bucket string) {
	t.Helper()
	mustStack(t)
	client = stack.s3.Client()
	bucket = bucketName(t.Name())
	if err := infra.CreateBucket(t.Context(), client, bucket); err != nil {
		t.Fatalf("devstacktest: %v", err)
	}
	t.Cleanup(func() {
		if err := emptyAndDelete(context.Background(), client, bucket); err != nil {
			t.Errorf("devstacktest: removing bucket %s: %v", bucket, err)
		}
	})
	return client, bucket
}

func emptyAndDelete(ctx context.Context, client *s3.Client, bucket string) error {
	uploads, err := client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		return err
	}
	for _, u := range uploads.Uploads {
		if _, err := client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: u.Key, UploadId: u.UploadId}); err != nil {
			return err
		}
	}
	pages := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, o := range page.Contents {
			if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: o.Key}); err != nil {
				return err
			}
		}
	}
	_, err = client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
	return err
}

// S3 returns the S3 server: endpoint and credentials, for presigning tests
// and for handlers configured from the environment.
func S3() *infra.S3 {
	if stack.s3 == nil {
		panic(notStarted)
	}
	return stack.s3
}

// DynamoDBEndpoint returns the DynamoDB Local endpoint, http://127.0.0.1:<port>.
func DynamoDBEndpoint() string {
	if stack.dynamo == nil {
		panic(notStarted)
	}
	return stack.dynamo.Endpoint
}

// Template returns template.yaml as Main read it.
func Template() *infra.Template {
	if stack.template == nil {
		panic(notStarted)
	}
	return stack.template
}

var sequence atomic.Int64

// uniqueName makes a DynamoDB table name from a test name: only
// [A-Za-z0-9_.-], at most max characters, unique within the test binary
// (each binary has its own DynamoDB Local).
func uniqueName(testName string, max int) string {
	suffix := fmt.Sprintf("-%d", sequence.Add(1))
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '.', r == '-':
			return r
		default:
			return '_'
		}
	}, testName)
	if limit := max - len(suffix); len(clean) > limit {
		clean = clean[:limit]
	}
	return clean + suffix
}

// bucketName makes an S3 bucket name from a test name: lower-case letters,
// digits and hyphens, 3 to 63 characters, starting and ending with a letter
// or digit, unique within the test binary.
func bucketName(testName string) string {
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		default:
			return '-'
		}
	}, testName)
	prefix := fmt.Sprintf("t%d-", sequence.Add(1))
	if limit := 63 - len(prefix); len(clean) > limit {
		clean = clean[:limit]
	}
	clean = strings.Trim(clean, "-")
	if clean == "" {
		clean = "bucket"
	}
	return prefix + clean
}
