package infra

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// tableActiveTimeout bounds the wait for a new table. DynamoDB Local makes
// tables ACTIVE at once; the wait is there for correctness, not for time.
const tableActiveTimeout = 30 * time.Second

// CreateTable creates the template's table under name, waits until it is
// ACTIVE and switches on time to live as the template says.
func CreateTable(ctx context.Context, client *dynamodb.Client, t *Template, name string) error {
	in, err := t.TableInput(name)
	if err != nil {
		return err
	}
	if _, err := client.CreateTable(ctx, in); err != nil {
		return fmt.Errorf("devstack: creating table %s: %w", name, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 20 * time.Millisecond
		o.MaxDelay = 500 * time.Millisecond
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, tableActiveTimeout); err != nil {
		return fmt.Errorf("devstack: waiting for table %s to be ACTIVE: %w", name, err)
	}
	if attr, enabled := t.TimeToLive(); attr != "" && enabled {
		_, err := client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
			TableName:               aws.String(name),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attr), Enabled: aws.Bool(true)},
		})
		if err != nil {
			return fmt.Errorf("devstack: enabling time to live on %s.%s: %w", name, attr, err)
		}
	}
	return nil
}

// CreateBucket creates a bucket. A bucket this account already owns counts
// as created, so a stack restarted over the same directory comes up.
func CreateBucket(ctx context.Context, client *s3.Client, name string) error {
	_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
	var owned *s3types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return fmt.Errorf("devstack: creating bucket %s: %w", name, err)
	}
	return nil
}
