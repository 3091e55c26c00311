package devstacktest_test

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/licenseinsights/licenseinsights/internal/devstack/devstacktest"
)

func TestMain(m *testing.M) { devstacktest.Main(m) }

// Two tables made for two tests are distinct and an item written in one is
// not in the other: the isolation the helpers promise.
func TestTablesAreIsolated(t *testing.T) {
	t.Parallel()
	var names []string
	var clients []*dynamodb.Client
	for _, sub := range []string{"first", "second"} {
		t.Run(sub, func(t *testing.T) {
			client, table := devstacktest.Table(t)
			// Cleanup of the sub-test has not run yet: the table exists now.
			out, err := client.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
			if err != nil {
				t.Fatal(err)
			}
			if out.Table.TableStatus != types.TableStatusActive {
				t.Fatalf("table %s is %s, want ACTIVE", table, out.Table.TableStatus)
			}
			if len(out.Table.GlobalSecondaryIndexes) != 3 {
				t.Fatalf("table %s has %d GSIs, want the template's 3", table, len(out.Table.GlobalSecondaryIndexes))
			}
			names = append(names, table)
			clients = append(clients, client)
		})
	}
	if len(names) != 2 || names[0] == names[1] {
		t.Fatalf("table names %v: want two different ones", names)
	}
	// Both sub-tests have finished, so their clean-ups deleted the tables.
	list, err := clients[0].ListTables(t.Context(), &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		for _, left := range list.TableNames {
			if left == name {
				t.Errorf("table %s still exists after its test's clean-up", name)
			}
		}
	}
}

func TestTableTakesItems(t *testing.T) {
	t.Parallel()
	client, table := devstacktest.Table(t)
	item := map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "T#a"},
		"SK": &types.AttributeValueMemberS{Value: "FIGURES"},
	}
	if _, err := client.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatal(err)
	}
	got, err := client.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(table), Key: item, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if sk, ok := got.Item["SK"].(*types.AttributeValueMemberS); !ok || sk.Value != "FIGURES" {
		t.Fatalf("got item %v, want the one just put", got.Item)
	}
	streams := devstacktest.Streams(t)
	desc, err := client.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	if desc.Table.LatestStreamArn == nil {
		t.Fatalf("table %s has no stream", table)
	}
	if _, err := streams.DescribeStream(t.Context(), streamInput(desc.Table.LatestStreamArn)); err != nil {
		t.Fatalf("describing the stream through the Streams client: %v", err)
	}
}

func TestBucketRoundTrip(t *testing.T) {
	t.Parallel()
	client, bucket := devstacktest.Bucket(t)
	if strings.ToLower(bucket) != bucket || len(bucket) > 63 {
		t.Fatalf("bucket name %q is not a valid S3 name", bucket)
	}
	body := []byte("PK,SK\nT#a,FIGURES\n")
	if _, err := client.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("uploads/a.csv"), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	got, err := client.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("uploads/a.csv")})
	if err != nil {
		t.Fatal(err)
	}
	defer got.Body.Close()
	data, err := io.ReadAll(got.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, body) {
		t.Fatalf("read back %q, want %q", data, body)
	}
	if s := devstacktest.S3(); s.AccessKey == "" || s.SecretKey == "" || !strings.HasPrefix(s.Endpoint, "http://127.0.0.1:") {
		t.Fatalf("S3() = %+v: want loopback endpoint and credentials", s)
	}
	if e := devstacktest.DynamoDBEndpoint(); !strings.HasPrefix(e, "http://127.0.0.1:") {
		t.Fatalf("DynamoDBEndpoint() = %q, want a loopback URL", e)
	}
}

func streamInput(arn *string) *dynamodbstreams.DescribeStreamInput {
	return &dynamodbstreams.DescribeStreamInput{StreamArn: arn}
}
