package collector_test

import (
	"context"
	"encoding/json"
	"github.com/licenseinsights/licenseinsights/pkg/app"
	"github.com/licenseinsights/licenseinsights/pkg/worker/collector"
	"net"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/licenseinsights/licenseinsights/pkg/awsenv"
	"github.com/licenseinsights/licenseinsights/pkg/collect"
	"github.com/licenseinsights/licenseinsights/pkg/config"
)

// TestBatchReportsOnlyTheMessagesToDeliverAgain: a message the collector
// could not record (the table is unreachable) is reported as a batch item
// failure, so SQS delivers it again (and, after three receives, dead-letters
// it); a message that is not JSON, or names an invalid tenant, can never
// succeed and is dropped rather than retried.
func TestBatchReportsOnlyTheMessagesToDeliverAgain(t *testing.T) {
	// A closed port: every DynamoDB call fails at once.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	db := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(dead), Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1})
	s3c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(dead), Credentials: aws.AnonymousCredentials{}})
	cfg := config.Default()
	cfg.Getenv = func(string) string { return "" }
	runner, _, err := app.CollectRunner(context.Background(), &awsenv.Env{DynamoDB: db, S3: s3c, Table: "t", Bucket: "b"}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := collector.New(runner)
	body := func(m collect.Message) string {
		b, _ := json.Marshal(m)
		return string(b)
	}
	resp, err := h.Batch(t.Context(), events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "ok-shape", Body: body(collect.Message{Tenant: "acme", CollectionID: "20261206t060000-0123456789ab", CustomerID: "2f27f44e-5da0-4978-9199-99bd4e7db106"})},
		{MessageId: "not-json", Body: "{"},
		{MessageId: "bad-tenant", Body: body(collect.Message{Tenant: "a#b", CollectionID: "x", CustomerID: "y"})},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "ok-shape" {
		t.Errorf("batch item failures %+v, want only ok-shape (the table was unreachable)", resp.BatchItemFailures)
	}
}
