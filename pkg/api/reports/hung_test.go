package reports

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/licenseinsights/licenseinsights/internal/devstack/devstacktest"
	"github.com/licenseinsights/licenseinsights/pkg/api"
)

// hungStore is a DynamoDB endpoint that accepts connections and never
// answers, as a store frozen mid-request does.
func hungStore(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // held open, never read or answered
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}

// TestHungStoreAnswers503: with DynamoDB hung, a read answers 503 with
// Retry-After once the request's deadline (api.ReadTimeout, 10 s) passes,
// well before API Gateway's 29 s would end it with a bare 504.
func TestHungStoreAnswers503(t *testing.T) {
	db, table := devstacktest.Table(t)
	s3c, bucket := devstacktest.Bucket(t)
	hung := dynamodb.New(db.Options(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(hungStore(t)) })
	h, _ := handlerOn(hung, s3c, table, bucket)
	id := "20261120t095900-00000000deadbeef"
	payload, _ := json.Marshal(events.APIGatewayProxyRequest{
		Resource: "/v1/uploads/{uploadId}", Path: "/v1/uploads/" + id, HTTPMethod: "GET", PathParameters: map[string]string{"uploadId": id},
		RequestContext: events.APIGatewayProxyRequestContext{RequestID: "test", Authorizer: map[string]any{"tenant": "acme", "role": "reader"}},
	})
	start := time.Now()
	out, err := h.Invoke(context.Background(), payload)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	resp := out.(events.APIGatewayProxyResponse)
	if resp.StatusCode != 503 || resp.Headers["Retry-After"] != "5" || !strings.Contains(resp.Body, `"code":"unavailable"`) || !strings.Contains(resp.Body, "send the request again") {
		t.Fatalf("hung store: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	if took >= 29*time.Second {
		t.Fatalf("answered after %v: API Gateway would have cut it at 29 s", took)
	}
	t.Logf("answered 503 after %v (deadline %v)", took.Round(time.Millisecond), api.ReadTimeout)
}
