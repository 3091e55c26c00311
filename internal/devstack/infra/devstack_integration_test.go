package infra

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// hangGuard only stops a broken test from hanging the suite; no assertion
// depends on how long anything takes.
const hangGuard = 60 * time.Second

// The whole path the local stack and the integration tests rely on: both
// servers start, the table is made from template.yaml as AWS would make it,
// items go in and out, the bucket takes objects, and presigned links are
// really verified.
func TestServicesEndToEnd(t *testing.T) {
	ctx := t.Context()
	var (
		db       *DynamoDB
		store    *S3
		dbErr    error
		storeErr error
		wg       sync.WaitGroup
	)
	wg.Go(func() { db, dbErr = StartDynamoDB(ctx, DynamoDBOptions{}) })
	wg.Go(func() { store, storeErr = StartS3(ctx, t.TempDir()) })
	wg.Wait()
	if db != nil {
		t.Cleanup(func() { _ = db.Stop() })
	}
	if store != nil {
		t.Cleanup(func() { _ = store.Stop() })
	}
	if err := errors.Join(dbErr, storeErr); err != nil {
		t.Fatal(err)
	}

	t.Run("table from the template", func(t *testing.T) {
		tmpl, err := LoadTemplate(projectTemplate)
		if err != nil {
			t.Fatal(err)
		}
		client := db.Client()
		if err := CreateTable(ctx, client, tmpl, "licenses"); err != nil {
			t.Fatal(err)
		}
		desc, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("licenses")})
		if err != nil {
			t.Fatal(err)
		}
		table := desc.Table
		if table.TableStatus != types.TableStatusActive {
			t.Errorf("status %s, want ACTIVE", table.TableStatus)
		}
		if got := keys(table.KeySchema); got != "PK HASH, SK RANGE" {
			t.Errorf("key %s", got)
		}
		var indexes []string
		for _, g := range table.GlobalSecondaryIndexes {
			indexes = append(indexes, aws.ToString(g.IndexName)+"("+keys(g.KeySchema)+", "+string(g.Projection.ProjectionType)+")")
		}
		wantIndexes := "GSI1(GSI1PK HASH, GSI1SK RANGE, ALL) GSI2(GSI2PK HASH, GSI2SK RANGE, ALL) GSI3(GSI3PK HASH, GSI3SK RANGE, ALL)"
		if got := strings.Join(slices.Sorted(slices.Values(indexes)), " "); got != wantIndexes {
			t.Errorf("indexes %s, want %s", got, wantIndexes)
		}
		if s := table.StreamSpecification; s == nil || !aws.ToBool(s.StreamEnabled) || s.StreamViewType != types.StreamViewTypeNewAndOldImages || table.LatestStreamArn == nil {
			t.Fatalf("stream %+v (arn %v), want enabled NEW_AND_OLD_IMAGES", s, table.LatestStreamArn)
		}
		ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String("licenses")})
		if err != nil {
			t.Fatal(err)
		}
		if d := ttl.TimeToLiveDescription; d == nil || aws.ToString(d.AttributeName) != "expiresAt" || d.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
			t.Errorf("time to live %+v, want ENABLED on expiresAt", d)
		}

		key := map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "T#tenant-a#C#contoso"},
			"SK": &types.AttributeValueMemberS{Value: "FIGURES"},
		}
		item := map[string]types.AttributeValue{"PK": key["PK"], "SK": key["SK"], "sold": &types.AttributeValueMemberN{Value: "25"}}
		if _, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("licenses"), Item: item}); err != nil {
			t.Fatal(err)
		}
		got, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("licenses"), Key: key, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		if n, ok := got.Item["sold"].(*types.AttributeValueMemberN); !ok || n.Value != "25" {
			t.Errorf("read back %v, want sold=25", got.Item)
		}

		// The write reached the table's stream, read through the Streams API.
		streams := db.StreamsClient()
		stream, err := streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: table.LatestStreamArn})
		if err != nil {
			t.Fatal(err)
		}
		if len(stream.StreamDescription.Shards) == 0 {
			t.Fatal("the stream has no shard")
		}
		it, err := streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
			StreamArn: table.LatestStreamArn, ShardId: stream.StreamDescription.Shards[0].ShardId, ShardIteratorType: "TRIM_HORIZON",
		})
		if err != nil {
			t.Fatal(err)
		}
		records, err := streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator})
		if err != nil {
			t.Fatal(err)
		}
		if len(records.Records) != 1 || records.Records[0].EventName != "INSERT" {
			t.Errorf("stream records %+v, want the one INSERT", records.Records)
		}
	})

	t.Run("bucket and presigned links", func(t *testing.T) {
		client := store.Client()
		if err := CreateBucket(ctx, client, "li-data"); err != nil {
			t.Fatal(err)
		}
		if err := CreateBucket(ctx, client, "li-data"); err != nil {
			t.Errorf("creating the bucket a second time: %v (a restarted stack must come up)", err)
		}
		body := []byte("customerId,sold\ncontoso,25\n")
		_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("li-data"), Key: aws.String("exports/x.csv"), Body: bytes.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
		link, err := s3.NewPresignClient(client).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("li-data"), Key: aws.String("exports/x.csv")},
			s3.WithPresignExpires(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		status, got := httpGet(t, link.URL)
		if status != http.StatusOK || !bytes.Equal(got, body) {
			t.Fatalf("GET presigned link: %d %q, want 200 %q", status, got, body)
		}

		// Flip one hex digit of the signature: the server must refuse.
		u, err := url.Parse(link.URL)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		sig := q.Get("X-Amz-Signature")
		if sig == "" {
			t.Fatalf("presigned URL without X-Amz-Signature: %s", link.URL)
		}
		q.Set("X-Amz-Signature", flipHex(sig))
		u.RawQuery = q.Encode()
		if status, got := httpGet(t, u.String()); status != http.StatusForbidden {
			t.Errorf("GET with a tampered signature: %d %q, want 403", status, got)
		}
		// A valid signature for another object is no key to this one.
		other := strings.Replace(link.URL, "/exports/x.csv", "/exports/y.csv", 1)
		if status, _ := httpGet(t, other); status != http.StatusForbidden {
			t.Errorf("GET of another key with x.csv's signature: %d, want 403", status)
		}
		// Nor does an unsigned request get in.
		if status, _ := httpGet(t, store.Endpoint+"/li-data/exports/x.csv"); status != http.StatusForbidden {
			t.Errorf("unsigned GET: %d, want 403", status)
		}
	})

	t.Run("stop leaves nothing running", func(t *testing.T) {
		for _, p := range []*process{db.proc, store.proc} {
			pid := p.cmd.Process.Pid
			if err := syscall.Kill(-pid, 0); err != nil {
				t.Fatalf("%s's process group %d is not running before Stop: %v", p.name, pid, err)
			}
		}
		if err := db.Stop(); err != nil {
			t.Error(err)
		}
		if err := store.Stop(); err != nil {
			t.Error(err)
		}
		for _, p := range []*process{db.proc, store.proc} {
			pid := p.cmd.Process.Pid
			if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("%s's process group %d after Stop: %v, want ESRCH (gone)", p.name, pid, err)
			}
		}
		if _, err := os.Stat(db.tempDir); db.tempDir == "" || !os.IsNotExist(err) {
			t.Errorf("DynamoDB Local's temporary directory %q survived Stop: %v", db.tempDir, err)
		}
		if err := db.Stop(); err != nil {
			t.Errorf("a second Stop: %v", err)
		}
	})
}

