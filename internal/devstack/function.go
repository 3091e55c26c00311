package devstack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/licenseinsights/licenseinsights/internal/devstack/infra"
)

// Account is the AWS account id the local stack reports in ARNs and events.
const Account = "000000000000"

// Function is one of the template's functions, hosted in this process: the
// same handler its bootstrap would run, called with the same JSON payload.
type Function struct {
	LogicalID string
	Handler   lambda.Handler
	// Timeout is the template's Timeout; an invocation's context ends then.
	Timeout time.Duration

	arn string
}

// FunctionError is an invocation that failed inside the function: the
// error it returned, or a panic. Lambda reports these to the caller as
// {"errorMessage", "errorType"}.
type FunctionError struct {
	Function string
	Message  string
	Type     string
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("%s failed: %s: %s", e.Function, e.Type, e.Message)
}

// Invoke calls the handler as the Lambda runtime would: with a deadline
// from the function's Timeout and a lambdacontext carrying a request id and
// the function's ARN. A panic becomes a FunctionError, as the runtime
// reports it, instead of taking the stack down.
func (f *Function) Invoke(ctx context.Context, payload []byte) (out []byte, err error) {
	if f.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.Timeout)
		defer cancel()
	}
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       newRequestID(),
		InvokedFunctionArn: f.ARN(),
	})
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, &FunctionError{Function: f.LogicalID, Type: "Runtime.Panic", Message: fmt.Sprintf("%v\n%s", p, debug.Stack())}
		}
	}()
	out, err = f.Handler.Invoke(ctx, payload)
	if err != nil {
		return nil, &FunctionError{Function: f.LogicalID, Type: fmt.Sprintf("%T", err), Message: err.Error()}
	}
	return out, nil
}

// ARN is the function's local ARN.
func (f *Function) ARN() string {
	if f.arn != "" {
		return f.arn
	}
	return "arn:aws:lambda:" + regionName + ":" + Account + ":function:" + f.LogicalID
}

// newRequestID makes an id shaped like Lambda's and API Gateway's
// (a random UUID).
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// regionName is the region of every local ARN and event.
const regionName = infra.Region
