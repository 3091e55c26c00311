package bench

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
)

// The table and bucket every path shares; the roll-up path makes a table
// of its own, so that its stream holds only its own records.
const (
	benchTable  = "bench"
	benchBucket = "bench"
	// benchBareTable has the table's keys and nothing else: no indexes, no
	// stream. DynamoDB Local maintains every index and the stream inside
	// its database on each write (even for items no index holds), which
	// AWS does not charge to the writer; writing into this table shows
	// how much of the ingest's time that costs on the local stack.
	benchBareTable = "bench-bare"
)

// stack is the run's DynamoDB Local and S3 server with the table and
// bucket made from template.yaml.
type stack struct {
	dynamo   *infra.DynamoDB
	s3       *infra.S3
	template *infra.Template
	services services
}

// startStack starts both servers at once. DynamoDB Local gets the JVM's
// defaults (full JIT): a long benchmark wants its steady-state speed, not
// the quick start tests want.
func startStack(ctx context.Context, s3Dir string) (*stack, error) {
	root, err := infra.RepoRoot()
	if err != nil {
		return nil, err
	}
	st := &stack{}
	if st.template, err = infra.LoadTemplate(filepath.Join(root, "template.yaml")); err != nil {
		return nil, err
	}
	var (
		wg           sync.WaitGroup
		dbErr, s3Err error
	)
	wg.Go(func() {
		st.dynamo, dbErr = infra.StartDynamoDB(ctx, infra.DynamoDBOptions{JavaOptions: []string{}})
	})
	wg.Go(func() { st.s3, s3Err = infra.StartS3(ctx, s3Dir) })
	wg.Wait()
	if err := errors.Join(dbErr, s3Err); err != nil {
		st.stop()
		return nil, err
	}
	if err := st.createTable(ctx, benchTable); err != nil {
		st.stop()
		return nil, err
	}
	if err := st.createBareTable(ctx, benchBareTable); err != nil {
		st.stop()
		return nil, err
	}
	if err := infra.CreateBucket(ctx, st.S3(), benchBucket); err != nil {
		st.stop()
		return nil, err
	}
	st.services = services{
		DynamoDB: st.dynamo.Endpoint, S3: st.s3.Endpoint, S3Access: st.s3.AccessKey, S3Secret: st.s3.SecretKey,
		Table: benchTable, Bucket: benchBucket,
	}
	return st, nil
}

func (st *stack) createTable(ctx context.Context, name string) error {
	return infra.CreateTable(ctx, st.DynamoDB(), st.template, name)
}

// createBareTable makes a table with the template's key schema only.
func (st *stack) createBareTable(ctx context.Context, name string) error {
	in, err := st.template.TableInput(name)
	if err != nil {
		return err
	}
	keys := map[string]bool{}
	for _, k := range in.KeySchema {
		keys[aws.ToString(k.AttributeName)] = true
	}
	in.AttributeDefinitions = slices.DeleteFunc(in.AttributeDefinitions, func(a types.AttributeDefinition) bool {
		return !keys[aws.ToString(a.AttributeName)]
	})
	in.GlobalSecondaryIndexes, in.LocalSecondaryIndexes, in.StreamSpecification = nil, nil, nil
	_, err = st.DynamoDB().CreateTable(ctx, in)
	return err
}

// DynamoDB is a client for the parent's own setup and checks.
func (st *stack) DynamoDB() *dynamodb.Client { return st.dynamo.Client() }

// S3 is a client for the parent's own setup.
func (st *stack) S3() *s3.Client { return st.s3.Client() }

func (st *stack) stop() {
	if st.dynamo != nil {
		_ = st.dynamo.Stop()
	}
	if st.s3 != nil {
		_ = st.s3.Stop()
	}
}