// Cancelling the context a server was started with stops it.
func TestContextCancelStopsServer(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	store, err := StartS3(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Stop() })
	cancel()
	select {
	case <-store.proc.done:
	case <-time.After(hangGuard):
		t.Fatal("versitygw still running after its context was cancelled")
	}
	if err := syscall.Kill(-store.proc.cmd.Process.Pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process group after cancel: %v, want ESRCH", err)
	}
}

// A port that is taken gives an error that says what happened, and the
// JVM does not linger.
func TestDynamoDBPortTaken(t *testing.T) {
	// DynamoDB Local binds every interface, so hold the port on all of them.
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	db, err := StartDynamoDB(t.Context(), DynamoDBOptions{Port: port})
	if err == nil {
		_ = db.Stop()
		t.Fatalf("DynamoDB Local started on port %d, which is in use", port)
	}
	var early *exitedEarlyError
	if !errors.As(err, &early) || !early.portTaken() || !strings.Contains(err.Error(), strconv.Itoa(port)) {
		t.Errorf("error %q: want DynamoDB Local's exit while starting, naming port %d and the bind failure", err, port)
	}
}

func TestMissingToolsSayMakeTools(t *testing.T) {
	t.Setenv(ToolsDirEnv, t.TempDir())
	_, dbErr := StartDynamoDB(t.Context(), DynamoDBOptions{})
	_, s3Err := StartS3(t.Context(), t.TempDir())
	for name, err := range map[string]error{"StartDynamoDB": dbErr, "StartS3": s3Err} {
		if !errors.Is(err, ErrToolsMissing) || !strings.Contains(err.Error(), "run `make tools`") {
			t.Errorf("%s without tools: %v, want ErrToolsMissing saying to run `make tools`", name, err)
		}
	}
}

func TestRepoRootSkipsToolsModule(t *testing.T) {
	want, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(want + "/template.yaml"); err != nil {
		t.Fatalf("RepoRoot() = %s, which has no template.yaml", want)
	}
	// tools/ has a go.mod of its own, for another module.
	t.Chdir(want + "/tools")
	if got, err := RepoRoot(); err != nil || got != want {
		t.Errorf("RepoRoot() from tools/ = %q, %v; want %q", got, err, want)
	}
	t.Chdir(t.TempDir())
	if _, err := RepoRoot(); err == nil {
		t.Error("RepoRoot() outside the repository succeeded")
	}
}

func httpGet(t *testing.T, link string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, link, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

func flipHex(s string) string {
	last := s[len(s)-1]
	replacement := byte('0')
	if last == '0' {
		replacement = '1'
	}
	return s[:len(s)-1] + string(replacement)
}
