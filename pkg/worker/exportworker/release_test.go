package exportworker

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
	"github.com/licenseinsights/licenseinsights/pkg/blob"
	"github.com/licenseinsights/licenseinsights/pkg/config"
	"github.com/licenseinsights/licenseinsights/pkg/store"
)

// TestUnrecordedOutcomeIsRetried: the job's file is written but recording
// the outcome fails (an injected error on the store's second UpdateItem,
// after the claim). The attempt releases the job and asks for the record
// again (a batch item failure); the redelivery, at once and not after the
// lease, claims it as attempt 2 and the job ends succeeded with its 12
// rows. Every export job ends succeeded or failed: failures with a reason
// (TestFailureAbortsTheUpload), workers that died read as failed once
// their lease has passed (store TestExportEffective).
func TestUnrecordedOutcomeIsRetried(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 12)
	var updates atomic.Int64
	db := dynamodb.New(f.env.DynamoDB.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("injectedFault",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					if awsmiddleware.GetOperationName(ctx) == "UpdateItem" && updates.Add(1) == 2 {
						return middleware.InitializeOutput{}, middleware.Metadata{}, errors.New("injected fault: connection reset")
					}
					return next.HandleInitialize(ctx, in)
				}), middleware.Before)
		})
	})
	f.w = New(store.New(db, f.env.Table), blob.New(f.env.S3, f.env.Bucket), config.Default())
	job := f.createJob(t, "contoso")
	if resp := f.handle(t, job); len(resp.BatchItemFailures) != 1 {
		t.Fatalf("the attempt that could not record its outcome asked for no retry: %+v", resp)
	}
	if j := f.job(t, job.ID); j.Status != store.ExportPending || j.Attempt != 1 {
		t.Fatalf("after the failed attempt: %+v, want pending (released) after attempt 1", j)
	}
	if resp := f.handle(t, job); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("redelivery: %+v", resp)
	}
	if j := f.job(t, job.ID); j.Status != store.ExportSucceeded || j.Attempt != 2 || j.Rows != 12 {
		t.Fatalf("after the redelivery: %+v", j)
	}
}
