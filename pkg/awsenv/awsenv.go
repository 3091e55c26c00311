// Package awsenv builds the AWS clients a function needs from its
// environment, traced by X-Ray. Only the functions' mains call it: handlers
// receive clients, so the local stack and tests can hand them their own.
package awsenv

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/licenseinsights/licenseinsights/pkg/observe"
)

// Env is what a function's main wires its handler with.
type Env struct {
	DynamoDB *dynamodb.Client
	S3       *s3.Client
	Table    string // TABLE_NAME
	Bucket   string // BUCKET_NAME
}

// Load reads TABLE_NAME and BUCKET_NAME and builds instrumented clients with
// the default credential chain (the function's role in Lambda).
func Load(ctx context.Context) (*Env, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws config: %w", err)
	}
	observe.InstrumentAWS(&cfg)
	e := &Env{
		DynamoDB: dynamodb.NewFromConfig(cfg),
		S3:       s3.NewFromConfig(cfg),
		Table:    os.Getenv("TABLE_NAME"),
		Bucket:   os.Getenv("BUCKET_NAME"),
	}
	if e.Table == "" {
		return nil, fmt.Errorf("TABLE_NAME is not set")
	}
	return e, nil
}
